"""Whole-page caching for anonymous readers, with the HTTP validators that go with it.

A reader's page depends on the content (the content version moves with every write), on
the local day and on which scheduled articles are due (the masthead's `valid_until`). Both
go into the page's ETag and cache key, so a cached page is never stale: the key changes
the moment the page could. Signed-in users always get a fresh, uncached page.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any

from flask import Flask, Response, current_app, make_response, request
from flask_login import current_user

from . import site
from .extensions import cache

YEAR = 365 * 24 * 3600


def init_app(app: Flask) -> None:
    """Give static URLs a content hash and the cache headers that hash allows."""
    app.url_defaults(_hash_static_urls)
    app.after_request(_static_headers)


def cached_page(view: Callable[..., Any]) -> Callable[..., Any]:
    """Serve a reader's page from the cache and answer 304 when the reader has it already."""

    @wraps(view)
    def wrapper(**kwargs: Any) -> Any:
        if signed_in():
            return view(**kwargs)
        masthead = site.masthead()
        etag = f"{site.content_version()}-{int(masthead.valid_until.timestamp())}"
        if request.if_none_match.contains(etag):
            return _validated(Response(status=304), etag)
        key = f"page:{etag}:{request.full_path}"
        body = cache.get(key)
        if body is not None:
            return _validated(Response(body, mimetype="text/html"), etag)
        response = make_response(view(**kwargs))
        if response.status_code == 200:
            lifetime = (masthead.valid_until - site.now()).total_seconds()
            timeout = max(1, min(int(lifetime), current_app.config["PAGE_CACHE_SECONDS"]))
            cache.set(key, response.get_data(as_text=True), timeout=timeout)
            _validated(response, etag)
        return response

    return wrapper


def signed_in() -> bool:
    """Tell whether the request comes from a signed-in user (never load one without a cookie)."""
    return bool(request.cookies) and current_user.is_authenticated


def _validated(response: Response, etag: str) -> Response:
    response.set_etag(etag)
    shared = current_app.config["SHARED_CACHE_SECONDS"]
    # Browsers revalidate every time (a cheap 304); a proxy in front may keep it briefly.
    response.headers["Cache-Control"] = f"public, max-age=0, s-maxage={shared}, must-revalidate"
    response.vary.add("Cookie")
    return response


def _hash_static_urls(endpoint: str, values: dict[str, Any]) -> None:
    if endpoint == "static" and "filename" in values and "v" not in values:
        values["v"] = _file_hash(values["filename"])


def _file_hash(filename: str) -> str:
    hashes: dict[str, str] = current_app.extensions.setdefault("blog.static_hashes", {})
    if filename not in hashes or current_app.debug:
        path = Path(current_app.static_folder or "") / filename
        try:
            hashes[filename] = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
        except OSError:
            hashes[filename] = "0"
    return hashes[filename]


def _static_headers(response: Response) -> Response:
    if request.endpoint == "static" and response.status_code == 200:
        # The URL names the content, so a browser may keep it for a year.
        filename = (request.view_args or {}).get("filename", "")
        if request.args.get("v") == _file_hash(filename):
            response.headers["Cache-Control"] = f"public, max-age={YEAR}, immutable"
    return response
