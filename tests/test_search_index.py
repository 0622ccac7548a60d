"""The search index (migrations 0009 and 0010) follows every write, keys articles as
search.key does, is read in key order at scale, and comes and goes with its migrations.

Every check here reads what a reader would get (what a search returns) or what the database
holds (the index's rows, its words, the plan of the statement a search runs).
"""

from __future__ import annotations

import importlib.util
import json
import random
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from flask_migrate import downgrade, upgrade
from test_admin_articles import edit_form, form
from test_auth import sign_in

from blog import content, create_app, dates, engines, search
from blog.dates import utcnow
from blog.extensions import db
from blog.models import Article, User

from conftest import (
    BACKENDS,
    POSTGRESQL_ONLY,
    base_config,
    own_pg_database,
    retitle_behind_the_apps_back,
)

ID_BITS = 2**31


def _migration_0010() -> Any:
    path = Path(search.__file__).parent / "migrations/versions/0010_search_words.py"
    spec = importlib.util.spec_from_file_location("migration_0010", path)
    assert spec is not None and spec.loader is not None
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    return migration


MIGRATION_0010 = _migration_0010()
# As migration 0010 splits text for PostgreSQL's parser.
SPLIT = str.maketrans(MIGRATION_0010.SEPARATORS, " " * len(MIGRATION_0010.SEPARATORS))
# As migration 0009 cuts a summary and a body before indexing them.
TEXT_INDEXED = 100_000
# Every match of a search on one page, so a test sees them all.
ALL = 10_000


# --- reading the index -------------------------------------------------------------------------


def on_sqlite() -> bool:
    return db.engine.dialect.name == "sqlite"


def results(*words: str, now: datetime | None = None) -> list[Any]:
    """The teasers a search for `words` gives at `now`, newest first: every match."""
    page = search.search(list(words), now or utcnow(), ALL)
    assert page is not None
    return page.items


def found(*words: str, now: datetime | None = None) -> list[str]:
    """The titles a search for `words` gives at `now`, newest first."""
    return [item.title for item in results(*words, now=now)]


def index_keys() -> list[int]:
    """The keys the index holds, in order."""
    column = "rowid" if on_sqlite() else "key"
    with db.engine.connect() as connection:
        return sorted(connection.exec_driver_sql(f"SELECT {column} FROM article_search").scalars())


def live_rows() -> list[Any]:
    """Every live article (published, not in the trash, due or not) as the database has it."""
    stmt = sa.select(
        Article.id,
        Article.title,
        Article.summary,
        Article.body_markdown,
        Article.body_html,
        Article.published_at,
    ).where(
        Article.status == "published",
        Article.deleted_at.is_(None),
        Article.published_at.is_not(None),
    )
    with db.engine.connect() as connection:
        return list(connection.execute(stmt))


def indexed_body(row: Any) -> str:
    """What the index holds of a body: its Markdown source, else its HTML, cut."""
    return (row.body_markdown or row.body_html)[:TEXT_INDEXED]


def assert_index_holds_exactly_the_live_articles() -> None:
    """Check the index holds each live article under search.key, with its current words only.

    A word left behind is only seen by a search once it is searched for; this reads all the
    index holds instead. On SQLite the contentless table keeps no text to compare, so its
    tokens (term, key, column, position) are compared with those of a table built afresh
    from the articles, and FTS5's own integrity-check is run. On PostgreSQL each key's
    words are compared with the words of its article's text.
    """
    live = {search.key(row.published_at, row.id): row for row in live_rows()}
    assert index_keys() == sorted(live)
    if on_sqlite():
        _assert_sqlite_tokens(live)
    else:
        _assert_postgresql_words(live)


