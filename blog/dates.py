"""Dates and times: UTC storage, the site's zone, English labels and Umm al-Qura Hijri dates.

This is the only module that imports hijridate; it imports nothing from Flask or the blog
package, so the app passes in the zone and the calendar settings.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import MAXYEAR, UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from hijridate import Gregorian, Hijri

MONTH_NAMES: tuple[str, ...] = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip
WEEKDAY_NAMES: tuple[str, ...] = (
    "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday",
)  # fmt: skip

INPUT_ERROR = "Enter a date and time as YYYY-MM-DDTHH:MM"
_INPUT_RE = re.compile(r"(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2}))?", re.ASCII)

# hijridate's supported range, as Gregorian days and as Hijri (year, month).
HIJRI_FIRST: date = date(1924, 8, 1)
HIJRI_LAST: date = date(2077, 11, 16)
HIJRI_FIRST_YEAR, HIJRI_LAST_YEAR = 1343, 1500
_FIRST_MONTH = (HIJRI_FIRST_YEAR, 1)
_LAST_MONTH = (HIJRI_LAST_YEAR, 12)
MAX_OFFSET_DAYS = 2
MAX_START_SHIFT_DAYS = 2

# The years the archives cover: a local day outside them has no UTC bounds to query by.
FIRST_YEAR, LAST_YEAR = 2, 9998
# The instants an article may be published at, [PUBLISH_FROM, PUBLISH_UNTIL): a zone's offset
# is always less than a day, so a day's margin keeps the local date inside the archives'
# years in every zone, and every conversion of it inside Python's calendar.
PUBLISH_FROM: datetime = datetime(FIRST_YEAR, 1, 2, tzinfo=UTC)
PUBLISH_UNTIL: datetime = datetime(LAST_YEAR, 12, 31, tzinfo=UTC)
PUBLISH_RANGE = (
    f"an article can be published from {PUBLISH_FROM.isoformat()} "
    f"up to (not including) {PUBLISH_UNTIL.isoformat()}"
)


# --- instants and zones ----------------------------------------------------------------------


def utcnow() -> datetime:
    """Return the current instant, aware UTC, whole seconds."""
    return datetime.now(UTC).replace(microsecond=0)


def as_utc(value: datetime) -> datetime:
    """Return an aware datetime converted to UTC; raise ValueError on a naive one."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"expected an aware datetime, got naive {value.isoformat()}")
    return value.astimezone(UTC)


@lru_cache(maxsize=64)
def site_zone(name: str) -> ZoneInfo:
    """Return the ZoneInfo for an IANA name; raise ValueError for an unknown name."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        # OSError covers names that hit a directory in the tz database, such as 'America'.
        message = f"unknown time zone {name!r}: use an IANA name such as 'Asia/Riyadh'"
        raise ValueError(message) from None


def to_local(instant: datetime, tz: ZoneInfo) -> datetime:
    """Convert an aware instant to the wall-clock time in tz, held inside Python's calendar."""
    utc = as_utc(instant)
    try:
        return utc.astimezone(tz)
    except OverflowError:
        # Only a row stored before publish times were checked lies this close to year 1 or
        # 9999. Shown, counted and edited at the calendar's first or last moment, it breaks
        # no page, count or sign-in, and its editor can find it and move it into the range.
        edge = datetime.max if utc.year == MAXYEAR else datetime.min
        return edge.replace(tzinfo=tz)


def local_date(instant: datetime, tz: ZoneInfo) -> date:
    """Return the local calendar day of an aware instant in tz."""
    return to_local(instant, tz).date()


def local_today(tz: ZoneInfo, now: datetime | None = None) -> date:
    """Return today's local day in tz (now defaults to the current instant)."""
    return local_date(utcnow() if now is None else now, tz)


