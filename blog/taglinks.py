"""Tag links keep their article's instant while it is live, for tag pages.

`article_tags.live_at` is the article's published_at while the article is published and
not in the trash, else NULL (see models.article_tags). Every ORM flush that writes an
article sets it on the article's links, in the same transaction, after the links themselves
are written; bulk loaders write it with the links, and `flask articles recount` repairs
links changed behind the site's back.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import Flask
from sqlalchemy.orm import Session

from .extensions import db
from .models import Article, UTCDateTime, article_tags, live


def init_app(app: Flask) -> None:
    """Keep tag links in step with every session flush."""
    # The listener lives on the shared session factory: add it once, however many apps.
    if not sa.event.contains(db.session, "after_flush", _after_flush):
        sa.event.listen(db.session, "after_flush", _after_flush)


_INSTANT = sa.bindparam("instant", type_=UTCDateTime)
# Only links that change: a body edit leaves the index untouched.
_SET_LIVE_AT = (
    sa.update(article_tags)
    .where(
        article_tags.c.article_id == sa.bindparam("article"),
        article_tags.c.live_at.is_distinct_from(_INSTANT),
    )
    .values(live_at=_INSTANT)
)


def _after_flush(session: Session, flush_context: object) -> None:
    """Give the tag links of every article this flush wrote its instant while it is live.

    After the flush, not before: a new article's id and its new links exist only now. (The
    session's new and dirty sets still hold what this flush wrote.)
    """
    written = [
        {"article": obj.id, "instant": obj.published_at if obj.is_live else None}
        for obj in (*session.new, *session.dirty)
        if isinstance(obj, Article) and (obj in session.new or session.is_modified(obj))
    ]
    if written:
        session.connection().execute(_SET_LIVE_AT, written)


def relink(session: Session) -> int:
    """Set every tag link's live_at from its article again; return how many were wrong.

    For repairs: every save keeps them right by itself.
    """
    instant = (
        sa.select(Article.published_at)
        .where(Article.id == article_tags.c.article_id, live())
        .scalar_subquery()
    )
    result = session.execute(
        sa.update(article_tags)
        .where(article_tags.c.live_at.is_distinct_from(instant))
        .values(live_at=instant)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount
