"""The moderators' operations of the JSON API: the queue, hiding and unhiding, pre-moderation,
reports, appeals, locks, suspensions, and the moderation log.

Each one calls the same service function as its HTML route (forum/moderation/views.py) and
so refuses the same callers with the same status: the services hold every rule. What the
HTML area's ``before_request`` guard does before a form is read, ``staff_only`` does here
before the body is validated, so the order of refusals is the pages' too: 401 for nobody
(the pages send them to log in), 403 for a caller who isn't a moderator in good standing,
404 for an unknown comment, article, person or appeal, then 400 for a bad body, then 409
for a state that doesn't allow the action."""

from collections.abc import Callable
from functools import wraps

from forum.api.callers import current_api_caller
from forum.api.core import MODERATE, READ, bp, operation, scope_allows
from forum.api.cursors import decode_cursor, encode_cursor
from forum.api.moderation_schemas import (
    AppealPage,
    AppealView,
    ArticleLock,
    DismissedReports,
    HideRequest,
    ModeratedComment,
    ModerationListQuery,
    ModerationLogEntry,
    ModerationLogPage,
    ModerationLogQuery,
    ModerationReason,
    PendingPage,
    QueueEntry,
    QueuePage,
    SuspendRequest,
    Suspension,
)
from forum.models import User
from forum.services import (
    accounts,
    appeals,
    articles,
    moderation,
    permissions,
    premoderation,
    sanctions,
    threads,
)

TAGS = ("moderation",)

# What each path parameter names, looked up before anything else is read (an unknown one
# is a 404, as on the pages).
TARGETS: dict[str, Callable] = {
    "comment_id": threads.get_comment,
    "appeal_id": appeals.get_appeal,
    "slug": articles.get_article,
    "username": accounts.get_by_username,
}


def _moderator() -> User:
    """The acting moderator: the caller, refused unless a moderator in good standing."""
    actor = current_api_caller().user
    moderation.require_moderator(actor)
    return actor


def staff_only(view: Callable) -> Callable:
    """Refuse non-moderators, then unknown targets, before the body is validated: the HTML
    moderation area's guard, for the API. Goes above ``operation``."""

    @wraps(view)
    def guarded(**kwargs):
        _moderator()
        for name, value in kwargs.items():
            TARGETS[name](value)
        return view(**kwargs)

    return guarded


def _page(list_name: str, items: list, key: Callable, limit: int) -> tuple[list, str | None]:
    """The page's items and the cursor after its last, when there are more: ``items`` is
    what the service found for ``limit + 1``, so one more than a page means another page."""
    if len(items) <= limit:
        return items, None
    items = items[:limit]
    return items, encode_cursor(list_name, key(items[-1]))


def _position(list_name: str, cursor: str | None, width: int) -> tuple | None:
    return tuple(decode_cursor(list_name, cursor, width)) if cursor else None


# --- the queue --------------------------------------------------------------------------------


@bp.get("/moderation/queue")
@staff_only
@operation(scope=MODERATE, ok=QueuePage, query=ModerationListQuery, tags=TAGS)
def moderation_queue(query: ModerationListQuery):
    """Reported comments with their open reports, the most recently reported first."""
    actor = _moderator()
    found = moderation.report_queue_after(_position("queue", query.cursor, 2), query.limit + 1)
    items, after = _page("queue", found, lambda item: (item.newest, item.comment.id), query.limit)
    return QueuePage(items=[QueueEntry.of(item, actor) for item in items], next=after)


@bp.get("/moderation/queue/pending")
@staff_only
@operation(scope=MODERATE, ok=PendingPage, query=ModerationListQuery, tags=TAGS)
def moderation_pending(query: ModerationListQuery):
    """Comments waiting for review (pre-moderation), the longest waiting first."""
    actor = _moderator()
    found = premoderation.pending_comments_after(
        _position("pending", query.cursor, 2), query.limit + 1
    )
    items, after = _page("pending", found, lambda c: (c.created_at, c.id), query.limit)
    return PendingPage(items=[ModeratedComment.of(c, actor) for c in items], next=after)


@bp.get("/moderation/queue/appeals")
@staff_only
@operation(scope=MODERATE, ok=AppealPage, query=ModerationListQuery, tags=TAGS)
def moderation_appeals(query: ModerationListQuery):
    """Open appeals of hidden comments, the oldest first."""
    actor = _moderator()
    found = appeals.open_appeals_after(_position("appeals", query.cursor, 2), query.limit + 1)
    items, after = _page("appeals", found, lambda a: (a.created_at, a.id), query.limit)
    return AppealPage(items=[AppealView.of(a, actor) for a in items], next=after)


# --- comments ---------------------------------------------------------------------------------


@bp.post("/comments/<int:comment_id>/hide")
@staff_only
@operation(scope=MODERATE, ok=ModeratedComment, json=HideRequest, tags=TAGS)
def hide_comment(comment_id: int, json: HideRequest):
    """Hide a visible comment for a preset reason; its open reports are marked actioned."""
    actor = _moderator()
    comment = moderation.hide_comment(
        actor, threads.get_comment(comment_id), json.reason.value, json.note
    )
    return ModeratedComment.of(comment, actor)


