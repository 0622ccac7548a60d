"""The site's own error pages."""

from __future__ import annotations

from flask import Flask, render_template
from werkzeug.exceptions import HTTPException, InternalServerError

from .extensions import db


def init_app(app: Flask) -> None:
    """Render HTTP errors with the site's templates."""
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(InternalServerError, _server_error)


def _http_error(error: HTTPException) -> tuple[str, int] | HTTPException:
    if error.code is None or error.code < 400:
        return error
    template = "errors/404.html" if error.code == 404 else "errors/error.html"
    headers = error.get_headers()
    body = render_template(template, error=error)
    return body, error.code, [h for h in headers if h[0].lower() != "content-type"]  # type: ignore[return-value]


def _server_error(error: InternalServerError) -> tuple[str, int]:
    # The database may be why we are here: leave the session usable, show no masthead.
    db.session.rollback()
    return render_template("errors/500.html"), 500
