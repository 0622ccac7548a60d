"""Security headers, session cookie flags and CSRF on every POST endpoint."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from test_auth import csrf_token, is_signed_in, sign_in
from werkzeug.test import TestResponse

from blog.dates import utcnow
from blog.extensions import db
from blog.models import Article, HijriMonthStart, User

from conftest import PASSWORD

UserFactory = Callable[..., User]
ArticleFactory = Callable[..., Article]


def directives(response: TestResponse) -> dict[str, str]:
    """Split a Content-Security-Policy header into {directive: sources}."""
    policy = response.headers["Content-Security-Policy"]
    parts = (part.strip().split(None, 1) for part in policy.split(";") if part.strip())
    return {part[0]: (part[1] if len(part) > 1 else "") for part in parts}


def assert_security_headers(response: TestResponse) -> None:
    csp = directives(response)
    assert "'unsafe-inline'" not in csp["script-src"]
    assert "'unsafe-eval'" not in csp["script-src"]
    assert "'unsafe-inline'" not in csp.get("default-src", "")
    assert csp["frame-ancestors"] == "'none'"
    assert csp["object-src"] == "'none'"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] in (
        "strict-origin-when-cross-origin",
        "same-origin",
        "no-referrer",
        "strict-origin",
    )


# --- headers -------------------------------------------------------------------------------


def test_every_kind_of_response_carries_the_headers(
    app: Flask, client: FlaskClient, make_user: UserFactory, make_article: ArticleFactory
) -> None:
    article = make_article()
    anonymous = app.test_client()
    responses = {
        "home": anonymous.get("/"),
        "article": anonymous.get(f"/article/{article.id}/{article.slug}"),
        "redirect": anonymous.get(f"/article/{article.id}"),
        "archive": anonymous.get("/archive/2024/"),
        "not found": anonymous.get("/no/such/page"),
        "method not allowed": anonymous.get("/auth/logout"),
        "login": anonymous.get("/auth/login"),
        "login redirect": anonymous.get("/admin/"),
        "health": anonymous.get("/healthz"),
        "static": anonymous.get("/static/site.css"),
    }
    make_user("root", "admin")
    sign_in(client, "root")
    for url in ("/admin/", "/admin/articles/new", "/admin/users/", "/admin/hijri/"):
        responses[url] = client.get(url)
    for name, response in responses.items():
        response.close()  # the static file response holds the file open
        assert "Content-Security-Policy" in response.headers, name
        assert_security_headers(response)


def test_signed_in_and_authoring_pages_are_never_stored(
    app: Flask, client: FlaskClient, make_user: UserFactory, make_article: ArticleFactory
) -> None:
    article = make_article()
    assert app.test_client().get("/auth/login").headers["Cache-Control"] == "private, no-store"
    make_user("root", "admin")
    sign_in(client, "root")
    urls = [
        "/admin/",
        "/admin/trash",
        "/admin/articles/new",
        f"/admin/articles/{article.id}/edit",
        "/admin/users/",
        "/admin/hijri/",
        "/admin/password",
        "/",
        f"/article/{article.id}/{article.slug}",
    ]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        assert response.headers["Cache-Control"] == "private, no-store", url
        assert "ETag" not in response.headers, url


def test_authoring_pages_use_no_inline_script_or_style(
    client: FlaskClient, make_user: UserFactory, make_article: ArticleFactory
) -> None:
    article = make_article()
    make_user("root", "admin")
    pages = [client.get("/auth/login").get_data(as_text=True)]
    sign_in(client, "root")
    for url in (
        "/admin/",
        "/admin/articles/new",
        f"/admin/articles/{article.id}/edit",
        "/admin/users/",
        "/admin/hijri/",
        "/admin/password",
    ):
        pages.append(client.get(url).get_data(as_text=True))
    for html in pages:
        assert "<script" not in html
        assert "<style" not in html
        assert " style=" not in html
        assert " onclick=" not in html.lower()


def test_session_cookie_is_httponly_and_samesite_lax(
    client: FlaskClient, make_user: UserFactory
) -> None:
    make_user("alice")
    response = sign_in(client, "alice")
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("session=")
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Secure" not in cookie


def test_session_cookie_is_secure_when_configured(
    make_app: Callable[..., Flask], make_user: UserFactory
) -> None:
    make_user("alice")
    client = make_app(SESSION_COOKIE_SECURE=True).test_client()
    response = sign_in(client, "alice")
    assert response.status_code == 303
    cookie = response.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_behind_a_proxy_the_address_and_scheme_are_read_but_not_the_host(
    make_app: Callable[..., Flask], make_article: ArticleFactory
) -> None:
    # nginx passes its checked Host on and keys its cache by it, but lets a client's own
    # X-Forwarded-Host through: trusted, it put the client's host into canonical links
    # that nginx then kept (and revalidated by ETag) for every reader of the page.
    article = make_article()
    client = make_app(PROXY_FIX=1).test_client()
    forwarded = {"X-Forwarded-Host": "evil.example", "X-Forwarded-Proto": "https"}
    page = client.get(f"/article/{article.id}/{article.slug}", headers=forwarded)
    canonical = f'<link rel="canonical" href="https://localhost/article/{article.id}/'
    assert canonical in page.get_data(as_text=True)
    assert "evil.example" not in page.get_data(as_text=True)


@pytest.mark.parametrize("host", ["x" * 64, "a..b"])
def test_a_host_name_werkzeug_refuses_is_a_bad_request_at_every_address(
    make_app: Callable[..., Flask], make_article: ArticleFactory, host: str
) -> None:
    # A label over 63 characters, or an empty one: no link can be built for such a host, and
    # the error page's own links made every address answer a bare 500.
    article = make_article()
    client = make_app(MAX_CONTENT_LENGTH=512 * 1024).test_client()
    paths = ["/", "/nope", f"/article/{article.id}/{article.slug}", "/admin/", "/feed.xml"]
    for path in [*paths, "/static/site.css", "/archive/2016/02/30/"]:
        response = client.get(path, headers={"Host": host})
        assert response.status_code == 400, path
        assert "Bad Request" in response.get_data(as_text=True)
        assert_security_headers(response)
    oversized = client.post(
        "/auth/login", data={"password": "x" * 600 * 1024}, headers={"Host": host}
    )
    assert oversized.status_code in (400, 413)
    assert client.get("/").status_code == 200  # the next reader is served as ever


def test_error_pages_read_well(make_app: Callable[..., Flask], make_user: UserFactory) -> None:
    client = make_app(RATELIMIT_ENABLED=True, LOGIN_LIMITS="1 per minute").test_client()
    sign_in(client, "alice", "wrong")
    response = sign_in(client, "alice", "wrong")
    assert response.status_code == 429
    assert_security_headers(response)
    html = response.get_data(as_text=True)
    assert "<h1>Authors&rsquo; sign-in</h1>" in html  # the form again, not a bare error
    assert "Please wait a minute" in html


def assert_too_large_page(response: TestResponse, limit: str, form_url: str) -> None:
    """A refused oversized submission: the site's page, the limit, and what to do now."""
    assert response.status_code == 413
    assert_security_headers(response)
    html = response.get_data(as_text=True)
    assert "exceeds the capacity limit" not in html  # werkzeug's wording
    assert "<h1>Too much to send at once</h1>" in html
    assert f"The site accepts at most {limit} in one submission" in html
    assert "Nothing was saved" in html
    assert "keep a copy" in html and "split" in html
    assert f'<a href="{form_url}">Open the form again</a>' in html
    assert '<a href="/">Go to the front page</a>' in html


