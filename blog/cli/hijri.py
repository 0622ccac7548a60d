"""flask hijri: list, set and clear Hijri month-start overrides."""

from __future__ import annotations

from datetime import datetime

import click
import sqlalchemy as sa
from flask.cli import AppGroup

from .. import dates, site
from ..extensions import db
from ..models import HijriMonthStart

group = AppGroup("hijri", help="Manage Hijri month-start overrides (local moon sighting).")

MONTH = click.IntRange(1, 12)


@group.command("list")
def list_() -> None:
    """Show every month-start override beside its Umm al-Qura start."""
    stmt = sa.select(HijriMonthStart).order_by(HijriMonthStart.year, HijriMonthStart.month)
    rows = db.session.scalars(stmt).all()
    if not rows:
        click.echo("No month-start overrides: every month follows Umm al-Qura.")
        return
    click.echo(f"{'Year':<6}{'Month':<26}{'Umm al-Qura':<13}{'Override':<12}Note")
    for row in rows:
        natural = dates.umm_al_qura_month_start(row.year, row.month)
        click.echo(
            f"{row.year:<6}{_month_label(row.month):<26}"
            f"{natural.isoformat() if natural else '-':<13}"
            f"{row.starts_on.isoformat():<12}{row.note}"
        )


@group.command("set-month-start")
@click.argument("year", type=int)
@click.argument("month", type=MONTH)
@click.argument("starts_on", metavar="YYYY-MM-DD", type=click.DateTime(formats=["%Y-%m-%d"]))
@click.option("--note", default=None, help="Where the decision comes from, e.g. 'Diyanet'.")
def set_month_start(year: int, month: int, starts_on: datetime, note: str | None) -> None:
    """Make Hijri month MONTH of YEAR start on the given Gregorian day."""
    start = starts_on.date()
    try:
        dates.check_month_start(year, month, start)
    except ValueError as error:
        raise click.ClickException(str(error)) from None
    calendar = site.stored_calendar()
    moved = dates.days_moved(year, month, start, calendar)
    row = _override(year, month)
    if row is None:
        row = HijriMonthStart(year=year, month=month, starts_on=start, note=note or "")
        db.session.add(row)
    else:
        row.starts_on = start
        if note is not None:
            row.note = note
    db.session.commit()
    natural = dates.umm_al_qura_month_start(year, month)
    click.echo(
        f"{_name(year, month)} now starts on {start.isoformat()} "
        f"(Umm al-Qura: {natural.isoformat() if natural else '-'})."
    )
    if moved:
        # Every day from the change to the end of the month moves; the ends tell the story.
        click.echo(f"{len(moved)} days get another Hijri date than without this override:")
        for day, before, after in dict.fromkeys((moved[0], moved[-1])):
            click.echo(f"  {day.isoformat()}: {_label(before)} -> {_label(after)}")
    _warn_about_lengths(year, month)


@group.command("clear-month-start")
@click.argument("year", type=int)
@click.argument("month", type=MONTH)
def clear_month_start(year: int, month: int) -> None:
    """Let Hijri month MONTH of YEAR start on its Umm al-Qura day again."""
    row = _override(year, month)
    if row is None:
        raise click.ClickException(f"there is no override for {_name(year, month)}")
    db.session.delete(row)
    db.session.commit()
    natural = dates.umm_al_qura_month_start(year, month)
    click.echo(
        f"{_name(year, month)} follows Umm al-Qura again "
        f"(starts on {natural.isoformat() if natural else '-'})."
    )
    _warn_about_lengths(year, month)


def _override(year: int, month: int) -> HijriMonthStart | None:
    if dates.umm_al_qura_month_start(year, month) is None:
        # Outside the calendar: set-month-start refuses these months, so none is stored, and
        # a year past the column's integers would fail the query.
        return None
    stmt = sa.select(HijriMonthStart).where(
        HijriMonthStart.year == year, HijriMonthStart.month == month
    )
    return db.session.scalar(stmt)


def _warn_about_lengths(year: int, month: int) -> None:
    """Warn when the stored starts leave that month or the one before it an odd length."""
    for warning in dates.month_length_warnings(year, month, site.stored_calendar()):
        click.echo(f"Warning: {warning}.", err=True)


def _month_label(month: int) -> str:
    return f"{month} {dates.HijriDate(1440, month, 1).month_name}"


def _name(year: int, month: int) -> str:
    return f"{dates.HijriDate(year, month, 1).month_name} {year}"


def _label(hijri: dates.HijriDate | None) -> str:
    return hijri.label if hijri is not None else "-"
