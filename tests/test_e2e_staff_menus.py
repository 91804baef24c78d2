"""Staff menus, the staff welcome, entry ids in /topics, and the wording of the fallback and of the "talking
to a person" answer (issue 14.11 and 14.15), through the real Application and the stand-in Bot API."""

from __future__ import annotations

import pytest

from bot.answering.text import Lang
from bot.i18n import translator
from tests.botapi import SentMessage
from tests.telegram_fixtures import Helpdesk, HelpdeskFactory

ALICE, LI, OPERATOR, SUPERVISOR = 1001, 1002, 2001, 2002
CLIENT = {ALICE: "en", LI: "zh-hans", OPERATOR: "en", SUPERVISOR: "zh-hans"}
LIVE_TOOLS = {"transfer", "kb", "canned", "toticket"}
pytestmark = pytest.mark.usefixtures("no_errors")


def _(lang: Lang, message: str) -> str:
    return translator(lang).gettext(message)


async def say(desk: Helpdesk, user: int, text: str = "") -> SentMessage:
    """*user* writes *text*; the bot's first message after it."""
    await desk.drain(user)
    return await desk.ask(user, text, language_code=CLIENT[user])


@pytest.fixture
async def desk(helpdesk_factory: HelpdeskFactory) -> Helpdesk:
    desk = await helpdesk_factory(helpdesk_supervisors=str(SUPERVISOR))
    desk.services.staff.add(OPERATOR, "operator", "Li Na", desk.clock(), SUPERVISOR)
    return desk


def menu(desk: Helpdesk, user: int) -> dict[str, str]:
    return dict(desk.botapi.commands(scope=f"chat:{user}"))


async def test_the_staff_menu_has_the_live_tools_and_supervisors_deliveries(desk: Helpdesk) -> None:
    await say(desk, OPERATOR, "/checkin")
    operator = menu(desk, OPERATOR)
    assert set(operator) >= LIVE_TOOLS and "deliveries" not in operator  # /deliveries is refused to operators
    assert operator["transfer"] == "Hand the current chat to a colleague"
    assert list(operator)[:2] == ["checkin", "checkout"]  # staff commands first, then everyone's
    assert {"ticket", "mytickets", "topics"} <= set(operator)

    await say(desk, SUPERVISOR, "/checkin")
    supervisor = menu(desk, SUPERVISOR)
    assert LIVE_TOOLS | {"deliveries"} <= set(supervisor)
    assert (
        supervisor["transfer"]
        == _("zh", "Hand the current chat to a colleague")
        != "Hand the current chat to a colleague"
    )
    assert supervisor["deliveries"] == _("zh", "Messages owed and those Telegram refused")


async def test_staff_start_gets_the_staff_welcome_not_the_applicant_questions(desk: Helpdesk) -> None:
    welcome = await say(desk, OPERATOR, "/start")
    await desk.settle()
    assert welcome.text.startswith("Hello User2001! You are helpdesk staff (operator); users see you as “Li Na”.")
    assert "/transfer" in welcome.text and "/canned" in welcome.text and "/checkin" in welcome.text
    sent = [m.text for m in desk.botapi.messages(OPERATOR)]
    assert _("en", "Who are you asking for?") not in sent and welcome.data == []  # no role, no sign-up buttons
    assert set(menu(desk, OPERATOR)) >= LIVE_TOOLS  # the staff menu is set at /start, before any /checkin

    # The supervisor from HELPDESK_SUPERVISORS reads it in Chinese, their placeholder name too.
    welcome = await say(desk, SUPERVISOR, "/start")
    assert welcome.text.startswith("User2002，您好！") and "“主管 2002”" in welcome.text
    assert "deliveries" in menu(desk, SUPERVISOR)

    # An applicant still gets the sign-up questions and no staff menu.
    await say(desk, ALICE, "/start")
    assert (await desk.reply(ALICE)).text == _("en", "Who are you asking for?")
    assert menu(desk, ALICE) == {}


async def test_the_staff_menu_follows_a_language_change(desk: Helpdesk) -> None:
    await say(desk, OPERATOR, "/start")
    choose = await say(desk, OPERATOR, "/language")
    await desk.press(OPERATOR, choose, "lang:zh")
    assert menu(desk, OPERATOR)["kb"] == _("zh", "Send a knowledge-base answer: /kb ID")


async def test_topics_show_entry_ids_to_staff_only(desk: Helpdesk) -> None:
    kb = desk.services.kb
    for user, with_ids in ((OPERATOR, True), (ALICE, False)):
        themes = await say(desk, user, "/topics")
        await desk.press(user, themes, "tg:extension")
        theme = desk.botapi.current(themes, user)  # the themes message now lists the theme's entries
        entries = [d.split(":", 1)[1] for d in theme.data if d.startswith("te:")]
        assert entries
        for entry in entries:
            line = f"• {kb.title(entry, 'en')}: {entry}"
            assert (line in theme.text) is with_ids, theme.text
        if with_ids:
            assert "Entry ids, for /kb ID in a live chat:" in theme.text
            assert any(e["type"] == "code" for e in theme.entities)  # tap to copy


@pytest.mark.parametrize(("user", "lang"), [(ALICE, "en"), (LI, "zh")])
async def test_the_fallback_reads_without_brackets_in_a_row(desk: Helpdesk, user: int, lang: Lang) -> None:
    values = desk.services.kb.profile.values[lang]
    fallback = await say(
        desk, user, "what is the weather in Beijing tomorrow" if lang == "en" else "明天北京天气怎么样"
    )
    assert values["office_name"] in fallback.text and values["office_phone"] in fallback.text
    assert ") (" not in fallback.text and "）（" not in fallback.text  # no aside right after another
    assert fallback.text.count("(") + fallback.text.count("（") <= 1  # only the office name's own, if any
    assert fallback.data[-2:] == ["human:" + fallback.data[0].split(":")[1], "tnew:" + fallback.data[0].split(":")[1]]


@pytest.mark.parametrize(("user", "question"), [(ALICE, "I want to talk to a real person"), (LI, "线上人工帮办怎么用")])
async def test_the_talking_to_a_person_answer_says_what_the_relay_carries(
    desk: Helpdesk, user: int, question: str
) -> None:
    lang: Lang = "zh" if user == LI else "en"
    answer = await say(desk, user, question)
    expected = desk.services.kb.answer("online-assistance", lang)
    assert expected.splitlines()[0] in answer.text
    carried = (
        ("text, photos and documents", "no voice or video calls")
        if lang == "en"
        else ("文字、照片和文件", "不支持语音或视频")
    )
    assert all(words in answer.text for words in carried)
    assert "text, voice or video" not in answer.text and "文字、语音或视频" not in answer.text
    # the live desk's hours, not the office's ("please check the official website for exact times")
    assert desk.services.kb.profile.values[lang]["office_hours"] not in answer.text
    assert "/human" in answer.text and "/cancel" in answer.text
