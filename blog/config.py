"""Configuration: defaults, the load order and the missing-secret guard."""

from __future__ import annotations

import json
import os
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from flask import Flask
from limits import parse_many
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from . import dates


class SettingsError(RuntimeError):
    """A setting the site cannot run with; the message names it and what it takes."""


DEFAULTS: dict[str, Any] = {
    "SITE_NAME": "Hijri Blog",
    "TIMEZONE": "UTC",
    "HIJRI_OFFSET_DAYS": 0,
    "MASTHEAD_DAYS": 5,
    "PER_PAGE": 20,
    "SOCIAL_LINKS": {},
    "PROXY_FIX": 0,
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "SESSION_COOKIE_SECURE": False,
    "REMEMBER_COOKIE_HTTPONLY": True,
    "REMEMBER_COOKIE_SAMESITE": "Lax",
    "WTF_CSRF_TIME_LIMIT": None,
    "MAX_CONTENT_LENGTH": 2 * 1024 * 1024,
    "LOGIN_LIMITS": "5 per minute",
    "LOGIN_ADDRESS_LIMITS": "30 per minute",
    # How long a sign-in lasts before the password is asked for again (accounts.py).
    "SIGN_IN_DAYS": 30,
    "PAGE_CACHE_SECONDS": 300,
    # Without Redis: how many entries (pages, mastheads) each process keeps.
    "CACHE_THRESHOLD": 500,
    "SHARED_CACHE_SECONDS": 5,
    "SEND_FILE_MAX_AGE_DEFAULT": 0,
}

MOST_PER_PAGE = 500
MOST_MASTHEAD_DAYS = 366

# Settings that may be 0 (no proxy, no day strip, nothing kept) but never below it.
_NOT_NEGATIVE = (
    "MASTHEAD_DAYS",
    "PROXY_FIX",
    "PAGE_CACHE_SECONDS",
    "CACHE_THRESHOLD",
    "SHARED_CACHE_SECONDS",
)
# Keys whose values are not strings when given through the environment.
_INT_KEYS = ("HIJRI_OFFSET_DAYS", "PER_PAGE", "SIGN_IN_DAYS", *_NOT_NEGATIVE)
# Keys that are text whatever they look like: read as JSON, BLOG_SITE_NAME=1439 was a number,
# which made every article page fail, and a numeric BLOG_SECRET_KEY every signed cookie.
_TEXT_KEYS = ("SECRET_KEY", "SITE_NAME", "TIMEZONE")


def load(app: Flask, test_config: dict[str, Any] | None) -> None:
    """Fill app.config: defaults, instance/config.py, BLOG_* variables, DATABASE_URL, REDIS_URL."""
    app.config.from_mapping(DEFAULTS)
    app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite:///" + os.path.join(
        app.instance_path, "blog.sqlite3"
    )
    if test_config is None:
        app.config.from_pyfile("config.py", silent=True)
        app.config.from_prefixed_env("BLOG", loads=_loads)
        for key in _TEXT_KEYS:
            if f"BLOG_{key}" in os.environ:
                app.config[key] = os.environ[f"BLOG_{key}"]
        if os.environ.get("DATABASE_URL"):
            app.config["SQLALCHEMY_DATABASE_URI"] = os.environ["DATABASE_URL"]
        if os.environ.get("REDIS_URL"):
            app.config["REDIS_URL"] = os.environ["REDIS_URL"]
    else:
        app.config.from_mapping(test_config)
    _normalise(app)
    _check(app)


def _loads(value: str) -> Any:
    """Read an environment value as JSON when it is JSON, else keep the string."""
    try:
        return json.loads(value)
    except ValueError:
        return value


def _normalise(app: Flask) -> None:
    config = app.config
    uri: str = config["SQLALCHEMY_DATABASE_URI"]
    # Operators paste the URL their provider gives; SQLAlchemy wants a named driver.
    for prefix in ("postgres://", "postgresql://"):
        if uri.startswith(prefix):
            uri = "postgresql+psycopg://" + uri[len(prefix) :]
    config["SQLALCHEMY_DATABASE_URI"] = uri
    for key in _INT_KEYS:
        config[key] = _whole_number(key, config[key])
    links = config["SOCIAL_LINKS"]
    if isinstance(links, str):
        try:
            links = json.loads(links or "{}")
        except ValueError:
            links = None
    if not isinstance(links, dict) or not all(
        isinstance(name, str) and isinstance(url, str) for name, url in links.items()
    ):
        raise SettingsError(
            'SOCIAL_LINKS must map names to addresses, e.g. {"Facebook": "https://..."}.'
        )
    for name, url in links.items():
        # Printed as links on every page: a javascript: or data: one would run or show
        # whatever it holds.
        address = urlsplit(url)
        if address.scheme.lower() not in ("http", "https") or not address.netloc:
            raise SettingsError(
                f"SOCIAL_LINKS: {name!r} must be an http:// or https:// address, got {url!r}."
            )
    config["SOCIAL_LINKS"] = links


