"""Every reason the core refuses something for has its own text in English and in Chinese."""

from __future__ import annotations

import pytest

from bot.answering.text import Lang
from bot.error_texts import GENERIC_APOLOGY, error_text
from bot.errors import ConfigError, Conflict, InvalidInput, NotAllowed, NotFound, Reason, Refusal
from bot.i18n import translator

DETAILS = {"limit": 2000, "length": 2001, "minimum": 10, "step": "kind"}


@pytest.mark.parametrize("reason", list(Reason), ids=str)
def test_every_reason_has_a_text_in_both_languages(reason: Reason) -> None:
    error = InvalidInput(reason, **DETAILS)
    texts: dict[Lang, str] = {lang: error_text(error, lang) for lang in ("en", "zh")}
    for lang, text in texts.items():
        assert text != translator(lang).gettext(GENERIC_APOLOGY), f"{reason} has no text ({lang})"
        assert text.strip() and "{" not in text, f"{reason}: {text!r} ({lang})"
    assert texts["zh"] != texts["en"], f"{reason} has no Chinese text"


def test_the_text_depends_on_the_reason_not_the_error_class() -> None:
    errors: list[Refusal] = [cls(Reason.TICKET_CLOSED) for cls in (NotFound, NotAllowed, InvalidInput, Conflict)]
    assert len({error_text(e, "en") for e in errors}) == 1


def test_details_fill_the_text_and_reasons_are_their_old_strings() -> None:
    error = InvalidInput("too_long", limit=2000, length=2001)  # type: ignore[arg-type]  # a plain string still works
    assert error.reason is Reason.TOO_LONG and str(error) == "too_long" and error.reason == "too_long"
    assert error_text(error, "en") == "That is too long (2001 characters); the limit is 2000. Please shorten it."
    assert "enquiry, help, suggestion, complaint, report" in error_text(InvalidInput(Reason.UNKNOWN_KIND), "en")
    with pytest.raises(ValueError):
        InvalidInput("no_such_reason")  # type: ignore[arg-type]


def test_an_error_without_a_reason_gets_the_generic_apology() -> None:
    assert error_text(ConfigError("HELPDESK_X is malformed"), "en") == GENERIC_APOLOGY
    assert error_text(ConfigError("HELPDESK_X is malformed"), "zh") == translator("zh").gettext(GENERIC_APOLOGY)
