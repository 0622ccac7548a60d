"""Server connections: dead ones are replaced before use; reads and writes use their own."""

from __future__ import annotations

from datetime import timedelta

import psycopg
import pytest
from flask import Flask
from flask.testing import FlaskClient

from blog import articles, counts, engines
from blog.dates import utcnow
from blog.extensions import db
from blog.models import Tag

from conftest import POSTGRESQL_ONLY, SQLITE_ONLY


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
    monkeypatch.setattr(engines, "IDLE_PING_SECONDS", 0.0)
    home = client.get("/")
    assert home.status_code == 200
    assert "Still here after the restart" in home.get_data(as_text=True)
    shown = client.get(f"/article/{article.id}/{article.slug}")
    assert shown.status_code == 200
    assert "Still here after the restart" in shown.get_data(as_text=True)


@POSTGRESQL_ONLY
def test_reads_run_outside_transactions_and_writes_inside_them(
    app: Flask, client: FlaskClient, make_article
) -> None:
    make_article(title="Read on its own connection")
    assert "Read on its own connection" in client.get("/").get_data(as_text=True)
    with app.app_context():
        with engines.reader().connect() as reading:
            driver = reading.connection.driver_connection
            assert driver.autocommit is True
            plans = driver.execute("SHOW plan_cache_mode").fetchone()[0]
            assert plans == "force_generic_plan"
        with db.engine.connect() as writing:
            driver = writing.connection.driver_connection
            assert driver.autocommit is False
            assert driver.execute("SHOW plan_cache_mode").fetchone()[0] == "auto"


@POSTGRESQL_ONLY
def test_reads_keep_the_options_given_in_the_database_url(make_app, database_uri: str) -> None:
    app = make_app(SQLALCHEMY_DATABASE_URI=f"{database_uri}?options=-c%20statement_timeout%3D4321")
    with app.app_context():
        with engines.reader().connect() as reading:
            driver = reading.connection.driver_connection
            assert driver.execute("SHOW statement_timeout").fetchone()[0] == "4321ms"
            plans = driver.execute("SHOW plan_cache_mode").fetchone()[0]
            assert plans == "force_generic_plan"


@SQLITE_ONLY
def test_sqlite_connections_are_set_for_concurrent_workers(app: Flask) -> None:
    with db.engine.connect() as connection:
        driver = connection.connection.driver_connection

        def pragma(name: str) -> object:
            return driver.execute(f"PRAGMA {name}").fetchone()[0]

        # WAL and a busy timeout: gunicorn's workers read while one writes, never "locked".
        assert pragma("journal_mode") == "wal"
        assert pragma("busy_timeout") == 10000
        assert pragma("foreign_keys") == 1
        assert pragma("synchronous") == 1  # NORMAL: safe with WAL, one sync per checkpoint


def test_plain_reads_give_the_rows_sqlalchemy_gives(app: Flask, make_article) -> None:
    tags = [Tag(name="Zebra", slug="zebra"), Tag(name="Apple", slug="apple")]
    tagged = make_article(title="Tagged", summary="Short", tags=tags)
    old = utcnow() - timedelta(days=3, microseconds=5)
    make_article(title="Untagged", published_at=old)
    make_article(title="Trashed", deleted_at=utcnow())
    with app.app_context():
        engine = engines.reader()
        now = utcnow()
        listing = {"lower": articles.EARLIEST, "upper": now, "edge_at": now, "edge_id": 10**9}
        cases = [
            (articles._READING, {"id": tagged.id}),
            (articles._READING, {"id": 10**9}),
            (articles._LATEST, {"now": now, "limit": 5}),
            (articles.NEWEST_FIRST, {**listing, "limit": 5}),
            (articles.OLDEST_FIRST, {**listing, "edge_at": articles.EARLIEST, "limit": 5}),
        ]
        for plain, params in cases:
            with engine.connect() as connection:
                expected = [tuple(row) for row in connection.execute(plain.statement, params)]
            assert plain.rows(params) == expected
        reading = articles.read_article(tagged.id)
        rows = articles.NEWEST_FIRST.rows({**listing, "limit": 5})
    assert reading is not None and reading.tag_names == ["Apple", "Zebra"]
    assert [row[1] for row in rows] == ["Tagged", "Untagged"]
    # Aware UTC instants, to the microsecond, as the ORM reads them.
    assert rows[1][4] == old and rows[1][4].utcoffset() == timedelta(0)


@POSTGRESQL_ONLY
def test_reads_survive_their_prepared_statements_being_dropped(app: Flask, make_article) -> None:
    article = make_article(title="Read after the drop")
    with app.app_context():
        engine = engines.reader()
        before = counts.content_version(engine)
        assert articles.read_article(article.id) is not None
        with engine.connect() as reading:
            driver = reading.connection.driver_connection
            names = [row[0] for row in driver.execute("SELECT name FROM pg_prepared_statements")]
            assert "blog_content_version" in names
            assert len([name for name in names if name.startswith("blog_")]) == 2
            # What a pooler's reset or a DEALLOCATE ALL does to the connection's statements.
            driver.execute("DEALLOCATE ALL")
        make_article(title="Moves the version on")
        assert counts.content_version(engine) > before
        reading = articles.read_article(article.id)
        assert reading is not None and reading.title == "Read after the drop"


@POSTGRESQL_ONLY
def test_readers_get_utc_instants_whatever_the_servers_zone(make_app, make_article) -> None:
    app = make_app(TIMEZONE="Asia/Riyadh")
    with app.app_context():
        url = db.engine.url
        instant = utcnow().replace(year=2016, month=3, day=26, hour=6, minute=51, second=0)
        article = make_article(title="Read in UTC", published_at=instant)
        article_id, slug = article.id, article.slug
    admin = psycopg.connect(
        host=url.host, port=url.port, user=url.username, dbname="postgres", autocommit=True
    )
    # New sessions on this database start in a zone three and a half hours behind UTC.
    admin.execute(f"ALTER DATABASE \"{url.database}\" SET timezone TO 'America/St_Johns'")
    try:
        engines.dispose(app)
        with app.app_context():
            reading = articles.read_article(article_id)
            now = utcnow()
            listing = {"lower": articles.EARLIEST, "upper": now, "edge_at": now, "edge_id": 10**9}
            rows = articles.NEWEST_FIRST.rows({**listing, "limit": 5})
            # The ORM's own connections convert what they read: the same instant.
            stored = db.session.get(type(article), article_id).published_at
        html = app.test_client().get(f"/article/{article_id}/{slug}").get_data(as_text=True)
    finally:
        admin.execute(f'ALTER DATABASE "{url.database}" RESET timezone')
        admin.close()
        engines.dispose(app)
    assert reading is not None
    for read in (reading.published_at, rows[0][4], stored):
        assert read == instant and read.utcoffset() == timedelta(0), read
    assert 'datetime="2016-03-26T09:51:00+03:00">26 March 2016 9:51</time>' in html
