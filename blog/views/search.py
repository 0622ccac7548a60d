"""The search page: the visible articles holding every word asked for, newest first."""

from __future__ import annotations

from dataclasses import replace
from urllib.parse import urlencode

from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from .. import search
from ..pagecache import cached_page
from ..site import now, teasers, version_first

bp = Blueprint("search", __name__)

# Longer than any search a reader types; the form says so too (maxlength).
MAX_QUERY = 200


@bp.get("/search")
@cached_page
@version_first
def results() -> str | Response:
    """Show the form, and with words to search for, one page of the articles holding them."""
    query = request.args.get("q", "")[:MAX_QUERY].strip()
    given = search.words(query)
    found = given[: search.MAX_WORDS]
    try:
        before = search.parse_key(request.args.get("before"))
        after = search.parse_key(request.args.get("after"))
    except ValueError:
        abort(404)
    paged = before is not None or after is not None
    if before is not None and after is not None or paged and not found:
        abort(404)
    page = None
    if found:
        per_page = current_app.config["PER_PAGE"]
        page = search.search(found, now(), per_page, before=before, after=after)
        if page is None:  # nothing newer than the first page: show the first page
            return redirect(url_for("search.results", q=query))
        if paged and not page.items:
            abort(404)
        page = replace(page, items=teasers(page.items))
    return render_template(
        "search/results.html",
        query=query,
        found=found,
        page=page,
        # The search carried to the next and previous pages (url-encoded; escaped as HTML).
        extra=urlencode({"q": query}) + "&",
        longest=MAX_QUERY,
        most_words=search.MAX_WORDS,
        cut=len(given) > len(found),
    )
