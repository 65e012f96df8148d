"""articles: external articles (a canonical URL on the publisher's site) and their old URLs

Revision ID: 6c017def5d01
Revises: c3f1d7a2e9b4
Create Date: 2026-12-01 03:30:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "6c017def5d01"
down_revision = "c3f1d7a2e9b4"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("articles", schema=None) as batch_op:
        batch_op.add_column(sa.Column("external_url", sa.String(length=2000), nullable=True))
        batch_op.create_unique_constraint("uq_articles_external_url", ["external_url"])

    op.create_table(
        "article_aliases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("url", sa.String(length=2000), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["article_id"],
            ["articles.id"],
            name=op.f("fk_article_aliases_article_id_articles"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_article_aliases")),
        sa.UniqueConstraint("url", name=op.f("uq_article_aliases_url")),
    )
    with op.batch_alter_table("article_aliases", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_article_aliases_article_id"), ["article_id"], unique=False
        )


def downgrade():
    with op.batch_alter_table("article_aliases", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_article_aliases_article_id"))
    op.drop_table("article_aliases")
    with op.batch_alter_table("articles", schema=None) as batch_op:
        batch_op.drop_constraint("uq_articles_external_url", type_="unique")
        batch_op.drop_column("external_url")
