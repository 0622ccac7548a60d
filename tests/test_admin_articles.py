"""The article form: saving, validation, preview, conflicts, slugs, drafts and scheduling."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from html import unescape
from html.parser import HTMLParser
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from markupsafe import escape
from test_auth import sign_in
from werkzeug.test import TestResponse

from blog import dates, publishing
from blog.extensions import db
from blog.models import Article, DayCount, Tag, User

FIELDS = ("title", "slug", "summary", "body", "tags", "status", "published_at")


def form(**fields: Any) -> dict[str, Any]:
    """Article form data: a valid published article unless overridden."""
    data = {
        "title": "A title",
        "slug": "",
        "summary": "",
        "body": "Some *body* text.",
        "tags": "",
        "status": "published",
        "published_at": "",
        "save": "Save",
    }
    data.update(fields)
    return data


def edit_form(client: FlaskClient, article_id: int) -> dict[str, str]:
    """Read the edit form back as the browser would submit it (inputs, textareas, selects)."""
    html = client.get(f"/admin/articles/{article_id}/edit").get_data(as_text=True)
    return form_values(html)


class _FormReader(HTMLParser):
    """Collect what a browser would submit from a page's inputs, textareas and selects."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.values: dict[str, str] = {}
        self._textarea: str | None = None
        self._select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {key: value or "" for key, value in attrs}
        if tag == "input" and a.get("type") != "submit" and "name" in a:
            self.values[a["name"]] = a.get("value", "")
        elif tag == "textarea":
            self._textarea = a.get("name")
            self.values[a["name"]] = ""
        elif tag == "select":
            self._select = a.get("name")
        elif tag == "option" and self._select and "selected" in a:
            self.values[self._select] = a.get("value", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "textarea":
            self._textarea = None
        elif tag == "select":
            self._select = None

    def handle_data(self, data: str) -> None:
        if self._textarea:
            self.values[self._textarea] += data


def form_values(html: str) -> dict[str, str]:
    """Return the values of the fields in a page, as a browser would submit them."""
    reader = _FormReader()
    reader.feed(html)
    # Browsers drop the one newline that may follow <textarea>.
    return {
        name: value.removeprefix("\r\n").removeprefix("\n")
        if name in ("body", "summary")
        else value
        for name, value in reader.values.items()
    }


def create(client: FlaskClient, **fields: Any) -> Article:
    """Save a new article through the form and return it."""
    response = client.post("/admin/articles/new", data=form(**fields))
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    article_id = int(re.search(r"/admin/articles/(\d+)/edit", response.headers["Location"])[1])
    article = db.session.get(Article, article_id)
    assert article is not None
    db.session.refresh(article)
    return article


def author_in_zone(
    make_app: Callable[..., Flask], make_user: Callable[..., User], zone: str
) -> tuple[Flask, FlaskClient]:
    """An app in a site zone and a client signed in to it as an author."""
    make_user("amina")
    app = make_app(TIMEZONE=zone)
    client = app.test_client()
    with app.app_context():
        sign_in(client, "amina")
    return app, client


def count(model: type) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model)) or 0


def text(response: TestResponse) -> str:
    return response.get_data(as_text=True)


def article_fragment(html: str) -> str:
    match = re.search(r'<article class="article">.*?</article>', html, re.S)
    assert match, html[:2000]
    return match.group(0)


@pytest.fixture
def author(client: FlaskClient, make_user: Callable[..., User]) -> User:
    """A signed-in author on `client`."""
    user = make_user("amina", "author")
    assert sign_in(client, "amina").status_code == 303
    return user


# --- the form --------------------------------------------------------------------------------


def test_new_form_has_the_contract_field_names(
    make_app: Callable[..., Flask], make_user: Callable[..., User]
) -> None:
    make_user("amina")
    client = make_app(WTF_CSRF_ENABLED=True).test_client()
    sign_in(client, "amina")
    html = text(client.get("/admin/articles/new"))
    for name in (*FIELDS, "csrf_token"):
        assert f'name="{name}"' in html, name
    assert re.search(r'<input[^>]*name="preview"[^>]*type="submit"', html)
    assert re.search(r'<input[^>]*name="save"[^>]*type="submit"', html)
    assert 'type="datetime-local"' in html
    assert re.search(r'<option[^>]*value="draft"', html)
    assert re.search(r'<option[^>]*value="published"', html)


