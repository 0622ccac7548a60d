"""Hijri month-start overrides for admins: list them with the days they move, add, remove."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy.exc import IntegrityError
from werkzeug.wrappers import Response

from .. import dates, site
from ..extensions import db
from ..forms import HijriMonthStartForm
from ..models import MAX_ID, HijriMonthStart

# Nested under the admin blueprint, which has already required a signed-in user.
bp = Blueprint("hijri", __name__, url_prefix="/hijri")


@dataclass(frozen=True)
class OverrideRow:
    """One stored override with what it changes."""

    override: HijriMonthStart
    month_name: str
    umm_al_qura: date | None
    moved: list[tuple[date, dates.HijriDate | None, dates.HijriDate | None]]
    problem: str = ""


@bp.before_request
def _require_admin() -> None:
    if not current_user.is_admin:
        abort(403, "Only administrators can change the Hijri calendar.")


@bp.get("/")
def index() -> str:
    """List the month-start overrides, with a form to add one."""
    return _page(HijriMonthStartForm())[0]


@bp.post("/")
def add() -> Response | tuple[str, int]:
    """Add a month-start override, or replace the one for the same month."""
    form = HijriMonthStartForm()
    if not form.validate():
        return _page(form, 422)
    year, month, start = form.year.data, form.month.data, form.starts_on.data
    assert year is not None and month is not None and start is not None
    stmt = sa.select(HijriMonthStart).where(
        HijriMonthStart.year == year, HijriMonthStart.month == month
    )
    override = db.session.scalar(stmt)
    replaced = override is not None
    if override is None:
        override = HijriMonthStart(year=year, month=month)
        db.session.add(override)
    override.starts_on = start
    override.note = form.note.data or ""
    try:
        db.session.commit()
    except IntegrityError:
        # Another admin added the same month between our look-up and our insert.
        db.session.rollback()
        form.form_errors.append("That month was changed meanwhile. Check the list and retry.")
        return _page(form, 409)
    name = _month_name(month)
    verb = "Replaced" if replaced else "Added"
    flash(f"{verb}: {name} {year} starts on {dates.gregorian_label(start)}.", "info")
    _warn_about_lengths(year, month)
    return redirect(url_for("admin.hijri.index"), 303)


@bp.post("/<int:override_id>/delete")
def remove(override_id: int) -> Response:
    """Remove an override: the month starts on its Umm al-Qura day again."""
    if not 0 < override_id <= MAX_ID:
        abort(404)
    override = db.get_or_404(HijriMonthStart, override_id)
    year, month = override.year, override.month
    db.session.delete(override)
    db.session.commit()
    flash(f"Removed the override for {_month_name(month)} {year}.", "info")
    _warn_about_lengths(year, month)
    return redirect(url_for("admin.hijri.index"), 303)


def _warn_about_lengths(year: int, month: int) -> None:
    """Flash a warning when the stored starts leave that month or the one before it odd."""
    for warning in dates.month_length_warnings(year, month, site.stored_calendar()):
        flash(f"Warning: {warning}.", "warning")


def _page(form: HijriMonthStartForm, status: int = 200) -> tuple[str, int]:
    stmt = sa.select(HijriMonthStart).order_by(
        HijriMonthStart.year.desc(), HijriMonthStart.month.desc()
    )
    rows = [_row(override) for override in db.session.scalars(stmt)]
    return render_template("admin/hijri.html", rows=rows, form=form), status


def _row(override: HijriMonthStart) -> OverrideRow:
    name = _month_name(override.month)
    natural = dates.umm_al_qura_month_start(override.year, override.month)
    try:
        moved = dates.days_moved(override.year, override.month, override.starts_on, site.calendar())
    except ValueError as error:
        # Stored through some other door with a start the date service refuses.
        return OverrideRow(override, name, natural, [], str(error))
    return OverrideRow(override, name, natural, moved)


def _month_name(month: int) -> str:
    return dates.HijriDate(1440, month, 1).month_name if 1 <= month <= 12 else f"month {month}"
