"""The stored day counts stay equal to a recount through every kind of write."""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Session

from blog import articles, counts, dates
from blog.extensions import db
from blog.models import Article, DayCount
from blog.site import zone


def stored() -> dict:
    rows = db.session.execute(sa.select(DayCount.day, DayCount.count).where(DayCount.count != 0))
    return {day: n for day, n in rows}


def recounted() -> dict:
    live = db.session.scalars(
        sa.select(Article.published_at).where(
            Article.status == "published", Article.deleted_at.is_(None)
        )
    )
    return dict(counts.live_days(live, zone()))


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
    first_rebuilt, second_started = threading.Event(), threading.Event()
    results: dict[str, bool] = {}
    engine = db.engine

    class SlowToCommit(Session):
        """The first worker: its rebuild is written but not yet committed when the other asks."""

        def commit(self) -> None:
            first_rebuilt.set()
            second_started.wait(5)
            time.sleep(0.5)
            super().commit()

    def worker(name: str, session_class: type[Session]) -> None:
        with session_class(engine) as session:
            results[name] = counts.ensure_zone(session, tokyo)

    first = threading.Thread(target=worker, args=("first", SlowToCommit))
    first.start()
    assert first_rebuilt.wait(5)
    second = threading.Thread(target=worker, args=("second", Session))
    second.start()
    second_started.set()
    first.join(10)
    second.join(10)
    assert results == {"first": True, "second": False}
    db.session.expire_all()
    with app.test_request_context():
        app.config["TIMEZONE"] = "Asia/Tokyo"
        assert stored() == recounted()
        assert sum(stored().values()) == 4
