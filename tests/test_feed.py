"""The Atom feeds, the site's and each tag's: what feed readers get, with local times and
Hijri dates, never broken XML."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta

import pytest
from test_tags import tagged

from blog import dates, publishing
from blog.extensions import db
from blog.models import Tag

from conftest import at_local

ATOM = "{http://www.w3.org/2005/Atom}"


def entries(body: bytes) -> list[ET.Element]:
    root = ET.fromstring(body)  # refuses anything that is not well-formed XML
    assert root.tag == f"{ATOM}feed"
    return root.findall(f"{ATOM}entry")


def text(entry: ET.Element, name: str) -> str:
    found = entry.find(f"{ATOM}{name}")
    assert found is not None, name
    return found.text or ""


def test_the_feed_has_the_latest_visible_articles_newest_first(app, client, make_article):
    app.config["PER_PAGE"] = 3
    now = dates.utcnow()
    for n in range(4):
        make_article(title=f"Story {n}", published_at=now - timedelta(hours=5 - n))
    make_article(title="Draft story", status="draft")
    make_article(title="Scheduled story", published_at=now + timedelta(hours=2))
    make_article(title="Trashed story", deleted_at=now)

    response = client.get("/feed.xml")

    assert response.status_code == 200
    assert response.mimetype == "application/atom+xml"
    found = entries(response.data)
    assert [text(entry, "title") for entry in found] == ["Story 3", "Story 2", "Story 1"]
    link = found[0].find(f"{ATOM}link").get("href")
    article = client.get(link)
    assert article.status_code == 200
    assert "<h1" in article.get_data(as_text=True) and "Story 3" in article.get_data(as_text=True)


def test_every_page_points_feed_readers_to_the_feed(client, make_article):
    make_article(title="Story")
    html = client.get("/").get_data(as_text=True)
    assert (
        '<link rel="alternate" type="application/atom+xml" title="Hijri Blog" href="/feed.xml">'
        in html
    )
    assert '<a class="feed-link" href="/feed.xml">Feed</a>' in html


@pytest.mark.parametrize("zone", ["Pacific/Kiritimati", "Pacific/Pago_Pago"])
@pytest.mark.parametrize(("hour", "minute"), [(0, 10), (23, 50)])
def test_entries_carry_local_times_and_hijri_dates(make_app, make_article, zone, hour, minute):
    app = make_app(TIMEZONE=zone)
    tz = dates.site_zone(zone)
    with app.app_context():
        instant = at_local(-1, hour, minute, zone)
        make_article(title="Night news", published_at=instant)
    local = dates.to_local(instant, tz)

    (entry,) = entries(app.test_client().get("/feed.xml").data)

    assert text(entry, "published") == local.isoformat(timespec="seconds")
    assert text(entry, "published").startswith(f"{local:%Y-%m-%dT%H:%M}:00")
    content = text(entry, "content")  # the HTML, unescaped once by the XML parser
    assert f"{local.day} {local:%B %Y} {hour}:{minute:02d}</time>" in content
    assert dates.hijri_label(local.date(), dates.HijriCalendar()) in content
    assert "<p>Body of article 1.</p>" in content


def test_titles_and_bodies_reach_readers_as_text_and_cleaned_html(client, make_article):
    make_article(
        title='<script>alert("t")</script> & more',
        summary='Less < more & "quoted"',
        body='Hello <img src=x onerror="alert(1)"> <b>bold</b>',
    )
    body = client.get("/feed.xml").data
    (entry,) = entries(body)

    assert text(entry, "title") == '<script>alert("t")</script> & more'
    assert text(entry, "summary") == 'Less < more & "quoted"'
    assert b"<script>" not in body  # escaped in the XML
    content = text(entry, "content")
    assert "<b>bold</b>" in content
    assert "onerror" not in content  # cleaned when it was saved


def test_a_control_character_in_a_stored_title_leaves_the_feed_readable(client, make_article):
    # Stored before titles were checked, or written to the database by hand.
    make_article(title="Bell\x07 and form feed\x0c", summary="Tab\tstays", body="No\uffffcharacter")
    (entry,) = entries(client.get("/feed.xml").data)
    assert text(entry, "title") == "Bell and form feed"
    assert "<p>Nocharacter</p>" in text(entry, "content")
    assert text(entry, "summary") == "Tab\tstays"


def test_entries_name_author_and_tags_and_keep_their_id_when_the_slug_changes(client, make_article):
    article = make_article(title="Tagged", tags=[Tag(name="weather", slug="weather")])
    (before,) = entries(client.get("/feed.xml").data)
    assert text(before.find(f"{ATOM}author"), "name") == "writer"
    assert [c.get("term") for c in before.findall(f"{ATOM}category")] == ["weather"]

    article.slug = "renamed"
    db.session.commit()
    (after,) = entries(client.get("/feed.xml").data)
    assert text(after, "id") == text(before, "id")
    assert after.find(f"{ATOM}link").get("href").endswith("/renamed")


def test_the_feed_answers_304_until_something_is_published(client, make_article):
    make_article(title="First")
    first = client.get("/feed.xml")
    etag = first.headers["ETag"]
    assert client.get("/feed.xml", headers={"If-None-Match": etag}).status_code == 304

    make_article(title="Second")
    second = client.get("/feed.xml", headers={"If-None-Match": etag})
    assert second.status_code == 200
    assert [text(entry, "title") for entry in entries(second.data)] == ["Second", "First"]


def test_an_empty_site_has_an_empty_feed(client):
    response = client.get("/feed.xml")
    assert response.status_code == 200
    assert entries(response.data) == []
    assert ET.fromstring(response.data).find(f"{ATOM}updated").text


def test_behind_a_proxy_under_a_path_every_address_is_the_readers_own(make_app, make_article):
    app = make_app(PROXY_FIX=1)
    with app.app_context():
        article = make_article(title="Proxied")
        article_id, slug = article.id, article.slug
    client = app.test_client()
    headers = {"X-Forwarded-Proto": "https", "Host": "news.example"}

    body = client.get("/feed.xml", base_url="http://news.example/blog", headers=headers).data

    root = ET.fromstring(body)
    assert root.get("{http://www.w3.org/XML/1998/namespace}base") == "https://news.example/blog/"
    (entry,) = entries(body)
    assert text(entry, "id") == f"https://news.example/blog/article/{article_id}/"
    link = entry.find(f"{ATOM}link").get("href")
    assert link == f"https://news.example/blog/article/{article_id}/{slug}"


def test_a_scheduled_article_joins_the_feed_when_it_comes_due(client, make_article, monkeypatch):
    real_now = dates.utcnow()
    due = real_now + timedelta(hours=1)
    make_article(title="Earlier news", published_at=real_now - timedelta(hours=1))
    make_article(title="Scheduled news", published_at=due)
    before = client.get("/feed.xml")
    assert [text(entry, "title") for entry in entries(before.data)] == ["Earlier news"]

    monkeypatch.setattr(dates, "utcnow", lambda: due + timedelta(seconds=1))
    after = client.get("/feed.xml", headers={"If-None-Match": before.headers["ETag"]})

    assert after.status_code == 200
    titles = [text(entry, "title") for entry in entries(after.data)]
    assert titles == ["Scheduled news", "Earlier news"]


def test_the_feed_was_updated_at_its_latest_instant_across_a_fall_back(make_app, make_article):
    # New York, 2 November 2025: 01:00-02:00 came twice, first at -04:00, then at -05:00.
    app = make_app(TIMEZONE="America/New_York")
    first = datetime(2025, 11, 2, 5, 30, tzinfo=UTC)  # 01:30-04:00
    second = datetime(2025, 11, 2, 6, 10, tzinfo=UTC)  # 01:10-05:00, 40 minutes later
    with app.app_context():
        make_article(title="First", published_at=first, updated_at=first)
        make_article(title="Second", published_at=second, updated_at=second)
    root = ET.fromstring(app.test_client().get("/feed.xml").data)
    assert root.findtext(f"{ATOM}updated") == "2025-11-02T01:10:00-05:00"


# --- a tag's feed --------------------------------------------------------------------------


def test_a_tag_has_a_feed_of_its_latest_visible_articles(app, client, make_article):
    app.config["PER_PAGE"] = 2
    now = dates.utcnow()
    for n in range(3):
        tagged(
            make_article, "Energy", title=f"Energy {n}", published_at=now - timedelta(hours=5 - n)
        )
    tagged(make_article, "Sport", title="Sport story")
    tagged(make_article, "Energy", title="Energy draft", status="draft", published_at=None)
    tagged(make_article, "Energy", title="Energy later", published_at=now + timedelta(hours=2))
    tagged(make_article, "Energy", title="Energy trashed", deleted_at=now)

    response = client.get("/tag/energy/feed.xml")

    assert response.status_code == 200
    assert response.mimetype == "application/atom+xml"
    assert "ETag" in response.headers
    root = ET.fromstring(response.data)
    assert root.find(f"{ATOM}title").text == "Hijri Blog: Energy"
    assert root.find(f"{ATOM}id").text == "http://localhost/tag/energy/"
    links = {link.get("rel"): link.get("href") for link in root.findall(f"{ATOM}link")}
    assert links == {
        "alternate": "http://localhost/tag/energy/",
        "self": "http://localhost/tag/energy/feed.xml",
    }
    found = entries(response.data)
    assert [text(entry, "title") for entry in found] == ["Energy 2", "Energy 1"]
    assert "<p>Body of article" in text(found[0], "content")


def test_a_tag_page_points_feed_readers_to_its_feed(client, make_article):
    tagged(make_article, "Şehir <haber>", title="City story")
    html = client.get("/tag/sehir-haber/").get_data(as_text=True)
    assert (
        '<link rel="alternate" type="application/atom+xml"'
        ' title="Hijri Blog: Şehir &lt;haber&gt;" href="/tag/sehir-haber/feed.xml">'
    ) in html
    assert '<a href="/tag/sehir-haber/feed.xml">Feed of this tag</a>' in html
    root = ET.fromstring(client.get("/tag/sehir-haber/feed.xml").data)
    assert root.find(f"{ATOM}title").text == "Hijri Blog: Şehir <haber>"


def test_a_tag_feed_answers_404_where_its_page_would(client, make_article):
    tagged(make_article, "Budget", title="Budget draft", status="draft", published_at=None)
    later = dates.utcnow() + timedelta(days=1)
    tagged(make_article, "Plans", title="Plans soon", published_at=later)
    for slug in ("budget", "plans", "no-such-tag", "x" * 101, "a%00b"):
        assert client.get(f"/tag/{slug}/feed.xml").status_code == 404, slug
        assert client.get(f"/tag/{slug}/").status_code == 404, slug


def test_a_tag_feed_changes_when_an_article_is_tagged_and_untagged(client, make_article):
    first = tagged(make_article, "Rain", title="First rain")
    response = client.get("/tag/rain/feed.xml")
    etag = response.headers["ETag"]
    assert client.get("/tag/rain/feed.xml", headers={"If-None-Match": etag}).status_code == 304

    tagged(make_article, "Rain", title="Second rain")
    second = client.get("/tag/rain/feed.xml", headers={"If-None-Match": etag})
    assert [text(entry, "title") for entry in entries(second.data)] == ["Second rain", "First rain"]
    publishing.set_tags(first, [])
    db.session.commit()
    third = client.get("/tag/rain/feed.xml")
    assert [text(entry, "title") for entry in entries(third.data)] == ["Second rain"]