def test_text_fields_and_the_desk_follow_the_direction_of_what_is_typed(
    client: FlaskClient, author: User
) -> None:
    # In a left-to-right box an Arabic title shows its final "!" and its number on the
    # wrong side; the reader's pages already set dir="auto" on the same text.
    create(client, title="عيد مبارك 2026!", summary="ملخص قصير (تجربة).", tags="عيد")
    html = text(client.get("/admin/articles/new"))
    for name in ("title", "summary", "body", "tags"):
        assert re.search(rf'<(?:input|textarea)[^>]*\bdir="auto"[^>]*\bname="{name}"', html), name
    desk = text(client.get("/admin/"))
    assert re.search(r'<h2 dir="auto"><a href="/admin/articles/\d+/edit">عيد مبارك 2026!</a>', desk)


def test_publish_a_new_article(app: Flask, client: FlaskClient, author: User) -> None:
    before = dates.utcnow()
    article = create(client, title="Hello world", body="First *words*.", tags="News, politics")
    assert article.author_id == author.id
    assert article.status == "published"
    assert article.slug == "hello-world"
    assert article.body_markdown == "First *words*."
    assert article.body_html == "<p>First <em>words</em>.</p>\n"
    assert article.summary == "First words."
    assert [tag.name for tag in article.tags] == ["News", "politics"]
    assert article.published_at is not None
    assert before <= article.published_at <= dates.utcnow()
    edit_page = client.get(f"/admin/articles/{article.id}/edit")
    assert "Published." in text(edit_page)  # the flash
    anonymous = app.test_client()
    assert "Hello world" in text(anonymous.get("/"))
    page = anonymous.get(f"/article/{article.id}/hello-world")
    assert page.status_code == 200
    assert "<em>words</em>" in text(page)


def test_edit_form_shows_the_stored_article(client: FlaskClient, author: User) -> None:
    article = create(
        client,
        title="Stored",
        summary="My summary",
        body="Body *md*",
        tags="a, b",
        published_at="2024-03-10T09:30",
    )
    values = edit_form(client, article.id)
    assert values["title"] == "Stored"
    assert values["slug"] == "stored"
    assert values["summary"] == "My summary"
    assert values["body"] == "Body *md*"
    assert values["tags"] == "a, b"
    assert values["status"] == "published"
    assert values["published_at"] == "2024-03-10T09:30"
    assert values["version"] == str(article.version)


def test_edit_saves_changes(client: FlaskClient, author: User) -> None:
    article = create(client, title="Before", body="Old body")
    values = edit_form(client, article.id)
    values.update(title="After", body="New body", save="Save")
    response = client.post(f"/admin/articles/{article.id}/edit", data=values)
    assert response.status_code == 303
    db.session.refresh(article)
    assert article.title == "After"
    assert article.body_markdown == "New body"
    assert article.slug == "before"  # the address does not move with the title
    assert article.summary == "New body"  # the made-up summary follows the body


# What the form says of a publish time outside the range, on a UTC site.
PUBLISH_RANGE = "from 0002-01-02T00:00 to 9998-12-30T23:59"


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"title": ""}, "title", "Give the article a title."),
        ({"title": "   "}, "title", "Give the article a title."),
        ({"title": "\u200f \u200e\u2066"}, "title", "Give the article a title readers can see."),
        ({"title": "x" * 301}, "title", "Keep the title to 300 characters or fewer."),
        ({"body": ""}, "body", "Write the article body."),
        ({"published_at": "2024-02-30T10:00"}, "published_at", "YYYY-MM-DDTHH:MM"),
        ({"published_at": "tomorrow"}, "published_at", "YYYY-MM-DDTHH:MM"),
        *(
            ({"published_at": typed}, "published_at", f"Choose a publish time {PUBLISH_RANGE}")
            for typed in (
                "9999-12-31T23:59",
                "0001-01-01T00:00",
                "9998-12-31T00:00",
                "0002-01-01T23:59",
            )
        ),
        ({"status": "secret"}, "status", "Choose draft or published."),
        # Refused, never cut: "ß" is spelt "ss" in a slug, so 101 typed make 202.
        (
            {"slug": "q" * 201},
            "slug",
            "Keep the slug to 200 characters or fewer (this one has 201).",
        ),
        (
            {"slug": "ß" * 101},
            "slug",
            "Keep the slug to 200 characters or fewer (this one comes to 202 in the address).",
        ),
        (
            {"tags": "short, Long " + "t" * 80},
            "tags",
            f"Keep each tag to 80 characters or fewer: “Long {'t' * 18}…” has 85.",
        ),
        # Cleaning it would take minutes (html5lib's time grows with the depth squared).
        (
            {"body": "Intro\n\n" + "<div><b>" * 25_000 + "deep"},
            "body",
            "The body&#39;s HTML nests elements 50,000 deep; keep it to 200 or fewer",
        ),
        # Cleaning it would keep the save past a worker's timeout: a table of 30,000 rows.
        (
            {"body": "|a|b|c|\n|-|-|-|\n" + "|1|2|3|\n" * 30_000},
            "body",
            "The body&#39;s HTML would hold about 120,005 elements (paragraphs, list items,"
            " table cells, formatting tags left open and opened again in each block); keep it"
            " to 100,000 or fewer by closing the tags you open, or split it into several"
            " articles.",
        ),
    ],
)
def test_validation_errors_keep_everything_typed(
    client: FlaskClient, author: User, fields: dict[str, str], field: str, message: str
) -> None:
    typed = form(
        title="Türkçe <b>başlık</b> & more",
        slug="my-slug",
        summary="A summary with \"quotes\" and 'apostrophes'",
        body="# Heading\n\nBody with <em>HTML</em> & Markdown.\n\nعربي",
        tags="one, two",
        published_at="2024-03-10T09:30",
    )
    typed.update(fields)
    response = client.post("/admin/articles/new", data=typed)
    assert response.status_code == 422
    html = text(response)
    assert message in html
    assert f'id="{field}-error"' in html
    values = form_values(html)
    for name in FIELDS:
        if name == "status" and fields.get("status") == "secret":
            continue
        expected = typed[name] if name == "body" else typed[name].strip()
        assert values[name] == expected, name
    assert count(Article) == 0


