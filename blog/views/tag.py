"""A tag's page: the visible articles that carry it, newest first."""

from __future__ import annotations

from flask import Blueprint, abort, render_template
from werkzeug.wrappers import Response

from .. import articles
from ..models import Tag
from ..pagecache import cached_page
from ..site import now
from .listing import page_or_redirect

bp = Blueprint("tag", __name__, url_prefix="/tag")

# The longest slug a tag can have: a longer one names no tag, and needs no query to say so.
_LONGEST_SLUG = Tag.__table__.c.slug.type.length


@bp.get("/<slug>/")
@cached_page
def show(slug: str) -> str | Response:
    """Show one page of a tag's articles.

    A tag that no visible article carries answers 404 like an unknown one: its name alone
    (a draft's, say) is not for readers.
    """
    # PostgreSQL refuses a NUL in text outright; no slug holds one.
    if len(slug) > _LONGEST_SLUG or "\x00" in slug:
        abort(404)
    tag = articles.find_tag(slug)
    if tag is None:
        abort(404)
    page = page_or_redirect("tag.show", tag=tag.id, slug=slug)
    if isinstance(page, Response):
        # Back to the first page, which must not then answer 404 (see the docstring).
        first = articles.listing(now(), 1, tag=tag.id)
        if first is None or not first.items:
            abort(404)
        return page
    if not page.items:
        abort(404)
    return render_template("tag/show.html", tag=tag, page=page)
