"""Typed SQLAlchemy models. Pure data and small predicates: no request, url_for or app."""

from forum.models.articles import Article, Series
from forum.models.comments import Comment, CommentRevision, CommentStatus
from forum.models.common import utcnow
from forum.models.community import (
    Follow,
    Notification,
    NotificationKind,
    OutgoingEmail,
    Vote,
)
from forum.models.moderation import (
    Appeal,
    AppealStatus,
    HideReason,
    ModAction,
    ModerationAction,
    Report,
    ReportStatus,
)
from forum.models.profiles import AvatarImage, DisplayNameChange
from forum.models.users import EmailPreference, Role, User

__all__ = [
    "Appeal",
    "AppealStatus",
    "Article",
    "AvatarImage",
    "Comment",
    "CommentRevision",
    "CommentStatus",
    "DisplayNameChange",
    "EmailPreference",
    "Follow",
    "HideReason",
    "ModAction",
    "ModerationAction",
    "Notification",
    "NotificationKind",
    "OutgoingEmail",
    "Report",
    "ReportStatus",
    "Role",
    "Series",
    "User",
    "Vote",
    "utcnow",
]
