"""Synthetic articles for benchmarks, bulk-inserted: a million in a few minutes.

Rows are built in Python from the word lists below and written in batches, each batch in its
own transaction together with its day counts, so an interrupted run leaves a consistent
database. SQLite gets executemany on the raw connection with syncing off; PostgreSQL gets COPY.
Bodies are plain paragraphs whose HTML is what render_markdown would make of them.
"""

from __future__ import annotations

import random
import secrets
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Session

from . import content, counts
from .dates import local_date, utcnow
from .extensions import db
from .models import Article, Tag, User
from .transfer import new_author

BATCH_SIZE = 10_000
DRAFT_SHARE = 0.02
SECOND_TAG_SHARE = 0.15
AUTHORS = tuple(f"writer{n:02d}" for n in range(1, 9))
TAGS = (
    "Politics Economy Culture Science Sport Health Education Technology Environment Transport"
    " Housing Agriculture Religion History Books Music Cinema Food Travel Weather Energy Water"
    " Youth Law Media Trade Tourism Architecture Heritage Ramadan Charity Markets Startups"
    " Space Football Chess Photography"
).split()

SUBJECTS = (
    "Council|Ministry|Students|Farmers|Engineers|Volunteers|Researchers|Museum|Library|Hospital"
    "|University|Football club|Market traders|Rail operator|Teachers|Doctors|Writers|Architects"
    "|Fishermen|Parliament|City hall|Charity|Mosque committee|School board|Orchestra|Startup"
    "|Port authority|Court|Union|Bakers|Pharmacists|Astronomers|Gardeners|Historians"
).split("|")
VERBS = (
    "approves|announces|opens|delays|rejects|celebrates|launches|reviews|expands|restores|plans"
    "|debates|welcomes|funds|tests|closes|unveils|questions|backs|extends|redesigns|pauses"
).split("|")
ADJECTIVES = (
    "new|historic|disputed|small|ambitious|local|annual|digital|green|temporary|free|regional"
    "|delayed|quiet|major|public|shared|winter|summer|weekly|modest|bold|second|first"
).split("|")
OBJECTS = (
    "harbour plan|budget|library wing|bridge repair|festival|bus route|water project"
    "|reading programme|solar farm|market hall|exhibition|clinic|park|tram line|scholarship"
    "|recycling scheme|archive|cycle lane|youth league|housing project|night market|orchard"
    "|observatory|ferry service|school garden|food bank|concert series|heritage trail"
).split("|")
PLACES = (
    "in the old town|near the river|across the region|downtown|on the coast|in the valley"
    "|after long talks|this week|for the new year|despite the rain|at last|for a second year"
    "|in three districts|on the east side|before the holidays"
).split("|")
REMARKS = (
    "Officials said more details would follow.|Residents were invited to a meeting on Friday."
    "|The work is expected to take several months.|Critics asked who would pay for it."
    "|Supporters called it overdue.|A spokesperson declined to give a date."
    "|The idea was first raised two years ago.|Local shops said they welcomed the news."
    "|Volunteers will be needed in the spring.|The plan still needs a final vote."
).split("|")


@dataclass(frozen=True)
class Result:
    """What a run added."""

    articles: int
    published: int
    tagged: int
    seed: int


def generate(count: int, *, tz: ZoneInfo, seed: int | None = None, years: int = 10) -> Result:
    """Add count synthetic articles published over the last `years` years up to now."""
    counts.ensure_built(db.session, tz)
    # The days go to the zone the site keeps its counts in, whatever this shell's zone.
    kept = counts.counted_zone(db.session)
    seed = secrets.randbelow(2**32) if seed is None else seed
    builder = _Builder(random.Random(seed), kept, years, count, _ensure_authors(), _ensure_tags())
    db.session.commit()
    published = tagged = done = 0
    with db.engine.connect() as connection, _bulk_writer(connection) as writer:
        appending = connection.scalar(sa.select(Article.id).limit(1)) is not None
        connection.rollback()
        # Closing the session rolls back a batch that did not finish.
        with Session(bind=connection) as session:
            while done < count:
                rows, links, days = builder.batch(writer.reserve_ids(min(BATCH_SIZE, count - done)))
                if appending:
                    _avoid_taken_slugs(session, rows)
                writer.insert(rows, links)
                counts.bump_version(session)  # the version before the counts: see _hold_counts
                zone = counts.counted_zone(session)
                if zone.key != kept.key:  # a site on another TIMEZONE rebuilt them meanwhile
                    instants = (row[_PUBLISHED] for row in rows if row[_STATUS] == "published")
                    days = counts.live_days(instants, zone)
                counts.add_days(session, days)
                session.commit()
                done += len(rows)
                published += days.total()
                tagged += len(links)
    return Result(done, published, tagged, seed)


