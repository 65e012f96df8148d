"""Posting, editing and deleting comments, and loading a page of a discussion as a tree.

A page costs a fixed number of queries whatever the size of its threads: one for the
article's top-level comments (ids and sort keys only), one for every comment of the page's
threads (found through ``root_id``), one for the visible count. The tree is then built in
Python in linear time, for this viewer: readers get placeholders where moderators get text."""

import enum
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.orm import aliased, joinedload

from forum.extensions import db
from forum.models import Article, Comment, CommentRevision, CommentStatus, User, utcnow
from forum.services import community, mentions, moderation, notifications, permissions
from forum.services.errors import Forbidden, NotAllowed, NotFound
from forum.services.pages import Page, slice_page
from forum.services.text import is_blank, strip_control_characters


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


def post_comment(
    author: User,
    article: Article,
    body: str,
    *,
    parent_id: int | str | None = None,
    settings: DiscussionSettings = DiscussionSettings(),
) -> Comment:
    """Post a top-level comment or a reply; the Markdown is rendered and sanitized once, here.

    New accounts' comments may wait for review (pre-moderation) and carry only a few links,
    until enough of their comments have been approved."""
    check_can_post(author, article)
    body = clean_body(body, settings)
    parent = find_parent(article, parent_id)
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
    rendered = mentions.render_with_mentions(body)
    comment = Comment(
        article=article,
        author=author,
        parent_id=parent.id if parent else None,
        root_id=parent.thread_root_id if parent else None,
        depth=parent.depth + 1 if parent else 0,
        body_md=body,
        body_html=rendered.html,
        status=CommentStatus.PENDING if pending else CommentStatus.VISIBLE,
        created_at=utcnow(),
    )
    db.session.add(comment)
    db.session.flush()
    if parent is not None:
        community.add_follow(author, article)  # replying follows the discussion
    notifications.notify_new_comment(comment, rendered.mentioned)
    db.session.commit()
    return comment


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


def edit_comment(
    user: User,
    comment: Comment,
    body: str,
    *,
    settings: DiscussionSettings = DiscussionSettings(),
    now: datetime | None = None,
) -> Comment:
    """Replace a comment's text within the edit window, keeping the old text as a revision."""
    now = now or utcnow()
    check_can_edit(user, comment, settings, now)
    body = clean_body(body, settings)
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
    rendered = mentions.render_with_mentions(body)
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

    @property
    def reply_count(self) -> int:
        return sum(1 + child.reply_count for child in self.children)


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


def thread_score(helpful: int, created_at: datetime, now: datetime) -> float:
    """Ranking for ``?sort=top``: helpful votes decayed by age (as Hacker News ranks).

    An old comment doesn't stay on top just because it had longer to collect votes: every
    vote counts less as the comment ages."""
    age_hours = max((now - created_at).total_seconds() / 3600, 0)
    return helpful / math.pow(age_hours + 2, 1.5)


def ordered_thread_ids(article: Article, viewer: User | None, sort: Sort) -> list[int]:
    """Ids of the top-level comments this viewer sees in the discussion, in display order."""
    return _ordered_threads(article, viewer, sort)[0]


def _ordered_threads(article: Article, viewer: User | None, sort: Sort) -> tuple[list[int], int]:
    """The ordered thread ids and the article's visible comment count.

    One query: only ids and sort keys (plus the count as a scalar subquery), so it stays
    cheap for thousands of threads."""
    reply = aliased(Comment)
    counted = aliased(Comment)
    total_visible = (
        select(func.count(counted.id))
        .where(counted.article_id == article.id, counted.is_visible)
        .scalar_subquery()
    )
    has_visible_reply = exists().where(and_(reply.root_id == Comment.id, reply.is_visible))
    rows = db.session.execute(
        select(
            Comment.id,
            Comment.status,
            Comment.author_id,
            Comment.created_at,
            Comment.helpful_count,
            Comment.pinned_at,
            has_visible_reply.label("has_visible_reply"),
            total_visible.label("total_visible"),
        ).where(Comment.article_id == article.id, Comment.parent_id.is_(None))
    ).all()
    viewer_id = getattr(viewer, "id", None) if viewer is not None else None
    is_mod = permissions.is_moderator(viewer)
    kept = [row for row in rows if _root_is_listed(row, viewer_id, is_mod)]
    if sort is Sort.TOP:
        now = utcnow()
        kept.sort(
            key=lambda r: (-thread_score(r.helpful_count, r.created_at, now), r.created_at, r.id)
        )
    elif sort is Sort.NEWEST:
        kept.sort(key=lambda r: (r.created_at, r.id), reverse=True)
    else:
        kept.sort(key=lambda r: (r.created_at, r.id))
    # A pinned thread leads the first page, whatever the sort.
    kept.sort(key=lambda r: r.pinned_at is None)
    # Replies need a top-level comment, so no rows means no visible comments at all.
    return [row.id for row in kept], (rows[0].total_visible if rows else 0)


