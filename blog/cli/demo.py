"""flask demo load: demo content and account for `make run`."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from .. import demo
from ..dates import site_zone

group = AppGroup("demo", help="Demo content for trying the site out.")


@group.command("load")
def load() -> None:
    """Add demo articles to an empty database and print the demo account."""
    loaded = demo.load(current_app.instance_path, site_zone(current_app.config["TIMEZONE"]))
    if loaded.articles:
        click.echo(f"Added {loaded.articles} demo articles.")
    else:
        click.echo("The database already has articles; no demo content added.")
    if loaded.password is not None:
        click.echo(f"Demo author: {loaded.username} / {loaded.password}")
        return
    saved = Path(current_app.instance_path) / demo.CREDENTIALS_FILE
    click.echo(
        f"Demo author: {loaded.username}. Its password was changed since it was saved in "
        f"{saved}, so there is none to print: sign in with the changed one, or delete that "
        "file and run `flask demo load` again for a new one."
    )
