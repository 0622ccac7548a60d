"""Database models: users, sign-ins, articles, tags, Hijri month starts, derived counts."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from .dates import UTC, as_utc, utcnow
from .extensions import db

ROLES = ("admin", "editor", "author")
STATUSES = ("draft", "published")
# Ids are 32-bit INTEGER columns on PostgreSQL: a larger number can name no row, and
# binding one would make PostgreSQL refuse the query instead of finding nothing.
MAX_ID = 2**31 - 1
# Published and not in the trash: the predicate of the partial index ix_articles_visible.
LIVE_SQL = "status = 'published' AND deleted_at IS NULL"


class UTCDateTime(sa.types.TypeDecorator[datetime]):
    """An aware-UTC timestamp; naive values are refused so no local time is ever stored."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        value = as_utc(value)
        # SQLite keeps text; a fixed naive-UTC form keeps comparisons and ordering right.
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

    def bind_processor(self, dialect: sa.Dialect) -> Any:
        if dialect.name != "sqlite":
            return super().bind_processor(dialect)

        # The naive-UTC text result_processor reads, written in one step: SQLAlchemy's own
        # formatting of each field cost about 1.6 times as much, and a listing binds three.
        def process(value: datetime | None) -> str | None:
            if value is None:
                return None
            return as_utc(value).replace(tzinfo=None).isoformat(" ", "microseconds")

        return process

    def result_processor(self, dialect: sa.Dialect, coltype: object) -> Any:
        if dialect.name != "sqlite":
            return super().result_processor(dialect, coltype)

        # SQLite's text is naive UTC ("2026-03-26 06:51:00.000000"): read as UTC in one step,
        # a fifth of the cost of parsing it and then setting its zone. Every teaser has one.
        def process(value: str | None) -> datetime | None:
            return None if value is None else datetime.fromisoformat(f"{value}+00:00")

        return process