def test_refused_form_says_so_in_the_title_and_links_each_error_to_its_field(
    client: FlaskClient, author: User
) -> None:
    fresh = text(client.get("/admin/articles/new"))
    assert "<title>New article &ndash; " in fresh
    response = client.post("/admin/articles/new", data=form(title="", body=""))
    assert response.status_code == 422
    html = text(response)
    # The title is what a screen reader says first of a page that otherwise looks the same.
    assert "<title>Error: New article &ndash; " in html
    summary = re.search(r'<div class="form-errors" role="alert">.*?</div>', html, re.S)
    assert summary, html[:2000]
    assert '<a href="#title">Title: Give the article a title.</a>' in summary.group(0)
    assert '<a href="#body">Body: Write the article body.</a>' in summary.group(0)
    assert 'id="title"' in html and 'id="body"' in html


def test_a_file_sent_as_a_field_is_refused_like_an_empty_field(
    client: FlaskClient, author: User
) -> None:
    upload = (io.BytesIO(b"A title"), "title.txt")
    response = client.post("/admin/articles/new", data=form(title=upload, body="Kept body"))
    assert response.status_code == 422
    html = text(response)
    assert "Kept body" in html
    assert "Give the article a title." in html
    assert count(Article) == 0


def test_an_article_imported_as_html_is_edited_as_html(client: FlaskClient, author: User) -> None:
    html = "<p>2*3*4</p>\n\n    <p>Indented</p>\n<p># not a heading</p>"
    article = create(client)
    publishing.set_body(article, html=html)
    article.summary = "Kept"
    db.session.commit()
    stored = article.body_html
    values = edit_form(client, article.id)
    assert values["body"] == stored
    assert "edited and saved as HTML" in text(client.get(f"/admin/articles/{article.id}/edit"))
    values.update(title="Retitled", save="Save")
    assert client.post(f"/admin/articles/{article.id}/edit", data=values).status_code == 303
    db.session.refresh(article)
    assert (article.title, article.body_markdown, article.body_html) == ("Retitled", "", stored)
    # An edit to the HTML is cleaned and kept as HTML, in the preview as in the save.
    changed = stored.replace("Indented", "Changed") + "<script>alert(1)</script>"
    values = edit_form(client, article.id)
    values.update(body=changed, preview="Preview")
    preview = text(client.post(f"/admin/articles/{article.id}/edit", data=values))
    assert "<p>2*3*4</p>" in preview and "<p>Changed</p>" in preview
    del values["preview"]
    values.update(save="Save")
    client.post(f"/admin/articles/{article.id}/edit", data=values)
    db.session.refresh(article)
    assert article.body_html == stored.replace("Indented", "Changed")
    assert article.body_markdown == ""


def test_preview_saves_nothing_and_refills_the_form(
    app: Flask, client: FlaskClient, author: User
) -> None:
    data = form(
        title="Preview me",
        body="Some **bold** text.",
        tags="brand-new-tag",
        summary="",
        status="published",
    )
    data.pop("save")
    data["preview"] = "Preview"
    articles_before, tags_before, days_before = count(Article), count(Tag), count(DayCount)
    response = client.post("/admin/articles/new", data=data)
    assert response.status_code == 200
    html = text(response)
    assert "<strong>bold</strong>" in article_fragment(html)
    assert "brand-new-tag" in article_fragment(html)
    values = form_values(html)
    assert values["title"] == "Preview me"
    assert values["body"] == "Some **bold** text."
    assert values["tags"] == "brand-new-tag"
    assert (count(Article), count(Tag), count(DayCount)) == (
        articles_before,
        tags_before,
        days_before,
    )
    assert "Preview me" not in text(app.test_client().get("/"))


