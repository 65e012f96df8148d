"""Pre-moderation and trust: which accounts' comments wait for a moderator, how many links a
young account may post, and approving or rejecting what waits."""

from datetime import datetime, timedelta

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import joinedload

from forum.extensions import db
from forum.models import (
    Comment,
    CommentStatus,
    ModAction,
    Role,
    User,
    utcnow,
)
from forum.services import mentions, notifications
from forum.services.errors import Conflict, NotAllowed
from forum.services.locking import lock
from forum.services.moderation import (
    parse_reason,
    record_action,
    record_comment_action,
    require_moderator,
)
from forum.services.text import clean_text
from forum.services.wording import _l, _ln


def approved_count(user: User) -> int:
    """Comments of ``user`` that are visible now (approved and not hidden)."""
    return db.session.execute(
        select(func.count(Comment.id)).where(Comment.author_id == user.id, Comment.is_visible)
    ).scalar_one()


def is_trusted(user: User, trusted_after: int) -> bool:
    """Whether the limits on new accounts no longer apply to ``user``.

    Trust is earned by ``trusted_after`` approved, unhidden comments, granted by a
    moderator, or comes with a staff role."""
    if user.trusted or user.role is not Role.READER:
        return True
    return approved_count(user) >= trusted_after


def needs_premoderation(user: User, premoderate_first: int, trusted_after: int) -> bool:
    """Whether ``user``'s next comment must wait for a moderator."""
    if premoderate_first <= 0 or user.trusted or user.role is not Role.READER:
        return False
    count = approved_count(user)
    return count < premoderate_first and count < trusted_after


def check_link_cap(
    user: User, body: str, *, max_links: int, new_account_days: int, trusted_after: int
) -> None:
    """Young, untrusted accounts may include only a few links in a comment."""
    if utcnow() - user.created_at >= timedelta(days=new_account_days):
        return
    if is_trusted(user, trusted_after):
        return
    links = count_links(body)
    if links > max_links:
        raise NotAllowed(
            _ln(
                "New accounts can include at most %(num)s link in a comment; this one has "
                "%(links)s. The limit lifts as your comments are approved.",
                "New accounts can include at most %(num)s links in a comment; this one has "
                "%(links)s. The limit lifts as your comments are approved.",
                max_links,
                links=links,
            ),
            field="body",
        )


def count_links(body: str) -> int:
    """Links a reader could follow: Markdown links plus bare web addresses."""
    lowered = body.lower()
    return (
        lowered.count("http://")
        + lowered.count("https://")
        + lowered.count("www.")
        - lowered.count("://www.")
    )


def _pending_query():
    return (
        select(Comment)
        .options(joinedload(Comment.author), joinedload(Comment.article))
        .where(Comment.status == CommentStatus.PENDING)
        .order_by(Comment.created_at, Comment.id)
    )


def pending_comments(limit: int = 50) -> list[Comment]:
    """The comments waiting for review, the longest waiting first."""
    return list(db.session.execute(_pending_query().limit(limit)).scalars())


def pending_comments_after(after: tuple[datetime, int] | None, limit: int) -> list[Comment]:
    """Up to ``limit`` comments waiting for review, in the queue's order, after the one whose
    (created_at, id) is ``after``."""
    query = _pending_query()
    if after is not None:
        at, comment_id = after
        query = query.where(
            or_(Comment.created_at > at, and_(Comment.created_at == at, Comment.id > comment_id))
        )
    return list(db.session.execute(query.limit(max(limit, 1))).scalars())


def approve_comment(actor: User, comment: Comment) -> Comment:
    require_moderator(actor)
    lock(comment)  # the state below is read again, and held until the commit
    if comment.status is not CommentStatus.PENDING:
        raise Conflict(_l("That comment isn't waiting for review."))
    comment.status = CommentStatus.VISIBLE
    record_comment_action(actor, ModAction.APPROVE, comment)
    # Readers hear about a comment only once it is visible.
    notifications.notify_new_comment(
        comment, mentions.resolve(mentions.mentioned_names(comment.body_md))
    )
    db.session.commit()
    return comment


def reject_comment(actor: User, comment: Comment, reason: str, note: str = "") -> Comment:
    require_moderator(actor)
    lock(comment)  # the state below is read again, and held until the commit
    category = parse_reason(reason)
    if comment.status is not CommentStatus.PENDING:
        raise Conflict(_l("That comment isn't waiting for review."))
    comment.status = CommentStatus.REJECTED
    comment.hidden_reason, comment.hidden_note = category.value, clean_text(note).strip()[:500]
    comment.hidden_at, comment.hidden_by = utcnow(), actor
    record_comment_action(actor, ModAction.REJECT, comment, reason=category.value, note=note or "")
    db.session.commit()
    return comment


def grant_trust(actor: User, target: User) -> User:
    require_moderator(actor)
    lock(target)  # the state below is read again, and held until the commit
    if target.trusted:
        raise Conflict(_l("%(username)s is already trusted.", username=target.username))
    target.trusted = True
    record_action(actor, ModAction.TRUST, target_user=target, reason="trusted by hand")
    db.session.commit()
    return target
