"""The shapes of the moderators' API operations: what they accept and what they answer.

The same pydantic models validate requests, shape responses and make these operations'
entries in the OpenAPI document. Limits repeat the HTML forms' (forum/moderation/forms.py):
a note or reason of at most 500 characters; the services still enforce every rule."""

from datetime import datetime

from pydantic import BaseModel, Field

from forum.api.shapes import ApiComment, comment_out, shown_alone
from forum.models import (
    Appeal,
    AppealStatus,
    Article,
    Comment,
    CommentStatus,
    HideReason,
    ModAction,
    ModerationAction,
    Report,
    Role,
    User,
)
from forum.services.moderation import QueueItem

TEXT_LIMIT = 500  # the HTML forms' limit on a note or a reason
USERNAME_LIMIT = 200  # far beyond any username; bounds the log's filter

# --- requests ---------------------------------------------------------------------------------


class HideRequest(BaseModel):
    """Hiding (or rejecting) a comment: a preset reason readers see, a note they don't."""

    reason: HideReason
    note: str = Field("", max_length=TEXT_LIMIT, description="A private note for moderators.")


class ModerationReason(BaseModel):
    """An action with an optional reason, shown in the public log."""

    reason: str = Field("", max_length=TEXT_LIMIT)


class SuspendRequest(BaseModel):
    """A suspension: whole days (the HTML form offers 1, 3, 7 and 30), or null for
    indefinitely; the reason is shown to the member."""

    days: int | None = Field(..., ge=1, le=3650)
    reason: str = Field(..., max_length=TEXT_LIMIT)


class ModerationListQuery(BaseModel):
    cursor: str | None = Field(None, max_length=1000, description="The `next` of a page.")
    limit: int = Field(20, ge=1, le=100)


class ModerationLogQuery(ModerationListQuery):
    """The log's filters, as on the HTML log page."""

    action: ModAction | None = None
    moderator: str | None = Field(None, max_length=USERNAME_LIMIT)


# --- responses --------------------------------------------------------------------------------


class ModerationPerson(BaseModel):
    username: str
    name: str

    @classmethod
    def of(cls, user: User) -> "ModerationPerson":
        return cls(username=user.username, name=user.name)


class ModerationArticle(BaseModel):
    slug: str
    title: str

    @classmethod
    def of(cls, article: Article) -> "ModerationArticle":
        return cls(slug=article.slug, title=article.title)


class HiddenState(BaseModel):
    """Why and by whom a hidden or rejected comment was taken out of the discussion."""

    reason: str | None
    note: str | None
    at: datetime | None
    by: str | None  # the moderator's username


class ModeratedComment(ApiComment):
    """A comment as a moderator sees it: the API's comment (forum/api/shapes.py, the page's
    rules: text and source whatever its state, but not a comment its author withdrew), with
    its article's title and, once hidden or rejected, why, by whom and the private note."""

    article_title: str
    hidden: HiddenState | None

    @classmethod
    def of(cls, comment: Comment, viewer: User) -> "ModeratedComment":
        seen = comment_out(comment, viewer, shown_alone(comment, viewer))
        taken_out = comment.status in (CommentStatus.HIDDEN, CommentStatus.REJECTED)
        return cls(
            **seen.model_dump(),
            article_title=comment.article.title,
            hidden=HiddenState(
                reason=comment.hidden_reason,
                note=comment.hidden_note,
                at=comment.hidden_at,
                by=comment.hidden_by.username if comment.hidden_by else None,
            )
            if taken_out
            else None,
        )


class QueueReport(BaseModel):
    id: int
    category: HideReason
    note: str
    reporter: str  # the reporter's username: moderators see it, the reported person never
    created_at: datetime

    @classmethod
    def of(cls, report: Report) -> "QueueReport":
        return cls(
            id=report.id,
            category=report.category,
            note=report.note,
            reporter=report.reporter.username,
            created_at=report.created_at,
        )


class QueueEntry(BaseModel):
    """A reported comment with its open reports, newest first."""

    comment: ModeratedComment
    newest_report_at: datetime
    categories: dict[str, int]
    reports: list[QueueReport]

    @classmethod
    def of(cls, item: QueueItem, viewer: User) -> "QueueEntry":
        return cls(
            comment=ModeratedComment.of(item.comment, viewer),
            newest_report_at=item.newest,
            categories=item.categories,
            reports=[QueueReport.of(report) for report in item.reports],
        )


class QueuePage(BaseModel):
    """Reported comments, the most recently reported first (the HTML queue's order)."""

    items: list[QueueEntry]
    next: str | None


class PendingPage(BaseModel):
    """Comments waiting for review, the longest waiting first."""

    items: list[ModeratedComment]
    next: str | None


class AppealView(BaseModel):
    id: int
    status: AppealStatus
    message: str
    author: ModerationPerson
    created_at: datetime
    resolved_at: datetime | None
    comment: ModeratedComment

    @classmethod
    def of(cls, appeal: Appeal, viewer: User) -> "AppealView":
        return cls(
            id=appeal.id,
            status=appeal.status,
            message=appeal.message,
            author=ModerationPerson.of(appeal.author),
            created_at=appeal.created_at,
            resolved_at=appeal.resolved_at,
            comment=ModeratedComment.of(appeal.comment, viewer),
        )


class AppealPage(BaseModel):
    """Open appeals, the oldest first."""

    items: list[AppealView]
    next: str | None


class DismissedReports(BaseModel):
    dismissed: int = Field(description="How many open reports were closed.")
    comment: ModeratedComment


class ArticleLock(BaseModel):
    slug: str
    title: str
    discussion_locked: bool
    lock_reason: str | None

    @classmethod
    def of(cls, article: Article) -> "ArticleLock":
        return cls(
            slug=article.slug,
            title=article.title,
            discussion_locked=article.discussion_locked,
            lock_reason=article.lock_reason,
        )


class Suspension(BaseModel):
    """A member's standing: suspended or not, until when (null: not suspended, or
    indefinitely when ``indefinite``) and why."""

    username: str
    name: str
    role: Role
    suspended: bool
    indefinite: bool
    suspended_until: datetime | None
    reason: str | None

    @classmethod
    def of(cls, user: User) -> "Suspension":
        suspended = user.is_suspended()
        indefinite = suspended and user.suspended_indefinitely
        return cls(
            username=user.username,
            name=user.name,
            role=user.role,
            suspended=suspended,
            indefinite=indefinite,
            # The far-future date stored for "indefinitely" is not a date anyone should show.
            suspended_until=user.suspended_until if suspended and not indefinite else None,
            reason=user.suspension_reason if suspended else None,
        )


class ModerationLogEntry(BaseModel):
    """One moderator action. ``note`` is private: null for everyone but moderators, as the
    HTML log leaves it out of its public view."""

    id: int
    created_at: datetime
    actor: str  # the moderator's username
    action: ModAction
    comment_id: int | None
    article: ModerationArticle | None
    target_user: str | None
    reason: str
    note: str | None

    @classmethod
    def of(cls, entry: ModerationAction, full_view: bool) -> "ModerationLogEntry":
        return cls(
            id=entry.id,
            created_at=entry.created_at,
            actor=entry.actor.username,
            action=entry.action,
            comment_id=entry.comment_id,
            article=ModerationArticle.of(entry.article) if entry.article else None,
            target_user=entry.target_user.username if entry.target_user else None,
            reason=entry.reason,
            note=entry.note if full_view else None,
        )


class ModerationLogPage(BaseModel):
    """The moderation log, newest first."""

    items: list[ModerationLogEntry]
    next: str | None
