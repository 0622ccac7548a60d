"""Articles in and out as JSON Lines, one article per line (SPEC section 9).

Import goes through the ORM, so counts.py keeps the day counts exact, and commits every
BATCH_SIZE lines. A line is the whole state of an article: fields left out take their
defaults (status published, no tags, summary from the body, the importing author).
A line whose external_id belongs to an article in the trash updates it there; it stays trashed.
Text is read as the web forms read it: control characters are dropped, and an empty body or
one whose HTML nests deeper than content.MAX_NESTING is refused.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote_plus
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import url_for
from sqlalchemy.orm import joinedload, selectinload

from . import accounts, content, counts, publishing
from .dates import PUBLISH_RANGE, as_utc, is_publishable, iso_exact
from .extensions import db
from .models import STATUSES, Article, User

BATCH_SIZE = 500
DEFAULT_AUTHOR = "import"
MAX_TITLE = 300
MAX_EXTERNAL_ID = 200
# The most an article's text may take in the article form, sent URL-encoded as browsers
# send it: what the form takes in all (MAX_CONTENT_LENGTH's default), less room for its
# other fields, so that an imported article can be saved from the form again.
MAX_FORM_BYTES = 2 * 1024 * 1024 - 16 * 1024
DATE_EXAMPLE = "2016-03-26T09:51:00+03:00"


@dataclass(frozen=True)
class Record:
    """One valid import line."""

    external_id: str | None
    title: str
    body_markdown: str | None
    body_html: str | None
    published_at: datetime | None
    author: str
    status: str
    tags: list[str]
    slug: str | None
    summary: str | None
    # The last change, kept through an export and an import into an empty site (None: the
    # import's time).
    updated_at: datetime | None = None


@dataclass
class Summary:
    """What an import did."""

    created: int = 0
    updated: int = 0
    skipped: int = 0


class ImportStopped(Exception):
    """The database refused a line; the lines after the last commit were rolled back."""

    def __init__(self, line: int, committed_through: int, reason: str) -> None:
        super().__init__(
            f"line {line}: the database refused it ({reason}); lines {committed_through + 1} "
            f"to {line} were rolled back and nothing after them was imported"
        )


def unusable_password_hash() -> str:
    """Return a password hash no password matches (Werkzeug rejects its format)."""
    return "!" + secrets.token_hex(16)


def new_author(username: str) -> User:
    """Add an author who cannot sign in until someone sets a password."""
    user = User(username=username, role="author", password_hash=unusable_password_hash())
    db.session.add(user)
    return user


def parse_line(text: str, default_author: str = DEFAULT_AUTHOR) -> Record:
    """Read one JSON line into a Record; raise ValueError saying what is wrong."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise ValueError(f"not valid JSON ({error.msg} at column {error.colno})") from None
    except RecursionError:
        raise ValueError("not valid JSON (nested too deeply)") from None
    if not isinstance(data, dict):
        raise ValueError("not a JSON object")
    for key, value in data.items():
        # JSON may escape half a character ("\ud800"), which no database can store.
        if any(_LONE_SURROGATE.search(text) for text in _strings(value)):
            raise ValueError(f"{key} holds a lone surrogate (such as \\ud800), not a character")
    # PostgreSQL refuses NUL in text; the forms drop it and other controls, and so does import.
    data = {key: _strings_without_controls(value) for key, value in data.items()}
    texts = [text for key in _TEXTS for text in _strings(data.get(key))]
    size = _form_bytes(texts)
    if size > MAX_FORM_BYTES:
        raise ValueError(
            f"the article's text would take {size / 1_048_576:.1f} MiB in the article form,"
            " which takes 2 MiB (sent URL-encoded, an Arabic letter takes 6 bytes); shorten it"
        )
    status = _optional_str(data, "status") or "published"
    if status not in STATUSES:
        raise ValueError(f"status must be one of {', '.join(STATUSES)}, not {status!r}")
    title = (_optional_str(data, "title") or "").strip()
    if not title:
        raise ValueError("missing title")
    if content.shows_nothing(title):
        raise ValueError("the title shows nothing: only invisible characters")
    if len(title) > MAX_TITLE:
        raise ValueError(f"title is longer than {MAX_TITLE} characters")
    markdown, html = _optional_str(data, "body_markdown"), _optional_str(data, "body_html")
    if markdown is None and html is None:
        raise ValueError("no body: give body_markdown or body_html")
    if not (markdown or "").strip() and not (html or "").strip():
        raise ValueError("empty body: give body_markdown or body_html some text")
    if html is not None and not (markdown or "").strip():
        markdown = None  # an empty Markdown source beside HTML is an HTML article
    # As the article form: cleaning a body costs the square of how deep its HTML nests.
    depth = (
        content.markdown_nesting(markdown)
        if markdown is not None
        else content.nesting_depth(html or "")
    )
    reason = content.too_deep(depth) or content.too_many_elements(markdown=markdown, html=html)
    if reason:
        raise ValueError(reason)
    slug = _optional_str(data, "slug") or None
    if slug is not None and publishing.slug_length(slug) > publishing.MAX_SLUG:
        raise ValueError(f"slug is longer than {publishing.MAX_SLUG} characters")
    published_at = _instant(data.get("published_at"))
    if published_at is None and status != "draft":
        raise ValueError(
            f"missing published_at (required unless status is draft), e.g. {DATE_EXAMPLE}"
        )
    return Record(
        external_id=_external_id(data.get("external_id")),
        title=title,
        body_markdown=markdown,
        body_html=None if markdown is not None else html,
        published_at=published_at,
        author=_username(_optional_str(data, "author") or default_author),
        status=status,
        tags=_tags(data.get("tags")),
        slug=slug,
        summary=_optional_str(data, "summary"),
        updated_at=_instant(data.get("updated_at"), "updated_at"),
    )


