"""End to end through the real Application: /start, languages and roles, questions, /topics, notices.

The bot runs exactly as in production (handlers, rate limiter, per-chat ordering, long polling) against
the stand-in Bot API, which refuses what Telegram refuses (bad HTML, long texts, bad buttons).
"""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from bot.answering.text import Lang
from bot.i18n import translator
from bot.store.models import QuestionLog, User
from handlers.start import NOTICES_DESCRIPTION, help_text, privacy_text
from tests.botapi import SentMessage
from tests.telegram_fixtures import Helpdesk

EXPIRED = "This button has expired. Send the command again, or type your question."

ALICE, LI, BOB, CAROL = 1001, 1002, 1003, 1004
"""Alice's client is English, Li's Chinese (zh-hans)."""
CLIENT = {ALICE: "en", LI: "zh-hans", BOB: "en", CAROL: "en"}
pytestmark = pytest.mark.usefixtures("no_errors")


def _(lang: Lang, message: str) -> str:
    return translator(lang).gettext(message)


async def say(desk: Helpdesk, user: int, text: str = "", **kwargs: object) -> SentMessage:
    """The user writes *text* (from their client's language); the bot's first reply."""
    return await desk.ask(user, text, language_code=CLIENT[user], **kwargs)  # type: ignore[arg-type]


def log_rows(desk: Helpdesk, user: int) -> list[QuestionLog]:
    with Session(desk.services.engine) as session:
        return list(session.exec(select(QuestionLog).where(QuestionLog.user_id == user).order_by(QuestionLog.id)))


def user_row(desk: Helpdesk, user: int) -> User:
    with Session(desk.services.engine) as session:
        row = session.get(User, user)
        assert row is not None
        return row


def first_line(desk: Helpdesk, entry: str, lang: Lang) -> str:
    """The first line of an entry's answer as the bot renders it in *lang*."""
    return desk.services.helpdesk.entry(entry, lang).text.strip().splitlines()[0]


def see_also(desk: Helpdesk, entry: str) -> list[str]:
    """The entries offered under *entry*'s answer: the first three of its ``related``."""
    return list(desk.kb.entries[entry].related[:3])


def answer_buttons(desk: Helpdesk, entry: str, lang: Lang, qid: int, back: bool = False) -> list[list[tuple[str, str]]]:
    """The keyboard under *entry*'s answer to question *qid*: 👍/👎, see also, a person or a ticket (, back)."""
    rows = [[("👍", f"fb:{qid}:1"), ("👎", f"fb:{qid}:0")]]
    rows += [
        [(_(lang, "See also: {title}").format(title=desk.kb.title(r, lang)), f"rel:{qid}:{r}")]
        for r in see_also(desk, entry)
    ]
    rows.append([(_(lang, "🙋 Talk to a person"), f"human:{qid}"), (_(lang, "📝 File a ticket"), f"tnew:{qid}")])
    if back:
        rows.append([(_(lang, "« Back to topics"), "tb")])
    return rows


def is_answer(message: SentMessage, desk: Helpdesk, entry: str, lang: Lang, back: bool = False) -> bool:
    """The message is *entry*'s answer in *lang*, with 👍/👎, its see-also links and the help row."""
    qid = int(message.data[0].split(":")[1]) if message.data else 0
    return (
        first_line(desk, entry, lang) in message.text
        and _(lang, "Was this helpful?") in message.text
        and message.buttons == answer_buttons(desk, entry, lang, qid, back)
    )


# ----- /start, language, role ---------------------------------------------------------------------------
async def test_start_in_english(helpdesk_app: Helpdesk) -> None:
    desk = helpdesk_app
    welcome = await say(desk, ALICE, "/start", first_name="Alice")
    assert welcome.text.startswith("Hello Alice! I answer questions about China's Foreigner's Work Permit")
    assert "/privacy" in welcome.text and welcome.parse_mode == "HTML"
    assert welcome.buttons == [[("English", "lang:en"), ("中文", "lang:zh")]]
    role = await desk.reply(ALICE)
    assert role.text == "Who are you asking for?"
    assert role.data == ["role:applicant", "role:employer"]
    view = desk.services.helpdesk.user(ALICE)
    assert view is not None and (view.lang, view.lang_chosen, view.role) == ("en", False, None)


