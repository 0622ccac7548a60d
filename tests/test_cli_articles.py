"""flask articles import / export: JSON Lines in and out, bad lines, day counts, round trip."""

from __future__ import annotations

import json
import resource
import subprocess
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskCliRunner

from blog import content, counts, transfer
from blog.dates import local_date, utcnow
from blog.extensions import db
from blog.models import Article, DayCount, Tag, User, article_tags

from servers import REPO_ROOT, server_env, venv_bin

ZONE = "America/New_York"


def assert_day_counts_exact(zone: str) -> None:
    """Check day_counts against a recount of the live articles by local day."""
    stored = {day: n for day, n in db.session.execute(sa.select(DayCount.day, DayCount.count))}
    stmt = sa.select(Article.published_at).where(
        Article.status == "published", Article.deleted_at.is_(None)
    )
    expected = counts.live_days(db.session.scalars(stmt), ZoneInfo(zone))
    assert {day: n for day, n in stored.items() if n} == dict(expected)


def jsonl(*records: dict[str, Any] | str) -> str:
    """Join records (dicts as JSON, strings as they are) into JSON Lines text."""
    return "".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in records)


def line(n: int, **fields: Any) -> dict[str, Any]:
    """A valid import record, numbered n, with fields overridden."""
    record = {
        "external_id": f"ext-{n}",
        "title": f"Imported article {n}",
        "body_markdown": f"Body **{n}**.",
        "published_at": f"2016-03-{n:02d}T23:30:00-05:00",
        "author": "reporter",
        "tags": ["Imports"],
    }
    record.update(fields)
    return record


def article(external_id: str) -> Article:
    stmt = sa.select(Article).where(Article.external_id == external_id)
    found = db.session.scalar(stmt.execution_options(populate_existing=True))
    assert found is not None
    return found


@pytest.fixture
def app(make_app: Callable[..., Flask]) -> Iterator[Flask]:
    """The app of this module's tests: its site zone is not UTC, so local and UTC days differ."""
    app = make_app(TIMEZONE=ZONE)
    with app.app_context():
        yield app


def import_text(runner: FlaskCliRunner, text: str) -> Any:
    return runner.invoke(args=["articles", "import", "-"], input=text.encode())


def test_import_creates_articles_with_sanitised_bodies(runner: FlaskCliRunner) -> None:
    result = import_text(
        runner,
        jsonl(
            line(1, body_markdown="Hi <script>alert(1)</script>**there**", slug="chosen-slug"),
            line(2, body_markdown=None, body_html='<p onclick="x()">Safe <b>html</b></p>'),
            line(3, status="draft", published_at=None, tags=["Drafts", "Imports"]),
        ),
    )
    assert result.exit_code == 0, result.output
    assert "3 created, 0 updated, 0 skipped" in result.stdout
    first, second, draft = article("ext-1"), article("ext-2"), article("ext-3")
    assert "script" not in first.body_html and "<strong>there</strong>" in first.body_html
    assert first.slug == "chosen-slug"
    assert first.published_at == datetime(2016, 3, 2, 4, 30, tzinfo=UTC)
    assert first.status == "published" and first.summary
    assert second.body_html == "<p>Safe <b>html</b></p>" and second.body_markdown == ""
    assert draft.status == "draft" and draft.published_at is None
    assert [tag.name for tag in draft.tags] == ["Drafts", "Imports"]
    reporter = db.session.scalar(sa.select(User).where(User.username == "reporter"))
    assert reporter is not None and reporter.role == "author"
    # Created on the fly, the author cannot sign in until someone sets a password.
    assert not reporter.check_password("") and not reporter.check_password(reporter.password_hash)
    assert_day_counts_exact(ZONE)


