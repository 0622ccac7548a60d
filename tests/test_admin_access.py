"""Who may do what: authors, editors, admins; the article list and the trash."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from test_auth import sign_in

from blog.dates import utcnow
from blog.extensions import db
from blog.models import Article, DayCount, HijriMonthStart, Tag, User, article_tags

from conftest import PASSWORD

ArticleFactory = Callable[..., Article]
UserFactory = Callable[..., User]


def desk_titles(html: str) -> list[str]:
    """The titles of the desk's rows, in order (each row's heading links to its editor)."""
    return re.findall(r'<h2 dir="auto"><a href="[^"]*">([^<]*)</a></h2>', html)


def signed_in(app: Flask, username: str) -> FlaskClient:
    client = app.test_client()
    assert sign_in(client, username).status_code == 303
    return client


def snapshot(article_id: int) -> tuple[object, ...] | None:
    """The stored state of an article, read afresh from the database."""
    db.session.expire_all()
    article = db.session.get(Article, article_id)
    if article is None:
        return None
    return (
        article.title,
        article.body_markdown,
        article.status,
        article.deleted_at,
        article.version,
        article.slug,
    )


def edit_data(article: Article, **changes: str) -> dict[str, str]:
    data = {
        "title": article.title,
        "slug": article.slug,
        "summary": article.summary,
        "body": article.body_markdown,
        "tags": "",
        "status": article.status,
        "published_at": "",
        "version": str(article.version),
        "save": "Save",
    }
    data.update(changes)
    return data


def live_total() -> int:
    return db.session.scalar(sa.select(sa.func.coalesce(sa.func.sum(DayCount.count), 0))) or 0


# --- authors and other people's articles -----------------------------------------------------


@pytest.mark.parametrize("state", ["published", "draft", "scheduled", "trashed"])
def test_an_author_cannot_touch_another_authors_article(
    app: Flask, make_user: UserFactory, make_article: ArticleFactory, state: str
) -> None:
    make_user("amina")
    bilal = make_user("bilal")
    fields: dict[str, object] = {"title": "Bilal's piece", "body": "Bilal's words"}
    if state == "draft":
        fields.update(status="draft", published_at=None)
    elif state == "scheduled":
        fields["published_at"] = utcnow() + timedelta(days=2)
    elif state == "trashed":
        fields["deleted_at"] = utcnow()
    article = make_article(author=bilal, **fields)
    before = snapshot(article.id)
    client = signed_in(app, "amina")
    base = f"/admin/articles/{article.id}"

    assert client.get(f"{base}/edit").status_code == 404
    edit = client.post(f"{base}/edit", data=edit_data(article, body="Amina was here"))
    assert edit.status_code == 404
    preview = client.post(f"{base}/edit", data=edit_data(article, preview="Preview"))
    assert preview.status_code == 404
    assert client.post(f"{base}/delete").status_code == 404
    assert client.post(f"{base}/restore").status_code == 404
    assert client.post(f"{base}/purge").status_code == 404
    assert snapshot(article.id) == before
    reader_view = client.get(f"/article/{article.id}/{article.slug}")
    assert reader_view.status_code == (200 if state == "published" else 404)
    for listing in ("/admin/", "/admin/trash"):
        assert "Bilal" not in client.get(listing).get_data(as_text=True)


def test_an_editor_can_change_any_article(
    app: Flask, make_user: UserFactory, make_article: ArticleFactory
) -> None:
    make_user("eda", "editor")
    bilal = make_user("bilal")
    article = make_article(author=bilal, title="Bilal's piece", status="draft", published_at=None)
    client = signed_in(app, "eda")
    base = f"/admin/articles/{article.id}"
    assert client.get(f"/article/{article.id}/{article.slug}").status_code == 200
    assert client.get(f"{base}/edit").status_code == 200
    response = client.post(f"{base}/edit", data=edit_data(article, body="Edited by Eda"))
    assert response.status_code == 303
    db.session.expire_all()
    assert article.body_markdown == "Edited by Eda"
    assert article.author_id == bilal.id  # the byline stays with the writer
    assert client.post(f"{base}/delete").status_code == 303
    assert snapshot(article.id)[3] is not None  # type: ignore[index]
    assert client.post(f"{base}/restore").status_code == 303
    assert snapshot(article.id)[3] is None  # type: ignore[index]
    client.post(f"{base}/delete")
    assert client.post(f"{base}/purge").status_code == 303
    assert snapshot(article.id) is None


def test_an_author_may_trash_and_restore_their_own_but_not_purge(
    app: Flask, make_user: UserFactory, make_article: ArticleFactory
) -> None:
    amina = make_user("amina")
    article = make_article(author=amina)
    client = signed_in(app, "amina")
    base = f"/admin/articles/{article.id}"
    assert client.post(f"{base}/delete").status_code == 303
    purge = client.post(f"{base}/purge")
    assert purge.status_code == 403
    assert "Only editors" in purge.get_data(as_text=True)
    assert snapshot(article.id) is not None
    assert client.post(f"{base}/restore").status_code == 303
    assert snapshot(article.id)[3] is None  # type: ignore[index]


def test_a_purged_articles_id_and_link_are_never_given_to_another(
    app: Flask, make_user: UserFactory, make_article: ArticleFactory
) -> None:
    make_user("eda", "editor")
    make_article(title="Older story")
    mistake = make_article(title="Mistake story")  # the newest: the highest id
    client = signed_in(app, "eda")
    base = f"/admin/articles/{mistake.id}"
    client.post(f"{base}/delete")
    assert client.post(f"{base}/purge").status_code == 303
    new = client.post(
        "/admin/articles/new", data=edit_data(mistake, title="Unrelated story", slug="")
    )
    assert new.status_code == 303
    new_id = int(re.search(r"/admin/articles/(\d+)/edit", new.headers["Location"])[1])
    assert new_id > mistake.id
    reader = app.test_client()
    assert reader.get(f"/article/{mistake.id}/mistake-story").status_code == 404
    assert reader.get(f"/article/{new_id}/unrelated-story").status_code == 200


def test_a_button_pressed_after_signing_out_leads_back_to_its_page(
    app: Flask, make_user: UserFactory, make_article: ArticleFactory
) -> None:
    make_user("eda", "editor")
    article = make_article(title="Kept")
    client = app.test_client()
    sent_from = {"Referer": "http://localhost/admin/trash?before=9"}
    response = client.post(f"/admin/articles/{article.id}/delete", headers=sent_from)
    assert response.status_code == 303
    assert response.headers["Location"] == "/auth/login?next=/admin/trash?before%3D9"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Please sign in to see this page." in page
    login = {"username": "eda", "password": PASSWORD}
    signed = client.post(response.headers["Location"], data=login)
    assert signed.headers["Location"] == "/admin/trash?before=9"
    assert snapshot(article.id)[3] is None  # type: ignore[index]  # nothing was deleted
    # Sent from another site's page, or from no address a browser sends: back to the desk.
    for referrer in ("https://evil.example/x", "http://[x", "http://[::1/x"):
        other = app.test_client().post(
            f"/admin/articles/{article.id}/delete", headers={"Referer": referrer}
        )
        assert other.status_code == 303, referrer
        assert other.headers["Location"] == "/auth/login?next=/admin/", referrer


def test_deleting_for_good_asks_first(
    app: Flask, make_user: UserFactory, make_article: ArticleFactory
) -> None:
    make_user("eda", "editor")
    article = make_article(title="Old <notice>", deleted_at=utcnow())
    client = signed_in(app, "eda")
    confirm = f"/admin/articles/{article.id}/purge"
    trash = client.get("/admin/trash").get_data(as_text=True)
    # The trash links to the question; no button there deletes at once.
    assert f'href="{confirm}"' in trash and f'action="{confirm}"' not in trash
    question = client.get(confirm)
    assert question.status_code == 200
    page = question.get_data(as_text=True)
    assert "Old &lt;notice&gt;" in page and "Old <notice>" not in page
    assert f'method="post" action="{confirm}"' in page
    assert 'href="/admin/trash"' in page  # keeping it is one link away
    assert snapshot(article.id) is not None  # asking deletes nothing
    assert client.post(confirm).status_code == 303
    assert snapshot(article.id) is None
    assert client.get(confirm).status_code == 404  # gone: nothing left to ask about


def test_only_editors_are_asked_about_deleting_for_good_and_only_from_the_trash(
    app: Flask, make_user: UserFactory, make_article: ArticleFactory
) -> None:
    amina = make_user("amina")
    make_user("eda", "editor")
    own = make_article(author=amina, deleted_at=utcnow())
    live = make_article(author=amina)
    author, editor = signed_in(app, "amina"), signed_in(app, "eda")
    assert author.get(f"/admin/articles/{own.id}/purge").status_code == 403
    assert 'class="button danger"' not in author.get("/admin/trash").get_data(as_text=True)
    answer = editor.get(f"/admin/articles/{live.id}/purge")
    assert answer.status_code == 409
    assert "Move the article to the trash" in answer.get_data(as_text=True)
    anonymous = app.test_client().get(f"/admin/articles/{own.id}/purge")
    assert anonymous.status_code == 302
    assert snapshot(own.id) is not None and snapshot(live.id) is not None


def test_purge_only_takes_articles_from_the_trash(
    app: Flask, make_user: UserFactory, make_article: ArticleFactory
) -> None:
    make_user("eda", "editor")
    article = make_article()
    client = signed_in(app, "eda")
    response = client.post(f"/admin/articles/{article.id}/purge")
    assert response.status_code == 409
    assert "Move the article to the trash" in response.get_data(as_text=True)
    assert snapshot(article.id) is not None


@pytest.mark.parametrize("role", ["author", "editor"])
def test_only_admins_manage_users_and_the_calendar(
    app: Flask, make_user: UserFactory, role: str
) -> None:
    make_user("someone", role)
    other = make_user("other")
    override = HijriMonthStart(year=1445, month=9, starts_on=date(2024, 3, 11))
    db.session.add(override)
    db.session.commit()
    old_hash = other.password_hash
    client = signed_in(app, "someone")
    assert client.get("/admin/users/").status_code == 403
    assert client.get(f"/admin/users/{other.id}").status_code == 403
    create = {"username": "intruder", "role": "admin", "password": "long enough pw"}
    assert client.post("/admin/users/", data=create).status_code == 403
    change = {"role": "admin", "active": "y"}
    assert client.post(f"/admin/users/{other.id}", data=change).status_code == 403
    reset = {"new_password": "long enough pw"}
    assert client.post(f"/admin/users/{other.id}/password", data=reset).status_code == 403
    assert client.get("/admin/hijri/").status_code == 403
    add = {"year": "1445", "month": "10", "starts_on": "2024-04-09", "note": "x"}
    assert client.post("/admin/hijri/", data=add).status_code == 403
    assert client.post(f"/admin/hijri/{override.id}/delete").status_code == 403
    db.session.expire_all()
    assert db.session.scalar(sa.select(User).where(User.username == "intruder")) is None
    assert (other.role, other.password_hash) == ("author", old_hash)
    assert db.session.scalars(sa.select(HijriMonthStart.month)).all() == [9]
    html = client.get("/admin/").get_data(as_text=True)
    assert "/admin/users/" not in html and "/admin/hijri/" not in html


# --- the list ------------------------------------------------------------------------------


def test_authors_list_their_own_articles_and_editors_all(
    app: Flask, make_user: UserFactory, make_article: ArticleFactory
) -> None:
    amina, bilal = make_user("amina"), make_user("bilal")
    make_user("eda", "editor")
    make_article(author=amina, title="Amina one")
    make_article(author=bilal, title="Bilal one")
    make_article(author=amina, title="Amina draft", status="draft", published_at=None)
    make_article(author=amina, title="Amina later", published_at=utcnow() + timedelta(days=1))
    make_article(author=amina, title="Amina binned", deleted_at=utcnow())
    own = signed_in(app, "amina").get("/admin/").get_data(as_text=True)
    assert desk_titles(own) == ["Amina later", "Amina draft", "Amina one"]
    for label in ("Scheduled", "Draft", "Published"):
        assert f'<span class="status">{label}</span>' in own
    everyone = signed_in(app, "eda").get("/admin/").get_data(as_text=True)
    titles = desk_titles(everyone)
    assert titles == ["Amina later", "Amina draft", "Bilal one", "Amina one"]
    assert "by bilal" in everyone
    trash = signed_in(app, "amina").get("/admin/trash").get_data(as_text=True)
    assert desk_titles(trash) == ["Amina binned"]
    assert "Restore" in trash


def test_the_list_pages_by_id_without_offsets(
    make_app: Callable[..., Flask], make_user: UserFactory, make_article: ArticleFactory
) -> None:
    amina = make_user("amina")
    ids = [make_article(author=amina, title=f"Piece {n}").id for n in range(7)]
    app = make_app(PER_PAGE=3)
    client = signed_in(app, "amina")
    seen: list[list[str]] = []
    url: str | None = "/admin/"
    while url:
        html = client.get(url).get_data(as_text=True)
        seen.append(desk_titles(html))
        older = re.search(r'<a rel="next" href="([^"]+)"', html)
        url = older.group(1).replace("&amp;", "&") if older else None
    assert seen == [
        ["Piece 6", "Piece 5", "Piece 4"],
        ["Piece 3", "Piece 2", "Piece 1"],
        ["Piece 0"],
    ]
    last = client.get(f"/admin/?before={ids[1]}").get_data(as_text=True)
    newer = re.search(r'<a rel="prev" href="([^"]+)"', last)
    assert newer is not None
    back = client.get(newer.group(1).replace("&amp;", "&")).get_data(as_text=True)
    assert desk_titles(back) == ["Piece 3", "Piece 2", "Piece 1"]
    to_start = client.get(f"/admin/?after={ids[3]}")
    assert to_start.status_code == 302
    for bad in ("abc", "-1", "0", "99999999999999999999", "2147483648", "١"):
        assert client.get(f"/admin/?before={bad}").status_code == 404, bad
    assert client.get(f"/admin/?before={ids[0]}").status_code == 404  # nothing older
    assert client.get("/admin/?before=5&after=2").status_code == 404


# --- the trash -----------------------------------------------------------------------------


def test_the_trash_hides_an_article_and_restores_it_as_it_was(
    app: Flask, make_user: UserFactory, make_article: ArticleFactory
) -> None:
    amina = make_user("amina")
    make_user("eda", "editor")
    article = make_article(author=amina, title="Binnable", tags=[Tag(name="bin", slug="bin")])
    article_id, url = article.id, f"/article/{article.id}/{article.slug}"
    reader = app.test_client()
    assert "Total: 1 articles" in reader.get("/").get_data(as_text=True)
    assert live_total() == 1

    author = signed_in(app, "amina")
    assert author.post(f"/admin/articles/{article_id}/delete").status_code == 303
    assert live_total() == 0
    assert reader.get(url).status_code == 404
    home = reader.get("/").get_data(as_text=True)
    assert "Binnable" not in home and "Total: 0 articles" in home
    own = author.get(url)
    assert own.status_code == 200
    assert "Not visible to readers: in the trash" in own.get_data(as_text=True)
    assert "Binnable" not in author.get("/admin/").get_data(as_text=True)
    assert "Binnable" in author.get("/admin/trash").get_data(as_text=True)
    assert author.post(f"/admin/articles/{article_id}/delete").status_code == 303  # no-op

    assert author.post(f"/admin/articles/{article_id}/restore").status_code == 303
    assert live_total() == 1
    assert reader.get(url).status_code == 200

    editor = signed_in(app, "eda")
    editor.post(f"/admin/articles/{article_id}/delete")
    assert editor.post(f"/admin/articles/{article_id}/purge").status_code == 303
    assert snapshot(article_id) is None
    assert live_total() == 0
    links = db.session.scalar(sa.select(sa.func.count()).select_from(article_tags))
    assert links == 0
    assert editor.post(f"/admin/articles/{article_id}/restore").status_code == 404
