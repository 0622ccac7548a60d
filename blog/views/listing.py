"""The request side of keyset pagination, shared by every listing page."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from flask import abort, current_app, redirect, request, url_for
from werkzeug.wrappers import Response

from .. import articles
from ..site import content_version, now, take_content_version, teasers


def page_or_redirect(
    endpoint: str,
    start: datetime | None = None,
    end: datetime | None = None,
    *,
    tag: int | None = None,
    author: int | None = None,
    **values: object,
) -> articles.Page | Response:
    """Read ?before= / ?after= and return the page, or a redirect to the listing's start.

    `values` are the listing's URL values; `tag`, a tag's id, lists only its articles, and
    `author`, a user's id, only theirs.
    """
    try:
        before = articles.Cursor.parse(request.args.get("before"))
        after = articles.Cursor.parse(request.args.get("after"))
    except ValueError:
        abort(404)
    if before and after:
        abort(404)

    def read() -> articles.Page | None:
        return articles.listing(
            now(),
            current_app.config["PER_PAGE"],
            before=before,
            after=after,
            start=start,
            end=end,
            tag=tag,
            author=author,
        )

    page = read()
    if page is not None and page.content_version is None:
        # No rows, so no version read with them: read it, then the rows again after it, or
        # a write landing in between could leave this empty page cached as that write's.
        content_version()
        page = read()
    if page is None:
        return redirect(url_for(endpoint, **values))
    take_content_version(page.content_version)
    if (before or after) and not page.items:
        abort(404)
    return replace(page, items=teasers(page.items))


def page_or_404(
    endpoint: str, *, tag: int | None = None, author: int | None = None, **values: object
) -> articles.Page | Response:
    """As page_or_redirect, for a tag's or an author's listing, which answers 404 when it
    has nothing to show: readers know of a tag or an author only through visible articles."""
    page = page_or_redirect(endpoint, tag=tag, author=author, **values)
    if isinstance(page, Response):
        # Back to the first page, which must not then answer 404.
        first = articles.listing(now(), 1, tag=tag, author=author)
        if first is None or not first.items:
            abort(404)
        return page
    if not page.items:
        abort(404)
    return page
