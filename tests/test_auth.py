"""Signing in and out: credentials, inactive users, next=, rate limits, passwords, sessions.

The helpers at the top (sign_in, csrf_token) are shared by the admin test modules.
"""

from __future__ import annotations

import hashlib
import io
import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from blog import dates
from blog.extensions import db
from blog.models import SignIn, User
from blog.views.auth import TOO_MANY_ATTEMPTS, WRONG_CREDENTIALS, safe_next

from conftest import PASSWORD

_TOKEN_RE = re.compile(
    r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"'
)


def csrf_token(html: str) -> str | None:
    """Return the first CSRF token in a page, or None when the page has none."""
    match = _TOKEN_RE.search(html)
    return (match.group(1) or match.group(2)) if match else None


def sign_in(
    client: FlaskClient, username: str, password: str = PASSWORD, **kwargs: Any
) -> TestResponse:
    """Sign in through the form, with the page's CSRF token when it has one."""
    page = client.get("/auth/login", **kwargs)
    data = {"username": username, "password": password}
    token = csrf_token(page.get_data(as_text=True))
    if token:
        data["csrf_token"] = token
    return client.post("/auth/login", data=data, **kwargs)


def post_form(client: FlaskClient, page_url: str, url: str, data: dict[str, Any]) -> TestResponse:
    """POST data to url with the CSRF token read from the page at page_url."""
    token = csrf_token(client.get(page_url).get_data(as_text=True))
    return client.post(url, data={**data, "csrf_token": token or ""})


def is_signed_in(client: FlaskClient) -> bool:
    return client.get("/admin/").status_code == 200


# --- signing in ----------------------------------------------------------------------------


def test_login_form_has_the_contract_field_names(make_app: Callable[..., Flask]) -> None:
    client = make_app(WTF_CSRF_ENABLED=True).test_client()
    html = client.get("/auth/login").get_data(as_text=True)
    for name in ("username", "password", "csrf_token"):
        assert f'name="{name}"' in html
    assert 'type="password"' in html


def test_sign_in_and_out(client: FlaskClient, make_user: Callable[..., User]) -> None:
    make_user("alice")
    response = sign_in(client, "alice")
    assert response.status_code == 303
    assert response.headers["Location"] == "/admin/"
    page = client.get("/admin/")
    assert page.status_code == 200
    assert "alice" in page.get_data(as_text=True)
    out = client.post("/auth/logout")
    assert out.status_code == 303
    assert not is_signed_in(client)


def test_logout_is_post_only(client: FlaskClient, make_user: Callable[..., User]) -> None:
    make_user("alice")
    sign_in(client, "alice")
    assert client.get("/auth/logout").status_code == 405
    assert is_signed_in(client)


def test_signed_in_user_visiting_login_goes_to_admin(
    client: FlaskClient, make_user: Callable[..., User]
) -> None:
    make_user("alice")
    sign_in(client, "alice")
    response = client.get("/auth/login")
    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/"


def test_failures_do_not_reveal_whether_the_user_exists(
    client: FlaskClient, make_user: Callable[..., User]
) -> None:
    make_user("alice")
    wrong_password = sign_in(client, "alice", "not the password")
    no_such_user = sign_in(client, "nobody", "not the password")
    assert wrong_password.status_code == no_such_user.status_code == 200
    for response in (wrong_password, no_such_user):
        html = response.get_data(as_text=True)
        assert WRONG_CREDENTIALS in html
        assert "<title>Error: Sign in &ndash; " in html
        assert "not the password" not in html  # the password is never echoed back
    assert not is_signed_in(client)


def test_empty_fields_get_field_messages(client: FlaskClient) -> None:
    response = client.post("/auth/login", data={"username": "", "password": ""})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Enter your username." in html
    assert "Enter your password." in html
    assert "<title>Error: Sign in &ndash; " in html
    assert '<a href="#username">Username: Enter your username.</a>' in html


