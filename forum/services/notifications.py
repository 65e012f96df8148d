"""Notifications: who hears about what, created once, never for one's own actions, and
never about a comment readers can't see (pending or hidden comments notify when approved)."""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import (
    Select,
    bindparam,
    delete,
    func,
    insert,
    null,
    or_,
    select,
    union_all,
    update,
)
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import joinedload

from forum.extensions import db
from forum.models import (
    Article,
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
from forum.sqlite import writing


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


@dataclass(frozen=True)
class _Person:
    """Enough of an account to address a notification to it."""

    id: int
    email_due: bool


@dataclass
class _Posted:
    """A comment to tell people about, as plain values (one batch may hold many)."""

    id: int
    article_id: int
    author_id: int | None  # None: imported, no account behind it
    parent_id: int | None
    article_author_id: int | None
    mentioned: list[_Person] = field(default_factory=list)  # by name, alphabetically


def notify_new_comment(
    comment: Comment, mentioned: dict[str, User], *, mentions_only: bool = False
) -> list[int]:
    """Tell the people concerned about a newly visible comment, each person once, with the
    most specific reason: a reply to you, then a mention, then your article, then a follow.

    ``mentions_only`` is for an edit: people newly @mentioned hear about it, nobody else is
    told again. Adds to the session's transaction; the caller commits (it's part of posting
    or approving). Returns who was told (account ids)."""
    if not comment.is_visible:
        return []
    db.session.flush()  # the comment's id, and the rows the queries below must see
    posted = _Posted(
        id=comment.id,
        article_id=comment.article_id,
        author_id=comment.author_id,
        parent_id=comment.parent_id,
        article_author_id=comment.article.author_id,
        mentioned=_people(mentioned),
    )
    told = _tell([posted], mentions_only=mentions_only)
    if not mentions_only:
        comment.notified_at = utcnow()
    return told


def _people(mentioned: dict[str, User]) -> list[_Person]:
    return [
        _Person(user.id, user.wants_notification_email)
        for user in sorted(mentioned.values(), key=lambda user: user.username_key)
        if user.deleted_at is None
    ]


def _tell(batch: list[_Posted], *, mentions_only: bool = False) -> list[int]:
    """Insert the notifications about every comment of ``batch`` with a fixed number of
    queries, whatever the batch's size or the followers' number: what was already said,
    the parents, the people concerned, then one multi-row INSERT. Returns who was told."""
    rows = _notes_about(batch, mentions_only=mentions_only)
    _insert(rows)
    return [row["user_id"] for row in rows]


def _notes_about(batch: list[_Posted], *, mentions_only: bool = False) -> list[dict]:
    """The notification rows ``_tell`` inserts, read with three queries."""
    if not batch:
        return []
    ids = [posted.id for posted in batch]
    already: dict[int, set[int]] = {posted.id: set() for posted in batch}
    mentioned_before: dict[int, set[int]] = {posted.id: set() for posted in batch}
    for comment_id, user_id, kind in db.session.execute(_ALREADY_TOLD, {"ids": ids}):
        already[comment_id].add(user_id)
        if kind is NotificationKind.MENTION:
            mentioned_before[comment_id].add(user_id)
    parent_authors: dict[int, int | None] = {}
    followers: dict[int, list[_Person]] = {}
    people: dict[int, _Person] = {}
    if not mentions_only:
        parent_ids = {posted.parent_id for posted in batch if posted.parent_id is not None}
        if parent_ids:
            parent_authors = dict(
                db.session.execute(_PARENT_AUTHORS, {"ids": sorted(parent_ids)}).all()
            )
        wanted = {posted.article_author_id for posted in batch} | set(parent_authors.values())
        wanted.discard(None)
        article_ids = sorted({posted.article_id for posted in batch})
        # The article authors and parents' authors, and every follower, in one query.
        for article_id, user_id, email_due in db.session.execute(
            _FOLLOWERS_AND_NAMED if wanted else _FOLLOWERS,
            {"articles": article_ids, "named": sorted(wanted)}
            if wanted
            else {"articles": article_ids},
        ):
            person = _Person(user_id, bool(email_due))
            if article_id is None:
                people[user_id] = person
            else:
                followers.setdefault(article_id, []).append(person)
    rows: list[dict] = []
    for posted in batch:
        note = _Notes(posted, already[posted.id], rows)
        if posted.parent_id is not None and not mentions_only:
            author_id = parent_authors.get(posted.parent_id)
            note.add(people.get(author_id) if author_id is not None else None, REPLY)
        # Over a comment's lifetime at most MAX_MENTIONS people hear of it by mention:
        # editing names in and out must not ping the membership ten at a time (an edit made
        # before the posting's fan-out ran counts too).
        budget = mentions.MAX_MENTIONS - len(mentioned_before[posted.id])
        for person in posted.mentioned:
            if budget <= 0:
                break
            budget -= note.add(person, MENTION)
        if mentions_only:
            continue
        if posted.parent_id is None and posted.article_author_id is not None:
            note.add(people.get(posted.article_author_id), ARTICLE_COMMENT)
        for person in followers.get(posted.article_id, []):
            note.add(person, FOLLOWED)
    return rows


def _insert(rows: list[dict], *, skip_told: bool = False) -> None:
    """One executemany on the table: the ORM's bulk insert spent four times as long as
    SQLite on each row's defaults and conversions, holding the write lock meanwhile.
    ``skip_told`` leaves out rows that someone told in the meantime (the unique constraint)
    instead of failing on them."""
    if not rows:
        return
    created = utcnow()
    for row in rows:
        row["created_at"] = created
    statement = _INSERT_NOTIFICATION
    if skip_told:
        statement = _INSERT_UNLESS_TOLD.get(db.session.get_bind().dialect.name, statement)
    db.session.execute(statement, rows)


REPLY, MENTION = NotificationKind.REPLY, NotificationKind.MENTION
ARTICLE_COMMENT, FOLLOWED = NotificationKind.ARTICLE_COMMENT, NotificationKind.FOLLOWED


class _Notes:
    """The notifications about one comment: each person once, the first reason given wins,
    never its own author."""

    def __init__(self, posted: _Posted, already: set[int], rows: list[dict]) -> None:
        self.posted, self.skip, self.rows = posted, already, rows
        if posted.author_id is not None:  # an imported comment has no account behind it
            self.skip.add(posted.author_id)

    def add(self, person: _Person | None, kind: NotificationKind) -> bool:
        if person is None or person.id in self.skip:
            return False
        self.skip.add(person.id)
        self.rows.append(
            {
                "user_id": person.id,
                "kind": kind,
                "comment_id": self.posted.id,
                "article_id": self.posted.article_id,
                "actor_id": self.posted.author_id,
                "email_due": person.email_due,
                "detail": "",
            }
        )
        return True


def fan_out(comment_id: int) -> int:
    """Tell the people concerned about a posted comment, once (see ``fan_out_many``)."""
    return fan_out_many([comment_id])


def fan_out_many(comment_ids: Iterable[int]) -> int:
    """Tell the people concerned about posted comments, once each: whoever claims a comment
    first (the fan-out after posting, or ``catch_up``) does it. A fixed number of statements
    for the whole batch: reads, then one short write transaction. Commits; returns how many
    notifications the comments it claimed have from it (one that an edit's mention made in
    between counts too)."""
    ids = sorted(set(comment_ids))
    if not ids:
        return 0
    # Who is told is read first, outside the write lock; under it only the claim and the
    # insert run. Read under the lock, it held SQLite's one lock 12 ms for a batch of a
    # dozen posts, and every post waited behind it. A follow or an edit's mention arriving
    # in between is as if it came a moment later or earlier; nobody is told twice.
    batch = [
        _Posted(
            id=row[0],
            article_id=row[1],
            author_id=row[2],
            parent_id=row[3],
            article_author_id=row[5],
            mentioned=_people(mentions.resolve(mentions.mentioned_names(row[4]))),
        )
        for row in db.session.execute(_UNTOLD, {"ids": ids})
    ]
    if not batch:
        db.session.rollback()
        return 0
    rows = _notes_about(batch)
    with writing(db.session):
        claimed = set(
            db.session.execute(
                _CLAIM, {"ids": [posted.id for posted in batch], "now": utcnow()}
            ).scalars()
        )
        rows = [row for row in rows if row["comment_id"] in claimed]
        _insert(rows, skip_told=True)
        db.session.commit()
    return len(rows)


def catch_up(
    older_than: timedelta = timedelta(minutes=1), limit: int = 500, batch_size: int = 100
) -> int:
    """Fan out comments whose notifications never went out (a worker stopped between the
    response and its background work). Run by ``flask notifications send``."""
    ids = list(
        db.session.execute(
            select(Comment.id)
            .where(
                Comment.notified_at.is_(None),
                Comment.is_visible,
                Comment.created_at < utcnow() - older_than,
            )
            .order_by(Comment.id)
            .limit(limit)
        ).scalars()
    )
    return sum(fan_out_many(ids[at : at + batch_size]) for at in range(0, len(ids), batch_size))


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

# The fan-out's statements, built once: building and keying them for each batch cost more
# than running them, inside the write transaction that every post queues behind.
_IDS = bindparam("ids", expanding=True)
_ALREADY_TOLD = select(Notification.comment_id, Notification.user_id, Notification.kind).where(
    Notification.comment_id.in_(_IDS), Notification.kind.in_(ABOUT_A_COMMENT)
)
_PARENT_AUTHORS = select(Comment.id, Comment.author_id).where(
    Comment.id.in_(_IDS), Comment.is_visible
)
_FOLLOWERS = (
    select(Follow.article_id, User.id, User.wants_notification_email)
    .join(User, User.id == Follow.user_id)
    .where(Follow.article_id.in_(bindparam("articles", expanding=True)), User.deleted_at.is_(None))
)
_FOLLOWERS_AND_NAMED = union_all(
    _FOLLOWERS,
    select(null(), User.id, User.wants_notification_email).where(
        User.id.in_(bindparam("named", expanding=True)), User.deleted_at.is_(None)
    ),
)
_INSERT_NOTIFICATION = insert(Notification.__table__)
_INSERT_UNLESS_TOLD = {
    "sqlite": sqlite_insert(Notification.__table__).on_conflict_do_nothing(),
    "postgresql": postgresql_insert(Notification.__table__).on_conflict_do_nothing(),
}

# ``fan_out_many``'s read of the comments nobody told about yet, and its claim (whoever sets
# ``notified_at`` first tells), built once like ``_tell``'s.
_CLAIM = (
    update(Comment.__table__)
    .where(Comment.id.in_(_IDS), Comment.notified_at.is_(None), Comment.is_visible)
    .values(notified_at=bindparam("now"))
    .returning(Comment.id)
)
_UNTOLD = (
    select(
        Comment.id,
        Comment.article_id,
        Comment.author_id,
        Comment.parent_id,
        Comment.body_md,
        Article.author_id,
    )
    .join(Article, Article.id == Comment.article_id)
    .where(Comment.id.in_(_IDS), Comment.notified_at.is_(None), Comment.is_visible)
    .order_by(Comment.id)
)


def _shown_to_reader():
    """SQL condition: the notification is not about a comment readers can't see."""
    visible_comment = (
        select(Comment.id).where(Comment.id == Notification.comment_id, Comment.is_visible).exists()
    )
    return or_(Notification.kind.not_in(ABOUT_A_COMMENT), visible_comment)


def unread_count(user: User) -> int:
    return db.session.execute(unread_count_query(user)).scalar_one()


def unread_count_query(user: User) -> Select:
    """``unread_count``'s statement, for a caller that asks it beside something else."""
    return select(func.count(Notification.id)).where(
        Notification.user_id == user.id, Notification.read_at.is_(None), _shown_to_reader()
    )


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
