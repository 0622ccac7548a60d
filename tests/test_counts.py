"""The stored day counts stay equal to a recount through every kind of write."""

from __future__ import annotations

import threading
import time
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Session

from blog import articles, counts, dates, generate, publishing
from blog.extensions import db
from blog.models import Article, DayCount, User
from blog.site import zone

from conftest import POSTGRESQL_ONLY, at_local


def stored() -> dict:
    rows = db.session.execute(sa.select(DayCount.day, DayCount.count).where(DayCount.count != 0))
    return {day: n for day, n in rows}


def recounted(tz: ZoneInfo | None = None) -> dict:
    live = db.session.scalars(
        sa.select(Article.published_at).where(
            Article.status == "published", Article.deleted_at.is_(None)
        )
    )
    return dict(counts.live_days(live, tz or zone()))


def test_counts_follow_publish_edit_trash_and_delete(app, make_article):
    now = dates.utcnow()
    first = make_article(published_at=now - timedelta(days=3))
    second = make_article(published_at=now - timedelta(days=2))
    draft = make_article(status="draft", published_at=now - timedelta(days=1))
    assert stored() == recounted()
    assert sum(stored().values()) == 2

    second.published_at = now - timedelta(days=5)  # moved to another day
    draft.status = "published"  # published
    db.session.commit()
    assert stored() == recounted()
    assert sum(stored().values()) == 3

    first.deleted_at = now  # trashed
    db.session.commit()
    assert stored() == recounted()

    first.deleted_at = None  # restored, and moved in the same write
    first.published_at = now - timedelta(days=9)
    db.session.commit()
    assert stored() == recounted()

    db.session.delete(second)  # purged
    db.session.commit()
    assert stored() == recounted()
    assert sum(stored().values()) == 2

    draft.status = "draft"
    db.session.commit()
    assert stored() == recounted()
    assert articles.total(dates.utcnow()) == 1


def test_every_write_moves_the_content_version(app, make_article):
    before = counts.content_version(db.engine)
    article = make_article()
    after_create = counts.content_version(db.engine)
    article.title = "Changed"
    db.session.commit()
    after_edit = counts.content_version(db.engine)
    assert before < after_create < after_edit


def test_rebuild_matches_incremental_counts(app, make_article):
    now = dates.utcnow()
    for days in (1, 1, 2, 30, 400):
        make_article(published_at=now - timedelta(days=days, minutes=days))
    incremental = stored()
    counts.rebuild(db.session, zone())
    db.session.commit()
    assert stored() == incremental == recounted()


def test_scheduled_articles_are_not_counted_until_due(app, make_article):
    now = dates.utcnow()
    make_article(published_at=now - timedelta(minutes=5))
    make_article(published_at=now + timedelta(minutes=5))
    today = dates.local_today(zone(), now)
    assert articles.day_counts(today, today, zone(), now)[today] in (0, 1)
    assert articles.total(now) == 1
    assert articles.total(now + timedelta(minutes=6)) == 2


def test_workers_switching_zone_at_once_rebuild_the_counts_once(app, make_article):
    # After a restart with a new TIMEZONE every worker's first request calls ensure_zone.
    now = dates.utcnow()
    for days in (1, 2, 2, 40):
        make_article(published_at=now - timedelta(days=days, hours=5))
    counts.ensure_zone(db.session, ZoneInfo("UTC"))
    tokyo = ZoneInfo("Asia/Tokyo")
    first_rebuilt, second_read = threading.Event(), threading.Event()
    results: dict[str, bool] = {}
    engine = db.engine

    class SlowToCommit(Session):
        """The first worker: it commits its rebuild only once the other has read the zone."""

        def commit(self) -> None:
            first_rebuilt.set()
            assert second_read.wait(5)
            super().commit()

    class ReadsTheZone(Session):
        """The second worker: it has read the old zone before the first commits."""

        def get(self, *args: Any, **kwargs: Any) -> Any:
            found = super().get(*args, **kwargs)
            second_read.set()
            return found

    def worker(name: str, session_class: type[Session]) -> None:
        with session_class(engine) as session:
            results[name] = counts.ensure_zone(session, tokyo)

    first = threading.Thread(target=worker, args=("first", SlowToCommit))
    first.start()
    assert first_rebuilt.wait(5)
    second = threading.Thread(target=worker, args=("second", ReadsTheZone))
    second.start()
    first.join(10)
    second.join(10)
    assert results == {"first": True, "second": False}
    db.session.expire_all()
    with app.test_request_context():
        app.config["TIMEZONE"] = "Asia/Tokyo"
        assert stored() == recounted()
        assert sum(stored().values()) == 4


# A new TIMEZONE rolled out host by host: a host already on Kiritimati (+14) rebuilt the
# counts, and one still on Pago Pago (-11, 25 hours behind) goes on saving until restarted.
OLD_ZONE, NEW_ZONE = "Pacific/Pago_Pago", "Pacific/Kiritimati"


