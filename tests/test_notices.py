"""Every notice type (``bot.notices.Notice``) is listed in the module's docstring, and renders for Telegram and
for the console in both languages."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime
from typing import Any, get_args
from zoneinfo import ZoneInfo

import pytest

import bot.notices
from bot import notices as nt
from bot.answering.text import Lang
from console.desk import NOTICE_LINES, notice_line
from handlers.common import NO_PREVIEW, send_file, send_messages
from handlers.live_notices import LIVE_RENDERERS
from handlers.notify import RENDERERS, render

SHANGHAI = ZoneInfo("Asia/Shanghai")
TYPES: tuple[type[nt.Notice], ...] = get_args(nt.Notice)
LANGS: tuple[Lang, ...] = ("en", "zh")
HISTORY = (
    nt.PastQuestion("How long does it take?", "answer", "processing-time"),
    nt.PastQuestion("hi", "fallback", None),
)

SAMPLES: dict[type[nt.Notice], nt.Notice] = {
    nt.TicketReply: nt.TicketReply(7, "T2603-0001", 1, "Please bring your passport.", "photo-1", "photo"),
    nt.TicketClosed: nt.TicketClosed(7, "T2603-0001", 1, "Explained the cancellation duty."),
    nt.TicketReopenedByStaff: nt.TicketReopenedByStaff(7, "T2603-0001"),
    nt.TicketUserMessage: nt.TicketUserMessage(8, "T2603-0001"),
    nt.TicketReopenedByUser: nt.TicketReopenedByUser(8, "T2603-0001"),
    nt.TicketAssigned: nt.TicketAssigned(8, "T2603-0001"),
    nt.TicketDueLater: nt.TicketDueLater(7, "T2603-0001", 1, datetime(2027, 2, 20, 23, 59, 59, tzinfo=SHANGHAI)),
    nt.TicketNew: nt.TicketNew(8, 1, "T2603-0001", "complaint", datetime(2026, 3, 24, 23, 59, 59, tzinfo=SHANGHAI)),
    nt.BadRating: nt.BadRating(9, "ticket", 1, 4, 7, "Nobody called me back.", 3),
    nt.CalendarUnknown: nt.CalendarUnknown(9, 2027, "knowledge/calendar/2027.toml", 2),
    nt.TicketDueSoon: nt.TicketDueSoon(
        8, 1, "T2605-0001", "enquiry", datetime(2026, 5, 6, 23, 59, 59, tzinfo=SHANGHAI)
    ),
    nt.TicketOverdue: nt.TicketOverdue(
        9, 1, "T2605-0001", "complaint", datetime(2026, 5, 6, 23, 59, 59, tzinfo=SHANGHAI), "Li Na"
    ),
    nt.MorningDigest: nt.MorningDigest(9, date(2026, 5, 11), 3, 1, ("T2605-0002",), 2, ("T2605-0001",), 1),
    nt.QueueNew: nt.QueueNew(8, 4, "zh", "employer", 7, "Li", HISTORY),
    nt.QueuePosition: nt.QueuePosition(7, 2, 12),
    nt.QueueLongWait: nt.QueueLongWait(7, 4),
    nt.SessionStarted: nt.SessionStarted(7, "Li Na"),
    nt.SessionEnded: nt.SessionEnded(7, 3, "resolved"),
    nt.SessionUnresolved: nt.SessionUnresolved(7, 3),
    nt.HandedBack: nt.HandedBack(7),
    nt.SessionTransferred: nt.SessionTransferred(7, "Zhang Wei"),
    nt.SessionTransferredToYou: nt.SessionTransferredToYou(
        8, 3, 7, "en", HISTORY, (nt.TranscriptLine("user", "Hello"), nt.TranscriptLine("operator", "Hi"))
    ),
    nt.SessionTicket: nt.SessionTicket(7, "T2603-0002", 3),
    nt.SessionIdle: nt.SessionIdle(7, 3, 5),
    nt.SessionIdleOperator: nt.SessionIdleOperator(8, 3),
    nt.SessionAutoClosed: nt.SessionAutoClosed(8, 3),
    nt.SessionUserWaiting: nt.SessionUserWaiting(8, 3, 6, 5),
    nt.SessionRequeued: nt.SessionRequeued(8, 3),
    nt.OperatorSilent: nt.OperatorSilent(9, 3, "Li <Na>", 11),
    nt.SessionLeft: nt.SessionLeft(8, 3),
    nt.PermitReminder: nt.PermitReminder(
        7, 2, "Maria <M.>", "cancel", 20, date(2027, 3, 31), date(2026, 12, 31), date(2027, 1, 15)
    ),
}


def test_every_notice_type_has_a_sample_and_both_renderers() -> None:
    assert set(SAMPLES) == set(TYPES)
    assert set(RENDERERS) == set(TYPES), "a notice type without a Telegram renderer (handlers/notify.py)"
    assert len(RENDERERS) == len(TYPES)
    assert set(LIVE_RENDERERS) <= set(TYPES)
    assert set(NOTICE_LINES) == set(TYPES), "a notice type without a console line (console/desk.py)"


@pytest.mark.parametrize("kind", TYPES, ids=lambda kind: kind.__name__)
def test_every_notice_type_is_a_frozen_dataclass_listed_in_the_docstring(kind: type[nt.Notice]) -> None:
    fields = dataclasses.fields(kind)
    assert fields[0].name == "user_id" and kind.__dataclass_params__.frozen  # type: ignore[attr-defined]
    assert f"    {kind.__name__} " in (bot.notices.__doc__ or ""), f"{kind.__name__} is missing from the docstring"


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("kind", TYPES, ids=lambda kind: kind.__name__)
def test_every_notice_renders_for_telegram_in_both_languages(kind: type[nt.Notice], lang: Lang) -> None:
    chunks, markup = render(SAMPLES[kind], lang)
    assert chunks and all(chunks)
    if lang == "zh":  # translated, not the English text again
        assert chunks != render(SAMPLES[kind], "en")[0]
    if markup is not None:
        assert all(len((b.callback_data or "").encode()) <= 64 for row in markup.inline_keyboard for b in row)


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("kind", TYPES, ids=lambda kind: kind.__name__)
def test_every_notice_renders_for_the_console_in_both_languages(kind: type[nt.Notice], lang: Lang) -> None:
    line = notice_line(SAMPLES[kind], lang)
    assert line and str(SAMPLES[kind].user_id) in line
    if lang == "zh":  # translated, not the English line again
        assert line != notice_line(SAMPLES[kind], "en")


class RecordingBot:
    """Just enough of a Bot to see what the one send path asks Telegram for."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, int, str, dict[str, Any]]] = []

    async def send_message(self, chat_id: int, text: str, **options: Any) -> int:
        self.calls.append(("message", chat_id, text, options))
        return len(self.calls)

    async def send_photo(self, chat_id: int, photo: str, **options: Any) -> int:
        self.calls.append(("photo", chat_id, photo, options))
        return len(self.calls)

    async def send_document(self, chat_id: int, document: str, **options: Any) -> int:
        self.calls.append(("document", chat_id, document, options))
        return len(self.calls)


async def test_the_one_send_path_uses_html_without_link_previews() -> None:
    bot = RecordingBot()
    chunks, markup = render(SAMPLES[nt.TicketClosed], "en")
    await send_messages(bot, 7, ["first", *chunks], markup)  # type: ignore[arg-type]
    await send_file(bot, 7, "photo-1", "photo")  # type: ignore[arg-type]
    await send_file(bot, 7, "doc-1", None, "<b>Li</b>")  # type: ignore[arg-type]
    messages = [options for kind, _chat, _text, options in bot.calls if kind == "message"]
    assert all(o["parse_mode"] == "HTML" and o["link_preview_options"] == NO_PREVIEW for o in messages)
    assert [o["reply_markup"] for o in messages] == [None] * (len(messages) - 1) + [markup]
    assert [(kind, o["caption"], o["parse_mode"]) for kind, _chat, _file, o in bot.calls[-2:]] == [
        ("photo", None, "HTML"),
        ("document", "<b>Li</b>", "HTML"),
    ]
