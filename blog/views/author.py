"""An author's page: the visible articles they wrote, newest first."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, render_template, url_for
from werkzeug.wrappers import Response

from .. import accounts, articles
from ..pagecache import cached_page
from ..site import now
from . import feed as feeds
from .listing import page_or_404

bp = Blueprint("author", __name__)


@bp.get("/author/<name>/")
@cached_page
def show(name: str) -> str | Response:
    """Show one page of an author's articles.

    A user with no visible article answers 404 like an unknown name: an account alone (an
    admin's, a new author's) is not for readers.
    """
    author = _author_or_404(name)
    page = page_or_404("author.show", author=author.id, name=name)
    if isinstance(page, Response):
        return page
    return render_template("author/show.html", author=author, page=page)


@bp.get("/author/<name>/feed.xml")
@cached_page
def feed(name: str) -> Response:
    """Answer an author's latest PER_PAGE visible articles as an Atom feed, newest first."""
    author = _author_or_404(name)
    latest = articles.latest(now(), current_app.config["PER_PAGE"], author=author.id)
    if not latest:
        abort(404)  # as their page does: an account alone is not for readers
    return feeds.feed(
        latest,
        f"{current_app.config['SITE_NAME']}: {author.name}",
        url_for("author.show", name=name, _external=True),
        url_for("author.feed", name=name, _external=True),
    )


def _author_or_404(name: str) -> articles.AuthorShown:
    # Only names a byline links (no NUL either, which PostgreSQL refuses outright).
    if not accounts.has_page(name):
        abort(404)
    author = articles.find_author(name)
    if author is None:
        abort(404)
    return author
