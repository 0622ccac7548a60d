"""An author's page: the visible articles they wrote, newest first."""

from __future__ import annotations

from flask import Blueprint, abort, render_template
from werkzeug.wrappers import Response

from .. import accounts, articles
from ..pagecache import cached_page
from .listing import page_or_404

bp = Blueprint("author", __name__)


@bp.get("/author/<name>/")
@cached_page
def show(name: str) -> str | Response:
    """Show one page of an author's articles.

    A user with no visible article answers 404 like an unknown name: an account alone (an
    admin's, a new author's) is not for readers.
    """
    # Only names a byline links (no NUL either, which PostgreSQL refuses outright).
    if not accounts.has_page(name):
        abort(404)
    author = articles.find_author(name)
    if author is None:
        abort(404)
    page = page_or_404("author.show", author=author.id, name=name)
    if isinstance(page, Response):
        return page
    return render_template("author/show.html", author=author, page=page)
