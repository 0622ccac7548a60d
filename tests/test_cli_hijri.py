"""flask hijri: month-start overrides change the pages at once, and bad ones are refused."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime

import sqlalchemy as sa
from flask.testing import FlaskClient, FlaskCliRunner

from blog.extensions import db
from blog.models import Article, HijriMonthStart


def month_cell(client: FlaskClient, day: int) -> str:
    """Return the Hijri label the July 2016 archive shows under a day."""
    page = client.get("/archive/2016/07/").get_data(as_text=True)
    # Each day of the month has one number in the grid, linked or not (no articles).
    match = re.search(
        rf'<span class="day-number">{day}</span>.*?<span class="hijri-date">([^<]*)</span>',
        page,
        re.S,
    )
    assert match is not None
    return match[1]


def article_hijri(client: FlaskClient, article: Article) -> str:
    page = client.get(f"/article/{article.id}/{article.slug}").get_data(as_text=True)
    match = re.search(r'<span class="hijri-date">([^<]*)</span>', page)
    assert match is not None
    return match[1]


def test_set_list_and_clear_change_the_pages(
    runner: FlaskCliRunner, client: FlaskClient, make_article: Callable[..., Article]
) -> None:
    eid = make_article(title="Eid", published_at=datetime(2016, 7, 5, 12, 0, tzinfo=UTC))
    assert month_cell(client, 5) == "30 Ramadan 1437"
    assert article_hijri(client, eid) == "30 Ramadan 1437"

    args = ["hijri", "set-month-start", "1437", "10", "2016-07-05", "--note", "Diyanet"]
    result = runner.invoke(args=args)
    assert result.exit_code == 0, result.output
    assert "Shawwal 1437 now starts on 2016-07-05 (Umm al-Qura: 2016-07-06)" in result.output
    assert "2016-07-05: 30 Ramadan 1437 -> 1 Shawwal 1437" in result.output
    assert month_cell(client, 5) == "1 Shawwal 1437"
    assert month_cell(client, 4) == "29 Ramadan 1437"
    assert article_hijri(client, eid) == "1 Shawwal 1437"

    listing = runner.invoke(args=["hijri", "list"]).output.splitlines()
    assert listing[0].split() == ["Year", "Month", "Umm", "al-Qura", "Override", "Note"]
    assert listing[1].split() == ["1437", "10", "Shawwal", "2016-07-06", "2016-07-05", "Diyanet"]

    result = runner.invoke(args=["hijri", "clear-month-start", "1437", "10"])
    assert result.exit_code == 0, result.output
    assert "follows Umm al-Qura again" in result.output
    assert month_cell(client, 5) == "30 Ramadan 1437"
    assert article_hijri(client, eid) == "30 Ramadan 1437"
    assert "No month-start overrides" in runner.invoke(args=["hijri", "list"]).output


def test_set_again_updates_the_override(runner: FlaskCliRunner) -> None:
    runner.invoke(
        args=["hijri", "set-month-start", "1437", "10", "2016-07-05", "--note", "Sighted"]
    )
    result = runner.invoke(args=["hijri", "set-month-start", "1437", "10", "2016-07-07"])
    assert result.exit_code == 0, result.output
    # A 31-day Ramadan is allowed (Shawwal may be entered before Ramadan) but pointed out.
    assert "Warning: Ramadan 1437 now has 31 days" in result.stderr
    rows = db.session.scalars(sa.select(HijriMonthStart)).all()
    assert [(r.year, r.month, r.starts_on.isoformat(), r.note) for r in rows] == [
        (1437, 10, "2016-07-07", "Sighted")
    ]


def test_bad_overrides_are_refused(runner: FlaskCliRunner) -> None:
    too_far = runner.invoke(args=["hijri", "set-month-start", "1437", "10", "2016-07-15"])
    assert too_far.exit_code == 1
    assert "2016-07-15 is 9 days away" in too_far.output
    out_of_range = runner.invoke(args=["hijri", "set-month-start", "1200", "1", "1785-10-01"])
    assert (
        out_of_range.exit_code == 1 and "outside the supported Hijri range" in out_of_range.output
    )
    bad_month = runner.invoke(args=["hijri", "set-month-start", "1437", "13", "2016-07-05"])
    assert bad_month.exit_code == 2 and "MONTH" in bad_month.output
    bad_date = runner.invoke(args=["hijri", "set-month-start", "1437", "10", "2016-02-30"])
    assert bad_date.exit_code == 2 and "YYYY-MM-DD" in bad_date.output
    missing = runner.invoke(args=["hijri", "clear-month-start", "1437", "10"])
    assert missing.exit_code == 1 and "no override for Shawwal 1437" in missing.output
    # Past the year column's integers: none can be stored, and the query is not made.
    huge = "9" * 20
    for args in (["set-month-start", huge, "1", "2016-07-05"], ["clear-month-start", huge, "1"]):
        result = runner.invoke(args=["hijri", *args])
        assert result.exit_code == 1 and result.exception.__class__ is SystemExit, result.output
    assert f"no override for Muharram {huge}" in result.output
    assert db.session.scalars(sa.select(HijriMonthStart)).all() == []


def test_set_and_clear_warn_when_a_month_is_left_too_short_or_long(
    runner: FlaskCliRunner,
) -> None:
    ramadan = runner.invoke(args=["hijri", "set-month-start", "1447", "9", "2026-02-19"])
    assert ramadan.exit_code == 0, ramadan.output
    assert "Warning" not in ramadan.output  # Sha'ban 30 days, Ramadan 29
    shawwal = runner.invoke(args=["hijri", "set-month-start", "1447", "10", "2026-03-18"])
    assert shawwal.exit_code == 0, shawwal.output
    assert shawwal.stderr.splitlines() == [
        "Warning: Ramadan 1447 now has 27 days, not 29 or 30: "
        "check the starts of Ramadan 1447 and Shawwal 1447.",
        "Warning: Shawwal 1447 now has 31 days, not 29 or 30: "
        "check the starts of Shawwal 1447 and Dhu al-Qa'dah 1447.",
    ]
    cleared = runner.invoke(args=["hijri", "clear-month-start", "1447", "9"])
    assert cleared.exit_code == 0, cleared.output
    assert "Ramadan 1447 follows Umm al-Qura again" in cleared.stdout
    assert cleared.stderr.splitlines() == [
        "Warning: Ramadan 1447 now has 28 days, not 29 or 30: "
        "check the starts of Ramadan 1447 and Shawwal 1447."
    ]
    rows = db.session.scalars(sa.select(HijriMonthStart)).all()
    assert [(r.year, r.month, r.starts_on.isoformat()) for r in rows] == [(1447, 10, "2026-03-18")]