def _assert_sqlite_tokens(live: dict[int, Any]) -> None:
    with db.engine.connect() as connection:
        run = connection.exec_driver_sql
        # The index's own definition (columns, tokenizer), for a table of the same words.
        made = run("SELECT sql FROM sqlite_master WHERE name = 'article_search'").scalar_one()
        run(made.replace("TABLE article_search", "TABLE temp.rebuilt", 1))
        try:
            if live:
                run(
                    "INSERT INTO temp.rebuilt (rowid, title, summary, body) VALUES (?, ?, ?, ?)",
                    [
                        (
                            key,
                            *map(
                                content.without_optional_marks,
                                (row.title, row.summary[:TEXT_INDEXED], indexed_body(row)),
                            ),
                        )
                        for key, row in live.items()
                    ],
                )
            run("CREATE VIRTUAL TABLE temp.held USING fts5vocab(main, article_search, instance)")
            run("CREATE VIRTUAL TABLE temp.wanted USING fts5vocab(temp, rebuilt, instance)")
            tokens = "SELECT term, doc, col, offset FROM temp.{}"
            held = set(run(tokens.format("held")).all())
            wanted = set(run(tokens.format("wanted")).all())
            # A 'delete' given other values than the row was indexed with leaves the old
            # tokens under the key (and integrity-check does not see it on a contentless
            # table): they show here.
            left_behind, missing = sorted(held - wanted), sorted(wanted - held)
            assert (left_behind[:20], missing[:20]) == ([], [])
            # Raises when FTS5 finds its index damaged.
            run("INSERT INTO article_search (article_search, rank) VALUES ('integrity-check', 1)")
        finally:
            # Committed: a rollback would undo the drops, on a connection the pool keeps.
            for name in ("held", "wanted", "rebuilt"):
                run(f"DROP TABLE IF EXISTS temp.{name}")
            connection.commit()


def _assert_postgresql_words(live: dict[int, Any]) -> None:
    keys = list(live)
    texts = [
        content.without_optional_marks(
            f"{row.title} {row.summary[:TEXT_INDEXED]} {indexed_body(row)}"
        ).translate(SPLIT)
        for row in live.values()
    ]
    with db.engine.connect() as connection:
        held = dict(connection.exec_driver_sql("SELECT key, words::text FROM article_search").all())
        wanted = dict(
            connection.execute(
                sa.text(
                    "SELECT k, strip(to_tsvector('simple', t))::text"
                    " FROM unnest(CAST(:keys AS bigint[]), CAST(:texts AS text[])) AS u(k, t)"
                ),
                {"keys": keys, "texts": texts},
            ).all()
        )
    assert held == wanted


# --- writing through the site --------------------------------------------------------------------


def minute_text(instant: datetime) -> str:
    """An instant as the article form takes it (the test site's zone is UTC)."""
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M")


def an_hour_ago() -> datetime:
    return utcnow().replace(second=0) - timedelta(hours=1)


@pytest.fixture
def editor(client: FlaskClient, make_user: Callable[..., User]) -> FlaskClient:
    """The test client, signed in as an editor (who may also delete for good)."""
    make_user("editor", role="editor")
    assert sign_in(client, "editor").status_code == 303
    return client


def write_new(client: FlaskClient, **fields: Any) -> int:
    """Save a new article through the form (published an hour ago unless told); its id."""
    fields.setdefault("published_at", minute_text(an_hour_ago()))
    response = client.post("/admin/articles/new", data=form(**fields))
    assert response.status_code == 303, response.get_data(as_text=True)
    article_id = db.session.scalar(sa.select(Article.id).where(Article.title == fields["title"]))
    assert article_id is not None
    return article_id


def write_edit(client: FlaskClient, article_id: int, **changes: str) -> None:
    """Save the article's edit form with some fields changed, the rest as the form shows them."""
    values = {**edit_form(client, article_id), **changes, "save": "Save"}
    response = client.post(f"/admin/articles/{article_id}/edit", data=values)
    assert response.status_code == 303, response.get_data(as_text=True)


def search_page(client: FlaskClient, query: str) -> str:
    return client.get("/search", query_string={"q": query}).get_data(as_text=True)


def cli_import(runner: FlaskCliRunner, *records: dict[str, Any]) -> Any:
    text = "".join(json.dumps(record) + "\n" for record in records)
    return runner.invoke(args=["articles", "import", "-"], input=text.encode())


# --- 1. the index follows every kind of write ---------------------------------------------------


def test_an_article_published_through_the_form_is_found_by_the_words_of_its_title_summary_and_body(
    editor: FlaskClient,
) -> None:
    write_new(
        editor,
        title="Harbour lights return",
        summary="Fishermen gather at dusk",
        body="The *lanterns* glow until dawn.",
    )
    for word in ("harbour", "Fishermen", "LANTERNS", "dawn"):
        assert "Harbour lights return" in search_page(editor, word), word
    # Every word asked for, wherever each one is.
    assert found("lights", "gather", "glow") == ["Harbour lights return"]
    assert "No articles hold all of these words." in search_page(editor, "lanterns regatta")
    assert_index_holds_exactly_the_live_articles()


