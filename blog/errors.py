"""The site's own error pages."""

from __future__ import annotations

from flask import Flask, current_app, render_template, request
from flask.globals import request_ctx
from werkzeug.exceptions import HTTPException, InternalServerError, RequestEntityTooLarge

from .extensions import db


def init_app(app: Flask) -> None:
    """Render HTTP errors with the site's templates."""
    app.register_error_handler(HTTPException, http_error)
    app.register_error_handler(RequestEntityTooLarge, _too_large)
    app.register_error_handler(InternalServerError, _server_error)


def http_error(error: HTTPException) -> tuple[str, int] | HTTPException:
    """Render an HTTP error with the site's page for it."""
    if error.code is None or error.code < 400 or not _links_can_be_built():
        return error
    template = "errors/404.html" if error.code == 404 else "errors/error.html"
    return _error_page(error, template)


def _too_large(error: RequestEntityTooLarge) -> tuple[str, int] | RequestEntityTooLarge:
    # Usually an author's long article: say how much fits, and how not to lose the text.
    if not _links_can_be_built():
        return error
    limit = current_app.config.get("MAX_CONTENT_LENGTH")
    return _error_page(
        error,
        "errors/413.html",
        limit=_size_label(limit) if limit else None,
        form_url=_form_page(),
    )


def _error_page(error: HTTPException, template: str, **context: object) -> tuple[str, int]:
    headers = error.get_headers()
    body = render_template(template, error=error, **context)
    return body, error.code, [h for h in headers if h[0].lower() != "content-type"]  # type: ignore[return-value]


def _form_page() -> str | None:
    """Return the address of the page the refused form came from, if that address shows one."""
    adapter = current_app.url_map.bind_to_environ(request.environ)
    try:
        adapter.match(method="GET")
    except HTTPException:  # a POST-only action, such as a delete button
        return None
    return request.script_root + request.full_path.rstrip("?")


def _size_label(size: int) -> str:
    """Format a byte count as '2 MB', '1.5 MB' or '512 KB', rounded down (1 MB = 1024 KB)."""
    for unit, bytes_in_unit in (("MB", 1024 * 1024), ("KB", 1024)):
        if size >= bytes_in_unit:
            tenths = size * 10 // bytes_in_unit
            return f"{tenths // 10} {unit}" if tenths % 10 == 0 else f"{tenths / 10} {unit}"
    return f"{size} bytes"


def _server_error(error: InternalServerError) -> tuple[str, int] | InternalServerError:
    # The database may be why we are here: leave the session usable, show no masthead.
    db.session.rollback()
    if not _links_can_be_built():
        return error
    return render_template("errors/500.html"), 500


def _links_can_be_built() -> bool:
    """Tell whether url_for works for this request, as every page of the site's needs.

    It does not when werkzeug refused the request's Host header (a name with a label over
    63 characters, or an empty one): the error then goes out as werkzeug's plain page.
    """
    return request_ctx.url_adapter is not None