def test_bad_lines_are_reported_by_number_and_skipped(runner: FlaskCliRunner) -> None:
    bad = {
        2: "{not json",
        3: "[1, 2]",
        4: json.dumps(line(4, title="  ")),
        5: json.dumps({k: v for k, v in line(5).items() if k != "body_markdown"}),
        6: json.dumps(line(6, published_at=None)),
        7: json.dumps(line(7, status="pending")),
        8: json.dumps(line(8, published_at="2016-13-45T10:00:00+00:00")),
        9: json.dumps(line(9, published_at="2016-03-26T09:51:00")),
        10: json.dumps(line(10, title="x" * 301)),
        11: json.dumps(line(11, tags="one,two")),
        12: json.dumps(line(12, author="user@x")),
        13: '{"a": ' * 100_000 + "1" + "}" * 100_000,  # past the decoder's recursion limit
    }
    lines = [bad.get(n) or json.dumps(line(n)) for n in range(1, 15)]
    result = import_text(runner, "\n".join(lines) + "\n\n")
    assert result.exit_code == 1
    assert "2 created, 0 updated, 12 skipped" in result.stdout
    errors = result.stderr.splitlines()
    assert [e.split(":")[0] for e in errors] == [f"line {n}" for n in range(2, 14)]
    assert "not valid JSON" in errors[0] and "not a JSON object" in errors[1]
    assert "missing title" in errors[2] and "no body" in errors[3]
    assert "missing published_at" in errors[4] and "status must be" in errors[5]
    assert "not an ISO 8601" in errors[6]
    assert "has no UTC offset" in errors[7] and "+03:00" in errors[7]
    assert "longer than 300" in errors[8] and "tags must be a list" in errors[9]
    assert "author 'user@x' is not a user name the site takes: Use letters" in errors[10]
    assert errors[11] == "line 13: not valid JSON (nested too deeply); skipped"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Article)) == 2
    assert_day_counts_exact(ZONE)


def test_a_tag_too_long_to_store_is_reported_and_skipped(runner: FlaskCliRunner) -> None:
    result = import_text(runner, jsonl(line(1, tags=["t" * 80]), line(2, tags=["ok", "t" * 81])))
    assert result.exit_code == 1
    assert "1 created, 0 updated, 1 skipped" in result.stdout
    shown = "t" * 23 + "…"
    assert result.stderr.splitlines() == [
        f"line 2: tag '{shown}' is longer than 80 characters; skipped"
    ]
    assert db.session.scalars(sa.select(Tag.name)).all() == ["t" * 80]


def test_a_slug_too_long_to_store_is_reported_and_skipped(runner: FlaskCliRunner) -> None:
    # "ß" is spelt "ss" in a slug: 101 of them make 202 characters.
    text = jsonl(line(1, slug="q" * 200), line(2, slug="q" * 201), line(3, slug="ß" * 101))
    result = import_text(runner, text)
    assert result.exit_code == 1
    assert "1 created, 0 updated, 2 skipped" in result.stdout
    assert result.stderr.splitlines() == [
        "line 2: slug is longer than 200 characters; skipped",
        "line 3: slug is longer than 200 characters; skipped",
    ]
    assert article("ext-1").slug == "q" * 200


def test_control_characters_are_dropped_as_the_forms_drop_them(runner: FlaskCliRunner) -> None:
    # PostgreSQL refuses NUL in text: kept, it stopped the import and rolled back good lines.
    result = import_text(
        runner,
        jsonl(
            line(1),
            line(
                2,
                external_id="ext\u0000-2",
                title="Ti\u0000t\u001bl\uffffe",
                author="rep\u0000orter",
                tags=["Ta\u0000g", "\u0000"],
                summary="Sum\u0000mary",
                body_markdown="Bo\u0000dy",
                slug="sl\u0000ug",
                published_at="2016-03-02T23:30:00-05:00\u0000",
            ),
            line(3, body_markdown=None, body_html="<p>H\u0000TML</p>"),
        ),
    )
    assert result.exit_code == 0, result.output
    assert "3 created, 0 updated, 0 skipped" in result.stdout
    second = article("ext-2")
    assert (second.title, second.summary, second.slug) == ("Title", "Summary", "slug")
    assert second.body_markdown == "Body" and second.author.username == "reporter"
    assert [tag.name for tag in second.tags] == ["Tag"]
    assert article("ext-3").body_html == "<p>HTML</p>"
    for table in (Article, User, Tag):
        for row in db.session.execute(sa.select(table.__table__)):
            assert not any("\x00" in value for value in row if isinstance(value, str)), row


