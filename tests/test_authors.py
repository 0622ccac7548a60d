"""Author pages: an author's visible articles, newest first, a page at a time, linked from
every byline."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from markupsafe import escape
from test_pages import follow_older, rel_links, teasers
from test_tags import page

from blog import accounts
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
