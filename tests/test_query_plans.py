"""Reader listings walk an index in order and stop after a page, on both databases.

A listing that sorted its whole date range would pass every functional test and still read
a million rows per page; these tests read the database's own plan for the statements.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import psycopg.sql
import sqlalchemy as sa
from flask import Flask

from blog import articles
from blog.dates import utcnow
from blog.extensions import db
from blog.models import Article, User


def _plan(statement: sa.Select[Any], params: dict[str, Any], as_served: bool = False) -> str:
    engine = db.engine
    compiled = statement.compile(engine)
    bound = compiled.construct_params(params)
    processors = compiled._bind_processors
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            values = tuple(
                processors[key](bound[key]) if key in processors else bound[key]
                for key in compiled.positiontup or ()
            )
            rows = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}", values)
            return "\n".join(str(row[-1]) for row in rows)
        # The readers' engine uses generic plans (see engines.py): plans that know no
        # parameter values. Alternatives are made prohibitively dear, so a Sort left in the
        # plan means the index cannot give the rows in order.
        names = re.findall(r"%\((\w+)\)s", str(compiled))
        numbered = re.sub(r"%\((\w+)\)s", lambda m: f"${names.index(m[1]) + 1}", str(compiled))
        driver = connection.connection.driver_connection
        driver.execute("SET plan_cache_mode = force_generic_plan")
        if not as_served:  # else the plan the site's readers get, alternatives and all
            driver.execute("SET enable_seqscan = off")
            driver.execute("SET enable_sort = off")
        # LIMIT's parameter has no SQL type of its own.
        types = ", ".join(
            "bigint"
            if isinstance(compiled.binds[name].type, sa.types.NullType)
            else compiled.binds[name].type.compile(engine.dialect)
            for name in names
        )
        driver.execute(f"PREPARE listing ({types}) AS {numbered}")
        values = psycopg.sql.SQL(", ").join(psycopg.sql.Literal(bound[name]) for name in names)
        explain = psycopg.sql.SQL("EXPLAIN EXECUTE listing ({})").format(values)
        rows = driver.execute(explain).fetchall()
        driver.execute("DEALLOCATE listing")
        return "\n".join(str(row[0]) for row in rows)


def _page_params() -> dict[str, Any]:
    """The bounds and cursor of a listing page some way down, as articles.listing binds them."""
    now = utcnow()
    return {
        "lower": articles.EARLIEST,
        "upper": now,
        "edge_at": now - timedelta(hours=10),
        "edge_id": 10,
        "limit": 21,
    }


def test_listings_read_the_visible_index_in_order(app: Flask, make_article) -> None:
    for n in range(30):
        make_article(title=f"Piece {n}", published_at=utcnow() - timedelta(hours=n))
    with app.app_context():
        params = _page_params()
        # SQLite reads a page from the index alone; PostgreSQL from the narrower index.
        sqlite = db.engine.dialect.name == "sqlite"
        index = "COVERING INDEX ix_articles_teasers" if sqlite else "ix_articles_visible"
        for statement in (articles.NEWEST_FIRST, articles.OLDEST_FIRST):
            plan = _plan(statement.statement, params)
            assert index in plan, plan
            assert "TEMP B-TREE" not in plan and "Sort" not in plan, plan


def test_the_feed_reads_the_visible_index_in_order(app: Flask, make_article) -> None:
    for n in range(30):
        make_article(title=f"Piece {n}", published_at=utcnow() - timedelta(hours=n))
    with app.app_context():
        plan = _plan(articles._LATEST.statement, {"now": utcnow(), "limit": 20})
        # The visible index from `now` down, no sort.
        assert "ix_articles_visible" in plan, plan
        assert "TEMP B-TREE" not in plan and "Sort" not in plan, plan


def _economy(make_article) -> int:
    """Thirty articles tagged Economy, a third of them Trade too; return Economy's id."""
    from blog import publishing
    from blog.models import Tag

    for n in range(30):
        article = make_article(title=f"Piece {n}", published_at=utcnow() - timedelta(hours=n))
        publishing.set_tags(article, ["Economy"] if n % 3 else ["Economy", "Trade"])
        db.session.commit()
    if db.engine.dialect.name == "postgresql":
        # Statistics of the small table, not none: unanalysed, the planner counts every
        # index as one row and may as well walk a whole one for each link.
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
            c.exec_driver_sql("ANALYZE articles, article_tags")
    tag = db.session.scalar(sa.select(Tag.id).where(Tag.slug == "economy"))
    assert tag is not None
    return tag


