"""Unit tests for blog.dates: pure functions, no Flask app."""

from __future__ import annotations

import bisect
import random
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo, available_timezones

import pytest

from blog import dates
from blog.dates import HijriCalendar, HijriDate

PLAIN = HijriCalendar()
# Turkey's Diyanet started Shawwal 1437 on 5 July 2016; Umm al-Qura starts it on 6 July.
DIYANET = HijriCalendar(0, {(1437, 10): date(2016, 7, 5)})

RAMADAN_1437 = (1437, 9)
SHAWWAL_1437 = (1437, 10)


def utc(*args: int) -> datetime:
    """Build an aware UTC datetime."""
    return datetime(*args, tzinfo=UTC)


def h(year: int, month: int, day: int) -> HijriDate:
    """Build a HijriDate."""
    return HijriDate(year, month, day)


# --- Gregorian labels ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "label", "weekday", "strip"),
    [
        (date(2018, 6, 23), "23 June 2018", "Saturday", "23/06/2018"),
        (date(2018, 6, 22), "22 June 2018", "Friday", "22/06/2018"),
        (date(2016, 3, 26), "26 March 2016", "Saturday", "26/03/2016"),
        (date(2024, 1, 1), "1 January 2024", "Monday", "01/01/2024"),
        (date(2023, 12, 31), "31 December 2023", "Sunday", "31/12/2023"),
    ],
)
def test_day_labels(day: date, label: str, weekday: str, strip: str) -> None:
    assert dates.gregorian_label(day) == label
    assert dates.weekday_name(day) == weekday
    assert dates.strip_label(day) == strip


@pytest.mark.parametrize(
    ("year", "month", "label"), [(2018, 6, "June 2018"), (2016, 1, "January 2016")]
)
def test_month_label(year: int, month: int, label: str) -> None:
    assert dates.month_label(year, month) == label


@pytest.mark.parametrize(("month", "name"), [(1, "January"), (9, "September"), (12, "December")])
def test_month_name(month: int, name: str) -> None:
    assert dates.month_name(month) == name


@pytest.mark.parametrize("month", [0, 13, -1])
def test_month_name_rejects_bad_month(month: int) -> None:
    with pytest.raises(ValueError, match="between 1 and 12"):
        dates.month_name(month)


@pytest.mark.parametrize(
    ("local_dt", "time_text", "full"),
    [
        (datetime(2016, 3, 26, 9, 51), "9:51", "26 March 2016 9:51"),
        (datetime(2016, 3, 26, 0, 5), "0:05", "26 March 2016 0:05"),
        (datetime(2018, 6, 23, 23, 59, 59), "23:59", "23 June 2018 23:59"),
    ],
)
def test_time_labels(local_dt: datetime, time_text: str, full: str) -> None:
    assert dates.time_label(local_dt) == time_text
    assert dates.datetime_label(local_dt) == full


@pytest.mark.parametrize(
    ("n", "text"),
    [(0, "0"), (999, "999"), (1000, "1,000"), (139131, "139,131"), (1234567, "1,234,567")],
)
def test_format_count(n: int, text: str) -> None:
    assert dates.format_count(n) == text


# --- Hijri labels and range ------------------------------------------------------------------


def test_masthead_line() -> None:
    assert (
        dates.masthead_line(date(2018, 6, 23), PLAIN) == "23 June 2018 - Saturday - 9 Shawwal 1439"
    )


@pytest.mark.parametrize(
    ("day", "label"),
    [
        (date(2016, 3, 26), "17 Jumada al-Akhirah 1437"),
        (date(2018, 6, 23), "9 Shawwal 1439"),
        (date(2018, 9, 11), "1 Muharram 1440"),
        (date(2018, 9, 10), "30 Dhu al-Hijjah 1439"),
        (date(2016, 7, 4), "29 Ramadan 1437"),
    ],
)
def test_hijri_label(day: date, label: str) -> None:
    assert dates.hijri_label(day, PLAIN) == label


