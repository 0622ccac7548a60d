"""Index each author's live articles by (published_at, id), for their page.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

LIVE = sa.text("status = 'published' AND deleted_at IS NULL")


def upgrade():
    op.create_index(
        "ix_articles_author_live",
        "articles",
        ["author_id", "published_at", "id"],
        sqlite_where=LIVE,
        postgresql_where=LIVE,
    )


def downgrade():
    op.drop_index("ix_articles_author_live", table_name="articles")
