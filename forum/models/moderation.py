"""Reports, appeals and the append-only moderation log."""

import enum
from datetime import datetime

from sqlalchemy import Enum, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from forum.extensions import db
from forum.models.articles import Article
from forum.models.comments import Comment
from forum.models.common import UTCDateTime, utcnow
from forum.models.users import User


def _enum(cls: type[enum.Enum]) -> Enum:
    return Enum(cls, native_enum=False, length=30, values_callable=lambda e: [m.value for m in e])


class HideReason(enum.StrEnum):
    """Preset categories for hiding and reporting; the label is what readers see."""

    SPAM = "spam"
    ABUSE = "abuse"
    OFF_TOPIC = "off-topic"
    PERSONAL_INFORMATION = "personal-information"
    OTHER = "other"

    @property
    def label(self) -> str:
        return self.value.replace("-", " ")


class ReportStatus(enum.StrEnum):
    OPEN = "open"
    DISMISSED = "dismissed"
    ACTIONED = "actioned"  # the comment was hidden because of it


class AppealStatus(enum.StrEnum):
    OPEN = "open"
    GRANTED = "granted"
    DENIED = "denied"


class ModAction(enum.StrEnum):
    HIDE = "hide"
    UNHIDE = "unhide"
    APPROVE = "approve"
    REJECT = "reject"
    DISMISS = "dismiss"
    LOCK = "lock"
    UNLOCK = "unlock"
    SUSPEND = "suspend"
    UNSUSPEND = "unsuspend"
    ROLE_CHANGE = "role-change"
    TRUST = "trust"
    APPEAL_GRANTED = "appeal-granted"
    APPEAL_DENIED = "appeal-denied"


class Report(db.Model):
    __tablename__ = "reports"
    __table_args__ = (
        UniqueConstraint("comment_id", "reporter_id", name="uq_reports_comment_reporter"),
        Index("ix_reports_status_created", "status", "created_at"),
        Index("ix_reports_reporter_id", "reporter_id"),  # what a reader reported, on their pages
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    comment_id: Mapped[int] = mapped_column(ForeignKey("comments.id"))
    reporter_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    category: Mapped[HideReason] = mapped_column(_enum(HideReason))
    note: Mapped[str] = mapped_column(String(500), default="")
    status: Mapped[ReportStatus] = mapped_column(_enum(ReportStatus), default=ReportStatus.OPEN)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    comment: Mapped[Comment] = relationship()
    reporter: Mapped[User] = relationship(foreign_keys=[reporter_id])


class Appeal(db.Model):
    __tablename__ = "appeals"

    id: Mapped[int] = mapped_column(primary_key=True)
    # One appeal per comment, ever.
    comment_id: Mapped[int] = mapped_column(ForeignKey("comments.id"), unique=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    message: Mapped[str] = mapped_column(String(1000))
    status: Mapped[AppealStatus] = mapped_column(_enum(AppealStatus), default=AppealStatus.OPEN)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    comment: Mapped[Comment] = relationship()
    author: Mapped[User] = relationship(foreign_keys=[author_id])


class ModerationAction(db.Model):
    """One moderator action. Rows are only ever added, never changed or removed."""

    __tablename__ = "moderation_actions"

    id: Mapped[int] = mapped_column(primary_key=True)
    actor_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    action: Mapped[ModAction] = mapped_column(_enum(ModAction), index=True)
    comment_id: Mapped[int | None] = mapped_column(ForeignKey("comments.id"))
    article_id: Mapped[int | None] = mapped_column(ForeignKey("articles.id"))
    target_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # Public reason (a category or a short text) and the moderator's private note.
    reason: Mapped[str] = mapped_column(String(500), default="")
    note: Mapped[str] = mapped_column(String(1000), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

    actor: Mapped[User] = relationship(foreign_keys=[actor_id])
    target_user: Mapped[User | None] = relationship(foreign_keys=[target_user_id])
    comment: Mapped[Comment | None] = relationship()
    article: Mapped[Article | None] = relationship()
