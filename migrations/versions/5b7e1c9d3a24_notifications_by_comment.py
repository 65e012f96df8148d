"""notifications by comment: who was already told about a comment

Revision ID: 5b7e1c9d3a24
Revises: 8d2e6b4a1c07
Create Date: 2026-12-02 05:00:00

Every fan-out after a post first asks which notifications about its comments exist. The
only index with ``comment_id`` in it (the unique constraint) leads with the user, so SQLite
read the whole notifications table for it: 30,000 rows after a few seconds of posting in
the benchmark, and a site's table only grows. The index answers from the comment's side
and holds the columns asked for.
"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "5b7e1c9d3a24"
down_revision = "8d2e6b4a1c07"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.create_index(
            "ix_notifications_comment_kind_user", ["comment_id", "kind", "user_id"]
        )


def downgrade():
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.drop_index("ix_notifications_comment_kind_user")
