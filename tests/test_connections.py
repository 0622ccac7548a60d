"""Server connections: dead ones are replaced before use, a failed read hands back a sound one."""

from __future__ import annotations

import psycopg
import pytest
from flask import Flask
from flask.testing import FlaskClient

import blog
from blog import counts
from blog.extensions import db

from conftest import POSTGRESQL_ONLY


def _terminate_our_connections(app: Flask) -> int:
    """Kill, from outside, every server process serving the app's pool; return how many."""
    with app.app_context():
        url = db.engine.url
    with psycopg.connect(
        host=url.host, port=url.port, user=url.username, dbname=url.database, autocommit=True
    ) as admin:
        rows = admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        ).fetchall()
    return len(rows)


@POSTGRESQL_ONLY
def test_a_connection_killed_while_idle_is_replaced(
    app: Flask, client: FlaskClient, make_article, monkeypatch: pytest.MonkeyPatch
) -> None:
    article = make_article(title="Still here after the restart")
    assert client.get("/").status_code == 200
    assert _terminate_our_connections(app) >= 1
    # Every pooled connection now counts as idle long enough to be asked first.
    monkeypatch.setattr(blog, "IDLE_PING_SECONDS", 0.0)
    home = client.get("/")
    assert home.status_code == 200
    assert "Still here after the restart" in home.get_data(as_text=True)
    shown = client.get(f"/article/{article.id}/{article.slug}")
    assert shown.status_code == 200
    assert "Still here after the restart" in shown.get_data(as_text=True)


@POSTGRESQL_ONLY
def test_a_failed_version_read_hands_back_a_transactional_connection(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(counts, "_VERSION_SQL", "SELECT number FROM no_such_table")
    with app.app_context():
        engine = db.engine
        with pytest.raises(psycopg.errors.UndefinedTable):
            counts.content_version(engine)
        connection = engine.raw_connection()  # the pool hands back the same connection
        try:
            assert connection.driver_connection.autocommit is False
        finally:
            connection.close()
