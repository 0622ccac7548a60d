"""The page of every tag (/tags/) and the tags' sitemap: the tags readers can reach, each
with its newest visible article's time in the site's zone, kept true by every write."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hijridate import Gregorian
from test_tags import page, tagged

from blog import dates
from blog.dates import utcnow
from blog.extensions import db
from blog.models import Article

from conftest import at_local

NS = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
ENTRY = re.compile(
    r'<li><a href="([^"]+)" dir="auto">([^<]+)</a>\s*<p class="meta">Latest: '
    r'<time class="published" datetime="([^"]+)">([^<]+)</time>\s*'
    r'<span class="hijri-date">([^<]*)</span></p></li>'
)
GROUP = re.compile(r'<h2 id="([^"]+)">([^<]+)</h2>')


def entries(html: str) -> list[tuple[str, str]]:
    """(href, name) of each tag listed, in page order."""
    return [(href, name) for href, name, *_ in ENTRY.findall(html)]


def test_the_tags_page_lists_each_tag_a_reader_can_reach_under_its_initial(
    client: FlaskClient, make_article
) -> None:
    now = utcnow()
    tagged(make_article, "Sport", "Économie", title="Derby", published_at=now - timedelta(hours=2))
    tagged(make_article, "sport news", "علوم", "2026 vote", title="Results")
    tagged(make_article, "Zoology", title="Draft", status="draft")
    tagged(make_article, "Future", title="Later", published_at=now + timedelta(hours=3))
    tagged(make_article, "Gone", title="Trashed", deleted_at=now)

    html = page(client, "/tags/")

    # Case and accents aside; digits and signs under '#'; only tags of visible articles.
    assert entries(html) == [
        ("/tag/2026-vote/", "2026 vote"),
        ("/tag/economie/", "Économie"),
        ("/tag/sport/", "Sport"),
        ("/tag/sport-news/", "sport news"),
        ("/tag/%D8%B9%D9%84%D9%88%D9%85/", "علوم"),
    ]
    assert GROUP.findall(html) == [
        ("tags-other", "#"),
        ("tags-E", "E"),
        ("tags-S", "S"),
        ("tags-ع", "ع"),
    ]
    initials = re.search(r'<nav class="topic-initials"[^>]*>(.*?)</nav>', html, re.S)
    assert initials and re.findall(r'href="#([^"]+)"', initials[1]) == [
        "tags-other",
        "tags-E",
        "tags-S",
        "tags-ع",
    ]
    assert '<h1 class="topics-title">Tags</h1>' in html and "<title>Tags &ndash; " in html
    assert 'class="day-strip"' in html  # the masthead, as on every reader page
    for href, _ in entries(html):
        assert "Derby" in page(client, href) or "Results" in page(client, href)
    # Every reader page's footer leads here; a tag's page does too.
    assert '<a class="tags-link" href="/tags/">Tags</a>' in page(client, "/")
    assert '<a href="/tags/">All tags</a>' in page(client, "/tag/sport/")


def test_a_site_without_tags_says_so(client: FlaskClient, make_article) -> None:
    make_article(title="Untagged")
    tagged(make_article, "Secret", title="Draft", status="draft")

    html = page(client, "/tags/")

    assert entries(html) == []
    assert '<p class="empty">No tags yet.</p>' in html
    assert 'class="topic-initials"' not in html


def test_a_tag_name_is_escaped_on_the_tags_page(client: FlaskClient, make_article) -> None:
    tagged(make_article, '<img src=x onerror="alert(1)">', title="Odd tag")

    html = page(client, "/tags/")

    assert "<img src=x" not in html
    assert "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;" in html


@pytest.mark.parametrize("zone", ["Pacific/Kiritimati", "Pacific/Pago_Pago"])
def test_each_tag_shows_its_newest_article_on_its_local_day(
    make_app, make_article, zone: str
) -> None:
    app = make_app(TIMEZONE=zone)
    with app.app_context():
        tz = dates.site_zone(zone)
        late = at_local(-2, 23, 50, zone)
        early = at_local(-1, 0, 10, zone)
        tagged(make_article, "Night", title="Late", published_at=late)
        tagged(make_article, "Night", title="Older", published_at=late - timedelta(days=3))
        tagged(make_article, "Morning", title="Early", published_at=early)
        tagged(make_article, "Morning", title="Not yet", published_at=utcnow() + timedelta(days=2))
    html = page(app.test_client(), "/tags/")

    shown = {name: (iso, label, hijri) for _, name, iso, label, hijri in ENTRY.findall(html)}
    for name, instant, clock in (("Night", late, "23:50"), ("Morning", early, "0:10")):
        day = dates.to_local(instant, tz).date()
        iso, label, hijri = shown[name]
        assert iso == dates.iso_local(instant, tz), name
        # 23:50 and 00:10 local, whatever the UTC date: the local day and its Hijri date.
        assert label == f"{day.day} {dates.month_name(day.month)} {day.year} {clock}", name
        umm_al_qura = Gregorian.fromdate(day).to_hijri()
        assert hijri == f"{umm_al_qura.day} {umm_al_qura.month_name()} {umm_al_qura.year}", name
    assert shown["Night"][1].split()[0] != shown["Morning"][1].split()[0]


def test_the_tags_page_follows_every_write_at_once(
    app: Flask, client: FlaskClient, make_article, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = tagged(make_article, "Weather", title="Rain")
    before = client.get("/tags/")
    assert before.headers.get("ETag")
    again = client.get("/tags/", headers={"If-None-Match": before.headers["ETag"]})
    assert again.status_code == 304

    later = utcnow() + timedelta(hours=1)
    tagged(make_article, "Harvest", title="Crops", published_at=later)
    assert [name for _, name in entries(page(client, "/tags/"))] == ["Weather"]

    # The scheduled article's time comes: its tag is listed, with no write in between.
    monkeypatch.setattr(dates, "utcnow", lambda: later + timedelta(seconds=1))
    assert [name for _, name in entries(page(client, "/tags/"))] == ["Harvest", "Weather"]

    # Into the trash: a tag that no visible article carries leaves the page.
    article = db.session.get(Article, first.id)
    article.deleted_at = later
    db.session.commit()
    assert [name for _, name in entries(page(client, "/tags/"))] == ["Harvest"]


def _locs(body: bytes, element: str) -> list[str]:
    root = ET.fromstring(body)
    return [node.findtext(f"{NS}loc") for node in root.findall(f"{NS}{element}")]


def test_the_sitemap_lists_the_tags_page_and_each_tags_page(make_app, make_article) -> None:
    zone = "Pacific/Kiritimati"
    app = make_app(TIMEZONE=zone)
    client = app.test_client()
    with app.app_context():
        make_article(title="Untagged")
    assert not any("tags" in loc for loc in _locs(client.get("/sitemap.xml").data, "sitemap"))
    assert _locs(client.get("/sitemap-tags.xml").data, "url") == []

    with app.app_context():
        newest = at_local(-1, 0, 10, zone)
        tagged(make_article, "Ports", title="Docks", published_at=newest)
        tagged(make_article, "Ferries", title="Crossing", published_at=newest - timedelta(hours=1))
        tagged(make_article, "Hidden", title="Draft", status="draft")

    index = _locs(client.get("/sitemap.xml").data, "sitemap")
    assert index[-1] == "http://localhost/sitemap-tags.xml"
    response = client.get(index[-1])
    assert response.status_code == 200 and response.mimetype == "application/xml"
    root = ET.fromstring(response.data)
    urls = [
        (node.findtext(f"{NS}loc"), node.findtext(f"{NS}lastmod"))
        for node in root.findall(f"{NS}url")
    ]
    tz = dates.site_zone(zone)
    assert urls == [
        ("http://localhost/tags/", dates.iso_local(newest, tz)),
        ("http://localhost/tag/ferries/", dates.iso_local(newest - timedelta(hours=1), tz)),
        ("http://localhost/tag/ports/", dates.iso_local(newest, tz)),
    ]
    for loc, _ in urls:
        assert client.get(loc).status_code == 200, loc


def test_with_many_tags_each_initial_has_a_page_of_its_own(
    client: FlaskClient, make_article, monkeypatch: pytest.MonkeyPatch
) -> None:
    from blog.views import tag as tag_views

    monkeypatch.setattr(tag_views, "ONE_PAGE_TAGS", 3)
    tagged(make_article, "Energy", "Économie", "Sport", "2026 vote", "علوم", title="Round-up")

    index = page(client, "/tags/")

    # Too many for one page: the initials, each with its number of tags, and no tags.
    assert entries(index) == []
    initials = re.search(r'<nav class="topic-initials"[^>]*>(.*?)</nav>', index, re.S)
    assert initials, index
    assert re.findall(
        r'<a href="([^"]+)"(?: aria-label="[^"]+")?>([^<]+) '
        r'<span class="count">\((\d+)\)</span></a>',
        initials[1],
    ) == [
        ("/tags/other/", "#", "1"),
        ("/tags/E/", "E", "2"),
        ("/tags/S/", "S", "1"),
        ("/tags/%D8%B9/", "ع", "1"),
    ]
    letter = page(client, "/tags/E/")
    assert entries(letter) == [("/tag/economie/", "Économie"), ("/tag/energy/", "Energy")]
    assert "<title>Tags: E &ndash; " in letter and '<h1 class="topics-title">Tags: E</h1>' in letter
    assert '<a href="/tags/E/" aria-current="page">E</a>' in letter
    assert 'aria-label="Other tags (1)">#' in index
    assert entries(page(client, "/tags/other/")) == [("/tag/2026-vote/", "2026 vote")]
    assert entries(page(client, "/tags/%D8%B9/")) == [("/tag/%D8%B9%D9%84%D9%88%D9%85/", "علوم")]
    for missing in ("/tags/Z/", "/tags/e/", "/tags/%23/", "/tags/" + "E" * 300 + "/"):
        assert client.get(missing).status_code == 404, missing


def test_names_sort_as_read_whatever_their_marks(client: FlaskClient, make_article) -> None:
    # Compatibility letters (ℤ, №) as their plain letters, case after that; an invisible
    # direction mark is no initial.
    tagged(make_article, "zebra", "ℤ numbers", "№ 5", "apple", "\u200fשלום", title="Marks")

    names = [name for _, name in entries(page(client, "/tags/"))]

    assert names == ["apple", "№ 5", "ℤ numbers", "zebra", "\u200fשלום"]
    assert [letter for _, letter in GROUP.findall(page(client, "/tags/"))] == ["A", "N", "Z", "ש"]