def test_hijri_date_value() -> None:
    assert h(1437, 6, 17).month_name == "Jumada al-Akhirah"
    assert h(1440, 3, 1).month_name == "Rabi' al-Awwal"
    assert h(1439, 12, 30) < h(1440, 1, 1) < h(1440, 1, 2)
    with pytest.raises(AttributeError):
        h(1440, 1, 1).day = 2  # type: ignore[misc]


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (dates.HIJRI_FIRST, h(1343, 1, 1)),
        (date(1924, 8, 1), h(1343, 1, 1)),
        (date(2077, 11, 16), h(1500, 12, 30)),
        (date(1924, 7, 31), None),
        (date(2077, 11, 17), None),
        (date(1900, 1, 1), None),
        (date.min, None),
        (date.max, None),
    ],
)
def test_range_ends(day: date, expected: HijriDate | None) -> None:
    assert PLAIN.to_hijri(day) == expected


def test_outside_range_labels() -> None:
    assert dates.HIJRI_LAST == date(2077, 11, 16)
    assert dates.masthead_line(date(2077, 11, 17), PLAIN) == "17 November 2077 - Wednesday"
    assert dates.masthead_line(date(1924, 7, 31), PLAIN) == "31 July 1924 - Thursday"
    assert dates.hijri_label(date(1924, 7, 31), PLAIN) == ""
    assert dates.hijri_label(date(2077, 11, 16), PLAIN) == "30 Dhu al-Hijjah 1500"


# --- offsets ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("offset", "day", "expected"),
    [
        # Across the Hijri year end: Umm al-Qura starts Muharram 1440 on 2018-09-11.
        (0, date(2018, 9, 10), h(1439, 12, 30)),
        (0, date(2018, 9, 11), h(1440, 1, 1)),
        (1, date(2018, 9, 9), h(1439, 12, 30)),
        (1, date(2018, 9, 10), h(1440, 1, 1)),
        (2, date(2018, 9, 8), h(1439, 12, 30)),
        (2, date(2018, 9, 9), h(1440, 1, 1)),
        (-1, date(2018, 9, 11), h(1439, 12, 30)),
        (-1, date(2018, 9, 12), h(1440, 1, 1)),
        (-2, date(2018, 9, 12), h(1439, 12, 30)),
        (-2, date(2018, 9, 13), h(1440, 1, 1)),
        # Across a month end: Shawwal 1437 has 29 days, Dhu al-Qa'dah starts 2016-08-04.
        (1, date(2016, 8, 2), h(1437, 10, 29)),
        (1, date(2016, 8, 3), h(1437, 11, 1)),
        (-2, date(2016, 8, 5), h(1437, 10, 29)),
        (-2, date(2016, 8, 6), h(1437, 11, 1)),
        (2, date(2018, 6, 23), h(1439, 10, 11)),
        (-2, date(2018, 6, 23), h(1439, 10, 7)),
        # Offsets that push a day out of (or into) the range.
        (1, date(2077, 11, 16), None),
        (2, date(2077, 11, 15), None),
        (-1, date(1924, 8, 1), None),
        (-2, date(1924, 8, 2), None),
        (-1, date(2077, 11, 17), h(1500, 12, 30)),
        (1, date(1924, 7, 31), h(1343, 1, 1)),
        (2, date.max, None),
        (-2, date.min, None),
    ],
)
def test_offsets(offset: int, day: date, expected: HijriDate | None) -> None:
    assert HijriCalendar(offset).to_hijri(day) == expected


@pytest.mark.parametrize("offset", [-2, -1, 0, 1, 2])
def test_offset_moves_month_starts_not_lengths(offset: int) -> None:
    calendar = HijriCalendar(offset)
    assert calendar.offset_days == offset
    assert calendar.month_start(1440, 1) == date(2018, 9, 11) - timedelta(days=offset)
    assert calendar.month_length(1439, 12) == 30
    assert calendar.month_length(1440, 1) == 29


