"""Author pages: an author's visible articles, newest first, a page at a time, linked from
every byline."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from test_pages import follow_older, rel_links, teasers
from test_tags import page

from blog.dates import utcnow


def test_an_author_page_lists_the_visible_articles_they_wrote_newest_first(
    client: FlaskClient, make_article, make_user
) -> None:
    amina, bilal = make_user("amina"), make_user("bilal")
    now = utcnow()
    for n in range(3):
        make_article(title=f"Report {n}", author=amina, published_at=now - timedelta(hours=5 - n))
    make_article(title="Someone else", author=bilal)
    make_article(title="Draft", author=amina, status="draft")
    make_article(title="Scheduled", author=amina, published_at=now + timedelta(hours=2))
    make_article(title="Trashed", author=amina, deleted_at=now)

    html = page(client, "/author/amina/")

    assert teasers(html) == ["Report 2", "Report 1", "Report 0"]
    assert '<h1 class="author-title">Articles by <span dir="auto">amina</span></h1>' in html
    assert "<title>amina &ndash; " in html
    assert 'class="day-strip"' in html and "Total: 4 articles" in html
    assert html.count('<span class="byline"><a href="/author/amina/">amina</a></span>') == 3
    assert teasers(page(client, "/author/bilal/")) == ["Someone else"]


def test_every_byline_leads_to_its_authors_page(
    client: FlaskClient, make_article, make_user
) -> None:
    article = make_article(title="Signed piece", author=make_user("reem.al-harbi"))

    home = page(client, "/")
    shown = page(client, f"/article/{article.id}/{article.slug}")

    assert '<span class="byline"><a href="/author/reem.al-harbi/">reem.al-harbi</a></span>' in home
    assert (
        '<span class="byline">By <a href="/author/reem.al-harbi/" rel="author">'
        "reem.al-harbi</a></span>"
    ) in shown
    assert teasers(page(client, "/author/reem.al-harbi/")) == ["Signed piece"]


@pytest.mark.parametrize(
    ("name", "address"),
    [(".", "/author/%2E/"), ("..", "/author/%2E%2E/"), ("Çelik", "/author/%C3%87elik/")],
)
def test_names_a_path_would_misread_are_written_out(
    client: FlaskClient, make_article, make_user, name: str, address: str
) -> None:
    make_article(title="By an odd name", author=make_user(name))

    assert f'<a href="{address}">{name}</a>' in page(client, "/")
    assert teasers(page(client, address)) == ["By an odd name"]


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
