"""Typed SQLAlchemy models. Pure data and small predicates: no request, url_for or app."""

from forum.models.api_tokens import ApiToken, TokenScope
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
from forum.models.drafts import KeptDraft
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
    "ApiToken",
    "Appeal",
    "AppealStatus",
    "Article",
    "ArticleAlias",
    "AvatarImage",
    "Comment",
    "CommentRevision",
    "CommentStatus",
    "DisplayNameChange",
    "EmailPreference",
    "Follow",
    "HideReason",
    "KeptDraft",
    "ModAction",
    "ModerationAction",
    "Notification",
    "NotificationKind",
    "OutgoingEmail",
    "Report",
    "ReportStatus",
    "Role",
    "Series",
    "TokenScope",
    "User",
    "Vote",
    "utcnow",
]
