"""Schedule expressions: 5-field cron in UTC (via cronsim) and "@every 30m" intervals.

A schedule answers one question, `next_after(moment)`: the first start strictly after a
moment. Both kinds are pure functions of the moment, so the status page and the scheduler
agree on the next run without sharing any state.
"""

from __future__ import annotations

import datetime
import math
import re
from dataclasses import dataclass
from typing import Protocol

from cronsim import CronSim, CronSimError

from archive.errors import ArchiveError, SettingsError
from archive.settings import Settings

UTC = datetime.UTC
ALIASES = {"@hourly": "0 * * * *", "@daily": "0 0 * * *", "@midnight": "0 0 * * *",
           "@weekly": "0 0 * * 0", "@monthly": "0 0 1 * *", "@yearly": "0 0 1 1 *",
           "@annually": "0 0 1 1 *"}
UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_EVERY = re.compile(r"@every\s+((?:\d+[smhd])+)")
_PART = re.compile(r"(\d+)([smhd])")


class ScheduleError(ArchiveError):
    """A schedule expression that cannot be understood."""


class Schedule(Protocol):
    """When something runs."""

    @property
    def expr(self) -> str:
        """The expression as written in the settings."""
        ...

    def next_after(self, moment: datetime.datetime) -> datetime.datetime:
        """Return the first start strictly after `moment` (UTC, aware)."""
        ...


@dataclass(frozen=True)
class CronSchedule:
    """A 5-field cron expression (minute hour day-of-month month day-of-week), read in UTC."""

    expr: str
    fields: str

    def next_after(self, moment: datetime.datetime) -> datetime.datetime:
        """Return the first minute matching the expression strictly after `moment`."""
        return next(CronSim(self.fields, as_utc(moment)))


@dataclass(frozen=True)
class EverySchedule:
    """A fixed interval counted from the Unix epoch, so "@every 6h" starts at 00, 06, 12, 18 UTC."""

    expr: str
    seconds: int

    def next_after(self, moment: datetime.datetime) -> datetime.datetime:
        """Return the next multiple of the interval strictly after `moment`."""
        step = math.floor(as_utc(moment).timestamp() / self.seconds) + 1
        return datetime.datetime.fromtimestamp(step * self.seconds, UTC)


def as_utc(moment: datetime.datetime) -> datetime.datetime:
    """Return an aware UTC datetime; a naive one is taken as UTC already.

    >>> as_utc(datetime.datetime(2024, 5, 1, 12, 0)).isoformat()
    '2024-05-01T12:00:00+00:00'
    """
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def parse_schedule(expr: str) -> Schedule:
    """Parse a cron expression, a cron alias such as "@daily", or an "@every 1h30m" interval.

    >>> parse_schedule("@every 1h30m").seconds
    5400
    >>> parse_schedule("0 */6 * * *").next_after(datetime.datetime(2024, 1, 1, 7, 5)).isoformat()
    '2024-01-01T12:00:00+00:00'
    """
    text = " ".join(expr.split())
    if text.startswith("@every"):
        match = _EVERY.fullmatch(text)
        if not match:
            raise ScheduleError("an interval reads like '@every 30s', '@every 10m' or '@every 1h30m'")
        seconds = sum(int(n) * UNITS[unit] for n, unit in _PART.findall(match.group(1)))
        if seconds < 1:
            raise ScheduleError("an interval must be at least one second")
        return EverySchedule(expr, seconds)
    fields = ALIASES.get(text, text)
    if fields.startswith("@"):
        raise ScheduleError(f"unknown alias {text.split()[0]!r} (use @every, "
                            f"{', '.join(ALIASES)})")
    if len(fields.split()) != 5:
        raise ScheduleError("a cron expression has 5 fields: minute hour day-of-month month "
                            "day-of-week")
    try:
        CronSim(fields, datetime.datetime(2000, 1, 1, tzinfo=UTC))
    except CronSimError as exc:
        raise ScheduleError(str(exc).rstrip(".").lower()) from None
    return CronSchedule(expr, fields)


def site_schedules(settings: Settings) -> dict[str, Schedule]:
    """Return each configured site's schedule; a bad expression is a one-line settings error."""
    schedules: dict[str, Schedule] = {}
    for key, site in settings.sites.items():
        setting = f"sites.{key}.schedule" if site.schedule else "schedule.cron"
        expr = site.schedule or settings.schedule.cron
        try:
            schedules[key] = parse_schedule(expr)
        except ScheduleError as exc:
            origin = settings.sources.get(setting, "settings")
            raise SettingsError(f"{origin}: site {key}: {setting} = {expr!r} is not a valid "
                                f"schedule: {exc}") from None
    return schedules
