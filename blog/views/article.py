"""The article page."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, redirect, render_template, url_for
from flask_login import current_user
from markupsafe import Markup
from werkzeug.wrappers import Response

from .. import articles
from ..pagecache import cached_page
from ..site import article_url, iso_datetime, now, script_json, take_content_version

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
    address = article_url(article.id, article.slug)
    published = modified = None
    if article.published_at is not None:
        published = modified = iso_datetime(article.published_at)
        changed = articles.last_change(article.published_at, article.updated_at)
        if changed != article.published_at:
            modified = iso_datetime(changed)
    return render_template(
        "article/show.html",
        article=article,
        address=address,
        published=published,
        modified=modified,
        linked_data=_linked_data(article, address, published, modified),
    )


def _linked_data(
    article: articles.Reading, address: str, published: str | None, modified: str | None
) -> Markup:
    """Describe the article to search engines as a schema.org NewsArticle (JSON-LD)."""
    data: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "headline": article.title,
        "url": address,
        "mainEntityOfPage": address,
        "author": [{"@type": "Person", "name": article.author_name}],
        "publisher": {"@type": "Organization", "name": current_app.config["SITE_NAME"]},
    }
    if published is not None:
        data["datePublished"], data["dateModified"] = published, modified
    if article.summary:
        data["description"] = article.summary
    if article.tag_names:
        data["keywords"] = article.tag_names
    return script_json(data)


def _may_read(article: articles.Reading) -> bool:
    if article.is_visible(now()):
        return True
    # Drafts, scheduled and trashed articles: only for those who may edit them.
    return current_user.is_authenticated and current_user.may_edit(article)