async def test_start_in_chinese_client_with_html_in_the_name(helpdesk_app: Helpdesk) -> None:
    desk = helpdesk_app
    welcome = await say(desk, LI, "/start", first_name="<b>李</b> & Co")
    expected = _(
        "zh",
        "Hello {name}! I answer questions about China's Foreigner's Work Permit (外国人来华工作许可) "
        "in English or Chinese. Just type your question, or browse /topics.",
    )
    assert welcome.text.startswith(expected.format(name="<b>李</b> & Co"))  # shown as typed, not as markup
    assert welcome.entities == ()
    role = await desk.reply(LI)
    assert role.text == _("zh", "Who are you asking for?")
    assert role.labels == [_("zh", "I'm applying for myself"), _("zh", "I'm an employer's HR contact")]
    await desk.press(LI, role, "role:applicant")  # Li never chose a language: the client's still counts
    noted = await desk.reply(LI)
    assert noted.text == _("zh", "Noted: you are applying for yourself. Type your question whenever you are ready.")
    view = desk.services.helpdesk.user(LI)
    assert view is not None and (view.lang_chosen, view.role) == (False, "applicant")


async def test_language_and_role_are_stored_and_survive_a_restart(helpdesk_app: Helpdesk) -> None:
    desk = helpdesk_app
    welcome = await say(desk, ALICE, "/start")
    role = await desk.reply(ALICE)
    answer = await desk.press(ALICE, welcome, "lang:zh")
    assert answer.text == _("zh", "Language set to Chinese.")
    confirmation = await desk.reply(ALICE)
    assert confirmation.text == _("zh", "From now on I reply in Chinese. You can still ask in either language.")
    await desk.press(ALICE, role, "role:employer")
    assert desk.botapi.buttons(role) == []  # the role keyboard is removed once chosen
    noted = await desk.reply(ALICE)
    assert noted.text.startswith(
        _(
            "zh",
            "Noted: you are an employer's HR contact. /topics shows employer topics "
            "first (registration, cancelling a permit within 10 working days, changing "
            "employer).",
        )[:12]
    )
    await desk.restart()
    view = desk.services.helpdesk.user(ALICE)
    assert view is not None and (view.lang, view.lang_chosen, view.role) == ("zh", True, "employer")
    themes = await say(desk, ALICE, "/topics")
    assert themes.text == _("zh", "Choose a theme:") and themes.data[0] == "tg:employer"
    # an English question is answered in the chosen language
    reply = await say(desk, ALICE, "how long is the work permit valid")
    assert is_answer(reply, desk, "validity-period", "zh")


async def test_language_command_switches_back_to_english(helpdesk_app: Helpdesk) -> None:
    desk = helpdesk_app
    menu = await say(desk, LI, "/language")
    assert menu.text == _("zh", "Choose your language:") and menu.data == ["lang:en", "lang:zh"]
    answer = await desk.press(LI, menu, "lang:en")
    assert answer.text == "Language set to English."
    assert (await desk.reply(LI)).text.startswith("From now on I reply in English.")
    reply = await say(desk, LI, "工作许可证有效期多久")
    assert is_answer(reply, desk, "validity-period", "en")
    assert user_row(desk, LI).lang == "en"


# ----- questions -----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("user", "question", "lang"),
    [(ALICE, "how long is the work permit valid", "en"), (LI, "工作许可证有效期多久", "zh")],
)
async def test_question_answered_with_feedback_stored(
    helpdesk_app: Helpdesk, user: int, question: str, lang: Lang
) -> None:
    desk = helpdesk_app
    reply = await say(desk, user, question)
    assert is_answer(reply, desk, "validity-period", lang)
    assert any(e["type"] == "italic" for e in reply.entities)  # the sources line
    [row] = log_rows(desk, user)
    assert (row.decision, row.entry_id, row.lang, row.feedback) == ("answer", "validity-period", lang, None)
    assert reply.data[0] == f"fb:{row.id}:1"

    thanks = await desk.press(user, reply, f"fb:{row.id}:1")
    assert thanks.text == _(lang, "Thank you for your feedback!")
    assert log_rows(desk, user)[0].feedback == 1
    assert await desk.drain(user) == []  # 👍 needs no message

    await desk.press(user, reply, f"fb:{row.id}:0")  # changed their mind
    sorry = await desk.reply(user)
    assert sorry.text == _(
        lang, "Sorry that didn't help. You can ask in other words, talk to a person or file a ticket."
    )
    assert [d.split(":")[0] for d in sorry.data] == ["human", "tnew"]
    assert log_rows(desk, user)[0].feedback == -1