def test_a_file_or_json_in_place_of_fields_is_answered_as_empty_fields(
    make_app: Callable[..., Flask], make_user: Callable[..., User]
) -> None:
    make_user("alice")
    client = make_app(WTF_CSRF_ENABLED=True).test_client()
    token = csrf_token(client.get("/auth/login").get_data(as_text=True))
    upload = client.post(
        "/auth/login",
        data={"username": (io.BytesIO(b"alice"), "name.txt"), "password": PASSWORD},
        headers={"X-CSRFToken": token or ""},
    )
    assert upload.status_code == 422
    assert "Enter your username." in upload.get_data(as_text=True)
    for body in ({"username": "alice", "password": PASSWORD}, [1], {"username": {"a": 1}}):
        posted = client.post("/auth/login", json=body, headers={"X-CSRFToken": token or ""})
        assert posted.status_code == 422
        assert "Enter your username." in posted.get_data(as_text=True)
    assert not is_signed_in(client)


def test_inactive_user_cannot_sign_in(client: FlaskClient, make_user: Callable[..., User]) -> None:
    make_user("gone", active=False)
    response = sign_in(client, "gone")
    assert response.status_code == 403
    assert "This account is disabled" in response.get_data(as_text=True)
    assert not is_signed_in(client)
    # With a wrong password the answer is the ordinary one: nothing is revealed.
    wrong = sign_in(client, "gone", "wrong password")
    assert WRONG_CREDENTIALS in wrong.get_data(as_text=True)


def test_deactivating_a_user_ends_their_session(
    app: Flask, client: FlaskClient, make_user: Callable[..., User]
) -> None:
    user = make_user("alice")
    sign_in(client, "alice")
    assert is_signed_in(client)
    user.active = False
    db.session.commit()
    assert not is_signed_in(client)


def test_anonymous_users_are_sent_to_login_with_next(client: FlaskClient) -> None:
    for url in ("/admin/", "/admin/articles/new", "/admin/users/", "/admin/hijri/"):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response.headers["Location"].startswith("/auth/login?next=")
    post = client.post("/admin/articles/1/delete")
    assert post.status_code == 303
    assert post.headers["Location"] == "/auth/login?next=/admin/"  # not to a POST-only URL


def test_next_leads_back_to_a_local_page(
    client: FlaskClient, make_user: Callable[..., User]
) -> None:
    make_user("alice")
    client.get("/auth/login?next=/admin/trash")
    response = client.post(
        "/auth/login?next=/admin/trash", data={"username": "alice", "password": PASSWORD}
    )
    assert response.status_code == 303
    assert response.headers["Location"] == "/admin/trash"


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example/",
        "///evil.example/",
        "https://evil.example/",
        "http:/evil.example",
        "/\\evil.example",
        "\\\\evil.example",
        "/admin\\..\\evil",
        "javascript:alert(1)",
        "/\t/evil.example",
        " //evil.example",
        "evil.example",
        "",
    ],
)
def test_next_never_leaves_the_site(
    client: FlaskClient, make_user: Callable[..., User], target: str
) -> None:
    make_user("alice")
    response = client.post(
        "/auth/login",
        query_string={"next": target},
        data={"username": "alice", "password": PASSWORD},
    )
    assert response.status_code == 303
    assert response.headers["Location"] == "/admin/"
    assert safe_next(target) is None


def test_safe_next_keeps_paths_and_queries() -> None:
    assert safe_next("/admin/articles/3/edit") == "/admin/articles/3/edit"
    assert safe_next("/admin/?before=20") == "/admin/?before=20"
    assert safe_next(None) is None


def test_login_form_carries_next_through(client: FlaskClient) -> None:
    html = client.get("/auth/login?next=/admin/trash").get_data(as_text=True)
    assert 'action="/auth/login?next=/admin/trash"' in html
    html = client.get("/auth/login?next=//evil.example").get_data(as_text=True)
    assert "evil.example" not in html


# --- rate limits ---------------------------------------------------------------------------


def test_wrong_passwords_for_one_account_are_limited(
    make_app: Callable[..., Flask], make_user: Callable[..., User]
) -> None:
    make_user("alice")
    make_user("bob")
    client = make_app(RATELIMIT_ENABLED=True).test_client()
    codes = [sign_in(client, "alice", f"guess {n}").status_code for n in range(9)]
    assert 429 in codes, codes
    assert codes.index(429) < 9
    assert codes[:5] == [200] * 5  # LOGIN_LIMITS: 5 per minute
    limited = sign_in(client, "alice")
    assert limited.status_code == 429  # the account stays locked for the minute
    html = limited.get_data(as_text=True)
    assert TOO_MANY_ATTEMPTS in html
    # The form again, the name kept, so the person can try once the minute is over.
    assert 'name="username"' in html and 'value="alice"' in html
    assert 'name="password"' in html
    # The same address may still sign in to another account: failures there were few.
    assert sign_in(client, "bob").status_code == 303


