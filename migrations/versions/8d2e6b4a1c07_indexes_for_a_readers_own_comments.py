"""comments by author and article, reports by reporter: a reader's own marks on a page

Revision ID: 8d2e6b4a1c07
Revises: 0595d6144978
Create Date: 2026-12-01 12:00:00

A logged-in reader's page asks which comments of the article they wrote or reported. With an
index on the author alone, SQLite chose to walk the article's comments instead (100,000 of
them under a large discussion: 19 ms per page), and the reports were read in full. The
composite index answers "this author, this article" directly and still serves "this author"
alone, so it replaces the single-column one.
"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "8d2e6b4a1c07"
down_revision = "0595d6144978"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("comments", schema=None) as batch_op:
        batch_op.create_index("ix_comments_author_article", ["author_id", "article_id"])
        batch_op.drop_index("ix_comments_author_id")
    with op.batch_alter_table("reports", schema=None) as batch_op:
        batch_op.create_index("ix_reports_reporter_id", ["reporter_id"])


def downgrade():
    with op.batch_alter_table("reports", schema=None) as batch_op:
        batch_op.drop_index("ix_reports_reporter_id")
    with op.batch_alter_table("comments", schema=None) as batch_op:
        batch_op.create_index("ix_comments_author_id", ["author_id"])
        batch_op.drop_index("ix_comments_author_article")
