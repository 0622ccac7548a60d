"""Keep each signed-in browser on the server, so that signing out ends it for good.

A session cookie is signed, not stored: before this, a copy of one kept signing its holder
in after its owner signed out, until the password changed. Now a session names a row of
sign_ins by a random token (the row keeps only its SHA-256 digest); signing out deletes
the row, and a password change, a reset or deactivation deletes the user's other rows. A
row also keeps a digest of the password hash it was made under: a password set any other
way (a shell, a restore) leaves it signing no one in.

Sessions from before the upgrade name no row: everyone signs in once more.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "sign_ins",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "user_id",
            sa.Integer(),
            sa.ForeignKey("users.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("token_digest", sa.String(64), nullable=False, unique=True),
        sa.Column("password_digest", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_sign_ins_user_id", "sign_ins", ["user_id"])


def downgrade():
    op.drop_index("ix_sign_ins_user_id", table_name="sign_ins")
    op.drop_table("sign_ins")
