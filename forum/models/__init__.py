"""Typed SQLAlchemy models. Pure data and small predicates: no request, url_for or app."""

from forum.models.articles import Article, ArticleAlias, Series
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
from forum.models.users import EmailPreference, Role, User

__all__ = [
    "Appeal",
    "AppealStatus",
    "Article",
    "ArticleAlias",
    "Comment",
    "CommentRevision",
    "CommentStatus",
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
