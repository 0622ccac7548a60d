"""Search: the visible articles holding every word asked for, newest first, a page at a time.

The index (migration 0009, kept by triggers) holds each live article under its search key,
which orders it nearly as the listings are ordered: by the minute it was published, then
by id. SQLite's FTS5 gives a search's matches in key order, so a page walks them down from
a key and stops after a page, however many there are. PostgreSQL's index of words gives
them in no order: a page first walks the nearest few thousand keys checking each one's
words, which fills it for any word held by one article in a few hundred or more, and
otherwise looks the words up and sorts what it found, which is quick for the few matches
such words have."""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from . import content
from .articles import Page, TeaserRow
from .extensions import db
from .models import MAX_ID, Article, User

# The most words a search looks for (the first ones), and the longest word: enough for any
# real search, and a bound on what one request may ask of the index.
MAX_WORDS = 8
MAX_WORD_LENGTH = 60

_FIRST_MINUTE = datetime(1, 1, 1, tzinfo=UTC)  # as in migration 0009
_MINUTE = timedelta(minutes=1)
_ID_BITS = 2**31
_LOWEST_KEY = -(2**63)


def words(query: str) -> list[str]:
    """Return the distinct words of a search, as the page shows them searched for: runs of
    letters, marks and digits of any script, case kept, each cut to MAX_WORD_LENGTH.

    Marks too, unlike the regular expression \\w: without them a vowelled Arabic word or a
    Hindi one fell apart into letters, which PostgreSQL's index, holding it whole, never
    matched. In NFC, as typed text nearly always is: an accent typed apart is joined.
    """
    found: list[str] = []
    word: list[str] = []
    for character in unicodedata.normalize("NFC", query) + " ":
        if unicodedata.category(character)[0] in "LMN" or character == "_":
            word.append(character)
        elif word:
            text = "".join(word)
            # Marks or a tatweel alone are no word: nothing is indexed under them.
            indexed = content.without_optional_marks(text)
            if any(unicodedata.category(c)[0] in "LN" for c in indexed):
                found.append(text[:MAX_WORD_LENGTH])
            word = []
    return list(dict.fromkeys(found))


def key(instant: datetime, article_id: int) -> int:
    """Return the search key of an article published at `instant` (see migration 0009)."""
    minutes = (instant - _FIRST_MINUTE) // _MINUTE
    return (minutes - 2**32) * _ID_BITS + article_id


def parse_key(token: str | None) -> int | None:
    """Read a page token (a search key); None when absent. Raise ValueError when malformed."""
    if token is None:
        return None
    if not re.fullmatch(r"-?[0-9]{1,19}", token) or not _LOWEST_KEY <= int(token) < 2**63:
        raise ValueError(f"bad page token {token!r}")
    return int(token)


_TEASER = "a.id, a.title, a.slug, a.summary, a.published_at, u.username"
# The columns as articles.TEASER reads them, instants through their column's type.
_COLUMNS = (
    sa.column("key", sa.BigInteger),
    sa.column("id", sa.Integer),
    sa.column("title", sa.String),
    sa.column("slug", sa.String),
    sa.column("summary", sa.String),
    sa.column("published_at", Article.__table__.c.published_at.type),
    sa.column("author_name", User.__table__.c.username.type),
)
_LIVE = "a.status = 'published' AND a.deleted_at IS NULL AND a.published_at <= :now"

_SQLITE = f"""
SELECT s.rowid, {_TEASER}
FROM article_search AS s
JOIN articles AS a ON a.id = (s.rowid & {_ID_BITS - 1})
JOIN users AS u ON u.id = +a.author_id
WHERE article_search MATCH :match AND s.rowid > :lower AND s.rowid < :upper AND {_LIVE}
ORDER BY s.rowid {{order}}
LIMIT :limit
"""