article_tags = sa.Table(
    "article_tags",
    db.metadata,
    sa.Column("article_id", sa.ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("tag_id", sa.ForeignKey("tags.id", ondelete="CASCADE"), primary_key=True),
    # The article's published_at while it is live (published, not in the trash), else NULL.
    # Kept in step by taglinks.py on every flush: a tag's page then walks ix_article_tags_live
    # from its cursor and stops after a page, as the home page walks ix_articles_visible,
    # instead of reading every article of a tag to sort them.
    sa.Column("live_at", UTCDateTime, nullable=True),
    sa.Index("ix_article_tags_tag", "tag_id", "article_id"),
    sa.Index(
        "ix_article_tags_live",
        "tag_id",
        "live_at",
        "article_id",
        sqlite_where=sa.text("live_at IS NOT NULL"),
        postgresql_where=sa.text("live_at IS NOT NULL"),
    ),
)


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(sa.String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    role: Mapped[str] = mapped_column(sa.String(16), default="author")
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    articles: Mapped[list[Article]] = relationship(back_populates="author")

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return self.active

    @property
    def can_edit_all(self) -> bool:
        return self.role in ("admin", "editor")

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    def set_password(self, password: str) -> None:
        """Store a salted hash of the password."""
        self.password_hash = generate_password_hash(password)

    def check_password(self, password: str) -> bool:
        """Tell whether the password matches the stored hash."""
        return check_password_hash(self.password_hash, password)

    def may_edit(self, article: Article) -> bool:
        """Tell whether this user may change the article."""
        return self.can_edit_all or article.author_id == self.id


class SignIn(db.Model):
    """One signed-in browser. Its session holds a random token; the row keeps its digest.

    Signing out deletes the row, so a copy of the session cookie then signs no one in; a
    password change or reset and deactivation delete the user's other rows (accounts.py).
    """

    __tablename__ = "sign_ins"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_digest: Mapped[str] = mapped_column(sa.String(64), unique=True)
    # Of the password hash it was made under: with any other password it signs no one in.
    password_digest: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Tag(db.Model):
    __tablename__ = "tags"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(80), unique=True)
    slug: Mapped[str] = mapped_column(sa.String(100), unique=True)


class Article(db.Model):
    __tablename__ = "articles"
    __table_args__ = (
        # Serves every public listing, the day archives and the scheduled-article look-ups:
        # only live articles, walked in (published_at, id) order or by a range of instants.
        # Queries must spell the predicate as literals (live() below) to use it.
        sa.Index(
            "ix_articles_visible",
            "published_at",
            "id",
            sqlite_where=sa.text(LIVE_SQL),
            postgresql_where=sa.text(LIVE_SQL),
        ),
        # SQLite only: every column a teaser and the listing filter read, so a listing page
        # is read from the index alone, not from twenty rows spread over the table. (A
        # PostgreSQL index row is capped at about 2.7 kB; a long summary would not fit.)
        sa.Index(
            "ix_articles_teasers",
            *("published_at", "id", "title", "slug", "summary", "author_id"),
            *("status", "deleted_at"),
            sqlite_where=sa.text(LIVE_SQL),
            info={"dialect": "sqlite"},  # migrations/env.py: autogenerate skips it elsewhere
        ).ddl_if(dialect="sqlite"),
        sa.Index("ix_articles_author", "author_id", "id"),
        # An author's page: their live articles walked in (published_at, id) order.
        sa.Index(
            "ix_articles_author_live",
            *("author_id", "published_at", "id"),
            sqlite_where=sa.text(LIVE_SQL),
            postgresql_where=sa.text(LIVE_SQL),
        ),
        # The trash is small: partial indexes keep /admin/trash from scanning every article.
        *(
            sa.Index(
                name,
                *columns,
                sqlite_where=sa.text("deleted_at IS NOT NULL"),
                postgresql_where=sa.text("deleted_at IS NOT NULL"),
            )
            for name, columns in (
                ("ix_articles_trash", ("id",)),
                ("ix_articles_author_trash", ("author_id", "id")),
            )
        ),
        # SQLite would otherwise give a purged newest article's id to the next one written,
        # and its old links with it (migration 0005).
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(sa.String(300))
    slug: Mapped[str] = mapped_column(sa.String(200), unique=True)
    summary: Mapped[str] = mapped_column(sa.Text, default="")
    body_markdown: Mapped[str] = mapped_column(sa.Text, default="")
    body_html: Mapped[str] = mapped_column(sa.Text, default="")
    # active_history: counts.py needs the old values of these three to move day counts.
    status: Mapped[str] = mapped_column(sa.String(16), default="draft", active_history=True)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime, active_history=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, active_history=True)
    author_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    external_id: Mapped[str | None] = mapped_column(sa.String(200), unique=True)
    version: Mapped[int] = mapped_column(default=1)

    author: Mapped[User] = relationship(back_populates="articles")
    tags: Mapped[list[Tag]] = relationship(secondary=article_tags, order_by=Tag.name)

    __mapper_args__ = {"version_id_col": version}

    @property
    def is_live(self) -> bool:
        """Published and not in the trash (it may still be scheduled)."""
        return self.status == "published" and self.deleted_at is None

    def is_visible(self, now: datetime) -> bool:
        """Tell whether an anonymous reader may see it at this instant."""
        return self.is_live and self.published_at is not None and self.published_at <= now

    @property
    def author_name(self) -> str:
        return self.author.username

    @property
    def tag_links(self) -> list[tuple[str, str]]:
        """Each tag's name and slug, in the order article pages list them."""
        return sorted(((tag.name, tag.slug) for tag in self.tags), key=tag_order)


def tag_order(tag: tuple[str, str]) -> tuple[str, str]:
    """Return the sort key of a tag's (name, slug): alphabetical, case aside, on any database."""
    return tag[0].casefold(), tag[0]


def live() -> sa.ColumnElement[bool]:
    """Published and not in the trash, written as ix_articles_visible's predicate.

    A literal, not a bound parameter: a prepared statement's generic plan (psycopg prepares
    after a few runs) may use a partial index only when the query shows its predicate.
    """
    return sa.and_(Article.status == sa.literal_column("'published'"), Article.deleted_at.is_(None))


class HijriMonthStart(db.Model):
    """A local moon-sighting decision: Hijri month `month` of `year` starts on `starts_on`."""

    __tablename__ = "hijri_month_starts"
    __table_args__ = (sa.UniqueConstraint("year", "month", name="uq_hijri_month_starts_month"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int]
    month: Mapped[int]
    starts_on: Mapped[date] = mapped_column(sa.Date)
    note: Mapped[str] = mapped_column(sa.Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class DayCount(db.Model):
    """Live articles per site-local day, kept in step with every write (see counts.py)."""

    __tablename__ = "day_counts"

    day: Mapped[date] = mapped_column(sa.Date, primary_key=True)
    count: Mapped[int] = mapped_column(default=0)


class SiteState(db.Model):
    """Small named values shared by every process: the content version, the counts' zone."""

    __tablename__ = "site_state"

    key: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    number: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    text: Mapped[str] = mapped_column(sa.String(100), default="")
