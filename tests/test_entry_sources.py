"""Entry points (issue 16 §4): the source of a deep link recorded (first kept, latest updated), figures by
source for /stats, and ``python -m bot qr`` writing a PNG whose modules are the QR code of the link."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import segno
from PIL import Image
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.__main__ import main
from bot.config import get_settings
from bot.desk.outreach.qr import BORDER, SCALE, QrError, bot_username
from bot.desk.outreach.sources import EntrySources, deep_link, figures_by_source, parse_source, source_lines
from bot.desk.reports.figures import Period, compute_figures
from bot.desk.reports.text import stats_text
from bot.desk.workdays import SHANGHAI
from bot.store.db import make_engine
from bot.store.models import QuestionLog, User
from tests.botapi import TOKEN, BotApiServer
from tests.dbs import postgres_engine

DAY = datetime(2027, 3, 1, 9, 0, tzinfo=SHANGHAI)


def test_what_a_source_may_be() -> None:
    for good in ("window1", "briefing-2027_03", "A", "x" * 32):
        assert parse_source(good) == good
    for bad in ("", "x" * 33, "poster!", "窗口", "a b", "win\n1", None):
        assert parse_source(bad) is None
    assert deep_link("@helpdesk_bot", "window1") == "https://t.me/helpdesk_bot?start=window1"
    with pytest.raises(ValueError):
        deep_link("helpdesk_bot", "no way")


def test_the_first_source_is_kept_and_the_latest_updated() -> None:
    engine = make_engine("sqlite://")
    sources = EntrySources(engine)
    assert sources.record(7, "window1", DAY) == "window1"  # a user never seen before is created
    assert sources.record(7, "poster!", DAY) is None
    assert sources.record(7, "briefing2", DAY + timedelta(days=3)) == "briefing2"
    with Session(engine) as session:
        user = session.get(User, 7)
        assert user is not None and (user.first_source, user.last_source) == ("window1", "briefing2")


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest) -> Iterator[Engine]:
    with ExitStack() as stack:
        yield make_engine("sqlite://") if request.param == "sqlite" else stack.enter_context(postgres_engine())


def test_figures_by_source_count_new_users_and_their_questions_in_the_period(engine: Engine) -> None:
    with Session(engine) as session:
        for user_id, source, when in [
            (1, "window1", DAY),
            (2, "window1", DAY + timedelta(days=1)),
            (3, "poster", DAY + timedelta(days=2)),
            (4, None, DAY),
            (5, "window1", DAY - timedelta(days=40)),  # came earlier: not new, but their questions count
        ]:
            session.add(User(id=user_id, first_source=source, last_source=source, created_at=when, updated_at=when))
        session.flush()
        for user_id, decision, when in [
            (1, "answer", DAY),
            (1, "fallback", DAY + timedelta(hours=1)),
            (5, "clarify", DAY + timedelta(days=5)),
            (3, "browse", DAY + timedelta(days=2)),  # a topic opened from /topics: not a question
            (4, "answer", DAY),
            (2, "answer", DAY + timedelta(days=40)),  # after the period
        ]:
            session.add(QuestionLog(user_id=user_id, text="q", lang="en", decision=decision, created_at=when))
        session.commit()
    rows = figures_by_source(engine, DAY - timedelta(days=1), DAY + timedelta(days=30))
    assert [(r.source, r.new_users, r.questions, r.askers) for r in rows] == [
        ("window1", 2, 3, 2),
        ("poster", 1, 0, 0),
        (None, 1, 1, 1),  # no deep link: last
    ]
    assert figures_by_source(engine, DAY + timedelta(days=100), DAY + timedelta(days=101)) == []


def modules(png: Path) -> list[list[bool]]:
    """The dark (True) and light modules of a QR PNG drawn at ``SCALE`` pixels a module inside ``BORDER``."""
    image = Image.open(png).convert("L")
    size = image.width // SCALE - 2 * BORDER

    def centre(i: int) -> int:
        return (BORDER + i) * SCALE + SCALE // 2

    return [[image.getpixel((centre(x), centre(y))) == 0 for x in range(size)] for y in range(size)]


def test_the_qr_command_writes_a_png_of_the_link(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "window1.png"
    assert main(["qr", "window1", "--out", str(out), "--username", "helpdesk_test_bot"]) == 0
    link = "https://t.me/helpdesk_test_bot?start=window1"
    assert capsys.readouterr().out.strip() == f"{out}: {link}"
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    expected = [[bool(cell) for cell in row] for row in segno.make(link, error="m", micro=False).matrix]
    assert modules(out) == expected  # no decoder installed: the PNG's modules are the QR code of the link
    assert modules(out) != [[bool(c) for c in row] for row in segno.make(link + "x", error="m").matrix]


def test_the_qr_command_refuses_a_bad_source_and_needs_a_username_without_token(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    monkeypatch.chdir(tmp_path)  # no .env here
    out = tmp_path / "x.png"
    get_settings.cache_clear()  # read again, without a token
    try:
        assert main(["qr", "poster!", "--out", str(out), "--username", "helpdesk_test_bot"]) == 2
        assert main(["qr", "window1", "--out", str(out)]) == 2
    finally:
        get_settings.cache_clear()
    said = capsys.readouterr().out
    assert "SOURCE is 1-32 characters" in said and "give --username" in said and not out.exists()


async def test_the_username_comes_from_get_me_and_the_token_is_never_shown(botapi: BotApiServer) -> None:
    assert await asyncio.to_thread(bot_username, TOKEN, botapi.base_url) == "helpdesk_test_bot"
    with pytest.raises(QrError) as info:
        await asyncio.to_thread(bot_username, "999:WRONG-TOKEN", botapi.base_url)
    assert "WRONG" not in str(info.value) and "999" not in str(info.value)


def test_stats_figures_carry_the_by_source_section() -> None:
    engine = make_engine("sqlite://")
    sources = EntrySources(engine)
    sources.record(1, "window1", DAY)
    sources.record(2, "window1", DAY + timedelta(days=2))
    with Session(engine) as session:
        session.add(User(id=3, created_at=DAY, updated_at=DAY))
        session.add(QuestionLog(user_id=2, text="q", lang="en", decision="answer", created_at=DAY + timedelta(days=2)))
        session.commit()
    figures = compute_figures(engine, Period.month(2027, 3), DAY + timedelta(days=31))
    assert [(r.source, r.new_users, r.questions, r.askers) for r in figures.sources] == [
        ("window1", 2, 1, 1),
        (None, 1, 0, 0),
    ]
    assert source_lines(figures.sources, "en") == [
        "Where users came from (deep links, python -m bot qr):",
        "window1 — new users: 2; questions: 1 (asked by 1)",
        "no deep link — new users: 1; questions: 0 (asked by 0)",
    ]
    assert source_lines((), "en") == [] and source_lines(figures.sources[1:], "en") == []  # no deep link: no section
    text = stats_text(figures, "en")
    assert text.endswith(
        "\n\nWhere users came from (deep links, python -m bot qr):\nwindow1 — new users: 2; questions: 1 (asked by 1)"
        "\nno deep link — new users: 1; questions: 0 (asked by 0)"
    )
    assert "来源" in stats_text(figures, "zh").split("\n\n")[-1]