async def test_question_script_decides_the_language_until_one_is_chosen(helpdesk_app: Helpdesk) -> None:
    desk = helpdesk_app
    assert is_answer(await say(desk, ALICE, "工作许可证有效期多久"), desk, "validity-period", "zh")
    assert is_answer(await say(desk, LI, "how long is the work permit valid"), desk, "validity-period", "en")


@pytest.mark.parametrize(
    ("user", "question", "lang", "pick"),
    [
        (ALICE, "validity or processing time?", "en", "validity-period"),
        (LI, "有效期还是审批时间", "zh", "processing-time"),
    ],
)
async def test_vague_question_clarifies_and_a_choice_answers(
    helpdesk_app: Helpdesk, user: int, question: str, lang: Lang, pick: str
) -> None:
    desk = helpdesk_app
    clarify = await say(desk, user, question)
    [row] = log_rows(desk, user)
    assert row.decision == "clarify"
    candidates = row.candidates.split(",")
    assert pick in candidates and 2 <= len(candidates) <= 3
    assert clarify.data == [f"pick:{row.id}:{c}" for c in candidates] + [f"none:{row.id}"]
    assert clarify.labels[:-1] == [desk.kb.title(c, lang) for c in candidates]
    assert clarify.labels[-1] == _(lang, "None of these")

    await desk.press(user, clarify, f"pick:{row.id}:{pick}")
    assert desk.botapi.buttons(clarify) == []  # choices removed
    answer = await desk.reply(user)
    assert is_answer(answer, desk, pick, lang) and answer.data[0] == f"fb:{row.id}:1"
    assert log_rows(desk, user)[0].chosen_entry == pick


async def test_none_of_these(helpdesk_app: Helpdesk) -> None:
    desk = helpdesk_app
    clarify = await say(desk, ALICE, "validity or processing time?")
    [row] = log_rows(desk, ALICE)
    await desk.click(ALICE, clarify, "None of these")
    sorry = await desk.reply(ALICE)
    assert sorry.text.startswith("Sorry I couldn't find the right answer.")
    assert sorry.data == [f"human:{row.id}", f"tnew:{row.id}"]
    assert log_rows(desk, ALICE)[0].feedback == -1
    # a choice pressed after "none of these" is gone with its keyboard
    assert desk.botapi.buttons(clarify) == []


@pytest.mark.parametrize(
    ("user", "question", "lang"),
    [(ALICE, "what is the weather in Beijing tomorrow", "en"), (LI, "明天北京天气怎么样", "zh")],
)
async def test_out_of_scope_question_falls_back_honestly(
    helpdesk_app: Helpdesk, user: int, question: str, lang: Lang
) -> None:
    desk = helpdesk_app
    reply = await say(desk, user, question)
    [row] = log_rows(desk, user)
    assert (row.decision, row.entry_id) == ("fallback", None)
    assert reply.labels == [_(lang, "🙋 Talk to a person"), _(lang, "📝 File a ticket")]
    assert reply.data == [f"human:{row.id}", f"tnew:{row.id}"]
    assert "👍" not in reply.labels


async def test_tourist_visa_to_japan_falls_back(helpdesk_app: Helpdesk) -> None:
    desk = helpdesk_app
    await say(desk, ALICE, "how do I apply for a tourist visa to Japan")
    assert log_rows(desk, ALICE)[0].decision == "fallback"


