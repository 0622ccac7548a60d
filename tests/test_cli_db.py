"""flask db backup: an online SQLite copy that opens as a site; PostgreSQL is sent to pg_dump."""

from __future__ import annotations

import os
import resource
import signal
import sqlite3
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path

from flask.testing import FlaskCliRunner

from blog import create_app, engines
from blog.extensions import db
from blog.models import Article

from conftest import POSTGRESQL_ONLY, SQLITE_ONLY, base_config
from servers import REPO_ROOT, server_env, venv_bin


class Writer(threading.Thread):
    """Another process's connection, committing small writes until stopped."""

    def __init__(self, path: str) -> None:
        super().__init__(daemon=True)
        self.path, self.stop, self.writes = path, threading.Event(), 0
        self.error: BaseException | None = None

    def run(self) -> None:
        connection = sqlite3.connect(self.path, timeout=10)
        try:
            while not self.stop.is_set():
                with connection:
                    connection.execute(
                        "INSERT INTO site_state (key, number, text) VALUES (?, 0, '')",
                        (f"writer-{self.writes}",),
                    )
                self.writes += 1
        except BaseException as error:  # reported by the test, not lost in the thread
            self.error = error
        finally:
            connection.close()


@SQLITE_ONLY
def test_backup_while_another_connection_writes(
    runner: FlaskCliRunner, make_article: Callable[..., Article], tmp_path: Path
) -> None:
    for n in range(30):
        make_article(title=f"Kept article {n}")
    writer = Writer(db.engine.url.database or "")
    writer.start()
    while writer.writes < 20 and writer.is_alive():
        time.sleep(0.001)  # let the writer get going, so the copy happens under load
    target = tmp_path / "copies" / "blog-backup.sqlite3"
    target.parent.mkdir()
    result = runner.invoke(args=["db", "backup", str(target)])
    writer.stop.set()
    writer.join()
    assert writer.error is None
    assert result.exit_code == 0, result.output
    assert "Backed up" in result.output and oct(target.stat().st_mode)[-3:] == "600"
    assert [p.name for p in target.parent.iterdir()] == ["blog-backup.sqlite3"]

    with sqlite3.connect(target) as copy:
        assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    copy.close()
    restored = create_app(
        {"TESTING": True, "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{target}"}
    )
    with restored.app_context():
        try:
            page = restored.test_client().get("/").get_data(as_text=True)
        finally:
            db.session.remove()
            db.engine.dispose()
    assert "Kept article 29" in page and "Total: 30" in page


@SQLITE_ONLY
def test_backup_never_overwrites_by_accident(runner: FlaskCliRunner, tmp_path: Path) -> None:
    target = tmp_path / "old-backup.sqlite3"
    target.write_bytes(b"precious")
    result = runner.invoke(args=["db", "backup", str(target)])
    assert result.exit_code == 1 and "--force" in result.output
    assert target.read_bytes() == b"precious"
    live = runner.invoke(args=["db", "backup", "--force", db.engine.url.database or ""])
    assert live.exit_code == 1 and "live database" in live.output
    forced = runner.invoke(args=["db", "backup", "--force", str(target)])
    assert forced.exit_code == 0, forced.output
    assert target.read_bytes().startswith(b"SQLite format 3")


@SQLITE_ONLY
def test_backup_never_replaces_the_live_databases_own_files(
    runner: FlaskCliRunner, make_article: Callable[..., Article]
) -> None:
    make_article(title="Kept through it all")
    live = Path(db.engine.url.database or "")
    for suffix in ("-wal", "-shm", "-journal"):
        companion = live.with_name(live.name + suffix)
        before = companion.read_bytes() if companion.exists() else None
        result = runner.invoke(args=["db", "backup", "--force", str(companion)])
        assert result.exit_code == 1 and "live database's own files" in result.output, suffix
        assert (companion.read_bytes() if companion.exists() else None) == before, suffix
    with sqlite3.connect(live) as check:
        assert check.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert check.execute("SELECT title FROM articles").fetchall() == [("Kept through it all",)]


@SQLITE_ONLY
def test_backup_with_force_replaces_only_a_regular_file(
    runner: FlaskCliRunner, tmp_path: Path
) -> None:
    pipe = tmp_path / "pipe"
    os.mkfifo(pipe)
    result = runner.invoke(args=["db", "backup", "--force", str(pipe)])
    assert result.exit_code == 1 and "not a regular file" in result.output
    assert pipe.is_fifo()


def test_backup_of_a_database_that_is_not_there_says_so_and_makes_none(tmp_path: Path) -> None:
    missing, target = tmp_path / "typo.sqlite3", tmp_path / "backup.sqlite3"
    app = create_app(base_config(f"sqlite:///{missing}", tmp_path))
    try:
        result = app.test_cli_runner().invoke(args=["db", "backup", str(target)])
    finally:
        engines.dispose(app)
    assert result.exit_code == 1 and f"no database at {missing}" in result.output
    assert not missing.exists() and not target.exists()


@SQLITE_ONLY
def test_backup_to_a_directory_it_cannot_write_says_so(
    runner: FlaskCliRunner, tmp_path: Path
) -> None:
    # /proc refuses new files even to root, whom file modes do not stop.
    result = runner.invoke(args=["db", "backup", "/proc/blog-backup.sqlite3"])
    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit)  # no traceback
    assert result.output.startswith("Error: cannot write /proc/blog-backup.sqlite3: ")
    assert "choose a directory you may write to" in result.output
    missing = tmp_path / "missing" / "blog-backup.sqlite3"
    result = runner.invoke(args=["db", "backup", str(missing)])
    assert result.exit_code == 1 and f"{missing.parent} is not a directory" in result.output


@SQLITE_ONLY
def test_a_backup_that_runs_out_of_room_says_so_and_leaves_nothing(
    make_article: Callable[..., Article], tmp_path: Path
) -> None:
    for n in range(40):
        make_article(title=f"Article {n}", body="Words. " * 200)
    source = db.engine.url.database or ""
    target = tmp_path / "copies" / "blog-backup.sqlite3"
    target.parent.mkdir()

    def small_disk() -> None:  # in the child: files stop growing at 64 KiB, as on a full disk
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (65536, 65536))

    done = subprocess.run(
        [str(venv_bin("flask")), "--app", "wsgi:app", "db", "backup", str(target)],
        cwd=REPO_ROOT,
        env=server_env(f"sqlite:///{source}", tmp_path / "instance"),
        preexec_fn=small_disk,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert Path(source).stat().st_size > 65536
    assert done.returncode == 1, done.stderr
    assert done.stderr.startswith(f"Error: the backup to {target} failed ("), done.stderr
    assert "Traceback" not in done.stderr
    assert list(target.parent.iterdir()) == []


@POSTGRESQL_ONLY
def test_backup_on_postgresql_points_to_pg_dump(runner: FlaskCliRunner, tmp_path: Path) -> None:
    result = runner.invoke(args=["db", "backup", str(tmp_path / "dump")])
    assert result.exit_code == 1 and "pg_dump" in result.output
    assert not (tmp_path / "dump").exists()


def test_the_models_match_the_migrations(runner: FlaskCliRunner) -> None:
    # Autogenerate finds nothing to add, drop or alter on either database, indexes built on
    # one database only (ddl_if) included.
    result = runner.invoke(args=["db", "check"])
    assert result.exit_code == 0, result.output