def test_account_limit_counts_names_case_insensitively(
    make_app: Callable[..., Flask], make_user: Callable[..., User]
) -> None:
    make_user("alice")
    client = make_app(RATELIMIT_ENABLED=True, LOGIN_LIMITS="2 per minute").test_client()
    codes = [sign_in(client, name, "wrong").status_code for name in ("alice", "ALICE", "Alice")]
    assert codes == [200, 200, 429]


def test_account_limit_counts_names_as_the_form_reads_them(
    make_app: Callable[..., Flask], make_user: Callable[..., User]
) -> None:
    make_user("alice")
    client = make_app(RATELIMIT_ENABLED=True, LOGIN_LIMITS="2 per minute").test_client()
    # The form drops control characters, so each of these names signs in as "alice": the
    # limit must count them as hers, not give every variant two guesses of its own.
    names = ("alice", "al\x01ice", "alice\x7f", "\x1ba\x00lice")
    codes = [sign_in(client, name, "wrong").status_code for name in names]
    assert codes == [200, 200, 429, 429]
    assert sign_in(client, "ali\x02ce").status_code == 429


def test_one_address_spraying_many_accounts_is_limited(
    make_app: Callable[..., Flask], make_user: Callable[..., User]
) -> None:
    make_user("alice")
    app = make_app(RATELIMIT_ENABLED=True, LOGIN_ADDRESS_LIMITS="4 per minute")
    attacker = app.test_client()
    spray = {"environ_base": {"REMOTE_ADDR": "10.0.0.9"}}
    codes = [sign_in(attacker, f"user{n}", "password1", **spray).status_code for n in range(6)]
    assert codes[:4] == [200] * 4
    assert codes[4:] == [429, 429]
    # Another address is not affected.
    other = app.test_client()
    assert sign_in(other, "alice", environ_base={"REMOTE_ADDR": "10.0.0.2"}).status_code == 303


def test_successful_sign_ins_are_not_counted(
    make_app: Callable[..., Flask], make_user: Callable[..., User]
) -> None:
    make_user("alice")
    app = make_app(RATELIMIT_ENABLED=True, LOGIN_LIMITS="2 per minute")
    for _ in range(4):
        client = app.test_client()
        assert sign_in(client, "alice").status_code == 303


def test_login_page_itself_is_not_limited(
    make_app: Callable[..., Flask], make_user: Callable[..., User]
) -> None:
    client = make_app(RATELIMIT_ENABLED=True, LOGIN_LIMITS="1 per minute").test_client()
    sign_in(client, "alice", "wrong")
    assert sign_in(client, "alice", "wrong").status_code == 429
    assert client.get("/auth/login").status_code == 200


# --- passwords -----------------------------------------------------------------------------


def test_passwords_are_stored_with_werkzeugs_default_hash(
    app: Flask, make_user: Callable[..., User]
) -> None:
    user = make_user("alice")
    assert user.password_hash.startswith("scrypt:")
    assert PASSWORD not in user.password_hash


def test_change_own_password(client: FlaskClient, make_user: Callable[..., User]) -> None:
    make_user("alice")
    sign_in(client, "alice")
    assert client.get("/admin/password").status_code == 200
    wrong = client.post(
        "/admin/password",
        data={
            "current_password": "nope",
            "new_password": "a new password",
            "confirm_password": "a new password",
        },
    )
    assert wrong.status_code == 422
    assert "not your current password" in wrong.get_data(as_text=True)
    mismatch = client.post(
        "/admin/password",
        data={
            "current_password": PASSWORD,
            "new_password": "a new password",
            "confirm_password": "another one",
        },
    )
    assert mismatch.status_code == 422
    assert "The two new passwords differ." in mismatch.get_data(as_text=True)
    short = client.post(
        "/admin/password",
        data={"current_password": PASSWORD, "new_password": "short", "confirm_password": "short"},
    )
    assert short.status_code == 422
    assert "at least 8 characters" in short.get_data(as_text=True)
    done = client.post(
        "/admin/password",
        data={
            "current_password": PASSWORD,
            "new_password": "a new password",
            "confirm_password": "a new password",
        },
    )
    assert done.status_code == 303
    assert is_signed_in(client)  # the session that changed it stays signed in
    client.post("/auth/logout")
    assert sign_in(client, "alice").status_code == 200
    assert sign_in(client, "alice", "a new password").status_code == 303