def test_a_host_still_on_the_old_zone_counts_in_the_zone_the_counts_are_kept_in(app, make_article):
    app.config["TIMEZONE"] = OLD_ZONE
    counts.ensure_zone(db.session, ZoneInfo(OLD_ZONE))
    moved = make_article(published_at=at_local(-6, 23, 50, OLD_ZONE))
    trashed = make_article(published_at=at_local(-4, 0, 10, OLD_ZONE))
    counts.rebuild(db.session, ZoneInfo(NEW_ZONE))
    db.session.commit()

    make_article(published_at=at_local(-2, 23, 50, OLD_ZONE))
    make_article(published_at=at_local(-2, 0, 10, OLD_ZONE))
    moved.published_at = at_local(-1, 0, 10, OLD_ZONE)
    trashed.deleted_at = dates.utcnow()
    db.session.commit()

    assert stored() == recounted(ZoneInfo(NEW_ZONE))
    assert sum(stored().values()) == 3
    # Once this host restarts on the new zone, it finds the counts already made for it.
    app.config["TIMEZONE"] = NEW_ZONE
    assert counts.ensure_zone(db.session, ZoneInfo(NEW_ZONE)) is False


def test_generate_adds_to_the_zone_another_host_rebuilt_the_counts_in(app, make_article):
    app.config["TIMEZONE"] = OLD_ZONE
    make_article(published_at=at_local(-3, 23, 50, OLD_ZONE))
    counts.rebuild(db.session, ZoneInfo(NEW_ZONE))
    db.session.commit()

    result = generate.generate(400, tz=ZoneInfo(OLD_ZONE), seed=5, years=1)

    assert counts.kept_zone(db.session) == NEW_ZONE  # a command rebuilds no one's counts
    assert stored() == recounted(ZoneInfo(NEW_ZONE))
    assert sum(stored().values()) == result.published + 1


# SQLite: generate holds the one write lock from taking a batch's ids to its commit, so a
# rebuild can only come between batches, where the next batch reads its zone anyway.
@POSTGRESQL_ONLY
def test_generate_follows_a_rebuild_another_host_makes_while_it_runs(
    app, make_article, monkeypatch
):
    app.config["TIMEZONE"] = OLD_ZONE
    make_article(published_at=at_local(-3, 23, 50, OLD_ZONE))
    counts.ensure_zone(db.session, ZoneInfo(OLD_ZONE))
    monkeypatch.setattr(generate, "BATCH_SIZE", 100)
    batch = generate._Builder.batch
    made = []

    def batch_then_rebuild(self, ids):
        made.append(len(ids))
        if len(made) == 2:  # between two batches, a host on the new zone rebuilds
            with Session(db.engine) as other:
                counts.ensure_zone(other, ZoneInfo(NEW_ZONE))
        return batch(self, ids)

    monkeypatch.setattr(generate._Builder, "batch", batch_then_rebuild)
    result = generate.generate(400, tz=ZoneInfo(OLD_ZONE), seed=5, years=1)

    assert made == [100, 100, 100, 100]
    assert counts.kept_zone(db.session) == NEW_ZONE
    assert stored() == recounted(ZoneInfo(NEW_ZONE))
    assert sum(stored().values()) == result.published + 1


def test_a_new_worker_of_a_host_still_on_the_old_zone_leaves_the_new_counts_alone(
    make_app, make_article
):
    old_host = make_app(TIMEZONE=OLD_ZONE)
    with old_host.app_context():
        make_article(published_at=at_local(-2, 23, 50, OLD_ZONE))
    old_host.test_client().get("/")  # its workers made the counts for their zone
    new_host = make_app(TIMEZONE=NEW_ZONE)  # restarted later on the new zone
    new_host.test_client().get("/")

    # gunicorn replaces one of the old host's workers: forked from the same master, with
    # the same settings, and nothing checked yet in this process.
    old_host.extensions["blog.counts_zone"] = None
    assert old_host.test_client().get("/").status_code == 200

    with new_host.app_context():
        assert counts.kept_zone(db.session) == NEW_ZONE
        assert stored() == recounted(ZoneInfo(NEW_ZONE))
    # A host started after that, on whichever zone, has the newest settings: its zone wins.
    make_app(TIMEZONE=OLD_ZONE).test_client().get("/")
    with new_host.app_context():
        assert counts.kept_zone(db.session) == OLD_ZONE
        assert stored() == recounted(ZoneInfo(OLD_ZONE))


