"""Writing articles: the one way the form, import and demo content set slugs, bodies and tags."""

from __future__ import annotations

import re
import sys
import unicodedata
from collections.abc import Iterable

import sqlalchemy as sa

from . import content
from .extensions import db
from .models import Article, Tag

# The sizes of articles.slug and tags.name: longer values are refused, never cut.
MAX_SLUG = 200
MAX_TAG_NAME = 80
# A tag's slug is made at most this long, leaving room in tags.slug (100) for "-2" and on.
MAX_TAG_SLUG_BASE = 90
_BASES_PER_QUERY = 100
# A slug made from a title is kept short; one the author types may use all of MAX_SLUG.
TITLE_SLUG_LENGTH = 80


class TagTooLong(ValueError):
    """A tag name longer than the tags table holds."""

    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(f"tag {shorten(name)!r} is longer than {MAX_TAG_NAME} characters")


def shorten(text: str, length: int = 24) -> str:
    """Return the start of text for a message, with an ellipsis when cut."""
    return text if len(text) <= length else text[: length - 1] + "…"


def slug_length(text: str) -> int:
    """Return how long the slug an author's text makes is (text past MAX_SLUG: its own length)."""
    return len(text) if len(text) > MAX_SLUG else len(requested_slug(text))


def requested_slug(text: str) -> str:
    """Return the whole slug an author's text makes; it may be longer than MAX_SLUG."""
    # Some letters are spelt with two ("ß" -> "ss"): the slug can outgrow what was typed.
    return content.slugify(text, max_length=sys.maxsize)


def unique_slug(
    text: str, article_id: int | None = None, max_length: int = TITLE_SLUG_LENGTH
) -> str:
    """Make a slug from text that no other article uses."""
    base = content.slugify(text, max_length=max_length)

    def candidate(n: int) -> str:
        if n == 1:
            return base
        suffix = f"-{n}"
        return base[: MAX_SLUG - len(suffix)].rstrip("-") + suffix

    def taken(n: int) -> bool:
        stmt = sa.select(Article.id).where(Article.slug == candidate(n))
        if article_id is not None:
            stmt = stmt.where(Article.id != article_id)
        # The article being written may be half-built: do not flush it to ask this.
        with db.session.no_autoflush:
            return db.session.scalar(stmt.limit(1)) is not None

    if article_id is not None:
        # An article whose slug is one of the text's keeps it: its address does not move.
        with db.session.no_autoflush:
            own = db.session.scalar(sa.select(Article.slug).where(Article.id == article_id))
        number = re.search(r"-([0-9]+)$", own or "")
        if own is not None and own in (base, candidate(int(number[1]) if number else 1)):
            return own
    if not taken(1):
        return base
    # A title a site repeats ("Prayer times", every day for years) has thousands of taken
    # suffixes: trying them one by one cost a query each, 0.3 s a save at 1,400. Double
    # until a free one, then halve the gap: a free suffix just past a taken one, in
    # O(log n) look-ups (the lowest free one when no article between was deleted).
    low, high = 1, 2
    while taken(high):
        low, high = high, high * 2
    while high - low > 1:
        middle = (low + high) // 2
        if taken(middle):
            low = middle
        else:
            high = middle
    return candidate(high)


def render_body(*, markdown: str | None = None, html: str | None = None) -> tuple[str, str]:
    """Return the source to store and the cleaned HTML readers will get (Markdown wins)."""
    if markdown is not None:
        return markdown, content.render_markdown(markdown)
    return "", content.clean_html(html or "")


def set_body(article: Article, *, markdown: str | None = None, html: str | None = None) -> None:
    """Store the author's source and the cleaned HTML readers will get."""
    store_body(article, render_body(markdown=markdown, html=html))


def store_body(article: Article, rendered: tuple[str, str]) -> None:
    """Store a body as render_body made it; an empty summary is made from it."""
    article.body_markdown, article.body_html = rendered
    if not article.summary:
        article.summary = content.excerpt(article.body_html)


def tag_names(text: str) -> list[str]:
    """Split a comma-separated tag field into distinct, trimmed names; raise TagTooLong.

    A name that would show nothing (invisible marks alone) is left out, as an empty one is:
    it would be a link with no text, on the article and on /tags/.
    """
    seen: dict[str, str] = {}
    for raw in text.split(","):
        name = unicodedata.normalize("NFC", " ".join(raw.split()))
        if len(name) > MAX_TAG_NAME:
            raise TagTooLong(name)
        if not content.shows_nothing(name) and tag_key(name) not in seen:
            seen[tag_key(name)] = name
    return list(seen.values())


def tag_key(name: str) -> str:
    """Return what two names of one tag have in common, capitals and spelling aside."""
    return content.folded(name)


def set_tags(article: Article, names: Iterable[str]) -> None:
    """Attach tags by name, creating the ones that do not exist yet."""
    tags = find_tags(names)
    for tag in tags:
        if tag.id is None:
            db.session.add(tag)
    article.tags = tags


def find_tags(names: Iterable[str]) -> list[Tag]:
    """Return the tags of these names: the stored ones, and new ones (not added) with slugs.

    Capitals aside (tag_key): "economy" is a stored "Economy", so an author's capitals do
    not split a tag's page in two. A stored tag of exactly the name comes first, then the
    oldest of the stored names that differ from it only so.
    """
    wanted = list(dict.fromkeys(names))
    exact: dict[str, Tag] = {}
    candidates: dict[int, Tag] = {}
    bases = sorted({content.slugify(name, max_length=MAX_TAG_SLUG_BASE) for name in wanted})
    # A name differing only in capitals makes the same slug, so the stored tags it can be
    # are those with that slug or one numbered after it ("economy-2"). In batches: a
    # statement of a thousand LIKEs would pass SQLite's limit on an expression's depth.
    for start in range(0, len(bases), _BASES_PER_QUERY):
        some = bases[start : start + _BASES_PER_QUERY]
        near = [Tag.slug.startswith(f"{base}-", autoescape=True) for base in some]
        stmt = sa.select(Tag).where(sa.or_(Tag.slug.in_(some), *near))
        candidates.update((tag.id, tag) for tag in db.session.scalars(stmt))
    if wanted:
        stmt = sa.select(Tag).where(Tag.name.in_(wanted))
        exact.update((tag.name, tag) for tag in db.session.scalars(stmt))
    oldest_first: dict[str, Tag] = {}
    for _, tag in sorted(candidates.items()):
        oldest_first.setdefault(tag_key(tag.name), tag)
    tags = []
    # New tags are not flushed while their slugs are chosen: "C++" and "C#", both "c",
    # must not both take the first free one.
    new_slugs: set[str] = set()
    for name in wanted:
        tag = exact.get(name) or oldest_first.get(tag_key(name))
        if tag is None:
            tag = Tag(name=name, slug=_unique_tag_slug(name, new_slugs))
            new_slugs.add(tag.slug)
        tags.append(tag)
    return list(dict.fromkeys(tags))  # two names may be one stored tag


def _unique_tag_slug(name: str, new_slugs: set[str]) -> str:
    """Make a slug from a tag's name that no stored tag and none of new_slugs uses."""
    base = content.slugify(name, max_length=MAX_TAG_SLUG_BASE)
    candidate, n = base, 1
    while True:
        if candidate not in new_slugs:
            with db.session.no_autoflush:
                if db.session.scalar(sa.select(Tag.id).where(Tag.slug == candidate)) is None:
                    return candidate
        n += 1
        candidate = f"{base}-{n}"
