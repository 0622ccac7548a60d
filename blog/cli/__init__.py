"""Command line: flask users, articles, hijri, demo, and flask db backup."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import click
from flask import Flask
from flask.cli import with_appcontext
from sqlalchemy.exc import SQLAlchemyError

from .. import schema


def init_app(app: Flask) -> None:
    """Add the command groups to the flask CLI."""
    from flask_migrate.cli import db as db_group

    from . import articles, backup, demo, hijri, users

    for group in (users.group, articles.group, hijri.group, demo.group):
        for command in group.commands.values():
            # Each process builds its app once; a command is wrapped once.
            if not getattr(command.callback, "checks_schema", False):
                command.callback = _schema_first(command.callback)
        app.cli.add_command(group)
    # Flask-Migrate's group is one object shared by every app this process builds.
    if "backup" not in db_group.commands:
        db_group.add_command(backup.backup)


def _schema_first(command: Callable[..., Any]) -> Callable[..., Any]:
    """Run a command only on a database that answers and is migrated for this code: else
    say so in one line (each command's first query raised a page of traceback)."""

    @functools.wraps(command)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            unready = schema.problem()
        except SQLAlchemyError as error:
            said = str(getattr(error, "orig", None) or error).strip().splitlines()
            reason = said[0] if said else type(error).__name__
            raise click.ClickException(f"the database does not answer: {reason}") from None
        if unready:
            raise click.ClickException(unready)
        return command(*args, **kwargs)

    checked = with_appcontext(run)
    checked.checks_schema = True  # type: ignore[attr-defined]
    return checked
