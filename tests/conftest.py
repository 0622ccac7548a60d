"""Fixtures: an app on a real database (SQLite file, and PostgreSQL when configured)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from playwright.sync_api import Browser, Page, sync_playwright

from blog import create_app, engines
from blog.dates import utcnow
from blog.extensions import db
from blog.models import Article, User

PG_URL = os.environ.get("BLOG_TEST_DATABASE_URL", "")
REDIS_URL = os.environ.get("BLOG_TEST_REDIS_URL", "")
REQUIRE_ALL = os.environ.get("BLOG_REQUIRE_ALL_TESTS") == "1"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
NGINX = "/usr/sbin/nginx"
PASSWORD = "correct horse battery"
BACKENDS = ["sqlite", "postgresql"] if PG_URL else ["sqlite"]
# For tests about one database only; PostgreSQL's is empty (skipped) when no server is given.
SQLITE_ONLY = pytest.mark.parametrize("database_uri", ["sqlite"], indirect=True)
POSTGRESQL_ONLY = pytest.mark.parametrize(
    "database_uri", ["postgresql"] if PG_URL else [], indirect=True
)


def pytest_configure(config: pytest.Config) -> None:
    if REQUIRE_ALL and not PG_URL:
        raise pytest.UsageError("BLOG_REQUIRE_ALL_TESTS is set but BLOG_TEST_DATABASE_URL is not")
    if REQUIRE_ALL and not REDIS_URL:
        raise pytest.UsageError("BLOG_REQUIRE_ALL_TESTS is set but BLOG_TEST_REDIS_URL is not")
    if REQUIRE_ALL and not Path(CHROMIUM).exists():
        raise pytest.UsageError(f"BLOG_REQUIRE_ALL_TESTS is set but {CHROMIUM} is missing")
    if REQUIRE_ALL and not Path(NGINX).exists():
        raise pytest.UsageError(f"BLOG_REQUIRE_ALL_TESTS is set but {NGINX} is missing")


def pg_url() -> str:
    """Return the PostgreSQL test URL with psycopg 3 named as the driver."""
    url = PG_URL
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            url = "postgresql+psycopg://" + url[len(prefix) :]
    return url


def base_config(uri: str, instance: Path) -> dict[str, Any]:
    """Settings every test app starts from."""
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "SQLALCHEMY_DATABASE_URI": uri,
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": False,
    }


def migrate(uri: str, instance: Path) -> None:
    """Build the schema from nothing with the project's migrations."""
    from flask_migrate import upgrade

    app = create_app(base_config(uri, instance))
    with app.app_context():
        upgrade()
        db.engine.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("template")
    path = folder / "blog.sqlite3"
    migrate(f"sqlite:///{path}", folder)
    return path


@pytest.fixture(scope="session")
def pg_schema(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A migrated PostgreSQL database of this session's own, dropped at the end."""
    with own_pg_database("") as url:
        migrate(url, tmp_path_factory.mktemp("pg"))
        yield url


@contextmanager
def own_pg_database(suffix: str) -> Iterator[str]:
    """Make an empty PostgreSQL database of this process's own; drop it afterwards."""
    server = sa.engine.make_url(pg_url())
    name = f"{server.database}_{os.getpid()}{suffix}"
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def truncate_pg(url: str) -> None:
    """Empty every table but Alembic's, and restart the ids."""
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        names = conn.scalars(
            sa.text(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                "AND tablename <> 'alembic_version'"
            )
        ).all()
        if names:
            joined = ", ".join(f'"{name}"' for name in names)
            conn.execute(sa.text(f"TRUNCATE {joined} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture(params=BACKENDS)
def database_uri(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A freshly migrated, empty database for one test."""
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        path = tmp_path / "blog.sqlite3"
        shutil.copyfile(template, path)
        return f"sqlite:///{path}"
    url: str = request.getfixturevalue("pg_schema")
    truncate_pg(url)
    return url


class ServerLikeClient(FlaskClient):
    """A test client whose every request gets a fresh app context, as under a real server.

    Flask reuses an app context the test already holds, and with it `g` and the database
    session, which would let one request see what the previous one left behind.
    """

    def open(self, *args: Any, **kwargs: Any) -> Any:
        with self.application.app_context():
            return super().open(*args, **kwargs)


@pytest.fixture
def make_app(database_uri: str, tmp_path: Path) -> Iterator[Callable[..., Flask]]:
    """Build apps on this test's database, with config overrides."""
    apps: list[Flask] = []

    def factory(**overrides: Any) -> Flask:
        app = create_app({**base_config(database_uri, tmp_path), **overrides})
        app.test_client_class = ServerLikeClient
        apps.append(app)
        return app

    yield factory
    for app in apps:
        with app.app_context():
            db.session.remove()
        engines.dispose(app)


@pytest.fixture
def app(make_app: Callable[..., Flask]) -> Iterator[Flask]:
    app = make_app()
    with app.app_context():
        yield app


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    return app.test_cli_runner()


@pytest.fixture
def make_user(app: Flask) -> Callable[..., User]:
    """Create a user (password PASSWORD unless given)."""

    def factory(username: str = "author", role: str = "author", **fields: Any) -> User:
        password = fields.pop("password", PASSWORD)
        user = User(username=username, role=role, **fields)
        user.set_password(password)
        db.session.add(user)
        db.session.commit()
        return user

    return factory


@pytest.fixture
def make_article(app: Flask, make_user: Callable[..., User]) -> Callable[..., Article]:
    """Create an article through the ORM, published an hour ago unless overridden."""
    from blog import publishing

    counter = iter(range(1, 10**6))

    def factory(**fields: Any) -> Article:
        n = next(counter)
        author = fields.pop("author", None)
        if author is None:
            author = db.session.scalar(sa.select(User).where(User.username == "writer"))
            author = author or make_user("writer")
        body = fields.pop("body", f"Body of article {n}.")
        fields.setdefault("title", f"Article {n}")
        fields.setdefault("status", "published")
        fields.setdefault("published_at", utcnow() - timedelta(hours=1))
        article = Article(author=author, **fields)
        article.slug = fields.get("slug") or publishing.unique_slug(article.title)
        publishing.set_body(article, markdown=body)
        db.session.add(article)
        db.session.commit()
        return article

    return factory


def at_local(day_offset: int, hour: int, minute: int, tz_name: str) -> datetime:
    """Return the UTC instant of local hh:mm on the day `day_offset` days from today."""
    from zoneinfo import ZoneInfo

    from blog.dates import local_to_utc

    tz = ZoneInfo(tz_name)
    today = utcnow().astimezone(tz).date()
    day = today + timedelta(days=day_offset)
    return local_to_utc(datetime(day.year, day.month, day.day, hour, minute), tz)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's Chromium driven by Playwright (never a downloaded browser)."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def send_sign_in(page: Page, base_url: str, username: str, password: str = PASSWORD) -> None:
    """Fill the sign-in form at base_url in the browser and press Sign in."""
    page.goto(base_url + "/auth/login")
    page.locator('input[name="username"]').fill(username)
    page.locator('input[name="password"]').fill(password)
    page.get_by_role("button", name="Sign in", exact=True).click()


def retitle_behind_the_apps_back(app: Flask, article_id: int, title: str) -> None:
    """Change a row without the app's write path, so the content version does not move."""
    with app.app_context(), db.engine.begin() as connection:
        connection.execute(
            sa.update(Article.__table__).where(Article.id == article_id).values(title=title)
        )
