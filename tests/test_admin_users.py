"""User management by admins: create, change role, deactivate, reset passwords."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from test_auth import is_signed_in, sign_in

from blog.extensions import db
from blog.models import User

UserFactory = Callable[..., User]


def admin_client(app: Flask, make_user: UserFactory) -> FlaskClient:
    make_user("root", "admin")
    client = app.test_client()
    assert sign_in(client, "root").status_code == 303
    return client


def user_named(name: str) -> User | None:
    db.session.expire_all()
    return db.session.scalar(sa.select(User).where(User.username == name))


def test_admin_creates_users(app: Flask, make_user: UserFactory) -> None:
    client = admin_client(app, make_user)
    page = client.get("/admin/users/")
    assert page.status_code == 200
    assert "root" in page.get_data(as_text=True)
    response = client.post(
        "/admin/users/",
        data={"username": "zeynep", "role": "editor", "password": "a long password"},
    )
    assert response.status_code == 303
    zeynep = user_named("zeynep")
    assert zeynep is not None
    assert (zeynep.role, zeynep.active) == ("editor", True)
    assert zeynep.password_hash.startswith("scrypt:")
    assert "zeynep" in client.get("/admin/users/").get_data(as_text=True)
    assert sign_in(app.test_client(), "zeynep", "a long password").status_code == 303


def test_create_validates_and_keeps_input(app: Flask, make_user: UserFactory) -> None:
    client = admin_client(app, make_user)
    cases = [
        ({"username": "root", "role": "author", "password": "a long password"}, "taken"),
        ({"username": "", "role": "author", "password": "a long password"}, "Enter a username"),
        ({"username": "two words", "role": "author", "password": "a long password"}, "Use letters"),
        ({"username": "newbie", "role": "author", "password": "short"}, "at least 8"),
        (
            {"username": "newbie", "role": "author", "password": "p" * 201},
            "200 characters or fewer",
        ),
        ({"username": "newbie", "role": "author", "password": " " * 8}, "not only spaces"),
        ({"username": "a/b", "role": "author", "password": "a long password"}, "Use letters"),
        ({"username": "newbie", "role": "overlord", "password": "a long password"}, "choice"),
    ]
    for data, message in cases:
        response = client.post("/admin/users/", data=data)
        assert response.status_code == 422, data
        html = response.get_data(as_text=True)
        assert message in html, data
        if data["username"]:
            assert f'value="{data["username"]}"' in html
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 1


def test_create_refuses_a_name_that_differs_only_in_case(
    app: Flask, make_user: UserFactory
) -> None:
    client = admin_client(app, make_user)
    make_user("demo")
    make_user("Çelik")  # SQL lower() leaves "Ç" as it is on SQLite
    make_user("İstanbul")
    make_user("أمينة")
    # The dotted capital İ, and Arabic presentation forms, look the same in a byline.
    taken = [("DEMO", "demo"), ("Demo", "demo"), ("çelik", "Çelik"), ("istanbul", "İstanbul")]
    for name, existing in [*taken, ("\ufe83\ufee3\ufef4\ufee8\ufe94", "أمينة")]:
        response = client.post(
            "/admin/users/",
            data={"username": name, "role": "author", "password": "a long password"},
        )
        assert response.status_code == 422, name
        html = response.get_data(as_text=True)
        assert (
            f"That username is taken: “{existing}” looks the same and differs only in case"
            " or letter forms." in html
        )
        assert f'value="{name}"' in html
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 5
    assert user_named("DEMO") is None and user_named("istanbul") is None


def test_admin_changes_role_and_deactivates(app: Flask, make_user: UserFactory) -> None:
    client = admin_client(app, make_user)
    amina = make_user("amina")
    amina_client = app.test_client()
    sign_in(amina_client, "amina")
    assert client.get(f"/admin/users/{amina.id}").status_code == 200
    response = client.post(f"/admin/users/{amina.id}", data={"role": "editor", "active": "y"})
    assert response.status_code == 303
    assert user_named("amina").role == "editor"  # type: ignore[union-attr]
    response = client.post(f"/admin/users/{amina.id}", data={"role": "editor"})
    assert response.status_code == 303
    assert user_named("amina").active is False  # type: ignore[union-attr]
    assert not is_signed_in(amina_client)  # the open session ends at once
    refused = sign_in(app.test_client(), "amina")
    assert "This account is disabled" in refused.get_data(as_text=True)
    client.post(f"/admin/users/{amina.id}", data={"role": "editor", "active": "y"})
    assert not is_signed_in(amina_client)  # made active again, the old session stays ended
    assert sign_in(app.test_client(), "amina").status_code == 303


def test_admin_cannot_lock_themselves_out(app: Flask, make_user: UserFactory) -> None:
    client = admin_client(app, make_user)
    root = user_named("root")
    assert root is not None
    for data in ({"role": "author", "active": "y"}, {"role": "admin"}):
        response = client.post(f"/admin/users/{root.id}", data=data)
        assert response.status_code == 422
        assert "cannot take away your own admin role" in response.get_data(as_text=True)
    root = user_named("root")
    assert root is not None and (root.role, root.active) == ("admin", True)


def test_admin_resets_a_password(app: Flask, make_user: UserFactory) -> None:
    client = admin_client(app, make_user)
    amina = make_user("amina")
    amina_client = app.test_client()
    sign_in(amina_client, "amina")
    short = client.post(f"/admin/users/{amina.id}/password", data={"new_password": "short"})
    assert short.status_code == 422
    response = client.post(
        f"/admin/users/{amina.id}/password", data={"new_password": "brand new secret"}
    )
    assert response.status_code == 303
    assert not is_signed_in(amina_client)
    assert sign_in(app.test_client(), "amina").status_code == 200
    assert sign_in(app.test_client(), "amina", "brand new secret").status_code == 303


def test_admin_resetting_their_own_password_stays_signed_in(
    app: Flask, make_user: UserFactory
) -> None:
    client = admin_client(app, make_user)
    other = app.test_client()
    assert sign_in(other, "root").status_code == 303
    root = user_named("root")
    assert root is not None
    client.post(f"/admin/users/{root.id}/password", data={"new_password": "brand new secret"})
    assert is_signed_in(client)
    assert not is_signed_in(other)  # their other browsers are signed out


def test_unknown_users_are_404(app: Flask, make_user: UserFactory) -> None:
    client = admin_client(app, make_user)
    assert client.get("/admin/users/999").status_code == 404
    assert client.post("/admin/users/999", data={"role": "author"}).status_code == 404
    assert client.get("/admin/users/99999999999999999999").status_code == 404
    assert client.get("/admin/users/2147483648").status_code == 404


def test_role_change_message_reads_well(app: Flask, make_user: UserFactory) -> None:
    client = admin_client(app, make_user)
    amina = make_user("amina")
    for role in ("admin", "editor", "author"):
        data = {"role": role, "active": "y"}
        page = client.post(f"/admin/users/{amina.id}", data=data, follow_redirects=True)
        assert f"“amina” is now an {role} (active)." in page.get_data(as_text=True), role
        assert user_named("amina").role == role  # type: ignore[union-attr]


def test_a_users_page_has_no_duplicate_ids(
    make_app: Callable[..., Flask], make_user: UserFactory
) -> None:
    # Two forms on one page: each rendered its CSRF field and button as id="csrf_token"
    # and id="submit".
    app = make_app(WTF_CSRF_ENABLED=True)
    with app.app_context():
        client = admin_client(app, make_user)
        other = make_user("zeynep")
        html = client.get(f"/admin/users/{other.id}").get_data(as_text=True)
    ids = re.findall(r'\sid="([^"]*)"', html)
    forms = re.findall(r"<form .*?</form>", html, re.S)
    assert any('name="new_password"' in form for form in forms)
    assert all('name="csrf_token"' in form for form in forms)
    assert [name for name, n in Counter(ids).items() if n > 1] == []