def test_a_title_of_invisible_characters_is_reported_and_skipped(runner: FlaskCliRunner) -> None:
    result = import_text(runner, jsonl(line(1, title="\u200f\u200e"), line(2)))
    assert result.exit_code == 1
    assert "1 created, 0 updated, 1 skipped" in result.stdout
    assert result.stderr.startswith("line 1: the title shows nothing")


def test_a_lone_surrogate_is_reported_and_only_its_line_skipped(runner: FlaskCliRunner) -> None:
    # JSON can escape half of a character; Python reads it, and no database stores it.
    good = [json.dumps(line(n, title="Crescent 🌙")) for n in (1, 4)]
    lone = [
        json.dumps(line(2, title="Half HERE")).replace("HERE", "\\ud800"),
        json.dumps(line(3, tags=["moon HERE"])).replace("HERE", "\\ud83d"),
    ]
    result = import_text(runner, "\n".join([good[0], *lone, good[1]]) + "\n")
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "2 created, 0 updated, 2 skipped" in result.stdout
    assert result.stderr.splitlines() == [
        "line 2: title holds a lone surrogate (such as \\ud800), not a character; skipped",
        "line 3: tags holds a lone surrogate (such as \\ud800), not a character; skipped",
    ]
    assert article("ext-1").title == article("ext-4").title == "Crescent 🌙"


def test_an_article_larger_than_the_form_takes_is_reported_and_skipped(
    runner: FlaskCliRunner,
) -> None:
    # The article form takes 2 MiB, URL-encoded: an imported article must stay editable
    # there. An Arabic letter takes 6 bytes in it, so 360,000 of them are too many.
    big = "word " * 420_000  # 2.1 MB
    result = import_text(
        runner,
        jsonl(
            line(1, body_markdown=big),
            line(2, body_markdown=None, body_html=f"<p>{big}</p>"),
            line(3, summary=big),
            line(4, body_markdown="خبر " * 120_000),
            line(5, body_markdown="word " * 400_000),  # 2.0 MB: taken
            line(6, body_markdown="خبر " * 80_000),  # 1.9 MB in the form: taken
        ),
    )
    assert result.exit_code == 1
    assert "2 created, 0 updated, 4 skipped" in result.stdout
    sizes = {1: "2.0", 2: "2.0", 3: "2.0", 4: "2.2"}
    assert result.stderr.splitlines() == [
        f"line {n}: the article's text would take {size} MiB in the article form, which"
        " takes 2 MiB (sent URL-encoded, an Arabic letter takes 6 bytes); shorten it; skipped"
        for n, size in sizes.items()
    ]
    assert len(article("ext-5").body_markdown) == 2_000_000


def test_an_empty_body_is_reported_and_skipped(runner: FlaskCliRunner) -> None:
    # The article form refuses an empty body; so does import.
    result = import_text(
        runner,
        jsonl(
            line(1, body_markdown=""),
            line(2, body_markdown=None, body_html=""),
            line(3, body_markdown="", body_html=""),
            line(4, body_markdown=" \n\t", body_html="\u0000"),
            line(5, body_markdown=" ", body_html="<p>Only HTML</p>"),
        ),
    )
    assert result.exit_code == 1
    assert "1 created, 0 updated, 4 skipped" in result.stdout
    assert result.stderr.splitlines() == [
        f"line {n}: empty body: give body_markdown or body_html some text; skipped"
        for n in range(1, 5)
    ]
    assert db.session.scalars(sa.select(Article.body_html)).all() == ["<p>Only HTML</p>"]


