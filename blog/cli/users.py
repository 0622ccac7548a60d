"""flask users create."""

from __future__ import annotations

import sys

import click
import sqlalchemy as sa
from flask.cli import AppGroup

from .. import accounts, content
from ..extensions import db
from ..models import ROLES, User

group = AppGroup("users", help="Manage the people who may sign in.")


@group.command("create")
@click.argument("name")
@click.option("--role", type=click.Choice(ROLES), required=True, help="What the user may do.")
@click.option(
    "--password-stdin", is_flag=True, help="Read the password from one line of standard input."
)
def create(name: str, role: str, password_stdin: bool) -> None:
    """Create a user who can sign in with NAME and a password."""
    # The rules of the form at /admin/users/, so every user could have been made there.
    name = name.strip()
    try:
        accounts.check_username(name)
    except ValueError as error:
        raise click.ClickException(f"the user name {name!r} is refused. {error}") from None
    existing = accounts.same_name(name)
    if existing == name:
        raise click.ClickException(f"a user named {name!r} already exists")
    if existing is not None:
        raise click.ClickException(
            f"a user named {existing!r} already exists; names may not differ only in case"
            " or letter forms"
        )
    try:
        password = content.without_controls(
            _read_password() if password_stdin else _prompt_password()
        )
        # A C locale hands bytes that are not UTF-8 on as surrogates, which cannot be hashed.
        password.encode("utf-8")
    except UnicodeError:
        raise click.ClickException(
            "the password is not UTF-8 text; type or pipe it in as UTF-8"
        ) from None
    try:
        accounts.check_password(password)
    except ValueError as error:
        raise click.ClickException(f"the password is refused. {error}") from None
    user = User(username=name, role=role)
    user.set_password(password)
    db.session.add(user)
    try:
        db.session.commit()
    except sa.exc.IntegrityError:
        # Someone else took the name between the check and the commit.
        db.session.rollback()
        raise click.ClickException(f"a user named {name!r} already exists") from None
    click.echo(f"Created {role} {name!r}.")


def _read_password() -> str:
    line = sys.stdin.readline()
    return line.rstrip("\r\n")


def _prompt_password() -> str:
    # An empty default lets an empty answer through, so it gets the length message
    # instead of being asked again forever.
    password: str = click.prompt(
        "Password", hide_input=True, confirmation_prompt=True, default="", show_default=False
    )
    return password
