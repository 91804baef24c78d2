"""Every UI string has a natural Chinese translation with the same placeholders."""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from bot.i18n import Translator, negotiate

ROOT = Path(__file__).resolve().parent.parent
PLACEHOLDER = re.compile(r"\{[a-z_]*\}")


def source_messages() -> set[str]:
    ids: set[str] = set()
    for package in ("bot", "console", "handlers"):  # the packages `make extract` reads
        for _file, _line, message, _comments, _context in extract_from_dir(
            ROOT / package,
            method_map=[("**.py", "python")],
            keywords={"_": None, "gettext": None, "N_": None, "ngettext": (1, 2)},
        ):
            ids.add(message if isinstance(message, str) else message[0])
    return ids


def zh_catalog():  # type: ignore[no-untyped-def]
    with (ROOT / "locales/zh/LC_MESSAGES/messages.po").open("rb") as fh:
        return read_po(fh)


def test_every_source_string_is_translated_to_chinese() -> None:
    catalog = zh_catalog()
    missing = sorted(m for m in source_messages() if not (catalog.get(m) and catalog.get(m).string))
    assert not missing, "untranslated (run `make extract` and translate): " + "\n".join(missing)


def test_no_fuzzy_translations() -> None:
    fuzzy = [m.id for m in zh_catalog() if m.id and m.fuzzy]
    assert not fuzzy


def _forms(value: str | tuple[str, ...] | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def test_placeholders_match() -> None:
    for message in zh_catalog():
        if not message.id or not message.string:
            continue
        expected = sorted(PLACEHOLDER.findall(_forms(message.id)[0]))
        for form in _forms(message.string):
            assert form, f"empty plural form for {message.id!r}"
            assert sorted(PLACEHOLDER.findall(form)) == expected, message.id


def test_plural_forms_are_used() -> None:
    assert (
        Translator("zh")
        .ngettext(
            "{count} live chat went back to the front of the queue.",
            "{count} live chats went back to the front of the queue.",
            2,
        )
        .startswith("{count} ")
    )
    assert "chats" in Translator("en").ngettext(
        "{count} live chat went back to the front of the queue.",
        "{count} live chats went back to the front of the queue.",
        2,
    )


def test_translator_uses_the_catalog() -> None:
    assert Translator("zh").gettext("Was this helpful?") == "这个回答对您有帮助吗？"
    assert Translator("en").gettext("Was this helpful?") == "Was this helpful?"


def test_negotiate_client_languages() -> None:
    assert negotiate("zh-hans") == "zh"
    assert negotiate("zh-TW") == "zh"
    assert negotiate("zh") == "zh"
    assert negotiate("en-GB") == "en"
    assert negotiate("ru") == "en"
    assert negotiate(None) == "en"
    assert negotiate("not a locale!") == "en"
