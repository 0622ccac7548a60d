"""Tag pages: a tag's visible articles, newest first, a page at a time, linked from articles.

Each saved tag link carries its article's instant while the article is live
(article_tags.live_at); these tests check the pages readers see and that stored instant
after every kind of write.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from flask_migrate import upgrade
from test_admin_articles import edit_form, form
from test_auth import sign_in
from test_pages import follow_older, rel_links, teasers

from blog import create_app, dates, engines, publishing
from blog.dates import utcnow
from blog.extensions import db
from blog.models import Article, Tag, article_tags

from conftest import BACKENDS, base_config, own_pg_database


def tagged(make_article: Callable[..., Article], *names: str, **fields: object) -> Article:
    """An article (published an hour ago unless told otherwise) carrying the named tags."""
    article = make_article(**fields)
    publishing.set_tags(article, names)
    db.session.commit()
    return article


def links_out_of_step() -> list[tuple[int, int, object, object]]:
    """Tag links whose live_at is not their article's instant-if-live: none, when all is well."""
    rows = db.session.execute(
        sa.select(article_tags.c.article_id, article_tags.c.tag_id, article_tags.c.live_at)
    ).all()
    wrong = []
    for article_id, tag_id, live_at in rows:
        article = db.session.get(Article, article_id, populate_existing=True)
        expected = article.published_at if article.is_live else None
        if live_at is not None:
            live_at = dates.as_utc(live_at)
        if live_at != expected:
            wrong.append((article_id, tag_id, live_at, expected))
    return wrong


