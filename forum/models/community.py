"""Votes, follows, notifications and the outgoing mail queue."""

import enum
from datetime import datetime

from sqlalchemy import Enum, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from forum.extensions import db
from forum.models.articles import Article
from forum.models.comments import Comment
from forum.models.common import UTCDateTime, utcnow
from forum.models.users import User


def _enum(cls: type[enum.Enum]) -> Enum:
    return Enum(cls, native_enum=False, length=30, values_callable=lambda e: [m.value for m in e])


class Vote(db.Model):
    """A reader found a comment helpful. One per reader per comment."""

    __tablename__ = "votes"
    __table_args__ = (UniqueConstraint("comment_id", "user_id", name="uq_votes_comment_user"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    comment_id: Mapped[int] = mapped_column(ForeignKey("comments.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Follow(db.Model):
    """A reader hears about new comments in an article's discussion."""

    __tablename__ = "follows"
    __table_args__ = (UniqueConstraint("article_id", "user_id", name="uq_follows_article_user"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class NotificationKind(enum.StrEnum):
    REPLY = "reply"  # a reply to your comment
    MENTION = "mention"  # @you in a comment
    FOLLOWED = "followed"  # a new comment in a discussion you follow
    ARTICLE_COMMENT = "article-comment"  # a new top-level comment on your article
    HIDDEN = "hidden"  # a moderator hid your comment
    RESTORED = "restored"  # a moderator showed it again
    APPEAL_DECIDED = "appeal-decided"


class Notification(db.Model):
    __tablename__ = "notifications"
    __table_args__ = (
        Index("ix_notifications_user_read", "user_id", "read_at"),
        # Who was already told about these comments: every fan-out asks it first. Without
        # it SQLite read the whole table (the unique constraint leads with the user).
        Index("ix_notifications_comment_kind_user", "comment_id", "kind", "user_id"),
        # One notification per (person, comment, kind): posting can't notify twice.
        UniqueConstraint(
            "user_id", "comment_id", "kind", name="uq_notifications_user_comment_kind"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[NotificationKind] = mapped_column(_enum(NotificationKind))
    comment_id: Mapped[int | None] = mapped_column(ForeignKey("comments.id"))
    article_id: Mapped[int | None] = mapped_column(ForeignKey("articles.id"))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # Extra words, e.g. the reason a comment was hidden.
    detail: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Email delivery: None = not due (or the user doesn't want email).
    email_due: Mapped[bool] = mapped_column(default=False, index=True)
    emailed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    actor: Mapped[User | None] = relationship(foreign_keys=[actor_id])
    comment: Mapped[Comment | None] = relationship()
    article: Mapped[Article | None] = relationship()


class OutgoingEmail(db.Model):
    """An email waiting to be sent (or sent). Sending never happens inside a page request's
    transaction: a failure is recorded here and retried by ``flask notifications send``."""

    __tablename__ = "outgoing_emails"

    id: Mapped[int] = mapped_column(primary_key=True)
    to_address: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)  # the plain-text part, always sent
    # The HTML alternative (rendered from templates/email/*.html); rows queued before it
    # existed have none and go out as plain text only.
    html_body: Mapped[str | None] = mapped_column(Text)
    # Optional List-Unsubscribe target (a one-click URL).
    unsubscribe_url: Mapped[str | None] = mapped_column(String(1000))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(String(1000))
