"""Rendering without Telegram: splitting under 4096 UTF-16 units, escaping, id-only buttons, every notice."""

from __future__ import annotations

from datetime import UTC, date, datetime
from html import escape
from html.parser import HTMLParser

import pytest

from bot import notices as nt
from bot.answering.answers import Answerer, Option, Reply
from bot.answering.matching import Match
from handlers import callback_data as cd
from handlers.notify import render
from handlers.render import MESSAGE_LIMIT, answer_messages, clarify_message, html_chunks, split_text, utf16_len


def test_split_text_keeps_every_piece_under_the_limit_in_utf16_units() -> None:
    text = ("Paragraph " + "😀" * 300 + "\n\n") * 20
    pieces = split_text(text)
    assert len(pieces) > 1 and all(utf16_len(p) <= 3900 for p in pieces)
    assert "".join(p.replace("\n", "").replace(" ", "") for p in pieces) == text.replace("\n", "").replace(" ", "")


def test_split_text_prefers_paragraph_breaks() -> None:
    text = "a" * 3000 + "\n\n" + "b" * 3000
    assert split_text(text) == ["a" * 3000, "b" * 3000]


def test_split_text_without_breaks_cuts_hard() -> None:
    pieces = split_text("x" * 9000)
    assert [len(p) for p in pieces] == [3900, 3900, 1200]


def test_html_chunks_escape_and_keep_the_footer_on_the_last() -> None:
    chunks = html_chunks("<b>not bold</b> & co\n\n" + "y" * 5000, "<i>footer</i>")
    assert chunks[0].startswith("&lt;b&gt;not bold&lt;/b&gt; &amp; co")
    assert chunks[-1].endswith("<i>footer</i>")
    assert all(utf16_len(c) <= MESSAGE_LIMIT for c in chunks)


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)


def tags_of(html: str) -> list[str]:
    parser = _Tags()
    parser.feed(html)
    return parser.tags


def test_answer_buttons_carry_ids_and_fit_64_bytes(answerer: Answerer) -> None:
    reply = answerer.ask("how long is the work permit valid", "en")
    chunks, markup = answer_messages(reply, 123456789)
    assert markup is not None
    data = [b.callback_data for row in markup.inline_keyboard for b in row]
    related = [f"rel:123456789:{r}" for r in answerer.kb.entries["validity-period"].related[:3]]
    assert related and data == ["fb:123456789:1", "fb:123456789:0", *related, "human:123456789", "tnew:123456789"]
    assert all(len(d.encode()) <= 64 for d in data if d)
    assert set(tags_of("".join(chunks))) <= {"i"}  # only our own italics; the answer text is escaped


@pytest.mark.parametrize(("question", "lang"), [("hello", "en"), ("谢谢", "zh")])
def test_small_talk_has_no_footer_and_no_buttons(answerer: Answerer, question: str, lang: str) -> None:
    reply = answerer.ask(question, lang)  # type: ignore[arg-type]
    assert reply.small_talk and reply.see_also == ()
    chunks, markup = answer_messages(reply, 5, back_to_topics=True)
    assert markup is None and chunks == [escape(reply.text.strip(), quote=False)]


def test_see_also_labels_are_titles_and_data_ids() -> None:
    reply = Reply(
        Match("q", "en", "answer", "fees", ("fees",), 1.0),
        "Free.",
        theme="time-fees",
        see_also=(Option("processing-time", "How <long>"), Option("x" * 60, "too long an id to fit")),
    )
    assert not reply.small_talk
    _chunks, markup = answer_messages(reply, 42, back_to_topics=True)
    assert markup is not None
    rows = [[(b.text, b.callback_data) for b in row] for row in markup.inline_keyboard]
    assert rows[1] == [("See also: How <long>", "rel:42:processing-time")]  # a plain label, not markup
    assert [row[0][1] for row in rows[2:]] == ["human:42", "tb"]  # a link that would not fit is left out


def test_clarify_buttons_are_entry_ids_not_labels() -> None:
    options = (Option("processing-time", "How long it takes <fast>"), Option("validity-period", "How long it lasts"))
    reply = Reply(
        Match("how long", "en", "clarify", None, ("processing-time", "validity-period"), 0.5),
        "Did you mean:",
        options=options,
    )
    _text, markup = clarify_message(reply, 7)
    assert next(row[0].text for row in markup.inline_keyboard) == "How long it takes <fast>"  # plain button label
    data = [b.callback_data for row in markup.inline_keyboard for b in row]
    assert data[-1] == "none:7"
    assert all(d.startswith("pick:7:") and len(d.encode()) <= 64 for d in data[:-1])


