"""Charts of a period as PNG images (matplotlib, Agg): questions per day by decision, tickets received by type
per week, and the ratings by level.

Labels are English and ASCII only, on purpose: they never need a CJK font, so the charts look the same on
every server (matplotlib's own DejaVu Sans is always there) and no font has to be installed. The Figure API
is used directly with the Agg canvas (no pyplot, no global backend switch), so rendering is safe in a worker
thread. The data are the same aggregate queries as the figures (``bot.desk.reports.figures``).
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence

from sqlalchemy.engine import Engine

from bot.desk.reports.figures import Period, daily_questions, rating_figures, weekly_tickets
from bot.store.statuses import TicketKind

DECISION_SERIES: Sequence[tuple[str, tuple[str, ...], str]] = (
    ("answered", ("answer",), "#4c9f70"),
    ("clarified", ("clarify",), "#e0a030"),
    ("no answer (fallback)", ("fallback",), "#c8553d"),
    ("opened by a button", ("browse", "related"), "#7d8fa9"),
)
KIND_SERIES: Mapping[str, tuple[str, str]] = {
    TicketKind.ENQUIRY: ("enquiry", "#4c72b0"),
    TicketKind.HELP: ("help request", "#55a868"),
    TicketKind.SUGGESTION: ("suggestion", "#8172b2"),
    TicketKind.COMPLAINT: ("complaint", "#c44e52"),
    TicketKind.REPORT: ("report", "#937860"),
}
LEVEL_NAMES: Mapping[int, str] = {
    1: "1 very satisfied",
    2: "2 satisfied",
    3: "3 fairly satisfied",
    4: "4 dissatisfied",
    5: "5 very dissatisfied",
}
LEVEL_COLOURS = ("#2e7d32", "#66bb6a", "#c0ca33", "#fb8c00", "#d32f2f")
SIZE = (9.0, 4.5)
DPI = 100


def _png(figure: object) -> bytes:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(figure)  # type: ignore[arg-type]
    out = io.BytesIO()
    canvas.print_png(out, metadata={"Software": None})
    return out.getvalue()


def _stacked(
    title: str,
    labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[int], str]],
    ylabel: str,
) -> bytes:
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    figure = Figure(figsize=SIZE, dpi=DPI, layout="constrained")
    axes = figure.add_subplot()
    bottom = [0] * len(labels)
    positions = list(range(len(labels)))
    for name, values, colour in series:
        axes.bar(positions, values, bottom=bottom, label=name, color=colour, width=0.8)
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    step = max(1, len(labels) // 16)  # at most ~16 tick labels, however long the period
    axes.set_xticks(positions[::step], [labels[i] for i in positions[::step]], rotation=45, ha="right")
    axes.set_title(title)
    axes.set_ylabel(ylabel)
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    axes.legend(loc="best", fontsize="small")
    axes.grid(axis="y", alpha=0.3)
    return _png(figure)


def questions_chart(engine: Engine, period: Period) -> bytes:
    with engine.connect() as conn:
        days = daily_questions(conn, period)
    labels = [day[5:] for day in days]  # MM-DD
    series = [
        (name, [sum(row.get(d, 0) for d in decisions) for row in days.values()], colour)
        for name, decisions, colour in DECISION_SERIES
    ]
    return _stacked(f"Questions per day by decision, {period.label} (Beijing time)", labels, series, "questions")


def tickets_chart(engine: Engine, period: Period) -> bytes:
    with engine.connect() as conn:
        weeks = weekly_tickets(conn, period)
    labels = [f"week of {monday:%m-%d}" for monday in weeks]
    series = [
        (name, [week.get(kind, 0) for week in weeks.values()], colour) for kind, (name, colour) in KIND_SERIES.items()
    ]
    return _stacked(f"Tickets received per week by type, {period.label}", labels, series, "tickets")


def ratings_chart(engine: Engine, period: Period) -> bytes:
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    with engine.connect() as conn:
        figures = rating_figures(conn, period)
    figure = Figure(figsize=SIZE, dpi=DPI, layout="constrained")
    axes = figure.add_subplot()
    levels = list(LEVEL_NAMES)
    counts = [figures.by_level.get(level, 0) for level in levels]
    bars = axes.bar([LEVEL_NAMES[level] for level in levels], counts, color=LEVEL_COLOURS)
    axes.bar_label(bars, labels=[str(c) for c in counts])
    total = figures.total
    satisfied = "-" if figures.satisfied_rate is None else f"{figures.satisfied_rate * 100:.1f} %"
    axes.set_title(f"Ratings by level, {period.label}: {total} ratings, satisfied (levels 1-3) {satisfied}")
    axes.set_ylabel("ratings")
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    axes.grid(axis="y", alpha=0.3)
    return _png(figure)


def render_charts(engine: Engine, period: Period) -> list[tuple[str, bytes]]:
    """The three charts of *period*: (file name, PNG bytes) each."""
    return [
        (f"questions-{period.token}.png", questions_chart(engine, period)),
        (f"tickets-{period.token}.png", tickets_chart(engine, period)),
        (f"ratings-{period.token}.png", ratings_chart(engine, period)),
    ]
