"""On SQLite, index every column a listing reads, so a page comes from the index alone.

A listing page read through ix_articles_visible then fetched twenty rows from all over the
articles table, each with its whole body beside it. SQLite only: a PostgreSQL index row is
capped at about 2.7 kB, which a long summary would pass.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

COLUMNS = ["published_at", "id", "title", "slug", "summary", "author_id", "status", "deleted_at"]
LIVE = sa.text("status = 'published' AND deleted_at IS NULL")


def upgrade():
    if op.get_bind().dialect.name == "sqlite":
        op.create_index("ix_articles_teasers", "articles", COLUMNS, sqlite_where=LIVE)


def downgrade():
    if op.get_bind().dialect.name == "sqlite":
        op.drop_index("ix_articles_teasers", table_name="articles")