def test_tag_listings_read_the_tags_live_index_in_order(app: Flask, make_article) -> None:
    with app.app_context():
        params = {**_page_params(), "tag": _economy(make_article)}
        # A page is a walk of the tag's own stretch of the index, from the cursor on, that
        # stops after a page: never all of a tag's articles read and sorted.
        # SQLite reads each article's teaser from ix_articles_teasers alone.
        sqlite = db.engine.dialect.name == "sqlite"
        for statement in (articles.TAG_NEWEST_FIRST, articles.TAG_OLDEST_FIRST):
            plan = _plan(statement.statement_for(db.engine.dialect), params)
            assert "ix_article_tags_live" in plan, plan
            assert "TEMP B-TREE" not in plan and "Sort" not in plan, plan
            if sqlite:
                assert "COVERING INDEX ix_articles_teasers (published_at=?)" in plan, plan
            else:
                assert "Index Cond: (id = article_tags.article_id)" in plan, plan


def test_a_tag_feed_reads_the_tags_live_index_in_order(app: Flask, make_article) -> None:
    with app.app_context():
        params = {"now": utcnow(), "limit": 20, "tag": _economy(make_article)}
        plan = _plan(articles._TAG_LATEST.statement, params)
        # The tag's stretch of the index from `now` down, no sort, each article by its id.
        assert "ix_article_tags_live" in plan, plan
        assert "TEMP B-TREE" not in plan and "Sort" not in plan, plan


def test_the_tags_page_takes_one_step_into_the_tags_live_index_per_tag(
    app: Flask, make_article
) -> None:
    with app.app_context():
        _economy(make_article)
        plan = _plan(articles.TOPICS.statement, {"now": utcnow()})
        # Each tag's newest link from `now` down, the first one found: never a tag's links
        # read and sorted, nor the links table read whole.
        assert "ix_article_tags_live" in plan, plan
        assert "TEMP B-TREE" not in plan and "Sort" not in plan, plan
        assert "SCAN article_tags" not in plan and "Seq Scan on article_tags" not in plan, plan


def _authors_with_articles(authors: int, count: int, apart: timedelta) -> list[int]:
    """Insert `authors` authors and `count` published articles, `apart` apart back from now,
    shared out among them in turn; return the authors' ids."""
    now = utcnow()
    db.session.execute(
        sa.insert(User),
        [
            {"username": f"writer{n}", "password_hash": "!", "role": "author"}
            for n in range(authors)
        ],
    )
    ids = db.session.scalars(sa.select(User.id).order_by(User.id)).all()
    db.session.execute(
        sa.insert(Article),
        [
            {
                "title": f"Piece {n}",
                "slug": f"piece-{n}",
                "status": "published",
                "published_at": now - apart * n,
                "author_id": ids[n % len(ids)],
            }
            for n in range(count)
        ],
    )
    return list(ids)


def test_author_pages_feeds_and_sitemap_read_the_authors_live_index_in_order(app: Flask) -> None:
    with app.app_context():
        # A site's share of authors, each with a share of its articles, and its statistics:
        # on a table of a few rows, PostgreSQL may as well walk the whole site's index. (With
        # twenty authors of 4,000 articles, it walked the site's newest for a feed's twenty.)
        now = utcnow()
        authors = _authors_with_articles(100, 4000, timedelta(hours=1))
        db.session.commit()
        if db.engine.dialect.name == "postgresql":
            db.session.execute(sa.text("ANALYZE articles"))
            db.session.commit()
        params = {**_page_params(), "author": authors[0]}
        # The author's stretch of the index from the cursor on, stopping after a page: never
        # all of the site's articles walked for theirs, nor all of theirs sorted.
        for statement in (articles.AUTHOR_NEWEST_FIRST, articles.AUTHOR_OLDEST_FIRST):
            plan = _plan(statement.statement, params)
            assert "ix_articles_author_live" in plan, plan
            assert "TEMP B-TREE" not in plan and "Sort" not in plan, plan
        # The author's feed, from `now` down; and the authors' sitemap, one step per author.
        for statement, values in (
            (articles.AUTHOR_LATEST, {"now": now, "limit": 20, "author": authors[0]}),
            (articles.WRITERS, {"now": now}),
        ):
            plan = _plan(statement.statement, values)
            assert "ix_articles_author_live" in plan, plan
            assert "TEMP B-TREE" not in plan and "Sort" not in plan, plan
            assert "SCAN articles" not in plan and "Seq Scan on articles" not in plan, plan


