"""The Atom feed: the latest articles whole, for feed readers, with their Hijri dates."""

from __future__ import annotations

import re
from datetime import datetime
from typing import NamedTuple

from flask import Blueprint, current_app, render_template, url_for
from markupsafe import Markup
from werkzeug.wrappers import Response

from .. import articles
from ..pagecache import cached_page
from ..site import datetime_label, hijri_label, iso_datetime, now, take_content_version

bp = Blueprint("feed", __name__)

# Characters XML 1.0 has no place for: one in a stored title would make the whole feed
# unreadable to every reader, so they are left out of it.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


class Entry(NamedTuple):
    """One article as the feed template prints it (the template escapes every field)."""

    id: str  # the address of the host the feed was read from: serve one canonical host
    url: str
    title: str
    summary: str
    content: str  # HTML, printed escaped as Atom's type="html" asks
    published: str
    updated: str
    author_name: str
    tags: list[str]


@bp.get("/feed.xml")
@cached_page
def atom() -> Response:
    """Answer the latest PER_PAGE visible articles as an Atom feed, newest first."""
    latest, version = articles.latest_whole(now(), current_app.config["PER_PAGE"])
    take_content_version(version)
    # Instants, not their local labels: across a fall back, 01:30-04:00 comes before 01:10-05:00.
    updated = max((_changed(article) for article in latest), default=now())
    entries = [_entry(article) for article in latest]
    body = render_template("feed.xml", entries=entries, updated=iso_datetime(updated))
    return Response(body, mimetype="application/atom+xml")


def _changed(article: articles.WholeArticle) -> datetime:
    # Edited or not, an entry is new no earlier than it was published (scheduled ones).
    return max(article.updated_at, article.published_at)


def _entry(article: articles.WholeArticle) -> Entry:
    published = iso_datetime(article.published_at)
    when = Markup('<p class="dates"><time datetime="{}">{}</time> {}</p>\n').format(
        published, datetime_label(article.published_at), hijri_label(article.published_at)
    )
    return Entry(
        # The address by id alone: it stays the same when the slug changes.
        id=url_for("article.show", article_id=article.id, _external=True),
        url=url_for("article.show", article_id=article.id, slug=article.slug, _external=True),
        title=_xml(article.title),
        summary=_xml(article.summary),
        # The body was cleaned when saved; the dates line is escaped above.
        content=_xml(str(when) + article.body_html),
        published=published,
        updated=iso_datetime(_changed(article)),
        author_name=_xml(article.author_name),
        tags=[_xml(tag) for tag in article.tag_names],
    )


def _xml(text: str) -> str:
    return _NOT_XML.sub("", text)
