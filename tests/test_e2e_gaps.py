"""End to end through the real Application: the knowledge-gap review (issue 15 §4). Users' questions fall back;
an operator runs /gaps, sees them grouped with their most likely entry and personal details masked, accepts the
group with one tap; the group does not come back; ``python -m bot kb gaps-export`` writes the masked question as a
training line for a maintainer to commit."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import Session, select

from bot.__main__ import main
from bot.config import get_settings
from bot.store.models import GapReview, QuestionLog
from tests.botapi import SentMessage
from tests.telegram_fixtures import Helpdesk, HelpdeskFactory
from tests.test_e2e_staff_tickets import ALICE, BOB, EXPIRED, OPERATOR, OPERATOR2, SUPERVISOR, make_desk, say, start_as

pytestmark = pytest.mark.usefixtures("no_errors")
STOLEN = "my card was nicked, text me on 13812345678"
STOLEN_TOO = "My card was nicked, text me on 13999998888"
MASKED = "my card was nicked, text me on [phone]"


@pytest.fixture
async def desk(helpdesk_factory: HelpdeskFactory) -> Helpdesk:
    return await make_desk(helpdesk_factory)


@pytest.fixture
def cli_database(desk: Helpdesk, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """``python -m bot …`` on the desk's database."""
    monkeypatch.setenv("DATABASE_URL", desk.settings().database_url)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def first_question(desk: Helpdesk) -> int:
    with Session(desk.services.engine) as session:
        row = session.exec(select(QuestionLog).order_by(QuestionLog.id)).first()  # type: ignore[arg-type]
        assert row is not None and row.id is not None
        return row.id


def is_card(message: SentMessage) -> bool:
    return any(d.startswith("gr:") for d in message.data)


async def test_a_fallback_is_reviewed_accepted_once_and_exported_masked(
    desk: Helpdesk, cli_database: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    await start_as(desk, ALICE, "applicant")
    fallback = await say(desk, ALICE, STOLEN)
    assert fallback.text.startswith("Sorry, I don't have a reliable answer")
    await start_as(desk, BOB, "applicant")
    await say(desk, BOB, STOLEN_TOO)
    group = first_question(desk)

    refused = await say(desk, ALICE, "/gaps")  # staff only
    assert "staff" in refused.text.lower()
    header = await say(desk, OPERATOR, "/gaps")
    assert header.text.splitlines() == [
        "Knowledge gaps in the last 7 days (since Feb 25, 2026)",
        "Questions that fell back, got 👎 or “none of these”: 2",
        "Groups of similar questions: 1 (the largest follow; one tap decides a group)",
    ]
    card = await desk.reply(OPERATOR, is_card)
    title = desk.services.kb.title("reissue", "en")
    assert card.text.splitlines() == [
        "Group 1 · questions: 2 (fell back: 2)",
        f"“{MASKED}”",
        f"Most likely entry: {title} (reissue)",
    ]
    assert "13812345678" not in card.text and "13999998888" not in card.text
    assert card.data == [f"ga:{group}:w:reissue", f"gp:{group}:w", f"go:{group}:w", f"gr:{group}:w"]
    assert card.labels[0].startswith("Add to “")

    # forged and foreign presses answer politely and decide nothing
    for forged in (f"ga:{group}:w:no-such-entry", "ga:999999:w:reissue", f"gr:{group}:x", f"go:{group}"):
        answer = await desk.press(OPERATOR, card, forged, forged=True)
        assert (answer.text, answer.show_alert) == (EXPIRED, True)
    foreign = await desk.press(ALICE, fallback, f"gr:{group}:w", forged=True)
    assert foreign.show_alert and "staff" in (foreign.text or "").lower()

    await say(desk, OPERATOR2, "/gaps")  # in Chinese, with the entry's Chinese title
    zh = await desk.reply(OPERATOR2, is_card)
    assert zh.text.splitlines() == [
        "第 1 组 · 问题数：2（未能回答：2）",
        f"“{MASKED}”",
        f"最可能的条目：{desk.services.kb.title('reissue', 'zh')}（reissue）",
    ]
    assert zh.labels == [f"加入“{desk.services.kb.title('reissue', 'zh')}”", "选择其他条目…", "超出范围", "驳回"]
    await say(desk, SUPERVISOR, "/gaps")  # a colleague looks at the same gaps
    colleagues = await desk.reply(SUPERVISOR, is_card)
    await desk.press(OPERATOR, card, f"gp:{group}:w")  # "another entry…": the likely entries
    choices = await desk.reply(OPERATOR, lambda m: m.text.startswith("Which entry"))
    assert choices.data[0] == f"ga:{group}:w:reissue" and len(choices.data) == 5

    await desk.press(OPERATOR, card, f"ga:{group}:w:reissue")
    done = await desk.reply(OPERATOR, lambda m: m.text.startswith("Accepted"))
    assert done.text.startswith(
        "Accepted: the group's questions (1) are alternate questions of "
        f"“{desk.services.kb.title('reissue', 'en')}” (reissue)."
    )
    assert "python -m bot kb gaps-export" in done.text
    again = await desk.press(SUPERVISOR, colleagues, f"gr:{group}:w")  # the colleague, late
    assert again.show_alert and again.text == "This group of questions has been reviewed already. /gaps shows the rest."
    late = await desk.press(OPERATOR, choices, f"ga:{group}:w:reissue")
    assert late.show_alert and "reviewed already" in (late.text or "")
    with Session(desk.services.engine) as session:
        assert len(session.exec(select(GapReview)).all()) == 1
    assert (await say(desk, SUPERVISOR, "/gaps")).text.startswith("No knowledge gaps to review in the last 7 days")

    out = tmp_path / "reviewed.jsonl"
    capsys.readouterr()
    assert main(["kb", "gaps-export", "--out", str(out)]) == 0
    assert "1 new example(s)" in capsys.readouterr().err
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert lines == [{"q": MASKED, "expect": "reissue", "lang": "en", "kind": "reviewed"}]
    assert main(["kb", "gaps-export"]) == 0  # to standard output
    assert json.loads(capsys.readouterr().out) == lines[0]