# PostgreSQL picks a page's keys in article_search alone (it keeps each one's instant),
# then reads those articles. First, among the nearest SCANNED keys, walked in order: most
# searches (a word of one article in a few hundred or more) fill their page there.
SCANNED = 4000
_POSTGRESQL_NEAREST = f"""
SELECT key FROM (
  SELECT key, published_at, words FROM article_search
  WHERE key > :lower AND key < :upper ORDER BY key {{order}} LIMIT {SCANNED}
) AS nearest
WHERE words @@ plainto_tsquery('simple', :match) AND published_at <= :now
ORDER BY key {{order}} LIMIT :limit
"""
# Then, when they did not: the matches looked up in the index of words, and sorted. Left to
# itself, the planner may walk every key of the range for words it takes to be common (a
# word no article holds took 0.47 s that way in a million articles), so the keys are
# written as no index can serve (key + 0) and the search runs with sequential scans off:
# the index of words is the one way left.
_POSTGRESQL_WORDS = """
SELECT key FROM article_search
WHERE words @@ plainto_tsquery('simple', :match) AND published_at <= :now
  AND key + 0 > :lower AND key + 0 < :upper
ORDER BY key + 0 {order} LIMIT :limit
"""
# And the page's articles, in the keys' order.
_POSTGRESQL_PAGE = f"""
SELECT s.key, {_TEASER}
FROM ({{keys}}) AS s
JOIN articles AS a ON a.id = (s.key & {_ID_BITS - 1})::integer
JOIN users AS u ON u.id = a.author_id
WHERE {_LIVE}
ORDER BY s.key {{order}}
"""


def search(
    found: list[str],
    now: datetime,
    per_page: int,
    *,
    before: int | None = None,
    after: int | None = None,
) -> Page | None:
    """Return one newest-first page of the visible articles holding every word in `found`,
    its neighbours' tokens search keys.

    `before` pages towards older articles, `after` towards newer ones; None means the
    `after` page would be the first page: the caller should show the first.
    """
    # Keys of the minute that holds `now`: an article due later in that minute is in the
    # range, and left out by its own instant.
    upper = key(now, MAX_ID) + 1
    if before is not None:
        upper = min(upper, before)
    lower = _LOWEST_KEY if after is None else after
    newest_first = after is None
    rows = _rows(found, now, lower, upper, newest_first, per_page + 1)
    if newest_first:
        items = [TeaserRow._make(row[1:]) for row in rows[:per_page]]
        keys = [row[0] for row in rows[:per_page]]
        older = str(keys[-1]) if len(rows) > per_page else None
        newer = str(keys[0]) if before is not None and keys else None
        return Page(items, older, newer)
    if len(rows) <= per_page:
        return None
    shown = rows[:per_page][::-1]
    items = [TeaserRow._make(row[1:]) for row in shown]
    return Page(items, str(shown[-1][0]), str(shown[0][0]))


def _rows(
    found: list[str], now: datetime, lower: int, upper: int, newest_first: bool, limit: int
) -> list[Any]:
    # As the index holds them (migration 0010): without Arabic's optional marks.
    found = [content.without_optional_marks(word) for word in found]
    order = "DESC" if newest_first else "ASC"
    params: dict[str, Any] = {"now": now, "lower": lower, "upper": upper, "limit": limit}
    # A connection of its own: its transaction ends with the read (and the SET LOCALs with
    # it), and leaves the request's session as it was.
    with db.engine.connect() as connection:
        if connection.dialect.name != "postgresql":
            # Each word a string of FTS5's query language: no operator, column or prefix.
            params["match"] = " ".join(f'"{word}"' for word in found)
            return _read(connection, _SQLITE.format(order=order), params)
        params["match"] = " ".join(found)
        nearest = _POSTGRESQL_NEAREST.format(order=order)
        rows = _read(connection, _POSTGRESQL_PAGE.format(keys=nearest, order=order), params)
        if len(rows) == limit:
            return rows
        # Through the index of words, whatever the planner makes of them.
        connection.execute(sa.text("SET LOCAL enable_seqscan = off"))
        looked_up = _POSTGRESQL_WORDS.format(order=order)
        return _read(connection, _POSTGRESQL_PAGE.format(keys=looked_up, order=order), params)


def _read(connection: sa.Connection, sql: str, params: dict[str, Any]) -> list[Any]:
    statement = (
        sa.text(sql)
        .bindparams(sa.bindparam("now", type_=Article.__table__.c.published_at.type))
        .columns(*_COLUMNS)
    )
    return list(connection.execute(statement, params).all())
