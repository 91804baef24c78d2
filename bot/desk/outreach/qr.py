"""``python -m bot qr SOURCE --out FILE.png [--username NAME]``: the QR code of a deep link for a window, a poster
or a briefing (``bot.desk.outreach.sources``), drawn with segno (BSD-3).

The bot's username comes from ``--username``, else from Telegram (``getMe`` with ``TELEGRAM_BOT_TOKEN``, at
``TELEGRAM_API_URL`` when set); without a token ``--username`` is required. The token is never printed, not
even in an error.
"""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

import segno

from bot.config import Settings
from bot.desk.outreach.sources import deep_link, parse_source

TELEGRAM_API = "https://api.telegram.org/bot"
USERNAME_RE = re.compile(r"@?[A-Za-z][A-Za-z0-9_]{3,31}")
SCALE = 10
"""Pixels per module: a 29×29 code with its border is 370 px square, sharp when printed at 3–4 cm."""
BORDER = 4
"""The quiet zone, in modules (the QR standard's minimum)."""


class QrError(Exception):
    """The QR code cannot be made; the message says why (never with the token in it)."""


def bot_username(token: str, api_url: str | None = None, timeout: float = 10.0) -> str:
    """The bot's username from Telegram's ``getMe``."""
    url = f"{api_url or TELEGRAM_API}{token}/getMe"
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            payload = json.load(response)
    except urllib.error.HTTPError as exc:
        raise QrError(f"Telegram refused getMe (HTTP {exc.code}): check TELEGRAM_BOT_TOKEN") from None
    except (urllib.error.URLError, TimeoutError, OSError, ValueError) as exc:
        raise QrError(f"could not reach the Bot API for getMe ({type(exc).__name__}); use --username") from None
    username = payload.get("result", {}).get("username") if isinstance(payload, dict) else None
    if not isinstance(username, str) or not username:
        raise QrError("Telegram's getMe gave no username; use --username")
    return username


def write_qr(link: str, out: Path) -> None:
    """Draw *link* as a QR code (error correction M, at least; segno raises it when it fits) in the PNG *out*."""
    segno.make(link, error="m", micro=False).save(str(out), kind="png", scale=SCALE, border=BORDER)


def run_qr(
    settings: Settings, source: str, out: str, username: str | None, say: Callable[[str], object] = print
) -> int:
    """The ``qr`` command: 0 with the PNG written and the link printed; 2 with the reason otherwise."""
    if parse_source(source) is None:
        say("error: SOURCE is 1-32 characters of A-Z a-z 0-9 _ - (e.g. window1, briefing-2027-03)")
        return 2
    if username is not None and not USERNAME_RE.fullmatch(username):
        say("error: --username is a Telegram bot username, e.g. work_permit_helpdesk_bot")
        return 2
    try:
        if username is None:
            if settings.telegram_bot_token is None:
                say("error: no TELEGRAM_BOT_TOKEN to ask Telegram for the bot's username: give --username")
                return 2
            username = bot_username(settings.telegram_bot_token.get_secret_value(), settings.telegram_api_url)
        link = deep_link(username, source)
        path = Path(out)
        if path.suffix.lower() != ".png":
            say("error: --out must name a .png file")
            return 2
        write_qr(link, path)
    except QrError as exc:
        say(f"error: {exc}")
        return 2
    except OSError as exc:
        say(f"error: cannot write {out}: {exc.strerror or exc}")
        return 2
    say(f"{path}: {link}")
    return 0
