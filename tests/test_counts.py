"""The stored day counts stay equal to a recount through every kind of write."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

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
