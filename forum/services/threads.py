"""Posting, editing and deleting comments: the rules every client of the discussion meets.

Reading a page of a discussion is ``forum.services.discussion_pages``; building its tree,
``forum.services.trees``."""

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, insert, inspect, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload, lazyload, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

from forum.extensions import db
from forum.models import (
    Article,
    Comment,
    CommentRevision,
    CommentStatus,
    Follow,
    User,
    Webhook,
    utcnow,
)
from forum.services import (
    community,
    discussion_state,
    mentions,
    notifications,
    permissions,
    premoderation,
    webhooks,
)
from forum.services.errors import Conflict, Forbidden, NotAllowed, NotFound
from forum.services.locking import is_unique_violation, lock
from forum.services.text import is_blank, strip_control_characters
from forum.services.words import _l, lazy_datetime, lazy_number
from forum.sqlite import writing


@dataclass(frozen=True)
class DiscussionSettings:
    """The configuration the discussion rules depend on (read from app config by views)."""

    max_length: int = 10_000
    edit_window_minutes: int = 60
    threads_per_page: int = 50
    max_display_depth: int = 6
    max_reply_depth: int = 50
    replies_per_thread: int = 100
    premoderate_first: int = 0
    trusted_after: int = 3
    spam_checks: bool = True
    new_account_days: int = 3
    new_account_max_links: int = 2

    @classmethod
    def from_config(cls, config) -> "DiscussionSettings":
        return cls(
            max_length=config["COMMENT_MAX_LENGTH"],
            edit_window_minutes=config["EDIT_WINDOW_MINUTES"],
            threads_per_page=config["THREADS_PER_PAGE"],
            max_display_depth=config["MAX_DISPLAY_DEPTH"],
            max_reply_depth=config.get("MAX_REPLY_DEPTH", 50),
            replies_per_thread=config["REPLIES_PER_THREAD"],
            premoderate_first=config["PREMODERATE_FIRST_COMMENTS"],
            trusted_after=config["TRUSTED_AFTER_APPROVED_COMMENTS"],
            spam_checks=config["SPAM_CHECKS_ENABLED"],
            new_account_days=config["NEW_ACCOUNT_DAYS"],
            new_account_max_links=config["NEW_ACCOUNT_MAX_LINKS"],
        )


# --- writing -------------------------------------------------------------------------------


def suspension_message(user: User) -> str:
    if user.suspended_indefinitely:
        return _l("Your account is suspended indefinitely, so you can read but not post.")
    return _l(
        "Your account is suspended until %(until)s, so you can read but not post.",
        until=lazy_datetime(user.suspended_until),
    )


def check_can_post(user: User, article: Article) -> None:
    """Raise Forbidden with the reason when ``user`` may not post under ``article``."""
    if user.is_suspended():
        raise Forbidden(suspension_message(user))
    if article.discussion_locked:
        if article.lock_reason:
            raise Forbidden(_l("This discussion is locked: %(reason)s", reason=article.lock_reason))
        raise Forbidden(_l("This discussion is locked."))


def clean_body(body: str | None, settings: DiscussionSettings) -> str:
    """The body as it will be stored, or NotAllowed saying what's wrong with it."""
    body = strip_control_characters(body or "")
    if is_blank(body):
        raise NotAllowed(_l("Write something before posting."), field="body")
    if len(body) > settings.max_length:
        raise NotAllowed(
            _l(
                "Comments can be at most %(limit)s characters; this one has %(length)s.",
                limit=lazy_number(settings.max_length),
                length=lazy_number(len(body)),
            ),
            field="body",
        )
    return body


