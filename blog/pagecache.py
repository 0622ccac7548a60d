"""Whole-page caching for anonymous readers, with the HTTP validators that go with it.

A reader's page depends on the content (the content version moves with every write), on
the local day and on which scheduled articles are due (the masthead's `valid_until`), and
on the settings and the release it was made under (the `fingerprint`, worked out once when
the app starts). The fingerprint and the version are part of the cache key and all three
are in the ETag; an entry is not used past its `valid_until`, so a cached page is never
stale, and no host sharing the cache, browser or proxy takes a page made under other
settings or by another release for this one's. Signed-in users always get a fresh page.

Cached pages are answered by WSGI middleware before Flask sees the request: a hit costs a
cache look-up and a read of the version, not a trip through the framework. A page that is
not in the cache under the version this process read last is made afresh without that
read: its own statement reads the version with its rows (counts.version_column).
"""

from __future__ import annotations

import hashlib
import json
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from importlib import metadata
from pathlib import Path
from typing import Any

from flask import Flask, Response, current_app, make_response, request, session, url_for
from flask_login import current_user
from werkzeug.datastructures import ETags
from werkzeug.http import parse_etags
from werkzeug.security import safe_join

from . import counts, dates, engines, site
from .extensions import cache

YEAR = 365 * 24 * 3600


def init_app(app: Flask) -> None:
    """Serve cached reader pages before Flask; give static URLs a content hash."""
    app.extensions[site.FINGERPRINT] = fingerprint(app)
    app.wsgi_app = CachedPages(app, app.wsgi_app)  # type: ignore[method-assign]
    app.url_defaults(_hash_static_urls)
    app.after_request(_static_headers)
    app.jinja_env.globals["static_url"] = static_url
    app.jinja_env.globals["fixed_path"] = fixed_path


# The settings a reader's page shows or is sent with (SHARED_CACHE_SECONDS is in the
# Cache-Control header kept with it). A new setting that changes pages belongs here.
RENDERING_SETTINGS = (
    "SITE_NAME",
    "SOCIAL_LINKS",
    "TIMEZONE",
    "HIJRI_OFFSET_DAYS",
    "MASTHEAD_DAYS",
    "PER_PAGE",
    "SHARED_CACHE_SECONDS",
)
# Libraries whose next version can change a page: Hijri data, zone rules, HTML escaping.
RENDERING_LIBRARIES = ("hijridate", "tzdata", "Jinja2", "MarkupSafe")


def fingerprint(app: Flask) -> str:
    """Name what the app's pages depend on besides content: its settings and its release.

    The release is the package's, the templates' and the static files' contents and the
    rendering libraries' versions. No paths, times or hash seeds: every host running the
    same release with the same settings agrees, so they share cached pages and ETags.
    """
    digest = hashlib.sha256()
    settings = {key: app.config[key] for key in RENDERING_SETTINGS}
    digest.update(json.dumps(settings, default=str).encode())
    for name in RENDERING_LIBRARIES:
        try:
            digest.update(f"\0{name}={metadata.version(name)}".encode())
        except metadata.PackageNotFoundError:
            digest.update(f"\0{name}".encode())
    folders = {"blog": Path(__file__).parent}
    for name, folder in (("templates", app.template_folder), ("static", app.static_folder)):
        if folder:
            folders[name] = Path(app.root_path, folder)
    for name, folder in folders.items():
        for path, relative in _release_files(folder):
            digest.update(f"\0{name}/{relative}\0".encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:8]


def _release_files(folder: Path) -> list[tuple[Path, str]]:
    """List a folder's files by relative path, leaving out bytecode and hidden files."""
    files = []
    for path in folder.rglob("*"):
        parts = path.relative_to(folder).parts
        if path.is_file() and not any(p.startswith((".", "__pycache__")) for p in parts):
            files.append((path, "/".join(parts)))
    return sorted(files, key=lambda file: file[1])


@dataclass(frozen=True)
class Entry:
    """A reader's page as it was sent, headers included, and how long it stays true."""

    etag: str
    valid_until: float  # a POSIX timestamp: local midnight or the next scheduled article
    status: str
    headers: list[tuple[str, str]]
    body: bytes


# Bumped whenever Entry changes shape, so that after an upgrade no host unpickles an
# entry another release left in Redis. The fingerprint moves with any change to this file
# too; the number says so outright, whatever the fingerprint comes to be made of.
ENTRY_FORMAT = 1


def _key(fingerprint: str, version: int, environ: dict[str, Any]) -> str:
    """One page of one site: settings and release, content version, where and how asked."""
    # Each part on a line of its own. Run together, a Host header ending in a path (or a
    # script root) that another page's address continued made the key of that page: a
    # front page asked for with "Host: site/archive/2026" was kept as /archive/2026/.
    # The path goes last: only it can hold a newline (%0A), headers and the query cannot.
    return (
        f"page{ENTRY_FORMAT}:{fingerprint}:{version}\n"
        f"{environ.get('wsgi.url_scheme')}\n{environ.get('HTTP_HOST')}\n"
        f"{environ.get('SCRIPT_NAME', '')}\n{environ.get('QUERY_STRING', '')}\n"
        f"{environ.get('PATH_INFO', '')}"
    )