def test_callback_data_rejects_oversize_and_separators() -> None:
    with pytest.raises(ValueError):
        cd.make("pick", "x" * 70)
    with pytest.raises(ValueError):
        cd.make("pick", "a:b")
    assert cd.parse("pick:1:reissue") == cd.Data("pick", ("1", "reissue"))
    assert cd.parse("") is None and cd.parse("ü:1") is None and cd.parse("x" * 65) is None
    assert cd.Data("cl", ("12",)).int_arg(0) == 12 and cd.Data("cl", ("-1",)).int_arg(0) is None


NOTICES: list[nt.Notice] = [
    nt.TicketReply(1, "T2603-0001", 1, "<script>", None, None),
    nt.TicketClosed(1, "T2603-0001", 1, "a & b"),
    nt.TicketReopenedByStaff(1, "T2603-0001"),
    nt.TicketUserMessage(1, "T2603-0001"),
    nt.TicketReopenedByUser(1, "T2603-0001"),
    nt.TicketAssigned(1, "T2603-0001"),
    nt.BadRating(1, "session", 3, 5, 9, "<b>", 1),
    nt.QueueNew(1, 4, "zh", "employer", 9, "<Li>", (nt.PastQuestion("how long?", "answer", "processing-time"),)),
    nt.QueuePosition(1, 2, 12),
    nt.QueueLongWait(1, 4),
    nt.SessionStarted(1, "Li & Na"),
    nt.SessionEnded(1, 3, "no_reply"),
    nt.HandedBack(1),
    nt.SessionTransferred(1, "Zhang"),
    nt.SessionTransferredToYou(1, 3, 9, "en", (), (nt.TranscriptLine("user", "<hello>"),)),
    nt.SessionTicket(1, "T2603-0002", 3),
    nt.SessionIdle(1, 3, 5),
    nt.SessionIdleOperator(1, 3),
    nt.SessionAutoClosed(1, 3),
    nt.SessionUserWaiting(1, 3, 6, 5),
    nt.SessionRequeued(1, 3),
    nt.OperatorSilent(1, 3, "Li <Na>", 11),
    nt.HandedBack(1, unanswered=True),
    nt.SessionLeft(1, 3),
    nt.TicketReply(1, "T2603-0001", 1, "<script>", None, None, "Li <Na> & co"),
    nt.TicketNew(1, 3, "T2603-0003", "report", datetime(2026, 3, 24, 15, 59, 59, tzinfo=UTC), "live"),
    nt.BadRating(1, "ticket", 3, 4, 9, "<b>", 1, "<Li>", "zh", "employer", "a&b@example.com", "T2603-0003"),
    nt.BadRating(1, "session", 4, 5, 9, None, 2, "", None, None, None, None, (nt.TranscriptLine("user", "<x>"),)),
    nt.TicketDueSoon(1, 3, "T2605-0003", "help", datetime(2026, 5, 8, 15, 59, 59, tzinfo=UTC)),
    nt.TicketOverdue(1, 3, "T2605-0003", "report", datetime(2026, 5, 8, 15, 59, 59, tzinfo=UTC), "Li <Na> & co"),
    nt.TicketOverdue(1, 3, "T2605-0003", "suggestion", datetime(2026, 5, 8, 15, 59, 59, tzinfo=UTC)),
    nt.MorningDigest(1, date(2026, 5, 11), 0, 0, (), 12, tuple(f"T2605-{n:04d}" for n in range(1, 11)), 0),
]


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("notice", NOTICES, ids=[type(n).__name__ for n in NOTICES])
def test_every_notice_renders_escaped_in_both_languages(notice: nt.Notice, lang: str) -> None:
    chunks, markup = render(notice, lang)  # type: ignore[arg-type]
    html = "".join(chunks)
    assert html and set(tags_of(html)) <= {"b", "i"}, html  # user-supplied text never becomes markup
    if markup is not None:
        assert all(len((b.callback_data or "").encode()) <= 64 for row in markup.inline_keyboard for b in row)


def test_queue_offer_has_the_claim_button_and_the_context() -> None:
    chunks, markup = render(NOTICES[7], "en")
    assert markup is not None and markup.inline_keyboard[0][0].callback_data == "cl:4"
    assert "&lt;Li&gt; · Chinese · employer HR contact" in chunks[0] and "(processing-time)" in chunks[0]


def test_session_end_asks_for_the_five_level_rating() -> None:
    _chunks, markup = render(NOTICES[11], "zh")
    assert markup is not None
    assert [row[0].callback_data for row in markup.inline_keyboard] == [f"rt:s:3:{level}" for level in range(1, 6)]


def test_the_morning_digest_names_the_first_tickets_and_points_to_the_lists() -> None:
    chunks, markup = render(NOTICES[-1], "zh")
    lines = "".join(chunks).split("\n")
    assert lines[0] == "☀️ 每日早报（北京时间 2026年5月11日）"
    assert lines[3] == "已超期：12 — " + ", ".join(f"T2605-{n:04d}" for n in range(1, 11)) + ", …"
    assert markup is not None and [b.callback_data for b in markup.inline_keyboard[0]] == ["sl:overdue", "sl:new"]