def find_parent(article: Article, parent_id: int | str | None) -> Comment | None:
    """The comment being replied to, checked to belong to ``article`` and to accept replies."""
    text = str(parent_id).strip() if parent_id is not None else ""
    if not text:
        return None
    # ASCII digits only ("²" is a digit int() can't read, "1_0" one it reads as 10), and no
    # larger than the database's INTEGER: a bigger one must not reach PostgreSQL.
    if not (text.isascii() and text.isdigit() and len(text) <= 10 and int(text) <= 2**31 - 1):
        raise NotAllowed(_l("That reply doesn't point at a comment."), field="parent_id")
    parent = _held(Comment, int(text))
    if parent is None:
        parent = db.session.execute(_PARENT, {"id": int(text)}).scalar_one_or_none()
    if parent is None:
        raise NotFound(_l("The comment you are replying to doesn't exist."))
    check_parent(article, parent)
    return parent


# ``find_parent``'s statement, built once (``Session.get`` builds one on every call: two
# thirds of its cost on each reply). Its imported author, if any, loads when asked for
# (selectin would cost every reply).
_PARENT = (
    select(Comment).options(lazyload(Comment.imported_author)).where(Comment.id == bindparam("id"))
)


def _held(model: type, ident: int):
    """The object the session already holds, loaded and current, or None (what
    ``Session.get`` looks at before it queries; posting asks for the parent twice)."""
    held = db.session.identity_map.get(identity_key(model, ident))
    if held is None or inspect(held).expired:
        return None
    return held


def check_parent(article: Article, parent: Comment) -> None:
    """Raise NotAllowed when ``parent`` can't take a reply under ``article``."""
    if parent.article_id != article.id:
        raise NotAllowed(_l("That comment belongs to another article."), field="parent_id")
    if not parent.is_visible:
        raise NotAllowed(
            _l("That comment has been removed, so it can't take replies."), field="parent_id"
        )


# Why replies stop nesting at ``max_reply_depth`` (50): past a few levels every page shows
# a chain flat anyway (``max_display_depth``), so depth beyond that changes nothing a reader
# sees, while an unbounded chain is something one reader can grow alone, thousands deep,
# and every walk up or down it (ancestors, placeholders, "show more") pays for each level.
# So a reply to a comment at the limit is stored beside that comment, under the deepest
# ancestor allowed to take replies, and begins with an @mention of the person it answers:
# the text still says whom it replies to, and that person is told (as mentioned) although
# the stored parent is someone else's comment.


def _addressed_to(author: User | None, body: str) -> str:
    """``body`` starting with an @mention of ``author``, unless it already does (or the
    comment answered was imported: its author has no account to mention)."""
    if author is None:
        return body
    if re.match(rf"@{re.escape(author.username)}(?![\w-])", body, re.IGNORECASE):
        return body
    return f"@{author.username} {body}"


def _ancestor_at(comment: Comment, depth: int) -> Comment:
    """``comment``'s ancestor at ``depth`` (one query, walking up without recursion; old
    chains may be deeper than the limit is now)."""
    if comment.depth - 1 == depth and comment.parent_id is not None:
        return db.session.get(Comment, comment.parent_id)
    parents = dict(
        db.session.execute(
            select(Comment.id, Comment.parent_id).where(Comment.root_id == comment.root_id)
        ).all()
    )
    node_id = comment.id
    for _ in range(comment.depth - depth):
        node_id = parents[node_id]
    return db.session.get(Comment, node_id)