# A tag link: article id, tag id, and the article's instant if it is live (see article_tags).
Link = tuple[int, int, datetime | None]

# Column order of the rows _Builder makes.
COLUMNS = (
    "id", "title", "slug", "summary", "body_markdown", "body_html", "status",
    "published_at", "created_at", "updated_at", "author_id", "version",
)  # fmt: skip
_SLUG, _STATUS, _PUBLISHED = (COLUMNS.index(name) for name in ("slug", "status", "published_at"))


class _Builder:
    """Rows from the word lists; a pool of ready sentences keeps a million of them fast."""

    def __init__(
        self,
        rng: random.Random,
        tz: ZoneInfo,
        years: int,
        count: int,
        authors: list[int],
        tags: list[int],
    ) -> None:
        self.rng, self.tz, self.authors, self.tags = rng, tz, authors, tags
        self.now = utcnow()
        span = int(timedelta(days=365.2425 * years).total_seconds())
        # Oldest first, so ids follow publication order as on a real site, where a day's
        # articles were written one after another and lie together in the table.
        self.ages = iter(sorted((rng.randrange(span) for _ in range(count)), reverse=True))
        self.sentences = [self._sentence() for _ in range(4096)]

    def batch(self, ids: list[int]) -> tuple[list[tuple], list[Link], Counter[date]]:
        """Return article rows in COLUMNS order, their tag links and their live local days."""
        rng = self.rng
        rows, links, days = [], [], Counter[date]()
        for article_id in ids:
            instant = self.now - timedelta(seconds=next(self.ages))
            status = "draft" if rng.random() < DRAFT_SHARE else "published"
            if status == "published":
                days[local_date(instant, self.tz)] += 1
            rows.append(self._article(article_id, instant, status))
            live_at = instant if status == "published" else None  # see article_tags
            first = rng.choice(self.tags)
            links.append((article_id, first, live_at))
            if rng.random() < SECOND_TAG_SHARE and (second := rng.choice(self.tags)) != first:
                links.append((article_id, second, live_at))
        return rows, links, days

    def _article(self, article_id: int, instant: datetime, status: str) -> tuple:
        title = self._headline()
        # The words are plain ASCII letters, so this is what content.slugify would make.
        slug = f"{title.lower().replace(' ', '-')}-{article_id}"
        picks = self.rng.choices(self.sentences, k=12)
        paragraphs = [" ".join(picks[i : i + 3]) for i in range(0, 12, 3)]
        markdown = "\n\n".join(paragraphs)
        html = "".join(f"<p>{paragraph}</p>\n" for paragraph in paragraphs)
        author_id = self.rng.choice(self.authors)
        return (
            article_id, title, slug, picks[0], markdown, html, status,
            instant, instant, instant, author_id, 1,
        )  # fmt: skip

    def _headline(self) -> str:
        r = self.rng
        words = f"{r.choice(SUBJECTS)} {r.choice(VERBS)} {r.choice(ADJECTIVES)} {r.choice(OBJECTS)}"
        return f"{words} {r.choice(PLACES)}" if r.random() < 0.6 else words

    def _sentence(self) -> str:
        r = self.rng
        if r.random() < 0.3:
            return r.choice(REMARKS)
        headline = self._headline()
        return f"{headline[0]}{headline[1:].lower()}; the {r.choice(OBJECTS)} comes next."


def _ensure_authors() -> list[int]:
    stmt = sa.select(User.username, User.id).where(User.username.in_(AUTHORS))
    existing = {name: user_id for name, user_id in db.session.execute(stmt)}
    missing = [new_author(name) for name in AUTHORS if name not in existing]
    db.session.flush()
    return sorted([*existing.values(), *(user.id for user in missing)])


def _ensure_tags() -> list[int]:
    stmt = sa.select(Tag.name, Tag.id).where(Tag.name.in_(TAGS))
    existing = {name: tag_id for name, tag_id in db.session.execute(stmt)}
    taken = set(db.session.scalars(sa.select(Tag.slug)))
    added = []
    for name in TAGS:
        if name in existing:
            continue
        slug = content.slugify(name, max_length=90)
        while slug in taken:
            slug += "-x"
        taken.add(slug)
        added.append(Tag(name=name, slug=slug))
    db.session.add_all(added)
    db.session.flush()
    return sorted([*existing.values(), *(tag.id for tag in added)])