def test_a_draft_is_not_found_until_it_is_published(editor: FlaskClient) -> None:
    article_id = write_new(
        editor, title="Budget talks", body="Councillors disagree.", status="draft"
    )
    assert found("councillors") == []
    assert index_keys() == []
    write_edit(editor, article_id, status="published")
    assert found("councillors") == ["Budget talks"]
    assert_index_holds_exactly_the_live_articles()


def test_an_edit_that_keeps_the_publish_minute_replaces_every_old_word_with_the_new(
    editor: FlaskClient, app: Flask
) -> None:
    article_id = write_new(
        editor, title="Ferry timetable", summary="Winter sailings", body="Boats leave hourly."
    )
    write_new(editor, title="Other story", summary="Winter market", body="Stalls open early.")
    keys = index_keys()
    write_edit(
        editor,
        article_id,
        title="Tram timetable",
        summary="Summer services",
        body="Trams leave nightly.",
    )
    # The same minute, so the same key: on SQLite the old words must go by FTS5's 'delete'
    # with exactly the old values before the new ones come in under the same rowid.
    assert index_keys() == keys
    for old in ("ferry", "sailings", "boats", "hourly"):
        assert found(old) == [], old
    assert found("winter") == ["Other story"]
    for new in ("tram", "summer", "trams", "nightly", "timetable"):
        assert found(new) == ["Tram timetable"], new
    assert_index_holds_exactly_the_live_articles()
    # SQL by hand, outside the app, is followed too.
    retitle_behind_the_apps_back(app, article_id, "Bus timetable")
    assert found("tram") == []
    assert found("bus", "nightly") == ["Bus timetable"]
    assert_index_holds_exactly_the_live_articles()


def test_words_are_indexed_without_arabic_optional_marks_and_edits_of_marks_alone_take_out_the_old(
    editor: FlaskClient,
) -> None:
    article_id = write_new(
        editor, title="وصل محمّد", summary="خبرٌ سعيدٌ", body="جاء *أيضاً* إلى المَكْتَبَة"
    )
    for word in ("محمد", "خبر", "سعيد", "أيضا", "المكتبة"):
        assert found(word) == ["وصل محمّد"], word
    assert_index_holds_exactly_the_live_articles()
    # Marks moved, and a tatweel in: the same words, held once each, under the same key.
    write_edit(editor, article_id, title="وصل مُحمَّد", summary="خبر سـعـيـد", body="جاء أيضا")
    assert found("محمد", "سعيد") == ["وصل مُحمَّد"]
    assert found("المكتبة") == []
    assert_index_holds_exactly_the_live_articles()