def post_comment(
    author: User,
    article: Article,
    body: str,
    *,
    parent_id: int | str | None = None,
    settings: DiscussionSettings = DiscussionSettings(),
    notify: bool = True,
    idempotency_key: str | None = None,
) -> Comment:
    """Post a top-level comment or a reply; the Markdown is rendered and sanitized once, here.

    New accounts' comments may wait for review (pre-moderation) and carry only a few links,
    until enough of their comments have been approved. ``notify=False`` leaves telling the
    people concerned to ``notifications.fan_out`` (the web posts it after the response).

    The rendering happens before the write transaction opens (on SQLite it holds the one
    write lock), and the rules are checked again inside it, on fresh rows. With an
    ``idempotency_key`` (the form's), posting the same form again by the same author
    returns the comment the first post stored, even when both arrive at once."""
    check_can_post(author, article)
    body = clean_body(body, settings)
    key = clean_idempotency_key(idempotency_key)
    if key and (earlier := comment_with_key(author, key)) is not None:
        return earlier
    deepest = max(settings.max_reply_depth, 1)
    answered = find_parent(article, parent_id)
    if answered is not None and answered.depth >= deepest:
        # Stored beside the comment it answers (see _ancestor_at), so it names its author.
        body = _addressed_to(answered.author, body)  # an imported author is named by nobody
    rendered = mentions.render_with_mentions(body)
    with writing(db.session):
        fresh = _read_again(author, article, answered)
        check_can_post(author, article)
        if key and (earlier := comment_with_key(author, key)) is not None:
            return earlier
        parent = answered
        if parent is not None:
            check_parent(article, parent)
        if parent is not None and parent.depth >= deepest:
            parent = _ancestor_at(parent, deepest - 1)
        if settings.spam_checks:
            premoderation.check_link_cap(
                author,
                body,
                max_links=settings.new_account_max_links,
                new_account_days=settings.new_account_days,
                trusted_after=settings.trusted_after,
            )
        pending = premoderation.needs_premoderation(
            author, settings.premoderate_first, settings.trusted_after
        )
        status = CommentStatus.PENDING if pending else CommentStatus.VISIBLE
        try:
            comment = _store(author, article, parent, body, rendered.html, key, status)
        except IntegrityError as error:
            # The same form posted twice at once: the other request stored it first.
            db.session.rollback()
            if not (key and is_unique_violation(error)):
                raise
            earlier = comment_with_key(author, key)
            if earlier is None:
                raise
            return earlier
        if parent is not None and not fresh.following:
            community.add_follow(author, article)  # replying follows the discussion
        if notify:
            notifications.notify_new_comment(comment, rendered.mentioned)
        if fresh.webhooks:
            webhooks.emit(webhooks.Event.COMMENT_POSTED, webhooks.comment_payload(comment))
        _commit_keeping_loaded()
    return comment


# Posting's INSERT, built once: the unit of work's flush of one new object cost more than
# everything else under the write lock together.
_INSERT_COMMENT = insert(Comment.__table__).returning(Comment.__table__.c.id)


def _store(
    author: User,
    article: Article,
    parent: Comment | None,
    body: str,
    html: str,
    key: str | None,
    status: CommentStatus,
) -> Comment:
    """Insert the comment's row and move its discussion's state; returns the comment, in
    the session as if loaded (every column set, no query to read it back)."""
    created = utcnow()
    row: dict[str, object] = {
        "article_id": article.id,
        "author_id": author.id,
        "imported_author_id": None,
        "parent_id": parent.id if parent else None,
        "root_id": parent.thread_root_id if parent else None,
        "depth": parent.depth + 1 if parent else 0,
        "body_md": body,
        "body_html": html,
        "idempotency_key": key,
        "status": status,
        "created_at": created,
        "edited_at": None,
        "deleted_at": None,
        "hidden_at": None,
        "hidden_by_id": None,
        "hidden_reason": None,
        "hidden_note": None,
        "helpful_count": 0,
        "pinned_at": None,
        "pinned_by_id": None,
        "notified_at": None,
        "listed": False,
        "visible_in_thread": 0,
        "top_key": 0.0,
    }
    if parent is None:
        row.update(discussion_state.thread_columns(status, created))
    comment_id = db.session.execute(_INSERT_COMMENT, row).scalar_one()
    comment = Comment(id=comment_id, **row)
    make_transient_to_detached(comment)  # a loaded row: no history, nothing to flush
    db.session.add(comment)
    for name, value in (("article", article), ("author", author), ("imported_author", None)):
        set_committed_value(comment, name, value)
    discussion_state.posted(db.session, comment)
    return comment


@dataclass(frozen=True)
class _Fresh:
    """What ``_read_again`` learnt besides the rows: whether the author already follows the
    discussion (a reply follows it), and whether any webhook is active (one is told of the
    post). Asked in the same query, not in one query each."""

    following: bool
    webhooks: bool


