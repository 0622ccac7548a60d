"""A Redis that is down costs cache misses and per-process sign-in limits, never a page."""

from __future__ import annotations

import socket
from collections.abc import Callable

from flask import Flask
from test_auth import sign_in

from blog.models import Article, User


def _closed_port() -> int:
    """A loopback port nothing listens on: connecting there is refused at once."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _without_redis(make_app: Callable[..., Flask], **config: object) -> Flask:
    return make_app(REDIS_URL=f"redis://127.0.0.1:{_closed_port()}/0", **config)


def test_pages_are_served_while_redis_is_down(
    make_app: Callable[..., Flask], make_article: Callable[..., Article], caplog
) -> None:
    article = make_article(title="Served without the cache")
    client = _without_redis(make_app).test_client()
    for path in ("/", f"/article/{article.id}/{article.slug}", "/", "/archive/2026/"):
        response = client.get(path)
        assert response.status_code == 200, path
    home = client.get("/").get_data(as_text=True)
    assert "Served without the cache" in home
    assert 'class="total-count">Total: 1 articles' in home
    assert "Redis cache read failed" in caplog.text


def test_sign_in_limits_hold_while_redis_is_down(
    make_app: Callable[..., Flask], make_user: Callable[..., User]
) -> None:
    make_user("alice")
    app = _without_redis(make_app, RATELIMIT_ENABLED=True, LOGIN_LIMITS="2 per minute")
    client = app.test_client()
    codes = [sign_in(client, "alice", f"guess {n}").status_code for n in range(4)]
    assert codes[:2] == [200, 200]
    assert codes[-1] == 429, codes
