"""Index the live articles alone, by (published_at, id), for ordered listings on PostgreSQL.

PostgreSQL cannot read ix_articles_live in (published_at, id) order: `deleted_at IS NULL`
is not an equality it can skip over, so every listing sorted its whole date range. A
partial index whose predicate is exactly the listings' filter gives both databases an
ordered walk that stops after one page.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

LIVE = sa.text("status = 'published' AND deleted_at IS NULL")


def upgrade():
    op.create_index(
        "ix_articles_visible",
        "articles",
        ["published_at", "id"],
        sqlite_where=LIVE,
        postgresql_where=LIVE,
    )
    op.drop_index("ix_articles_live", table_name="articles")


def downgrade():
    op.create_index("ix_articles_live", "articles", ["status", "deleted_at", "published_at", "id"])
    op.drop_index("ix_articles_visible", table_name="articles")