# ----- /topics ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("user", "lang"), [(ALICE, "en"), (LI, "zh")])
async def test_topics_browse_themes_and_entries(helpdesk_app: Helpdesk, user: int, lang: Lang) -> None:
    desk = helpdesk_app
    themes = await say(desk, user, "/topics")
    assert themes.text == _(lang, "Choose a theme:")
    assert themes.data[:3] == ["tg:new", "tg:extension", "tg:change"] and "tg:employer" not in themes.data
    assert themes.labels[1] == _(lang, "Extension (延期)")

    await desk.press(user, themes, "tg:time-fees")
    entries = desk.botapi.current(themes)  # the same message now lists the theme's entries
    assert entries.text == _(lang, "Time and fees")
    assert entries.data == ["te:processing-time", "te:fees", "te:validity-period", "tl"]
    assert entries.labels[2] == desk.kb.title("validity-period", lang)
    assert entries.labels[-1] == _(lang, "« All themes")

    await desk.press(user, entries, "te:validity-period")
    answer = await desk.reply(user)  # answered like a question, with a way back (tests below)
    assert is_answer(answer, desk, "validity-period", lang, back=True)

    await desk.press(user, entries, "tl")
    again = desk.botapi.current(themes)
    assert again.text == _(lang, "Choose a theme:") and again.data == themes.data


async def test_employer_sees_the_employer_theme_first(helpdesk_app: Helpdesk) -> None:
    desk = helpdesk_app
    await say(desk, BOB, "/start")
    role = await desk.reply(BOB)
    await desk.click(BOB, role, "employer")
    assert (await desk.reply(BOB)).text.startswith("Noted: you are an employer's HR contact.")
    themes = await say(desk, BOB, "/topics")
    assert themes.labels[0] == "For employers" and themes.data[0] == "tg:employer"
    await desk.press(BOB, themes, "tg:employer")
    assert desk.botapi.current(themes).data[:2] == ["te:employer-requirements", "te:apply-online"]
    assert user_row(desk, BOB).role == "employer"


# ----- see also, answers from /topics, small talk ---------------------------------------------------------
@pytest.mark.parametrize(
    ("user", "question", "lang"),
    [(ALICE, "how long is the work permit valid", "en"), (LI, "工作许可证有效期多久", "zh")],
)
async def test_see_also_buttons_under_an_answer_open_the_related_entry(
    helpdesk_app: Helpdesk, user: int, question: str, lang: Lang
) -> None:
    desk = helpdesk_app
    reply = await say(desk, user, question)
    [row] = log_rows(desk, user)
    related = see_also(desk, "validity-period")
    assert related and is_answer(reply, desk, "validity-period", lang)
    links = [(label, data) for row in reply.buttons for label, data in row if data and data.startswith("rel:")]
    assert links == [
        (_(lang, "See also: {title}").format(title=desk.kb.title(r, lang)), f"rel:{row.id}:{r}") for r in related
    ]
    assert all(len(data.encode()) <= 64 for _label, data in links)

    answer = await desk.press(user, reply, f"rel:{row.id}:{related[0]}")
    assert answer.text is None and not answer.show_alert
    shown = await desk.reply(user)
    assert is_answer(shown, desk, related[0], lang)  # the same layout as any answer, its own see-also included
    assert any(e["type"] == "italic" for e in shown.entities)  # with its sources line
    assert desk.botapi.buttons(reply) == reply.buttons  # the first answer keeps its buttons

    # logged as a question of its own, so that 👍/👎 under it reaches the knowledge-gap review
    first, opened = log_rows(desk, user)
    assert (opened.decision, opened.entry_id, opened.candidates, opened.text) == (
        "related",
        related[0],
        "validity-period",
        first.text,
    )
    assert shown.data[0] == f"fb:{opened.id}:1"
    await desk.press(user, shown, f"fb:{opened.id}:0")
    sorry = await desk.reply(user)
    assert [d.split(":")[0] for d in sorry.data] == ["human", "tnew"]
    assert [r.feedback for r in log_rows(desk, user)] == [None, -1]


async def test_see_also_under_a_clarify_choice(helpdesk_app: Helpdesk) -> None:
    desk = helpdesk_app
    clarify = await say(desk, ALICE, "validity or processing time?")
    [row] = log_rows(desk, ALICE)
    await desk.press(ALICE, clarify, f"pick:{row.id}:validity-period")
    answer = await desk.reply(ALICE)
    assert is_answer(answer, desk, "validity-period", "en")
    target = see_also(desk, "validity-period")[-1]
    await desk.press(ALICE, answer, f"rel:{row.id}:{target}")
    assert is_answer(await desk.reply(ALICE), desk, target, "en")
    assert [(r.decision, r.entry_id) for r in log_rows(desk, ALICE)][1] == ("related", target)