# Zones where a local day is not 24 hours or not there at all: Apia and Kiritimati skipped a
# day, Santiago's clocks skip midnight, Lord Howe moves by half an hour; Kathmandu is +05:45.
ODD_ZONES = {
    "Pacific/Apia": [date(2011, 12, 29), date(2011, 12, 31)],
    "Pacific/Kiritimati": [date(1994, 12, 30), date(1995, 1, 1)],
    "America/Santiago": [date(2022, 9, 10), date(2022, 9, 11), date(2023, 4, 1)],
    "Australia/Lord_Howe": [date(2023, 4, 1), date(2023, 4, 2), date(2023, 10, 1)],
    "Asia/Kathmandu": [date(2024, 2, 29)],
    "Pacific/Pago_Pago": [date(2024, 12, 31)],
    # Clocks went back a whole day on 19 October 1867: the 18th came again after the 19th.
    "America/Anchorage": [date(1867, 10, 18), date(1867, 10, 19), date(1867, 10, 20)],
}


def test_rebuilt_counts_are_the_one_by_one_counts_in_every_kind_of_zone(app, make_article):
    # The rebuild counts a day at a time between the day archive's bounds; the reference
    # converts every instant. Articles sit at 00:10 and 23:50 local on odd days of odd
    # zones, at the ends of the publish range and, stored before it was checked, beyond.
    instants = {dates.PUBLISH_FROM, dates.PUBLISH_UNTIL - timedelta(microseconds=1)}
    for name, days in ODD_ZONES.items():
        tz = ZoneInfo(name)
        for day in days:
            for hour, minute in ((0, 10), (23, 50)):
                wall = datetime(day.year, day.month, day.day, hour, minute)
                instants.add(dates.local_to_utc(wall, tz))
    start = datetime(1867, 10, 18, tzinfo=UTC)
    instants.update(start + timedelta(hours=3 * n) for n in range(16))  # both 18ths in Alaska
    for instant in sorted(instants):
        make_article(published_at=instant)
    make_article(published_at=datetime(1, 1, 1, tzinfo=UTC))
    make_article(published_at=datetime(9999, 12, 31, 23, 59, tzinfo=UTC))
    make_article(status="draft", published_at=dates.PUBLISH_FROM)
    make_article(published_at=dates.PUBLISH_FROM, deleted_at=dates.utcnow())
    live = list(
        db.session.scalars(
            sa.select(Article.published_at).where(
                Article.status == "published", Article.deleted_at.is_(None)
            )
        )
    )
    assert len(live) == len(instants) + 2
    for name in [*ODD_ZONES, "UTC", "Asia/Riyadh"]:
        tz = ZoneInfo(name)
        by_day = counts.days_by_index(db.session, tz)
        assert +by_day == counts.live_days(live, tz), name
        counts.rebuild(db.session, tz)
        db.session.commit()
        assert stored() == dict(counts.live_days(live, tz)), name


@POSTGRESQL_ONLY
def test_a_rebuild_and_a_writer_that_bumped_the_version_first_both_finish(app, make_user):
    # A writer's first flush may touch site_state alone (a new user bumps the version) and
    # its next one day_counts. A rebuild that locked day_counts and then waited for
    # site_state deadlocked with it: PostgreSQL aborted one of the two.
    author = make_user("reporter")
    counts.ensure_zone(db.session, ZoneInfo("UTC"))
    done: dict[str, object] = {}
    engine = db.engine

    def rebuild() -> None:
        with Session(engine) as session:
            try:
                counts.rebuild(session, ZoneInfo("Asia/Tokyo"))
                session.commit()
                done["rebuild"] = "committed"
            except sa.exc.DBAPIError as error:
                done["rebuild"] = error

    # The test's own session is the writer: the counts' flush hooks live on it.
    db.session.add(User(username="newcomer", role="author", password_hash="-"))
    db.session.flush()  # the version is bumped: this transaction holds site_state
    thread = threading.Thread(target=rebuild)
    thread.start()
    try:
        assert _a_backend_waits_for_a_lock(), "the rebuild never waited for the writer"
        article = Article(
            author_id=author.id,
            title="Written during a rebuild",
            slug="written-during-a-rebuild",
            status="published",
            published_at=dates.utcnow() - timedelta(hours=1),
        )
        publishing.set_body(article, markdown="Body.")
        db.session.add(article)
        db.session.commit()
    finally:
        db.session.rollback()
    thread.join(10)
    assert done == {"rebuild": "committed"}
    db.session.expire_all()
    with app.test_request_context():
        app.config["TIMEZONE"] = "Asia/Tokyo"
        assert stored() == recounted() and sum(stored().values()) == 1


def _a_backend_waits_for_a_lock(seconds: float = 10) -> bool:
    """Watch pg_stat_activity until another connection waits for a lock (or time is up)."""
    query = sa.text(
        "SELECT count(*) FROM pg_stat_activity "
        "WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )
    deadline = time.monotonic() + seconds
    with db.engine.connect() as connection:
        while time.monotonic() < deadline:
            if connection.execute(query).scalar():
                return True
            connection.rollback()
            time.sleep(0.01)  # a poll of what the server reports, not a wait for an outcome
    return False