@bp.post("/comments/<int:comment_id>/unhide")
@staff_only
@operation(scope=MODERATE, ok=ModeratedComment, tags=TAGS, errors=(409,))
def unhide_comment(comment_id: int):
    """Show a hidden comment again."""
    actor = _moderator()
    comment = moderation.unhide_comment(actor, threads.get_comment(comment_id))
    return ModeratedComment.of(comment, actor)


@bp.post("/comments/<int:comment_id>/approve")
@staff_only
@operation(scope=MODERATE, ok=ModeratedComment, tags=TAGS, errors=(409,))
def approve_comment(comment_id: int):
    """Approve a comment waiting for review: it becomes visible."""
    actor = _moderator()
    comment = premoderation.approve_comment(actor, threads.get_comment(comment_id))
    return ModeratedComment.of(comment, actor)


@bp.post("/comments/<int:comment_id>/reject")
@staff_only
@operation(scope=MODERATE, ok=ModeratedComment, json=HideRequest, tags=TAGS)
def reject_comment(comment_id: int, json: HideRequest):
    """Turn down a comment waiting for review; its author can still see it."""
    actor = _moderator()
    comment = premoderation.reject_comment(
        actor, threads.get_comment(comment_id), json.reason.value, json.note
    )
    return ModeratedComment.of(comment, actor)


@bp.post("/comments/<int:comment_id>/dismiss")
@staff_only
@operation(scope=MODERATE, ok=DismissedReports, json=ModerationReason, tags=TAGS)
def dismiss_reports(comment_id: int, json: ModerationReason):
    """Close the open reports on a comment, leaving the comment as it is."""
    actor = _moderator()
    comment = threads.get_comment(comment_id)
    closed = moderation.dismiss_reports(actor, comment, json.reason)
    return DismissedReports(dismissed=closed, comment=ModeratedComment.of(comment, actor))


# --- appeals ----------------------------------------------------------------------------------


def _decide(appeal_id: int, granted: bool, reason: str) -> AppealView:
    actor = _moderator()
    item = appeals.decide_appeal(actor, appeals.get_appeal(appeal_id), granted, reason)
    return AppealView.of(item, actor)


@bp.post("/appeals/<int:appeal_id>/grant")
@staff_only
@operation(scope=MODERATE, ok=AppealView, json=ModerationReason, tags=TAGS)
def grant_appeal(appeal_id: int, json: ModerationReason):
    """Grant an appeal: the hidden comment is shown again."""
    return _decide(appeal_id, True, json.reason)


@bp.post("/appeals/<int:appeal_id>/deny")
@staff_only
@operation(scope=MODERATE, ok=AppealView, json=ModerationReason, tags=TAGS)
def deny_appeal(appeal_id: int, json: ModerationReason):
    """Deny an appeal: the comment stays hidden."""
    return _decide(appeal_id, False, json.reason)


# --- discussions ------------------------------------------------------------------------------


@bp.post("/articles/<slug>/lock")
@staff_only
@operation(scope=MODERATE, ok=ArticleLock, json=ModerationReason, tags=TAGS)
def lock_article(slug: str, json: ModerationReason):
    """Close an article's discussion to new comments, with a reason readers see."""
    article = sanctions.lock_article(_moderator(), articles.get_article(slug), json.reason)
    return ArticleLock.of(article)


@bp.post("/articles/<slug>/unlock")
@staff_only
@operation(scope=MODERATE, ok=ArticleLock, json=ModerationReason, tags=TAGS)
def unlock_article(slug: str, json: ModerationReason):
    """Open a locked discussion again."""
    article = sanctions.unlock_article(_moderator(), articles.get_article(slug), json.reason)
    return ArticleLock.of(article)


# --- people -----------------------------------------------------------------------------------


@bp.post("/users/<username>/suspend")
@staff_only
@operation(scope=MODERATE, ok=Suspension, json=SuspendRequest, tags=TAGS)
def suspend_user(username: str, json: SuspendRequest):
    """Suspend a member for some days, or indefinitely (``days`` null)."""
    target = accounts.get_by_username(username)
    return Suspension.of(sanctions.suspend_user(_moderator(), target, json.days, json.reason))


@bp.post("/users/<username>/unsuspend")
@staff_only
@operation(scope=MODERATE, ok=Suspension, json=ModerationReason, tags=TAGS)
def unsuspend_user(username: str, json: ModerationReason):
    """Lift a member's suspension."""
    target = accounts.get_by_username(username)
    return Suspension.of(sanctions.unsuspend_user(_moderator(), target, json.reason))


# --- the log ----------------------------------------------------------------------------------


@bp.get("/moderation/log")
@operation(scope=READ, ok=ModerationLogPage, query=ModerationLogQuery, tags=TAGS)
def moderation_log(query: ModerationLogQuery):
    """The moderation log, newest first, for everyone, as the HTML log is public. Private
    notes only for moderators (as on the HTML log) acting with the ``moderate`` scope: a
    moderator's read-only token reads the public log."""
    caller = current_api_caller()
    full_view = permissions.is_moderator(caller.user) and scope_allows(caller.scope, MODERATE)
    after = _position("log", query.cursor, 1)
    found = moderation.log_after(
        after[0] if after else None,
        query.limit + 1,
        action=query.action.value if query.action else None,
        moderator=query.moderator,
    )
    items, cursor = _page("log", found, lambda entry: (entry.id,), query.limit)
    return ModerationLogPage(
        items=[ModerationLogEntry.of(entry, full_view) for entry in items], next=cursor
    )
