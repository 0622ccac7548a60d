"""Lists of real URLs per page kind, drawn from a generated database through the app's models.

Random articles and days come from the whole date range. Listing pages are the exact pages a
reader reaches by following "Older" from the home page: page p's `?before=` token is the
cursor of the last article on page p - 1. `listing-front` takes pages near the start,
`listing-deep` the same number of pages at the oldest end. Tag and search pages start at a
random article, at any depth.
"""

from __future__ import annotations

import math
import random
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import Flask, url_for

from . import SECRET_KEY, TIMEZONE, WORK

KINDS = (
    "home",
    "article",
    *("day", "month", "year"),
    *("tag", "search"),
    *("listing-front", "listing-deep"),
)


def draw(database_url: str, count: int, seed: int = 1) -> dict[str, list[str]]:
    """Return up to `count` random paths per page kind (home is only ever '/')."""
    from blog import create_app

    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": SECRET_KEY, "TIMEZONE": TIMEZONE}
    )
    rng = random.Random(seed)
    with app.test_request_context("/"):
        paths = {"home": ["/"], "article": _articles(count, rng), "tag": _tag_pages(count, rng)}
        paths["search"] = _searches(count, rng)
        paths.update(_archives(app, count, rng))
        paths.update(_listing(app, count))
        from blog.extensions import db

        db.session.remove()
        db.engine.dispose()
    return paths


def write(paths: dict[str, list[str]], prefix: str) -> dict[str, Path]:
    """Write one file of paths per kind under bench/work/urls; return the files by kind."""
    folder = WORK / "urls"
    folder.mkdir(parents=True, exist_ok=True)
    files = {}
    for kind, kind_paths in paths.items():
        files[kind] = folder / f"{prefix}-{kind}.txt"
        files[kind].write_text("\n".join(kind_paths) + "\n")
    return files


def _visible(now: datetime) -> sa.ColumnElement[bool]:
    from blog.models import Article, live

    return sa.and_(live(), Article.published_at <= now)


def _articles(count: int, rng: random.Random) -> list[str]:
    """Random visible articles: random ids over the whole id range, kept when visible."""
    from blog.models import Article

    rows = _random_visible(count, rng, sa.select(Article.id, Article.slug))
    return [url_for("article.show", article_id=id_, slug=slug) for id_, slug in rows]


def _tag_pages(count: int, rng: random.Random) -> list[str]:
    """Pages of tags at random depths: each a random visible article's tag, listed from it on.

    The page starts at the article's own cursor, as the "Older" link of the page before it
    would: any depth within any tag, over the whole date range.
    """
    from blog.articles import Cursor
    from blog.models import Article, Tag, article_tags

    older = article_tags.alias("older")
    links = (
        sa.select(Tag.slug, Article.published_at, Article.id)
        .join(article_tags, article_tags.c.article_id == Article.id)
        .join(Tag, Tag.id == article_tags.c.tag_id)
        # Not the tag's oldest article: the page after it would be empty (a 404).
        .where(
            sa.exists().where(
                older.c.tag_id == article_tags.c.tag_id,
                older.c.live_at < article_tags.c.live_at,
            )
        )
    )
    rows = _random_visible(count, rng, links)
    return [url_for("tag.show", slug=slug, before=Cursor(at, id_).token) for slug, at, id_ in rows]


def _searches(count: int, rng: random.Random) -> list[str]:
    """Searches for one or two words of a random visible article's title, from that article
    on (it first, so no page is empty): any depth of any search."""
    from blog.models import Article
    from blog.search import key, words

    rows = _random_visible(count, rng, sa.select(Article.title, Article.published_at, Article.id))
    paths = []
    for title, published_at, id_ in rows:
        chosen = rng.sample(words(title), k=min(len(words(title)), rng.choice((1, 2))))
        before = key(published_at, id_) + 1
        paths.append(url_for("search.results", q=" ".join(chosen), before=str(before)))
    return paths


def _random_visible(count: int, rng: random.Random, stmt: sa.Select[Any]) -> list[Any]:
    """Up to `count` rows of stmt (which selects from articles) for random visible articles."""
    from blog.dates import utcnow
    from blog.extensions import db
    from blog.models import Article

    visible = _visible(utcnow())
    low, high = db.session.execute(
        sa.select(sa.func.min(Article.id), sa.func.max(Article.id)).where(visible)
    ).one()
    if low is None:
        return []
    candidates = list(range(low, high + 1))
    rng.shuffle(candidates)
    found: list[Any] = []
    for start in range(0, len(candidates), 1000):
        chunk = candidates[start : start + 1000]
        found += db.session.execute(stmt.where(visible, Article.id.in_(chunk))).all()
        if len(found) >= count:
            break
    return found[:count]


def _archives(app: Flask, count: int, rng: random.Random) -> dict[str, list[str]]:
    """Random local days that have articles, and the months and years they fall in."""
    from blog.dates import local_today, site_zone, utcnow
    from blog.extensions import db
    from blog.models import DayCount

    today = local_today(site_zone(app.config["TIMEZONE"]), utcnow())
    days = list(
        db.session.scalars(sa.select(DayCount.day).where(DayCount.count > 0, DayCount.day <= today))
    )
    months = sorted({(day.year, day.month) for day in days})
    years = sorted({day.year for day in days})
    picked = rng.sample(days, min(count, len(days)))
    return {
        "day": [url_for("archive.day", year=d.year, month=d.month, day=d.day) for d in picked],
        "month": [url_for("archive.month", year=y, month=m) for y, m in months],
        "year": [url_for("archive.year", year=y) for y in years],
    }


def _listing(app: Flask, count: int) -> dict[str, list[str]]:
    """The first and the last listing pages reached by following "Older" from home."""
    from blog.articles import Cursor
    from blog.dates import utcnow
    from blog.extensions import db
    from blog.models import Article

    now = utcnow()
    per_page = app.config["PER_PAGE"]
    total = db.session.scalar(sa.select(sa.func.count()).select_from(Article).where(_visible(now)))
    pages = math.ceil((total or 0) / per_page)
    # A tenth of the pages at each end, at most `count`: deep enough to be "the end".
    span = min(count, max(1, (pages - 1) // 10)) if pages > 1 else 0
    key = sa.select(Article.published_at, Article.id).where(_visible(now))
    newest = db.session.execute(
        key.order_by(Article.published_at.desc(), Article.id.desc()).limit(span * per_page)
    ).all()
    # Page p (2..pages) starts after the article at position (p - 1) * per_page - 1, newest 0.
    front = [newest[(p - 1) * per_page - 1] for p in range(2, span + 2)]
    deep_pages = range(pages - span + 1, pages + 1)
    depth = total - (pages - span) * per_page + 1 if span else 0
    oldest = db.session.execute(key.order_by(Article.published_at, Article.id).limit(depth)).all()
    deep = [oldest[total - (p - 1) * per_page] for p in deep_pages]

    def paths(rows: list[sa.Row[tuple[datetime, int]]]) -> list[str]:
        return [url_for("home.index", before=Cursor(at, id_).token) for at, id_ in rows]

    return {"listing-front": paths(front), "listing-deep": paths(deep)}