def test_only_the_start_of_a_long_body_is_indexed_and_an_edit_takes_out_exactly_that(
    make_article: Callable[..., Article],
) -> None:
    # Every word its own, so a cut anywhere else leaves words of its own behind (FTS5
    # deletes a word from an article whole, wherever else it occurs).
    body = " ".join(["Opening", *(f"word{n}" for n in range(TEXT_INDEXED // 8)), "Closing"])
    assert len(body) > TEXT_INDEXED
    article = make_article(title="Long read", summary="A long one.", body=body)
    assert found("opening") == ["Long read"]
    assert found("closing") == []  # past the cut
    # The 'delete' must cut the old body as the insert did, or its tokens stay behind.
    article.title = "Longer read"
    article.body_markdown = body.replace("Opening", "Beginning").replace("word", "term")
    db.session.commit()
    assert found("opening") == []
    assert found("beginning", "longer") == ["Longer read"]
    assert_index_holds_exactly_the_live_articles()
    # And so must the 'delete' of a live row deleted for good.
    make_article(title="Short read", body="Beginning and end.")
    db.session.delete(article)
    db.session.commit()
    assert found("beginning") == ["Short read"]
    assert_index_holds_exactly_the_live_articles()


def test_an_article_moved_into_the_future_is_found_only_once_it_is_due_and_again_when_moved_back(
    editor: FlaskClient,
) -> None:
    article_id = write_new(editor, title="Eclipse tonight", body="Astronomers wait.")
    due = utcnow().replace(second=0) + timedelta(days=1)
    write_edit(editor, article_id, published_at=minute_text(due))
    assert found("eclipse") == []
    assert "Eclipse tonight" not in search_page(editor, "eclipse")
    assert found("eclipse", now=due - timedelta(seconds=1)) == []
    assert found("eclipse", now=due) == ["Eclipse tonight"]
    assert_index_holds_exactly_the_live_articles()  # under its new minute's key
    write_edit(editor, article_id, published_at=minute_text(an_hour_ago()))
    assert found("eclipse") == ["Eclipse tonight"]
    assert "Eclipse tonight" in search_page(editor, "eclipse")
    assert_index_holds_exactly_the_live_articles()


def test_an_article_in_the_trash_is_not_found_and_is_found_again_once_restored(
    editor: FlaskClient,
) -> None:
    article_id = write_new(editor, title="Orchard harvest", body="Apples everywhere.")
    assert editor.post(f"/admin/articles/{article_id}/delete").status_code == 303
    assert found("apples") == []
    assert index_keys() == []
    assert editor.post(f"/admin/articles/{article_id}/restore").status_code == 303
    assert found("apples") == ["Orchard harvest"]
    assert_index_holds_exactly_the_live_articles()


def test_an_article_deleted_for_good_leaves_the_index_and_only_it(
    editor: FlaskClient, app: Flask
) -> None:
    purged = write_new(editor, title="Museum opens", body="Paintings on show.")
    by_hand = write_new(editor, title="Museum closes", body="Paintings packed away.")
    write_new(editor, title="Museum moves", body="Paintings travel.")
    # From the trash, as the site deletes for good.
    assert editor.post(f"/admin/articles/{purged}/delete").status_code == 303
    assert editor.post(f"/admin/articles/{purged}/purge").status_code == 303
    # A live row deleted by hand: the delete trigger itself.
    with db.engine.begin() as connection:
        connection.execute(sa.delete(Article.__table__).where(Article.id == by_hand))
    assert found("paintings") == ["Museum moves"]
    assert_index_holds_exactly_the_live_articles()


def test_an_article_imported_with_an_html_body_is_found_by_the_words_of_its_html(
    runner: FlaskCliRunner,
) -> None:
    record = {
        "external_id": "wire-1",
        "title": "Wire story",
        "body_html": "<p>The <em>regatta</em> sails at <strong>dawn</strong>.</p>",
        "published_at": "2016-03-26T09:51:00+03:00",
    }
    draft = {**record, "external_id": "wire-2", "title": "Held story", "status": "draft"}
    result = cli_import(runner, record, draft)
    assert result.exit_code == 0, result.output
    assert found("regatta", "dawn") == ["Wire story"]
    # The import updates the same article: its new words in, its old ones out.
    changed = {**record, "body_html": "<p>The <em>rowing</em> race starts at noon.</p>"}
    assert cli_import(runner, changed).exit_code == 0
    assert found("regatta") == []
    assert found("rowing", "noon") == ["Wire story"]
    assert_index_holds_exactly_the_live_articles()


def test_an_article_with_a_summary_of_a_megabyte_of_words_can_still_be_imported(
    runner: FlaskCliRunner,
) -> None:
    # Import takes a summary of any length (only the form's request size bounds it there).
    summary = " ".join(f"w{n:07d}" for n in range(100_000))
    record = {
        "title": "Census tables",
        "summary": summary,
        "body_markdown": "Every district counted.",
        "published_at": "2016-03-26T09:51:00+03:00",
    }
    result = cli_import(runner, record)
    assert result.exit_code == 0, result.output
    assert found("census") == ["Census tables"]


def test_generated_articles_are_found_as_their_words_say(runner: FlaskCliRunner) -> None:
    # The bulk path: executemany on SQLite, COPY on PostgreSQL.
    result = runner.invoke(args=["articles", "generate", "--count", "200", "--seed", "11"])
    assert result.exit_code == 0, result.output
    assert_index_holds_exactly_the_live_articles()
    rows = live_rows()
    now = utcnow()
    assert len(rows) < 200  # some drafts, which the index leaves out

    def holding(word: str) -> list[int]:
        """The visible articles with `word` among their words, as a search orders them."""
        hits = [
            row
            for row in rows
            if row.published_at <= now
            and word
            in re.findall(
                r"\w+", f"{row.title} {row.summary[:TEXT_INDEXED]} {indexed_body(row)}".lower()
            )
        ]
        hits.sort(key=lambda row: (row.published_at.replace(second=0, microsecond=0), row.id))
        return [row.id for row in reversed(hits)]

    for word in ("harbour", "budget", "observatory", "officials", "approves"):
        expected = holding(word)
        assert expected, word
        assert [item.id for item in results(word, now=now)] == expected, word


# --- 2. the key ------------------------------------------------------------------------------


def instants() -> list[datetime]:
    """Publish times at a minute's edges, with microseconds, in several years, and at the
    ends of what the site lets an article be published at."""
    times = [
        datetime(year, month, day, *clock, tzinfo=UTC)
        for year, month, day in ((1924, 8, 1), (1970, 1, 1), (2077, 11, 16))
        for clock in ((0, 0, 0), (0, 0, 59), (23, 59, 59), (12, 34, 56, 789012), (6, 7, 59, 999000))
    ]
    assert dates.is_publishable(dates.PUBLISH_FROM)
    last = dates.PUBLISH_UNTIL - timedelta(seconds=1)
    assert dates.is_publishable(last) and not dates.is_publishable(dates.PUBLISH_UNTIL)
    ends = [dates.PUBLISH_FROM, dates.PUBLISH_FROM + timedelta(seconds=59), last]
    assert (ends[0].year, ends[-1].year) == (dates.FIRST_YEAR, dates.LAST_YEAR)
    return times + ends


def insert_by_id(author: User, placed: dict[int, datetime]) -> None:
    """Insert live articles with the given ids, published at the given instants."""
    db.session.execute(
        sa.insert(Article),
        [
            {
                "id": article_id,
                "title": f"Piece {article_id}",
                "slug": f"piece-{article_id}",
                "status": "published",
                "published_at": instant,
                "author_id": author.id,
            }
            for article_id, instant in placed.items()
        ],
    )
    db.session.commit()


def stored_keys() -> dict[int, int]:
    """The index's keys by the id they give back."""
    return {key & (ID_BITS - 1): key for key in index_keys()}


def with_ids_at_both_ends(times: list[datetime]) -> dict[int, datetime]:
    """Each instant twice: under a small id (from 1) and a large one (from 2**31 - 1 down)."""
    placed = {1 + n: instant for n, instant in enumerate(times)}
    placed.update({ID_BITS - 1 - n: instant for n, instant in enumerate(times)})
    return placed


def test_the_key_search_computes_is_the_key_the_database_stores(
    app: Flask, make_user: Callable[..., User]
) -> None:
    placed = with_ids_at_both_ends(instants())
    insert_by_id(make_user("writer"), placed)
    # Read back by the id its low bits give, each key is the one search.key makes.
    assert stored_keys() == {i: search.key(instant, i) for i, instant in placed.items()}


def test_ordering_by_key_is_ordering_by_publish_minute_then_id(
    app: Flask, make_user: Callable[..., User]
) -> None:
    noon = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
    placed = with_ids_at_both_ends(instants())
    # In one minute the smaller id comes first, whichever second it was published at; the
    # next minute after them all.
    placed.update({20: noon + timedelta(seconds=50), 21: noon + timedelta(seconds=10)})
    placed.update({22: noon + timedelta(minutes=1), 23: noon - timedelta(seconds=1)})
    insert_by_id(make_user("writer"), placed)
    by_key = [key & (ID_BITS - 1) for key in index_keys()]
    minute = timedelta(minutes=1)
    by_minute_then_id = sorted(
        placed, key=lambda i: ((placed[i] - dates.PUBLISH_FROM) // minute, i)
    )
    assert by_key == by_minute_then_id
    assert by_key.index(23) < by_key.index(20) < by_key.index(21) < by_key.index(22)


def test_an_article_published_in_the_last_half_millisecond_of_a_minute_is_keyed_by_that_minute(
    runner: FlaskCliRunner, make_article: Callable[..., Article]
) -> None:
    noon = an_hour_ago()
    make_article(title="Noon bulletin", body="Tides rising.", published_at=noon)
    # Import keeps microseconds; the instant is in the minute before noon's.
    late = noon - timedelta(microseconds=100)
    last = dates.PUBLISH_UNTIL - timedelta(microseconds=1)  # the last instant the site allows
    records = [
        {"title": title, "body_markdown": "Tides rising.", "published_at": instant.isoformat()}
        for title, instant in (("Late bulletin", late), ("Last bulletin", last))
    ]
    assert cli_import(runner, *records).exit_code == 0
    # Newest first: noon's bulletin, then the one a moment before noon (whatever their ids).
    assert found("tides") == ["Noon bulletin", "Late bulletin"]
    assert stored_keys() == {row.id: search.key(row.published_at, row.id) for row in live_rows()}


# --- 3. plans at scale -------------------------------------------------------------------------

COMMON, RARE = "harbour", "zeppelin"


def build_corpus(author: User, count: int, *, seed: int = 3) -> datetime:
    """Insert `count` live articles of natural-looking words, one a minute back from now:
    COMMON in nine of ten, RARE in five; gather the statistics. Return now."""
    rng = random.Random(seed)
    letters = "abcdefghijklmnopqrstuvwxyz"
    vocabulary = ["".join(rng.choices(letters, k=rng.randint(3, 9))) for _ in range(3000)]
    # Word frequencies fall off as in a language (Zipf), not all alike.
    weights = [1 / rank for rank in range(1, len(vocabulary) + 1)]
    now = utcnow()
    rare_at = {count * n // 5 + 7 for n in range(5)}
    rows = []
    for n in range(count):
        words = rng.choices(vocabulary, weights, k=40)
        words += [COMMON] if n % 10 else []
        words += [RARE] if n in rare_at else []
        rng.shuffle(words)
        body = " ".join(words)
        rows.append(
            {
                "title": f"Story {n}",
                "slug": f"story-{n}",
                "summary": " ".join(words[:10]),
                "body_markdown": body,
                "body_html": f"<p>{body}</p>",
                "status": "published",
                "published_at": now - timedelta(minutes=n),
                "author_id": author.id,
            }
        )
    db.session.execute(sa.insert(Article), rows)
    db.session.commit()
    vacuum()
    return now


def vacuum() -> None:
    """Leave PostgreSQL's tables as autovacuum would: statistics gathered, the words index's
    pending entries merged into it.

    ANALYZE alone leaves the rows written since the last vacuum in the words index's
    pending list (GIN fastupdate), which the planner prices as read whole at every look-up:
    straight after these inserts it then read the rare word's whole key range through
    article_search_pkey instead at 2,000 to 10,000 articles (at 20,000 it took the words
    index). Vacuumed, its choice held from 2,000 to 20,000.
    """
    if on_sqlite():
        return
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        for table in ("article_search", "articles"):
            connection.exec_driver_sql(f"VACUUM ANALYZE {table}")


@contextmanager
def statements_sent() -> Iterator[list[tuple[str, Any]]]:
    """Catch the statements (and their values) sent to the database meanwhile."""
    sent: list[tuple[str, Any]] = []

    def listen(conn: Any, cursor: Any, statement: str, parameters: Any, *args: Any) -> None:
        sent.append((statement, parameters))

    sa.event.listen(db.engine, "before_cursor_execute", listen)
    try:
        yield sent
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", listen)


def search_plans(words: list[str], now: datetime, *, analyze: bool = False) -> list[str]:
    """The plans of the SELECTs a search for `words` runs, in order.

    The search's own statements are caught on their way to the database with the values
    they were sent with, and run again in one transaction on a connection of the same
    engine, each SELECT under EXPLAIN (ANALYZE: as run, with the rows each step gave): its
    SET LOCALs apply to what follows them, as in the search. Not a generic plan as
    test_query_plans reads: on PostgreSQL the plan depends on the words.
    """
    with statements_sent() as sent:
        search.search(words, now, 20)
    plans = []
    with db.engine.connect() as connection:
        for statement, values in sent:
            if not statement.lstrip().startswith("SELECT"):
                connection.exec_driver_sql(statement, values)
                continue
            # search.py's statement for this database, newest first.
            assert re.search(r"ORDER BY s\.(rowid|key) DESC", statement), statement
            if on_sqlite():
                rows = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", values)
                plans.append("\n".join(str(row[-1]) for row in rows))
            else:
                explain = "EXPLAIN (ANALYZE)" if analyze else "EXPLAIN"
                rows = connection.exec_driver_sql(f"{explain} {statement}", values)
                plans.append("\n".join(str(row[0]) for row in rows))
    assert plans
    return plans


WALK = "Index Scan Backward using article_search_pkey"
LOOK_UP = "Bitmap Index Scan on ix_article_search_words"


def test_a_search_reads_a_common_word_down_the_keys_and_a_rare_one_from_the_words_index(
    app: Flask, make_user: Callable[..., User]
) -> None:
    # A few thousand articles: vacuumed (see vacuum), the plans below held from 2,000 to
    # 20,000 articles of this corpus.
    now = build_corpus(make_user("writer"), 5000)
    assert len(results(COMMON, now=now)) == 4500
    assert found(RARE, now=now) == [f"Story {n}" for n in (7, 1007, 2007, 3007, 4007)]
    common, rare = search_plans([COMMON], now), search_plans([RARE], now)
    if on_sqlite():
        # FTS5 takes the words, the key range and the order: it is read first, in rowid
        # order, each article then by its id, and nothing is sorted, for any word.
        for plan in common + rare:
            assert plan.startswith("SCAN s VIRTUAL TABLE INDEX"), plan
            assert "SEARCH a USING INTEGER PRIMARY KEY" in plan, plan
            assert "TEMP B-TREE" not in plan, plan
        return
    # A word in most articles: the keys walked down, each one's words checked, stopping
    # after a page; never all 4,500 matches found and sorted.
    for plan in common:
        assert WALK in plan, plan
        assert "Sort" not in plan and "ix_article_search_words" not in plan, plan
    # A word in five: its page comes from the words index, then the five are sorted.
    assert LOOK_UP in rare[-1], rare[-1]
    assert WALK not in rare[-1] and "Seq Scan" not in rare[-1], rare[-1]


@POSTGRESQL_ONLY
def test_a_search_for_a_rare_word_reads_a_few_keys_of_a_large_site_not_all(
    runner: FlaskCliRunner, make_article: Callable[..., Article]
) -> None:
    # The benchmark's own corpus, 20,000 articles: from about 15,000 the planner, taking
    # any word outside its statistics' most common ones for one in 200 articles, chose to
    # walk the keys down for a rare word, and read every one of them (on the benchmark's
    # million, 0.47 s for a word no article holds).
    count = 20_000
    result = runner.invoke(args=["articles", "generate", "--count", str(count), "--seed", "1"])
    assert result.exit_code == 0, result.output
    for n in range(5):
        make_article(title=f"Zeppelin over the bay {n}", published_at=an_hour_ago())
    vacuum()
    now = utcnow()
    assert len(results(RARE, now=now)) == 5
    plans = search_plans([RARE], now, analyze=True)
    assert LOOK_UP in plans[-1], plans[-1]
    walked = 0
    for plan in plans:
        for line in plan.splitlines():
            if WALK in line:
                rows, loops = re.search(r"actual time=\S+ rows=(\d+) loops=(\d+)", line).groups()
                walked += int(rows) * int(loops)
    assert walked <= count // 4, "\n\n".join(plans)


# --- 4. the migration ---------------------------------------------------------------------------


@contextmanager
def scratch_database(backend: str, folder: Path) -> Iterator[str]:
    """An empty database of this test's own."""
    if backend == "sqlite":
        yield f"sqlite:///{folder / 'blog.sqlite3'}"
    else:
        with own_pg_database("_search_migration") as url:
            yield url


@contextmanager
def scratch_app(backend: str, folder: Path) -> Iterator[Flask]:
    """An app on an empty database of this test's own, its context pushed."""
    with scratch_database(backend, folder) as uri:
        app = create_app(base_config(uri, folder))
        try:
            with app.app_context():
                yield app
        finally:
            engines.dispose(app)


def search_objects() -> list[str]:
    """What of the index the schema holds: tables (with FTS5's own), triggers, functions."""
    with db.engine.connect() as connection:
        if on_sqlite():
            query = "SELECT type || ' ' || name FROM sqlite_master WHERE name LIKE :named"
        else:
            query = (
                "SELECT 'table ' || relname FROM pg_class WHERE relname LIKE :named"
                " UNION ALL SELECT 'trigger ' || tgname FROM pg_trigger WHERE tgname LIKE :named"
                " UNION ALL SELECT 'function ' || proname FROM pg_proc WHERE proname LIKE :named"
            )
        return sorted(connection.execute(sa.text(query), {"named": "article_search%"}).scalars())


def test_migration_0010_takes_out_the_marks_a_search_takes_out() -> None:
    assert MIGRATION_0010.OPTIONAL_MARKS == content.OPTIONAL_MARKS


@pytest.mark.parametrize("backend", BACKENDS)
def test_upgrading_to_0010_indexes_vowelled_words_bare_and_downgrading_indexes_them_as_written(
    backend: str, tmp_path: Path
) -> None:
    with scratch_app(backend, tmp_path):
        upgrade(revision="0009")
        author = User(username="amina", password_hash="!", role="author")
        past = an_hour_ago()
        for number, title in enumerate(("وصل محمّد", "وصل محمد")):
            db.session.add(
                Article(
                    title=title,
                    slug=f"news-{number}",
                    status="published",
                    published_at=past,
                    body_markdown="نص",
                    author=author,
                )
            )
        db.session.commit()
        # As 0009 left it: the word with a shadda is not the word without.
        assert found("محمد") == ["وصل محمد"]
        upgrade(revision="0010")
        assert sorted(found("محمد")) == ["وصل محمد", "وصل محمّد"]
        assert_index_holds_exactly_the_live_articles()
        downgrade(revision="0009")
        assert found("محمد") == ["وصل محمد"]


@pytest.mark.parametrize("backend", BACKENDS)
def test_upgrading_a_used_database_indexes_its_live_articles_and_downgrading_takes_it_all_out(
    backend: str, tmp_path: Path
) -> None:
    with scratch_app(backend, tmp_path):
        _upgrade_and_downgrade()


def _upgrade_and_downgrade() -> None:
    upgrade(revision="0008")
    assert search_objects() == []
    author = User(username="amina", password_hash="!", role="author")
    db.session.add(author)
    db.session.flush()
    past, later = an_hour_ago(), utcnow() + timedelta(days=2)
    states = {
        "Live kestrel": {"published_at": past},
        "Scheduled kestrel": {"published_at": later},
        "Draft kestrel": {"status": "draft", "published_at": past},
        "Trashed kestrel": {"published_at": past, "deleted_at": past},
    }
    for title, fields in states.items():
        fields.setdefault("status", "published")
        slug = title.lower().replace(" ", "-")
        body = "Wings over the valley."
        db.session.add(Article(title=title, slug=slug, body_markdown=body, author=author, **fields))
    db.session.commit()

    upgrade(revision="0009")
    assert search_objects() != []
    # Live articles only, a scheduled one among them (a search leaves it out until due).
    indexed = sorted(search.key(row.published_at, row.id) for row in live_rows())
    assert len(indexed) == 2 and index_keys() == indexed
    assert found("kestrel") == ["Live kestrel"]
    assert found("kestrel", now=later) == ["Scheduled kestrel", "Live kestrel"]
    assert_index_holds_exactly_the_live_articles()

    downgrade(revision="0008")
    assert search_objects() == []
    # Every kind of write still works without the index or its triggers.
    live = db.session.scalar(sa.select(Article).where(Article.title == "Live kestrel"))
    assert live is not None
    live.title, live.published_at = "Live falcon", past - timedelta(days=1)
    draft = db.session.scalar(sa.select(Article).where(Article.title == "Draft kestrel"))
    assert draft is not None
    draft.status = "published"
    trashed = db.session.scalar(sa.select(Article).where(Article.title == "Trashed kestrel"))
    db.session.delete(trashed)
    db.session.add(
        Article(
            title="New falcon",
            slug="new-falcon",
            status="published",
            published_at=past,
            body_markdown="falcon",
            author=author,
        )
    )
    db.session.commit()
    with db.engine.begin() as connection:
        connection.exec_driver_sql("UPDATE articles SET summary = 'Written by hand.'")

    # Upgraded again, the index holds the articles as they are now.
    upgrade()
    assert found("falcon") == ["New falcon", "Live falcon"]
    assert found("kestrel") == ["Draft kestrel"]
    assert_index_holds_exactly_the_live_articles()
    db.engine.dispose()
