"""Comments, their states and their edit history."""

import enum
from datetime import datetime

from sqlalchemy import ColumnElement, Enum, ForeignKey, Index, String, Text, UniqueConstraint, false
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship

from forum.extensions import db
from forum.models.articles import Article
from forum.models.common import UTCDateTime, utcnow
from forum.models.imported import ImportedAuthor
from forum.models.users import User


class CommentStatus(enum.StrEnum):
    VISIBLE = "visible"
    PENDING = "pending"  # waiting for a moderator (pre-moderation)
    HIDDEN = "hidden"  # hidden by a moderator, reversible
    REJECTED = "rejected"  # pending comment a moderator turned down, kept for the record
    DELETED = "deleted"  # withdrawn by its author, kept for the record


def _enum(cls: type[enum.Enum], length: int = 20) -> Enum:
    return Enum(
        cls, native_enum=False, length=length, values_callable=lambda e: [m.value for m in e]
    )


class Comment(db.Model):
    __tablename__ = "comments"
    __table_args__ = (
        # The page loader's two queries: top-level comments of an article, and every
        # descendant of a set of top-level comments.
        Index("ix_comments_article_parent_created", "article_id", "parent_id", "created_at"),
        Index("ix_comments_root_id", "root_id"),
        # A reader's own comments under one article (their page's marks), and all of them.
        Index("ix_comments_author_article", "author_id", "article_id"),
        # Paging top-level threads in each sort straight off an index (no sort of the whole
        # discussion), and a thread's first replies in the order they were written.
        Index(
            "ix_comments_article_parent_created_id", "article_id", "parent_id", "created_at", "id"
        ),
        Index("ix_comments_article_parent_top_id", "article_id", "parent_id", "top_key", "id"),
        Index("ix_comments_root_created_id", "root_id", "created_at", "id"),
        # The few threads readers don't see (for moderators' and authors' extra rows), and
        # the pinned thread, without scanning every thread.
        Index("ix_comments_article_parent_listed", "article_id", "parent_id", "listed"),
        Index("ix_comments_article_pinned", "article_id", "pinned_at"),
        Index("ix_comments_notified_at", "notified_at"),
        # A retried post (the same form sent twice) stores one comment per account and key.
        UniqueConstraint(
            "author_id", "idempotency_key", name="uq_comments_author_id_idempotency_key"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id"))
    # A comment is written by an account (author_id) or was imported from another system
    # (imported_author_id): exactly one of the two is set.
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    imported_author_id: Mapped[int | None] = mapped_column(
        ForeignKey("imported_authors.id"), index=True
    )
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("comments.id"))
    # The top-level ancestor (None for a top-level comment) and the distance from it, kept
    # so that a whole page of threads loads in one query whatever its depth.
    root_id: Mapped[int | None] = mapped_column(ForeignKey("comments.id"))
    depth: Mapped[int] = mapped_column(default=0)
    body_md: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text)
    # The key of the form that posted it (made when the form was rendered), if any.
    idempotency_key: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[CommentStatus] = mapped_column(
        _enum(CommentStatus), default=CommentStatus.VISIBLE, index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    edited_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    hidden_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    hidden_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    hidden_reason: Mapped[str | None] = mapped_column(String(40))
    hidden_note: Mapped[str | None] = mapped_column(String(500))
    helpful_count: Mapped[int] = mapped_column(default=0)
    # Pinned to the top of the discussion by the article's author or a moderator.
    pinned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    pinned_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # Stored on top-level comments only, kept by forum.services.discussion_state:
    # whether readers see the thread at all (its root stands, or a reply under it does), how
    # many of its comments readers see, and its key in the "top" sort (ascending: the
    # negated score, so that ties go to the older thread straight off the index).
    # When the people concerned were told about it (None: not yet; posting leaves that to
    # a background thread after the response, and `notifications send` catches up).
    notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    listed: Mapped[bool] = mapped_column(default=False, server_default=false())
    visible_in_thread: Mapped[int] = mapped_column(default=0, server_default="0")
    top_key: Mapped[float] = mapped_column(default=0.0, server_default="0")

    article: Mapped[Article] = relationship()
    author: Mapped[User | None] = relationship(foreign_keys=[author_id])
    # selectin: one query for a whole page of comments, and none when nothing is imported.
    imported_author: Mapped[ImportedAuthor | None] = relationship(lazy="selectin")
    hidden_by: Mapped[User | None] = relationship(foreign_keys=[hidden_by_id])
    pinned_by: Mapped[User | None] = relationship(foreign_keys=[pinned_by_id])
    revisions: Mapped[list["CommentRevision"]] = relationship(
        back_populates="comment", order_by="CommentRevision.id"
    )

    @hybrid_property
    def is_visible(self) -> bool:
        """Whether readers can see this comment. On the class (or an alias of it) the same
        question is the SQL condition, so every query asks it by this one name."""
        return self.status is CommentStatus.VISIBLE

    @is_visible.inplace.expression
    @classmethod
    def _is_visible_clause(cls) -> ColumnElement[bool]:
        return cls.status == CommentStatus.VISIBLE

    @property
    def is_imported(self) -> bool:
        """Written elsewhere and imported (Disqus, WordPress, Isso): no account behind it."""
        return self.imported_author_id is not None

    @property
    def author_name(self) -> str:
        """The name shown for whoever wrote it ("[deleted user]" for a deleted account, an
        imported author's name as they gave it; never an email address)."""
        if self.author is not None:
            return self.author.name
        if self.imported_author is not None:
            return self.imported_author.name
        return "[unknown]"

    @property
    def is_top_level(self) -> bool:
        return self.parent_id is None

    @property
    def thread_root_id(self) -> int:
        """The id of the top-level comment of this comment's thread."""
        return self.root_id if self.root_id is not None else self.id


class CommentRevision(db.Model):
    """A earlier text of a comment, saved each time it is edited."""

    __tablename__ = "comment_revisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    comment_id: Mapped[int] = mapped_column(ForeignKey("comments.id"), index=True)
    body_md: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text)
    # When this text was written (the comment's creation or the previous edit).
    written_at: Mapped[datetime] = mapped_column(UTCDateTime)
    replaced_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    comment: Mapped[Comment] = relationship(back_populates="revisions")
