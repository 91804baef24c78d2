"""Statistics and reports as a use case: supervisors only (``bot.desk.staff``), time passed in."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.engine import Engine

from bot.answering.knowledge import KnowledgeBase
from bot.desk.reports.figures import Figures, Period, compute_figures
from bot.desk.reports.monthly import MonthlyReports
from bot.desk.staff import StaffRegistry
from bot.desk.workdays import WorkCalendar


class BadPeriod(ValueError):
    """The period asked for cannot be read (the front ends show the usage)."""


def read_period(words: str, now: datetime) -> Period:
    """``Period.parse``, its refusal as ``BadPeriod``."""
    try:
        return Period.parse(words, now)
    except ValueError as exc:
        raise BadPeriod(str(exc)) from exc


@dataclass(frozen=True)
class Chart:
    """A chart as a PNG image, with its file name."""

    name: str
    png: bytes


@dataclass(frozen=True)
class Reports:
    """The figures of /stats, their charts, and the workbook of ``python -m bot report``."""

    engine: Engine
    staff: StaffRegistry
    calendar: WorkCalendar
    kb: KnowledgeBase | None = None
    monthly: MonthlyReports | None = None
    """The monthly report's schedule (``bot.desk.reports.monthly``); None: no monthly report."""

    def stats(self, actor_id: int, words: str, now: datetime) -> Figures:
        """The figures of the period named by *words* (``Period.parse``), for a supervisor."""
        self.staff.require(actor_id, supervisor=True)
        return compute_figures(self.engine, read_period(words, now), now, self.calendar)

    def figures(self, period: Period, now: datetime) -> Figures:
        """The figures of *period* (for the command line and the monthly report: no actor)."""
        return compute_figures(self.engine, period, now, self.calendar)

    def charts(self, actor_id: int, token: str, now: datetime) -> list[Chart]:
        """The charts of the period *token* (``Period.token``, from a /stats button), for a supervisor."""
        from bot.desk.reports.charts import render_charts  # matplotlib is loaded when charts are asked for

        self.staff.require(actor_id, supervisor=True)
        return [Chart(name, png) for name, png in render_charts(self.engine, read_period(token, now))]

    def workbook(self, period: Period, now: datetime) -> bytes:
        """The report of *period* as an Excel workbook (``bot.desk.reports.workbook``)."""
        from bot.desk.reports.workbook import report_tables, to_xlsx

        return to_xlsx(report_tables(self.engine, period, now, self.calendar, self.kb))