def test_a_body_nesting_deeper_than_the_form_takes_is_reported_and_skipped(
    runner: FlaskCliRunner,
) -> None:
    # As the article form does: cleaning time grows with the square of the depth.
    deep = content.MAX_NESTING + 1
    result = import_text(
        runner,
        jsonl(
            line(1, body_markdown="<div>" * deep + "Deep" + "</div>" * deep),
            line(2, body_markdown=None, body_html="<span>" * deep + "Deep"),
            line(3, body_markdown="<div>" * 200 + "Deep enough" + "</div>" * 200),
            # Autolinks and code spans are no tags once rendered, however many.
            line(4, body_markdown="<https://example.org/a> `List<String>` " * 300),
        ),
    )
    assert result.exit_code == 1
    assert "2 created, 0 updated, 2 skipped" in result.stdout
    assert result.stderr.splitlines() == [
        f"line {n}: the body's HTML nests elements {deep} deep; keep it to "
        f"{content.MAX_NESTING} or fewer by closing the tags you open; skipped"
        for n in (1, 2)
    ]
    assert {a.external_id for a in db.session.scalars(sa.select(Article))} == {"ext-3", "ext-4"}


def test_an_author_named_as_a_user_but_for_case_is_that_user(runner: FlaskCliRunner) -> None:
    assert import_text(runner, jsonl(line(1, author="reporter"))).exit_code == 0
    assert import_text(runner, jsonl(line(2, author="REPORTER"))).exit_code == 0
    assert db.session.scalars(sa.select(User.username)).all() == ["reporter"]
    assert article("ext-2").author.username == "reporter"


def test_reimport_updates_instead_of_duplicating(runner: FlaskCliRunner) -> None:
    assert import_text(runner, jsonl(line(1), line(2), line(3))).exit_code == 0
    slug = article("ext-2").slug
    changed = jsonl(
        line(1, status="draft"),
        line(2, title="A new title", published_at="2016-04-10T01:00:00+03:00", tags=[]),
        line(3),
        line(4),
    )
    result = import_text(runner, changed)
    assert result.exit_code == 0
    assert "1 created, 3 updated, 0 skipped" in result.stdout
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Article)) == 4
    second = article("ext-2")
    assert second.title == "A new title" and second.tags == []
    assert second.slug == slug  # the URL stays put when the line names no slug
    assert article("ext-1").status == "draft"
    assert_day_counts_exact(ZONE)


def test_import_keeps_a_free_slug_and_falls_back_to_the_title(
    runner: FlaskCliRunner, make_article: Callable[..., Article]
) -> None:
    make_article(title="Existing", slug="taken")
    result = import_text(
        runner, jsonl(line(1, slug="taken", title="Fresh title"), line(2, slug=""))
    )
    assert result.exit_code == 0
    assert article("ext-1").slug == "fresh-title"
    assert article("ext-2").slug == "imported-article-2"


def test_import_reads_a_file_and_names_a_default_author(
    runner: FlaskCliRunner, tmp_path: Path
) -> None:
    path = tmp_path / "in.jsonl"
    record = line(1)
    del record["author"]
    path.write_text(jsonl(record), encoding="utf-8")
    result = runner.invoke(args=["articles", "import", str(path), "--author", "desk"])
    assert result.exit_code == 0
    assert article("ext-1").author.username == "desk"


