"""Office files (knowledge/calendar/YYYY.toml): every rule names the file, the entry and the field; the CLI
checks them (``kb validate``, which also warns while next year's schedule is missing) and shows them (``calendar``)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bot.desk.calendar_files import load_calendar_files
from bot.errors import KnowledgeBaseError
from tests.calendars import FIXTURES

ROOT = Path(__file__).resolve().parent.parent
GOOD = (FIXTURES / "2027.toml").read_text(encoding="utf-8")


def problems(directory: Path) -> list[str]:
    with pytest.raises(KnowledgeBaseError) as info:
        load_calendar_files(directory)
    return [str(p) for p in info.value.problems]


def write(directory: Path, text: str, name: str = "2027.toml") -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / name).write_text(text, encoding="utf-8")
    return directory


def test_the_fixture_loads(tmp_path: Path) -> None:
    schedule = load_calendar_files(write(tmp_path, GOOD))[2027]
    assert len(schedule.days_off) == 3 + 9 + 3 + 5 + 3 + 3 + 7
    assert sorted(schedule.workdays)[0].isoformat() == "2027-02-20"


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (("year = 2027", "year = 2028"), "calendar/2027.toml year: must be 2027, the year in the file name"),
        (('notice = "test fixture (not a real notice)"', 'notice = ""'), "calendar/2027.toml notice: name the"),
        (("workdays = [2027-02-20,", "workday = [2027-02-20,"), "calendar/2027.toml workday: unknown key"),
        (("workdays = [2027-02-20,", "workdays = [2027-02-22,"), "2027-02-22 is a Monday: an adjusted working day"),
        (("workdays = [2027-02-20,", "workdays = [2027-02-06,"), "2027-02-06 is also listed as a day off"),
        (("workdays = [2027-02-20,", "workdays = [2025-02-22,"), "2025-02-22 is not in 2027"),
        (("from = 2027-10-01", "from = 2027-10-09"), "[holidays #7] from/to: 'to' must be on or after 'from'"),
        (("from = 2027-10-01", "from = 2027-01-01"), "[holidays #7] from/to: 'to' must be on or after 'from', at most"),
        (("from = 2027-01-01\nto = 2027-01-03", "from = 2028-01-01\nto = 2028-01-03"), "dates must be in 2027"),
        (('name = "元旦"\n', ""), "[holidays #1] name: missing"),
        (("from = 2027-06-09", "from = 2027-06-10"), "2027-06-09 is a statutory holiday but no run of days off"),
        (("to = 2027-02-13", "to = 2027-02-13\nfirst = 2027-02-05"), "[holidays #2] first: unknown key"),
        (("to = 2027-02-13", 'to = "13 Feb"'), "[holidays #2] from/to: both must be dates"),
    ],
)
def test_each_rule_names_the_place(tmp_path: Path, change: tuple[str, str], expected: str) -> None:
    old, new = change
    assert old in GOOD
    found = problems(write(tmp_path, GOOD.replace(old, new, 1)))
    assert any(expected in problem for problem in found), found


def test_a_file_must_be_named_after_its_year_and_be_toml(tmp_path: Path) -> None:
    write(tmp_path, GOOD, name="holidays-2027.toml")
    write(tmp_path, "year = [", name="2028.toml")
    found = problems(tmp_path)
    assert "calendar/holidays-2027.toml: name it after its year, e.g. 2027.toml" in found
    assert any(p.startswith("calendar/2028.toml: not valid TOML") for p in found)


def test_a_file_without_holidays(tmp_path: Path) -> None:
    found = problems(write(tmp_path, 'year = 2027\nnotice = "x"\n'))
    assert any("calendar/2027.toml holidays: list every run of days off" in p for p in found)


def _cli(*args: str, kb_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HELPDESK_KB_DIR": str(kb_dir)}
    return subprocess.run(
        [sys.executable, "-m", "bot", *args], capture_output=True, text=True, env=env, cwd=ROOT, check=False
    )


@pytest.fixture
def kb_copy(tmp_path: Path) -> Path:
    """The shipped knowledge base, copied so that a test can add calendar files."""
    return Path(shutil.copytree(ROOT / "knowledge", tmp_path / "knowledge"))


def test_kb_validate_checks_the_calendar_files(kb_copy: Path) -> None:
    write(kb_copy / "calendar", GOOD.replace("workdays = [2027-02-20,", "workdays = [2027-02-22,"))
    result = _cli("kb", "validate", kb_dir=kb_copy)
    assert result.returncode == 1
    assert "calendar/2027.toml workdays: 2027-02-22 is a Monday" in result.stderr


def test_kb_validate_and_calendar_show_an_office_file(kb_copy: Path) -> None:
    write(kb_copy / "calendar", GOOD)
    result = _cli("kb", "validate", kb_dir=kb_copy)
    assert result.returncode == 0, result.stderr
    assert "1 holiday schedule file(s)" in result.stdout
    assert "warning: the official holiday schedule for 2027" not in result.stdout
    shown = _cli("calendar", "2027", kb_dir=kb_copy)
    assert shown.returncode == 0, shown.stderr
    lines = shown.stdout.splitlines()
    assert lines[0] == f"2027: office file {kb_copy}/calendar/2027.toml (test fixture (not a real notice))"
    assert lines[2] == "  adjusted workdays: 02-20 Sat, 10-09 Sat"


def test_calendar_names_a_provisional_year_and_the_file_to_fill_in(kb_copy: Path) -> None:
    shown = _cli("calendar", "2099", kb_dir=kb_copy)
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.startswith("2099: PROVISIONAL: statutory holidays only, no adjusted working days; ")
    assert f"{kb_copy}/calendar/2099.toml" in shown.stdout
    assert "  adjusted workdays: none" in shown.stdout


def test_kb_validate_warns_while_a_schedule_is_missing(kb_copy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from bot.__main__ import _kb_validate
    from bot.config import Settings

    settings = Settings(_env_file=None, helpdesk_kb_dir=kb_copy)  # type: ignore[call-arg]
    assert _kb_validate(settings, datetime(2098, 10, 31, 12, 0, tzinfo=ZoneInfo("Asia/Shanghai"))) == 0
    october = capsys.readouterr().out
    assert "warning: the official holiday schedule for 2098 is not known yet" in october  # the year has begun
    assert "2099" not in october
    assert _kb_validate(settings, datetime(2098, 11, 1, 12, 0, tzinfo=ZoneInfo("Asia/Shanghai"))) == 0
    november = capsys.readouterr().out
    assert (
        "warning: the official holiday schedule for 2099 is not known yet, so deadlines that reach into 2099 are "
        f"provisional. Enter the State Council's notice in {kb_copy}/calendar/2099.toml." in november
    )


def test_the_documented_example_is_the_packages_2026_schedule(tmp_path: Path) -> None:
    """knowledge/calendar/README.md's example, entered as an office file, gives the same working days."""
    from datetime import date, timedelta

    from bot.desk.workdays import ScheduleSource, WorkCalendar

    readme = (ROOT / "knowledge" / "calendar" / "README.md").read_text(encoding="utf-8")
    example = readme.split("```toml\n", 1)[1].split("```", 1)[0]
    office = WorkCalendar(load_calendar_files(write(tmp_path, example, name="2026.toml")))
    package = WorkCalendar()
    assert office.schedule(2026).source is ScheduleSource.OFFICE
    assert package.schedule(2026).source is ScheduleSource.PACKAGE
    day = date(2026, 1, 1)
    while day.year == 2026:
        assert office.is_working_day(day) == package.is_working_day(day), day
        day += timedelta(days=1)