def test_an_oversized_article_gets_a_page_that_says_what_to_do(
    make_app: Callable[..., Flask], make_user: UserFactory
) -> None:
    app = make_app(WTF_CSRF_ENABLED=True)
    make_user("alice")
    client = app.test_client()
    assert sign_in(client, "alice").status_code == 303
    token = csrf_token(client.get("/admin/articles/new").get_data(as_text=True))
    assert token
    body = "word " * (app.config["MAX_CONTENT_LENGTH"] // 5 + 1)
    data = {"title": "Long", "body": body, "status": "published", "csrf_token": token}
    response = client.post("/admin/articles/new", data=data)
    assert_too_large_page(response, "2 MB", "/admin/articles/new")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Article)) == 0
    assert is_signed_in(client)


def test_an_oversized_sign_in_gets_the_same_page(make_app: Callable[..., Flask]) -> None:
    client = make_app(MAX_CONTENT_LENGTH=512 * 1024).test_client()
    data = {"username": "alice", "password": "x" * 600 * 1024}
    response = client.post("/auth/login?next=/admin/", data=data)
    assert_too_large_page(response, "512 KB", "/auth/login?next=/admin/")


def test_an_oversized_post_to_a_form_without_a_page_links_the_front_page(
    make_app: Callable[..., Flask], make_user: UserFactory
) -> None:
    client = make_app(WTF_CSRF_ENABLED=True).test_client()
    make_user("root", "admin")
    sign_in(client, "root")
    response = client.post("/auth/logout", data={"x": "y" * 3 * 1024 * 1024})
    assert response.status_code == 413
    html = response.get_data(as_text=True)
    assert "The site accepts at most 2 MB in one submission" in html
    assert "Open the form again" not in html
    assert '<a href="/">Go to the front page</a>' in html


