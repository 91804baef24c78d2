"""When the live desk is staffed: the profile's working hours on the Chinese working-day calendar.

``HELPDESK_HOURS=always`` declares a 24/7 desk.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.answering.knowledge import WorkingHours
from bot.desk.workdays import WorkCalendar


@dataclass(frozen=True)
class DeskHours:
    """Opening hours of the desk; ``always`` for a desk that never closes."""

    hours: WorkingHours
    always: bool = False
    calendar: WorkCalendar = field(default_factory=WorkCalendar)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.hours.timezone)

    def _staffed_day(self, day: date) -> bool:
        # A working day on the official calendar; the profile's weekdays can only narrow it
        # (an adjusted working Saturday or Sunday counts as staffed).
        return self.calendar.is_working_day(day) and (day.isoweekday() in self.hours.days or day.isoweekday() >= 6)

    def is_open(self, now: datetime) -> bool:
        """True while staff should be at the desk."""
        if self.always:
            return True
        local = now.astimezone(self.zone)
        if not self._staffed_day(local.date()):
            return False
        t = local.time()
        if not self.hours.open <= t < self.hours.close:
            return False
        lunch = self.hours.lunch
        return not (lunch is not None and lunch[0] <= t < lunch[1])

    def next_opening(self, now: datetime) -> datetime:
        """The next moment the desk opens (``now`` itself when open)."""
        if self.is_open(now):
            return now
        local = now.astimezone(self.zone)
        lunch = self.hours.lunch
        if self._staffed_day(local.date()):
            if local.time() < self.hours.open:
                return datetime.combine(local.date(), self.hours.open, tzinfo=self.zone)
            if lunch is not None and lunch[0] <= local.time() < lunch[1]:
                return datetime.combine(local.date(), lunch[1], tzinfo=self.zone)
        day = local.date()
        for _ in range(60):
            day += timedelta(days=1)
            if self._staffed_day(day):
                return datetime.combine(day, self.hours.open, tzinfo=self.zone)
        raise RuntimeError("no working day within 60 days")  # pragma: no cover - the calendar always has one


def desk_hours(setting: str, hours: WorkingHours, calendar: WorkCalendar | None = None) -> DeskHours:
    """The desk hours for HELPDESK_HOURS (``always`` or ``profile``) on the working-day *calendar*."""
    return DeskHours(hours, always=setting.strip().lower() == "always", calendar=calendar or WorkCalendar())
