"""Migrations build what the models describe, and those that rebuild a table keep every row,
link and index of a database in use."""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from flask_migrate import check, upgrade
from test_search_index import scratch_app

from blog import create_app, schema
from blog.extensions import db

from conftest import BACKENDS, base_config

ARTICLE = (
    "INSERT INTO articles (id, title, slug, summary, body_markdown, body_html, status,"
    " published_at, created_at, updated_at, deleted_at, author_id, external_id, version)"
    " VALUES (?, ?, ?, 's', 'b', '<p>b</p>', 'published', '2024-03-10 09:30:00.000000',"
    " '2024-03-10 09:30:00.000000', '2024-03-10 09:30:00.000000', NULL, 1, ?, 1)"
)


def _schema(connection: sqlite3.Connection) -> dict[str, str]:
    rows = connection.execute(
        "SELECT name, sql FROM sqlite_master WHERE tbl_name = 'articles' AND type = 'index'"
    )
    return dict(rows)


def test_sqlite_article_ids_are_never_reused_after_upgrading_a_used_database(
    tmp_path: Path,
) -> None:
    path = tmp_path / "blog.sqlite3"
    app = create_app(base_config(f"sqlite:///{path}", tmp_path))
    with app.app_context():
        upgrade(revision="0004")
        db.engine.dispose()
    with sqlite3.connect(path) as connection:
        connection.execute(
            "INSERT INTO users (id, username, password_hash, role, active, created_at)"
            " VALUES (1, 'amina', 'x', 'author', 1, '2024-01-01 00:00:00.000000')"
        )
        for n in (1, 2, 3):
            connection.execute(ARTICLE, (n, f"Story {n}", f"story-{n}", f"ext-{n}"))
        connection.execute("INSERT INTO tags (id, name, slug) VALUES (1, 'News', 'news')")
        connection.executemany(
            "INSERT INTO article_tags (article_id, tag_id) VALUES (?, 1)", [(1,), (3,)]
        )
        indexes = _schema(connection)
    connection.close()

    with app.app_context():
        upgrade()
        db.engine.dispose()

    connection = sqlite3.connect(path)
    try:
        connection.execute("PRAGMA foreign_keys = ON")
        titles = connection.execute("SELECT id, title, external_id FROM articles ORDER BY id")
        assert titles.fetchall() == [(n, f"Story {n}", f"ext-{n}") for n in (1, 2, 3)]
        links = connection.execute("SELECT article_id, tag_id FROM article_tags ORDER BY 1")
        assert links.fetchall() == [(1, 1), (3, 1)]
        # The rebuild kept every index; the upgrades after it added their own.
        added = {"ix_articles_author_live"}
        assert {k: v for k, v in _schema(connection).items() if k not in added} == indexes
        assert added <= _schema(connection).keys()
        assert connection.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert connection.execute("PRAGMA foreign_key_check").fetchall() == []
        assert "articles_rebuilt" not in str(connection.execute("SELECT name FROM sqlite_master"))
        # The newest article deleted for good: the next one still gets a new id.
        with connection:
            connection.execute("DELETE FROM articles WHERE id = 3")
            connection.execute(ARTICLE, (None, "Story 4", "story-4", "ext-4"))
        newest = connection.execute("SELECT max(id) FROM articles").fetchone()
        assert newest == (4,)
    finally:
        connection.close()


def test_the_migrations_build_the_schema_the_models_describe(app: Flask) -> None:
    # `flask db check`: autogenerate against the migrated database finds nothing to add,
    # drop or alter (an index the models keep for one database only is not missing).
    try:
        check()
    except SystemExit as exit:  # Flask-Migrate logs the differences, then exits
        pytest.fail(f"the models and the migrations differ (flask db check: {exit.code})")


def test_the_code_names_the_newest_migration_as_the_schema_it_needs() -> None:
    from alembic.script import ScriptDirectory

    migrations = Path(schema.__file__).parent / "migrations"
    assert ScriptDirectory(str(migrations)).get_current_head() == schema.SCHEMA_REVISION


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_database_behind_the_code_fails_the_health_check_and_stops_commands_in_one_line(
    backend: str, tmp_path: Path
) -> None:
    with scratch_app(backend, tmp_path) as app:
        client, runner = app.test_client(), app.test_cli_runner()
        # The app's own log, as an operator reads it (each migration run reconfigures the
        # root logger, and pytest's capture with it).
        log: list[str] = []
        handler = logging.Handler()
        handler.emit = lambda record: log.append(record.getMessage())  # type: ignore[method-assign]
        app.logger.addHandler(handler)

        def health(logged: str = "") -> int:
            log.clear()
            response = client.get("/healthz")
            assert response.get_json() == {"status": "ok" if logged == "" else "unavailable"}
            # Why, for the operator, and for no one else.
            assert log == ([f"health check failed: {logged}"] if logged else [])
            return response.status_code

        def hijri_list() -> tuple[int, str]:
            result = runner.invoke(args=["hijri", "list"])
            return result.exit_code, result.output

        no_tables = "the database has no tables yet: run flask db upgrade"
        assert health(no_tables) == 503
        assert hijri_list() == (1, f"Error: {no_tables}\n")
        upgrade(revision="0008")
        behind = (
            f"the database is at revision 0008 and this code needs {schema.SCHEMA_REVISION}:"
            " run flask db upgrade"
        )
        assert health(behind) == 503
        assert hijri_list() == (1, f"Error: {behind}\n")
        upgrade()
        assert health() == 200
        assert hijri_list() == (0, "No month-start overrides: every month follows Umm al-Qura.\n")
        # Migrated by a newer release first (a rolling upgrade): this code still serves.
        with db.engine.begin() as connection:
            connection.execute(sa.text("UPDATE alembic_version SET version_num = '9999'"))
        assert health() == 200
        assert hijri_list()[0] == 0