# --- CSRF ----------------------------------------------------------------------------------


def database_state() -> tuple[object, ...]:
    """Everything a POST endpoint could change."""
    db.session.expire_all()
    articles = db.session.execute(
        sa.select(
            Article.id,
            Article.title,
            Article.body_markdown,
            Article.status,
            Article.deleted_at,
            Article.version,
        ).order_by(Article.id)
    ).all()
    users = db.session.execute(
        sa.select(User.id, User.username, User.role, User.active, User.password_hash).order_by(
            User.id
        )
    ).all()
    overrides = db.session.execute(
        sa.select(
            HijriMonthStart.id, HijriMonthStart.year, HijriMonthStart.month,
            HijriMonthStart.starts_on, HijriMonthStart.note,
        ).order_by(HijriMonthStart.id)
    ).all()  # fmt: skip
    return tuple(map(tuple, articles)), tuple(map(tuple, users)), tuple(map(tuple, overrides))


@pytest.fixture
def csrf_app(make_app: Callable[..., Flask]) -> Flask:
    return make_app(WTF_CSRF_ENABLED=True)


@pytest.fixture
def world(csrf_app: Flask, make_user: UserFactory, make_article: ArticleFactory) -> dict[str, int]:
    """An admin, another user, a live article, a trashed one and a month-start override."""
    make_user("root", "admin")
    other = make_user("other")
    live = make_article(title="Live")
    binned = make_article(title="Binned", deleted_at=utcnow())
    override = HijriMonthStart(year=1445, month=9, starts_on=date(2024, 3, 11), note="n")
    db.session.add(override)
    db.session.commit()
    return {"other": other.id, "live": live.id, "binned": binned.id, "override": override.id}


def _posts(ids: dict[str, int]) -> list[tuple[str, dict[str, str]]]:
    article = {
        "title": "Forged",
        "slug": "",
        "summary": "",
        "body": "Forged body",
        "tags": "",
        "status": "published",
        "published_at": "",
        "version": "1",
    }
    password = {"current_password": "x", "new_password": "forged pw 123"}
    return [
        ("/admin/articles/new", {**article, "save": "Save"}),
        ("/admin/articles/new", {**article, "preview": "Preview"}),
        (f"/admin/articles/{ids['live']}/edit", {**article, "save": "Save"}),
        (f"/admin/articles/{ids['live']}/edit", {**article, "preview": "Preview"}),
        (f"/admin/articles/{ids['live']}/delete", {}),
        (f"/admin/articles/{ids['binned']}/restore", {}),
        (f"/admin/articles/{ids['binned']}/purge", {}),
        ("/admin/users/", {"username": "forged", "role": "admin", "password": "forged pw 123"}),
        (f"/admin/users/{ids['other']}", {"role": "admin", "active": "y"}),
        (f"/admin/users/{ids['other']}/password", {"new_password": "forged pw 123"}),
        ("/admin/hijri/", {"year": "1445", "month": "10", "starts_on": "2024-04-09"}),
        (f"/admin/hijri/{ids['override']}/delete", {}),
        ("/admin/password", {**password, "confirm_password": "forged pw 123"}),
        ("/auth/logout", {}),
    ]


def test_every_post_without_a_token_is_refused_and_changes_nothing(
    csrf_app: Flask, world: dict[str, int]
) -> None:
    client = csrf_app.test_client()
    assert sign_in(client, "root").status_code == 303
    before = database_state()
    for url, data in _posts(world):
        for token in (None, "not-a-real-token"):
            sent = data if token is None else {**data, "csrf_token": token}
            response = client.post(url, data=sent)
            assert response.status_code == 400, (url, token)
            assert "This form had expired" in response.get_data(as_text=True), url
            assert database_state() == before, url
    assert is_signed_in(client)  # logout without a token did not sign out


