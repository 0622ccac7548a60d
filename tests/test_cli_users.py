"""flask users create: prompts, standard input, and the errors that stop it."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import sqlalchemy as sa
from flask.testing import FlaskCliRunner

from blog.extensions import db
from blog.models import User


def user(name: str) -> User | None:
    return db.session.scalar(sa.select(User).where(User.username == name))


def test_create_prompts_twice_without_echoing(runner: FlaskCliRunner) -> None:
    result = runner.invoke(
        args=["users", "create", "amina", "--role", "editor"],
        input="long enough pw\nlong enough pw\n",
    )
    assert result.exit_code == 0, result.output
    assert result.output.count("Password") == 1 and "Repeat for confirmation" in result.output
    assert "long enough pw" not in result.output
    created = user("amina")
    assert created is not None and created.role == "editor"
    assert created.check_password("long enough pw")


def test_create_reads_one_line_from_stdin(runner: FlaskCliRunner) -> None:
    args = ["users", "create", "root", "--role", "admin", "--password-stdin"]
    result = runner.invoke(args=args, input="s3cret pass phrase\nignored\n")
    assert result.exit_code == 0, result.output
    assert "Password" not in result.output
    created = user("root")
    assert created is not None and created.is_admin
    assert created.check_password("s3cret pass phrase")


def test_create_refuses_an_existing_name(
    runner: FlaskCliRunner, make_user: Callable[..., User]
) -> None:
    make_user("yusuf")
    args = ["users", "create", "Yusuf", "--role", "author", "--password-stdin"]
    result = runner.invoke(args=args, input="another password\n")
    assert result.exit_code == 1
    assert "already exists" in result.output
    assert user("Yusuf") is None


def test_create_refuses_a_name_that_differs_only_in_case(
    runner: FlaskCliRunner, make_user: Callable[..., User]
) -> None:
    make_user("demo")
    make_user("Çelik")  # SQL lower() leaves "Ç" as it is on SQLite
    make_user("İstanbul")
    for name, existing in [("DEMO", "demo"), ("çelik", "Çelik"), ("istanbul", "İstanbul")]:
        args = ["users", "create", name, "--role", "author", "--password-stdin"]
        result = runner.invoke(args=args, input="another password\n")
        assert result.exit_code == 1, name
        assert (
            f"a user named '{existing}' already exists; names may not differ only in case"
            " or letter forms" in result.output
        )
        assert user(name) is None


@pytest.mark.parametrize("password", ["", "short7c"])
def test_create_refuses_a_short_password(runner: FlaskCliRunner, password: str) -> None:
    args = ["users", "create", "zeynep", "--role", "author", "--password-stdin"]
    result = runner.invoke(args=args, input=f"{password}\n")
    assert result.exit_code == 1
    assert "at least 8 characters" in result.output
    assert user("zeynep") is None


def test_create_refuses_an_empty_prompted_password(runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["users", "create", "omar", "--role", "author"], input="\n\n")
    assert result.exit_code == 1 and "at least 8 characters" in result.output
    assert user("omar") is None


def test_create_stops_when_the_confirmation_differs(runner: FlaskCliRunner) -> None:
    result = runner.invoke(
        args=["users", "create", "omar", "--role", "author"],
        input="first password\nsecond password\n",
    )
    assert result.exit_code != 0
    assert "do not match" in result.output
    assert user("omar") is None


def test_create_refuses_a_bad_role_and_a_bad_name(runner: FlaskCliRunner) -> None:
    result = runner.invoke(
        args=["users", "create", "omar", "--role", "owner", "--password-stdin"],
        input="good password\n",
    )
    assert result.exit_code == 2 and "'owner' is not one of" in result.output
    result = runner.invoke(
        args=["users", "create", "two words", "--role", "author", "--password-stdin"],
        input="good password\n",
    )
    assert result.exit_code == 1 and "Use letters, digits, dots" in result.output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 0


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("a/b", "Use letters, digits, dots, dashes and underscores."),
        ("user@x", "Use letters, digits, dots, dashes and underscores."),
        ("x" * 65, "Keep the username to 64 characters or fewer."),
        ("  ", "Enter a username."),
    ],
)
def test_create_refuses_names_the_web_form_refuses(
    runner: FlaskCliRunner, name: str, message: str
) -> None:
    args = ["users", "create", name, "--role", "author", "--password-stdin"]
    result = runner.invoke(args=args, input="good password\n")
    assert result.exit_code == 1
    assert result.output == f"Error: the user name {name.strip()!r} is refused. {message}\n"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 0


def test_create_takes_names_the_web_form_takes(runner: FlaskCliRunner) -> None:
    for name in ["Çelik", "a.b-c_d", "x" * 64]:
        args = ["users", "create", name, "--role", "author", "--password-stdin"]
        result = runner.invoke(args=args, input="good password\n")
        assert result.exit_code == 0, result.output
        assert user(name) is not None


@pytest.mark.parametrize(
    ("password", "message"),
    [
        (" " * 8, "Use a password that is not only spaces."),
        ("\t \u00a0 " * 3, "Use a password that is not only spaces."),
        ("x" * 201, "Keep the password to 200 characters or fewer."),
    ],
)
def test_create_refuses_passwords_the_web_form_refuses(
    runner: FlaskCliRunner, password: str, message: str
) -> None:
    args = ["users", "create", "zeynep", "--role", "author", "--password-stdin"]
    result = runner.invoke(args=args, input=f"{password}\n")
    assert result.exit_code == 1
    assert result.output == f"Error: the password is refused. {message}\n"
    assert user("zeynep") is None


def test_create_drops_nul_from_the_password_as_sign_in_does(runner: FlaskCliRunner) -> None:
    # The sign-in form drops NUL, so a password kept with one could never be typed.
    args = ["users", "create", "zeynep", "--role", "author", "--password-stdin"]
    result = runner.invoke(args=args, input="long\x00 password\n")
    assert result.exit_code == 0, result.output
    created = user("zeynep")
    assert created is not None and created.check_password("long password")


def test_create_refuses_a_password_that_is_not_utf8(runner: FlaskCliRunner) -> None:
    args = ["users", "create", "zeynep", "--role", "author", "--password-stdin"]
    result = runner.invoke(args=args, input=b"pw1234\xff5678\n")
    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit)  # no traceback
    assert result.output == "Error: the password is not UTF-8 text; type or pipe it in as UTF-8\n"
    assert user("zeynep") is None