def _read_again_query(with_parent: bool):
    """The statement of ``_read_again``, built once per shape (see ``_READ_AGAIN``)."""
    following = (
        select(Follow.id)
        .where(Follow.article_id == bindparam("article"), Follow.user_id == bindparam("author"))
        .exists()
    )
    hooked = select(Webhook.id).where(Webhook.active).exists()
    query = (
        select(User, Article, following, hooked)
        .select_from(User)
        .join(Article, Article.id == bindparam("article"))
        .where(User.id == bindparam("author"))
    )
    if with_parent:
        # The answered comment's imported author (selectin) isn't a rule: left to load lazily.
        query = (
            query.add_columns(Comment)
            .join(Comment, Comment.id == bindparam("parent"))
            .options(lazyload(Comment.imported_author))
        )
    return query.execution_options(populate_existing=True)


# Built once: building and keying the statement cost as much as running it.
_READ_AGAIN = {with_parent: _read_again_query(with_parent) for with_parent in (False, True)}


def _read_again(author: User, article: Article, parent: Comment | None) -> _Fresh:
    """Read the author, the article and the comment answered again, in one query: the
    commit that ended the read transaction expired them, and the rules are checked on the
    rows as they are under the write lock (one lazy load per object made three queries)."""
    # The keys from the identity map: reading ``.id`` of an expired object reloads it.
    keys = {"author": _key(author), "article": _key(article)}
    if parent is not None:
        keys["parent"] = _key(parent)
    row = db.session.execute(_READ_AGAIN[parent is not None], keys).one()
    return _Fresh(following=bool(row[2]), webhooks=bool(row[3]))


def _key(obj) -> int:
    return inspect(obj).identity[0]


def _commit_keeping_loaded() -> None:
    """Commit without expiring what the session holds: the caller goes on with the comment
    it just wrote, its thread and its article (the redirect to the new comment needs them),
    and reloading each, one query apiece, was most of a post's work after its commit. What
    the flush hook changed in SQL it has expired itself."""
    session = db.session()
    expire = session.expire_on_commit
    session.expire_on_commit = False
    try:
        session.commit()
    finally:
        session.expire_on_commit = expire


def clean_idempotency_key(key: str | None) -> str | None:
    """The form's key as stored, or None when there is none or it isn't one we made
    (letters, digits and dashes, at most 64: a UUID from the page or its script)."""
    key = (key or "").strip()
    if not key or len(key) > 64 or not all(c.isascii() and (c.isalnum() or c == "-") for c in key):
        return None
    return key


def comment_with_key(author: User, key: str) -> Comment | None:
    """The comment ``author`` already posted from the form with ``key``, if any."""
    return db.session.execute(
        select(Comment).where(Comment.author_id == author.id, Comment.idempotency_key == key)
    ).scalar_one_or_none()


def render_body(body: str) -> str:
    """A comment body's HTML, with its @mentions of existing accounts linked."""
    return mentions.render_with_mentions(body).html


def get_comment(comment_id: int) -> Comment:
    """The comment with its author and article, or NotFound. One already in the session
    (a reply's parent, say) costs no query."""
    comment = db.session.get(
        Comment, comment_id, options=[joinedload(Comment.author), joinedload(Comment.article)]
    )
    if comment is None:
        raise NotFound(_l("No comment has that number."))
    return comment


def check_can_edit(
    user: User | None,
    comment: Comment,
    settings: DiscussionSettings = DiscussionSettings(),
    now: datetime | None = None,
) -> None:
    """Raise Forbidden with the reason when ``user`` may not edit ``comment`` now; the edit
    page asks this before showing the form, and ``edit_comment`` before saving."""
    if user is None or comment.author_id != user.id:
        raise Forbidden(_l("You can only edit your own comments."))
    check_can_post(user, comment.article)
    if not permissions.can_edit(user, comment, settings.edit_window_minutes, now):
        raise Forbidden(
            _l(
                "Comments can be edited for %(minutes)s minutes after posting; "
                "this one can no longer be changed.",
                minutes=lazy_number(settings.edit_window_minutes),
            )
        )


