"""The write side of the authoring pages: save, preview, trash, restore, purge, the desk list.

Views parse the form into an `ArticleInput` and call these functions; every rule about what a
save does (slugs, publish times, summaries, the conflict check) lives here. Unlike readers'
queries, these functions commit: a save must be able to roll its transaction back and try
again when a concurrent save takes the same slug or tag between our check and our write.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import defer, joinedload
from sqlalchemy.orm.attributes import flag_modified, set_committed_value
from sqlalchemy.orm.exc import StaleDataError

from . import articles, content, dates, publishing, site
from .extensions import db
from .models import Article, User

MAX_ATTEMPTS = 3


@dataclass(frozen=True)
class ArticleInput:
    """What the author typed, already validated: the article form as plain values."""

    title: str
    slug: str
    summary: str
    body: str
    tags: str
    status: str
    published_at: datetime | None
    version: int | None = None


class Conflict(Exception):
    """The article changed (or vanished) since the author opened the form."""

    def __init__(self, current: Article | None) -> None:
        super().__init__("the article was changed by someone else")
        self.current = current


class SaveFailed(Exception):
    """Concurrent saves kept taking the slug or tags this save wanted."""


def state_of(article: Article, now: datetime) -> str:
    """Name where an article stands: 'in trash', 'draft', 'scheduled' or 'published'."""
    if article.deleted_at is not None:
        return "in trash"
    if article.status != "published":
        return "draft"
    if article.published_at is None or article.published_at > now:
        return "scheduled"
    return "published"


def save(data: ArticleInput, author: User, now: datetime, article_id: int | None = None) -> Article:
    """Create the article (article_id None) or update it; raise Conflict or SaveFailed."""
    for attempt in range(1, MAX_ATTEMPTS + 1):
        if article_id is None:
            article = Article(author_id=author.id)
            db.session.add(article)
        else:
            found = db.session.get(Article, article_id)
            if found is None:
                raise Conflict(None)
            article = found
            # Also refuses a form that carries no version: it cannot prove it saw this one.
            if data.version != article.version:
                raise Conflict(article)
        try:
            # Inside the try: set_tags queries, and its autoflush may already write.
            _apply(article, data, now)
            db.session.commit()
        except StaleDataError:
            # Someone committed between our version check and our UPDATE.
            db.session.rollback()
            raise Conflict(_reload(article_id)) from None
        except IntegrityError as error:
            db.session.rollback()
            current_app.logger.warning("save attempt %d collided: %s", attempt, error.orig)
            continue
        return article
    raise SaveFailed


def preview(
    data: ArticleInput, author: User, now: datetime, article: Article | None = None
) -> Article:
    """Build the article as the save would store it, outside the session: nothing is written."""
    shown = Article(
        id=article.id if article else None,
        title=data.title,
        slug=data.slug or content.slugify(data.title),
        status=data.status,
        published_at=_publish_time(article, data, now),
        deleted_at=article.deleted_at if article else None,
        summary=_summary(article, data),
    )
    _set_body(shown, article, data.body)
    # Committed values fire no backref events, so the shown copy never joins the session.
    set_committed_value(shown, "author", article.author if article else author)
    # With the slugs a save would give them, so the tags link where they will.
    with db.session.no_autoflush:
        tags = publishing.find_tags(publishing.tag_names(data.tags))
    set_committed_value(shown, "tags", tags)
    return shown


def trash(article: Article, now: datetime) -> None:
    """Move an article to the trash: it leaves the site but can be restored."""
    if article.deleted_at is None:
        article.deleted_at = now
        _commit(article)


def restore(article: Article) -> None:
    """Take an article out of the trash, back to the state it had."""
    if article.deleted_at is not None:
        article.deleted_at = None
        _commit(article)


def purge(article: Article) -> None:
    """Delete an article from the trash for good; raise ValueError if it is not in the trash."""
    if article.deleted_at is None:
        raise ValueError("only an article in the trash can be deleted for good")
    db.session.delete(article)
    _commit(article)


def desk_page(
    user: User,
    per_page: int,
    *,
    in_trash: bool = False,
    before: int | None = None,
    after: int | None = None,
) -> articles.Page | None:
    """Return one newest-first page of the articles a user may edit (keyset on id).

    None means an `after` page would be the first page: show the list's start instead.
    """
    stmt = (
        sa.select(Article)
        .options(joinedload(Article.author), defer(Article.body_markdown), defer(Article.body_html))
        .where(Article.deleted_at.is_not(None) if in_trash else Article.deleted_at.is_(None))
        .limit(per_page + 1)
    )
    if not user.can_edit_all:
        stmt = stmt.where(Article.author_id == user.id)
    if after is None:
        if before is not None:
            stmt = stmt.where(Article.id < before)
        rows = list(db.session.scalars(stmt.order_by(Article.id.desc())))
        items = rows[:per_page]
        older = str(items[-1].id) if len(rows) > per_page else None
        newer = str(items[0].id) if before is not None and items else None
        return articles.Page(items, older, newer)
    rows = list(db.session.scalars(stmt.where(Article.id > after).order_by(Article.id)))
    if len(rows) <= per_page:
        return None
    items = rows[:per_page][::-1]
    return articles.Page(items, str(items[-1].id), str(items[0].id))


def _apply(article: Article, data: ArticleInput, now: datetime) -> None:
    # Both read the stored values, so they come before anything is overwritten.
    summary = _summary(article, data)
    published_at = _publish_time(article, data, now)
    article.title = data.title
    article.slug = _slug(article, data)
    article.status = data.status
    article.published_at = published_at
    article.summary = summary
    _set_body(article, article, data.body)
    publishing.set_tags(article, publishing.tag_names(data.tags))
    # A save that only changes tags touches no article column: write one anyway, so that the
    # version moves and a form opened before this save cannot silently undo it.
    article.updated_at = now
    flag_modified(article, "updated_at")


def edits_html(article: Article | None) -> bool:
    """Tell whether an article's body is edited as HTML: one imported as HTML alone.

    Its HTML read as Markdown would change on the first save, untouched or not: an
    indented paragraph became code, "2*3*4" gained emphasis, "# text" a heading.
    """
    return article is not None and not article.body_markdown and bool(article.body_html)


def _set_body(target: Article, stored: Article | None, body: str) -> None:
    if edits_html(stored):
        publishing.set_body(target, html=body)
    else:
        publishing.set_body(target, markdown=body)


def _slug(article: Article, data: ArticleInput) -> str:
    # An unchanged slug stays as it is, even one the slugger would now spell differently:
    # the article's address must not move because its form was saved.
    if data.slug and data.slug == article.slug:
        return article.slug
    if data.slug:
        # The form refused a slug longer than the column: this one is kept whole.
        return publishing.unique_slug(data.slug, article.id, publishing.MAX_SLUG)
    return publishing.unique_slug(data.title, article.id)


def _publish_time(article: Article | None, data: ArticleInput, now: datetime) -> datetime | None:
    stored = article.published_at if article is not None else None
    if data.published_at is None:
        return now if data.status == "published" else None
    # The form shows the local wall clock to the minute. When the author left it alone, the
    # stored instant stays: its seconds, and in the hour a clock turns back, which of the two
    # 01:30s it was (the form's 01:30 reads as the first).
    if stored is not None and _as_shown(stored) == _as_shown(data.published_at):
        return stored
    return data.published_at


def _as_shown(instant: datetime) -> str:
    return dates.format_local_input(instant, site.zone())


def _summary(article: Article | None, data: ArticleInput) -> str:
    # A summary that is the excerpt of the stored body was made for it, not written: make it
    # afresh from the new body rather than keep a stale one.
    if article is not None and article.body_html and data.summary:
        if data.summary == content.excerpt(article.body_html):
            return ""
    return data.summary


def _commit(article: Article) -> None:
    try:
        db.session.commit()
    except StaleDataError:
        db.session.rollback()
        raise Conflict(_reload(article.id)) from None


def _reload(article_id: int | None) -> Article | None:
    return None if article_id is None else db.session.get(Article, article_id)
