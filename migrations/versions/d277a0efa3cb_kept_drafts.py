"""kept_drafts: a refused form's text, kept for the reader whose session had ended

Revision ID: d277a0efa3cb
Revises: ec34cd4d5fe0
Create Date: 2026-12-01 03:30:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "d277a0efa3cb"
down_revision = "ec34cd4d5fe0"
branch_labels = None
depends_on = None

def upgrade():
    op.create_table(
        "kept_drafts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=500), nullable=False),
        sa.Column("fields", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kept_drafts")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_kept_drafts_token_hash")),
    )
    with op.batch_alter_table("kept_drafts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_kept_drafts_created_at"), ["created_at"], unique=False)

def downgrade():
    with op.batch_alter_table("kept_drafts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_kept_drafts_created_at"))
    op.drop_table("kept_drafts")