def test_import_commits_in_batches_and_counts_stay_exact(
    runner: FlaskCliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(transfer, "BATCH_SIZE", 40)
    # Several batches, spread over days and around local midnight, some of them drafts.
    records = [
        line(
            n,
            external_id=f"bulk-{n}",
            title=f"Bulk {n}",
            published_at=f"2016-05-{n % 28 + 1:02d}T{n % 24:02d}:59:00+00:00",
            status="draft" if n % 10 == 0 else "published",
        )
        for n in range(1, 131)
    ]
    records[77]["title"] = ""  # a bad line in the middle of a batch loses only itself
    result = import_text(runner, jsonl(*records))
    assert result.exit_code == 1 and "129 created, 0 updated, 1 skipped" in result.stdout
    assert result.stderr.startswith("line 78: missing title")
    assert_day_counts_exact(ZONE)


def test_a_save_on_the_site_goes_through_while_an_import_renders(
    runner: FlaskCliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Rendering is most of an import's time. Done inside a batch's transaction, it kept an
    # editor's save waiting for the write lock (SQLite) or the version row (PostgreSQL) for
    # seconds, and on SQLite past the busy timeout: "database is locked".
    monkeypatch.setattr(transfer, "BATCH_SIZE", 3)
    engine, saves = db.engine, []
    render = content.render_markdown

    def render_and_meanwhile_save(markdown: str) -> Any:
        if markdown == "Body **5**.":  # the middle of the second batch
            saves.append(save_elsewhere(engine))
        return render(markdown)

    monkeypatch.setattr(content, "render_markdown", render_and_meanwhile_save)
    result = import_text(runner, jsonl(*(line(n) for n in range(1, 8))))
    assert result.exit_code == 0 and "7 created" in result.stdout
    assert saves == ["saved"]
    assert "<strong>5</strong>" in article("ext-5").body_html
    assert_day_counts_exact(ZONE)


def save_elsewhere(engine: sa.Engine) -> str:
    """Write what every save on the site writes first, the content version, on a connection
    of its own; give up after 0.2 s waiting for a lock and say why."""
    sqlite = engine.dialect.name == "sqlite"
    with engine.connect() as connection:
        try:
            if sqlite:
                connection.exec_driver_sql("PRAGMA busy_timeout = 200")
            else:
                connection.exec_driver_sql("SET LOCAL lock_timeout = '200ms'")
            connection.execute(
                sa.text("UPDATE site_state SET number = number + 1 WHERE key = :key"),
                {"key": counts.CONTENT_VERSION},
            )
            connection.commit()
            return "saved"
        except sa.exc.OperationalError as error:
            connection.rollback()
            return str(error.orig)
        finally:
            if sqlite:
                connection.exec_driver_sql("PRAGMA busy_timeout = 10000")


@pytest.fixture
def refused_title() -> Iterator[str]:
    """A title the database itself refuses (a trigger), as a failing disk or a rule would."""
    title = "Refused by the database"
    if db.engine.dialect.name == "postgresql":
        statements = [
            "CREATE FUNCTION refuse_title() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            f"IF NEW.title = '{title}' THEN RAISE check_violation USING MESSAGE = 'no'; "
            "END IF; RETURN NEW; END $$",
            "CREATE TRIGGER refuse_title BEFORE INSERT ON articles "
            "FOR EACH ROW EXECUTE FUNCTION refuse_title()",
        ]
        undo = ["DROP TRIGGER refuse_title ON articles", "DROP FUNCTION refuse_title()"]
    else:
        statements = [
            f"CREATE TRIGGER refuse_title BEFORE INSERT ON articles WHEN NEW.title = '{title}' "
            "BEGIN SELECT RAISE(ABORT, 'no'); END"
        ]
        undo = ["DROP TRIGGER refuse_title"]
    # A trigger is DDL: it waits for every open transaction on the table, the test's own too.
    db.session.rollback()
    with db.engine.begin() as connection:
        for statement in statements:
            connection.exec_driver_sql(statement)
    yield title
    db.session.rollback()
    with db.engine.begin() as connection:
        for statement in undo:
            connection.exec_driver_sql(statement)


def test_a_line_the_database_refuses_stops_the_import_after_the_last_batch(
    runner: FlaskCliRunner, refused_title: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(transfer, "BATCH_SIZE", 3)
    good = [line(n) for n in range(1, 5)]
    result = import_text(runner, jsonl(*good, line(5, title=refused_title), "{not json"))
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: line 5: the database refused it (no")
    assert "lines 4 to 5 were rolled back and nothing after them was imported" in result.stderr
    # Line 6 was read with line 5's batch, but the import stopped before it: not reported.
    assert "line 6" not in result.stderr
    stored = db.session.scalars(sa.select(Article.external_id).order_by(Article.external_id))
    assert list(stored) == ["ext-1", "ext-2", "ext-3"]
    assert_day_counts_exact(ZONE)


def test_export_to_standard_output(runner: FlaskCliRunner) -> None:
    assert import_text(runner, jsonl(line(1), line(2))).exit_code == 0
    result = runner.invoke(args=["articles", "export", "-"])
    assert result.exit_code == 0
    records = [json.loads(text) for text in result.stdout.splitlines()]
    assert [r["external_id"] for r in records] == ["ext-1", "ext-2"]
    assert result.stderr == "Exported 2 articles.\n"


def export_records(runner: FlaskCliRunner, path: Path) -> list[dict[str, Any]]:
    result = runner.invoke(args=["articles", "export", str(path)])
    assert result.exit_code == 0, result.output
    return [json.loads(text) for text in path.read_text(encoding="utf-8").splitlines()]


def test_export_round_trip(
    runner: FlaskCliRunner, make_article: Callable[..., Article], tmp_path: Path
) -> None:
    make_article(title="Türkçe başlık", body="Merhaba *dünya*", tags=[])
    make_article(title="Trashed", deleted_at=utcnow())
    make_article(title="Scheduled", published_at=datetime(2099, 1, 1, tzinfo=UTC))
    text = jsonl(
        line(1, tags=["b", "a"], summary="Own summary"),
        line(2, body_markdown=None, body_html="<p>Only <em>HTML</em></p>"),
        line(3, status="draft", published_at=None),
    )
    assert import_text(runner, text).exit_code == 0
    first = export_records(runner, tmp_path / "one.jsonl")
    assert [r["title"] for r in first] == [
        "Türkçe başlık", "Scheduled", "Imported article 1", "Imported article 2",
        "Imported article 3",
    ]  # fmt: skip
    by_title = {r["title"]: r for r in first}
    turkish = by_title["Türkçe başlık"]
    assert turkish["url"] == f"/article/{turkish['id']}/turkce-baslik"  # no address known
    assert turkish["body_markdown"] == "Merhaba *dünya*" and "body_html" not in turkish
    assert by_title["Imported article 2"]["body_html"] == "<p>Only <em>HTML</em></p>"
    assert by_title["Imported article 1"]["published_at"] == "2016-03-01T23:30:00-05:00"
    assert by_title["Imported article 1"]["tags"] == ["a", "b"]
    assert by_title["Imported article 3"]["published_at"] is None

    # Empty the database, import the export, export again: the same articles come out.
    for table in (article_tags, Article.__table__, Tag.__table__, DayCount.__table__):
        db.session.execute(sa.delete(table))
    db.session.execute(sa.delete(User))
    db.session.commit()
    result = runner.invoke(args=["articles", "import", str(tmp_path / "one.jsonl")])
    assert result.exit_code == 0 and "5 created" in result.stdout
    second = export_records(runner, tmp_path / "two.jsonl")

    def strip(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [{k: v for k, v in r.items() if k not in ("id", "url")} for r in records]

    # Last changes too: a feed, a sitemap or a page's modified time would otherwise tell
    # crawlers that every article changed at the import.
    assert all(record["updated_at"] for record in second)
    assert strip(second) == strip(first)
    assert_day_counts_exact(ZONE)


def test_an_updated_at_is_kept_and_a_bad_one_reported(runner: FlaskCliRunner) -> None:
    result = import_text(
        runner,
        jsonl(
            line(1, updated_at="2016-03-05T10:00:00+03:00"),
            line(2, updated_at="yesterday"),
            line(3, updated_at="2016-03-05T10:00:00"),
        ),
    )
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "line 2: updated_at 'yesterday' is not an ISO 8601 date and time; skipped",
        "line 3: updated_at '2016-03-05T10:00:00' has no UTC offset; write it with one,"
        " e.g. 2016-03-26T09:51:00+03:00; skipped",
    ]
    assert article("ext-1").updated_at == datetime(2016, 3, 5, 7, 0, tzinfo=UTC)
    # A line that changes an article is a change made now, whatever the file says.
    changed = line(1, title="Changed", updated_at="2016-03-05T10:00:00+03:00")
    assert import_text(runner, jsonl(changed)).exit_code == 0
    assert article("ext-1").updated_at > utcnow() - timedelta(minutes=1)


def test_export_uses_the_configured_server_name(
    make_app: Callable[..., Flask], tmp_path: Path
) -> None:
    app = make_app(SERVER_NAME="news.example", PREFERRED_URL_SCHEME="https")
    with app.app_context():
        runner = app.test_cli_runner()
        assert import_text(runner, jsonl(line(1, slug="hello"))).exit_code == 0
        (record,) = export_records(runner, tmp_path / "out.jsonl")
    assert record["url"] == f"https://news.example/article/{record['id']}/hello"


def test_export_names_articles_at_the_given_address(runner: FlaskCliRunner, tmp_path: Path) -> None:
    assert import_text(runner, jsonl(line(1, slug="hello"))).exit_code == 0
    path = tmp_path / "out.jsonl"
    for base in ("https://news.example/blog", "https://news.example/blog/"):
        result = runner.invoke(args=["articles", "export", str(path), "--base-url", base])
        assert result.exit_code == 0, result.output
        (record,) = [json.loads(text) for text in path.read_text(encoding="utf-8").splitlines()]
        assert record["url"] == f"https://news.example/blog/article/{record['id']}/hello"
    bad_addresses = (
        *("news.example", "ftp://news.example", "https://", "https://n.example:99999"),
        "http://[::1",  # refused by urlsplit itself
    )
    for bad in (*bad_addresses, "https://n.example/?x=1", "https://n.example/#a"):
        result = runner.invoke(args=["articles", "export", str(path), "--base-url", bad])
        assert result.exit_code == 2 and "is not a web address" in result.output


def test_generate_adds_articles_that_pages_list(
    runner: FlaskCliRunner, client: Any, make_article: Callable[..., Article]
) -> None:
    from blog.content import render_markdown

    before = make_article(title="Written by hand")
    result = runner.invoke(args=["articles", "generate", "--count", "300", "--seed", "7"])
    assert result.exit_code == 0, result.output
    assert "Generated 300 articles" in result.output and "rows/s" in result.output
    rows = db.session.scalars(sa.select(Article).where(Article.id != before.id)).all()
    assert len(rows) == 300
    assert min(row.id for row in rows) == before.id + 1
    published = [row for row in rows if row.status == "published"]
    assert 280 <= len(published) < 300  # about 2% drafts
    now = utcnow()
    for row in rows:
        assert row.published_at is not None and row.published_at <= now
        assert row.published_at.microsecond == 0
        assert row.author.username.startswith("writer") and row.summary
    assert all(render_markdown(row.body_markdown) == row.body_html for row in rows[:20])
    # Ids follow publication order, as on a real site, over the whole span of years.
    in_id_order = [row.published_at for row in sorted(rows, key=lambda row: row.id)]
    assert in_id_order == sorted(in_id_order)
    assert in_id_order[-1] - in_id_order[0] > timedelta(days=365 * 8)
    links = db.session.scalar(sa.select(sa.func.count()).select_from(article_tags))
    assert 300 <= links <= 400
    assert_day_counts_exact(ZONE)

    newest = max(published, key=lambda row: (row.published_at, row.id))
    page = client.get("/").get_data(as_text=True)
    assert page.count('<article class="teaser">') == 20
    assert f"/article/{newest.id}/{newest.slug}" in page
    assert client.get(f"/article/{newest.id}/{newest.slug}").status_code == 200


def test_generate_appends_with_unique_slugs_and_the_same_seed(runner: FlaskCliRunner) -> None:
    for _ in range(2):
        args = ["articles", "generate", "--count", "150", "--seed", "3", "--years", "1"]
        assert runner.invoke(args=args).exit_code == 0
    slugs = db.session.scalars(sa.select(Article.slug)).all()
    assert len(slugs) == len(set(slugs)) == 300
    assert db.session.scalar(sa.select(sa.func.max(Article.id))) == 300
    authors = db.session.scalar(sa.select(sa.func.count()).select_from(User))
    assert authors == 8  # the generated writers are reused, not made again
    assert_day_counts_exact(ZONE)
    # The ORM still gets fresh ids afterwards (PostgreSQL's sequence moved on).
    result = import_text(runner, jsonl(line(1)))
    assert result.exit_code == 0 and article("ext-1").id == 301


def test_generate_refuses_a_count_below_one(runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["articles", "generate", "--count", "0"])
    assert result.exit_code == 2 and "--count" in result.output


def test_generate_refuses_a_count_past_its_maximum(app: Flask, tmp_path: Path) -> None:
    # Such a count filled the machine's memory with publication times before writing a row.
    # In a child with 2 GiB of address space, so that if it came back it fails, not the box.
    def little_memory() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))

    result = subprocess.run(
        [str(venv_bin("flask")), "articles", "generate", "--count", "9" * 30],
        cwd=REPO_ROOT,
        env=server_env(app.config["SQLALCHEMY_DATABASE_URI"], tmp_path),
        preexec_fn=little_memory,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 2, result.stderr
    assert "--count" in result.stderr and "1<=x<=10000000" in result.stderr
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Article)) == 0


def test_recount_repairs_drifted_day_counts(app, runner, make_article):
    article = make_article()
    day = db.session.scalar(sa.select(DayCount).where(DayCount.count > 0))
    day.count = 99  # drifted, e.g. by a hand-made SQL change
    db.session.commit()

    result = runner.invoke(args=["articles", "recount"])
    assert result.exit_code == 0, result.output
    assert "Recounted 1 days" in result.output
    db.session.expire_all()
    counts = db.session.execute(sa.select(DayCount.day, DayCount.count)).all()
    assert [n for _, n in counts] == [1]
    # The local day in New York, not the UTC date: they differ from 00:00 to 05:00 UTC.
    assert counts[0][0] == local_date(article.published_at, ZoneInfo(ZONE))


# A command run from a shell that lacks the service's environment runs in UTC, the default.
def test_import_from_a_shell_on_another_zone_keeps_the_sites_counts(app, runner, make_article):
    make_article(published_at=datetime(2016, 3, 1, 4, 30, tzinfo=UTC))
    counts.ensure_zone(db.session, ZoneInfo(ZONE))  # the running site's
    app.config["TIMEZONE"] = "UTC"

    # 23:30 in New York is 04:30 the next day in UTC: every line is on another UTC date.
    result = import_text(runner, jsonl(*(line(n) for n in range(1, 6))))

    assert result.exit_code == 0, result.output
    assert counts.kept_zone(db.session) == ZONE
    assert_day_counts_exact(ZONE)


def test_recount_from_a_shell_on_another_zone_recounts_in_the_sites_zone(app, runner, make_article):
    make_article(published_at=datetime(2016, 3, 1, 4, 30, tzinfo=UTC))
    counts.ensure_zone(db.session, ZoneInfo(ZONE))
    app.config["TIMEZONE"] = "UTC"

    result = runner.invoke(args=["articles", "recount"])

    assert result.exit_code == 0, result.output
    assert f"Recounted 1 days in {ZONE}." in result.output
    assert "this command ran with TIMEZONE UTC" in result.output
    assert counts.kept_zone(db.session) == ZONE
    assert_day_counts_exact(ZONE)


def test_a_recount_leaves_a_site_started_on_a_new_zone_to_rebuild_the_counts_for_it(
    app, runner, make_article
):
    make_article(published_at=datetime(2016, 3, 1, 4, 30, tzinfo=UTC))
    counts.ensure_zone(db.session, ZoneInfo(ZONE))
    # The site restarted on a new zone, and before its first page, a recount from a shell.
    site_started = counts.microseconds()
    result = runner.invoke(args=["articles", "recount"])
    assert result.exit_code == 0 and f"Recounted 1 days in {ZONE}." in result.output

    assert counts.ensure_zone(db.session, ZoneInfo("Asia/Tokyo"), started=site_started)
    assert counts.kept_zone(db.session) == "Asia/Tokyo"
    assert_day_counts_exact("Asia/Tokyo")
