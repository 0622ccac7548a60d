"""Gregorian archives by site-local year, month and day."""

from __future__ import annotations

import calendar
from datetime import date, timedelta

from flask import Blueprint, abort, render_template
from werkzeug.wrappers import Response

from .. import articles, dates
from ..dates import FIRST_YEAR, LAST_YEAR
from ..pagecache import cached_page
from ..site import Masthead, masthead, now, version_first, zone
from .listing import page_or_redirect

bp = Blueprint("archive", __name__, url_prefix="/archive")

YEAR = "<int(fixed_digits=4):year>"
MONTH = "<int(fixed_digits=2):month>"
DAY = "<int(fixed_digits=2):day>"


@bp.get(f"/{YEAR}/")
@cached_page
@version_first
def year(year: int) -> str:
    """Show the months of a year with their article counts."""
    date_or_404(year, 1, 1)
    counts = articles.month_counts(year, zone(), now())
    shown = masthead()
    return render_template(
        "archive/year.html",
        year=year,
        counts=counts,
        total=sum(counts.values()),
        previous=_year_if_shown(shown, year - 1),
        following=_year_if_shown(shown, year + 1),
    )


@bp.get(f"/{YEAR}/{MONTH}/")
@cached_page
@version_first
def month(year: int, month: int) -> str:
    """Show a month as a calendar grid of days with their article counts."""
    first = date_or_404(year, month, 1)
    last = first.replace(day=calendar.monthrange(year, month)[1])
    counts = articles.day_counts(first, last, zone(), now())
    shown = masthead()
    weeks = calendar.Calendar(firstweekday=calendar.MONDAY).monthdatescalendar(year, month)
    return render_template(
        "archive/month.html",
        first=first,
        weeks=weeks,
        counts=counts,
        total=sum(counts.values()),
        previous=_month_if_shown(shown, _shift_month(first, -1)),
        following=_month_if_shown(shown, _shift_month(first, 1)),
    )


@bp.get(f"/{YEAR}/{MONTH}/{DAY}/")
@cached_page
def day(year: int, month: int, day: int) -> str | Response:
    """Show the articles published on a local day."""
    the_day = date_or_404(year, month, day)
    start, end = dates.day_bounds(the_day, zone())
    page = page_or_redirect("archive.day", start, end, year=year, month=month, day=day)
    if isinstance(page, Response):
        return page
    shown = masthead()
    return render_template(
        "archive/day.html",
        day=the_day,
        page=page,
        previous=_day_if_shown(shown, _shift_day(the_day, -1)),
        following=_day_if_shown(shown, _shift_day(the_day, 1)),
    )


def date_or_404(year: int, month: int, day: int) -> date:
    """Return the date a URL names, or answer 404 for one outside the calendar."""
    if not FIRST_YEAR <= year <= LAST_YEAR:
        abort(404)
    try:
        return date(year, month, day)
    except ValueError:
        abort(404)


def _shift_day(day: date, days: int) -> date | None:
    shifted = day + timedelta(days=days)
    return shifted if FIRST_YEAR <= shifted.year <= LAST_YEAR else None


def _day_if_shown(shown: Masthead, day: date | None) -> date | None:
    return day if day is not None and shown.has_archive(day, day) else None


def _month_if_shown(shown: Masthead, first: date | None) -> date | None:
    if first is None:
        return None
    last = first.replace(day=calendar.monthrange(first.year, first.month)[1])
    return first if shown.has_archive(first, last) else None


def _year_if_shown(shown: Masthead, year: int) -> int | None:
    if not FIRST_YEAR <= year <= LAST_YEAR:
        return None
    return year if shown.has_archive(date(year, 1, 1), date(year, 12, 31)) else None


def _shift_month(first: date, months: int) -> date | None:
    index = first.year * 12 + first.month - 1 + months
    year, month = divmod(index, 12)
    return date(year, month + 1, 1) if FIRST_YEAR <= year <= LAST_YEAR else None
