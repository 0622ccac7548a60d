"""Queries that readers' pages are made of: visible articles, listings, day counts, totals.

Listings use keyset pagination on (published_at, id), served by ix_articles_visible, so the
thousandth page costs what the first does. Counts come from day_counts (see counts.py), less
the live articles still scheduled after `now`, which are few and found through the same index.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import joinedload, selectinload
from sqlalchemy.sql.functions import FunctionElement

from . import counts, engines
from .dates import day_bounds, local_date, local_today
from .extensions import db
from .models import MAX_ID, Article, DayCount, Tag, User, article_tags, live, tag_order

# seconds.id, or seconds.microseconds.id when the instant has a fraction of a second.
_TOKEN = re.compile(r"(-?\d{1,12})(?:\.(\d{6}))?\.(\d{1,18})", re.ASCII)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_SECOND = timedelta(seconds=1)


@dataclass(frozen=True)
class Cursor:
    """A position in a newest-first listing: the (published_at, id) of an article.

    Its token keeps the instant whole: cut to the second, the next page would start before
    the articles published earlier within that second and skip them.
    """

    published_at: datetime
    id: int

    @classmethod
    def of(cls, article: Any) -> Cursor:
        """Return the position of an article or a teaser row."""
        return cls(article.published_at, article.id)

    @classmethod
    def parse(cls, token: str | None) -> Cursor | None:
        """Read a token made by `token`; None when absent. Raise ValueError when malformed."""
        if token is None:
            return None
        match = _TOKEN.fullmatch(token)
        if not match or int(match[3]) > MAX_ID:
            raise ValueError(f"bad page token {token!r}")
        try:
            instant = _EPOCH + timedelta(seconds=int(match[1]), microseconds=int(match[2] or 0))
        except OverflowError as error:
            raise ValueError(f"bad page token {token!r}") from error
        return cls(instant, int(match[3]))

    @property
    def token(self) -> str:
        seconds, rest = divmod(self.published_at - _EPOCH, _SECOND)
        if rest:
            return f"{seconds}.{rest.microseconds:06d}.{self.id}"
        return f"{seconds}.{self.id}"


@dataclass(frozen=True)
class Page:
    """One page of a listing with the tokens of its neighbours (None: no such page).

    `content_version` is the version read with the rows (None when there were none).
    """

    items: Sequence[Any]
    older: str | None
    newer: str | None
    content_version: int | None = None


# Each article's author's name, looked up by the author's id: a subquery, not a join, so no
# planner can start from the users or take the articles in another order. Joined, SQLite's
# read the users first and each one's articles through ix_articles_author_live, sorting
# them after, when that index was new and had no statistics beside the others' (a tag page
# on a million articles took 1.2 s); and PostgreSQL's generic plan for a tag page at 140,000
# articles hashed the eight users and sorted all of a tag's 4,000 articles (149 ms a page).
BYLINE = (sa.select(User.username).where(User.id == Article.author_id).scalar_subquery()).label(
    "author_name"
)

# What a teaser shows, read as plain rows: building ORM objects for a listing costs several
# times the query itself. site.teasers unpacks the rows in this order.
TEASER = (
    Article.id,
    Article.title,
    Article.slug,
    Article.summary,
    Article.published_at,
    BYLINE,
)


def _teasers(newest_first: bool, *where: sa.ColumnElement[bool]) -> sa.Select[Any]:
    """A listing query with its bounds as parameters, built once and reused; `where` narrows
    it (to an author's articles, say)."""
    return _ordered(
        sa.select(*TEASER, counts.version_column()).where(live(), *where),
        Article.published_at,
        Article.id,
        newest_first,
    )


class unary_plus(FunctionElement[Any]):
    """`+column`: the same value, in a term SQLite's planner may not use an index for."""

    inherit_cache = True
    name = "unary_plus"


@compiles(unary_plus)
def _unary_plus(element: unary_plus, compiler: Any, **kw: Any) -> str:
    return f"+{compiler.process(element.clauses, **kw)}"


def _tagged_teasers(newest_first: bool, sqlite: bool = False) -> sa.Select[Any]:
    """A tag's listing query: its links' live_at walked in order, as _teasers walks articles.

    A link's live_at is its article's published_at while the article is live, else NULL
    (see models.article_tags), so the page's cursor and bounds are the same instants.
    """
    link = article_tags.c
    found = Article.id == link.article_id
    if sqlite:
        # Each article found by (published_at, id) in ix_articles_teasers, which holds every
        # column a teaser shows, not by id in the table. A tag's twenty articles lie all
        # over a table of bodies (2.6 GB at a million) that the OS cache may not hold, while
        # every listing page keeps the far smaller index read: with neither warmed by this
        # statement, a page took 207 µs this way and 1,377 µs through the table. The unary
        # plus keeps SQLite's planner off the id (its documented way to disqualify a term),
        # so each look-up walks the live articles of one instant: cheap unless thousands of
        # articles were imported with one and the same publication time.
        found = sa.and_(
            Article.published_at == link.live_at, unary_plus(Article.id) == link.article_id
        )
    return _ordered(
        sa.select(*TEASER, counts.version_column())
        .select_from(article_tags)
        .join(Article, found)
        # live() as well: should a link's live_at ever be wrong (a hand-made SQL change),
        # a page comes up short instead of showing a draft. (The article's own instant is
        # checked after, in listing(): in the SQL it led PostgreSQL's planner off the id.)
        .where(link.tag_id == sa.bindparam("tag"), live()),
        link.live_at,
        link.article_id,
        newest_first,
    )


def _ordered(stmt: sa.Select[Any], published: Any, pk: Any, newest_first: bool) -> sa.Select[Any]:
    """Bound a listing query to (lower, upper) and its cursor, in (published, pk) order."""
    if newest_first:
        # Ties on the cursor's instant are broken by id (no cursor: edge_id is past any id).
        edge = sa.or_(published < sa.bindparam("edge_at"), pk < sa.bindparam("edge_id"))
        order = (published.desc(), pk.desc())
    else:
        edge = sa.or_(published > sa.bindparam("edge_at"), pk > sa.bindparam("edge_id"))
        order = (published, pk)
    return (
        # One lower and one upper bound on published_at: given two, SQLite ranges the
        # index on one of them and filters the rest, walking every newer row of a deep page.
        stmt.where(published >= sa.bindparam("lower"), published <= sa.bindparam("upper"))
        .where(edge)
        .order_by(*order)
        .limit(sa.bindparam("limit"))
    )


NEWEST_FIRST = engines.PlainSelect(_teasers(True))
OLDEST_FIRST = engines.PlainSelect(_teasers(False))
# An author's articles, walked by ix_articles_author_live.
_BY_AUTHOR = Article.author_id == sa.bindparam("author")
AUTHOR_NEWEST_FIRST = engines.PlainSelect(_teasers(True, _BY_AUTHOR))
AUTHOR_OLDEST_FIRST = engines.PlainSelect(_teasers(False, _BY_AUTHOR))
TAG_NEWEST_FIRST = engines.PlainSelect(_tagged_teasers(True), sqlite=_tagged_teasers(True, True))
TAG_OLDEST_FIRST = engines.PlainSelect(_tagged_teasers(False), sqlite=_tagged_teasers(False, True))


class TeaserRow(NamedTuple):
    """One listing row, in TEASER's order."""

    id: int
    title: str
    slug: str
    summary: str
    published_at: datetime
    author_name: str


EARLIEST = datetime(1, 1, 2, tzinfo=UTC)


def listing(
    now: datetime,
    per_page: int,
    *,
    before: Cursor | None = None,
    after: Cursor | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    tag: int | None = None,
    author: int | None = None,
) -> Page | None:
    """Return one newest-first page of visible articles' teasers in [start, end).

    `before` pages towards older articles, `after` towards newer ones. None means the
    `after` page would be the first page: the caller should show the listing's start.
    `tag`, a tag's id, lists only the articles that carry it; `author`, a user's id, only
    the articles they wrote.
    """
    upper = now if end is None else min(now, end - timedelta(microseconds=1))
    lower = EARLIEST if start is None else start
    newest_first, oldest_first, chosen = NEWEST_FIRST, OLDEST_FIRST, {}
    if tag is not None:
        newest_first, oldest_first, chosen = TAG_NEWEST_FIRST, TAG_OLDEST_FIRST, {"tag": tag}
    elif author is not None:
        newest_first, oldest_first = AUTHOR_NEWEST_FIRST, AUTHOR_OLDEST_FIRST
        chosen = {"author": author}
    # Plain rows on a pooled connection: a listing needs no ORM session.
    if after is None:
        if before is not None:
            upper = min(upper, before.published_at)
        edge_at, edge_id = (upper, MAX_ID) if before is None else (upper, before.id)
        params = {"lower": lower, "upper": upper, "edge_at": edge_at, "edge_id": edge_id}
        rows = newest_first.rows({**params, **chosen, "limit": per_page + 1})
        if tag is not None:
            rows = [row for row in rows if _due(row[4], upper)]
        items = [TeaserRow._make(row[:-1]) for row in rows[:per_page]]
        older = Cursor.of(items[-1]).token if len(rows) > per_page else None
        newer = Cursor.of(items[0]).token if before is not None and items else None
        return Page(items, older, newer, rows[0][-1] if rows else None)
    lower = max(lower, after.published_at)
    params = {"lower": lower, "upper": upper, "edge_at": lower, "edge_id": after.id}
    rows = oldest_first.rows({**params, **chosen, "limit": per_page + 1})
    if tag is not None:
        rows = [row for row in rows if _due(row[4], upper)]
    if len(rows) <= per_page:
        return None
    items = [TeaserRow._make(row[:-1]) for row in rows[:per_page][::-1]]
    return Page(items, Cursor.of(items[-1]).token, Cursor.of(items[0]).token, rows[0][-1])


@dataclass(frozen=True)
class Reading:
    """An article as its page shows it, read as plain rows: no ORM objects to build."""

    id: int
    title: str
    slug: str
    summary: str
    body_html: str
    status: str
    published_at: datetime | None
    updated_at: datetime
    deleted_at: datetime | None
    author_id: int
    author_name: str
    tag_links: list[tuple[str, str]]  # each tag's name and slug, in name order
    content_version: int  # read with the article, in the same statement

    # The same rules as the model's, not copies of them.
    is_live = Article.is_live
    is_visible = Article.is_visible

    @property
    def tag_names(self) -> list[str]:
        return [name for name, _ in self.tag_links]

    @property
    def last_change(self) -> datetime:
        """When it last changed for readers: edited, or published if that came later."""
        if self.published_at is None:
            return self.updated_at
        return last_change(self.published_at, self.updated_at)


class json_rows(FunctionElement[Any]):
    """Some columns over a subquery's rows, as a JSON array of arrays (NULL or [] if none)."""

    type = sa.JSON()
    inherit_cache = True
    name = "json_rows"


@compiles(json_rows)
def _json_group_array(element: json_rows, compiler: Any, **kw: Any) -> str:
    return f"json_group_array(json_array({compiler.process(element.clauses, **kw)}))"


@compiles(json_rows, "postgresql")
def _json_agg(element: json_rows, compiler: Any, **kw: Any) -> str:
    return f"json_agg(json_build_array({compiler.process(element.clauses, **kw)}))"


# The article's tags, names and slugs, in one column. Joined in, the article came back once
# per tag, its body each time: with five tags and a 7 KB body, PostgreSQL spent about 35 µs
# more on the page and the worker about 20 µs more reading it.
_TAGS = (
    sa.select(json_rows(Tag.name, Tag.slug))
    .select_from(article_tags.join(Tag, Tag.id == article_tags.c.tag_id))
    .where(article_tags.c.article_id == Article.id)
    .scalar_subquery()
)


def _readings() -> sa.Select[Any]:
    """Articles whole, each in one row: with its author, its tags and the content version."""
    return sa.select(
        Article.id,
        Article.title,
        Article.slug,
        Article.summary,
        Article.body_html,
        Article.status,
        Article.published_at,
        Article.updated_at,
        Article.deleted_at,
        Article.author_id,
        BYLINE,
        _TAGS.label("tags"),
        counts.version_column(),
    )


# An article's page: one statement, one row.
_READING = engines.PlainSelect(_readings().where(Article.id == sa.bindparam("id")))
# The feed: the latest visible articles, walking ix_articles_visible from `now` down.
_LATEST = engines.PlainSelect(
    _readings()
    .where(live(), Article.published_at <= sa.bindparam("now"))
    .order_by(Article.published_at.desc(), Article.id.desc())
    .limit(sa.bindparam("limit"))
)

# A tag's feed: its links walked from `now` down by ix_article_tags_live, as tag pages do.
_TAG_LATEST = engines.PlainSelect(
    _readings()
    .join(article_tags, article_tags.c.article_id == Article.id)
    .where(
        article_tags.c.tag_id == sa.bindparam("tag"),
        article_tags.c.live_at <= sa.bindparam("now"),
        live(),  # as on tag pages: a wrong live_at can shorten the feed, never show a draft
    )
    .order_by(article_tags.c.live_at.desc(), article_tags.c.article_id.desc())
    .limit(sa.bindparam("limit"))
)

# An author's feed: their articles walked from `now` down by ix_articles_author_live.
AUTHOR_LATEST = engines.PlainSelect(
    _readings()
    .where(live(), _BY_AUTHOR, Article.published_at <= sa.bindparam("now"))
    .order_by(Article.published_at.desc(), Article.id.desc())
    .limit(sa.bindparam("limit"))
)


def _reading(row: Sequence[Any]) -> Reading:
    *fields, tags, version = row
    return Reading(*fields, _in_order(tags), version)


def read_article(article_id: int) -> Reading | None:
    """Return an article for its page, whatever its state, or None."""
    if not 0 < article_id <= MAX_ID:
        return None
    rows = _READING.rows({"id": article_id})
    return _reading(rows[0]) if rows else None


def _in_order(tags: list[list[str]] | None) -> list[tuple[str, str]]:
    """Put (name, slug) pairs in one order of names on every database, whatever its collation."""
    return sorted(((name, slug) for name, slug in tags or ()), key=tag_order)


class TagShown(NamedTuple):
    """A tag as its page names it."""

    id: int
    name: str


# A tag's page: through the ORM session, this look-up cost the page more than its listing.
_TAG = engines.PlainSelect(sa.select(Tag.id, Tag.name).where(Tag.slug == sa.bindparam("slug")))


def find_tag(slug: str) -> TagShown | None:
    """Return the tag a page address names, or None."""
    rows = _TAG.rows({"slug": slug})
    return TagShown._make(rows[0]) if rows else None


class Topic(NamedTuple):
    """A tag on the page of every tag: its name, its slug, its newest visible article's instant."""

    name: str
    slug: str
    latest: datetime


# Each tag with the instant of its newest live link due by `now`: one step down the tag's
# stretch of ix_article_tags_live, however many articles carry it.
_NEWEST_LINK = (
    sa.select(article_tags.c.live_at)
    .where(
        article_tags.c.tag_id == Tag.id,
        article_tags.c.live_at.is_not(None),
        article_tags.c.live_at <= sa.bindparam("now"),
    )
    .order_by(article_tags.c.live_at.desc())
    .limit(1)
    .scalar_subquery()
)
# Read as plain rows: through the ORM session, ten thousand tags took twice as long.
TOPICS = engines.PlainSelect(sa.select(Tag.name, Tag.slug, _NEWEST_LINK.label("latest")))


def topics(now: datetime) -> list[Topic]:
    """Return every tag a visible article carries, in no set order, with its newest one's instant.

    A link's instant is trusted here as on the tag's page, whose rows are then checked one
    by one (see `_due`): only a link put out of step behind the site's back could name a
    tag whose page then shows nothing.
    """
    rows = TOPICS.rows({"now": now})
    return [Topic(name, slug, latest) for name, slug, latest in rows if latest is not None]


_ANY_TOPIC = engines.PlainSelect(
    sa.select(article_tags.c.tag_id)
    .where(article_tags.c.live_at.is_not(None), article_tags.c.live_at <= sa.bindparam("now"))
    .limit(1)
)


def any_topics(now: datetime) -> bool:
    """Tell whether any visible article carries a tag, without reading every tag."""
    return bool(_ANY_TOPIC.rows({"now": now}))


class AuthorShown(NamedTuple):
    """An author as their page names them."""

    id: int
    name: str


_AUTHOR = engines.PlainSelect(
    sa.select(User.id, User.username).where(User.username == sa.bindparam("name"))
)


def find_author(name: str) -> AuthorShown | None:
    """Return the user a page address names, or None."""
    rows = _AUTHOR.rows({"name": name})
    return AuthorShown._make(rows[0]) if rows else None


class Writer(NamedTuple):
    """A user with a visible article: their name and their newest visible article's instant."""

    name: str
    latest: datetime


# Each user with the instant of their newest visible article: one step down the user's
# stretch of ix_articles_author_live, however many articles they wrote.
_NEWEST_BY_AUTHOR = (
    sa.select(Article.published_at)
    .where(Article.author_id == User.id, live(), Article.published_at <= sa.bindparam("now"))
    .order_by(Article.published_at.desc())
    .limit(1)
    .scalar_subquery()
)
WRITERS = engines.PlainSelect(sa.select(User.username, _NEWEST_BY_AUTHOR.label("latest")))


def writers(now: datetime) -> list[Writer]:
    """Return every user with a visible article, in no set order, with its instant."""
    rows = WRITERS.rows({"now": now})
    return [Writer(name, latest) for name, latest in rows if latest is not None]


def last_change(published_at: datetime, updated_at: datetime) -> datetime:
    """When an article last changed for readers: edited, or published if that came later
    (a scheduled article comes due after its last edit)."""
    return max(published_at, updated_at)


def latest(
    now: datetime, limit: int, tag: int | None = None, author: int | None = None
) -> list[Reading]:
    """Return the latest `limit` visible articles whole, newest first.

    `tag`, a tag's id, takes only the articles that carry it; `author`, a user's id, only
    the articles they wrote.
    """
    if author is not None:
        rows = AUTHOR_LATEST.rows({"now": now, "limit": limit, "author": author})
        return [_reading(row) for row in rows]
    if tag is None:
        return [_reading(row) for row in _LATEST.rows({"now": now, "limit": limit})]
    rows = _TAG_LATEST.rows({"now": now, "limit": limit, "tag": tag})
    return [reading for reading in map(_reading, rows) if _due(reading.published_at, now)]


def _due(published_at: datetime | None, now: datetime) -> bool:
    """Tell whether a tag's row, found by its link's instant, is its article's due too.

    Only a link put out of step behind the site's back (see taglinks.py) says otherwise.
    """
    return published_at is not None and published_at <= now


# A sitemap lists at most this many addresses (the sitemaps protocol's own limit).
SITEMAP_LIMIT = 50_000


def addresses(start: datetime, end: datetime, now: datetime) -> list[Any]:
    """Return (id, slug, published_at, updated_at) of the visible articles in [start, end)."""
    stmt = (
        sa.select(Article.id, Article.slug, Article.published_at, Article.updated_at)
        .where(live(), Article.published_at >= start, Article.published_at < end)
        .where(Article.published_at <= now)
        .order_by(Article.published_at, Article.id)
        .limit(SITEMAP_LIMIT)
    )
    return list(db.session.execute(stmt).all())


def days_with_articles(last: date) -> list[date]:
    """Return every local day up to `last` that has live articles, oldest first."""
    stmt = sa.select(DayCount.day).where(DayCount.count > 0, DayCount.day <= last)
    return list(db.session.scalars(stmt.order_by(DayCount.day)))


def get_article(article_id: int) -> Article | None:
    """Return the article with its author and tags, whatever its state, or None."""
    if not 0 < article_id <= MAX_ID:
        return None
    stmt = (
        sa.select(Article)
        .where(Article.id == article_id)
        .options(joinedload(Article.author), selectinload(Article.tags))
    )
    return db.session.scalar(stmt)


def _scheduled_days(first: date, last: date, tz: ZoneInfo, now: datetime) -> Counter[date]:
    """Live articles in local days first..last whose time has not come yet, by day."""
    if last < local_today(tz, now):
        return Counter()
    end = day_bounds(last, tz)[1]
    stmt = sa.select(Article.published_at).where(
        live(), Article.published_at > now, Article.published_at < end
    )
    return Counter(local_date(instant, tz) for instant in db.session.scalars(stmt))


def day_counts(first: date, last: date, tz: ZoneInfo, now: datetime) -> dict[date, int]:
    """Return the visible articles of each local day from first to last, zeros included."""
    stmt = sa.select(DayCount.day, DayCount.count).where(DayCount.day.between(first, last))
    stored = {day: n for day, n in db.session.execute(stmt)}
    scheduled = _scheduled_days(first, last, tz, now)
    days = (first + timedelta(days=i) for i in range((last - first).days + 1))
    return {day: stored.get(day, 0) - scheduled[day] for day in days}


def month_counts(year: int, tz: ZoneInfo, now: datetime) -> dict[int, int]:
    """Return the visible articles of each month of a local year (months 1..12)."""
    counts = day_counts(date(year, 1, 1), date(year, 12, 31), tz, now)
    months = dict.fromkeys(range(1, 13), 0)
    for day, n in counts.items():
        months[day.month] += n
    return months


def total(now: datetime) -> int:
    """Return the number of visible articles."""
    stored = db.session.scalar(sa.select(sa.func.coalesce(sa.func.sum(DayCount.count), 0)))
    scheduled = db.session.scalar(
        sa.select(sa.func.count()).where(live(), Article.published_at > now)
    )
    return int(stored or 0) - int(scheduled or 0)


def first_published() -> datetime | None:
    """Return when the earliest live article was published, if any (one index look-up)."""
    return db.session.scalar(sa.select(sa.func.min(Article.published_at)).where(live()))


def next_scheduled(now: datetime) -> datetime | None:
    """Return when the next scheduled article becomes visible, if any."""
    return db.session.scalar(
        sa.select(sa.func.min(Article.published_at)).where(live(), Article.published_at > now)
    )
