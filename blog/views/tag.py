"""Tags: the page of every tag, and each tag's page and feed of the visible articles that
carry it, newest first."""

from __future__ import annotations

import unicodedata
from typing import NamedTuple

from flask import Blueprint, abort, current_app, render_template, url_for
from werkzeug.wrappers import Response

from .. import articles
from ..models import Tag, tag_order
from ..pagecache import cached_page
from ..site import content_version, kept, masthead, now, version_first
from . import feed as feeds
from .listing import page_or_404

bp = Blueprint("tag", __name__)

# The longest slug a tag can have: a longer one names no tag, and needs no query to say so.
_LONGEST_SLUG = Tag.__table__.c.slug.type.length


# Up to this many tags, /tags/ lists them all; past it, it names their initials, each
# leading to a page of its own: ten thousand tags made one page of 2.5 MB.
ONE_PAGE_TAGS = 400
OTHER = "other"  # the address of the initial of tags that start with no letter


class TopicGroup(NamedTuple):
    """The tags listed under one initial, and the part of an address that names it."""

    letter: str
    name: str
    topics: list[articles.Topic]


@bp.get("/tags/")
@cached_page
@version_first
def index() -> str:
    """List every tag a visible article carries, alphabetically under its initial, each with
    the time of its newest article; with many tags, name the initials, each with a page."""
    groups = _topic_groups()
    whole = sum(len(group.topics) for group in groups) <= ONE_PAGE_TAGS
    return render_template("tag/index.html", groups=groups, shown=groups if whole else [])


@bp.get("/tags/<name>/")
@cached_page
@version_first
def initial_page(name: str) -> str:
    """List the tags under one initial, as /tags/ does when there are too many for one page."""
    groups = _topic_groups()
    shown = [group for group in groups if group.name == name]
    if not shown:
        abort(404)
    return render_template("tag/index.html", groups=groups, shown=shown)


def _topic_groups() -> list[TopicGroup]:
    """The tags grouped, read once for each content version and due article in a process:
    /tags/ and the page of each initial share one reading (ten thousand tags: 50-250 ms)."""
    key = (content_version(), masthead().valid_until)
    groups: list[TopicGroup] = kept("blog.topic_groups", key, _read_topic_groups)
    return groups


def _read_topic_groups() -> list[TopicGroup]:
    groups: dict[str, TopicGroup] = {}
    keyed = sorted((reading_order(topic.name), topic) for topic in articles.topics(now()))
    for key, topic in keyed:
        letter = key[0][:1].upper()
        if not letter.isalpha():
            letter = "#"
        if letter not in groups:
            groups[letter] = TopicGroup(letter, OTHER if letter == "#" else letter, [])
        groups[letter].topics.append(topic)
    return list(groups.values())


def reading_order(name: str) -> tuple[str, str, str]:
    """Sort names as a reader looks them up: case, accents and invisible marks aside, so that
    'Économie' comes before 'Sport' and is listed under E."""
    plain = "".join(
        char
        for char in unicodedata.normalize("NFKD", name)
        if not unicodedata.combining(char) and unicodedata.category(char) != "Cf"
    )
    return (plain.casefold(), *tag_order((name, "")))


@bp.get("/tag/<slug>/")
@cached_page
def show(slug: str) -> str | Response:
    """Show one page of a tag's articles.

    A tag that no visible article carries answers 404 like an unknown one: its name alone
    (a draft's, say) is not for readers.
    """
    tag = _tag_or_404(slug)
    page = page_or_404("tag.show", tag=tag.id, slug=slug)
    if isinstance(page, Response):
        return page
    return render_template("tag/show.html", tag=tag, slug=slug, page=page)


@bp.get("/tag/<slug>/feed.xml")
@cached_page
def feed(slug: str) -> Response:
    """Answer a tag's latest PER_PAGE visible articles as an Atom feed, newest first."""
    tag = _tag_or_404(slug)
    latest = articles.latest(now(), current_app.config["PER_PAGE"], tag=tag.id)
    if not latest:
        abort(404)  # as its page does: the tag of drafts alone is not for readers
    return feeds.feed(
        latest,
        f"{current_app.config['SITE_NAME']}: {tag.name}",
        url_for("tag.show", slug=slug, _external=True),
        url_for("tag.feed", slug=slug, _external=True),
    )


def _tag_or_404(slug: str) -> articles.TagShown:
    # PostgreSQL refuses a NUL in text outright; no slug holds one.
    if len(slug) > _LONGEST_SLUG or "\x00" in slug:
        abort(404)
    tag = articles.find_tag(slug)
    if tag is None:
        abort(404)
    return tag