class CachedPages:
    """WSGI middleware answering a cookieless GET from the page cache, Flask untouched.

    A page cached for anonymous readers (see `cached_page`) is stored whole, its headers
    included, under the app's fingerprint and the content version it was made from; the
    entry knows when its masthead would change. A hit costs one cache look-up and one read
    of the version, and answers 304 when the reader already holds that page.
    """

    def __init__(self, app: Flask, wsgi_app: Callable[..., Any]) -> None:
        self.app = app
        self.wsgi_app = wsgi_app
        self.fingerprint: str = app.extensions[site.FINGERPRINT]
        self._engine: Any = None
        # The content version this process read last: versions only ever grow.
        self._seen: int | None = None

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if (
            environ.get("REQUEST_METHOD") == "GET"
            and "HTTP_COOKIE" not in environ
            # The day counts are made for this process's zone (see site.ensure_counts).
            and self.app.extensions.get("blog.counts_zone") == self.app.config["TIMEZONE"]
        ):
            entry = self._cached(environ)
            if entry is not None:
                if _if_none_match(environ).contains_weak(entry.etag):
                    kept = [h for h in entry.headers if h[0] not in _BODY_HEADERS]
                    start_response("304 NOT MODIFIED", kept)
                    return []
                start_response(entry.status, entry.headers)
                return [entry.body]
        return self._render(environ, start_response)

    def _backend(self) -> Any:
        return self.app.extensions["cache"][cache]

    def _cached(self, environ: dict[str, Any]) -> Entry | None:
        backend, seen, fingerprint = self._backend(), self._seen, self.fingerprint
        environ[CONSULTED] = True
        entry = None if seen is None else _lookup(backend, fingerprint, seen, environ)
        if seen is not None and entry is None:
            # Not kept under the version this process read last, so almost surely not
            # under a newer one: made afresh, its own statement reads the version.
            return None
        if self._engine is None:
            with self.app.app_context():
                self._engine = engines.reader()
        version = counts.content_version(self._engine)
        self._seen = version
        # A miss goes on to Flask: the page is made from this version, not a second read.
        environ[site.VERSION_READ] = version
        return entry if version == seen else _lookup(backend, fingerprint, version, environ)

    def _render(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        """Let Flask answer; keep the page whole when `cached_page` marked it cacheable."""
        sent: list[Any] = []

        def keep(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            sent[:] = [status, headers]
            return start_response(status, headers, exc_info)

        body = self.wsgi_app(environ, keep)
        marked = environ.get(ENTRY_MARK)
        # Only a GET carries the body: a HEAD's empty one must never be kept as the page.
        get = environ.get("REQUEST_METHOD") == "GET"
        if marked is None or not get or not sent or not _shareable(*sent):
            return body
        try:
            content = b"".join(body)
        finally:
            if hasattr(body, "close"):
                body.close()
        version, etag, valid_until = marked
        self._seen = version
        lifetime = min(
            valid_until - dates.utcnow().timestamp(), self.app.config["PAGE_CACHE_SECONDS"]
        )
        if lifetime >= 1:
            entry = Entry(etag, valid_until, sent[0], list(sent[1]), content)
            key = _key(self.fingerprint, version, environ)
            self._backend().set(key, entry, timeout=int(lifetime))
        return [content]


def _shareable(status: str, headers: list[tuple[str, str]]) -> bool:
    """Tell whether a response may be kept for everyone: a 200 that sets no cookie."""
    if not status.startswith("200 "):
        return False
    for name, value in headers:
        lowered = name.lower()
        if lowered == "set-cookie" or (lowered == "cache-control" and "private" in value):
            return False
    return True


# Where cached_page tells the middleware that the page may be kept, and under what.
ENTRY_MARK = "blog.page_entry"
# Where the middleware notes that it looked for the page in the cache already.
CONSULTED = "blog.page_cache_consulted"
_BODY_HEADERS = ("Content-Type", "Content-Length")


def _lookup(backend: Any, fingerprint: str, version: int, environ: dict[str, Any]) -> Entry | None:
    entry: Entry | None = backend.get(_key(fingerprint, version, environ))
    if entry is None or entry.valid_until <= dates.utcnow().timestamp():
        return None
    return entry


def _if_none_match(environ: dict[str, Any]) -> ETags:
    """The validators a request holds. If-None-Match compares them weakly: a proxy that
    compresses a page (nginx with gzip on) sends its ETag on as W/"...", and a browser
    then asks with that."""
    return parse_etags(environ.get("HTTP_IF_NONE_MATCH"))


def cached_page(view: Callable[..., Any]) -> Callable[..., Any]:
    """Cache a reader's page whole and answer 304 when the reader has it already."""

    @wraps(view)
    def wrapper(**kwargs: Any) -> Any:
        # A session with anything in it (a "Signed out." message waiting, say) makes the
        # page this visitor's own: neither served from the cache nor kept in it. A form's
        # CSRF token alone does not: a reader who once opened the sign-in page, or signed
        # out, reads the pages everyone does.
        if signed_in() or session.keys() - _NOT_PERSONAL:
            return view(**kwargs)
        # Not for "*", which asks whether the page exists: only the view can tell.
        if request.if_none_match and not request.if_none_match.star_tag:
            etag = _etag()
            if request.if_none_match.contains_weak(etag):
                return _validated(Response(status=304), etag)
        if CONSULTED not in request.environ:
            # A reader with some cookie but not signed in: the middleware let it through.
            extensions = current_app.extensions
            backend, fingerprint = extensions["cache"][cache], extensions[site.FINGERPRINT]
            entry = _lookup(backend, fingerprint, site.content_version(), request.environ)
            if entry is not None:
                return Response(entry.body, status=entry.status, headers=entry.headers)
        # The view comes first: its own statement may read the content version.
        response = make_response(view(**kwargs))
        # (A page that wrote to the visitor's session is not kept: see _shareable.)
        if response.status_code == 200:
            etag = _etag()
            _validated(response, etag)
            valid_until = site.masthead().valid_until.timestamp()
            request.environ[ENTRY_MARK] = (site.content_version(), etag, valid_until)
        return response

    return wrapper


# What a session may hold without making a reader's page their own.
_NOT_PERSONAL = frozenset({"csrf_token", "_fresh"})


def _etag() -> str:
    """Name the page as this request sees it: content version, masthead's life, fingerprint,
    and its address (checked before the view runs, the tag of one page must not pass for
    another's, which may not exist: an article's tag sent for an unknown one, say)."""
    valid_until = int(site.masthead().valid_until.timestamp())
    environ = request.environ
    address = f"{environ.get('SCRIPT_NAME', '')}\n{environ.get('QUERY_STRING', '')}\n"
    address += environ.get("PATH_INFO", "")
    page = zlib.crc32(address.encode("utf-8", "surrogateescape"))
    fingerprint = current_app.extensions[site.FINGERPRINT]
    return f"{site.content_version()}-{valid_until}-{fingerprint}-{page:08x}"


def signed_in() -> bool:
    """Tell whether the request comes from a signed-in user (never load one without a cookie)."""
    # Most readers send no cookie: then there are none to parse.
    cookies = "HTTP_COOKIE" in request.environ and request.cookies
    # A session naming no user signs no one in (the site sets no remember cookie): asked
    # anyway, Flask-Login's session protection would write to it and make the page private.
    return bool(cookies) and "_user_id" in session and current_user.is_authenticated


def _validated(response: Response, etag: str) -> Response:
    response.set_etag(etag)
    shared = current_app.config["SHARED_CACHE_SECONDS"]
    # Browsers revalidate every time (a cheap 304); a proxy in front may keep it briefly.
    response.headers["Cache-Control"] = f"public, max-age=0, s-maxage={shared}, must-revalidate"
    response.vary.add("Cookie")
    return response


def static_url(filename: str) -> str:
    """Return a static file's content-hashed URL, built once per file and script root."""
    urls: dict[tuple[str, str], str] = current_app.extensions.setdefault("blog.static_urls", {})
    key = (request.script_root, filename)
    if key not in urls or current_app.debug:
        urls[key] = url_for("static", filename=filename)
    return urls[key]


def fixed_path(endpoint: str) -> str:
    """Return the path of a page that takes no values (the feed), built once per script root."""
    paths: dict[tuple[str, str], str] = current_app.extensions.setdefault("blog.fixed_paths", {})
    key = (request.script_root, endpoint)
    if key not in paths:
        paths[key] = url_for(endpoint)
    return paths[key]


def _hash_static_urls(endpoint: str, values: dict[str, Any]) -> None:
    if endpoint == "static" and "filename" in values and "v" not in values:
        values["v"] = _file_hash(values["filename"])


def _file_hash(filename: str) -> str:
    hashes: dict[str, str] = current_app.extensions.setdefault("blog.static_hashes", {})
    if filename not in hashes or current_app.debug:
        # Only files inside the static folder have a hash: the name may come from a request.
        path = safe_join(current_app.static_folder or "", filename)
        try:
            digest = hashlib.sha256(Path(path).read_bytes()).hexdigest()[:12] if path else "0"
        except OSError:
            digest = "0"
        hashes[filename] = digest
    return hashes[filename]


def _static_headers(response: Response) -> Response:
    # GET and HEAD only: Flask answers OPTIONS with 200 for any path under /static/, "../"
    # included, and hashing the file that names would read anything, /dev/zero too.
    if (
        request.endpoint == "static"
        and request.method in ("GET", "HEAD")
        and response.status_code == 200
    ):
        # The URL names the content, so a browser may keep it for a year.
        filename = (request.view_args or {}).get("filename", "")
        if request.args.get("v") == _file_hash(filename):
            response.headers["Cache-Control"] = f"public, max-age={YEAR}, immutable"
            # Flask's Expires says "now" (SEND_FILE_MAX_AGE_DEFAULT is 0, for the stale
            # URLs): left beside a year's max-age, the two would contradict each other.
            del response.headers["Expires"]
    return response