MILLION_STATS = {
    "ix_articles_teasers": "980003 1 1 1 1 1 1 1 1",
    "ix_articles_visible": "980003 1 1",
    "ix_articles_author": "1000000 125000 1",
    "ix_article_tags_live": "1123104 30355 1 1",
    "ix_article_tags_tag": "1146048 30975 1",
    "sqlite_autoindex_article_tags_1": "1146048 2 1",
    "sqlite_autoindex_users_1": "8 1",
}


def test_listings_keep_off_the_author_index_whatever_its_statistics(
    app: Flask, make_article, make_user
) -> None:
    # After the upgrade that made ix_articles_author_live, a database analysed before it
    # has statistics for every index but that one; SQLite's planner then took it for
    # nearly unique and read every listing through it, a tag page at a million in 1.2 s.
    with app.app_context():
        for n in range(40):
            author = make_user(f"writer{n % 2}") if n < 2 else None
            make_article(
                title=f"Piece {n}", author=author, published_at=utcnow() - timedelta(hours=n)
            )
        if db.engine.dialect.name == "sqlite":
            with db.engine.begin() as connection:
                connection.exec_driver_sql("ANALYZE")
                # A million articles' statistics, as the benchmark's database had them.
                for index, stat in MILLION_STATS.items():
                    connection.exec_driver_sql(
                        "UPDATE sqlite_stat1 SET stat = ? WHERE idx = ?", (stat, index)
                    )
                connection.exec_driver_sql(
                    "DELETE FROM sqlite_stat1 WHERE idx = 'ix_articles_author_live'"
                )
                connection.exec_driver_sql("ANALYZE sqlite_schema")  # reads them back
            db.engine.dispose()
        params = {**_page_params(), "tag": _economy(make_article), "now": utcnow(), "id": 1}
        for statement in (
            articles.NEWEST_FIRST,
            articles.OLDEST_FIRST,
            articles.TAG_NEWEST_FIRST,
            articles.TAG_OLDEST_FIRST,
            articles._LATEST,
            articles._TAG_LATEST,
        ):
            plan = _plan(statement.statement_for(db.engine.dialect), params)
            assert "ix_articles_author_live" not in plan, plan
            assert "TEMP B-TREE" not in plan and "Sort" not in plan, plan


def test_a_tag_page_as_served_reads_a_page_not_the_whole_tag(app: Flask) -> None:
    # The benchmark's 140,000 articles in small: a few authors, tags on thousands of
    # articles each, analysed. PostgreSQL's generic plan once joined the authors by hashing
    # them, which lost the index's order: every article of the tag read and sorted (149 ms).
    from blog.models import Tag, article_tags

    with app.app_context():
        _authors_with_articles(8, 8000, timedelta(minutes=1))
        db.session.execute(sa.insert(Tag), [{"name": f"T{n}", "slug": f"t{n}"} for n in range(4)])
        tags = db.session.scalars(sa.select(Tag.id).order_by(Tag.id)).all()
        ids = db.session.execute(sa.select(Article.id, Article.published_at)).all()
        db.session.execute(
            sa.insert(article_tags),
            [
                {"article_id": id_, "tag_id": tags[id_ % len(tags)], "live_at": at}
                for id_, at in ids
            ],
        )
        db.session.commit()
        if db.engine.dialect.name == "postgresql":
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
                c.exec_driver_sql("ANALYZE")
        else:
            db.session.execute(sa.text("ANALYZE"))
            db.session.commit()
        params = {**_page_params(), "tag": tags[0]}
        for statement in (articles.TAG_NEWEST_FIRST, articles.TAG_OLDEST_FIRST):
            plan = _plan(statement.statement_for(db.engine.dialect), params, as_served=True)
            assert "ix_article_tags_live" in plan, plan
            assert "TEMP B-TREE" not in plan and "Sort" not in plan, plan
