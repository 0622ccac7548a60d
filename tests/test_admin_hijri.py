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
        # Too large for a float (NumberRange's comparison), and for int() itself.
        ({"year": "9" * 309, "month": "9", "starts_on": "2024-03-11"}, "from 1343 to 1500"),
        ({"year": "9" * 5000, "month": "9", "starts_on": "2024-03-11"}, "from 1343 to 1500"),
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
        assert f'value="{data["year"]}"' in html
    assert stored() == []


def test_removing_an_unknown_override_is_404(app: Flask, make_user: Callable[..., User]) -> None:
    client = admin_client(app, make_user)
    assert client.post("/admin/hijri/999/delete").status_code == 404


def test_a_month_left_with_an_impossible_length_is_pointed_out(
    app: Flask, make_user: Callable[..., User]
) -> None:
    client = admin_client(app, make_user)
    # Umm al-Qura: Ramadan 1447 starts on 18 February 2026, Shawwal 1447 on 20 March 2026.
    ramadan = {"year": "1447", "month": "9", "starts_on": "2026-02-19"}
    page = client.post("/admin/hijri/", data=ramadan, follow_redirects=True)
    assert page.status_code == 200
    assert "Warning" not in page.get_data(as_text=True)  # Sha'ban 30 days, Ramadan 29

    shawwal = {"year": "1447", "month": "10", "starts_on": "2026-03-18"}
    page = client.post("/admin/hijri/", data=shawwal, follow_redirects=True)
    html = page.get_data(as_text=True)
    assert "Added: Shawwal 1447 starts on 18 March 2026." in html
    assert (
        '<li class="flash flash-warning">Warning: Ramadan 1447 now has 27 days, not 29 or 30: '
        "check the starts of Ramadan 1447 and Shawwal 1447.</li>" in html
    )
    assert "Warning: Shawwal 1447 now has 31 days, not 29 or 30" in html
    # Still accepted: the other month's start may be the one to change next.
    assert stored() == [(1447, 9, date(2026, 2, 19), ""), (1447, 10, date(2026, 3, 18), "")]

    # Without the Ramadan start, Ramadan runs from 18 February to 17 March: 28 days.
    ramadan_id = db.session.scalar(sa.select(HijriMonthStart.id).where(HijriMonthStart.month == 9))
    page = client.post(f"/admin/hijri/{ramadan_id}/delete", follow_redirects=True)
    html = page.get_data(as_text=True)
    assert "Removed the override for Ramadan 1447." in html
    assert "Warning: Ramadan 1447 now has 28 days, not 29 or 30" in html
    assert "Sha&#39;ban 1447 now has" not in html and "Sha'ban 1447 now has" not in html
    assert stored() == [(1447, 10, date(2026, 3, 18), "")]
