"""Partial indexes for the trash, so /admin/trash stays cheap on a large table.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

IN_TRASH = sa.text("deleted_at IS NOT NULL")


def upgrade():
    for name, columns in (
        ("ix_articles_trash", ["id"]),
        ("ix_articles_author_trash", ["author_id", "id"]),
    ):
        op.create_index(name, "articles", columns, sqlite_where=IN_TRASH, postgresql_where=IN_TRASH)


def downgrade():
    op.drop_index("ix_articles_author_trash", table_name="articles")
    op.drop_index("ix_articles_trash", table_name="articles")
