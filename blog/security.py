"""Response headers every page carries: CSP, nosniff, referrer policy, framing, caching."""

from __future__ import annotations

from typing import Any

from flask import Flask, Request, Response, request, session
from flask.sessions import SecureCookieSessionInterface

from .pagecache import signed_in

CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' https: http:",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)

HEADERS = [
    ("Content-Security-Policy", CSP),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "strict-origin-when-cross-origin"),
    ("X-Frame-Options", "DENY"),
]


class SessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie session that skips all signing work for cookieless visitors."""

    def open_session(self, app: Flask, request: Request) -> Any:
        # Most readers send no cookie at all: then there are none to parse either.
        if "HTTP_COOKIE" not in request.environ or self.get_cookie_name(app) not in request.cookies:
            return self.session_class()
        return super().open_session(app, request)


def init_app(app: Flask) -> None:
    """Add the security headers to every response."""
    app.session_interface = SessionInterface()
    app.after_request(_headers)


def _headers(response: Response) -> Response:
    headers = response.headers
    if "Content-Security-Policy" not in headers:
        headers.extend(HEADERS)
    # A signed-in page may show drafts and forms with tokens, and a page that set or showed
    # a message in the visitor's session is theirs alone: never store either anywhere.
    # request.blueprints names the parents too, so nested admin pages (admin.users) count.
    if {"admin", "auth"}.intersection(request.blueprints) or signed_in() or session.modified:
        headers["Cache-Control"] = "private, no-store"
        headers.pop("ETag", None)
        headers.pop("Last-Modified", None)
    return response
