"""Numbers typed or sent by users (command arguments, button data): strict, bounded, never raising.

``str.isdigit`` is not a test for "a number ``int`` accepts": it is true for superscripts ("¹²³"), which
``int`` refuses, and for other scripts' digits ("٣", "３"), which ``int`` quietly reads as 3. Ids beyond
64 bits overflow the database. Every number that comes from a user goes through ``parse_id`` (or
``parse_user_id``): ASCII digits 0-9 only, no sign, no spaces, no underscores, within range, else None.
"""

from __future__ import annotations

MAX_ID = 2**63 - 1
"""The largest database id (a signed 64-bit integer)."""
MAX_USER_ID = 2**52 - 1
"""Telegram user ids are positive and have at most 52 significant bits."""


def parse_id(text: str, *, minimum: int = 0, maximum: int = MAX_ID) -> int | None:
    """*text* as an int when it is nothing but ASCII digits and ``minimum <= value <= maximum``, else None.

    Leading zeros are allowed; the length is checked before converting, so a long string costs nothing
    (and never reaches ``int``'s limit on digits)."""
    if not isinstance(text, str) or not text.isascii() or not text.isdigit():
        return None
    significant = text.lstrip("0") or "0"
    if len(significant) > len(str(maximum)):
        return None
    value = int(significant)
    return value if minimum <= value <= maximum else None


def parse_user_id(text: str) -> int | None:
    """A Telegram user id typed by someone (``/staff add 12345``): a positive ASCII number below 2**52."""
    return parse_id(text, minimum=1, maximum=MAX_USER_ID)
