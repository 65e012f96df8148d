"""Appeals: the author of a hidden comment asks, once, for another look; a moderator decides."""

from datetime import datetime

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import joinedload

from forum.extensions import db
from forum.models import (
    Appeal,
    AppealStatus,
    Comment,
    CommentStatus,
    ModAction,
    NotificationKind,
    User,
    utcnow,
)
from forum.services import notifications, webhooks
from forum.services.errors import Conflict, Forbidden, NotAllowed, NotFound
from forum.services.locking import commit_once, lock
from forum.services.moderation import record_comment_action, require_moderator, restore_comment
from forum.services.text import clean_text
from forum.services.wording import _l


def appeal(author: User, comment: Comment, message: str) -> Appeal:
    """The author of a hidden comment asks once for another look."""
    if comment.author_id != author.id:
        raise Forbidden(_l("Only the comment's author can appeal."))
    if comment.status is not CommentStatus.HIDDEN:
        raise Conflict(_l("Only hidden comments can be appealed."))
    message = clean_text(message).strip()
    if not message:
        raise NotAllowed(_l("Say briefly why the comment should be shown again."), field="message")
    if len(message) > 1000:
        raise NotAllowed(_l("Keep the appeal under 1,000 characters."), field="message")
    if db.session.execute(select(Appeal.id).where(Appeal.comment_id == comment.id)).first():
        raise Conflict(
            _l("This comment has already been appealed; each comment can be appealed once.")
        )
    item = Appeal(comment=comment, author=author, message=message)
    db.session.add(item)
    webhooks.emit(webhooks.Event.APPEAL_FILED, webhooks.appeal_payload(item))
    commit_once(
        lambda: Conflict(
            _l("This comment has already been appealed; each comment can be appealed once.")
        )
    )
    return item


def get_appeal(appeal_id: int) -> Appeal:
    """The appeal with this number, or NotFound."""
    item = db.session.get(Appeal, appeal_id)
    if item is None:
        raise NotFound(_l("No appeal has that number."))
    return item


def _open_appeals_query():
    return (
        select(Appeal)
        .options(
            # The queue shows each appealed comment with its article and who hid it; its
            # author is the appeal's.
            joinedload(Appeal.comment).options(
                joinedload(Comment.article), joinedload(Comment.hidden_by)
            ),
            joinedload(Appeal.author),
        )
        .where(Appeal.status == AppealStatus.OPEN)
        .order_by(Appeal.created_at, Appeal.id)
    )


def open_appeals(limit: int = 50) -> list[Appeal]:
    """Appeals waiting for a decision, the oldest first."""
    return list(db.session.execute(_open_appeals_query().limit(limit)).scalars())


def open_appeals_after(after: tuple[datetime, int] | None, limit: int) -> list[Appeal]:
    """Up to ``limit`` open appeals, oldest first, after the one whose (created_at, id) is
    ``after``."""
    query = _open_appeals_query()
    if after is not None:
        at, appeal_id = after
        query = query.where(
            or_(Appeal.created_at > at, and_(Appeal.created_at == at, Appeal.id > appeal_id))
        )
    return list(db.session.execute(query.limit(max(limit, 1))).scalars())


def decide_appeal(actor: User, item: Appeal, grant: bool, note: str = "") -> Appeal:
    """Grant (the comment is shown again) or deny an appeal; either way it's logged."""
    require_moderator(actor)
    lock(item)  # the state below is read again, and held until the commit
    if item.status is not AppealStatus.OPEN:
        raise Conflict(_l("That appeal has already been decided."))
    item.status = AppealStatus.GRANTED if grant else AppealStatus.DENIED
    item.resolved_at, item.resolved_by_id = utcnow(), actor.id
    comment = item.comment
    if grant and comment.status is CommentStatus.HIDDEN:
        restore_comment(actor, comment, ModAction.UNHIDE, note)
    decision = ModAction.APPEAL_GRANTED if grant else ModAction.APPEAL_DENIED
    # The appeal's author is the comment's author: only they can appeal.
    record_comment_action(actor, decision, comment, reason=note or "")
    outcome = "appeal granted: shown again" if grant else "appeal denied: stays hidden"
    notifications.notify_moderated(comment, NotificationKind.APPEAL_DECIDED, actor, outcome)
    db.session.commit()
    return item
