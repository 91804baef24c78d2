"""Masking personal details in free text: e-mail addresses, phone numbers, passport- and ID-like numbers.

The question log stores questions masked (a question needs none of these to be answered), the knowledge-gap
review suggests masked questions only, and the logs use the same patterns (``bot.logs``). A contact a user
gives on purpose with a ticket is kept as given.
"""

from __future__ import annotations

import re

PERSONAL_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"[\w.!#$%&'*+/=?^`{|}~-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE), "[email]"),
    (re.compile(r"(?<![\w+])\+\d[\d ().-]{5,20}\d(?!\d)"), "[phone]"),  # +86 138 1234 5678
    (re.compile(r"(?<![\d+])1[3-9]\d(?:[ -]?\d{4}){2}(?!\d)"), "[phone]"),  # 13812345678, 138-1234-5678
    (re.compile(r"(?<!\d)0\d{2,3}[ -]\d{7,8}(?!\d)"), "[phone]"),  # 020-12345678, 0755 1234567
    (re.compile(r"(?<!\d)\d{3,4}[ -]\d{3,4}[ -]\d{4}(?!\d)"), "[phone]"),  # 555-123-4567, 020 1234 5678
    (re.compile(r"(?<![A-Za-z0-9])[A-Za-z]{1,2}\d{6,9}(?![A-Za-z0-9])"), "[passport]"),  # E12345678, G1234567
    (re.compile(r"(?<![A-Za-z0-9])\d{6,9}[A-Za-z](?![A-Za-z0-9])"), "[passport]"),
    (re.compile(r"(?<!\d)\d{17}[\dXx](?![A-Za-z0-9])"), "[id-number]"),  # 居民身份证
    (re.compile(r"(?<!\d)\d{7,}(?!\d)"), "[number]"),  # 9-digit passport numbers, local phone numbers, ids
)
"""Each pattern with the placeholder that replaces what it matches, tried in this order."""


_MAYBE_PERSONAL = re.compile(r"[@\d]")
"""Every pattern needs a digit or an ``@``: text without either (most questions) is returned at once."""


def mask_personal(text: str) -> str:
    """*text* with e-mail addresses, phone numbers and passport-, ID- and other long numbers replaced by
    placeholders such as ``[phone]`` (the rest of the text is kept as it is)."""
    if _MAYBE_PERSONAL.search(text) is None:
        return text
    for pattern, replacement in PERSONAL_PATTERNS:
        text = pattern.sub(replacement, text)
    return text