def test_preview_of_an_edit_changes_nothing(client: FlaskClient, author: User) -> None:
    article = create(client, title="Kept", body="Kept body")
    version = article.version
    values = edit_form(client, article.id)
    values.update(title="Changed", body="Changed body", preview="Preview")
    response = client.post(f"/admin/articles/{article.id}/edit", data=values)
    assert response.status_code == 200
    assert "Changed body" in article_fragment(text(response))
    db.session.expire_all()
    stored = db.session.get(Article, article.id)
    assert stored is not None
    assert (stored.title, stored.body_markdown, stored.version) == ("Kept", "Kept body", version)


def test_preview_matches_the_published_page(app: Flask, client: FlaskClient, author: User) -> None:
    fields = {
        "title": "Şeker Bayramı",
        "body": '# Başlık\n\n<p dir="rtl" lang="ar">عيد مبارك</p>\n\n- one\n- two',
        "tags": "Bayram, عيد",
        "published_at": "2024-04-10T08:15",
    }
    preview = client.post("/admin/articles/new", data={**form(**fields), "preview": "Preview"})
    article = create(client, **fields)
    page = app.test_client().get(f"/article/{article.id}/{article.slug}")
    # The same article, its headings two levels down: the preview sits under the form's h1
    # and its own h2, the title an h3 and the body's sections under it.
    shown = article_fragment(text(preview))
    assert '<h3 class="article-title" dir="auto">Şeker Bayramı</h3>' in shown
    assert "<h4>Başlık</h4>" in shown
    assert text(preview).count("<h1") == 1
    raised = re.sub(r"<(/?)h(\d)\b", lambda m: f"<{m[1]}h{int(m[2]) - 2}", shown)
    assert raised == article_fragment(text(page))


def test_preview_with_errors_shows_the_errors(client: FlaskClient, author: User) -> None:
    response = client.post("/admin/articles/new", data={**form(title=""), "preview": "Preview"})
    assert response.status_code == 422
    assert "Give the article a title." in text(response)
    assert '<article class="article">' not in text(response)


# --- conflicts -------------------------------------------------------------------------------


def test_second_of_two_editors_gets_a_conflict_and_no_text_is_lost(
    app: Flask, make_user: Callable[..., User], make_article: Callable[..., Article]
) -> None:
    make_user("eda", "editor")
    make_user("omar", "editor")
    article = make_article(title="Shared", body="Original text")
    first, second = app.test_client(), app.test_client()
    sign_in(first, "eda")
    sign_in(second, "omar")
    first_form, second_form = edit_form(first, article.id), edit_form(second, article.id)

    first_form.update(body="Eda's version of the text", save="Save")
    assert first.post(f"/admin/articles/{article.id}/edit", data=first_form).status_code == 303

    second_form.update(body="Omar's version of the text", save="Save")
    response = second.post(f"/admin/articles/{article.id}/edit", data=second_form)
    assert response.status_code == 409
    html = text(response)
    assert "Someone else changed this article" in html
    assert "Your changes are not stored" in html
    assert form_values(html)["body"] == "Omar's version of the text"  # still in the form
    assert "Eda&#39;s version of the text" in html  # the stored text, for comparison
    db.session.expire_all()
    stored = db.session.get(Article, article.id)
    assert stored is not None
    assert stored.body_markdown == "Eda's version of the text"

    # Having seen both, Omar saves again on purpose: the re-shown form allows it.
    again = form_values(html)
    again["save"] = "Save"
    assert second.post(f"/admin/articles/{article.id}/edit", data=again).status_code == 303
    db.session.expire_all()
    assert db.session.get(Article, article.id).body_markdown == "Omar's version of the text"


def plain(html: str) -> str:
    """The text of some HTML, as a reader would read it."""
    return unescape(re.sub(r"<[^>]+>", "", html)).strip()