def _whole_number(key: str, value: Any) -> int:
    """Read a setting that must be a whole number: 1.5 or 'abc' is refused, not cut or raised."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            pass
    raise SettingsError(f"{key} must be a whole number, got {value!r}.")


def _check(app: Flask) -> None:
    config = app.config
    if not config.get("SECRET_KEY") and not (app.debug or config.get("TESTING")):
        raise SettingsError(
            "SECRET_KEY is not set. Put SECRET_KEY = '...' in instance/config.py "
            "or set BLOG_SECRET_KEY in the environment."
        )
    for key in _TEXT_KEYS:
        # A key of bytes (os.urandom(32) in instance/config.py) signs as well as text.
        kinds = (str, bytes) if key == "SECRET_KEY" else str
        if config.get(key) is not None and not isinstance(config[key], kinds):
            raise SettingsError(f"{key} must be text, got {config[key]!r}.")
    try:
        dates.site_zone(config["TIMEZONE"])
    except ValueError as error:
        raise SettingsError(f"TIMEZONE: {error}.") from None
    if not -2 <= config["HIJRI_OFFSET_DAYS"] <= 2:
        raise SettingsError("HIJRI_OFFSET_DAYS must be between -2 and 2.")
    # Bounds far beyond any real use: a page of a billion articles, or a day strip reaching
    # past year 9999, failed on every request.
    if not 1 <= config["PER_PAGE"] <= MOST_PER_PAGE:
        raise SettingsError(f"PER_PAGE must be 1 to {MOST_PER_PAGE}, got {config['PER_PAGE']}.")
    if config["MASTHEAD_DAYS"] > MOST_MASTHEAD_DAYS:
        raise SettingsError(
            f"MASTHEAD_DAYS must be {MOST_MASTHEAD_DAYS} or fewer, got {config['MASTHEAD_DAYS']}."
        )
    _check_addresses(config)
    for key in ("LOGIN_LIMITS", "LOGIN_ADDRESS_LIMITS"):
        # Flask-Limiter would pass over a limit it cannot read, and no sign-in be limited.
        try:
            parse_many(str(config[key]))
        except ValueError:
            raise SettingsError(
                f"{key} must be limits such as '5 per minute' or '5/minute;50/day',"
                f" got {config[key]!r}."
            ) from None
    if not 1 <= config["SIGN_IN_DAYS"] <= 3650:
        raise SettingsError(f"SIGN_IN_DAYS must be 1 to 3650, got {config['SIGN_IN_DAYS']}.")
    # Flask refuses a session cookie signed longer ago than this: none outlives its sign-in.
    # (The cookie itself goes when the browser closes; the sign-in may last longer.)
    config["PERMANENT_SESSION_LIFETIME"] = timedelta(days=config["SIGN_IN_DAYS"])
    for key in _NOT_NEGATIVE:
        if config[key] < 0:
            raise SettingsError(f"{key} must be 0 or more, got {config[key]}.")


def _check_addresses(config: Any) -> None:
    """Refuse a database or Redis address the site could not use, naming what it takes:
    read as it stood, one was a page of traceback from SQLAlchemy or redis at start.
    The addresses are not repeated: they may hold a password."""
    example = "sqlite:////var/lib/blog/blog.sqlite3 or postgresql://user:password@host/blog"
    try:
        backend = make_url(config["SQLALCHEMY_DATABASE_URI"]).get_backend_name()
    except ArgumentError:
        raise SettingsError(
            f"DATABASE_URL is not a database address; write one such as {example}."
        ) from None
    if backend not in ("sqlite", "postgresql"):
        raise SettingsError(
            f"DATABASE_URL names {backend}; the site runs on SQLite or PostgreSQL: {example}."
        )
    redis_url = config.get("REDIS_URL")
    # The rate limiter reads the same address, and knows no unix:// one.
    if redis_url and urlsplit(redis_url).scheme not in ("redis", "rediss"):
        raise SettingsError(
            "REDIS_URL is not a Redis address; write one such as redis://127.0.0.1:6379/0."
        )