def _root_is_listed(row, viewer_id: int | None, is_mod: bool) -> bool:
    status = row.status
    if status in (CommentStatus.VISIBLE, CommentStatus.HIDDEN):
        return True
    is_author = viewer_id is not None and row.author_id == viewer_id
    if (is_mod or is_author) and status is not CommentStatus.DELETED:
        return True
    # Deleted (or unseen pending/rejected) threads stay while a reply still stands.
    return bool(row.has_visible_reply)


def visible_count(article_ids: Iterable[int] | int) -> int:
    """How many comments readers can see under an article."""
    ids = [article_ids] if isinstance(article_ids, int) else list(article_ids)
    return db.session.execute(
        select(func.count(Comment.id)).where(Comment.article_id.in_(ids), Comment.is_visible)
    ).scalar_one()


def load_page(
    article: Article,
    viewer: User | None,
    *,
    sort: Sort = Sort.OLDEST,
    page: int = 1,
    settings: DiscussionSettings = DiscussionSettings(),
) -> DiscussionPage:
    """One page of threads, whole, as a tree shaped for ``viewer``; NotFound past the end."""
    thread_ids, visible = _ordered_threads(article, viewer, sort)
    paging = slice_page(thread_ids, page, settings.threads_per_page)
    page_ids = paging.items
    comments: list[Comment] = []
    if page_ids:
        comments = list(
            db.session.execute(
                select(Comment)
                .options(joinedload(Comment.author))
                .where(or_(Comment.id.in_(page_ids), Comment.root_id.in_(page_ids)))
                .order_by(Comment.created_at, Comment.id)
            ).scalars()
        )
    threads = build_tree(comments, page_ids, viewer, settings.max_display_depth)
    return DiscussionPage(
        threads=threads,
        sort=sort,
        paging=paging,
        visible_count=visible,
        comment_ids=[comment.id for comment in comments],
    )


def build_tree(
    comments: list[Comment], root_order: list[int], viewer: User | None, max_depth: int
) -> list[Node]:
    """Arrange ``comments`` (parents before children) into threads, in linear time.

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

    def keep(node: Node) -> bool:
        # Post-order over one thread: a node stays if the viewer sees it or any reply stays.
        kept = [child for child in children.get(node.comment.id, []) if keep(child)]
        node.children = kept
        if node.own is None:
            if not kept:
                return False
            node.shown = (
                Shown.HIDDEN_PLACEHOLDER
                if node.comment.status is CommentStatus.HIDDEN
                else Shown.DELETED_PLACEHOLDER
            )
        return True

    roots = []
    for root_id in root_order:
        root = by_id.get(root_id)
        if root is not None and keep(root):
            roots.append(root)
    cap = max(max_depth, 1)
    for root in roots:
        _assign_levels(root, 1, cap)
    return roots


def _assign_levels(node: Node, level: int, cap: int) -> None:
    """Set display levels; at the cap, hoist all descendants into one flat list."""
    node.level = level
    if level < cap:
        for child in node.children:
            _assign_levels(child, level + 1, cap)
        return
    flat: list[Node] = []

    def walk(parent: Node) -> None:
        for child in parent.children:
            child.level = cap
            child.replying_to = parent.comment.author
            flat.append(child)
            walk(child)
            child.children = []

    walk(node)
    node.children = flat
    for child in flat:
        child.level = cap


def page_of_comment(comment: Comment, viewer: User | None, sort: Sort, per_page: int) -> int:
    """The page of the discussion on which ``comment``'s thread appears for ``viewer``."""
    thread_ids = ordered_thread_ids(comment.article, viewer, sort)
    try:
        index = thread_ids.index(comment.thread_root_id)
    except ValueError:
        return 1
    return index // max(per_page, 1) + 1


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
