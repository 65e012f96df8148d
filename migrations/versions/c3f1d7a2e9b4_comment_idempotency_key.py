"""comments: the idempotency key of the form that posted each one, unique per author

Revision ID: c3f1d7a2e9b4
Revises: a7c4e2b9d1f0
Create Date: 2026-12-01 02:00:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "c3f1d7a2e9b4"
down_revision = "a7c4e2b9d1f0"
branch_labels = None
depends_on = None


def upgrade():
    # Nullable, no default: existing comments have no key, and NULLs never collide.
    with op.batch_alter_table("comments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("idempotency_key", sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint(
            "uq_comments_author_id_idempotency_key", ["author_id", "idempotency_key"]
        )


def downgrade():
    with op.batch_alter_table("comments", schema=None) as batch_op:
        batch_op.drop_constraint("uq_comments_author_id_idempotency_key", type_="unique")
        batch_op.drop_column("idempotency_key")
