"""A news blog that shows Gregorian and Umm al-Qura Hijri dates."""

from __future__ import annotations

import os
from functools import partial
from pathlib import Path
from typing import Any

from flask import Flask, request
from werkzeug.routing import IntegerConverter

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
    from . import config, counts, site

    # Before anything creates the Jinja environment (extensions add globals to it).
    app.jinja_environment = site.Environment
    config.load(app, test_config)
    app.extensions[site.STARTED] = counts.microseconds()
    app.url_map.converters["int"] = AsciiIntegerConverter
    _init_extensions(app)
    _register_blueprints(app)
    _register_hooks(app)
    _register_cli(app)
    return app


class AsciiIntegerConverter(IntegerConverter):
    """Werkzeug's int converter, for ASCII digits only: "/archive/٢٠٢٦/" is not a year.

    Python's \\d matches any script's digits, which would give each archive and article a
    second address that the page cache, the links and search engines all treat as new.
    """

    regex = r"[0-9]+"


def _init_extensions(app: Flask) -> None:
    from . import counts, engines, pagecache, rediscache, security, site, taglinks
    from .extensions import cache, csrf, db, limiter, login_manager, migrate

    db.init_app(app)
    migrate.init_app(app, db, directory=str(Path(__file__).parent / "migrations"))
    csrf.init_app(app)
    _csrf_hook_for_checked_methods_only(app)
    redis_url = app.config.get("REDIS_URL")
    shared = "blog.rediscache.ForgivingRedisCache"
    app.config.setdefault("CACHE_TYPE", shared if redis_url else "blog.localcache.LocalCache")
    app.config.setdefault("CACHE_REDIS_URL", redis_url)
    if redis_url:
        # A Redis that does not answer soon counts as down: pages go on uncached, and
        # sign-in limits are counted in each process until it is back.
        seconds = rediscache.SOCKET_TIMEOUT_SECONDS
        timeouts = {"socket_timeout": seconds, "socket_connect_timeout": seconds}
        app.config.setdefault("CACHE_OPTIONS", timeouts)
        app.config.setdefault("RATELIMIT_STORAGE_OPTIONS", timeouts)
        app.config.setdefault("RATELIMIT_IN_MEMORY_FALLBACK_ENABLED", True)
    app.config.setdefault("CACHE_DEFAULT_TIMEOUT", 3600)
    app.config.setdefault("CACHE_KEY_PREFIX", "blog:")
    cache.init_app(app)
    app.config.setdefault("RATELIMIT_STORAGE_URI", redis_url or "memory://")
    app.config.setdefault("RATELIMIT_KEY_PREFIX", "blog")
    limiter.init_app(app)
    login_manager.init_app(app)
    _lazy_current_user(app)
    _sign_in_hooks_for_auth_only(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please sign in to see this page."
    login_manager.login_message_category = "info"
    counts.init_app(app)
    taglinks.init_app(app)
    site.init_app(app)
    security.init_app(app)
    pagecache.init_app(app)
    with app.app_context():
        engines.init_app(app)


def _csrf_hook_for_checked_methods_only(app: Flask) -> None:
    """Run Flask-WTF's CSRF hook only for the methods it checks (POST, PUT, PATCH, DELETE).

    Before it looks at the method, the hook looks up whether the view or its blueprint is
    exempt: five look-ups through Flask's proxies on every page a reader asks for, each to
    learn that a GET has nothing to check.
    """
    before = app.before_request_funcs[None]
    index = next(i for i, hook in enumerate(before) if hook.__name__ == "csrf_protect")
    protect = before[index]

    def csrf_protect() -> None:
        if request.method in app.config["WTF_CSRF_METHODS"]:
            protect()

    before[index] = csrf_protect


def _sign_in_hooks_for_auth_only(app: Flask) -> None:
    """Run the rate limiter's and Flask-Login's hooks for the auth blueprint only, and the
    limiter's for the admin one too.

    The rate limits are on the sign-in view and the password change, checked by their
    decorators, and only sign-in and sign-out ask Flask-Login to set or clear its cookie.
    App-wide, these hooks walked empty limit lists and looked into the session before and
    after every page.
    """
    from .extensions import limiter, login_manager

    def limiters(hook: Any) -> bool:
        owner = hook.args[0] if isinstance(hook, partial) and hook.args else None
        return limiter is owner or getattr(hook, "__self__", None) is limiter

    def theirs(hook: Any) -> bool:
        return limiters(hook) or getattr(hook, "__self__", None) is login_manager

    before = app.before_request_funcs[None]
    before[:] = [hook for hook in before if not theirs(hook)]
    for registry in (app.after_request_funcs, app.teardown_request_funcs):
        hooks = registry[None]
        registry["auth"].extend(hook for hook in hooks if theirs(hook))
        # Wrong current passwords count only once the response says so (deduct_when).
        registry["admin"].extend(hook for hook in hooks if limiters(hook))
        hooks[:] = [hook for hook in hooks if not theirs(hook)]


def _lazy_current_user(app: Flask) -> None:
    """Give templates current_user as a proxy, loaded only by the pages that ask for it.

    Flask-Login's context processor loads the user for every template rendered, readers'
    pages included, which never show who is signed in.
    """
    from flask_login import current_user
    from flask_login.utils import _user_context_processor

    processors = app.template_context_processors[None]
    processors[:] = [p for p in processors if p is not _user_context_processor]
    app.jinja_env.globals["current_user"] = current_user


def _register_blueprints(app: Flask) -> None:
    from .views import (
        admin,
        archive,
        article,
        auth,
        author,
        feed,
        health,
        home,
        search,
        sitemap,
        tag,
    )

    for module in (home, archive, tag, author, search, article, feed, sitemap, auth, admin, health):
        app.register_blueprint(module.bp)


def _register_hooks(app: Flask) -> None:
    from . import errors, site

    errors.init_app(app)
    app.context_processor(site.template_context)
    if app.config["PROXY_FIX"]:
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = app.config["PROXY_FIX"]
        # Not X-Forwarded-Host: nginx passes the Host it checked and caches pages by it, but
        # lets a client's X-Forwarded-Host through, which would then name the site in links.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]


def _register_cli(app: Flask) -> None:
    from . import cli

    cli.init_app(app)
