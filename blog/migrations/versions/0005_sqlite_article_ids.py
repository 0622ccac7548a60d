"""On SQLite, never give a deleted article's id to a new one: articles.id AUTOINCREMENT.

Without AUTOINCREMENT SQLite numbers a new row one past the largest id in the table, so
purging the newest article handed its id, and every link to it, to the next article
written: an old link led to another story. PostgreSQL's sequence never reuses an id. Ids
freed before this upgrade above today's largest may still be given out once.

SQLite cannot add AUTOINCREMENT to a table, so the table is built again: a copy with the
same columns, the rows moved over, the old table dropped and the copy renamed, then the
indexes made again from their stored definitions. Dropping the old table deletes its tag
links when foreign keys are on (as on every connection the app opens), so they are kept
aside and put back. It all runs in one transaction, which holds the write lock throughout:
about a minute for a million articles, during which the site cannot save.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

Timestamp = sa.DateTime(timezone=True)


def _articles(name: str, metadata: sa.MetaData) -> sa.Table:
    """The articles table as 0001 made it (0002-0004 added only indexes), ids never reused."""
    sa.Table("users", metadata, sa.Column("id", sa.Integer(), primary_key=True))
    return sa.Table(
        name,
        metadata,
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("slug", sa.String(200), nullable=False, unique=True),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("body_markdown", sa.Text(), nullable=False),
        sa.Column("body_html", sa.Text(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("published_at", Timestamp, nullable=True),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.Column("updated_at", Timestamp, nullable=False),
        sa.Column("deleted_at", Timestamp, nullable=True),
        sa.Column("author_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("external_id", sa.String(200), nullable=True, unique=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sqlite_autoincrement=True,
    )


def upgrade():
    context = op.get_context()
    if context.dialect.name != "sqlite":
        return
    if context.as_sql:
        raise RuntimeError("0005 rebuilds SQLite's articles table: run it on the database")
    bind = op.get_bind()
    # One transaction from the first statement: pysqlite would begin one only at the first
    # INSERT, after the copy's CREATE, and a DROP outside one could not be undone.
    if not bind.connection.driver_connection.in_transaction:
        bind.exec_driver_sql("BEGIN IMMEDIATE")
    indexes = (
        bind.exec_driver_sql(
            "SELECT sql FROM sqlite_master"
            " WHERE type = 'index' AND tbl_name = 'articles' AND sql IS NOT NULL"
        )
        .scalars()
        .all()
    )
    # Left behind by an upgrade that stopped before the copy took the table's place.
    bind.exec_driver_sql("DROP TABLE IF EXISTS articles_rebuilt")
    copy = _articles("articles_rebuilt", sa.MetaData())
    copy.create(bind)
    columns = ", ".join(column.name for column in copy.columns)
    bind.exec_driver_sql(f"INSERT INTO articles_rebuilt ({columns}) SELECT {columns} FROM articles")
    bind.exec_driver_sql("CREATE TEMP TABLE kept_article_tags AS SELECT * FROM article_tags")
    bind.exec_driver_sql("DROP TABLE articles")
    bind.exec_driver_sql("ALTER TABLE articles_rebuilt RENAME TO articles")
    bind.exec_driver_sql(
        "INSERT INTO article_tags (article_id, tag_id)"
        " SELECT article_id, tag_id FROM kept_article_tags"
    )
    bind.exec_driver_sql("DROP TABLE kept_article_tags")
    for sql in indexes:
        bind.exec_driver_sql(sql)


def downgrade():
    # Ids that are never reused harm nothing older code does: the table stays as it is.
    pass
