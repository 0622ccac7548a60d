"""Index the words of every live article for search, newest first, kept by triggers.

A search page lists the visible articles holding every word asked for, newest first, a
page at a time. Finding every match and sorting them would read a hundred thousand rows
for a common word in a million articles. So each live article is indexed under one
integer, its search key, that orders the index nearly as the listings are ordered: the
minute of its publication, then its id. A page is then a walk of the matches down from a
key, stopped after a page:

    key = (minutes since 0001-01-01 - 2**32) * 2**31 + id

which fits a signed 64-bit integer for any minute of years 1-9999 (rows an earlier
release stored may hold year 1) and any id up to 2**31 - 1, and gives the id back as
`key & (2**31 - 1)`.

- SQLite: a contentless FTS5 table, `article_search`, whose rowid is the key (the text
  is not stored twice). An article leaves it by the 'delete' command with the values it
  was indexed with, which the triggers below take from the row's old values.
- PostgreSQL: a table of (key, published_at, words), `words` a tsvector of the 'simple'
  configuration (lower case, no stemming, whatever the language) with a GIN index. With
  the instant beside the key, a page's matches are picked and ordered in this table
  alone, and only the page's own articles are read (see blog/search.py for how).

Triggers on `articles` keep it in step with every write: the site's own, imports, the
benchmark's bulk loads, and SQL by hand. The words are the title, the summary and the
body's source (the cleaned HTML for a body imported as HTML), each of the last two up to
TEXT_INDEXED characters.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07
"""

from collections.abc import Callable

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

FIRST_SECOND = 62135596800  # seconds from 0001-01-01 to 1970-01-01
COLUMNS = "title, summary, body_markdown, body_html, status, published_at, deleted_at"


def _live(row: str) -> str:
    return (
        f"{row}.status = 'published' AND {row}.deleted_at IS NULL"
        f" AND {row}.published_at IS NOT NULL"
    )


# Only so much of a summary and of a body is indexed: PostgreSQL refuses a tsvector over
# 1 MB, which a megabyte of distinct words would make (an import takes a summary of any
# length), and no story runs this long. Title and both together stay under 1 MB in bytes.
TEXT_INDEXED = 100_000


def _summary(row: str) -> str:
    return f"substr({row}.summary, 1, {TEXT_INDEXED})"


def _body(row: str) -> str:
    body = f"CASE WHEN {row}.body_markdown <> '' THEN {row}.body_markdown ELSE {row}.body_html END"
    return f"substr({body}, 1, {TEXT_INDEXED})"


def _key(row: str, seconds: str) -> str:
    return f"(({seconds} + {FIRST_SECOND}) / 60 - 4294967296) * 2147483648 + {row}.id"


def upgrade():
    build()


TOKENIZE = "unicode61 remove_diacritics 2"


def build(bare: Callable[[str], str] = str, tokenize: str = TOKENIZE) -> None:
    """Make the index and its triggers, and index every live article.

    `bare` turns an SQL text expression into the text indexed in its place, and `tokenize`
    is SQLite's tokenizer (migration 0010 builds the index again with others of its own).
    """
    if op.get_bind().dialect.name == "postgresql":
        _upgrade_postgresql(bare)
    else:
        _upgrade_sqlite(bare, tokenize)


def _upgrade_sqlite(bare: Callable[[str], str], tokenize: str) -> None:
    def key(row: str) -> str:
        # The instant cut to its minute first: strftime rounds fractions to the millisecond,
        # which took 12:00:59.9999 to 12:01. (Instants are stored as 'YYYY-MM-DD HH:MM:...'.)
        minute = f"substr({row}.published_at, 1, 16)"
        return _key(row, f"CAST(strftime('%s', {minute}) AS INTEGER)")

    def values(row: str) -> str:
        return f"{key(row)}, {bare(f'{row}.title')}, {bare(_summary(row))}, {bare(_body(row))}"

    quoted = tokenize.replace("'", "''")
    op.execute(
        "CREATE VIRTUAL TABLE article_search USING fts5("
        f"title, summary, body, content='', tokenize='{quoted}')"
    )
    insert = "INSERT INTO article_search (rowid, title, summary, body)"
    delete = "INSERT INTO article_search (article_search, rowid, title, summary, body)"
    op.execute(
        f"CREATE TRIGGER article_search_insert AFTER INSERT ON articles WHEN {_live('new')}"
        f" BEGIN {insert} VALUES ({values('new')}); END"
    )
    op.execute(
        f"CREATE TRIGGER article_search_delete AFTER DELETE ON articles WHEN {_live('old')}"
        f" BEGIN {delete} VALUES ('delete', {values('old')}); END"
    )
    # One trigger, the old words out before the new ones in: both may have the same key.
    op.execute(
        f"CREATE TRIGGER article_search_update AFTER UPDATE OF {COLUMNS} ON articles BEGIN"
        f" {delete} SELECT 'delete', {values('old')} WHERE {_live('old')};"
        f" {insert} SELECT {values('new')} WHERE {_live('new')};"
        " END"
    )
    op.execute(f"{insert} SELECT {values('a')} FROM articles AS a WHERE {_live('a')}")


def _upgrade_postgresql(bare: Callable[[str], str]) -> None:
    def key(row: str) -> str:
        return _key(row, f"floor(extract(epoch FROM {row}.published_at))::bigint")

    def words(row: str) -> str:
        text = f"{row}.title || ' ' || {_summary(row)} || ' ' || {_body(row)}"
        return f"strip(to_tsvector('simple', {bare(text)}))"

    op.execute(
        "CREATE TABLE article_search (key bigint PRIMARY KEY,"
        " published_at timestamp with time zone NOT NULL, words tsvector NOT NULL)"
    )
    op.execute(
        "CREATE FUNCTION article_search_sync() RETURNS trigger LANGUAGE plpgsql AS $$"
        " BEGIN"
        f" IF TG_OP <> 'INSERT' AND {_live('OLD')} THEN"
        f"  DELETE FROM article_search WHERE key = {key('OLD')};"
        " END IF;"
        f" IF TG_OP <> 'DELETE' AND {_live('NEW')} THEN"
        "  INSERT INTO article_search (key, published_at, words)"
        f"  VALUES ({key('NEW')}, NEW.published_at, {words('NEW')});"
        " END IF;"
        " RETURN NULL;"
        " END $$"
    )
    op.execute(
        f"CREATE TRIGGER article_search_sync AFTER INSERT OR DELETE OR UPDATE OF {COLUMNS}"
        " ON articles FOR EACH ROW EXECUTE FUNCTION article_search_sync()"
    )
    op.execute(
        "INSERT INTO article_search (key, published_at, words)"
        f" SELECT {key('a')}, a.published_at, {words('a')}"
        f" FROM articles AS a WHERE {_live('a')}"
    )
    # Built after the rows are in: faster than growing it row by row.
    op.execute("CREATE INDEX ix_article_search_words ON article_search USING gin (words)")
    # Statistics at once: without them, the planner took the last page of a common search
    # through the index of words, rechecking a quarter of a million rows (0.8 s).
    op.execute("ANALYZE article_search")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER article_search_sync ON articles")
        op.execute("DROP FUNCTION article_search_sync()")
    else:
        for name in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER article_search_{name}")
    op.execute("DROP TABLE article_search")