def test_wrong_current_passwords_count_with_wrong_sign_ins(
    make_app: Callable[..., Flask], make_user: Callable[..., User]
) -> None:
    # A browser left signed in must not be a way to guess the password without end.
    make_user("alice")
    make_user("bob")
    app = make_app(RATELIMIT_ENABLED=True, LOGIN_LIMITS="3 per minute")
    desk, bob = app.test_client(), app.test_client()
    assert sign_in(desk, "alice").status_code == 303
    assert sign_in(desk, "alice", "wrong").status_code == 200  # one wrong sign-in...

    def change(current: str) -> TestResponse:
        new = {"new_password": "a new password", "confirm_password": "a new password"}
        return desk.post("/admin/password", data={"current_password": current, **new})

    codes = [change(f"guess {n}").status_code for n in range(4)]  # ...and wrong passwords
    assert codes == [422, 422, 429, 429]
    locked = change(PASSWORD)
    assert locked.status_code == 429  # the right one too, until the minute is over
    html = locked.get_data(as_text=True)
    assert "Too many wrong passwords. Please wait a minute, then try again." in html
    assert 'name="current_password"' in html
    assert sign_in(app.test_client(), "alice").status_code == 429
    # Another account is not held back by hers.
    assert sign_in(bob, "bob").status_code == 303
    assert bob.get("/admin/password").status_code == 200


def test_a_password_change_ends_other_sessions(app: Flask, make_user: Callable[..., User]) -> None:
    make_user("alice")
    phone, laptop = app.test_client(), app.test_client()
    sign_in(phone, "alice")
    sign_in(laptop, "alice")
    laptop.post(
        "/admin/password",
        data={
            "current_password": PASSWORD,
            "new_password": "a new password",
            "confirm_password": "a new password",
        },
    )
    assert is_signed_in(laptop)
    assert not is_signed_in(phone)


def test_unknown_or_malformed_session_user_is_anonymous(
    client: FlaskClient, make_user: Callable[..., User]
) -> None:
    for user_id in ("999", "abc", "9" * 40, "-1"):
        with client.session_transaction() as session:
            session["_user_id"] = user_id
        assert not is_signed_in(client)
    user_count = db.session.scalar(sa.select(sa.func.count()).select_from(User))
    assert user_count == 0


# --- sessions ------------------------------------------------------------------------------


def session_of(app: Flask, client: FlaskClient) -> dict[str, Any]:
    """Return what a client's session cookie holds, as the app reads it."""
    cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"])
    assert cookie is not None
    return dict(app.session_interface.get_signing_serializer(app).loads(cookie.value))


def copy_of(app: Flask, client: FlaskClient) -> FlaskClient:
    """Return another browser holding a copy of the client's session cookie."""
    cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"])
    assert cookie is not None
    copy = app.test_client()
    copy.set_cookie(cookie.key, cookie.value)
    return copy


def sign_ins_of(user: User) -> list[SignIn]:
    return list(db.session.scalars(sa.select(SignIn).where(SignIn.user_id == user.id)))


def test_a_copied_session_cookie_signs_no_one_in_after_sign_out(
    app: Flask, make_user: Callable[..., User]
) -> None:
    alice = make_user("alice")
    own = app.test_client()
    sign_in(own, "alice")
    copy = copy_of(app, own)
    assert is_signed_in(copy)  # a copy works while the sign-in lasts,
    own.post("/auth/logout")
    assert not is_signed_in(copy)  # and no longer once its owner has signed out
    assert sign_ins_of(alice) == []


def test_signing_in_again_in_one_browser_ends_its_earlier_sign_in(
    app: Flask, make_user: Callable[..., User]
) -> None:
    alice, _ = make_user("alice"), make_user("bob")
    shared = app.test_client()
    sign_in(shared, "alice")
    copy = copy_of(app, shared)
    assert sign_in(shared, "bob").status_code == 303  # a POST while signed in as alice
    assert sign_ins_of(alice) == []
    assert not is_signed_in(copy)
    assert "bob (author)" in shared.get("/admin/").get_data(as_text=True)