def page(client: FlaskClient, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return response.get_data(as_text=True)


def test_a_tag_page_lists_the_visible_articles_carrying_it_newest_first(
    app: Flask, client: FlaskClient, make_article
) -> None:
    now = utcnow()
    for n in range(3):
        tagged(
            make_article, "Economy", title=f"Market {n}", published_at=now - timedelta(hours=5 - n)
        )
    tagged(
        make_article, "Economy", "Trade", title="Port deal", published_at=now - timedelta(hours=1)
    )
    tagged(make_article, "Sport", title="Cup final", published_at=now - timedelta(minutes=30))
    tagged(make_article, "Economy", title="Draft budget", status="draft")
    tagged(make_article, "Economy", title="Scheduled budget", published_at=now + timedelta(hours=2))
    tagged(make_article, "Economy", title="Trashed budget", deleted_at=now)

    html = page(client, "/tag/economy/")

    assert teasers(html) == ["Port deal", "Market 2", "Market 1", "Market 0"]
    assert '<h1 class="tag-title">Tagged <span dir="auto">Economy</span></h1>' in html
    assert "<title>Economy &ndash; " in html
    # The masthead's day strip and total are there as on every reader page.
    assert 'class="day-strip"' in html and "Total: 5 articles" in html
    assert teasers(page(client, "/tag/trade/")) == ["Port deal"]
    # Bylines as on every listing: each a link to the author's page.
    assert '<span class="byline"><a href="/author/writer/" rel="author">writer</a></span>' in html


def test_an_article_page_links_each_of_its_tags_to_the_tag_page(
    client: FlaskClient, make_article
) -> None:
    article = tagged(make_article, "Science", "Space travel", "علوم", title="Launch day")

    html = page(client, f"/article/{article.id}/{article.slug}")

    tags = re.search(r'<ul class="tags"[^>]*>(.*?)</ul>', html, re.S)
    assert tags, html
    found = re.findall(r'<a href="([^"]+)" rel="tag">([^<]+)</a>', tags[1])
    assert found == [
        ("/tag/science/", "Science"),
        ("/tag/space-travel/", "Space travel"),
        ("/tag/%D8%B9%D9%84%D9%88%D9%85/", "علوم"),
    ]
    for href, _ in found:
        assert teasers(page(client, href)) == ["Launch day"], href


def test_tag_pages_page_through_every_article_once_both_ways(
    make_app: Callable[..., Flask], make_article
) -> None:
    app = make_app(PER_PAGE=3)
    client = app.test_client()
    start = utcnow() - timedelta(days=3)
    expected = []
    for n in range(8):
        # Pairs share an instant (ties broken by id); untagged articles lie in between.
        at = start + timedelta(hours=n // 2)
        tagged(make_article, "Health", title=f"Clinic {n}", published_at=at)
        make_article(title=f"Other {n}", published_at=at + timedelta(minutes=1))
        expected.insert(0, f"Clinic {n}")

    seen, pages = follow_older(client, "/tag/health/")
    assert seen == expected
    assert len(pages) == 3
    assert "prev" not in rel_links(pages[0])
    assert '<link rel="next" href="/tag/health/?before=' in pages[0]

    back = page(client, rel_links(pages[2])["prev"])
    assert teasers(back) == expected[3:6]
    first = client.get(rel_links(back)["prev"])
    assert first.status_code == 302
    assert first.headers["Location"] == "/tag/health/"


@pytest.mark.parametrize(
    "url",
    [
        "/tag/nothing-like-it/",
        "/tag/drafts-only/",
        "/tag/economy/?before=abc",
        "/tag/economy/?before=1.2&after=3.4",
        "/tag/economy/?before=1000000.1",  # before every article: an empty page
        "/tag/drafts-only/?after=1700000000.1",  # no newer page: back to an empty first one
        "/tag/%00/",
        "/tag/" + "x" * 101 + "/",
        "/tag/%FF%FE/",
    ],
)
def test_unknown_tags_empty_pages_and_bad_addresses_answer_404(
    client: FlaskClient, make_article, url: str
) -> None:
    tagged(make_article, "Economy", title="Market")
    tagged(make_article, "Drafts only", title="Not yet", status="draft")

    response = client.get(url)

    assert response.status_code == 404
    assert "Not yet" not in response.get_data(as_text=True)


def test_saves_through_the_form_move_articles_on_and_off_tag_pages(
    app: Flask, client: FlaskClient, make_user
) -> None:
    make_user("amina", "author")
    assert sign_in(client, "amina").status_code == 303
    reader = app.test_client()

    response = client.post("/admin/articles/new", data=form(title="Bridge opens", tags="Transport"))
    assert response.status_code == 303
    article_id = int(re.search(r"/admin/articles/(\d+)/", response.headers["Location"])[1])
    assert teasers(page(reader, "/tag/transport/")) == ["Bridge opens"]

    # Retagged: off the old tag's page, onto the new one's.
    data = {**edit_form(client, article_id), "tags": "Roads, Bridges", "save": "Save"}
    assert client.post(f"/admin/articles/{article_id}/edit", data=data).status_code == 303
    assert reader.get("/tag/transport/").status_code == 404
    assert teasers(page(reader, "/tag/bridges/")) == ["Bridge opens"]

    # Back to a draft, published again, to the trash, restored.
    data = {**edit_form(client, article_id), "status": "draft", "save": "Save"}
    assert client.post(f"/admin/articles/{article_id}/edit", data=data).status_code == 303
    assert reader.get("/tag/roads/").status_code == 404
    data = {**edit_form(client, article_id), "status": "published", "save": "Save"}
    assert client.post(f"/admin/articles/{article_id}/edit", data=data).status_code == 303
    assert teasers(page(reader, "/tag/roads/")) == ["Bridge opens"]
    assert client.post(f"/admin/articles/{article_id}/delete").status_code == 303
    assert reader.get("/tag/roads/").status_code == 404
    assert client.post(f"/admin/articles/{article_id}/restore").status_code == 303
    assert teasers(page(reader, "/tag/roads/")) == ["Bridge opens"]
    assert links_out_of_step() == []


def test_a_scheduled_article_joins_its_tag_page_when_its_time_comes(
    client: FlaskClient, make_article, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_now = utcnow()
    due = real_now + timedelta(hours=1)
    tagged(
        make_article, "Culture", title="Museum reopens", published_at=real_now - timedelta(hours=1)
    )
    tagged(make_article, "Culture", title="Festival opens", published_at=due)

    assert teasers(page(client, "/tag/culture/")) == ["Museum reopens"]

    monkeypatch.setattr(dates, "utcnow", lambda: due + timedelta(seconds=1))
    assert teasers(page(client, "/tag/culture/")) == ["Festival opens", "Museum reopens"]


def test_every_write_keeps_the_links_instants_exact(app: Flask, make_article) -> None:
    now = utcnow()
    first = tagged(make_article, "A", "B", title="One", published_at=now - timedelta(days=1))
    second = tagged(make_article, "B", title="Two", status="draft")
    third = tagged(make_article, "A", title="Three", published_at=now + timedelta(days=1))
    assert links_out_of_step() == []

    first.published_at = now - timedelta(days=2)  # moved back a day
    second.status = "published"
    second.published_at = now - timedelta(hours=3)
    third.deleted_at = now
    db.session.commit()
    assert links_out_of_step() == []

    publishing.set_tags(first, ["C"])  # only the tags change
    third.deleted_at = None
    db.session.commit()
    assert links_out_of_step() == []
    assert db.session.scalar(sa.select(sa.func.count()).select_from(article_tags)) == 3

    db.session.delete(second)  # purged: its links go with it
    db.session.commit()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(article_tags)) == 2
    assert links_out_of_step() == []


def test_recount_puts_links_written_behind_the_sites_back_in_step(
    app: Flask, runner, make_article
) -> None:
    live = tagged(make_article, "A", title="Live")
    draft = tagged(make_article, "A", title="Draft", status="draft")
    with db.engine.begin() as connection:  # as a hand-made SQL change would leave them
        connection.execute(sa.update(article_tags).values(live_at=None))
        connection.execute(
            sa.update(article_tags)
            .where(article_tags.c.article_id == draft.id)
            .values(live_at=live.published_at)
        )
    assert len(links_out_of_step()) == 2

    result = runner.invoke(args=["articles", "recount"])

    assert result.exit_code == 0, result.output
    assert "Put 2 tag links back in step with their articles." in result.output
    assert links_out_of_step() == []
    again = runner.invoke(args=["articles", "recount"])
    assert "tag links" not in again.output


def test_links_out_of_step_never_show_readers_a_draft_or_an_article_not_yet_due(
    app: Flask, client: FlaskClient, make_article
) -> None:
    live = tagged(make_article, "A", title="Live story")
    draft = tagged(make_article, "A", title="Draft story", status="draft")
    soon = tagged(make_article, "A", title="Soon story", published_at=utcnow() + timedelta(days=1))
    with db.engine.begin() as connection:  # as a hand-made SQL change would leave them
        connection.execute(
            sa.update(article_tags)
            .where(article_tags.c.article_id.in_([draft.id, soon.id]))
            .values(live_at=live.published_at - timedelta(minutes=1))
        )
    for url in ("/tag/a/", "/tag/a/feed.xml"):
        shown = page(client, url)
        assert "Live story" in shown, url
        assert "Draft story" not in shown and "Soon story" not in shown, url


def test_generated_articles_are_on_their_tag_pages(app: Flask, client, runner) -> None:
    args = ["articles", "generate", "--count", "2000", "--seed", "7", "--years", "1"]
    result = runner.invoke(args=args)
    assert result.exit_code == 0, result.output
    assert links_out_of_step() == []

    # The tag's visible articles, newest first, as the articles themselves say.
    expected = db.session.scalars(
        sa.select(Article.title)
        .join(article_tags, article_tags.c.article_id == Article.id)
        .join(Tag, Tag.id == article_tags.c.tag_id)
        .where(Tag.slug == "economy", Article.status == "published")
        .where(Article.deleted_at.is_(None), Article.published_at <= utcnow())
        .order_by(Article.published_at.desc(), Article.id.desc())
        .limit(app.config["PER_PAGE"])
    ).all()
    assert len(expected) == app.config["PER_PAGE"]
    assert teasers(page(client, "/tag/economy/")) == expected


@pytest.fixture(params=BACKENDS)
def unmigrated_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database of this test's own, with no schema at all."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'blog.sqlite3'}"
        return
    with own_pg_database("_upgrade") as url:
        yield url


def test_upgrading_fills_in_the_instants_of_live_articles_links(
    unmigrated_url: str, tmp_path: Path
) -> None:
    app = create_app(base_config(unmigrated_url, tmp_path))
    row = sa.text(
        "INSERT INTO articles (id, title, slug, summary, body_markdown, body_html, status,"
        " published_at, created_at, updated_at, deleted_at, author_id, external_id, version)"
        " VALUES (:id, :title, :slug, 's', 'b', '<p>b</p>', :status, :at, :at, :at, :deleted,"
        " 1, NULL, 1)"
    )
    at = datetime(2024, 3, 10, 9, 30, tzinfo=UTC)
    stored = at.replace(tzinfo=None) if unmigrated_url.startswith("sqlite") else at
    with app.app_context():
        upgrade(revision="0005")
        with db.engine.begin() as connection:
            connection.execute(
                sa.text(
                    "INSERT INTO users (id, username, password_hash, role, active, created_at)"
                    " VALUES (1, 'amina', 'x', 'author', true, :at)"
                ),
                {"at": stored},
            )
            for n, title, status, deleted in (
                (1, "Live", "published", None),
                (2, "Draft", "draft", None),
                (3, "Trashed", "published", stored),
            ):
                values = {"title": title, "slug": title.lower(), "status": status}
                connection.execute(row, {"id": n, "at": stored, "deleted": deleted, **values})
            connection.execute(
                sa.text("INSERT INTO tags (id, name, slug) VALUES (1, 'News', 'news')")
            )
            connection.execute(
                sa.text("INSERT INTO article_tags (article_id, tag_id) VALUES (:id, 1)"),
                [{"id": 1}, {"id": 2}, {"id": 3}],
            )
        db.engine.dispose()

        upgrade()

        links = db.session.execute(
            sa.select(article_tags.c.article_id, article_tags.c.live_at).order_by(
                article_tags.c.article_id
            )
        ).all()
        assert [(n, live_at and dates.as_utc(live_at)) for n, live_at in links] == [
            (1, at),
            (2, None),
            (3, None),
        ]
        assert teasers(page(app.test_client(), "/tag/news/")) == ["Live"]
        db.session.remove()
    engines.dispose(app)


def test_demo_content_and_imports_keep_the_links_in_step(
    app: Flask, runner, tmp_path: Path
) -> None:
    assert runner.invoke(args=["demo", "load"]).exit_code == 0
    assert links_out_of_step() == []
    when = (utcnow() - timedelta(days=1)).isoformat()
    lines = [
        {
            "external_id": "x1",
            "title": "Imported",
            "body_markdown": "Text.",
            "published_at": when,
            "tags": ["Harbour trade"],
        },
        {
            "external_id": "x2",
            "title": "Imported draft",
            "body_markdown": "Text.",
            "published_at": when,
            "tags": ["Harbour trade"],
            "status": "draft",
        },
    ]
    feed = tmp_path / "in.jsonl"
    feed.write_text("".join(json.dumps(line) + "\n" for line in lines))
    result = runner.invoke(args=["articles", "import", str(feed), "--author", "importer"])
    assert result.exit_code == 0, result.output
    assert links_out_of_step() == []
    # Imported again: the first now a draft with another tag, the second published.
    lines[0].update(status="draft", tags=["Sport"])
    lines[1].update(status="published")
    feed.write_text("".join(json.dumps(line) + "\n" for line in lines))
    result = runner.invoke(args=["articles", "import", str(feed), "--author", "importer"])
    assert result.exit_code == 0, result.output
    assert links_out_of_step() == []
    assert teasers(page(app.test_client(), "/tag/harbour-trade/")) == ["Imported draft"]


def test_a_tag_page_is_cached_and_changes_when_an_article_is_tagged(
    app: Flask, client: FlaskClient, make_article
) -> None:
    tagged(make_article, "Politics", title="Vote counted")
    first = client.get("/tag/politics/")
    assert first.status_code == 200 and first.headers.get("ETag")
    again = client.get("/tag/politics/", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304

    tagged(make_article, "Politics", title="Council sits")

    fresh = client.get("/tag/politics/", headers={"If-None-Match": first.headers["ETag"]})
    assert fresh.status_code == 200
    assert teasers(fresh.get_data(as_text=True)) == ["Council sits", "Vote counted"]


def test_a_tag_typed_in_other_capitals_is_the_stored_tag(
    app: Flask, client: FlaskClient, make_user
) -> None:
    make_user("amina", "author")
    assert sign_in(client, "amina").status_code == 303
    for title, tags in (
        ("Rates rise", "Economy, Économie"),
        ("Rates fall", "economy, ÉCONOMIE"),
        ("Rates hold", "ECONOMY"),
    ):
        response = client.post("/admin/articles/new", data=form(title=title, tags=tags))
        assert response.status_code == 303

    names = db.session.scalars(sa.select(Tag.name).order_by(Tag.name)).all()
    assert names == ["Economy", "Économie"]
    reader = app.test_client()
    assert teasers(page(reader, "/tag/economy/")) == ["Rates hold", "Rates fall", "Rates rise"]
    assert teasers(page(reader, "/tag/economie/")) == ["Rates fall", "Rates rise"]
    # The preview shows the stored tag too, linked to its page.
    data = {**form(tags="economy"), "preview": "Preview"}
    del data["save"]
    preview = client.post("/admin/articles/new", data=data)
    assert '<a href="/tag/economy/" rel="tag">Economy</a>' in preview.get_data(as_text=True)


def test_a_tag_typed_with_invisible_characters_or_arabic_marks_is_the_stored_tag(
    app: Flask, client: FlaskClient, make_user
) -> None:
    # A zero-width space, a vowel mark or a tatweel changes nothing a reader sees or means.
    make_user("amina", "author")
    assert sign_in(client, "amina").status_code == 303
    for title, tags in (
        ("Lab opens", "science, علوم, اقتصاد"),
        ("Lab grows", "sci\u200bence, عُلوم, اقتصــاد"),
    ):
        response = client.post("/admin/articles/new", data=form(title=title, tags=tags))
        assert response.status_code == 303

    names = db.session.scalars(sa.select(Tag.name).order_by(Tag.name)).all()
    assert names == ["science", "اقتصاد", "علوم"]
    reader = app.test_client()
    for slug in ("science", "علوم", "اقتصاد"):
        assert teasers(page(reader, f"/tag/{slug}/")) == ["Lab grows", "Lab opens"], slug


def test_of_two_stored_tags_differing_in_case_the_exact_name_wins(app: Flask, make_article) -> None:
    older = tagged(make_article, "Economy", title="First")
    newer = tagged(make_article, title="Second")
    newer.tags = [Tag(name="economy", slug="economy-2")]  # as saved before names were folded
    db.session.commit()

    article = tagged(make_article, "economy", "ECONOMY", title="Third")

    assert sorted(tag.slug for tag in article.tags) == ["economy", "economy-2"]
    assert {tag.name: tag.slug for tag in older.tags} == {"Economy": "economy"}


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("İstanbul", "istanbul"),  # Turkish capital dotted I
        ("E\u0301conomie", "ÉCONOMIE"),  # an accent typed as a combining mark
        ("STRAẞE", "Straße"),  # capital sharp s
    ],
)
def test_names_that_differ_only_in_how_they_are_written_are_one_tag(
    app: Flask, make_article, first: str, second: str
) -> None:
    one = make_article(title="One")
    publishing.set_tags(one, publishing.tag_names(first))
    db.session.commit()
    two = make_article(title="Two")
    publishing.set_tags(two, publishing.tag_names(second))
    db.session.commit()

    assert db.session.scalar(sa.select(sa.func.count()).select_from(Tag)) == 1
    assert [tag.id for tag in two.tags] == [tag.id for tag in one.tags]
    assert publishing.tag_names(f"{first}, {second}") == [unicodedata.normalize("NFC", first)]


def test_two_names_of_one_stored_tag_link_it_once(app: Flask, make_article) -> None:
    tagged(make_article, "Economy", title="First")
    article = tagged(make_article, "Economy", "ECONOMY", title="Second")
    assert [tag.name for tag in article.tags] == ["Economy"]


def test_an_article_with_a_thousand_tags_saves_and_its_capitals_find_them(
    app: Flask, client: FlaskClient, make_user
) -> None:
    make_user("amina", "author")
    assert sign_in(client, "amina").status_code == 303
    names = [f"Topic {n}" for n in range(1000)]

    first = client.post("/admin/articles/new", data=form(title="Many", tags=", ".join(names)))
    shouted = ", ".join(name.upper() for name in names)
    second = client.post("/admin/articles/new", data=form(title="Loud", tags=shouted))

    assert first.status_code == 303 and second.status_code == 303
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Tag)) == 1000
    assert teasers(page(app.test_client(), "/tag/topic-999/")) == ["Loud", "Many"]


def test_a_tag_name_that_would_show_nothing_is_left_out_like_an_empty_one() -> None:
    # Marks and blanks alone (a zero-width space, a direction mark, a blank Braille
    # pattern) would be a link with no text on the article and on /tags/.
    assert publishing.tag_names("\u200b\u200f, \u2800, Weather, ,") == ["Weather"]
