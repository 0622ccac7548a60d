"""Author pages: an author's visible articles, newest first, a page at a time, linked from
every byline; each author's feed, and the sitemap of their pages."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from markupsafe import escape
from test_http_cache import trashed_just_after
from test_pages import follow_older, rel_links, teasers
from test_tags import page

from blog import accounts, dates
from blog.dates import utcnow
from blog.extensions import db
from blog.models import Article

from conftest import at_local

ATOM = "{http://www.w3.org/2005/Atom}"
SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"


def _two_authors(make_article, make_user) -> None:
    """amina: three visible reports, a draft, a scheduled and a trashed one; bilal: one."""
    amina, bilal = make_user("amina"), make_user("bilal")
    now = utcnow()
    for n in range(3):
        make_article(title=f"Report {n}", author=amina, published_at=now - timedelta(hours=5 - n))
    make_article(title="Someone else", author=bilal)
    make_article(title="Draft", author=amina, status="draft")
    make_article(title="Scheduled", author=amina, published_at=now + timedelta(hours=2))
    make_article(title="Trashed", author=amina, deleted_at=now)


def test_an_author_page_lists_the_visible_articles_they_wrote_newest_first(
    client: FlaskClient, make_article, make_user
) -> None:
    _two_authors(make_article, make_user)

    html = page(client, "/author/amina/")

    assert teasers(html) == ["Report 2", "Report 1", "Report 0"]
    assert '<h1 class="author-title">Articles by <span dir="auto">amina</span></h1>' in html
    assert "<title>amina &ndash; " in html
    assert 'class="day-strip"' in html and "Total: 4 articles" in html
    assert (
        html.count('<span class="byline"><a href="/author/amina/" rel="author">amina</a></span>')
        == 3
    )
    assert teasers(page(client, "/author/bilal/")) == ["Someone else"]


def test_every_byline_leads_to_its_authors_page(
    client: FlaskClient, make_article, make_user
) -> None:
    article = make_article(title="Signed piece", author=make_user("reem.al-harbi"))

    home = page(client, "/")
    shown = page(client, f"/article/{article.id}/{article.slug}")

    assert (
        '<span class="byline"><a href="/author/reem.al-harbi/" rel="author">'
        "reem.al-harbi</a></span>" in home
    )
    assert (
        '<span class="byline">By <a href="/author/reem.al-harbi/" rel="author">'
        "reem.al-harbi</a></span>"
    ) in shown
    assert teasers(page(client, "/author/reem.al-harbi/")) == ["Signed piece"]


def test_a_name_with_letters_of_any_script_is_written_out_in_its_address(
    client: FlaskClient, make_article, make_user
) -> None:
    make_article(title="By Çelik", author=make_user("Çelik"))

    assert '<a href="/author/%C3%87elik/" rel="author">Çelik</a>' in page(client, "/")
    assert teasers(page(client, "/author/%C3%87elik/")) == ["By Çelik"]


@pytest.mark.parametrize("name", [".", "..", "a/b", "a?b", "two words"])
def test_a_name_no_address_can_hold_is_a_byline_without_a_link(
    client: FlaskClient, make_article, make_user, name: str
) -> None:
    # Older rows may hold names the site no longer takes: "." and ".." a browser reads as
    # steps along the path, "/" and "?" end the name. Their bylines link nowhere.
    article = make_article(title="By an odd name", author=make_user(name))

    home = page(client, "/")
    shown = page(client, f"/article/{article.id}/{article.slug}")

    assert f'<span class="byline">{escape(name)}</span>' in home
    assert f'<span class="byline">By {escape(name)}</span>' in shown
    assert 'rel="author"' not in home + shown


@pytest.mark.parametrize("name", [".", "..", "..."])
def test_a_new_user_may_not_be_named_with_dots_alone(name: str) -> None:
    with pytest.raises(ValueError, match="at least one letter or digit"):
        accounts.check_username(name)
    accounts.check_username(f"{name}a")  # a letter among them will do


def test_author_pages_page_through_every_article_once_both_ways(
    make_app: Callable[..., Flask], make_article, make_user
) -> None:
    app = make_app(PER_PAGE=3)
    client = app.test_client()
    with app.app_context():
        hana, other = make_user("hana"), make_user("other")
        start = utcnow() - timedelta(days=3)
        expected = []
        for n in range(8):
            # Pairs share an instant (ties broken by id); others' articles lie in between.
            at = start + timedelta(hours=n // 2)
            make_article(title=f"Column {n}", author=hana, published_at=at)
            make_article(title=f"Other {n}", author=other, published_at=at + timedelta(minutes=1))
            expected.insert(0, f"Column {n}")

    seen, pages = follow_older(client, "/author/hana/")
    assert seen == expected
    assert len(pages) == 3
    assert "prev" not in rel_links(pages[0])
    assert '<link rel="next" href="/author/hana/?before=' in pages[0]

    back = page(client, rel_links(pages[2])["prev"])
    assert teasers(back) == expected[3:6]
    first = client.get(rel_links(back)["prev"])
    assert first.status_code == 302
    assert first.headers["Location"] == "/author/hana/"


@pytest.mark.parametrize(
    "url",
    [
        "/author/nobody/",
        "/author/editor/",  # an account with no visible article
        "/author/drafter/",  # drafts alone
        "/author/amina/?before=abc",
        "/author/amina/?before=1000000.1",  # before every article: an empty page
        "/author/drafter/?after=1700000000.1",  # no newer page: back to an empty first one
        "/author/%00/",
        "/author/" + "x" * 65 + "/",
        "/author/%FF%FE/",
        "/author/AMINA/",
    ],
)
def test_unknown_authors_empty_pages_and_bad_addresses_answer_404(
    client: FlaskClient, make_article, make_user, url: str
) -> None:
    make_user("editor", "editor")
    make_article(title="Draft", author=make_user("drafter"), status="draft")
    make_article(title="Published", author=make_user("amina"))

    assert client.get(url).status_code == 404, url


# --- an author's feed ------------------------------------------------------------------------


def _feed_titles(body: bytes) -> list[str]:
    root = ET.fromstring(body)  # refuses anything that is not well-formed XML
    return [entry.findtext(f"{ATOM}title") for entry in root.findall(f"{ATOM}entry")]


def test_an_author_has_a_feed_of_their_latest_visible_articles(
    app: Flask, client: FlaskClient, make_article, make_user
) -> None:
    app.config["PER_PAGE"] = 2
    _two_authors(make_article, make_user)

    response = client.get("/author/amina/feed.xml")

    assert response.status_code == 200
    assert response.mimetype == "application/atom+xml"
    assert "ETag" in response.headers
    root = ET.fromstring(response.data)
    assert root.findtext(f"{ATOM}title") == "Hijri Blog: amina"
    assert root.findtext(f"{ATOM}id") == "http://localhost/author/amina/"
    links = {link.get("rel"): link.get("href") for link in root.findall(f"{ATOM}link")}
    assert links == {
        "alternate": "http://localhost/author/amina/",
        "self": "http://localhost/author/amina/feed.xml",
    }
    assert _feed_titles(response.data) == ["Report 2", "Report 1"]
    entry = root.find(f"{ATOM}entry")
    assert entry.findtext(f"{ATOM}author/{ATOM}name") == "amina"
    assert "<p>Body of article" in entry.findtext(f"{ATOM}content")
    assert _feed_titles(client.get("/author/bilal/feed.xml").data) == ["Someone else"]


def test_an_author_page_points_feed_readers_to_their_feed(
    client: FlaskClient, make_article, make_user
) -> None:
    make_article(title="By Çelik", author=make_user("Çelik"))

    html = page(client, "/author/%C3%87elik/")

    assert (
        '<link rel="alternate" type="application/atom+xml"'
        ' title="Hijri Blog: Çelik" href="/author/%C3%87elik/feed.xml">'
    ) in html
    assert '<a href="/author/%C3%87elik/feed.xml">Feed of this author</a>' in html
    assert _feed_titles(client.get("/author/%C3%87elik/feed.xml").data) == ["By Çelik"]


@pytest.mark.parametrize(
    "name", ["nobody", "editor", "drafter", "soon", "AMINA", "%00", "x" * 65, "two%20words"]
)
def test_an_author_feed_answers_404_where_their_page_would(
    client: FlaskClient, make_article, make_user, name: str
) -> None:
    make_user("editor", "editor")
    make_article(title="Draft", author=make_user("drafter"), status="draft")
    make_article(title="Later", author=make_user("soon"), published_at=utcnow() + timedelta(days=1))
    make_article(title="Published", author=make_user("amina"))
    make_article(title="Odd", author=make_user("two words"))

    assert client.get(f"/author/{name}/feed.xml").status_code == 404
    assert client.get(f"/author/{name}/").status_code == 404


def test_an_author_feed_changes_when_they_publish_and_when_an_article_leaves(
    client: FlaskClient, make_article, make_user
) -> None:
    amina = make_user("amina")
    first = make_article(title="First", author=amina, published_at=utcnow() - timedelta(hours=2))
    response = client.get("/author/amina/feed.xml")
    etag = response.headers["ETag"]
    assert client.get("/author/amina/feed.xml", headers={"If-None-Match": etag}).status_code == 304

    make_article(title="Second", author=amina)
    second = client.get("/author/amina/feed.xml", headers={"If-None-Match": etag})
    assert second.status_code == 200
    assert _feed_titles(second.data) == ["Second", "First"]

    db.session.get(Article, first.id).deleted_at = utcnow()
    db.session.commit()
    assert _feed_titles(client.get("/author/amina/feed.xml").data) == ["Second"]


# --- the authors' sitemap ------------------------------------------------------------------


def _sitemap(body: bytes, element: str) -> list[tuple[str, str | None]]:
    root = ET.fromstring(body)
    return [
        (node.findtext(f"{SITEMAP}loc"), node.findtext(f"{SITEMAP}lastmod"))
        for node in root.findall(f"{SITEMAP}{element}")
    ]


@pytest.mark.parametrize("zone", ["Pacific/Kiritimati", "Pacific/Pago_Pago"])
def test_the_sitemap_lists_each_authors_page_changed_with_their_newest_article(
    make_app: Callable[..., Flask], make_article, make_user, zone: str
) -> None:
    app = make_app(TIMEZONE=zone)
    client = app.test_client()
    assert _sitemap(client.get("/sitemap.xml").data, "sitemap") == []

    with app.app_context():
        newest = at_local(-1, 0, 10, zone)
        late = at_local(-2, 23, 50, zone)
        zaid, amina = make_user("zaid"), make_user("amina")
        make_article(title="Docks", author=zaid, published_at=newest)
        make_article(title="Older docks", author=zaid, published_at=late - timedelta(days=3))
        make_article(title="Crossing", author=amina, published_at=late)
        make_article(title="Later", author=amina, published_at=utcnow() + timedelta(days=1))
        make_article(title="Draft", author=make_user("drafter"), status="draft")
        make_article(title="Odd", author=make_user("two words"), published_at=late)
        make_user("editor", "editor")

    index = [loc for loc, _ in _sitemap(client.get("/sitemap.xml").data, "sitemap")]
    assert index[-1] == "http://localhost/sitemap-authors.xml"
    response = client.get(index[-1])
    assert response.status_code == 200 and response.mimetype == "application/xml"
    tz = dates.site_zone(zone)
    # Sorted by name; the scheduled article is not amina's newest yet, and "two words" has
    # no page an address could name.
    assert _sitemap(response.data, "url") == [
        ("http://localhost/author/amina/", dates.iso_local(late, tz)),
        ("http://localhost/author/zaid/", dates.iso_local(newest, tz)),
    ]
    for loc, _ in _sitemap(response.data, "url"):
        assert client.get(loc).status_code == 200, loc


def test_the_sitemap_index_names_the_authors_sitemap_only_when_it_lists_someone(
    client: FlaskClient, make_article, make_user
) -> None:
    make_article(title="Odd", author=make_user("two words"))  # a name no address can hold
    make_article(title="Later", author=make_user("soon"), published_at=utcnow() + timedelta(days=1))
    make_article(title="Draft", author=make_user("drafter"), status="draft")

    index = [loc for loc, _ in _sitemap(client.get("/sitemap.xml").data, "sitemap")]

    assert "http://localhost/sitemap-authors.xml" not in index
    assert _sitemap(client.get("/sitemap-authors.xml").data, "url") == []


def test_an_article_coming_due_joins_its_authors_feed_and_the_sitemap_without_a_write(
    client: FlaskClient, make_article, make_user, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_article(title="Now", author=make_user("amina"))
    later = utcnow() + timedelta(hours=1)
    make_article(title="Later", author=make_user("zaid"), published_at=later)
    assert client.get("/author/zaid/feed.xml").status_code == 404
    authors = [loc for loc, _ in _sitemap(client.get("/sitemap-authors.xml").data, "url")]
    assert authors == ["http://localhost/author/amina/"]

    # Its time comes: the cached answers give way, with no write in between.
    monkeypatch.setattr(dates, "utcnow", lambda: later + timedelta(seconds=1))

    assert _feed_titles(client.get("/author/zaid/feed.xml").data) == ["Later"]
    authors = [loc for loc, _ in _sitemap(client.get("/sitemap-authors.xml").data, "url")]
    assert authors == ["http://localhost/author/amina/", "http://localhost/author/zaid/"]


def test_a_write_while_the_authors_sitemap_is_made_never_leaves_it_cached_as_that_writes(
    client: FlaskClient, make_article, make_user, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Another worker trashes zaid's only article just after this sitemap read the authors:
    # the sitemap must not be kept under the version that write made.
    make_article(title="Stays", author=make_user("amina"))
    target = make_article(title="Goes", author=make_user("zaid"))
    page(client, "/")  # the process knows the version before the write
    with trashed_just_after(monkeypatch, "writers", target.id):
        made = [loc for loc, _ in _sitemap(client.get("/sitemap-authors.xml").data, "url")]
    assert "http://localhost/author/zaid/" in made  # made from the authors before the write

    again = [loc for loc, _ in _sitemap(client.get("/sitemap-authors.xml").data, "url")]
    assert again == ["http://localhost/author/amina/"]