def test_a_password_set_outside_the_site_ends_every_sign_in(
    app: Flask, make_user: Callable[..., User]
) -> None:
    alice = make_user("alice")
    client = app.test_client()
    sign_in(client, "alice")
    alice.set_password("set from a shell")  # a restore, or a script: no row is touched
    db.session.commit()
    assert not is_signed_in(client)


def test_signing_out_one_browser_leaves_the_others_signed_in(
    app: Flask, make_user: Callable[..., User]
) -> None:
    alice = make_user("alice")
    phone, laptop = app.test_client(), app.test_client()
    sign_in(phone, "alice")
    sign_in(laptop, "alice")
    assert len(sign_ins_of(alice)) == 2
    phone.post("/auth/logout")
    assert not is_signed_in(phone)
    assert is_signed_in(laptop)
    assert len(sign_ins_of(alice)) == 1


def test_the_server_keeps_a_digest_of_each_sign_in_not_its_token(
    app: Flask, client: FlaskClient, make_user: Callable[..., User]
) -> None:
    alice = make_user("alice")
    sign_in(client, "alice")
    token = session_of(app, client)["sign_in"]
    (row,) = sign_ins_of(alice)
    assert len(token) >= 40 and token not in row.token_digest
    assert row.token_digest == hashlib.sha256(token.encode()).hexdigest()


def test_a_sign_in_ends_after_the_session_lifetime(
    app: Flask, make_user: Callable[..., User]
) -> None:
    alice, bob = make_user("alice"), make_user("bob")
    kept, expired = app.test_client(), app.test_client()
    sign_in(kept, "alice")
    sign_in(expired, "alice")
    (row,) = [r for r in sign_ins_of(alice) if r.token_digest == _digest_of(app, expired)]
    row.created_at = dates.utcnow() - app.permanent_session_lifetime - timedelta(minutes=1)
    db.session.commit()
    assert not is_signed_in(expired)
    assert is_signed_in(kept)
    sign_in(app.test_client(), "bob")  # a new sign-in clears away the expired ones
    db.session.expire_all()
    assert [r.token_digest for r in sign_ins_of(alice)] == [_digest_of(app, kept)]
    assert len(sign_ins_of(bob)) == 1


def test_sign_in_days_sets_how_long_a_sign_in_lasts(
    make_app: Callable[..., Flask], make_user: Callable[..., User]
) -> None:
    app = make_app(SIGN_IN_DAYS=2)
    client = app.test_client()
    make_user("alice")
    sign_in(client, "alice")
    (row,) = db.session.scalars(sa.select(SignIn))
    row.created_at = dates.utcnow() - timedelta(days=1, hours=23)
    db.session.commit()
    assert is_signed_in(client)
    row.created_at = dates.utcnow() - timedelta(days=2, minutes=1)
    db.session.commit()
    assert not is_signed_in(client)


def _digest_of(app: Flask, client: FlaskClient) -> str:
    return hashlib.sha256(session_of(app, client)["sign_in"].encode()).hexdigest()


def test_a_session_from_before_sign_ins_were_kept_signs_no_one_in(
    client: FlaskClient, make_user: Callable[..., User]
) -> None:
    alice = make_user("alice")
    with client.session_transaction() as session:
        session["_user_id"] = str(alice.id)
        session["_fresh"] = True
        session["auth_stamp"] = "0" * 32
    assert not is_signed_in(client)
    with client.session_transaction() as session:
        session["sign_in"] = "a token the server never gave"
    assert not is_signed_in(client)


def test_a_sign_out_message_is_shown_once_and_never_cached_for_others(
    app: Flask, client: FlaskClient, make_user: Callable[..., User], make_article
) -> None:
    make_article(title="Front page story")
    make_user("alice")
    sign_in(client, "alice")
    client.post("/auth/logout")
    home = client.get("/")
    assert "Signed out." in home.get_data(as_text=True)
    assert home.headers["Cache-Control"] == "private, no-store"
    stranger = app.test_client()
    for _ in range(2):  # the second request would be answered from the page cache
        page = stranger.get("/").get_data(as_text=True)
        assert "Front page story" in page and "Signed out." not in page
    assert "Signed out." not in client.get("/").get_data(as_text=True)