@dataclass(frozen=True)
class _Line:
    """A line read ahead of its batch's transaction: parsed and rendered, or refused."""

    number: int
    record: Record | None = None
    body: tuple[str, str] = ("", "")
    refusal: str = ""


def import_lines(
    lines: Iterable[bytes],
    report: Callable[[int, str], None],
    *,
    tz: ZoneInfo,
    default_author: str = DEFAULT_AUTHOR,
) -> Summary:
    """Import JSON lines; report(line_number, message) for each skipped line."""
    counts.ensure_built(db.session, tz)
    summary, authors = Summary(), _Authors()
    batch: list[_Line] = []
    committed_through = 0
    for number, raw in enumerate(lines, start=1):
        batch.append(_read(number, raw, default_author))
        if len(batch) >= BATCH_SIZE:
            committed_through = _write(batch, authors, summary, report, committed_through)
            batch = []
    _write(batch, authors, summary, report, committed_through)
    return summary


def _read(number: int, raw: bytes, default_author: str) -> _Line:
    try:
        text = raw.decode("utf-8-sig" if number == 1 else "utf-8")
    except UnicodeDecodeError:
        return _Line(number, refusal="not UTF-8 text")
    if not text.strip():
        return _Line(number)
    try:
        record = parse_line(text, default_author)
    except ValueError as error:
        return _Line(number, refusal=str(error))
    # Rendered before the batch's transaction opens: rendering is most of an import's
    # time, and saves on the site wait for the write lock (SQLite) or the version row
    # (PostgreSQL) while a batch is written. Rendered inside it, a batch held them for
    # seconds; on SQLite some saves outwaited the busy timeout and failed.
    body = publishing.render_body(markdown=record.body_markdown, html=record.body_html)
    return _Line(number, record, body)


def _write(
    batch: list[_Line],
    authors: _Authors,
    summary: Summary,
    report: Callable[[int, str], None],
    committed_through: int,
) -> int:
    """Save a batch of lines in one transaction; return the last line committed.

    Refused lines are reported here, in order: a line the database refuses stops the
    import, and the lines read after it are neither imported nor reported.
    """
    for line in batch:
        if line.refusal:
            report(line.number, line.refusal)
            summary.skipped += 1
        if line.record is None:
            continue
        try:
            created = _save(line.record, line.body, authors)
        except (sa.exc.IntegrityError, sa.exc.DataError) as error:
            db.session.rollback()
            raise ImportStopped(line.number, committed_through, str(error.orig)) from error
        if created:
            summary.created += 1
        else:
            summary.updated += 1
    db.session.commit()
    return batch[-1].number if batch else committed_through


def export_lines(tz: ZoneInfo, external: bool = False) -> Iterator[str]:
    """Yield every article not in the trash as a JSON line; needs a request context.

    external: give each article's url with the request's scheme and host, not its path alone.
    """
    stmt = (
        sa.select(Article)
        .where(Article.deleted_at.is_(None))
        .order_by(Article.id)
        .options(joinedload(Article.author), selectinload(Article.tags))
        .execution_options(yield_per=500)
    )
    for article in db.session.scalars(stmt):
        yield json.dumps(export_record(article, tz, external), ensure_ascii=False) + "\n"


def export_record(article: Article, tz: ZoneInfo, external: bool = False) -> dict[str, Any]:
    """Return the export form of an article: the import fields plus id and url."""
    url = url_for("article.show", article_id=article.id, slug=article.slug, _external=external)
    published = article.published_at
    record: dict[str, Any] = {
        "id": article.id,
        "url": url,
        "external_id": article.external_id,
        "title": article.title,
        "slug": article.slug,
        "author": article.author.username,
        "status": article.status,
        "published_at": None if published is None else iso_exact(published, tz),
        "updated_at": iso_exact(article.updated_at, tz),
        "tags": [tag.name for tag in article.tags],
        "summary": article.summary,
    }
    # One body field, as import takes it: the Markdown source when there is one.
    if article.body_markdown:
        record["body_markdown"] = article.body_markdown
    else:
        record["body_html"] = article.body_html
    return record


