"""``callback_data`` for inline buttons: short stable ids, never labels, at most 64 bytes.

A button's data is ``<action>:<arg>:<arg>…``. ``parse`` returns None for anything malformed
(an old client's button or a forged one); handlers then answer "this button has expired".
"""

from __future__ import annotations

from dataclasses import dataclass

MAX_BYTES = 64
SEP = ":"


@dataclass(frozen=True)
class Data:
    """A decoded button: the action and its string arguments."""

    action: str
    args: tuple[str, ...]

    def int_arg(self, index: int) -> int | None:
        """Argument *index* as a non-negative int, or None if missing or not a number."""
        try:
            value = self.args[index]
        except IndexError:
            return None
        return int(value) if value.isdigit() and len(value) < 19 else None


def make(action: str, *args: object) -> str:
    """Encode a button; raises ValueError when it would not fit Telegram's 64 bytes."""
    parts = [action, *(str(a) for a in args)]
    if any(SEP in p or not p for p in parts):
        raise ValueError(f"bad callback part in {parts!r}")
    data = SEP.join(parts)
    if len(data.encode()) > MAX_BYTES:
        raise ValueError(f"callback data over {MAX_BYTES} bytes: {data!r}")
    return data


def parse(data: str | None) -> Data | None:
    """Decode a button's data, or None when it is empty, too long or malformed."""
    if not data or len(data.encode()) > MAX_BYTES:
        return None
    action, *args = data.split(SEP)
    if not action.isascii() or not action.replace("_", "").isalnum():
        return None
    return Data(action, tuple(args))