ARTICLE_TEXT = {
    "title": "Long <b>report</b>",
    "summary": "",
    "body": "Paragraphs written over an hour.\n\n<script>alert(1)</script>",
    "tags": "news",
    "status": "published",
    "published_at": "",
    "save": "Save",
}
SAME_SITE = {"Sec-Fetch-Site": "same-origin"}


def test_an_article_sent_after_the_session_ended_is_shown_back_unsaved(
    csrf_app: Flask, world: dict[str, int]
) -> None:
    client = csrf_app.test_client()  # a browser that lost the site's cookie: no session
    before = database_state()
    response = client.post("/admin/articles/new", data=ARTICLE_TEXT, headers=SAME_SITE)
    assert response.status_code == 400
    assert response.headers["Cache-Control"] == "private, no-store"
    html = response.get_data(as_text=True)
    assert "Your article was not saved" in html and "This form had expired" in html
    assert 'value="Long &lt;b&gt;report&lt;/b&gt;"' in html
    assert "Paragraphs written over an hour.\n\n&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>" not in html
    assert 'href="/auth/login?next=/admin/articles/new"' in html
    assert database_state() == before


def test_an_article_sent_after_signing_out_elsewhere_is_shown_back_unsaved(
    csrf_app: Flask, world: dict[str, int]
) -> None:
    client = csrf_app.test_client()
    sign_in(client, "root")
    token = csrf_token(client.get("/admin/articles/new").get_data(as_text=True))
    # Signed out in another tab; the form in this one is sent afterwards.
    client.post("/auth/logout", data={"csrf_token": token})
    before = database_state()
    form = {**ARTICLE_TEXT, "csrf_token": token or ""}
    origin = {"Origin": "http://localhost"}
    url = f"/admin/articles/{world['live']}/edit"
    response = client.post(url, data=form, headers=origin)
    assert response.status_code == 401
    html = response.get_data(as_text=True)
    assert "You were signed out before you saved" in html
    assert "Paragraphs written over an hour." in html
    assert f'href="/auth/login?next={url}"' in html
    # Sent from another site, the text is not shown back: it would be that site's words.
    elsewhere = client.post(url, data=form, headers={"Origin": "https://elsewhere.example"})
    assert elsewhere.status_code == 401
    assert "Paragraphs written" not in elsewhere.get_data(as_text=True)
    assert "Your article was not saved" in elsewhere.get_data(as_text=True)
    assert database_state() == before


def test_a_site_under_an_internationalised_name_knows_its_own_origin(
    csrf_app: Flask, world: dict[str, int]
) -> None:
    # Browsers send such a name's Origin in punycode; request.host_url gave it in Unicode.
    client = csrf_app.test_client()
    site = {"base_url": "http://xn--mgbh0fb.example"}
    sign_in(client, "root", **site)
    token = csrf_token(client.get("/admin/articles/new", **site).get_data(as_text=True))
    client.post("/auth/logout", data={"csrf_token": token}, **site)
    url = f"/admin/articles/{world['live']}/edit"
    response = client.post(
        url,
        data={**ARTICLE_TEXT, "csrf_token": token or ""},
        headers={"Origin": "http://xn--mgbh0fb.example"},
        **site,
    )
    assert response.status_code == 401
    assert "Paragraphs written over an hour." in response.get_data(as_text=True)


def test_an_article_sent_after_someone_else_signed_in_is_shown_back_unsaved(
    csrf_app: Flask, world: dict[str, int], make_user: UserFactory
) -> None:
    make_user("amina")
    client = csrf_app.test_client()
    sign_in(client, "root")
    page = client.get("/admin/articles/new").get_data(as_text=True)
    opened_by = re.search(r'name="opened_by" type="hidden" value="(\d+)"', page)
    assert opened_by
    form = {**ARTICLE_TEXT, "csrf_token": csrf_token(page) or "", "opened_by": opened_by[1]}
    # Another tab: root signs out, amina signs in; then root's form is sent.
    client.post("/auth/logout", data={"csrf_token": form["csrf_token"]})
    sign_in(client, "amina")
    before = database_state()
    response = client.post("/admin/articles/new", data=form, headers=SAME_SITE)
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert "Someone else has signed in on this browser" in html
    assert "Paragraphs written over an hour." in html
    assert database_state() == before
    # Her own form saves as ever.
    own = client.get("/admin/articles/new").get_data(as_text=True)
    mine = re.search(r'name="opened_by" type="hidden" value="(\d+)"', own)
    assert mine and mine[1] != opened_by[1]
    saved = client.post(
        "/admin/articles/new",
        data={**form, "opened_by": mine[1], "csrf_token": csrf_token(own) or ""},
    )
    assert saved.status_code == 303


