"""Hijri month-start overrides managed by admins."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from markupsafe import escape
from test_auth import sign_in

from blog import dates
from blog.extensions import db
from blog.models import Article, HijriMonthStart, User

RAMADAN_1445_UMM_AL_QURA = date(2024, 3, 11)


def admin_client(app: Flask, make_user: Callable[..., User]) -> FlaskClient:
    make_user("root", "admin")
    client = app.test_client()
    assert sign_in(client, "root").status_code == 303
    return client


def stored() -> list[tuple[int, int, date, str]]:
    db.session.expire_all()
    rows = db.session.execute(
        sa.select(
            HijriMonthStart.year,
            HijriMonthStart.month,
            HijriMonthStart.starts_on,
            HijriMonthStart.note,
        )
    )
    return [tuple(row) for row in rows]  # type: ignore[misc]


def test_umm_al_qura_fact_used_below() -> None:
    assert dates.umm_al_qura_month_start(1445, 9) == RAMADAN_1445_UMM_AL_QURA


def test_add_list_and_remove_an_override(
    app: Flask, make_user: Callable[..., User], make_article: Callable[..., Article]
) -> None:
    client = admin_client(app, make_user)
    article = make_article(published_at=datetime(2024, 3, 10, 12, 0, tzinfo=UTC))
    reader = app.test_client()
    url = f"/article/{article.id}/{article.slug}"
    umm_al_qura_label = dates.hijri_label(date(2024, 3, 10), dates.HijriCalendar())
    assert str(escape(umm_al_qura_label)) in reader.get(url).get_data(as_text=True)
    assert "No overrides" in client.get("/admin/hijri/").get_data(as_text=True)

    data = {"year": "1445", "month": "9", "starts_on": "2024-03-10", "note": "Diyanet 2024"}
    response = client.post("/admin/hijri/", data=data)
    assert response.status_code == 303
    assert stored() == [(1445, 9, date(2024, 3, 10), "Diyanet 2024")]

    page = client.get("/admin/hijri/").get_data(as_text=True)
    assert "Ramadan 1445" in page
    assert "Diyanet 2024" in page
    assert "10 March 2024" in page and "Umm al-Qura: <time" in page
    moved = dates.days_moved(1445, 9, date(2024, 3, 10), dates.HijriCalendar())
    assert moved
    assert f"Moves {len(moved)} days" in page
    for day, _before, after in moved[:3]:
        assert dates.gregorian_label(day) in page
        assert after is not None and str(escape(after.label)) in page
    # Every page applies it at once: 10 March is now the first of Ramadan.
    assert "1 Ramadan 1445" in reader.get(url).get_data(as_text=True)

    override_id = db.session.scalar(sa.select(HijriMonthStart.id))
    assert client.post(f"/admin/hijri/{override_id}/delete").status_code == 303
    assert stored() == []
    assert str(escape(umm_al_qura_label)) in reader.get(url).get_data(as_text=True)


def test_adding_the_same_month_again_replaces_it(
    app: Flask, make_user: Callable[..., User]
) -> None:
    client = admin_client(app, make_user)
    first = {"year": "1445", "month": "9", "starts_on": "2024-03-10", "note": "first"}
    second = {"year": "1445", "month": "9", "starts_on": "2024-03-12", "note": "second"}
    client.post("/admin/hijri/", data=first)
    response = client.post("/admin/hijri/", data=second)
    assert response.status_code == 303
    assert stored() == [(1445, 9, date(2024, 3, 12), "second")]
    assert "Replaced" in client.get("/admin/hijri/").get_data(as_text=True)


def test_bad_overrides_are_refused_with_the_input_kept(
    app: Flask, make_user: Callable[..., User]
) -> None:
    client = admin_client(app, make_user)
    cases = [
        ({"year": "1445", "month": "9", "starts_on": "2024-03-16"}, "at most 2 days"),
        ({"year": "1200", "month": "9", "starts_on": "2024-03-11"}, "from 1343 to 1500"),
        ({"year": "x", "month": "9", "starts_on": "2024-03-11"}, "Hijri year"),
        ({"year": "1445", "month": "13", "starts_on": "2024-03-11"}, "choice"),
        ({"year": "1445", "month": "9", "starts_on": "2024-02-30"}, "date"),
        ({"year": "1445", "month": "9", "starts_on": ""}, "Enter the Gregorian date"),
    ]
    for data, message in cases:
        response = client.post("/admin/hijri/", data={**data, "note": "kept note"})
        assert response.status_code == 422, data
        html = response.get_data(as_text=True)
        assert message in html, (data, message)
        assert 'value="kept note"' in html
    assert stored() == []


def test_removing_an_unknown_override_is_404(app: Flask, make_user: Callable[..., User]) -> None:
    client = admin_client(app, make_user)
    assert client.post("/admin/hijri/999/delete").status_code == 404