@pytest.mark.parametrize(("user", "lang"), [(ALICE, "en"), (LI, "zh")])
async def test_an_answer_from_topics_has_feedback_help_see_also_and_back(
    helpdesk_app: Helpdesk, user: int, lang: Lang
) -> None:
    desk = helpdesk_app
    themes = await say(desk, user, "/topics")
    await desk.press(user, themes, "tg:time-fees")
    await desk.press(user, themes, "te:fees")
    answer = await desk.reply(user)
    [row] = log_rows(desk, user)
    assert (row.decision, row.entry_id, row.text, row.lang) == ("browse", "fees", desk.kb.title("fees", lang), lang)
    assert is_answer(answer, desk, "fees", lang, back=True)
    assert answer.labels[-1] == _(lang, "« Back to topics") and answer.data[-1] == "tb"
    assert any(e["type"] == "italic" for e in answer.entities)  # sources

    thanks = await desk.press(user, answer, f"fb:{row.id}:1")
    assert thanks.text == _(lang, "Thank you for your feedback!")
    assert log_rows(desk, user)[0].feedback == 1
    assert await desk.drain(user) == []

    related = see_also(desk, "fees")
    await desk.press(user, answer, f"rel:{row.id}:{related[0]}")
    opened = await desk.reply(user)
    assert is_answer(opened, desk, related[0], lang)  # no "back to topics" under a see-also answer
    assert log_rows(desk, user)[1].candidates == "fees"

    await desk.press(user, answer, "tb")
    again = await desk.reply(user)  # the themes in a new message; the answer stays
    assert again.text == _(lang, "Choose a theme:") and again.data == themes.data
    assert desk.botapi.current(answer).text == answer.text and desk.botapi.buttons(answer) == answer.buttons
    human, ticket = answer.data[-3:-1]
    assert (human, ticket) == (f"human:{row.id}", f"tnew:{row.id}")


@pytest.mark.parametrize(
    ("user", "text", "lang", "entry"),
    [
        (ALICE, "hello", "en", "smalltalk-greeting"),
        (LI, "谢谢", "zh", "smalltalk-thanks"),
        (ALICE, "thanks", "en", "smalltalk-thanks"),
        (LI, "你好", "zh", "smalltalk-greeting"),
    ],
)
async def test_small_talk_is_just_a_short_friendly_text(
    helpdesk_app: Helpdesk, user: int, text: str, lang: Lang, entry: str
) -> None:
    desk = helpdesk_app
    reply = await say(desk, user, text)
    [row] = log_rows(desk, user)
    assert (row.decision, row.entry_id) == ("answer", entry)
    assert reply.text == desk.kb.answer(entry, lang).strip()
    assert reply.buttons == [] and reply.entities == ()  # no 👍/👎, person, ticket or see-also; no sources
    assert _(lang, "Sources: {sources}").split("{")[0] not in reply.text
    assert _(lang, "Was this helpful?") not in reply.text
    # nor can a see-also be forced out of it
    target = (*desk.kb.entries[entry].related, "overview")[0]
    forged = await desk.press(user, reply, f"rel:{row.id}:{target}", forged=True)
    assert forged.text == _(lang, "This button has expired. Send the command again, or type your question.")
    assert len(log_rows(desk, user)) == 1


async def test_forged_see_also_buttons_are_expired(helpdesk_app: Helpdesk) -> None:
    desk = helpdesk_app
    reply = await say(desk, ALICE, "how long is the work permit valid")
    [row] = log_rows(desk, ALICE)
    offered = see_also(desk, "validity-period")
    other = next(e for e in desk.kb.entries if e not in offered and e != "validity-period")
    fallback = await say(desk, ALICE, "what is the weather in Beijing tomorrow")
    bobs = await say(desk, BOB, "/topics")
    await desk.drain(ALICE)
    for user, message, data in [
        (ALICE, reply, f"rel:{row.id}:{other}"),  # not among this answer's links
        (ALICE, reply, f"rel:{row.id}:no-such-entry"),
        (ALICE, fallback, f"rel:{row.id + 1}:{offered[0]}"),  # a fallback has no links
        (BOB, bobs, f"rel:{row.id}:{offered[0]}"),  # Alice's button replayed by Bob
    ]:
        answer = await desk.press(user, message, data, forged=True)
        assert answer.text == EXPIRED and answer.show_alert
        assert await desk.drain(user) == []
    assert [r.decision for r in log_rows(desk, ALICE)] == ["answer", "fallback"] and log_rows(desk, BOB) == []


