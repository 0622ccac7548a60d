"""The article page."""

from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from .. import articles
from ..pagecache import cached_page
from ..site import now, take_content_version

bp = Blueprint("article", __name__)


@bp.get("/article/<int:article_id>")
@bp.get("/article/<int:article_id>/")
@bp.get("/article/<int:article_id>/<path:slug>")
@cached_page
def show(article_id: int, slug: str | None = None) -> str | Response:
    """Show an article; a wrong or missing slug redirects to the canonical URL."""
    article = articles.read_article(article_id)
    if article is None or not _may_read(article):
        abort(404)
    take_content_version(article.content_version)
    if slug != article.slug:
        return redirect(url_for("article.show", article_id=article.id, slug=article.slug), 301)
    return render_template("article/show.html", article=article)


def _may_read(article: articles.Reading) -> bool:
    if article.is_visible(now()):
        return True
    # Drafts, scheduled and trashed articles: only for those who may edit them.
    return current_user.is_authenticated and current_user.may_edit(article)