def test_a_conflict_shows_every_stored_field_and_marks_those_the_form_would_undo(
    app: Flask, make_user: Callable[..., User], make_article: Callable[..., Article]
) -> None:
    make_user("eda", "editor")
    make_user("omar", "editor")
    article = make_article(title="Shared", body="Original text\nsecond line", summary="Old summary")
    first, second = app.test_client(), app.test_client()
    sign_in(first, "eda")
    sign_in(second, "omar")
    first_form, second_form = edit_form(first, article.id), edit_form(second, article.id)
    # Eda changes everything but the title and the body; Omar fixes the title.
    first_form.update(summary="A new summary", tags="orig, breaking", status="draft", save="Save")
    assert first.post(f"/admin/articles/{article.id}/edit", data=first_form).status_code == 303
    # A browser sends the body's lines ended by CRLF: the same body.
    second_form.update(title="Shared, fixed", body="Original text\r\nsecond line", save="Save")
    response = second.post(f"/admin/articles/{article.id}/edit", data=second_form)
    assert response.status_code == 409

    stored = {
        name: (plain(label), plain(value))
        for label, name, value in re.findall(
            r'<dt[^>]*>(.*?)</dt>\s*<dd class="stored-(\w+)">(.*?)</dd>', text(response), re.S
        )
    }
    assert stored == {
        "title": ("Title: differs from the form", "Shared"),
        "slug": ("Slug", article.slug),
        "summary": ("Summary: differs from the form", "A new summary"),
        "body": ("Body", "Original text\nsecond line"),
        "tags": ("Tags: differs from the form", "breaking, orig"),  # listed by name
        "status": ("Status: differs from the form", "draft"),
        "published_at": ("Publish time", first_form["published_at"]),
    }


def test_a_tags_only_change_also_guards_against_stale_forms(
    app: Flask, make_user: Callable[..., User], make_article: Callable[..., Article]
) -> None:
    make_user("eda", "editor")
    make_user("omar", "editor")
    article = make_article(title="Shared")
    first, second = app.test_client(), app.test_client()
    sign_in(first, "eda")
    sign_in(second, "omar")
    first_form, second_form = edit_form(first, article.id), edit_form(second, article.id)
    first_form.update(tags="only, tags", save="Save")
    assert first.post(f"/admin/articles/{article.id}/edit", data=first_form).status_code == 303
    second_form.update(save="Save")
    assert second.post(f"/admin/articles/{article.id}/edit", data=second_form).status_code == 409
    db.session.expire_all()
    assert sorted(tag.name for tag in db.session.get(Article, article.id).tags) == ["only", "tags"]


def test_a_form_without_a_version_cannot_overwrite(client: FlaskClient, author: User) -> None:
    article = create(client, body="Stored")
    response = client.post(f"/admin/articles/{article.id}/edit", data=form(body="Blind write"))
    assert response.status_code == 409
    db.session.expire_all()
    assert db.session.get(Article, article.id).body_markdown == "Stored"