# ----- notices, help, commands -------------------------------------------------------------------------------
@pytest.mark.parametrize(("user", "lang"), [(ALICE, "en"), (LI, "zh")])
async def test_subscribe_and_unsubscribe_are_stored(helpdesk_app: Helpdesk, user: int, lang: Lang) -> None:
    desk = helpdesk_app
    done = await say(desk, user, "/subscribe")
    assert done.text == _(
        lang, "Subscribed: you will receive policy notices from the helpdesk. /unsubscribe stops them."
    ) + "\n\n" + _(lang, NOTICES_DESCRIPTION)  # what is sent and how often
    assert user_row(desk, user).subscribed is True
    assert [u.id for u in desk.services.helpdesk.subscribers()] == [user]
    again = (await say(desk, user, "/subscribe")).text
    assert again == _(lang, "You are already subscribed to policy notices.") + "\n\n" + _(lang, NOTICES_DESCRIPTION)
    left = await say(desk, user, "/unsubscribe")
    assert left.text == _(lang, "Unsubscribed: you will no longer receive policy notices.")
    assert user_row(desk, user).subscribed is False
    assert (await say(desk, user, "/unsubscribe")).text == _(lang, "You were not subscribed.")


@pytest.mark.parametrize(("user", "lang"), [(ALICE, "en"), (LI, "zh")])
async def test_help_privacy_and_unknown_command(helpdesk_app: Helpdesk, user: int, lang: Lang) -> None:
    desk = helpdesk_app
    assert (await say(desk, user, "/help")).text == help_text(lang)
    assert (await say(desk, user, "/privacy")).text == privacy_text(lang)
    unknown = await say(desk, user, "/frobnicate")
    assert unknown.text == _(lang, "I don't know that command. /help lists what I can do.")


async def test_command_menus_in_english_and_chinese(helpdesk_app: Helpdesk) -> None:
    botapi = helpdesk_app.botapi
    english, chinese = botapi.commands(), botapi.commands("zh")
    assert [c for c, _d in english] == [c for c, _d in chinese]
    assert {"start", "topics", "help", "language", "subscribe", "unsubscribe", "ticket", "mytickets", "cancel"} <= {
        c for c, _d in english
    }
    assert dict(english)["topics"] == "Browse questions by theme"
    assert dict(chinese)["topics"] == _("zh", "Browse questions by theme") != "Browse questions by theme"


# ----- buttons nobody should be able to press, and odd input ---------------------------------------------------
@pytest.mark.parametrize(
    "data",
    [
        "pick:999999:nope",
        "zzz",
        "pick:abc:def",
        "fb:999999:1",
        "fb:1:7",
        "none:999999",
        "lang:fr",
        "role:boss",
        "tg:nope",
        "te:no-such-entry",
        "rel:999999:fees",
        "rel:abc:fees",
        "rel:1",
        "rel:1:fees:extra",
        "tb:1",
        "pick:1:validity-period:extra",
        "x" * 64,
    ],
)
async def test_forged_or_expired_button_says_expired(helpdesk_app: Helpdesk, data: str) -> None:
    desk = helpdesk_app
    themes = await say(desk, ALICE, "/topics")
    answer = await desk.press(ALICE, themes, data, forged=True)
    assert answer.text == EXPIRED and answer.show_alert
    assert await desk.drain(ALICE) == []
    assert desk.botapi.current(themes).data == themes.data  # nothing changed


async def test_expired_button_in_chinese(helpdesk_app: Helpdesk) -> None:
    desk = helpdesk_app
    themes = await say(desk, LI, "/topics")
    answer = await desk.press(LI, themes, "pick:999999:nope", forged=True)
    assert answer.text == _("zh", "This button has expired. Send the command again, or type your question.")


