"""Derived counts kept in step with every write: live articles per local day, content version.

A listing's day strip, archives and total read `day_counts` (a few hundred small rows at most)
instead of counting the articles table. Every ORM flush that touches an article moves its
contribution from its old local day to its new one, in the same transaction, so the counts
are exact the moment the write commits. Days are those of the zone the counts were last
rebuilt for (`counted_zone`), whatever the writing process's own TIMEZONE: while a new zone
is rolled out host by host, the old hosts' saves still land on the right days. Bulk loaders
call `add_days` themselves.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import Flask, current_app
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from . import engines
from .dates import PUBLISH_FROM, PUBLISH_UNTIL, day_bounds, local_date, site_zone
from .extensions import db
from .models import Article, DayCount, HijriMonthStart, SiteState, Tag, User, UTCDateTime, live

CONTENT_VERSION = "content_version"
_BUMPED = "blog.version_bumped"
COUNTS_ZONE = "counts_zone"


def init_app(app: Flask) -> None:
    """Keep counts and the content version in step with every session flush."""
    # The listener lives on the shared session factory: add it once, however many apps.
    if not sa.event.contains(db.session, "before_flush", _before_flush):
        sa.event.listen(db.session, "before_flush", _before_flush)
        for event in ("after_commit", "after_soft_rollback"):
            sa.event.listen(db.session, event, _transaction_over)


def add_days(session: Session, deltas: Mapping[date, int]) -> None:
    """Add the given per-day changes to day_counts (upsert, any order of arrival)."""
    rows = [{"day": day, "count": n} for day, n in sorted(deltas.items()) if n]
    if not rows:
        return
    table = DayCount.__table__
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    stmt = insert(table)
    stmt = stmt.on_conflict_do_update(
        index_elements=[table.c.day], set_={"count": table.c.count + stmt.excluded.count}
    )
    session.execute(stmt, rows)


def bump_version(session: Session) -> None:
    """Mark every cached page stale, in every process, when this transaction commits.

    The new version is the time in microseconds, or one more than the last where that is
    not more: versions only grow, and never come round again, not even after the database
    is restored from a backup made before some of them. Counted up from the restored one
    instead, the next write took a number pages of the lost content were cached under, and
    every host, nginx and browser went on being served those pages, ETags and all.
    """
    table = SiteState.__table__
    now = sa.bindparam("now", microseconds(), type_=sa.BigInteger)
    following = table.c.number + 1
    result = session.execute(
        sa.update(table)
        .where(table.c.key == CONTENT_VERSION)
        .values(number=sa.case((following > now, following), else_=now))
    )
    if result.rowcount == 0:
        session.execute(sa.insert(table).values(key=CONTENT_VERSION, number=now, text=""))


def microseconds() -> int:
    """Return the time as whole microseconds since 1970."""
    return time.time_ns() // 1000


_VERSION_SQL = f"SELECT number FROM site_state WHERE key = '{CONTENT_VERSION}'"


def version_column() -> sa.Label[int]:
    """Return the content version as a column, for a page's statement to read with its rows.

    One statement reads both from one snapshot, so the version names exactly what the rows
    show, and a page made afresh needs no read of the version of its own.
    """
    table = SiteState.__table__
    key = sa.literal_column(f"'{CONTENT_VERSION}'")
    number = sa.select(table.c.number).where(table.c.key == key).scalar_subquery()
    return sa.func.coalesce(number, 0).label("version")


# Prepared once on each readers' connection (the name is outside psycopg's own "_pg3_").
_VERSION_STATEMENT = b"blog_content_version"


def content_version(engine: sa.Engine) -> int:
    """Return the number that changes whenever anything shown to readers changes.

    Pass the readers' engine (engines.reader()): on PostgreSQL its connections read outside
    a transaction.
    """
    # Read on every page view, cached or not: a bare pooled DBAPI connection is several
    # times cheaper than a Core or ORM statement, and the SQL has no parameters to adapt.
    connection = engine.raw_connection()
    try:
        if engine.dialect.driver == "psycopg":
            # One libpq call: psycopg's cursor costs more than the trip. Parsing and
            # planning the statement cost the server as much as the trip: it is prepared.
            result = engines.run_prepared(
                connection.driver_connection, connection.info, _VERSION_STATEMENT, _VERSION_SQL
            )
            value = result.get_value(0, 0) if result.ntuples else None
            return int(value) if value is not None else 0
        cursor = connection.cursor()
        cursor.execute(_VERSION_SQL)
        row = cursor.fetchone()
        cursor.close()
    finally:
        connection.close()
    return int(row[0]) if row else 0


def live_days(instants: Iterable[datetime | None], tz: ZoneInfo) -> Counter[date]:
    """Count instants by their local day."""
    return Counter(local_date(instant, tz) for instant in instants if instant is not None)


# Longer than any local day whose date runs on without coming back (26 h: a double
# summer time's end); a longer one holds some of another date's instants.
LONGEST_DAY = timedelta(hours=26)


def days_by_index(session: Session, tz: ZoneInfo) -> Counter[date]:
    """Count live articles by local day in tz, as live_days would, a day at a time.

    Each day with articles costs one statement on ix_articles_visible: its count between
    the day archive's own bounds, and the first instant after it. A million articles over
    ten years are 3,650 statements, not a million rows made into datetimes and converted.
    Instants outside the publish range (rows stored before it was checked) are few and are
    counted one by one, as their local day may lie outside the calendar; so is every instant
    in a zone where a local date once came back after the next had begun.
    """
    instant = Article.published_at
    found: Counter[date] = Counter()
    for outside in (instant < PUBLISH_FROM, instant >= PUBLISH_UNTIL):
        found.update(live_days(session.scalars(sa.select(instant).where(live(), outside)), tz))
    start, end = sa.bindparam("start", type_=UTCDateTime), sa.bindparam("end", type_=UTCDateTime)
    counted = sa.select(sa.func.count()).where(live(), instant >= start, instant < end)
    after = sa.select(sa.func.min(instant)).where(live(), instant >= end, instant < PUBLISH_UNTIL)
    step = sa.select(counted.scalar_subquery(), after.scalar_subquery())
    following = session.scalar(after, {"end": PUBLISH_FROM})
    while following is not None:
        day = local_date(following, tz)
        bounds = day_bounds(day, tz)
        if not bounds[0] <= following < bounds[1] or bounds[1] - bounds[0] > LONGEST_DAY:
            # A local date that came twice (Alaska turned its clocks back a whole day in
            # 1867): no one range of instants is that day, so count every instant instead.
            every = sa.select(instant).where(live()).execution_options(yield_per=10_000)
            return live_days(session.scalars(every), tz)
        bounds = max(bounds[0], PUBLISH_FROM), min(bounds[1], PUBLISH_UNTIL)
        n, following = session.execute(step, {"start": bounds[0], "end": bounds[1]}).one()
        found[day] += n
    return found


def rebuild(session: Session, tz: ZoneInfo) -> int:
    """Recount every live article by local day in zone tz; return the number of days."""
    _hold_counts(session)
    counts = days_by_index(session, tz)
    session.execute(sa.delete(DayCount))
    add_days(session, counts)
    # The zone, and when it was set (microseconds): see ensure_zone. A recount in the zone
    # they were kept in sets no zone: stamped anew, it kept a site started since on a new
    # TIMEZONE from ever rebuilding them for it.
    state = session.get(SiteState, COUNTS_ZONE)
    if state is None:
        session.add(SiteState(key=COUNTS_ZONE, number=microseconds(), text=tz.key))
    elif state.text != tz.key:
        state.text, state.number = tz.key, microseconds()
    bump_version(session)
    return len(counts)


def ensure_zone(session: Session, tz: ZoneInfo, started: int | None = None) -> bool:
    """Rebuild the counts if they were made for another zone; return True if rebuilt.

    `started`, when given, is when the calling process's settings were read: counts that
    another process rebuilt after that are left as they are, as that process has the newer
    settings. Mid-way through rolling out a new TIMEZONE, a worker that an old host starts
    (gunicorn replaces workers now and then) then leaves the new zone's counts alone,
    instead of taking them back to the old zone until a new host's worker takes them again.
    """
    if not _should_rebuild(session, tz, started):
        return False
    # Every worker's first request after TIMEZONE changed gets here at once. Unheld, two
    # rebuilds on PostgreSQL both wrote their counts (the second added to the first's: a
    # doubled total), and a save landing during a rebuild's read was lost from the counts.
    _hold_counts(session)
    if not _should_rebuild(session, tz, started):  # another process did while we waited
        session.commit()
        return False
    rebuild(session, tz)
    session.commit()
    return True


def _should_rebuild(session: Session, tz: ZoneInfo, started: int | None) -> bool:
    state = _zone_state(session)
    if state is None:
        return True
    return state.text != tz.key and (started is None or state.number < started)


def kept_zone(session: Session) -> str | None:
    """Return the zone the counts were last built for (None: never built)."""
    state = _zone_state(session)
    return None if state is None else state.text


def _zone_state(session: Session) -> SiteState | None:
    """The counts' zone (text) and when it was set (number, microseconds), read afresh."""
    return session.get(SiteState, COUNTS_ZONE, populate_existing=True)


