"""A news blog that shows Gregorian and Umm al-Qura Hijri dates."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import Flask

ROOT = Path(__file__).resolve().parent.parent


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the application: config, extensions, blueprints, error pages, filters, CLI."""
    app = Flask(
        __name__,
        instance_path=os.environ.get("BLOG_INSTANCE_PATH", str(ROOT / "instance")),
        instance_relative_config=True,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    from . import config

    config.load(app, test_config)
    _init_extensions(app)
    _register_blueprints(app)
    _register_hooks(app)
    _register_cli(app)
    return app


def _init_extensions(app: Flask) -> None:
    from . import counts, pagecache, security, site
    from .extensions import cache, csrf, db, limiter, login_manager, migrate

    db.init_app(app)
    migrate.init_app(app, db, directory=str(Path(__file__).parent / "migrations"))
    csrf.init_app(app)
    redis_url = app.config.get("REDIS_URL")
    app.config.setdefault("CACHE_TYPE", "RedisCache" if redis_url else "blog.localcache.LocalCache")
    app.config.setdefault("CACHE_REDIS_URL", redis_url)
    app.config.setdefault("CACHE_DEFAULT_TIMEOUT", 3600)
    app.config.setdefault("CACHE_KEY_PREFIX", "blog:")
    cache.init_app(app)
    app.config.setdefault("RATELIMIT_STORAGE_URI", redis_url or "memory://")
    app.config.setdefault("RATELIMIT_KEY_PREFIX", "blog")
    limiter.init_app(app)
    # Only per-view limits are used, and their decorator checks them; the app-wide check
    # would walk empty limit lists on every request.
    hooks = app.before_request_funcs.get(None, [])
    if limiter._check_request_limit in hooks:
        hooks.remove(limiter._check_request_limit)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message_category = "info"
    counts.init_app(app)
    site.init_app(app)
    security.init_app(app)
    pagecache.init_app(app)
    with app.app_context():
        _connection_events(app)


def _connection_events(app: Flask) -> None:
    """Set up SQLite connections, or check idle server connections before use."""
    from .extensions import db

    engine = db.engine
    if engine.dialect.name == "sqlite":
        _sqlite_pragmas(engine)
    elif not app.config.get("SQLALCHEMY_ENGINE_OPTIONS", {}).get("pool_pre_ping"):
        _ping_when_idle(engine)


def _sqlite_pragmas(engine: sa.Engine) -> None:
    """Give every SQLite connection WAL, a busy timeout and foreign keys."""

    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, connection_record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()


# A server connection used this recently has just proved itself; one idle longer is asked.
IDLE_PING_SECONDS = 5.0


def _ping_when_idle(engine: sa.Engine) -> None:
    """Replace a dead server connection (after a restart, say) before a request gets it.

    pool_pre_ping would ask the server on every checkout, two more round trips for every
    page served; under steady traffic connections are seconds old at most, so only a
    connection that has sat idle is asked, and one that does not answer is replaced.
    """

    @sa.event.listens_for(engine, "checkin")
    def _on_checkin(dbapi_connection: Any, connection_record: Any) -> None:
        connection_record.info["idle_since"] = time.monotonic()

    @sa.event.listens_for(engine, "checkout")
    def _on_checkout(dbapi_connection: Any, connection_record: Any, proxy: Any) -> None:
        if dbapi_connection.closed:  # the driver already saw it fail
            raise sa.exc.DisconnectionError("connection closed")
        since = connection_record.info.get("idle_since")
        if since is None or time.monotonic() - since < IDLE_PING_SECONDS:
            return
        try:
            cursor = dbapi_connection.cursor()
            cursor.execute("SELECT 1")
            cursor.close()
            dbapi_connection.rollback()
        except engine.dialect.loaded_dbapi.Error as error:
            # The pool discards this connection and checks out a new one.
            raise sa.exc.DisconnectionError(str(error)) from error


def _register_blueprints(app: Flask) -> None:
    from .views import admin, archive, article, auth, health, home

    for module in (home, archive, article, auth, admin, health):
        app.register_blueprint(module.bp)


def _register_hooks(app: Flask) -> None:
    from . import errors, site

    errors.init_app(app)
    app.context_processor(site.template_context)
    if app.config["PROXY_FIX"]:
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = app.config["PROXY_FIX"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]


def _register_cli(app: Flask) -> None:
    from . import cli

    cli.init_app(app)
