"""Notifications: who hears about what, created once, never for one's own actions, and
never about a comment readers can't see (pending or hidden comments notify when approved)."""

from datetime import timedelta

from sqlalchemy import Select, delete, func, or_, select, update
from sqlalchemy.orm import joinedload

from forum.extensions import db
from forum.models import (
    Comment,
    Follow,
    Notification,
    NotificationKind,
    User,
    utcnow,
)
from forum.services import mentions
from forum.services.errors import NotFound
from forum.services.pages import Page, paginate
from forum.services.words import _l


def _add(
    user: User,
    kind: NotificationKind,
    comment: Comment | None,
    actor: User | None,
    detail: str = "",
) -> Notification:
    note = Notification(
        user_id=user.id,
        kind=kind,
        comment_id=comment.id if comment else None,
        article_id=comment.article_id if comment else None,
        actor_id=actor.id if actor else None,
        detail=detail[:500],
        email_due=user.wants_notification_email,
    )
    db.session.add(note)
    return note


def notify_new_comment(
    comment: Comment, mentioned: dict[str, User], *, mentions_only: bool = False
) -> list[Notification]:
    """Tell the people concerned about a newly visible comment, each person once, with the
    most specific reason: a reply to you, then a mention, then your article, then a follow.

    ``mentions_only`` is for an edit: people newly @mentioned hear about it, nobody else is
    told again. Adds to the session; the caller commits (it's part of posting or approving)."""
    if not comment.is_visible:
        return []
    author = comment.author
    already = set(
        db.session.execute(
            select(Notification.user_id).where(
                Notification.comment_id == comment.id,
                Notification.kind.in_(
                    [
                        NotificationKind.REPLY,
                        NotificationKind.MENTION,
                        NotificationKind.ARTICLE_COMMENT,
                        NotificationKind.FOLLOWED,
                    ]
                ),
            )
        ).scalars()
    )
    if author is not None:  # an imported comment has no account behind it
        already.add(author.id)  # never for your own comment
    made: list[Notification] = []

    def notify(user: User | None, kind: NotificationKind) -> None:
        if user is None or user.id in already or user.deleted_at is not None:
            return
        already.add(user.id)
        made.append(_add(user, kind, comment, author))

    if comment.parent_id is not None and not mentions_only:
        parent = db.session.get(Comment, comment.parent_id)
        if parent is not None and parent.is_visible:
            notify(parent.author, NotificationKind.REPLY)
    # Over a comment's lifetime at most MAX_MENTIONS people hear of it by mention: editing
    # names in and out must not ping the membership ten at a time (an edit made before the
    # posting's fan-out ran counts too).
    budget = mentions.MAX_MENTIONS - _mentioned_so_far(comment) if mentioned else 0
    for user in sorted(mentioned.values(), key=lambda user: user.username_key):
        before = len(made)
        if budget <= 0:
            break
        notify(user, NotificationKind.MENTION)
        budget -= len(made) - before
    if mentions_only:
        return made
    article = comment.article
    if comment.parent_id is None:
        notify(article.author, NotificationKind.ARTICLE_COMMENT)
    followers = db.session.execute(
        select(User).join(Follow, Follow.user_id == User.id).where(Follow.article_id == article.id)
    ).scalars()
    for user in followers:
        notify(user, NotificationKind.FOLLOWED)
    comment.notified_at = utcnow()
    return made


def _mentioned_so_far(comment: Comment) -> int:
    """How many people this comment has notified by mention, in any of its versions."""
    return db.session.execute(
        select(func.count(func.distinct(Notification.user_id))).where(
            Notification.comment_id == comment.id,
            Notification.kind == NotificationKind.MENTION,
        )
    ).scalar_one()