def test_a_change_between_check_and_write_is_a_conflict(
    client: FlaskClient, author: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    article = create(client, body="Stored")
    values = edit_form(client, article.id)
    real_set_tags = publishing.set_tags

    def concurrent_write(target: Article, names: Any) -> None:
        # Another process commits its save after our version check, before our UPDATE.
        table = Article.__table__
        with db.session.no_autoflush:
            db.session.execute(
                sa.update(table).where(table.c.id == target.id).values(version=table.c.version + 1)
            )
        real_set_tags(target, names)

    monkeypatch.setattr(publishing, "set_tags", concurrent_write)
    values.update(body="Mine", tags="some, tags", save="Save")
    response = client.post(f"/admin/articles/{article.id}/edit", data=values)
    assert response.status_code == 409
    assert form_values(text(response))["body"] == "Mine"


def test_a_slug_taken_by_a_concurrent_save_is_retried(
    client: FlaskClient, author: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    create(client, title="Taken")
    real_unique_slug = publishing.unique_slug
    calls: list[str] = []

    def racing_unique_slug(text: str, article_id: int | None = None) -> str:
        # The first answer is stale: another save took "taken" after the check.
        calls.append(text)
        return "taken" if len(calls) == 1 else real_unique_slug(text, article_id)

    monkeypatch.setattr(publishing, "unique_slug", racing_unique_slug)
    article = create(client, title="Taken", tags="new tag, another")
    assert article.slug == "taken-2"
    assert len(calls) == 2


def test_repeated_collisions_re_show_the_form(
    client: FlaskClient, author: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    create(client, title="Taken")
    monkeypatch.setattr(publishing, "unique_slug", lambda text, article_id=None: "taken")
    response = client.post("/admin/articles/new", data=form(title="Taken", body="Not lost"))
    assert response.status_code == 409
    assert "please save again" in text(response)
    assert form_values(text(response))["body"] == "Not lost"
    assert count(Article) == 1


def test_saving_an_article_purged_meanwhile_keeps_the_text(
    app: Flask, make_user: Callable[..., User], make_article: Callable[..., Article]
) -> None:
    make_user("eda", "editor")
    article = make_article(title="Doomed")
    client = app.test_client()
    sign_in(client, "eda")
    values = edit_form(client, article.id)
    db.session.delete(article)
    db.session.commit()
    values.update(body="My careful edit", save="Save")
    response = client.post(f"/admin/articles/{article.id}/edit", data=values)
    assert response.status_code == 409
    html = text(response)
    assert "deleted for good while you were editing" in html
    assert form_values(html)["body"] == "My careful edit"
    assert 'action="/admin/articles/new"' in html
    assert client.get(f"/admin/articles/{article.id}/edit").status_code == 404


# --- slugs, summaries, tags -----------------------------------------------------------------


def test_turkish_and_arabic_titles_give_reachable_slugs(
    app: Flask, client: FlaskClient, author: User
) -> None:
    turkish = create(client, title="Türkiye'de Şeker Bayramı İçin Özel Günler")
    arabic = create(client, title="عيد الفطر المبارك في مكة")
    assert turkish.slug == "turkiyede-seker-bayrami-icin-ozel-gunler"
    assert turkish.slug.isascii()
    assert arabic.slug == "عيد-الفطر-المبارك-في-مكة"
    reader = app.test_client()
    for article in (turkish, arabic):
        url = f"/article/{article.id}/{article.slug}"
        assert reader.get(url).status_code == 200
        moved = reader.get(f"/article/{article.id}")
        assert moved.status_code == 301
        assert reader.get(moved.headers["Location"]).status_code == 200


def test_slug_rules(client: FlaskClient, author: User) -> None:
    assert create(client, title="Same").slug == "same"
    assert create(client, title="Same").slug == "same-2"
    assert create(client, title="Other", slug="My Own Slug!").slug == "my-own-slug"
    assert create(client, title="Other", slug="my-own-slug").slug == "my-own-slug-2"
    assert create(client, title="!!!").slug == "article"
    article = create(client, title="Keep me")
    values = edit_form(client, article.id)
    values.update(title="A new title", save="Save")
    client.post(f"/admin/articles/{article.id}/edit", data=values)
    db.session.refresh(article)
    assert article.slug == "keep-me"
    values = edit_form(client, article.id)
    values.update(slug="", save="Save")
    client.post(f"/admin/articles/{article.id}/edit", data=values)
    db.session.refresh(article)
    assert article.slug == "a-new-title"


def test_a_repeated_title_finds_its_free_slug_in_a_few_queries(app: Flask, make_article) -> None:
    # A title a site repeats daily ("Prayer times") has thousands of taken suffixes; asking
    # for each in turn made a save cost a query per earlier article of that title.
    for n in range(1, 201):
        make_article(title="Prayer times", slug="prayer-times" if n == 1 else f"prayer-times-{n}")
    make_article(title="Gap", slug="gap")
    make_article(title="Gap", slug="gap-3")
    queries: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        queries.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", count)
    try:
        assert publishing.unique_slug("Prayer times") == "prayer-times-201"
        assert len(queries) <= 20, len(queries)
        # A free slug below a taken one is used.
        assert publishing.unique_slug("Gap") == "gap-2"
        # An article keeps its own slug, wherever it lies among the taken ones.
        for slug in ("prayer-times", "prayer-times-50", "prayer-times-200"):
            own = db.session.scalar(sa.select(Article.id).where(Article.slug == slug))
            assert publishing.unique_slug("Prayer times", own) == slug
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", count)


def test_summary_is_made_from_the_body_unless_given(client: FlaskClient, author: User) -> None:
    made = create(client, body="**Bold** start of a long body. " * 20)
    assert made.summary.startswith("Bold start of a long body.")
    assert made.summary.endswith("…")
    given = create(client, body="Body", summary="Written by hand")
    assert given.summary == "Written by hand"
    values = edit_form(client, given.id)
    values.update(body="Another body", save="Save")
    client.post(f"/admin/articles/{given.id}/edit", data=values)
    db.session.refresh(given)
    assert given.summary == "Written by hand"


def test_control_characters_are_dropped_from_every_field(client: FlaskClient, author: User) -> None:
    article = create(
        client,
        title="Break\x1bing\x00 news\x7f",
        summary="Sum\x01mary",
        body="Line one\x0c\r\nLine\ttwo",
        tags="ta\x1bg",
    )
    assert (article.title, article.summary) == ("Breaking news", "Summary")
    assert article.body_markdown == "Line one\r\nLine\ttwo"
    assert [tag.name for tag in article.tags] == ["tag"]


def test_tags_are_split_trimmed_and_deduplicated(client: FlaskClient, author: User) -> None:
    article = create(client, tags=" News ,politics,, news,  World  Cup ")
    assert sorted(tag.name for tag in article.tags) == ["News", "World Cup", "politics"]


def test_new_tags_that_make_the_same_slug_save_together(client: FlaskClient, author: User) -> None:
    article = create(client, tags="C++, C#, İstanbul, ıstanbul")
    assert sorted((tag.slug, tag.name) for tag in article.tags) == [
        ("c", "C++"),
        ("c-2", "C#"),
        ("istanbul", "İstanbul"),
        ("istanbul-2", "ıstanbul"),
    ]
    # A later article reuses them and makes the next slug free after the stored ones.
    later = create(client, tags="C#, C")
    assert sorted((tag.slug, tag.name) for tag in later.tags) == [("c-2", "C#"), ("c-3", "C")]


def test_a_typed_slug_is_stored_whole_up_to_the_column_size(
    client: FlaskClient, author: User
) -> None:
    assert create(client, slug="q" * 150).slug == "q" * 150
    assert create(client, slug="q" * 200).slug == "q" * 200
    assert create(client, slug="q" * 150).slug == "q" * 150 + "-2"
    taken = client.post("/admin/articles/new", data=form(slug="Q" * 150), follow_redirects=True)
    said = f"The slug “{'q' * 150}” is another article's, so this one's is “{'q' * 150}-3”."
    assert str(escape(said)) in text(taken)
    # Saved again untouched, it keeps its slug and says nothing of it.
    third = db.session.scalars(sa.select(Article).where(Article.slug == "q" * 150 + "-3")).one()
    values = edit_form(client, third.id)
    values.update(save="Save")
    again = client.post(f"/admin/articles/{third.id}/edit", data=values, follow_redirects=True)
    assert "is another article's" not in text(again)
    # A suffix never follows a dash the cut left behind.
    dashed = "a" * 197 + "-b"
    assert create(client, slug=dashed).slug == dashed
    assert create(client, slug=dashed).slug == "a" * 197 + "-2"
    assert 'maxlength="200"' in text(client.get("/admin/articles/new"))
    # Longer ones are refused: test_validation_errors_keep_everything_typed.


def test_a_tag_is_stored_whole_up_to_the_column_size(client: FlaskClient, author: User) -> None:
    assert [tag.name for tag in create(client, tags="t" * 80).tags] == ["t" * 80]


# --- drafts, scheduling, time zones ----------------------------------------------------------


def test_drafts_are_invisible_to_readers(
    app: Flask, client: FlaskClient, author: User, make_user: Callable[..., User]
) -> None:
    article = create(client, title="Secret draft", status="draft")
    assert article.status == "draft"
    assert article.published_at is None
    reader = app.test_client()
    assert "Secret draft" not in text(reader.get("/"))
    assert "Total: 0 articles" in text(reader.get("/"))
    assert reader.get(f"/article/{article.id}/{article.slug}").status_code == 404
    own = client.get(f"/article/{article.id}/{article.slug}")
    assert own.status_code == 200
    assert "Not visible to readers: draft" in text(own)
    assert "Draft" in text(client.get("/admin/"))


def test_a_future_time_schedules_the_article(app: Flask, client: FlaskClient, author: User) -> None:
    tomorrow = dates.utcnow() + timedelta(days=1)
    typed = dates.format_local_input(tomorrow, dates.site_zone("UTC"))
    article = create(client, title="Tomorrow's news", published_at=typed)
    assert article.status == "published"
    assert article.published_at == datetime.fromisoformat(typed).replace(tzinfo=UTC)
    flash = text(client.get(f"/admin/articles/{article.id}/edit"))
    assert "Scheduled: it will appear on" in flash
    reader = app.test_client()
    home = text(reader.get("/"))
    assert "Tomorrow" not in home
    assert "Total: 0 articles" in home
    assert not re.search(r"\(([1-9]\d*)\)</a>", home)  # every day in the strip shows (0)
    assert reader.get(f"/article/{article.id}/{article.slug}").status_code == 404
    day = tomorrow.date()
    archive = reader.get(f"/archive/{day.year:04d}/{day.month:02d}/{day.day:02d}/")
    assert archive.status_code == 200
    assert "Tomorrow" not in text(archive)
    own = client.get(f"/article/{article.id}/{article.slug}")
    assert own.status_code == 200
    assert "Not visible to readers: scheduled" in text(own)
    assert "Scheduled" in text(client.get("/admin/"))


def test_publishing_a_draft_without_a_time_publishes_it_now(
    client: FlaskClient, author: User
) -> None:
    article = create(client, status="draft")
    values = edit_form(client, article.id)
    assert values["published_at"] == ""
    values.update(status="published", save="Save")
    assert client.post(f"/admin/articles/{article.id}/edit", data=values).status_code == 303
    db.session.refresh(article)
    assert article.published_at is not None
    assert abs(article.published_at - dates.utcnow()) < timedelta(minutes=1)


def test_saving_unchanged_keeps_the_seconds_of_the_publish_time(
    client: FlaskClient, author: User
) -> None:
    article = create(client)
    stored = article.published_at
    values = edit_form(client, article.id)
    values.update(title="Retitled", save="Save")
    client.post(f"/admin/articles/{article.id}/edit", data=values)
    db.session.refresh(article)
    assert article.published_at == stored


def test_saving_unchanged_keeps_the_second_of_two_repeated_hours(
    make_app: Callable[..., Flask], make_user: Callable[..., User]
) -> None:
    app, client = author_in_zone(make_app, make_user, "America/New_York")
    with app.app_context():
        article = create(client, published_at="2024-11-03T01:30")
        # 01:30 comes twice that night; the form reads the first (EDT), and an imported
        # article may hold the second (EST, an hour later).
        assert article.published_at == datetime(2024, 11, 3, 5, 30, tzinfo=UTC)
        article.published_at = datetime(2024, 11, 3, 6, 30, tzinfo=UTC)
        db.session.commit()
        values = edit_form(client, article.id)
        assert values["published_at"] == "2024-11-03T01:30"
        values.update(body="Edited body", save="Save")
        assert client.post(f"/admin/articles/{article.id}/edit", data=values).status_code == 303
        db.session.refresh(article)
        assert article.published_at == datetime(2024, 11, 3, 6, 30, tzinfo=UTC)
        page = text(client.get(f"/article/{article.id}/{article.slug}"))
        assert 'datetime="2024-11-03T01:30:00-05:00"' in page
        # Typing another time still moves it.
        values = edit_form(client, article.id)
        values.update(published_at="2024-11-03T01:45", save="Save")
        client.post(f"/admin/articles/{article.id}/edit", data=values)
        db.session.refresh(article)
        assert article.published_at == datetime(2024, 11, 3, 5, 45, tzinfo=UTC)


def test_publish_time_is_read_and_shown_in_the_site_zone(
    make_app: Callable[..., Flask], make_user: Callable[..., User]
) -> None:
    app, client = author_in_zone(make_app, make_user, "Asia/Tokyo")
    with app.app_context():
        article = create(client, published_at="2024-03-10T09:30")
        assert article.published_at == datetime(2024, 3, 10, 0, 30, tzinfo=UTC)
        html = text(client.get(f"/admin/articles/{article.id}/edit"))
    assert form_values(html)["published_at"] == "2024-03-10T09:30"
    assert "Asia/Tokyo" in html
    assert "10 March 2024 9:30" in html
    hijri = dates.hijri_label(date(2024, 3, 10), dates.HijriCalendar())
    assert hijri and str(escape(hijri)) in html
    assert 'datetime="2024-03-10T09:30:00+09:00"' in html


@pytest.mark.parametrize(
    ("zone", "typed", "stored", "told"),
    [
        # Half an hour forward on Lord Howe Island; an hour at midnight in Santiago.
        (
            "Australia/Lord_Howe",
            "2026-10-04T02:15",
            "2026-10-04T02:45",
            "4 October 2026 2:15 never came in Australia/Lord_Howe: the clocks went forward"
            " past it, so the publish time is 4 October 2026 2:45.",
        ),
        (
            "America/Santiago",
            "2026-09-06T00:10",
            "2026-09-06T01:10",
            "6 September 2026 0:10 never came in America/Santiago: the clocks went forward"
            " past it, so the publish time is 6 September 2026 1:10.",
        ),
        (
            "America/St_Johns",
            "2024-11-03T01:30",
            "2024-11-03T01:30",
            "3 November 2024 1:30 came twice in America/St_Johns, as the clocks went back:"
            " the publish time is the earlier one, at UTC-02:30.",
        ),
        ("America/St_Johns", "2024-11-03T23:50", "2024-11-03T23:50", None),
    ],
)
def test_a_publish_time_the_clocks_skipped_or_repeated_is_saved_and_the_author_told(
    make_app: Callable[..., Flask],
    make_user: Callable[..., User],
    zone: str,
    typed: str,
    stored: str,
    told: str | None,
) -> None:
    app, client = author_in_zone(make_app, make_user, zone)
    with app.app_context():
        article = create(client, published_at=typed)
        html = text(client.get(f"/admin/articles/{article.id}/edit"))
    assert form_values(html)["published_at"] == stored
    notes = re.findall(r"<li[^>]*>([^<]*clocks[^<]*)</li>", html)
    assert notes == ([str(escape(told))] if told else [])


def test_the_list_shows_times_in_the_site_zone(
    make_app: Callable[..., Flask], make_user: Callable[..., User]
) -> None:
    app, client = author_in_zone(make_app, make_user, "America/New_York")
    with app.app_context():
        create(client, published_at="2024-07-01T23:45")
        html = text(client.get("/admin/"))
    assert "1 July 2024 23:45" in html
    assert str(escape(dates.hijri_label(date(2024, 7, 1), dates.HijriCalendar()))) in html