def ensure_built(session: Session, tz: ZoneInfo) -> None:
    """Build the counts in zone tz if they were never built; leave counts of any zone be.

    For commands: one run from a shell without the site's TIMEZONE (UTC by default) would
    otherwise rebuild the counts every running worker reads for its own zone, and no worker
    would notice. What a command writes goes to the kept zone's days (`counted_zone`).
    """
    if kept_zone(session) is None:
        ensure_zone(session, tz)


def _hold_counts(session: Session) -> None:
    """Keep every other writer of day_counts waiting until this transaction ends.

    What this transaction reads afterwards is what was committed before: no save can land
    between a recount's read of the articles and its writing of the counts.
    """
    if session.get_bind().dialect.name == "postgresql":
        # site_state first, in the order every writer takes them (the version, then the
        # counts): a writer holding the version while it waits for day_counts would
        # otherwise deadlock with a rebuild holding day_counts. Readers are not held.
        session.execute(sa.text("LOCK TABLE site_state, day_counts IN EXCLUSIVE MODE"))
    else:
        # SQLite: any write statement takes the database's one write lock.
        session.execute(sa.delete(DayCount).where(sa.false()))


def _counted(article: Article, history: bool) -> datetime | None:
    """The instant an article counts at (its state before this flush when history)."""
    state = sa.inspect(article)

    def value(name: str) -> object:
        attr = state.attrs[name]
        # The three columns that decide the count keep their old value (active_history).
        if history and attr.history.deleted:
            return attr.history.deleted[0]
        return attr.value

    if value("status") != "published" or value("deleted_at") is not None:
        return None
    published_at = value("published_at")
    return published_at if isinstance(published_at, datetime) else None