@pytest.mark.parametrize("offset", [3, -3, 10, True, 1.5])
def test_offset_out_of_bounds(offset: int) -> None:
    with pytest.raises(ValueError, match="offset"):
        HijriCalendar(offset)


# --- month start overrides -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2016, 6, 5), h(1437, 8, 29)),
        (date(2016, 6, 6), h(1437, 9, 1)),
        (date(2016, 7, 4), h(1437, 9, 29)),
        (date(2016, 7, 5), h(1437, 10, 1)),
        (date(2016, 7, 6), h(1437, 10, 2)),
        (date(2016, 8, 3), h(1437, 10, 30)),
        (date(2016, 8, 4), h(1437, 11, 1)),
    ],
)
def test_diyanet_shawwal(day: date, expected: HijriDate) -> None:
    assert DIYANET.to_hijri(day) == expected


def test_diyanet_month_lengths() -> None:
    assert PLAIN.month_length(*RAMADAN_1437) == 30
    assert PLAIN.month_length(*SHAWWAL_1437) == 29
    assert DIYANET.month_length(*RAMADAN_1437) == 29
    assert DIYANET.month_length(*SHAWWAL_1437) == 30
    assert DIYANET.month_start(*SHAWWAL_1437) == date(2016, 7, 5)
    assert DIYANET.month_length(1437, 8) == PLAIN.month_length(1437, 8) == 29
    assert DIYANET.month_length(1437, 11) == PLAIN.month_length(1437, 11) == 29


def test_diyanet_changes_only_its_month() -> None:
    day, changed = date(2016, 1, 1), []
    while day.year == 2016:
        if DIYANET.to_hijri(day) != PLAIN.to_hijri(day):
            changed.append(day)
        day += timedelta(days=1)
    # Days from the new 1 Shawwal to the end of Shawwal are renumbered; nothing else moves.
    assert changed == [date(2016, 7, 5) + timedelta(days=n) for n in range(30)]


def test_later_start_makes_previous_month_31_days() -> None:
    calendar = HijriCalendar(0, {SHAWWAL_1437: date(2016, 7, 7)})
    assert calendar.to_hijri(date(2016, 7, 6)) == h(1437, 9, 31)
    assert calendar.to_hijri(date(2016, 7, 7)) == h(1437, 10, 1)
    assert calendar.to_hijri(date(2016, 8, 3)) == h(1437, 10, 28)
    assert calendar.to_hijri(date(2016, 8, 4)) == h(1437, 11, 1)
    assert calendar.month_length(*RAMADAN_1437) == 31
    assert calendar.month_length(*SHAWWAL_1437) == 28


def test_later_start_makes_previous_month_30_days() -> None:
    calendar = HijriCalendar(0, {(1437, 11): date(2016, 8, 5)})
    assert calendar.to_hijri(date(2016, 8, 4)) == h(1437, 10, 30)
    assert calendar.to_hijri(date(2016, 8, 5)) == h(1437, 11, 1)
    assert calendar.month_length(*SHAWWAL_1437) == 30
    assert calendar.month_length(1437, 11) == 28


def test_override_across_year_end() -> None:
    calendar = HijriCalendar(0, {(1440, 1): date(2018, 9, 10)})
    assert calendar.to_hijri(date(2018, 9, 9)) == h(1439, 12, 29)
    assert calendar.to_hijri(date(2018, 9, 10)) == h(1440, 1, 1)
    assert calendar.to_hijri(date(2018, 9, 11)) == h(1440, 1, 2)
    assert calendar.month_length(1439, 12) == 29
    assert calendar.month_length(1440, 1) == 30


