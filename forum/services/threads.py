"""Posting, editing and deleting comments, and loading a page of a discussion as a tree.

A page costs a fixed number of queries whatever the size of its threads: one for the
article's top-level comments (ids and sort keys only), one for every comment of the page's
threads (found through ``root_id``), one for the visible count. The tree is then built in
Python in linear time, for this viewer: readers get placeholders where moderators get text."""

import enum
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import and_, func, or_, select, tuple_, union_all
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from forum.extensions import db
from forum.models import Article, Comment, CommentRevision, CommentStatus, User, utcnow
from forum.services import (
    community,
    mentions,
    moderation,
    notifications,
    permissions,
)
from forum.services.errors import Forbidden, NotAllowed, NotFound
from forum.services.locking import is_unique_violation, lock
from forum.services.pages import Page, check_page
from forum.services.text import is_blank, strip_control_characters
from forum.sqlite import writing


class Sort(enum.StrEnum):
    OLDEST = "oldest"
    NEWEST = "newest"
    TOP = "top"

    @classmethod
    def parse(cls, value: str | None) -> "Sort":
        """The sort named by a query parameter (absent or empty: the default).

        An unknown sort is refused rather than quietly shown as the default under an
        address that names something else."""
        try:
            return cls(value or cls.OLDEST)
        except ValueError:
            names = ", ".join(sort.value for sort in cls)
            raise NotAllowed(f"Unknown sort {value!r}: use one of {names}.", field="sort") from None


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
        return "Your account is suspended indefinitely, so you can read but not post."
    until = user.suspended_until
    return (
        f"Your account is suspended until {until:%d %B %Y, %H:%M} UTC, "
        "so you can read but not post."
    )


def check_can_post(user: User, article: Article) -> None:
    """Raise Forbidden with the reason when ``user`` may not post under ``article``."""
    if user.is_suspended():
        raise Forbidden(suspension_message(user))
    if article.discussion_locked:
        reason = f": {article.lock_reason}" if article.lock_reason else "."
        raise Forbidden(f"This discussion is locked{reason}")


