"""Series and the articles in them."""

import secrets
from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from forum.extensions import db
from forum.models.common import UTCDateTime, utcnow
from forum.models.users import User

# Long enough for real page addresses; an index on it still fits PostgreSQL's btree limit.
EXTERNAL_URL_MAX = 2000


def _first_version() -> int:
    """A random starting version, so a database rebuilt from scratch (or restored) never
    reuses the keys of pages still cached from the old one."""
    return secrets.randbelow(2**30) + 1


class Series(db.Model):
    __tablename__ = "series"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(120), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")

    articles: Mapped[list["Article"]] = relationship(
        back_populates="series", order_by="Article.position"
    )


class Article(db.Model):
    __tablename__ = "articles"
    __table_args__ = (
        UniqueConstraint("series_id", "position", name="uq_articles_series_position"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # active_history: a new address loads the old one first, so the commit can tell Redis
    # the article left it (forum/published_versions.py).
    slug: Mapped[str] = mapped_column(String(120), unique=True, active_history=True)
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(Text, default="")
    body_md: Mapped[str] = mapped_column(Text, default="")
    body_html: Mapped[str] = mapped_column(Text, default="")
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    series_id: Mapped[int | None] = mapped_column(ForeignKey("series.id"), index=True)
    position: Mapped[int | None]
    published_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    discussion_locked: Mapped[bool] = mapped_column(default=False)
    lock_reason: Mapped[str | None] = mapped_column(String(500))
    # Kept by forum.services.discussion_state, never by hand. The version changes on every
    # event that can change what anyone sees in the discussion: it keys the page cache and
    # the ETag. The counts spare every page a COUNT(*) over the discussion.
    discussion_version: Mapped[int] = mapped_column(default=_first_version, server_default="1")
    comment_count: Mapped[int] = mapped_column(default=0, server_default="0")
    thread_count: Mapped[int] = mapped_column(default=0, server_default="0")
    # An *external* article is a page on the publisher's own site, known here by its canonical
    # URL (forum.services.external_articles.canonical_url); it has a discussion but no body.
    external_url: Mapped[str | None] = mapped_column(String(EXTERNAL_URL_MAX), unique=True)

    author: Mapped[User] = relationship()
    series: Mapped[Series | None] = relationship(back_populates="articles")
    aliases: Mapped[list["ArticleAlias"]] = relationship(
        back_populates="article", cascade="all, delete-orphan"
    )

    @property
    def is_external(self) -> bool:
        return self.external_url is not None


class ArticleAlias(db.Model):
    """An earlier canonical URL of an external article, kept when its page moved
    (``articles remap``), so embeds and imports that still name the old address find it."""

    __tablename__ = "article_aliases"

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(String(EXTERNAL_URL_MAX), unique=True)
    article_id: Mapped[int] = mapped_column(
        ForeignKey("articles.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    article: Mapped[Article] = relationship(back_populates="aliases")