def test_override_with_offset() -> None:
    # With offset +1 Shawwal would start on 5 July; the override puts it back on 6 July.
    calendar = HijriCalendar(1, {SHAWWAL_1437: date(2016, 7, 6)})
    assert calendar.to_hijri(date(2016, 3, 25)) == h(1437, 6, 17)
    assert calendar.to_hijri(date(2016, 6, 5)) == h(1437, 9, 1)
    assert calendar.to_hijri(date(2016, 7, 5)) == h(1437, 9, 31)
    assert calendar.to_hijri(date(2016, 7, 6)) == h(1437, 10, 1)
    assert calendar.to_hijri(date(2016, 8, 2)) == h(1437, 10, 28)
    assert calendar.to_hijri(date(2016, 8, 3)) == h(1437, 11, 1)
    assert calendar.month_length(*RAMADAN_1437) == 31
    assert calendar.month_length(*SHAWWAL_1437) == 28


def test_overrides_at_range_ends() -> None:
    calendar = HijriCalendar(0, {(1343, 1): date(1924, 7, 30), (1500, 12): date(2077, 10, 17)})
    assert calendar.to_hijri(date(1924, 7, 29)) is None
    assert calendar.to_hijri(date(1924, 7, 30)) == h(1343, 1, 1)
    assert calendar.to_hijri(date(1924, 8, 1)) == h(1343, 1, 3)
    assert calendar.to_hijri(date(2077, 10, 16)) == h(1500, 11, 29)
    assert calendar.to_hijri(date(2077, 10, 17)) == h(1500, 12, 1)
    assert calendar.to_hijri(date(2077, 11, 16)) == h(1500, 12, 31)
    assert calendar.to_hijri(date(2077, 11, 17)) is None
    assert calendar.month_length(1500, 12) == 31
    assert calendar.month_length(1343, 1) == 32


@pytest.mark.parametrize("seed", range(8))
def test_overrides_match_a_reference_calendar(seed: int) -> None:
    # Reference: list every month start of the calendar and look the day up by bisection.
    rng = random.Random(seed)
    offset = rng.randint(-2, 2)
    months = [(year, month) for year in range(1435, 1442) for month in range(1, 13)]
    natural = {ym: dates.umm_al_qura_month_start(*ym) for ym in months}
    chosen = rng.sample(months, 30)
    overrides = {ym: natural[ym] + timedelta(days=rng.randint(-2, 2)) for ym in chosen}
    calendar = HijriCalendar(offset, overrides)
    starts = [overrides.get(ym, natural[ym] - timedelta(days=offset)) for ym in months]
    day = starts[1]
    while day < starts[-1]:
        i = bisect.bisect_right(starts, day) - 1
        assert calendar.to_hijri(day) == h(*months[i], (day - starts[i]).days + 1), day
        day += timedelta(days=1)
    for i, ym in enumerate(months[:-1]):
        assert calendar.month_length(*ym) == (starts[i + 1] - starts[i]).days


@pytest.mark.parametrize(
    "starts",
    [
        {SHAWWAL_1437: date(2016, 7, 9)},
        {SHAWWAL_1437: date(2016, 7, 3)},
        {(1437, 13): date(2016, 7, 6)},
        {(1501, 1): date(2077, 11, 17)},
    ],
)
def test_bad_overrides_rejected(starts: dict[tuple[int, int], date]) -> None:
    with pytest.raises(ValueError):
        HijriCalendar(0, starts)


@pytest.mark.parametrize(
    ("year", "month", "start"),
    [
        (1437, 10, date(2016, 7, 6)),
        (1440, 1, date(2018, 9, 11)),
        (1343, 1, date(1924, 8, 1)),
        (1500, 12, date(2077, 10, 18)),
    ],
)
def test_umm_al_qura_month_start(year: int, month: int, start: date) -> None:
    assert dates.umm_al_qura_month_start(year, month) == start
    assert PLAIN.month_start(year, month) == start