def local_to_utc(naive_local: datetime, tz: ZoneInfo) -> datetime:
    """Interpret a naive wall-clock time in tz; gap times move forward, ambiguous take the first."""
    if naive_local.tzinfo is not None:
        raise ValueError("expected a naive wall-clock datetime")
    # fold=0 uses the offset in force before a transition (PEP 495): a time in a gap lands
    # after it, moved forward by the gap, and an ambiguous time resolves to its first occurrence.
    return naive_local.replace(tzinfo=tz, fold=0).astimezone(UTC)


def _day_start(day: date, tz: ZoneInfo) -> datetime:
    midnight = datetime.combine(day, time())
    start = local_to_utc(midnight, tz)
    if start.astimezone(tz).replace(tzinfo=None) == midnight:
        return start
    # Midnight falls in a gap, so the day begins at the transition itself, which lies between
    # the two readings of midnight; tz offsets are whole seconds, so bisect on seconds.
    low = midnight.replace(tzinfo=tz, fold=1).astimezone(UTC)
    high = start
    while (high - low) > timedelta(seconds=1):
        middle = (low + (high - low) // 2).replace(microsecond=0)
        if middle.astimezone(tz).date() >= day:
            high = middle
        else:
            low = middle
    return high


def day_bounds(day: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """Return the aware-UTC [start, end) of a local day in tz; start == end for a skipped day."""
    return _day_start(day, tz), _day_start(day + timedelta(days=1), tz)


def is_publishable(instant: datetime) -> bool:
    """Tell whether an article may be published at an aware instant (see PUBLISH_FROM)."""
    try:
        return PUBLISH_FROM <= as_utc(instant) < PUBLISH_UNTIL
    except OverflowError:
        return False


def publish_range_error(tz: ZoneInfo) -> str:
    """Say which publish times the article form accepts, as datetime-local values in tz."""
    first = to_local(PUBLISH_FROM, tz)
    if first.second or first.microsecond:
        # Old local mean times have offsets in seconds: the first whole minute inside.
        first = first.replace(second=0, microsecond=0) + timedelta(minutes=1)
    last = to_local(PUBLISH_UNTIL - timedelta(microseconds=1), tz)
    return (
        f"Choose a publish time from {format_local_input(first, tz)} "
        f"to {format_local_input(last, tz)}"
    )


def parse_publish_input(text: str, tz: ZoneInfo) -> datetime:
    """Parse an HTML datetime-local value as a publish time in tz and return aware UTC.

    Raise ValueError saying what to type when the text is malformed or an impossible date
    (30 February), and naming the range when the time is outside it.
    """
    wall = _wall_clock(text)
    try:
        instant = local_to_utc(wall, tz)
    except OverflowError:  # off the end of datetime once converted
        instant = None
    if instant is None or not is_publishable(instant):
        raise ValueError(publish_range_error(tz))
    return instant


def _wall_clock(text: str) -> datetime:
    """Read an HTML datetime-local value as a naive wall-clock time; raise ValueError."""
    match = _INPUT_RE.fullmatch(text.strip())
    if match is None:
        raise ValueError(INPUT_ERROR)
    try:
        return datetime(*(int(part) for part in match.groups("0")))
    except ValueError:
        raise ValueError(INPUT_ERROR) from None


def publish_input_note(text: str, tz: ZoneInfo) -> str | None:
    """Say how a publish time the zone's clocks skipped or showed twice was read, or None.

    For a valid input (parse_publish_input took it): a time in a gap is saved moved forward
    by the gap, and a repeated one as its first occurrence, which an author should be told.
    """
    wall = _wall_clock(text)
    first, second = wall.replace(tzinfo=tz, fold=0), wall.replace(tzinfo=tz, fold=1)
    if first.utcoffset() == second.utcoffset():
        return None
    typed = datetime_label(wall)
    saved = to_local(local_to_utc(wall, tz), tz)
    if saved.replace(tzinfo=None) != wall:
        return (
            f"{typed} never came in {tz.key}: the clocks went forward past it, so the "
            f"publish time is {datetime_label(saved)}."
        )
    offset = saved.strftime("%z")
    return (
        f"{typed} came twice in {tz.key}, as the clocks went back: the publish time is "
        f"the earlier one, at UTC{offset[:3]}:{offset[3:]}."
    )


def format_local_input(instant: datetime, tz: ZoneInfo) -> str:
    """Format an instant as a datetime-local value 'YYYY-MM-DDTHH:MM' in tz."""
    local = to_local(instant, tz)
    return f"{local.date().isoformat()}T{local.hour:02d}:{local.minute:02d}"


def iso_local(instant: datetime, tz: ZoneInfo) -> str:
    """Format an instant as ISO 8601 in tz with its offset, to the second."""
    return iso_attribute(to_local(instant, tz))


# Africa/Monrovia kept -00:44:30 until 1972, the last zone with seconds in its offset.
WHOLE_MINUTE_OFFSETS_SINCE = 1973


def iso_attribute(local: datetime) -> str:
    """Format a local time as HTML's datetime attribute takes it: ISO 8601 to the second.

    An offset must be whole minutes there. Zones' local mean times before standard time
    were not (Riyadh's was +03:06:52): such a time is given in UTC instead. None has been
    since 1972 (tests/test_dates.py checks), so later times, a listing's, skip the check.
    """
    if local.year < WHOLE_MINUTE_OFFSETS_SINCE:
        offset = local.utcoffset()
        if offset is not None and offset.seconds % 60:
            local = local.astimezone(UTC)
    return local.isoformat(timespec="seconds")


def iso_exact(instant: datetime, tz: ZoneInfo) -> str:
    """Format an instant as full ISO 8601 in tz, or in UTC where tz's wall clock runs out."""
    utc = as_utc(instant)
    try:
        return utc.astimezone(tz).isoformat()
    except OverflowError:
        return utc.isoformat()


# --- Gregorian labels ------------------------------------------------------------------------


def month_name(month: int) -> str:
    """Return the English name of a Gregorian month (1-12)."""
    if not 1 <= month <= 12:
        raise ValueError(f"month must be between 1 and 12, got {month}")
    return MONTH_NAMES[month - 1]


def gregorian_label(day: date) -> str:
    """Format a day as '23 June 2018'."""
    return f"{day.day} {MONTH_NAMES[day.month - 1]} {day.year}"


def weekday_name(day: date) -> str:
    """Return the English weekday name of a day."""
    return WEEKDAY_NAMES[day.weekday()]


def month_label(year: int, month: int) -> str:
    """Format a Gregorian month as 'June 2018'."""
    return f"{month_name(month)} {year}"


def strip_label(day: date) -> str:
    """Format a day as '22/06/2018'."""
    return f"{day.day:02d}/{day.month:02d}/{day.year}"


def time_label(local_dt: datetime) -> str:
    """Format a wall-clock time as '9:51' (24-hour)."""
    return f"{local_dt.hour}:{local_dt.minute:02d}"


def datetime_label(local_dt: datetime, day_label: str | None = None) -> str:
    """Format a wall-clock datetime as '26 March 2016 9:51' (given its day's label, if known)."""
    return f"{day_label or gregorian_label(local_dt.date())} {time_label(local_dt)}"


def format_count(n: int) -> str:
    """Format a count with thousands separators: '139,131'."""
    return f"{n:,}"


# --- Hijri -----------------------------------------------------------------------------------

_HIJRI_MONTH_NAMES: tuple[str, ...] = tuple(Hijri(1440, m, 1).month_name() for m in range(1, 13))


@dataclass(frozen=True, order=True)
class HijriDate:
    """A day of the Hijri calendar."""

    year: int
    month: int
    day: int

    @property
    def month_name(self) -> str:
        """Return the English month name, e.g. 'Shawwal'."""
        return _HIJRI_MONTH_NAMES[self.month - 1]

    @property
    def label(self) -> str:
        """Format the date as '9 Shawwal 1439'."""
        return f"{self.day} {self.month_name} {self.year}"


def _next_month(year: int, month: int) -> tuple[int, int]:
    return (year + 1, 1) if month == 12 else (year, month + 1)


def _prev_month(year: int, month: int) -> tuple[int, int]:
    return (year - 1, 12) if month == 1 else (year, month - 1)


def _in_range(year: int, month: int) -> bool:
    return 1 <= month <= 12 and _FIRST_MONTH <= (year, month) <= _LAST_MONTH


@lru_cache(maxsize=8192)
def _umm_al_qura(day: date) -> HijriDate | None:
    if not HIJRI_FIRST <= day <= HIJRI_LAST:
        return None
    hijri = Gregorian.fromdate(day).to_hijri()
    return HijriDate(hijri.year, hijri.month, hijri.day)


@lru_cache(maxsize=4096)
def _umm_al_qura_start(year: int, month: int) -> date | None:
    # The month after the last one has a start too (the day after the range), so the last
    # month still has an end and a length.
    if (year, month) == _next_month(*_LAST_MONTH):
        return HIJRI_LAST + timedelta(days=1)
    if not _in_range(year, month):
        return None
    return date.fromordinal(Hijri(year, month, 1).to_gregorian().toordinal())


def umm_al_qura_month_start(year: int, month: int) -> date | None:
    """Return the Umm al-Qura Gregorian first day of a Hijri month, or None out of range."""
    return _umm_al_qura_start(year, month) if _in_range(year, month) else None


def check_month_start(year: int, month: int, start: date) -> None:
    """Raise ValueError unless start is an acceptable first day for that Hijri month."""
    if not 1 <= month <= 12:
        raise ValueError(f"Hijri month must be between 1 and 12, got {month}")
    natural = umm_al_qura_month_start(year, month)
    if natural is None:
        raise ValueError(
            f"{_HIJRI_MONTH_NAMES[month - 1]} {year} is outside the supported Hijri range "
            f"(Muharram {_FIRST_MONTH[0]} to Dhu al-Hijjah {_LAST_MONTH[0]})"
        )
    shift = (start - natural).days
    if abs(shift) > MAX_START_SHIFT_DAYS:
        raise ValueError(
            f"{_HIJRI_MONTH_NAMES[month - 1]} {year} starts on {natural.isoformat()} in Umm "
            f"al-Qura; {start.isoformat()} is {abs(shift)} days away, and a month may start "
            f"at most {MAX_START_SHIFT_DAYS} days earlier or later"
        )


class HijriCalendar:
    """Umm al-Qura shifted by a global offset, with per-month start overrides."""

    def __init__(
        self, offset_days: int = 0, month_starts: Mapping[tuple[int, int], date] | None = None
    ) -> None:
        whole = isinstance(offset_days, int) and not isinstance(offset_days, bool)
        if not whole or not -MAX_OFFSET_DAYS <= offset_days <= MAX_OFFSET_DAYS:
            raise ValueError(
                f"Hijri offset must be a whole number of days from -{MAX_OFFSET_DAYS} to "
                f"{MAX_OFFSET_DAYS}, got {offset_days!r}"
            )
        starts = dict(month_starts or {})
        for (year, month), start in starts.items():
            # An override far from Umm al-Qura would break the one-month-either-way lookup.
            check_month_start(year, month, start)
        self._offset = offset_days
        self._starts = starts

    def __repr__(self) -> str:
        return f"HijriCalendar({self._offset}, {self._starts!r})"

    @property
    def offset_days(self) -> int:
        """Return the global offset in days."""
        return self._offset

    @property
    def month_starts(self) -> dict[tuple[int, int], date]:
        """Return a copy of the month start overrides."""
        return dict(self._starts)

    def _start(self, year: int, month: int) -> date | None:
        override = self._starts.get((year, month))
        if override is not None:
            return override
        natural = _umm_al_qura_start(year, month)
        return None if natural is None else natural - timedelta(days=self._offset)

    def to_hijri(self, day: date) -> HijriDate | None:
        """Return the Hijri date of a Gregorian day, or None outside the supported range."""
        try:
            shifted = day + timedelta(days=self._offset)
        except OverflowError:
            return None
        natural = _umm_al_qura(shifted)
        if natural is None:
            if shifted > HIJRI_LAST:
                return None
            # Just before the range an early override of the first month can still apply.
            year, month = _FIRST_MONTH
        else:
            year, month = natural.year, natural.month
            # Fast path: only this month's and the next month's starts can move the day.
            if (year, month) not in self._starts and _next_month(year, month) not in self._starts:
                return natural
        start = self._start(year, month)
        if start is None:
            return None
        if day < start:
            year, month = _prev_month(year, month)
            start = self._start(year, month)
        else:
            following = self._start(*_next_month(year, month))
            if following is not None and following <= day:
                year, month = _next_month(year, month)
                start = following
        if start is None or not _in_range(year, month):
            return None
        return HijriDate(year, month, (day - start).days + 1)

    def month_start(self, year: int, month: int) -> date | None:
        """Return the Gregorian first day of a Hijri month in this calendar, or None."""
        return self._start(year, month) if _in_range(year, month) else None

    def month_length(self, year: int, month: int) -> int | None:
        """Return the number of days of a Hijri month in this calendar, or None."""
        start, end = self.month_start(year, month), self._start(*_next_month(year, month))
        return None if start is None or end is None else (end - start).days


def days_moved(
    year: int, month: int, start: date, calendar: HijriCalendar
) -> list[tuple[date, HijriDate | None, HijriDate | None]]:
    """List (day, before, after) for each day whose Hijri date changes with that start."""
    check_month_start(year, month, start)
    others = {key: value for key, value in calendar.month_starts.items() if key != (year, month)}
    before = HijriCalendar(calendar.offset_days, others)
    after = HijriCalendar(calendar.offset_days, {**others, (year, month): start})
    old_start = before.month_start(year, month) or start
    # Only the changed month and the one before it move, and a month is at most ~34 days.
    first = min(start, old_start) - timedelta(days=40)
    moved: list[tuple[date, HijriDate | None, HijriDate | None]] = []
    for n in range(abs((start - old_start).days) + 81):
        day = first + timedelta(days=n)
        old, new = before.to_hijri(day), after.to_hijri(day)
        if old != new:
            moved.append((day, old, new))
    return moved


def hijri_label(day: date, calendar: HijriCalendar) -> str:
    """Format the Hijri date of a day as '17 Jumada al-Akhirah 1437', or '' out of range."""
    hijri = calendar.to_hijri(day)
    return "" if hijri is None else hijri.label


def masthead_line(day: date, calendar: HijriCalendar) -> str:
    """Format the masthead line '23 June 2018 - Saturday - 9 Shawwal 1439'."""
    parts = [gregorian_label(day), weekday_name(day)]
    hijri = calendar.to_hijri(day)
    if hijri is not None:
        parts.append(hijri.label)
    return " - ".join(parts)


def month_length_warnings(year: int, month: int, calendar: HijriCalendar) -> list[str]:
    """Say which of a month and the month before it is not 29 or 30 days long in calendar.

    Those are the two lengths a month's start sets. Another length usually means a
    neighbouring month needs an override too; callers warn but accept it, because overrides
    are often entered one month at a time.
    """
    warnings = []
    for y, m in (_prev_month(year, month), (year, month)):
        length = calendar.month_length(y, m)
        if length is not None and length not in (29, 30):
            name = f"{_HIJRI_MONTH_NAMES[m - 1]} {y}"
            next_year, next_month = _next_month(y, m)
            warnings.append(
                f"{name} now has {length} days, not 29 or 30: check the starts of {name} "
                f"and {_HIJRI_MONTH_NAMES[next_month - 1]} {next_year}"
            )
    return warnings