class _Authors:
    """User ids by name, creating unknown authors, one look-up per name per import.

    A name that differs from a user's only in case is that user: a second account would
    look the same in bylines.
    """

    def __init__(self) -> None:
        self._ids: dict[str, int] = {}

    def id_of(self, username: str) -> int:
        if username not in self._ids:
            user = db.session.scalar(sa.select(User).where(User.username == username))
            if user is None and (existing := accounts.same_name(username)) is not None:
                user = db.session.scalar(sa.select(User).where(User.username == existing))
            if user is None:
                user = new_author(username)
                db.session.flush()
            self._ids[username] = user.id
        return self._ids[username]


def _save(record: Record, body: tuple[str, str], authors: _Authors) -> bool:
    """Create or update the article of a record; return True when created."""
    author_id = authors.id_of(record.author)
    # Everything before this line is flushed; one flush at the end writes this one.
    with db.session.no_autoflush:
        article = None
        if record.external_id is not None:
            stmt = sa.select(Article).where(Article.external_id == record.external_id)
            article = db.session.scalar(stmt)
        created = article is None
        if article is None:
            article = Article(external_id=record.external_id)
        article.title = record.title
        article.status = record.status
        article.published_at = record.published_at
        article.author_id = author_id
        # An empty summary is filled from the new body by store_body.
        article.summary = record.summary or ""
        publishing.store_body(article, body)
        article.slug = _slug(record, article)
        publishing.set_tags(article, record.tags)
        if created:
            if record.updated_at is not None:
                # Kept from the site it came from. Not on an update: that is a change now,
                # which feeds and sitemaps must tell.
                article.updated_at = record.updated_at
            db.session.add(article)
    # Flushing each article lets the slug checks of the next lines see it.
    db.session.flush()
    return created


def _slug(record: Record, article: Article) -> str:
    if record.slug:
        wanted = content.slugify(record.slug, max_length=publishing.MAX_SLUG)
        stmt = sa.select(Article.id).where(Article.slug == wanted)
        if article.id is not None:
            stmt = stmt.where(Article.id != article.id)
        if db.session.scalar(stmt.limit(1)) is None:
            return wanted
    elif article.slug:
        return article.slug  # an update without a slug keeps the article's URL
    return publishing.unique_slug(record.title, article.id)


_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
_TEXTS = ("title", "summary", "body_markdown", "body_html")


def _form_bytes(texts: list[str]) -> int:
    """How many bytes texts take sent by a browser's form, URL-encoded with lines ended by
    CRLF; 0 when they surely fit (counted only when they may not)."""
    # Each byte takes 3 at most, a line break (CRLF) 6: most lines need no encoding.
    if 3 * sum(len(text.encode()) + text.count("\n") for text in texts) <= MAX_FORM_BYTES:
        return 0
    return sum(len(quote_plus(text.replace("\n", "\r\n"))) for text in texts)


def _strings(value: object) -> list[str]:
    """The strings a value of a line is or holds (a list's, as tags are)."""
    items = value if isinstance(value, list) else [value]
    return [item for item in items if isinstance(item, str)]


def _strings_without_controls(value: object) -> object:
    """Drop control characters from a string or a list's strings, as the web forms do."""
    if isinstance(value, list):
        return [content.without_controls(item) for item in value]
    return content.without_controls(value)


def _optional_str(data: dict[str, Any], key: str) -> str | None:
    value = data.get(key)
    if value is not None and not isinstance(value, str):
        raise ValueError(f"{key} must be a string")
    return value


def _external_id(value: object) -> str | None:
    if value is None:
        return None
    # Other systems often number their articles; 12 and "12" are the same article.
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value.strip():
        raise ValueError("external_id must be a non-empty string")
    if len(value) > MAX_EXTERNAL_ID:
        raise ValueError(f"external_id is longer than {MAX_EXTERNAL_ID} characters")
    return value


def _instant(value: object, key: str = "published_at") -> datetime | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ValueError(f"{key} must be a string such as {DATE_EXAMPLE}")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{key} {value!r} is not an ISO 8601 date and time") from None
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise ValueError(
            f"{key} {value!r} has no UTC offset; write it with one, e.g. {DATE_EXAMPLE}"
        )
    if not is_publishable(parsed):
        raise ValueError(f"{key} {value!r} is out of range: {PUBLISH_RANGE}")
    return as_utc(parsed)


def _username(name: str) -> str:
    # The rule every way of making a user applies: an author import creates must be one
    # the admin form would have taken.
    name = name.strip()
    try:
        accounts.check_username(name)
    except ValueError as error:
        raise ValueError(f"author {name!r} is not a user name the site takes: {error}") from None
    return name


def _tags(value: object) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(tag, str) for tag in value):
        raise ValueError("tags must be a list of strings")
    return publishing.tag_names(",".join(value))
