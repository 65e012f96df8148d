"""discussion state: a version per article, stored counts, thread order keys

Revision ID: a7c4e2b9d1f0
Revises: 45be35cdb4f7
Create Date: 2026-12-01 01:30:00

"""

import math
import secrets
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "a7c4e2b9d1f0"
down_revision = "45be35cdb4f7"
branch_labels = None
depends_on = None

# Same rule as forum.services.discussion_state.top_key (copied: migrations must not change
# when the application code does).
TOP_SECONDS_PER_DECADE = 45_000
UNVOTED_TOP_KEY = 1e12


def upgrade():
    with op.batch_alter_table("articles", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("discussion_version", sa.Integer(), server_default="1", nullable=False)
        )
        batch_op.add_column(
            sa.Column("comment_count", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(
            sa.Column("thread_count", sa.Integer(), server_default="0", nullable=False)
        )

    with op.batch_alter_table("comments", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("listed", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.add_column(
            sa.Column("visible_in_thread", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(sa.Column("top_key", sa.Float(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("notified_at", sa.DateTime(), nullable=True))
        batch_op.create_index(
            "ix_comments_article_parent_created_id",
            ["article_id", "parent_id", "created_at", "id"],
            unique=False,
        )
        batch_op.create_index(
            "ix_comments_article_parent_top_id",
            ["article_id", "parent_id", "top_key", "id"],
            unique=False,
        )
        batch_op.create_index(
            "ix_comments_root_created_id", ["root_id", "created_at", "id"], unique=False
        )
        batch_op.create_index(
            "ix_comments_article_parent_listed", ["article_id", "parent_id", "listed"], unique=False
        )
        batch_op.create_index(
            "ix_comments_article_pinned", ["article_id", "pinned_at"], unique=False
        )
        batch_op.create_index("ix_comments_notified_at", ["notified_at"], unique=False)

    _backfill(op.get_bind())


def _backfill(conn) -> None:
    """Count what the stored columns stand for, from the comments already there."""
    comments = sa.table(
        "comments",
        sa.column("id", sa.Integer),
        sa.column("article_id", sa.Integer),
        sa.column("parent_id", sa.Integer),
        sa.column("root_id", sa.Integer),
        sa.column("status", sa.String),
        sa.column("helpful_count", sa.Integer),
        sa.column("created_at", sa.DateTime),
        sa.column("listed", sa.Boolean),
        sa.column("visible_in_thread", sa.Integer),
        sa.column("top_key", sa.Float),
        sa.column("notified_at", sa.DateTime),
    )
    articles = sa.table(
        "articles",
        sa.column("id", sa.Integer),
        sa.column("discussion_version", sa.Integer),
        sa.column("comment_count", sa.Integer),
        sa.column("thread_count", sa.Integer),
    )
    replies = dict(
        conn.execute(
            sa.select(comments.c.root_id, sa.func.count(comments.c.id))
            .where(comments.c.root_id.is_not(None), comments.c.status == "visible")
            .group_by(comments.c.root_id)
        ).all()
    )
    totals: dict[int, list[int]] = {}
    roots = conn.execute(
        sa.select(
            comments.c.id,
            comments.c.article_id,
            comments.c.status,
            comments.c.helpful_count,
            comments.c.created_at,
        ).where(comments.c.parent_id.is_(None))
    ).all()
    for root in roots:
        visible_replies = replies.get(root.id, 0)
        in_thread = visible_replies + int(root.status == "visible")
        listed = root.status in ("visible", "hidden") or visible_replies > 0
        seconds = _utc_seconds(root.created_at)
        helpful = root.helpful_count or 0
        key = (
            -(math.log10(helpful) + seconds / TOP_SECONDS_PER_DECADE)
            if helpful > 0
            else UNVOTED_TOP_KEY + seconds
        )
        conn.execute(
            comments.update()
            .where(comments.c.id == root.id)
            .values(listed=listed, visible_in_thread=in_thread, top_key=key)
        )
        article_total = totals.setdefault(root.article_id, [0, 0])
        article_total[0] += in_thread
        article_total[1] += int(listed)
    # Comments already there were notified about when they were posted.
    conn.execute(comments.update().values(notified_at=comments.c.created_at))
    for article_id, (comment_count, thread_count) in totals.items():
        conn.execute(
            articles.update()
            .where(articles.c.id == article_id)
            .values(comment_count=comment_count, thread_count=thread_count)
        )
    # Random first versions, as new articles get: pages of a database rebuilt from scratch
    # must never share cache keys with the old one's.
    for (article_id,) in conn.execute(sa.select(articles.c.id)).all():
        conn.execute(
            articles.update()
            .where(articles.c.id == article_id)
            .values(discussion_version=secrets.randbelow(2**30) + 1)
        )


def _utc_seconds(created) -> float:
    """Seconds since the epoch of a stored naive-UTC timestamp (text when SQLite is read
    through a bare table)."""
    if created is None:
        return 0.0
    if isinstance(created, str):
        created = datetime.fromisoformat(created)
    return created.replace(tzinfo=UTC).timestamp()


def downgrade():
    with op.batch_alter_table("comments", schema=None) as batch_op:
        batch_op.drop_index("ix_comments_notified_at")
        batch_op.drop_index("ix_comments_article_pinned")
        batch_op.drop_index("ix_comments_article_parent_listed")
        batch_op.drop_index("ix_comments_root_created_id")
        batch_op.drop_index("ix_comments_article_parent_top_id")
        batch_op.drop_index("ix_comments_article_parent_created_id")
        batch_op.drop_column("notified_at")
        batch_op.drop_column("top_key")
        batch_op.drop_column("visible_in_thread")
        batch_op.drop_column("listed")

    with op.batch_alter_table("articles", schema=None) as batch_op:
        batch_op.drop_column("thread_count")
        batch_op.drop_column("comment_count")
        batch_op.drop_column("discussion_version")
