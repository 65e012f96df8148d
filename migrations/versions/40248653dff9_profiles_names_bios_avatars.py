"""profiles: display-name log, bios, uploaded avatars, confusable-name skeletons

Revision ID: 40248653dff9
Revises: d277a0efa3cb
Create Date: 2026-12-01 03:30:00

"""

import sqlalchemy as sa
from alembic import op

from forum.services.names import skeleton

# revision identifiers, used by Alembic.
revision = "40248653dff9"
down_revision = "d277a0efa3cb"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "display_name_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("old_name", sa.String(length=60), nullable=True),
        sa.Column("new_name", sa.String(length=60), nullable=True),
        sa.Column("changed_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_display_name_changes_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_display_name_changes")),
    )
    with op.batch_alter_table("display_name_changes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_display_name_changes_user_id"), ["user_id"], unique=False
        )
    op.create_table(
        "avatar_images",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("media_type", sa.String(length=40), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_avatar_images_user_id_users")
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_avatar_images")),
    )
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("username_skeleton", sa.String(length=255), nullable=True))
        batch_op.add_column(
            sa.Column("display_name_skeleton", sa.String(length=255), nullable=True)
        )
        batch_op.add_column(sa.Column("bio_md", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("bio_html", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("avatar_hash", sa.String(length=64), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_users_username_skeleton"), ["username_skeleton"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_users_display_name_skeleton"), ["display_name_skeleton"], unique=False
        )

    # Existing accounts get their skeletons, so new names are compared with theirs too.
    users = sa.table(
        "users",
        sa.column("id", sa.Integer),
        sa.column("username", sa.String),
        sa.column("display_name", sa.String),
        sa.column("username_skeleton", sa.String),
        sa.column("display_name_skeleton", sa.String),
    )
    connection = op.get_bind()
    rows = connection.execute(sa.select(users.c.id, users.c.username, users.c.display_name))
    for user_id, username, display_name in rows.all():
        connection.execute(
            users.update()
            .where(users.c.id == user_id)
            .values(
                username_skeleton=skeleton(username),
                display_name_skeleton=skeleton(display_name) if display_name else None,
            )
        )


def downgrade():
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_users_display_name_skeleton"))
        batch_op.drop_index(batch_op.f("ix_users_username_skeleton"))
        batch_op.drop_column("avatar_hash")
        batch_op.drop_column("bio_html")
        batch_op.drop_column("bio_md")
        batch_op.drop_column("display_name_skeleton")
        batch_op.drop_column("username_skeleton")
    op.drop_table("avatar_images")
    with op.batch_alter_table("display_name_changes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_display_name_changes_user_id"))
    op.drop_table("display_name_changes")
