"""Sitemaps and robots.txt: every visible article once, under its local day, nothing else."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta

import pytest

from blog import dates

from conftest import at_local

NS = "{http://www.sitemaps.org/schemas/sitemap/0.9}"


def locs(body: bytes, element: str) -> list[str]:
    root = ET.fromstring(body)  # refuses anything that is not well-formed XML
    return [node.findtext(f"{NS}loc") for node in root.findall(f"{NS}{element}")]


def test_robots_keeps_crawlers_off_the_desk_and_names_the_sitemap(client):
    response = client.get("/robots.txt")
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    lines = response.get_data(as_text=True).splitlines()
    assert "Disallow: /admin/" in lines and "Disallow: /auth/" in lines
    assert "Sitemap: http://localhost/sitemap.xml" in lines


@pytest.mark.parametrize("zone", ["Pacific/Kiritimati", "Pacific/Pago_Pago"])
def test_each_visible_article_is_in_the_sitemap_of_its_local_day(make_app, make_article, zone):
    app = make_app(TIMEZONE=zone)
    with app.app_context():
        late = make_article(title="Late", published_at=at_local(-2, 23, 50, zone))
        early = make_article(title="Early", published_at=at_local(-1, 0, 10, zone))
        make_article(title="Draft", status="draft", published_at=at_local(-1, 1, 0, zone))
        make_article(
            title="Trashed", published_at=at_local(-1, 2, 0, zone), deleted_at=dates.utcnow()
        )
        make_article(title="Scheduled", published_at=dates.utcnow() + timedelta(days=3))
        days = [dates.local_date(late.published_at, dates.site_zone(zone))]
        days.append(days[0] + timedelta(days=1))
        expected = {
            days[0]: [f"http://localhost/article/{late.id}/{late.slug}"],
            days[1]: [f"http://localhost/article/{early.id}/{early.slug}"],
        }
    client = app.test_client()

    index = locs(client.get("/sitemap.xml").data, "sitemap")

    # Only days with visible articles: not the scheduled article's day to come.
    assert index[:-1] == [f"http://localhost/sitemap-{day:%Y-%m-%d}.xml" for day in days]
    assert index[-1] == "http://localhost/sitemap-authors.xml"
    for day, sitemap in zip(days, index[:-1], strict=True):
        response = client.get(sitemap)
        assert response.status_code == 200 and response.mimetype == "application/xml"
        assert locs(response.data, "url") == expected[day]
        assert client.get(expected[day][0]).status_code == 200


def test_a_days_sitemap_gives_each_article_its_last_change_in_local_time(make_app, make_article):
    zone = "Asia/Riyadh"
    app = make_app(TIMEZONE=zone)
    with app.app_context():
        article = make_article(published_at=at_local(-1, 23, 50, zone))
        day = dates.local_date(article.published_at, dates.site_zone(zone))
    body = app.test_client().get(f"/sitemap-{day:%Y-%m-%d}.xml").get_data(as_text=True)
    (lastmod,) = re.findall(r"<lastmod>([^<]+)</lastmod>", body)
    # Saved just now for a time yesterday: the save is its last change.
    assert lastmod.endswith("+03:00")
    assert lastmod >= dates.iso_local(dates.utcnow() - timedelta(minutes=1), dates.site_zone(zone))


@pytest.mark.parametrize(
    "path", ["/sitemap-2018-02-30.xml", "/sitemap-2018-13-01.xml", "/sitemap-0000-01-01.xml"]
)
def test_a_sitemap_of_an_impossible_day_is_not_found(client, path):
    response = client.get(path)
    assert response.status_code == 404
    assert "Page not found" in response.get_data(as_text=True)


def test_a_day_without_articles_has_an_empty_sitemap(client):
    response = client.get("/sitemap-2018-02-28.xml")
    assert response.status_code == 200
    assert locs(response.data, "url") == []


def test_the_sitemap_index_follows_a_new_article_at_once(client, make_article):
    assert locs(client.get("/sitemap.xml").data, "sitemap") == []
    make_article(title="News")
    # The day's sitemap, and the authors' (the writer of the news has a page now).
    assert len(locs(client.get("/sitemap.xml").data, "sitemap")) == 2


def test_a_day_whose_articles_are_all_still_to_come_is_not_in_the_index(
    make_app, make_article, monkeypatch
):
    zone = "Pacific/Kiritimati"
    app = make_app(TIMEZONE=zone)
    client = app.test_client()
    with app.app_context():
        soon = at_local(0, 23, 50, zone)
        if soon <= dates.utcnow():  # the test runs in the last minutes of the local day
            soon = dates.utcnow() + timedelta(minutes=5)
        make_article(title="Tonight", published_at=soon)
        day = dates.local_date(soon, dates.site_zone(zone))
    assert client.get("/sitemap.xml").status_code == 200
    assert locs(client.get("/sitemap.xml").data, "sitemap") == []

    monkeypatch.setattr(dates, "utcnow", lambda: soon + timedelta(seconds=1))
    assert locs(client.get("/sitemap.xml").data, "sitemap") == [
        f"http://localhost/sitemap-{day:%Y-%m-%d}.xml",
        "http://localhost/sitemap-authors.xml",
    ]


def test_a_day_in_the_first_centuries_is_named_with_four_digits(client, make_article):
    make_article(title="Old record", published_at=datetime(2, 1, 2, 12, 0, tzinfo=UTC))
    index = locs(client.get("/sitemap.xml").data, "sitemap")
    assert index[0] == "http://localhost/sitemap-0002-01-02.xml"
    assert len(locs(client.get(index[0]).data, "url")) == 1
