"""Command line: flask users, articles, hijri, demo, and flask db backup."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Add the command groups to the flask CLI."""
    from flask_migrate.cli import db as db_group

    from . import articles, backup, demo, hijri, users

    for group in (users.group, articles.group, hijri.group, demo.group):
        app.cli.add_command(group)
    # Flask-Migrate's group is one object shared by every app this process builds.
    if "backup" not in db_group.commands:
        db_group.add_command(backup.backup)
