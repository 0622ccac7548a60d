"""Publish times at the ends of the calendar: refused on the way in, harmless when stored."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from test_admin_articles import form, form_values
from test_auth import sign_in

from blog import dates
from blog.extensions import db
from blog.models import Article, DayCount, User

FAR_ZONES = ["Pacific/Kiritimati", "Pacific/Pago_Pago"]
FUTURE = datetime(9999, 12, 31, 23, 59, tzinfo=UTC)
PAST = datetime(1, 1, 1, tzinfo=UTC)


def stored_articles() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Article)) or 0


def sign_in_author(client: FlaskClient, make_user: Callable[..., User]) -> None:
    make_user("amina", "author")
    assert sign_in(client, "amina").status_code == 303


# --- the article form ------------------------------------------------------------------------


def test_the_rule_keeps_every_local_date_inside_the_archive_years() -> None:
    assert (dates.FIRST_YEAR, dates.LAST_YEAR) == (2, 9998)
    assert dates.is_publishable(datetime(2, 1, 2, tzinfo=UTC))
    assert dates.is_publishable(datetime(9998, 12, 30, 23, 59, 59, 999999, tzinfo=UTC))
    assert not dates.is_publishable(datetime(2, 1, 1, 23, 59, 59, 999999, tzinfo=UTC))
    assert not dates.is_publishable(datetime(9998, 12, 31, tzinfo=UTC))


@pytest.mark.parametrize("zone", ["UTC", "Asia/Riyadh", *FAR_ZONES])
def test_the_form_accepts_the_edges_it_names_and_nothing_beyond(
    make_app: Callable[..., Flask], make_user: Callable[..., User], zone: str
) -> None:
    app = make_app(TIMEZONE=zone)
    client = app.test_client()
    sign_in_author(client, make_user)
    # A time beyond the calendar is refused with the range in this zone's site time.
    refused = client.post("/admin/articles/new", data=form(published_at="9999-12-31T23:59"))
    first, last = re.search(r"Choose a publish time from (\S+) to (\S+) ", refused.text).groups()
    if zone == "UTC":
        assert (first, last) == ("0002-01-02T00:00", "9998-12-30T23:59")
    for edge in (first, last):
        response = client.post("/admin/articles/new", data=form(published_at=edge))
        assert response.status_code == 303, edge
    for beyond in (minute_before(first), minute_after(last)):
        response = client.post("/admin/articles/new", data=form(published_at=beyond))
        assert response.status_code == 422, beyond
    stored = db.session.scalars(sa.select(Article.published_at).order_by(Article.id)).all()
    assert len(stored) == 2
    assert stored[0] >= datetime(2, 1, 2, tzinfo=UTC)
    assert stored[1] < datetime(9998, 12, 31, tzinfo=UTC)


def minute_before(text: str) -> str:
    return (datetime.fromisoformat(text) - timedelta(minutes=1)).isoformat(timespec="minutes")


def minute_after(text: str) -> str:
    return (datetime.fromisoformat(text) + timedelta(minutes=1)).isoformat(timespec="minutes")


# --- import ----------------------------------------------------------------------------------


def record(n: int, published_at: str) -> str:
    return json.dumps(
        {
            "external_id": f"far-{n}",
            "title": f"Line {n}",
            "body_markdown": f"Body {n}.",
            "published_at": published_at,
            "author": "reporter",
        }
    )


def test_import_skips_a_line_outside_the_range_and_keeps_the_others(
    make_app: Callable[..., Flask],
) -> None:
    app = make_app(TIMEZONE="Asia/Riyadh")
    lines = [
        record(1, "2016-03-26T09:51:00+03:00"),
        record(2, "9999-12-31T23:00:00+00:00"),
        record(3, "0002-01-02T00:00:00+00:00"),
        record(4, "0001-01-01T00:00:00+00:00"),
        record(5, "0001-01-01T01:00:00+03:00"),
        record(6, "9998-12-30T23:59:59+00:00"),
        record(7, "9998-12-31T03:00:00+03:00"),
    ]
    text = "\n".join(lines) + "\n"
    result = app.test_cli_runner().invoke(args=["articles", "import", "-"], input=text.encode())
    assert result.exit_code == 1, result.output
    assert "3 created, 0 updated, 4 skipped" in result.stdout
    errors = result.stderr.splitlines()
    assert [error.split(":")[0] for error in errors] == ["line 2", "line 4", "line 5", "line 7"]
    for error in errors:
        assert "out of range" in error
        assert "0002-01-02T00:00:00+00:00" in error and "9998-12-31T00:00:00+00:00" in error
    with app.app_context():
        stored = db.session.scalars(sa.select(Article.external_id).order_by(Article.id)).all()
        assert stored == ["far-1", "far-3", "far-6"]
        assert sum(db.session.scalars(sa.select(DayCount.count))) == 3


# --- rows an earlier release stored ----------------------------------------------------------


@pytest.fixture
def far_rows(
    make_article: Callable[..., Article], make_user: Callable[..., User]
) -> dict[str, Article]:
    """Articles stored on a UTC site before publish times were checked, and an editor."""
    make_user("editor", "editor")
    return {
        "normal": make_article(title="An ordinary day"),
        "future": make_article(title="At the end of time", published_at=FUTURE),
        "past": make_article(title="At the dawn of time", published_at=PAST),
    }


@pytest.mark.parametrize("zone", FAR_ZONES)
def test_stored_far_dates_break_no_page(
    make_app: Callable[..., Flask], far_rows: dict[str, Article], zone: str
) -> None:
    ids = {name: (article.id, article.slug) for name, article in far_rows.items()}
    app = make_app(TIMEZONE=zone)
    client = app.test_client()

    home = client.get("/")
    assert home.status_code == 200
    assert "An ordinary day" in home.text
    # The far future one is scheduled; the other two are counted.
    assert "Total: 2 articles" in home.text
    assert client.get("/auth/login").status_code == 200
    assert sign_in(client, "editor").status_code == 303

    desk = client.get("/admin/")
    assert desk.status_code == 200
    assert "At the end of time" in desk.text and "At the dawn of time" in desk.text
    for name in ("future", "past"):
        article_id, slug = ids[name]
        edit = client.get(f"/admin/articles/{article_id}/edit")
        assert edit.status_code == 200, name
        assert form_values(edit.text)["published_at"], name
        page = client.get(f"/article/{article_id}/{slug}")
        assert page.status_code == 200, name
        assert '<article class="article">' in page.text

    future_id, future_slug = ids["future"]
    assert client.post(f"/admin/articles/{future_id}/delete").status_code == 303
    trash = client.get("/admin/trash")
    assert trash.status_code == 200 and "At the end of time" in trash.text
    assert client.get(f"/admin/articles/{future_id}/edit").status_code == 200
    assert client.get(f"/article/{future_id}/{future_slug}").status_code == 200
    assert client.get("/").status_code == 200


@pytest.mark.parametrize("zone", FAR_ZONES)
def test_recount_and_export_survive_stored_far_dates(
    make_app: Callable[..., Flask], far_rows: dict[str, Article], zone: str
) -> None:
    app = make_app(TIMEZONE=zone)
    runner = app.test_cli_runner()
    # The commands run in the app context they find: this site's, not the fixture's UTC one.
    with app.app_context():
        recount = runner.invoke(args=["articles", "recount"])
        export = runner.invoke(args=["articles", "export", "-"])
    assert recount.exit_code == 0, recount.output
    assert f"in {zone}" in recount.stdout
    assert export.exit_code == 0, export.output
    exported = {r["title"]: r["published_at"] for r in map(json.loads, export.stdout.splitlines())}
    # The exact instant, even where the site's wall clock runs off the calendar.
    assert datetime.fromisoformat(exported["At the end of time"]) == FUTURE
    assert datetime.fromisoformat(exported["At the dawn of time"]) == PAST
    assert len(exported) == 3


@pytest.mark.parametrize("zone", FAR_ZONES)
def test_a_stored_far_date_must_be_moved_into_the_range_to_save(
    make_app: Callable[..., Flask], far_rows: dict[str, Article], zone: str
) -> None:
    article_id = far_rows["future"].id
    app = make_app(TIMEZONE=zone)
    client = app.test_client()
    assert sign_in(client, "editor").status_code == 303
    shown = form_values(client.get(f"/admin/articles/{article_id}/edit").text)
    unchanged = client.post(f"/admin/articles/{article_id}/edit", data={**shown, "save": "Save"})
    assert unchanged.status_code == 422
    assert "Choose a publish time from" in unchanged.text
    moved = {**shown, "published_at": "2024-03-10T09:30", "save": "Save"}
    assert client.post(f"/admin/articles/{article_id}/edit", data=moved).status_code == 303
    with app.app_context():
        assert db.session.get(Article, article_id).published_at.year == 2024
        assert "Total: 3 articles" in client.get("/").text