def fan_out(comment_id: int) -> int:
    """Tell the people concerned about a posted comment, once: whoever claims the comment
    first (the thread started after posting, or ``catch_up``) does it. Commits; returns how
    many notifications were made."""
    claimed = db.session.execute(
        update(Comment)
        .where(
            Comment.id == comment_id,
            Comment.notified_at.is_(None),
            Comment.is_visible,
        )
        .values(notified_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
    if not claimed:
        db.session.rollback()
        return 0
    # One query for the comment, its author and its article (fresh: the claim just changed
    # the row), where a get, a refresh and two lazy loads made four.
    comment = db.session.get(
        Comment,
        comment_id,
        options=[joinedload(Comment.author), joinedload(Comment.article)],
        populate_existing=True,
    )
    mentioned = mentions.resolve(mentions.mentioned_names(comment.body_md))
    made = notify_new_comment(comment, mentioned)
    db.session.commit()
    return len(made)


def catch_up(older_than: timedelta = timedelta(minutes=1), limit: int = 500) -> int:
    """Fan out comments whose notifications never went out (a worker stopped between the
    response and its background work). Run by ``flask notifications send``."""
    ids = db.session.execute(
        select(Comment.id)
        .where(
            Comment.notified_at.is_(None),
            Comment.is_visible,
            Comment.created_at < utcnow() - older_than,
        )
        .order_by(Comment.id)
        .limit(limit)
    ).scalars()
    return sum(fan_out(comment_id) for comment_id in list(ids))


def notify_moderated(
    comment: Comment, kind: NotificationKind, moderator: User, detail: str
) -> None:
    """Tell a comment's author that a moderator hid or restored it (or decided an appeal).

    A comment can be hidden, shown and hidden again; the newest notice of a kind replaces
    the earlier one (one per person, comment and kind), so it comes first, unread."""
    if comment.author is None or comment.author_id == moderator.id:
        return  # an imported comment's author has no account to tell
    db.session.execute(
        delete(Notification).where(
            Notification.user_id == comment.author_id,
            Notification.comment_id == comment.id,
            Notification.kind == kind,
        )
    )
    _add(comment.author, kind, comment, moderator, detail)


# Notifications about someone's comment; they disappear while that comment isn't visible
# (hidden, pending or deleted comments stay out of everything readers can reach).
ABOUT_A_COMMENT = (
    NotificationKind.REPLY,
    NotificationKind.MENTION,
    NotificationKind.FOLLOWED,
    NotificationKind.ARTICLE_COMMENT,
)


def _shown_to_reader():
    """SQL condition: the notification is not about a comment readers can't see."""
    visible_comment = (
        select(Comment.id).where(Comment.id == Notification.comment_id, Comment.is_visible).exists()
    )
    return or_(Notification.kind.not_in(ABOUT_A_COMMENT), visible_comment)


def unread_count(user: User) -> int:
    return db.session.execute(
        select(func.count(Notification.id)).where(
            Notification.user_id == user.id, Notification.read_at.is_(None), _shown_to_reader()
        )
    ).scalar_one()


def shown_to(user: User) -> Select:
    """The user's notifications they may see, with what they name loaded; unordered (the
    inbox pages by number, the API by cursor)."""
    return (
        select(Notification)
        .options(
            joinedload(Notification.actor),
            joinedload(Notification.comment),
            joinedload(Notification.article),
        )
        .where(Notification.user_id == user.id, _shown_to_reader())
    )


def page_for(user: User, page: int, per_page: int) -> Page[Notification]:
    """The user's notifications, newest first, paged (old ones are kept)."""
    return paginate(shown_to(user).order_by(Notification.id.desc()), page, per_page)


def get_own(user: User, notification_id: int) -> Notification:
    """One of ``user``'s notifications; NotFound when it is someone else's or doesn't exist."""
    item = db.session.get(Notification, notification_id)
    if item is None or item.user_id != user.id:
        raise NotFound(_l("No such notification."))
    return item


def mark_read(user: User, notification_id: int) -> bool:
    """Mark one of the user's notifications read; False if it isn't theirs or doesn't exist."""
    result = db.session.execute(
        update(Notification)
        .where(
            Notification.id == notification_id,
            Notification.user_id == user.id,
            Notification.read_at.is_(None),
        )
        .values(read_at=utcnow())
    )
    db.session.commit()
    return result.rowcount > 0


def mark_some_read(user: User, notification_ids: list[int]) -> int:
    """Mark these of the user's notifications read, in one statement; NotFound (and nothing
    marked) when any of them isn't theirs or doesn't exist. How many were unread."""
    wanted = set(notification_ids)
    if not wanted:
        return 0
    theirs = db.session.execute(
        select(func.count(Notification.id)).where(
            Notification.id.in_(wanted), Notification.user_id == user.id
        )
    ).scalar_one()
    if theirs != len(wanted):
        raise NotFound(_l("No such notification."))
    result = db.session.execute(
        update(Notification)
        .where(Notification.id.in_(wanted), Notification.read_at.is_(None))
        .values(read_at=utcnow())
    )
    db.session.commit()
    return result.rowcount


def mark_all_read(user: User) -> int:
    result = db.session.execute(
        update(Notification)
        .where(Notification.user_id == user.id, Notification.read_at.is_(None))
        .values(read_at=utcnow())
    )
    db.session.commit()
    return result.rowcount
