"""outgoing_emails.html_body: the HTML alternative of each queued email

Nullable: emails queued before this revision have only their plain-text part and are still
sent that way, so the upgrade needs no default and the downgrade loses only HTML parts.

Revision ID: 45be35cdb4f7
Revises: 6f383952857e
Create Date: 2026-12-01 01:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '45be35cdb4f7'
down_revision = '6f383952857e'
branch_labels = None
depends_on = None


def upgrade():
    # Batch mode: SQLite can add a column in place, but batch keeps every migration in the
    # one style that also works for the changes SQLite can't make in place.
    with op.batch_alter_table('outgoing_emails', schema=None) as batch_op:
        batch_op.add_column(sa.Column('html_body', sa.Text(), nullable=True))


def downgrade():
    with op.batch_alter_table('outgoing_emails', schema=None) as batch_op:
        batch_op.drop_column('html_body')