def clean_body(body: str | None, settings: DiscussionSettings) -> str:
    """The body as it will be stored, or NotAllowed saying what's wrong with it."""
    body = strip_control_characters(body or "")
    if is_blank(body):
        raise NotAllowed("Write something before posting.", field="body")
    if len(body) > settings.max_length:
        raise NotAllowed(
            f"Comments can be at most {settings.max_length:,} characters; this one has "
            f"{len(body):,}.",
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
        raise NotAllowed("That reply doesn't point at a comment.", field="parent_id")
    parent_key = int(text)
    parent = db.session.get(Comment, parent_key)
    if parent is None:
        raise NotFound("The comment you are replying to doesn't exist.")
    if parent.article_id != article.id:
        raise NotAllowed("That comment belongs to another article.", field="parent_id")
    if not parent.is_visible:
        raise NotAllowed(
            "That comment has been removed, so it can't take replies.", field="parent_id"
        )
    return parent


# Why replies stop nesting at ``max_reply_depth`` (50): past a few levels every page shows
# a chain flat anyway (``max_display_depth``), so depth beyond that changes nothing a reader
# sees, while an unbounded chain is something one reader can grow alone, thousands deep,
# and every walk up or down it (ancestors, placeholders, "show more") pays for each level.
# So a reply to a comment at the limit is stored beside that comment, under the deepest
# ancestor allowed to take replies, and begins with an @mention of the person it answers:
# the text still says whom it replies to, and that person is told (as mentioned) although
# the stored parent is someone else's comment.


def _addressed_to(author: User, body: str) -> str:
    """``body`` starting with an @mention of ``author``, unless it already does."""
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
        body = _addressed_to(answered.author, body)
    rendered = mentions.render_with_mentions(body)
    with writing(db.session):
        check_can_post(author, article)
        if key and (earlier := comment_with_key(author, key)) is not None:
            return earlier
        parent = find_parent(article, parent_id)
        if parent is not None and parent.depth >= deepest:
            parent = _ancestor_at(parent, deepest - 1)
        if settings.spam_checks:
            moderation.check_link_cap(
                author,
                body,
                max_links=settings.new_account_max_links,
                new_account_days=settings.new_account_days,
                trusted_after=settings.trusted_after,
            )
        pending = moderation.needs_premoderation(
            author, settings.premoderate_first, settings.trusted_after
        )
        comment = Comment(
            article=article,
            author=author,
            parent_id=parent.id if parent else None,
            root_id=parent.thread_root_id if parent else None,
            depth=parent.depth + 1 if parent else 0,
            body_md=body,
            body_html=rendered.html,
            idempotency_key=key,
            status=CommentStatus.PENDING if pending else CommentStatus.VISIBLE,
            created_at=utcnow(),
        )
        db.session.add(comment)
        try:
            db.session.flush()
        except IntegrityError as error:
            # The same form posted twice at once: the other request stored it first.
            db.session.rollback()
            if not (key and is_unique_violation(error)):
                raise
            earlier = comment_with_key(author, key)
            if earlier is None:
                raise
            return earlier
        if parent is not None:
            community.add_follow(author, article)  # replying follows the discussion
        if notify:
            notifications.notify_new_comment(comment, rendered.mentioned)
        _commit_keeping_loaded()
    return comment


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
        raise NotFound("No comment has that number.")
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
        raise Forbidden("You can only edit your own comments.")
    check_can_post(user, comment.article)
    if not permissions.can_edit(user, comment, settings.edit_window_minutes, now):
        raise Forbidden(
            f"Comments can be edited for {settings.edit_window_minutes} minutes after posting; "
            "this one can no longer be changed."
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


def edit_comment(
    user: User,
    comment: Comment,
    body: str,
    *,
    settings: DiscussionSettings = DiscussionSettings(),
    now: datetime | None = None,
) -> Comment:
    """Replace a comment's text within the edit window, keeping the old text as a revision.

    The new text is rendered before the write transaction; inside it the comment's row is
    read again and locked, so two edits at once each keep the text the other replaced."""
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
        db.session.commit()
    return comment


def delete_comment(user: User, comment: Comment, *, now: datetime | None = None) -> Comment:
    """Withdraw a comment. It stays in the database; the thread shows a placeholder if needed."""
    if not permissions.can_delete(user, comment):
        raise Forbidden("You can only delete your own comments.")
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


# --- reading -------------------------------------------------------------------------------


class Shown(enum.StrEnum):
    """How one comment appears to one viewer."""

    TEXT = "text"  # the comment, as anyone sees it
    OWN_HIDDEN = "own-hidden"  # its author: text plus "hidden by a moderator because..."
    OWN_PENDING = "own-pending"  # its author: text plus "awaiting review"
    OWN_REJECTED = "own-rejected"
    MOD_HIDDEN = "mod-hidden"  # a moderator: text marked hidden, with unhide
    MOD_PENDING = "mod-pending"
    MOD_REJECTED = "mod-rejected"
    HIDDEN_PLACEHOLDER = "hidden-placeholder"  # "Hidden by a moderator: spam"
    DELETED_PLACEHOLDER = "deleted-placeholder"  # "[deleted]", only while replies stand


def shown_as(comment: Comment, viewer: User | None) -> Shown | None:
    """What ``viewer`` sees of ``comment`` on its own (None: nothing, unless replies need it)."""
    status = comment.status
    if status is CommentStatus.VISIBLE:
        return Shown.TEXT
    if status is CommentStatus.DELETED:
        return None
    is_author = viewer is not None and getattr(viewer, "id", None) == comment.author_id
    is_mod = permissions.is_moderator(viewer)
    if status is CommentStatus.HIDDEN:
        if is_mod:
            return Shown.MOD_HIDDEN
        return Shown.OWN_HIDDEN if is_author else Shown.HIDDEN_PLACEHOLDER
    if status is CommentStatus.PENDING:
        if is_mod:
            return Shown.MOD_PENDING
        return Shown.OWN_PENDING if is_author else None
    if status is CommentStatus.REJECTED:
        if is_mod:
            return Shown.MOD_REJECTED
        return Shown.OWN_REJECTED if is_author else None
    return None


@dataclass
class Node:
    comment: Comment
    shown: Shown
    level: int  # display nesting level, 1 for top-level, at most the cap
    children: list["Node"] = field(default_factory=list)
    replying_to: User | None = None  # set when the reply is shown flattened at the cap
    # What the viewer sees of this comment by itself, before its replies are considered.
    own: Shown | None = None
    # On a thread's root, when the page shows only its first replies: how many more
    # readers can see, and the last one shown (where "Show more" carries on).
    more_replies: int = 0
    last_shown_id: int | None = None

    @property
    def reply_count(self) -> int:
        """Every reply below this node (counted without recursion: chains can be deep)."""
        total, stack = 0, list(self.children)
        while stack:
            node = stack.pop()
            total += 1
            stack.extend(node.children)
        return total


@dataclass
class DiscussionPage:
    """A page of a discussion: ``paging`` is the page of top-level comment ids (the one page
    type every list shares, for the pager), ``threads`` those threads as trees."""

    threads: list[Node]
    sort: Sort
    paging: Page[int]
    visible_count: int
    comment_ids: list[int] = field(default_factory=list)

    @property
    def page(self) -> int:
        return self.paging.page

    @property
    def pages(self) -> int:
        return self.paging.pages

    @property
    def thread_count(self) -> int:
        return self.paging.total


def _viewer_extra(viewer: User | None):
    """Top-level comments this viewer sees although readers don't (``listed`` is false):
    a moderator's view of pending and rejected ones, an author's own. None: nothing extra."""
    if viewer is None or not getattr(viewer, "is_authenticated", False):
        return None
    if permissions.is_moderator(viewer):
        return Comment.status.in_((CommentStatus.PENDING, CommentStatus.REJECTED))
    return and_(Comment.author_id == viewer.id, Comment.status != CommentStatus.DELETED)


def _roots_for(article: Article, viewer: User | None):
    """The where-clause of the top-level comments ``viewer`` sees listed under ``article``."""
    extra = _viewer_extra(viewer)
    listed = Comment.listed.is_(True) if extra is None else or_(Comment.listed.is_(True), extra)
    return and_(Comment.article_id == article.id, Comment.parent_id.is_(None), listed)


_ORDER = {
    Sort.OLDEST: lambda: (Comment.created_at, Comment.id),
    Sort.NEWEST: lambda: (Comment.created_at.desc(), Comment.id.desc()),
    Sort.TOP: lambda: (Comment.top_key, Comment.id),
}


def _thread_total(article: Article, viewer: User | None, known_extra: int | None = None) -> int:
    """How many threads ``viewer`` sees: the stored count, plus (for moderators and authors of
    pending comments) the few unlisted ones, found through the index on ``listed`` unless
    the caller already knows how many (``known_extra``)."""
    extra = _viewer_extra(viewer)
    if extra is None:
        return article.thread_count
    if known_extra is not None and not permissions.is_moderator(viewer):
        return article.thread_count + known_extra
    unlisted = db.session.execute(
        select(func.count(Comment.id)).where(
            Comment.article_id == article.id,
            Comment.parent_id.is_(None),
            Comment.listed.is_(False),
            extra,
        )
    ).scalar_one()
    return article.thread_count + unlisted


def _page_thread_ids(
    article: Article, viewer: User | None, sort: Sort, page: int, per_page: int
) -> list[int]:
    """The page's top-level comment ids in display order, read off an index with a limit.

    A pinned thread leads the first page whatever the sort (an article has at most one), so
    it is fetched with the page and the other threads are offset past it."""
    where = _roots_for(article, viewer)
    pinned = (
        select(Comment.id).where(where, Comment.pinned_at.is_not(None)).limit(1).scalar_subquery()
    )
    start = (page - 1) * per_page
    # Not knowing yet whether a thread is pinned, fetch one thread more than a page, from
    # one place earlier: enough for either case, in one query.
    rows = db.session.execute(
        select(Comment.id, pinned.label("pinned_id"))
        .where(where, Comment.pinned_at.is_(None))
        .order_by(*_ORDER[sort]())
        .limit(per_page + 1)
        .offset(max(start - 1, 0))
    ).all()
    ids = [row.id for row in rows]
    pinned_id = rows[0].pinned_id if rows else _pinned_only(where)
    if pinned_id is None:
        return ids[1 : per_page + 1] if start else ids[:per_page]
    if page == 1:
        return [pinned_id, *ids[: per_page - 1]]
    return ids[:per_page]


def _pinned_only(where) -> int | None:
    return db.session.execute(
        select(Comment.id).where(where, Comment.pinned_at.is_not(None)).limit(1)
    ).scalar_one_or_none()


def visible_count(article_ids: Iterable[int] | int) -> int:
    """How many comments readers can see under an article (the stored counts)."""
    ids = [article_ids] if isinstance(article_ids, int) else list(article_ids)
    return db.session.execute(
        select(func.coalesce(func.sum(Article.comment_count), 0)).where(Article.id.in_(ids))
    ).scalar_one()


def _first_replies(root_ids: list[int], limit: int):
    """Ids of each thread's first ``limit`` replies in the order they were written.

    Replies are always newer than what they answer, so this prefix of a thread holds every
    ancestor of every comment in it: the tree it makes has no gaps."""
    parts = [
        select(Comment.id)
        .where(Comment.root_id == root_id)
        .order_by(Comment.created_at, Comment.id)
        .limit(limit)
        .subquery()
        for root_id in root_ids
    ]
    return union_all(*[select(part.c.id) for part in parts])


def load_page(
    article: Article,
    viewer: User | None,
    *,
    sort: Sort = Sort.OLDEST,
    page: int = 1,
    settings: DiscussionSettings = DiscussionSettings(),
    extra_threads: int | None = None,
) -> DiscussionPage:
    """One page of threads as a tree shaped for ``viewer``, in a fixed number of queries
    whatever the size of the discussion: the page's thread ids off an index, then those
    threads' comments (each thread's first ``replies_per_thread`` replies). NotFound past
    the end. ``extra_threads``: how many unlisted threads of their own a reader has here,
    when the caller knows."""
    per_page = max(settings.threads_per_page, 1)
    total = _thread_total(article, viewer, extra_threads)
    check_page(page, total, per_page)
    page_ids = _page_thread_ids(article, viewer, sort, page, per_page)
    comments: list[Comment] = []
    if page_ids:
        wanted = or_(
            Comment.id.in_(page_ids),
            Comment.id.in_(_first_replies(page_ids, settings.replies_per_thread)),
        )
        comments = list(
            db.session.execute(
                select(Comment)
                .options(joinedload(Comment.author))
                .where(wanted)
                .order_by(Comment.created_at, Comment.id)
            ).scalars()
        )
    threads = build_tree(comments, page_ids, viewer, settings.max_display_depth)
    _mark_truncated(threads, comments, settings.replies_per_thread)
    return DiscussionPage(
        threads=threads,
        sort=sort,
        paging=Page(page_ids, page, per_page, total),
        visible_count=article.comment_count,
        comment_ids=[comment.id for comment in comments],
    )


def _mark_truncated(roots: list[Node], comments: list[Comment], limit: int) -> None:
    """Tell each root whose thread was cut at ``limit`` replies how many more readers see."""
    loaded: dict[int, int] = {}
    visible: dict[int, int] = {}
    last: dict[int, int] = {}
    for comment in comments:
        if comment.root_id is None:
            continue
        loaded[comment.root_id] = loaded.get(comment.root_id, 0) + 1
        last[comment.root_id] = comment.id
        if comment.status is CommentStatus.VISIBLE:
            visible[comment.root_id] = visible.get(comment.root_id, 0) + 1
    for root in roots:
        root_id = root.comment.id
        if loaded.get(root_id, 0) < limit:
            continue
        shown = visible.get(root_id, 0) + int(root.comment.status is CommentStatus.VISIBLE)
        root.more_replies = max(root.comment.visible_in_thread - shown, 0)
        root.last_shown_id = last[root_id]


def later_replies(root: Comment, after: Comment, limit: int) -> list[Comment]:
    """The replies of ``root``'s thread written after ``after``, oldest first (the "Show
    more replies" page of a long thread)."""
    return list(
        db.session.execute(
            select(Comment)
            .options(joinedload(Comment.author))
            .where(
                Comment.root_id == root.id,
                tuple_(Comment.created_at, Comment.id) > tuple_(after.created_at, after.id),
            )
            .order_by(Comment.created_at, Comment.id)
            .limit(limit)
        ).scalars()
    )


# The most comments one "new comments" request returns: the script asks again for the rest.
NEW_COMMENTS_LIMIT = 100


def new_comments(
    article: Article, viewer: User | None, after: int, limit: int = NEW_COMMENTS_LIMIT
) -> list[Comment]:
    """Comments of ``article`` newer than the comment ``after`` (ids only grow) that
    ``viewer`` sees by themselves, oldest first, at most ``limit``: what an open page's
    script inserts when the discussion changed. One query, over the primary key's range (new
    comments are the table's last rows); the SQL filter matches
    ``shown_as`` so that the limit counts only comments the viewer gets, and ``shown_as``
    stays the judge."""
    seen = Comment.status.in_((CommentStatus.VISIBLE, CommentStatus.HIDDEN))
    if permissions.is_moderator(viewer):
        seen = Comment.status != CommentStatus.DELETED
    elif viewer is not None and getattr(viewer, "is_authenticated", False):
        own = and_(Comment.author_id == viewer.id, Comment.status != CommentStatus.DELETED)
        seen = or_(seen, own)
    rows = db.session.execute(
        select(Comment)
        .options(joinedload(Comment.author))
        .where(Comment.article_id == article.id, Comment.id > after, seen)
        .order_by(Comment.id)
        .limit(max(limit, 0))
    ).scalars()
    return [comment for comment in rows if shown_as(comment, viewer) is not None]


def build_tree(
    comments: list[Comment], root_order: list[int], viewer: User | None, max_depth: int
) -> list[Node]:
    """Arrange ``comments`` (parents before children) into threads, in linear time and
    without recursion (a reader can post a reply chain thousands deep).

    Comments the viewer can't see are dropped, unless a reply below them still stands, in
    which case they keep the thread's shape as a placeholder. Nesting deeper than
    ``max_depth`` levels is shown flat at the last level, each reply naming whom it answers."""
    by_id: dict[int, Node] = {}
    children: dict[int, list[Node]] = {}
    for comment in comments:
        own = shown_as(comment, viewer)
        node = Node(comment=comment, shown=own or Shown.DELETED_PLACEHOLDER, level=0, own=own)
        by_id[comment.id] = node
        if comment.parent_id is not None:
            children.setdefault(comment.parent_id, []).append(node)

    roots = []
    for root_id in root_order:
        root = by_id.get(root_id)
        if root is not None and _prune(root, children):
            roots.append(root)
    cap = max(max_depth, 1)
    for root in roots:
        _assign_levels(root, cap)
    return roots


def _prune(root: Node, children: dict[int, list[Node]]) -> bool:
    """Keep a node if the viewer sees it or any reply below it stays (post-order, iterative);
    whether the root stays is returned."""
    order: list[Node] = []
    stack = [root]
    while stack:
        node = stack.pop()
        order.append(node)
        stack.extend(children.get(node.comment.id, []))
    kept: dict[int, bool] = {}
    for node in reversed(order):  # every child before its parent
        node.children = [c for c in children.get(node.comment.id, []) if kept[c.comment.id]]
        stays = node.own is not None or bool(node.children)
        if node.own is None and node.children:
            node.shown = (
                Shown.HIDDEN_PLACEHOLDER
                if node.comment.status is CommentStatus.HIDDEN
                else Shown.DELETED_PLACEHOLDER
            )
        kept[node.comment.id] = stays
    return kept[root.comment.id]


def _assign_levels(root: Node, cap: int) -> None:
    """Set display levels; at the cap, hoist all descendants into one flat list in reading
    order, each naming whom it answers."""
    stack = [(root, 1)]
    while stack:
        node, level = stack.pop()
        node.level = level
        if level < cap:
            stack.extend((child, level + 1) for child in node.children)
            continue
        flat: list[Node] = []
        walk = [(child, node) for child in reversed(node.children)]
        while walk:
            child, parent = walk.pop()
            child.level = cap
            child.replying_to = parent.comment.author
            flat.append(child)
            walk.extend((grandchild, child) for grandchild in reversed(child.children))
            child.children = []
        node.children = flat


def page_of_comment(comment: Comment, viewer: User | None, sort: Sort, per_page: int) -> int:
    """The page of the discussion on which ``comment``'s thread appears for ``viewer``: two
    indexed counts, not a sort of the whole discussion."""
    root = comment if comment.root_id is None else db.session.get(Comment, comment.root_id)
    if root is None or root.pinned_at is not None:
        return 1
    where = _roots_for(comment.article, viewer)
    if sort is Sort.OLDEST:
        before = tuple_(Comment.created_at, Comment.id) < tuple_(root.created_at, root.id)
    elif sort is Sort.NEWEST:
        before = tuple_(Comment.created_at, Comment.id) > tuple_(root.created_at, root.id)
    else:
        before = tuple_(Comment.top_key, Comment.id) < tuple_(root.top_key, root.id)
    pinned = (
        select(func.count(Comment.id))
        .where(where, Comment.pinned_at.is_not(None))
        .scalar_subquery()
    )
    earlier = db.session.execute(
        select(func.count(Comment.id).label("n"), pinned.label("pinned")).where(
            where, Comment.pinned_at.is_(None), before
        )
    ).one()
    return (earlier.n + earlier.pinned) // max(per_page, 1) + 1


def is_on_page(comment: Comment, viewer: User | None) -> bool:
    """Whether ``viewer`` would see this comment (as text or as a placeholder) in the thread."""
    return shown_as(comment, viewer) is not None or _has_visible_descendant(comment)


def _has_visible_descendant(comment: Comment) -> bool:
    root = comment.thread_root_id
    rows = db.session.execute(
        select(Comment.id, Comment.parent_id, Comment.status).where(
            or_(Comment.root_id == root, Comment.id == root)
        )
    ).all()
    kids: dict[int, list] = {}
    for row in rows:
        if row.parent_id is not None:
            kids.setdefault(row.parent_id, []).append(row)
    stack = list(kids.get(comment.id, []))
    while stack:
        row = stack.pop()
        if row.status is CommentStatus.VISIBLE:
            return True
        stack.extend(kids.get(row.id, []))
    return False


def edit_window_ends(comment: Comment, settings: DiscussionSettings) -> datetime:
    return comment.created_at + timedelta(minutes=settings.edit_window_minutes)
