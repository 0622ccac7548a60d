"""A news blog that shows Gregorian and Umm al-Qura Hijri dates."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

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
    from . import counts, engines, pagecache, security, site
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
        engines.init_app(app)


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