def counted_zone(session: Session) -> ZoneInfo:
    """Return the zone day_counts are kept in: the last rebuild's, else the site's own.

    Call it once this transaction has bumped the version: a rebuild under way has then
    committed (it holds site_state until it does; SQLite has one writer), and this reads
    its zone. A process still on an old TIMEZONE (a host not yet restarted with the new
    one) then adds to the days the counts are kept in, not to its own.
    """
    # A plain read, not kept_zone's: its session.get refreshes the row's object, which in a
    # flush would drop a change to it not yet written (a rebuild's new zone).
    kept = session.scalar(sa.select(SiteState.text).where(SiteState.key == COUNTS_ZONE))
    return site_zone(kept or current_app.config["TIMEZONE"])


# Anything else readers see on a page: a change to one makes every cached page stale.
SHOWN = (HijriMonthStart, Tag, User)


def _before_flush(session: Session, flush_context: object, instances: object) -> None:
    moves: list[tuple[datetime | None, datetime | None]] = []  # counted before, and after
    touched = False
    for obj in session.new:
        if isinstance(obj, Article):
            touched = True
            moves.append((None, _counted(obj, history=False)))
        touched = touched or isinstance(obj, SHOWN)
    for obj in session.dirty:
        if isinstance(obj, Article) and session.is_modified(obj):
            touched = True
            moves.append((_counted(obj, history=True), _counted(obj, history=False)))
        touched = touched or isinstance(obj, SHOWN)
    for obj in session.deleted:
        if isinstance(obj, Article):
            touched = True
            moves.append((_counted(obj, history=True), None))
        touched = touched or isinstance(obj, SHOWN)
    # One bump per transaction is enough: nobody sees the new version before the commit.
    # The version first: every writer takes site_state before day_counts, as a rebuild
    # does (_hold_counts), so a writer and a rebuild never hold one each.
    if touched and not session.info.get(_BUMPED):
        bump_version(session)
        session.info[_BUMPED] = True
    moves = [(old, new) for old, new in moves if old != new]
    if moves:
        tz = counted_zone(session)
        deltas: Counter[date] = Counter()
        for old, new in moves:
            if old is not None:
                deltas[local_date(old, tz)] -= 1
            if new is not None:
                deltas[local_date(new, tz)] += 1
        add_days(session, deltas)


def _transaction_over(session: Session, *transaction: object) -> None:
    session.info.pop(_BUMPED, None)
