"""imports: imported authors, where imported comments came from, comments without an account

Revision ID: b9135c2c020e
Revises: 40248653dff9
Create Date: 2026-12-01 03:40:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "b9135c2c020e"
down_revision = "40248653dff9"
branch_labels = None
depends_on = None

# Downgrading keeps imported comments: they go to one account of this name, which has no
# password (nobody can log in as it), since the old schema needs an account on every comment.
PLACEHOLDER = "imported"


def upgrade():
    op.create_table(
        "imported_authors",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("source_key", sa.String(length=300), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("url", sa.String(length=2000), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_imported_authors")),
        sa.UniqueConstraint(
            "source", "source_key", name="uq_imported_authors_source_source_key"
        ),
    )
    with op.batch_alter_table("comments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("imported_author_id", sa.Integer(), nullable=True))
        batch_op.alter_column("author_id", existing_type=sa.Integer(), nullable=True)
        batch_op.create_index(
            batch_op.f("ix_comments_imported_author_id"), ["imported_author_id"], unique=False
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_comments_imported_author_id_imported_authors"),
            "imported_authors",
            ["imported_author_id"],
            ["id"],
        )
    op.create_table(
        "comment_sources",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("comment_id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("thread_key", sa.String(length=300), nullable=False),
        sa.Column("source_id", sa.String(length=300), nullable=False),
        sa.Column("body_format", sa.String(length=10), nullable=False),
        sa.Column("imported_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["comment_id"],
            ["comments.id"],
            name=op.f("fk_comment_sources_comment_id_comments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_comment_sources")),
        sa.UniqueConstraint("comment_id", name=op.f("uq_comment_sources_comment_id")),
        sa.UniqueConstraint(
            "source", "thread_key", "source_id", name="uq_comment_sources_source_thread_id"
        ),
    )


def downgrade():
    op.drop_table("comment_sources")
    connection = op.get_bind()
    orphaned = connection.execute(
        sa.text("SELECT COUNT(*) FROM comments WHERE author_id IS NULL")
    ).scalar()
    if orphaned:
        placeholder = connection.execute(
            sa.text("SELECT id FROM users WHERE username_key = :key"), {"key": PLACEHOLDER}
        ).scalar()
        if placeholder is None:
            connection.execute(
                sa.text(
                    "INSERT INTO users (username, username_key, password_hash, role,"
                    " created_at, session_token, email_preference, email_confirmed,"
                    " trusted)"
                    " VALUES (:name, :name, '!imported', 'reader', CURRENT_TIMESTAMP,"
                    " 'imported-placeholder', 'none', false, false)"
                ),
                {"name": PLACEHOLDER},
            )
            placeholder = connection.execute(
                sa.text("SELECT id FROM users WHERE username_key = :key"), {"key": PLACEHOLDER}
            ).scalar()
        connection.execute(
            sa.text("UPDATE comments SET author_id = :id WHERE author_id IS NULL"),
            {"id": placeholder},
        )
    with op.batch_alter_table("comments", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_comments_imported_author_id_imported_authors"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_comments_imported_author_id"))
        batch_op.alter_column("author_id", existing_type=sa.Integer(), nullable=False)
        batch_op.drop_column("imported_author_id")
    op.drop_table("imported_authors")