def authors_of(comment_ids: Iterable[int]) -> dict[int, User]:
    """The author of each of ``comment_ids`` (one query; none when there are no ids)."""
    ids = set(comment_ids)
    if not ids:
        return {}
    rows = db.session.execute(
        select(Comment.id, User).join(User, User.id == Comment.author_id).where(Comment.id.in_(ids))
    ).all()
    return {comment_id: user for comment_id, user in rows}


EDITED_ELSEWHERE = _l(
    "This comment was changed elsewhere (another tab or window) after you started editing. "
    "Nothing was overwritten: your text and the current one are side by side below."
)


class EditedElsewhere(Conflict):
    """An edit started from an older revision of the comment than the one now stored."""

    def __init__(self, current_body: str, current_revision: str) -> None:
        super().__init__(EDITED_ELSEWHERE)
        self.current_body = current_body
        self.current_revision = current_revision


def revision_of(comment: Comment) -> str:
    """A short fingerprint of the comment's current text: what an edit form started from."""
    return hashlib.sha256(comment.body_md.encode()).hexdigest()[:16]


def edit_comment(
    user: User,
    comment: Comment,
    body: str,
    *,
    settings: DiscussionSettings = DiscussionSettings(),
    now: datetime | None = None,
    base_revision: str | None = None,
) -> Comment:
    """Replace a comment's text within the edit window, keeping the old text as a revision.

    The new text is rendered before the write transaction; inside it the comment's row is
    read again and locked, so two edits at once each keep the text the other replaced.
    ``base_revision`` (``revision_of`` the text the editor started from) refuses to save
    over a newer text with ``EditedElsewhere``: two tabs never silently overwrite."""
    now = now or utcnow()
    check_can_edit(user, comment, settings, now)
    body = clean_body(body, settings)
    if body == comment.body_md:
        return comment
    rendered = mentions.render_with_mentions(body)
    with writing(db.session):
        lock(comment)
        check_can_edit(user, comment, settings, now)
        if body == comment.body_md:
            return comment
        if base_revision and base_revision != revision_of(comment):
            conflict = EditedElsewhere(comment.body_md, revision_of(comment))
            db.session.rollback()  # nothing written: let go of the lock at once
            raise conflict
        db.session.add(
            CommentRevision(
                comment=comment,
                body_md=comment.body_md,
                body_html=comment.body_html,
                written_at=comment.edited_at or comment.created_at,
                replaced_at=now,
            )
        )
        comment.body_md = body
        comment.body_html = rendered.html
        comment.edited_at = now
        # People newly @mentioned by the edit hear about it; nobody else is told again.
        notifications.notify_new_comment(comment, rendered.mentioned, mentions_only=True)
        webhooks.emit(webhooks.Event.COMMENT_EDITED, webhooks.comment_payload(comment))
        db.session.commit()
    return comment


def delete_comment(user: User, comment: Comment, *, now: datetime | None = None) -> Comment:
    """Withdraw a comment. It stays in the database; the thread shows a placeholder if needed."""
    if not permissions.can_delete(user, comment):
        raise Forbidden(_l("You can only delete your own comments."))
    comment.status = CommentStatus.DELETED
    comment.deleted_at = now or utcnow()
    db.session.commit()
    return comment


def revisions_of(comment: Comment) -> list[CommentRevision]:
    """Earlier texts of ``comment``, newest first."""
    return list(
        db.session.execute(
            select(CommentRevision)
            .where(CommentRevision.comment_id == comment.id)
            .order_by(CommentRevision.id.desc())
        ).scalars()
    )


def edit_window_ends(comment: Comment, settings: DiscussionSettings) -> datetime:
    return comment.created_at + timedelta(minutes=settings.edit_window_minutes)