async def test_someone_elses_question_buttons_are_expired(helpdesk_app: Helpdesk) -> None:
    desk = helpdesk_app
    clarify = await say(desk, ALICE, "validity or processing time?")
    [row] = log_rows(desk, ALICE)
    mine = await say(desk, BOB, "/topics")
    for data in clarify.data:  # Bob replays Alice's buttons on a message of his own
        answer = await desk.press(BOB, mine, data, forged=True)
        assert answer.text.startswith("This button has expired")
    assert log_rows(desk, ALICE)[0].feedback is None and log_rows(desk, ALICE)[0].chosen_entry is None
    assert row.id is not None


@pytest.mark.parametrize(("user", "lang"), [(ALICE, "en"), (LI, "zh")])
async def test_overlong_and_emoji_only_messages_get_a_polite_reply(
    helpdesk_app: Helpdesk, user: int, lang: Lang
) -> None:
    desk = helpdesk_app
    long_reply = await say(desk, user, "work permit " * 834)  # 10,008 characters
    assert long_reply.text == _(
        lang, "Your message is too long ({length} characters; the limit is {limit}). Please send a shorter question."
    ).format(length=10008, limit=4000)
    emoji = await say(desk, user, "🙂🙏👍")
    assert emoji.text == _(lang, "I can only read text questions. Please type your question about the work permit.")
    assert log_rows(desk, user) == []


async def test_html_looking_input_never_breaks_the_reply(helpdesk_app: Helpdesk) -> None:
    desk = helpdesk_app
    for text in (
        "<b>hi</b> & <script>",
        "how long is the <b>work permit</b> valid & <i>",
        "a < b && c > d &amp;",
        "</pre><a href='x'>",
    ):
        reply = await say(desk, ALICE, text)
        assert reply.parse_mode == "HTML"
        if log_rows(desk, ALICE)[-1].entry_id != "smalltalk-greeting":  # "hi" is greeted, without buttons
            assert reply.buttons  # answered, clarified or fell back, with buttons
    assert is_answer(desk.botapi.messages(ALICE)[1], desk, "validity-period", "en")


async def test_photo_outside_a_ticket_is_declined_politely(helpdesk_app: Helpdesk) -> None:
    desk = helpdesk_app
    reply = await say(desk, ALICE, "my passport", photo=True)
    assert reply.text.startswith("Sorry, I can only read typed questions.")
    reply = await say(desk, LI, document=True)
    assert reply.text.startswith(
        _(
            "zh",
            "Sorry, I can only read typed questions. To send documents or photos, file "
            "a ticket (/ticket) or talk to a person (/human).",
        )[:8]
    )


# ----- Telegram pushing back --------------------------------------------------------------------------------
async def test_a_user_who_blocked_the_bot_breaks_nothing(helpdesk_app: Helpdesk) -> None:
    desk = helpdesk_app
    await say(desk, ALICE, "/subscribe")
    desk.botapi.block(ALICE)
    await desk.send(ALICE, "/start", language_code="en")
    await desk.send(ALICE, "how long is the work permit valid", language_code="en")
    await desk.settle()
    refused = desk.botapi.errors_for(ALICE)
    assert refused and {e.error_code for e in refused} == {403}
    assert user_row(desk, ALICE).blocked is True
    assert desk.services.helpdesk.subscribers() == []  # no notices for someone who blocked us
    # others are served as usual
    assert is_answer(await say(desk, BOB, "how long is the work permit valid"), desk, "validity-period", "en")
    # and when Alice comes back, so does she
    desk.botapi.unblock(ALICE)
    assert is_answer(await say(desk, ALICE, "how long is the work permit valid"), desk, "validity-period", "en")
    assert user_row(desk, ALICE).blocked is False


async def test_flood_control_is_retried_by_the_rate_limiter(helpdesk_app: Helpdesk) -> None:
    desk = helpdesk_app
    desk.botapi.fail_next("sendMessage", retry_after=1)
    reply = await say(desk, ALICE, "how long is the work permit valid")
    assert is_answer(reply, desk, "validity-period", "en")
    assert [(e.method, e.error_code) for e in desk.botapi.errors] == [("sendMessage", 429)]
    assert len(desk.botapi.messages(ALICE)) == 1  # retried once, delivered once