@pytest.mark.parametrize(("year", "month"), [(1342, 12), (1501, 1), (1437, 13), (1437, 0)])
def test_month_start_out_of_range(year: int, month: int) -> None:
    assert dates.umm_al_qura_month_start(year, month) is None
    assert PLAIN.month_start(year, month) is None
    assert PLAIN.month_length(year, month) is None


def test_month_length_at_range_ends() -> None:
    assert PLAIN.month_length(1343, 1) == 30
    assert PLAIN.month_length(1500, 12) == 30


@pytest.mark.parametrize("shift", [-2, -1, 0, 1, 2])
def test_check_month_start_accepts(shift: int) -> None:
    dates.check_month_start(1437, 10, date(2016, 7, 6) + timedelta(days=shift))


@pytest.mark.parametrize(
    ("year", "month", "start", "message"),
    [
        (1437, 10, date(2016, 7, 9), "3 days away"),
        (1437, 10, date(2016, 7, 3), "3 days away"),
        (1437, 13, date(2016, 7, 6), "between 1 and 12"),
        (1437, 0, date(2016, 7, 6), "between 1 and 12"),
        (1342, 12, date(1924, 7, 2), "outside the supported"),
        (1501, 1, date(2077, 11, 17), "outside the supported"),
    ],
)
def test_check_month_start_rejects(year: int, month: int, start: date, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        dates.check_month_start(year, month, start)


def test_days_moved_diyanet() -> None:
    moved = dates.days_moved(1437, 10, date(2016, 7, 5), PLAIN)
    assert moved[0] == (date(2016, 7, 5), h(1437, 9, 30), h(1437, 10, 1))
    assert moved[1] == (date(2016, 7, 6), h(1437, 10, 1), h(1437, 10, 2))
    assert moved[-1] == (date(2016, 8, 3), h(1437, 10, 29), h(1437, 10, 30))
    assert [day for day, _, _ in moved] == [date(2016, 7, 5) + timedelta(days=n) for n in range(30)]


def test_days_moved_ignores_the_months_own_override() -> None:
    # The comparison is against the calendar without any override for that month.
    assert dates.days_moved(1437, 10, date(2016, 7, 5), DIYANET) == dates.days_moved(
        1437, 10, date(2016, 7, 5), PLAIN
    )
    assert dates.days_moved(1437, 10, date(2016, 7, 6), DIYANET) == []


def test_days_moved_keeps_other_overrides_and_offset() -> None:
    calendar = HijriCalendar(1, {(1437, 11): date(2016, 8, 4)})
    moved = dates.days_moved(1437, 10, date(2016, 7, 6), calendar)
    assert moved == [(date(2016, 7, 5), h(1437, 10, 1), h(1437, 9, 31))] + [
        (date(2016, 7, 6) + timedelta(days=n), h(1437, 10, n + 2), h(1437, 10, n + 1))
        for n in range(29)
    ]


def test_days_moved_without_change_and_invalid() -> None:
    assert dates.days_moved(1437, 10, date(2016, 7, 6), PLAIN) == []
    with pytest.raises(ValueError):
        dates.days_moved(1437, 10, date(2016, 7, 10), PLAIN)


# --- instants and zones ----------------------------------------------------------------------


def test_utcnow() -> None:
    now = dates.utcnow()
    assert now.tzinfo is UTC
    assert now.microsecond == 0
    assert abs(datetime.now(UTC) - now) < timedelta(seconds=5)
    assert dates.UTC is UTC


def test_as_utc() -> None:
    riyadh = datetime(2016, 3, 26, 9, 51, tzinfo=ZoneInfo("Asia/Riyadh"))
    assert dates.as_utc(riyadh) == utc(2016, 3, 26, 6, 51)
    assert dates.as_utc(riyadh).tzinfo is UTC
    with pytest.raises(ValueError, match="naive"):
        dates.as_utc(datetime(2016, 3, 26, 9, 51))
    with pytest.raises(ValueError):
        dates.to_local(datetime(2016, 3, 26, 9, 51), ZoneInfo("UTC"))


def test_site_zone() -> None:
    assert dates.site_zone("Asia/Riyadh") is dates.site_zone("Asia/Riyadh")
    assert dates.site_zone("UTC").key == "UTC"


@pytest.mark.parametrize("name", ["", "Mars/Olympus", "America", "../etc/passwd", "/etc/localtime"])
def test_site_zone_rejects_unknown(name: str) -> None:
    with pytest.raises(ValueError, match="unknown time zone"):
        dates.site_zone(name)


@pytest.mark.parametrize(
    ("zone", "start"),
    [
        # Where 23 June 2018 starts, in zones far from UTC on both sides.
        ("Asia/Tokyo", utc(2018, 6, 22, 15)),
        ("Pacific/Kiritimati", utc(2018, 6, 22, 10)),
        ("America/Los_Angeles", utc(2018, 6, 23, 7)),
        ("Pacific/Pago_Pago", utc(2018, 6, 23, 11)),
        ("UTC", utc(2018, 6, 23)),
    ],
)
def test_local_day_far_from_utc(zone: str, start: datetime) -> None:
    tz, day = ZoneInfo(zone), date(2018, 6, 23)
    first, last = start + timedelta(minutes=10), start + timedelta(hours=23, minutes=50)
    assert dates.to_local(first, tz).strftime("%Y-%m-%d %H:%M") == "2018-06-23 00:10"
    assert dates.to_local(last, tz).strftime("%Y-%m-%d %H:%M") == "2018-06-23 23:50"
    assert dates.local_date(first, tz) == day
    assert dates.local_date(last, tz) == day
    assert dates.local_date(first - timedelta(minutes=11), tz) == date(2018, 6, 22)
    assert dates.local_date(last + timedelta(minutes=11), tz) == date(2018, 6, 24)
    assert dates.local_today(tz, first) == day
    assert dates.local_today(tz, last) == day
    assert dates.day_bounds(day, tz) == (start, start + timedelta(days=1))


def test_local_today_defaults_to_now() -> None:
    tz = ZoneInfo("Pacific/Kiritimati")
    assert dates.local_today(tz) in {
        dates.local_date(datetime.now(UTC) + timedelta(seconds=s), tz) for s in (-5, 0, 5)
    }


@pytest.mark.parametrize(
    ("zone", "day", "start", "length"),
    [
        ("America/Los_Angeles", date(2018, 3, 11), utc(2018, 3, 11, 8), timedelta(hours=23)),
        ("America/Los_Angeles", date(2018, 11, 4), utc(2018, 11, 4, 7), timedelta(hours=25)),
        ("America/Los_Angeles", date(2018, 11, 5), utc(2018, 11, 5, 8), timedelta(hours=24)),
        # DST starts at midnight there, so the day starts at 01:00 local.
        ("America/Santiago", date(2018, 8, 12), utc(2018, 8, 12, 4), timedelta(hours=23)),
        ("Asia/Beirut", date(2018, 3, 25), utc(2018, 3, 24, 22), timedelta(hours=23)),
        ("America/Havana", date(2018, 3, 11), utc(2018, 3, 11, 5), timedelta(hours=23)),
        # Clocks went back from 24:00 to 23:00, so the 17th has 25 hours.
        ("America/Sao_Paulo", date(2018, 2, 17), utc(2018, 2, 17, 2), timedelta(hours=25)),
        # 23:30 jumped to 00:30, so the day starts at 00:30 local, not 01:00.
        ("America/Toronto", date(1919, 3, 31), utc(1919, 3, 31, 4, 30), timedelta(hours=23.5)),
        # Samoa skipped 30 December 2011 entirely.
        ("Pacific/Apia", date(2011, 12, 30), utc(2011, 12, 30, 10), timedelta(0)),
        ("Pacific/Apia", date(2011, 12, 29), utc(2011, 12, 29, 10), timedelta(hours=24)),
        ("Pacific/Apia", date(2011, 12, 31), utc(2011, 12, 30, 10), timedelta(hours=24)),
    ],
)
def test_day_bounds_transitions(zone: str, day: date, start: datetime, length: timedelta) -> None:
    tz = ZoneInfo(zone)
    first, end = dates.day_bounds(day, tz)
    assert (first, end - first) == (start, length)
    assert first.tzinfo is UTC and end.tzinfo is UTC
    if length:
        assert dates.local_date(first, tz) == day
        assert dates.local_date(first - timedelta(seconds=1), tz) < day
        assert dates.local_date(end - timedelta(seconds=1), tz) == day


@pytest.mark.parametrize(
    ("zone", "naive", "expected"),
    [
        # A spring-forward gap moves the time forward by the gap: 02:30 PST -> 03:30 PDT.
        ("America/Los_Angeles", datetime(2018, 3, 11, 2, 30), utc(2018, 3, 11, 10, 30)),
        # An ambiguous time takes its first occurrence (PDT).
        ("America/Los_Angeles", datetime(2018, 11, 4, 1, 30), utc(2018, 11, 4, 8, 30)),
        ("America/Santiago", datetime(2018, 8, 12, 0, 30), utc(2018, 8, 12, 4, 30)),
        ("Asia/Riyadh", datetime(2016, 3, 26, 9, 51), utc(2016, 3, 26, 6, 51)),
    ],
)
def test_local_to_utc(zone: str, naive: datetime, expected: datetime) -> None:
    assert dates.local_to_utc(naive, ZoneInfo(zone)) == expected


def test_local_to_utc_rejects_aware() -> None:
    with pytest.raises(ValueError):
        dates.local_to_utc(utc(2018, 1, 1), ZoneInfo("UTC"))


@pytest.mark.parametrize(
    ("text", "zone", "expected"),
    [
        ("2016-03-26T09:51", "Asia/Riyadh", utc(2016, 3, 26, 6, 51)),
        ("2016-03-26 09:51", "Asia/Riyadh", utc(2016, 3, 26, 6, 51)),
        ("2016-03-26T09:51:30", "Asia/Riyadh", utc(2016, 3, 26, 6, 51, 30)),
        (" 2018-06-23T00:10 ", "Pacific/Kiritimati", utc(2018, 6, 22, 10, 10)),
        ("2018-03-11T02:30", "America/Los_Angeles", utc(2018, 3, 11, 10, 30)),
        ("0002-01-02T00:00", "UTC", utc(2, 1, 2)),
        ("9998-12-30T23:59", "UTC", utc(9998, 12, 30, 23, 59)),
    ],
)
def test_parse_publish_input(text: str, zone: str, expected: datetime) -> None:
    parsed = dates.parse_publish_input(text, ZoneInfo(zone))
    assert parsed == expected
    assert parsed.tzinfo is UTC


@pytest.mark.parametrize(
    "text",
    [
        "",
        "yesterday",
        "2018-02-30T10:00",
        "2018-13-01T10:00",
        "0000-01-01T00:00",
        "10000-01-01T00:00",
        "2018-06-23",
        "2018-06-23T24:00",
        "2018-06-23T10:60",
        "2018-6-23T09:51",
        "2018-06-23T09:51Z",
        "2018-06-23T09:51+03:00",
        "2018-06-23T09:51:00.5",
        "\u0662\u0660\u0661\u0668-06-23T09:51",
    ],
)
def test_parse_publish_input_rejects(text: str) -> None:
    with pytest.raises(ValueError, match="^Enter a date and time as YYYY-MM-DDTHH:MM$"):
        dates.parse_publish_input(text, ZoneInfo("Asia/Riyadh"))


@pytest.mark.parametrize(
    ("text", "zone"),
    [("0001-01-01T00:00", "Asia/Tokyo"), ("9999-12-31T23:59", "Pacific/Pago_Pago")],
)
def test_parse_publish_input_names_the_range_beyond_the_calendar(text: str, zone: str) -> None:
    with pytest.raises(ValueError, match="^Choose a publish time from "):
        dates.parse_publish_input(text, ZoneInfo(zone))


@pytest.mark.parametrize(
    ("text", "zone"),
    [
        ("2016-03-26T09:51", "Asia/Riyadh"),
        ("2018-06-23T00:10", "Pacific/Kiritimati"),
        ("2018-06-23T23:50", "Pacific/Pago_Pago"),
        ("2018-11-04T01:30", "America/Los_Angeles"),
        ("0999-01-02T03:04", "UTC"),
    ],
)
def test_local_input_round_trip(text: str, zone: str) -> None:
    tz = ZoneInfo(zone)
    assert dates.format_local_input(dates.parse_publish_input(text, tz), tz) == text


def test_format_local_input_and_gap() -> None:
    tz = ZoneInfo("America/Los_Angeles")
    gap = dates.parse_publish_input("2018-03-11T02:30", tz)
    assert dates.format_local_input(gap, tz) == "2018-03-11T03:30"
    assert dates.format_local_input(utc(2018, 6, 23, 6, 51, 59), ZoneInfo("Asia/Riyadh")) == (
        "2018-06-23T09:51"
    )


@pytest.mark.parametrize(
    ("instant", "zone", "text"),
    [
        (utc(2016, 3, 26, 6, 51), "Asia/Riyadh", "2016-03-26T09:51:00+03:00"),
        (utc(2016, 3, 26, 6, 51, 7, 999), "UTC", "2016-03-26T06:51:07+00:00"),
        (utc(2018, 6, 23, 11, 10), "Pacific/Pago_Pago", "2018-06-23T00:10:00-11:00"),
        (utc(2018, 6, 22, 10, 10), "Pacific/Kiritimati", "2018-06-23T00:10:00+14:00"),
        # Local mean time, +03:06:52: an HTML offset is whole minutes, so UTC stands in.
        (utc(1900, 1, 1, 6, 53, 8), "Asia/Riyadh", "1900-01-01T06:53:08+00:00"),
        (utc(1900, 1, 1, 0, 0), "Europe/Amsterdam", "1900-01-01T00:00:00+00:00"),
    ],
)
def test_iso_local(instant: datetime, zone: str, text: str) -> None:
    assert dates.iso_local(instant, ZoneInfo(zone)) == text


def test_no_zone_has_had_seconds_in_its_offset_since_iso_attribute_stops_checking() -> None:
    # Twice a year in every zone, both sides of any summer time, to the end of tzdata's rules.
    instants = [
        datetime(year, month, 1, tzinfo=UTC)
        for year in range(dates.WHOLE_MINUTE_OFFSETS_SINCE, 2040)
        for month in (1, 7)
    ]
    for name in available_timezones():
        zone = ZoneInfo(name)
        for instant in instants:
            offset = instant.astimezone(zone).utcoffset()
            assert offset is not None and offset.seconds % 60 == 0, (name, instant)
    monrovia = datetime(1972, 1, 1, tzinfo=UTC).astimezone(ZoneInfo("Africa/Monrovia"))
    assert dates.iso_attribute(monrovia) == "1972-01-01T00:00:00+00:00"


def test_date_labels_hold_nothing_html_would_read_as_markup() -> None:
    # site.teasers prints these labels without escaping them, as element text, where only
    # "&" and "<" (and ">" by habit) could start markup; "Sha'ban" is plain text there.
    day = date(2026, 3, 26)
    labels = [
        dates.datetime_label(datetime(2026, 3, 26, 23, 50), "26 March 2026"),
        *(dates.gregorian_label(day.replace(month=m)) for m in range(1, 13)),
        *(HijriDate(1447, month, 29).label for month in range(1, 13)),
        dates.hijri_label(day, PLAIN),
    ]
    for label in labels:
        assert label and not set(label) & set("&<>"), label