def _avoid_taken_slugs(session: Session, rows: list[tuple]) -> None:
    """Rename the rare generated slug an older article already has."""
    pending = {row[_SLUG]: i for i, row in enumerate(rows)}
    while pending:
        names = list(pending)
        taken: set[str] = set()
        for start in range(0, len(names), 1000):
            chunk = names[start : start + 1000]
            taken.update(session.scalars(sa.select(Article.slug).where(Article.slug.in_(chunk))))
        pending = {f"{name}-x": pending[name] for name in taken}
        for name, i in pending.items():
            rows[i] = (*rows[i][:_SLUG], name, *rows[i][_SLUG + 1 :])


class _Writer:
    """Reserves ids and writes rows through a driver connection, inside the open transaction."""

    def __init__(self, connection: sa.Connection) -> None:
        self.raw: Any = connection.connection.driver_connection

    def reserve_ids(self, n: int) -> list[int]:
        raise NotImplementedError

    def insert(self, rows: list[tuple], links: list[Link]) -> None:
        raise NotImplementedError


class _SQLiteWriter(_Writer):
    def __init__(self, connection: sa.Connection) -> None:
        super().__init__(connection)
        dialect = connection.dialect
        column = Article.__table__.c.published_at
        # Stored text must match what the ORM writes, or comparisons and ordering break.
        self.to_text: Callable[[datetime], str] = column.type.dialect_impl(dialect).bind_processor(
            dialect
        )
        marks = ", ".join("?" * len(COLUMNS))
        self.insert_articles = f"INSERT INTO articles ({', '.join(COLUMNS)}) VALUES ({marks})"

    def reserve_ids(self, n: int) -> list[int]:
        # The write lock, taken before reading max(id), keeps these ids ours until commit.
        self.raw.execute("BEGIN IMMEDIATE")
        last = self.raw.execute("SELECT coalesce(max(id), 0) FROM articles").fetchone()[0]
        return list(range(last + 1, last + 1 + n))

    def insert(self, rows: list[tuple], links: list[Link]) -> None:
        to_text = self.to_text
        texts = []
        for row in rows:
            stamp = to_text(row[7])
            texts.append((*row[:7], stamp, stamp, stamp, *row[10:]))
        self.raw.executemany(self.insert_articles, texts)
        self.raw.executemany(
            "INSERT INTO article_tags (article_id, tag_id, live_at) VALUES (?, ?, ?)",
            [(article, tag, at and to_text(at)) for article, tag, at in links],
        )


class _PostgresWriter(_Writer):
    def reserve_ids(self, n: int) -> list[int]:
        # Taken from the table's own sequence, so ORM inserts running alongside never collide.
        cursor = self.raw.execute(
            "SELECT nextval(pg_get_serial_sequence('articles', 'id')) FROM generate_series(1, %s)",
            (n,),
        )
        return [row[0] for row in cursor.fetchall()]

    def insert(self, rows: list[tuple], links: list[Link]) -> None:
        with self.raw.cursor() as cursor:
            with cursor.copy(f"COPY articles ({', '.join(COLUMNS)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            with cursor.copy("COPY article_tags (article_id, tag_id, live_at) FROM STDIN") as copy:
                for link in links:
                    copy.write_row(link)


@contextmanager
def _bulk_writer(connection: sa.Connection) -> Iterator[_Writer]:
    """Yield the dialect's writer, with SQLite's load-time settings undone afterwards."""
    name = connection.dialect.name
    if name == "postgresql":
        yield _PostgresWriter(connection)
        connection.exec_driver_sql("ANALYZE articles, article_tags")
        connection.commit()
        return
    if name != "sqlite":
        raise RuntimeError(f"generate supports SQLite and PostgreSQL, not {name}")
    raw = connection.connection.driver_connection
    cache_size = raw.execute("PRAGMA cache_size").fetchone()[0]
    # Only an OS crash or power cut during the load could damage the file, not a crash of
    # this process; for a benchmark load the speed is worth it.
    raw.execute("PRAGMA synchronous=OFF")
    raw.execute("PRAGMA cache_size=-262144")
    try:
        yield _SQLiteWriter(connection)
    finally:
        raw.execute("PRAGMA synchronous=NORMAL")
        raw.execute(f"PRAGMA cache_size={int(cache_size)}")