def test_an_edit_sent_after_the_editors_role_was_lowered_is_shown_back_unsaved(
    csrf_app: Flask, world: dict[str, int], make_user: UserFactory
) -> None:
    # The live article is "writer"'s: an editor opens it, and is made an author meanwhile.
    editor = make_user("ed", "editor")
    client = csrf_app.test_client()
    sign_in(client, "ed")
    url = f"/admin/articles/{world['live']}/edit"
    page = client.get(url).get_data(as_text=True)
    opened_by = re.search(r'name="opened_by" type="hidden" value="(\d+)"', page)
    assert opened_by
    form = {**ARTICLE_TEXT, "csrf_token": csrf_token(page) or "", "opened_by": opened_by[1]}
    editor.role = "author"
    db.session.commit()
    before = database_state()
    response = client.post(url, data=form, headers=SAME_SITE)
    assert response.status_code == 404  # as for an article that is not there
    html = response.get_data(as_text=True)
    assert "This article is not one you may edit, or no longer" in html
    assert "Paragraphs written over an hour." in html  # not lost
    assert 'href="/admin/articles/new"' in html and "sign in again" not in html
    assert database_state() == before
    assert client.get(url).status_code == 404


def test_an_https_form_without_a_referrer_says_why_it_was_refused(
    csrf_app: Flask, world: dict[str, int]
) -> None:
    client = csrf_app.test_client()
    https = {"base_url": "https://localhost"}
    from_site = {"Referer": "https://localhost/admin/hijri/"}
    assert sign_in(client, "root", headers=from_site, **https).status_code == 303
    token = csrf_token(client.get("/admin/hijri/", **https).get_data(as_text=True))
    data = {"year": "1445", "month": "10", "starts_on": "2024-04-09", "csrf_token": token}
    before = database_state()
    response = client.post("/admin/hijri/", data=data, **https)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "could not tell that this form came from one of its own pages" in html
    assert "referrer" in html and "Nothing was changed" in html
    assert database_state() == before
    assert client.post("/admin/hijri/", data=data, headers=from_site, **https).status_code == 303


def test_a_form_whose_text_is_not_utf8_is_refused_saying_so(
    csrf_app: Flask, world: dict[str, int]
) -> None:
    # Only a hand-made request sends this: werkzeug then reads no field, the token neither.
    client = csrf_app.test_client()
    assert sign_in(client, "root").status_code == 303
    token = csrf_token(client.get("/admin/hijri/").get_data(as_text=True))
    body = f"year=1445&month=10&starts_on=2024-04-09&csrf_token={token}&note=".encode()
    before = database_state()
    response = client.post(
        "/admin/hijri/",
        data=body + b"\xed\xa0\x80",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "could not be read: it was not sent as UTF-8" in html
    assert "expired" not in html
    assert database_state() == before
    # The same form in UTF-8 goes through.
    response = client.post(
        "/admin/hijri/", data=body + b"ok", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 303


def test_sign_in_without_a_token_is_refused(csrf_app: Flask, world: dict[str, int]) -> None:
    client = csrf_app.test_client()
    client.get("/auth/login")
    response = client.post("/auth/login", data={"username": "root", "password": "x"})
    assert response.status_code == 400
    response = client.post("/auth/login", data={"username": "root", "password": PASSWORD})
    assert response.status_code == 400
    assert not is_signed_in(client)


def test_the_same_posts_with_a_token_work(csrf_app: Flask, world: dict[str, int]) -> None:
    # Proof that the refusals above come from the missing token, not from something else.
    client = csrf_app.test_client()
    sign_in(client, "root")
    token = csrf_token(client.get("/admin/").get_data(as_text=True))
    assert token
    # The trashed article is restored just before, so purging it is refused as not in the trash.
    expected = {f"/admin/articles/{world['binned']}/purge": 409}
    for url, data in _posts(world):
        if url.endswith("/edit") or url == "/admin/password" or "preview" in data:
            continue  # need a real version or password; covered by their own tests
        response = client.post(url, data={**data, "csrf_token": token})
        assert response.status_code == expected.get(url, 303), url
