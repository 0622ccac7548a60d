"""Give each tag link its article's instant while the article is live, for tag pages.

A tag's page lists that tag's visible articles newest first, a page at a time. Joined to
the articles and sorted, a tag on a tenth of a million articles would read a hundred
thousand rows for each page. With the instant on the link itself (article_tags.live_at:
the article's published_at while it is published and not in the trash, else NULL) and one
index over (tag_id, live_at, article_id), a page is a walk of that index from its cursor
that stops after a page, as the home page's walk of ix_articles_visible does.

The links of live articles are filled in from their articles before the index is built.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

LIVE_LINK = sa.text("live_at IS NOT NULL")


def upgrade():
    op.add_column("article_tags", sa.Column("live_at", sa.DateTime(timezone=True), nullable=True))
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "UPDATE article_tags SET live_at = articles.published_at FROM articles"
            " WHERE articles.id = article_tags.article_id"
            " AND articles.status = 'published' AND articles.deleted_at IS NULL"
        )
    else:
        op.execute(
            "UPDATE article_tags SET live_at = (SELECT published_at FROM articles"
            " WHERE articles.id = article_tags.article_id"
            " AND articles.status = 'published' AND articles.deleted_at IS NULL)"
        )
    op.create_index(
        "ix_article_tags_live",
        "article_tags",
        ["tag_id", "live_at", "article_id"],
        sqlite_where=LIVE_LINK,
        postgresql_where=LIVE_LINK,
    )


def downgrade():
    op.drop_index("ix_article_tags_live", table_name="article_tags")
    with op.batch_alter_table("article_tags") as batch:
        batch.drop_column("live_at")
