"""Translations (gettext catalogs in ``locales/``) and locale-aware formatting with Babel.

Every UI string is written in English in the code as ``_("…")`` on a ``Translator`` and
translated through ``locales/<lang>/LC_MESSAGES/messages.po``. Catalogs are compiled to ``.mo`` by
``make``; when a ``.mo`` is missing or older than its ``.po`` the ``.po`` is compiled in memory,
so a fresh checkout never shows stale text.
"""

from __future__ import annotations

import datetime as dt
import gettext
import io
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date, format_datetime, format_time
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal

from bot.answering.text import Lang
from bot.config import ROOT

LOCALES_DIR = ROOT / "locales"
DOMAIN = "messages"
SHANGHAI = ZoneInfo("Asia/Shanghai")
BABEL_LOCALE: dict[Lang, str] = {"en": "en", "zh": "zh_Hans_CN"}
SUPPORTED: tuple[Lang, Lang] = ("en", "zh")


@lru_cache(maxsize=1024)
def negotiate(code: str | None) -> Lang:
    """Pick our language for a client language code such as ``zh-hans``, ``zh-TW`` or ``en-GB``."""
    if not code:
        return "en"
    try:
        locale = Locale.parse(code.replace("_", "-"), sep="-")
    except (ValueError, TypeError):
        return "en"
    return "zh" if locale.language == "zh" else "en"


def _load_catalog(lang: Lang, directory: Path) -> gettext.NullTranslations:
    base = directory / lang / "LC_MESSAGES"
    po, mo = base / f"{DOMAIN}.po", base / f"{DOMAIN}.mo"
    if mo.exists() and (not po.exists() or mo.stat().st_mtime >= po.stat().st_mtime):
        with mo.open("rb") as fh:
            return gettext.GNUTranslations(fh)
    if po.exists():
        with po.open("rb") as fh:
            catalog = read_po(fh, locale=BABEL_LOCALE[lang])
        buffer = io.BytesIO()
        write_mo(buffer, catalog)
        buffer.seek(0)
        return gettext.GNUTranslations(buffer)
    return gettext.NullTranslations()


class Translator:
    """UI text and formatting for one language."""

    def __init__(self, lang: Lang, directory: Path = LOCALES_DIR) -> None:
        self.lang = lang
        self.locale = Locale.parse(BABEL_LOCALE[lang])
        self._catalog = _load_catalog(lang, directory)

    def gettext(self, message: str) -> str:
        """The translation of *message* (English source text)."""
        return self._catalog.gettext(message)

    _ = gettext

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        """The translation for a count *n*."""
        return self._catalog.ngettext(singular, plural, n)

    def date(self, value: dt.date | dt.datetime) -> str:
        """A date in this language (e.g. ``3 Feb 2026`` / ``2026年2月3日``)."""
        if isinstance(value, dt.datetime):
            value = value.astimezone(SHANGHAI).date()
        return format_date(value, format="medium", locale=self.locale)

    def datetime(self, value: dt.datetime) -> str:
        """A moment in Asia/Shanghai time, in this language."""
        return format_datetime(value.astimezone(SHANGHAI), format="medium", locale=self.locale)

    def time(self, value: dt.datetime) -> str:
        """A clock time in Asia/Shanghai, in this language."""
        return format_time(value.astimezone(SHANGHAI), format="short", locale=self.locale)

    def number(self, value: float | int) -> str:
        """A number with this language's separators."""
        return format_decimal(value, locale=self.locale)


@lru_cache(maxsize=4)
def translator(lang: Lang) -> Translator:
    """The shared translator for *lang*."""
    return Translator(lang)


def N_(message: str) -> str:
    """Mark *message* for extraction without translating it now (translate at use)."""
    return message
