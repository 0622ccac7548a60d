"""Atom feeds: the latest articles whole, for feed readers, with their Hijri dates.

The site's feed has every article; each tag has one of its own (views/tag.py).
"""

from __future__ import annotations

from typing import NamedTuple

from flask import Blueprint, current_app, render_template, url_for
from markupsafe import Markup
from werkzeug.wrappers import Response

from .. import articles
from ..content import without_controls
from ..pagecache import cached_page
from ..site import (
    article_url,
    datetime_label,
    hijri_label,
    iso_datetime,
    now,
    take_content_version,
)

bp = Blueprint("feed", __name__)


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
    latest = articles.latest(now(), current_app.config["PER_PAGE"])
    home = url_for("home.index", _external=True)
    return feed(latest, current_app.config["SITE_NAME"], home, url_for("feed.atom", _external=True))


def feed(latest: list[articles.Reading], title: str, page: str, address: str) -> Response:
    """Answer articles as an Atom feed: `page` is the HTML page it follows, `address` its own."""
    take_content_version(latest[0].content_version if latest else None)
    # Instants, not their local labels: across a fall back, 01:30-04:00 comes before 01:10-05:00.
    updated = max((article.last_change for article in latest), default=now())
    body = render_template(
        "feed.xml",
        title=without_controls(title),
        page=page,
        address=address,
        entries=[_entry(article) for article in latest],
        updated=iso_datetime(updated),
    )
    return Response(body, mimetype="application/atom+xml")


def _entry(article: articles.Reading) -> Entry:
    assert article.published_at is not None  # a visible article
    published = iso_datetime(article.published_at)
    when = Markup('<p class="dates"><time datetime="{}">{}</time> {}</p>\n').format(
        published, datetime_label(article.published_at), hijri_label(article.published_at)
    )
    # Text is read through without_controls again: a control character in a stored title
    # (a row stored before the forms dropped them, or by hand) is no XML, and would make
    # the whole feed unreadable to every reader.
    return Entry(
        # The address by id alone: it stays the same when the slug changes.
        id=article_url(article.id, ""),
        url=article_url(article.id, article.slug),
        title=without_controls(article.title),
        summary=without_controls(article.summary),
        # The body was cleaned when saved; the dates line is escaped above.
        content=without_controls(str(when) + article.body_html),
        published=published,
        updated=iso_datetime(article.last_change),
        author_name=without_controls(article.author_name),
        tags=[without_controls(tag) for tag in article.tag_names],
    )
