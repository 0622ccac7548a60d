"""flask db backup: a consistent copy of a live SQLite database."""

from __future__ import annotations

import os
import sqlite3
import tempfile
from pathlib import Path

import click
from flask.cli import with_appcontext

from ..extensions import db

_COMPANIONS = ("", "-wal", "-shm", "-journal")


@click.command("backup")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace FILE if it exists.")
@with_appcontext
def backup(file: Path, force: bool) -> None:
    """Copy the SQLite database into FILE while the site keeps running."""
    engine = db.engine
    if engine.dialect.name != "sqlite":
        raise click.ClickException(
            f"flask db backup copies SQLite databases; this site uses {engine.dialect.name}. "
            "Back PostgreSQL up with pg_dump, e.g. pg_dump --format=custom --file=FILE DBNAME"
        )
    source = engine.url.database
    if not source or source == ":memory:" or source.startswith("file:"):
        raise click.ClickException("the database is not a file, so there is nothing to copy")
    live_path = Path(source).resolve()
    if not live_path.is_file():
        # Connecting would make an empty database there, and back that up.
        raise click.ClickException(
            f"there is no database at {source}; check DATABASE_URL (or run flask db upgrade)"
        )
    target = file.resolve()
    # The database's own files: its write-ahead log, shared memory and rollback journal
    # hold committed writes, and replacing one damages the database.
    own = [live_path.with_name(live_path.name + suffix) for suffix in _COMPANIONS]
    if target in own:
        raise click.ClickException(
            f"{file} is one of the live database's own files; choose another path"
        )
    if target.exists() and not force:
        raise click.ClickException(f"{file} exists; pass --force to replace it")
    if target.exists() and not target.is_file():
        # A device, a pipe or a socket: a backup would take its place.
        raise click.ClickException(f"{file} is not a regular file; choose another path")
    if not target.parent.is_dir():
        raise click.ClickException(f"{target.parent} is not a directory")
    # Copy into a temporary file beside the target, then rename: a failed or interrupted
    # backup never leaves a half-written FILE behind, nor destroys an older one.
    try:
        handle, partial = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    except OSError as error:
        raise click.ClickException(
            f"cannot write {file}: {error.strerror}; choose a directory you may write to"
        ) from None
    os.close(handle)
    try:
        live = engine.raw_connection()
        try:
            _copy(live.driver_connection, partial)
        finally:
            live.close()
        os.replace(partial, target)
    except (OSError, sqlite3.Error) as error:  # a full disk, most likely
        raise click.ClickException(
            f"the backup to {file} failed ({error}); nothing was written there"
        ) from None
    finally:
        if os.path.exists(partial):
            os.unlink(partial)
    size = target.stat().st_size
    click.echo(f"Backed up {source} to {file} ({size / 1_048_576:.1f} MiB).")


def _copy(live: sqlite3.Connection, path: str) -> None:
    copy = sqlite3.connect(path)
    try:
        # All pages in one step: one read snapshot, which WAL lets writers work beside.
        # Stepping page by page would restart whenever another process writes.
        live.backup(copy)
    finally:
        copy.close()
