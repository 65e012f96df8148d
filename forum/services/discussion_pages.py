"""A page of a discussion, as a tree shaped for its viewer, in a fixed number of queries.

Whatever the size of the discussion: the page's top-level comments are read off an index
(their stored order keys and the article's stored counts, ``discussion_state``), then those
threads' comments, each thread's first replies. The tree is then built in Python in linear
time (``trees``), for this viewer: readers get placeholders where moderators get text."""

import enum
import functools
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import (
    Integer,
    Select,
    and_,
    bindparam,
    case,
    func,
    or_,
    select,
    tuple_,
    union_all,
)
from sqlalchemy.orm import aliased, joinedload

from forum.extensions import db
from forum.models import Article, Comment, CommentStatus, User
from forum.services import permissions
from forum.services.errors import NotAllowed
from forum.services.pages import Page, check_page
from forum.services.threads import DiscussionSettings
from forum.services.trees import Node, build_tree, shown_as
from forum.services.words import _l

# The settings a caller that passes none gets (the configuration's defaults).
DEFAULT_SETTINGS = DiscussionSettings()


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
            raise NotAllowed(
                _l("Unknown sort %(sort)s: use one of %(names)s.", sort=repr(value), names=names),
                field="sort",
            ) from None


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


def _viewer_kind(viewer: User | None) -> str | None:
    """Who sees unlisted threads, and which: None (nobody's), "moderator" or "reader"."""
    if viewer is None or not getattr(viewer, "is_authenticated", False):
        return None
    return "moderator" if permissions.is_moderator(viewer) else "reader"


def _extra_for(kind: str | None, viewer_id):
    """Top-level comments a kind of viewer sees although readers don't (``listed`` is
    false): a moderator's view of pending and rejected ones, a reader's own. None: nothing.

    ``author_id + 0`` is ``author_id`` with no index to take: given ``author_id = ?``, SQLite
    read the unlisted threads through the index on the author, every comment of an active
    author, more with each post, instead of the handful the index on ``listed`` holds."""
    if kind is None:
        return None
    if kind == "moderator":
        return Comment.status.in_((CommentStatus.PENDING, CommentStatus.REJECTED))
    return and_(Comment.author_id + 0 == viewer_id, Comment.status != CommentStatus.DELETED)


def _viewer_extra(viewer: User | None):
    """``_extra_for`` this viewer."""
    kind = _viewer_kind(viewer)
    return _extra_for(kind, viewer.id if kind else None)


def _seen_threads(article_id, extra):
    listed = Comment.listed.is_(True) if extra is None else or_(Comment.listed.is_(True), extra)
    return and_(Comment.article_id == article_id, Comment.parent_id.is_(None), listed)


def _roots_for(article: Article, viewer: User | None):
    """The where-clause of the top-level comments ``viewer`` sees listed under ``article``."""
    return _seen_threads(article.id, _viewer_extra(viewer))


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
    return (
        article.thread_count + db.session.execute(_unlisted_threads(article.id, extra)).scalar_one()
    )


def _unlisted_threads(article_id: int, extra) -> Select:
    """How many of ``article_id``'s unlisted threads the viewer of ``extra`` sees."""
    return select(func.count(Comment.id)).where(
        Comment.article_id == article_id,
        Comment.parent_id.is_(None),
        Comment.listed.is_(False),
        extra,
    )


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
    settings: DiscussionSettings = DEFAULT_SETTINGS,
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
    rows = db.session.execute(
        comments_seen_by(article, viewer)
        .where(Comment.id > after)
        .order_by(Comment.id)
        .limit(max(limit, 0))
    ).scalars()
    return [comment for comment in rows if shown_as(comment, viewer) is not None]


def comments_seen_by(article: Article, viewer: User | None) -> Select:
    """Every comment of ``article`` that ``viewer`` sees by itself (its author loaded),
    unordered: the SQL twin of ``shown_as`` (which stays the judge of each row)."""
    seen = Comment.status.in_((CommentStatus.VISIBLE, CommentStatus.HIDDEN))
    if permissions.is_moderator(viewer):
        seen = Comment.status != CommentStatus.DELETED
    elif viewer is not None and getattr(viewer, "is_authenticated", False):
        own = and_(Comment.author_id + 0 == viewer.id, Comment.status != CommentStatus.DELETED)
        seen = or_(seen, own)
    return (
        select(Comment)
        .options(joinedload(Comment.author))
        .where(Comment.article_id == article.id, seen)
    )


# How many threads past a thread ``page_of_comment`` counts before it counts from the other
# end instead: a thread just posted has next to none after it, an old one few before it.
# Small, because counting reads each thread's row, and a reply to an early thread of a long
# discussion reads this many before it counts the other way.
NEAR_END = 50


def page_of_comment(comment: Comment, viewer: User | None, sort: Sort, per_page: int) -> int:
    """The page of the discussion on which ``comment``'s thread appears for ``viewer``.

    One statement, counting from the nearer end through the ordering indexes: the threads
    after it (a new thread, where posting lands, has none) against the stored thread count,
    else the threads before it. Counting every thread before a new one cost 26 ms in a
    discussion of 55,000 threads, on every post of a new thread and every permalink to a
    late one. The thread's first comment is read by the statement too: loading it as an
    object first cost a query of its own on most replies (a reply's thread is rarely in the
    session), 6 % of a post's work."""
    kind = _viewer_kind(viewer)
    position = db.session.execute(
        _landing(sort, kind),
        {
            "article_id": comment.article_id,
            "root_id": comment.root_id if comment.root_id is not None else comment.id,
            "viewer_id": viewer.id if kind else None,
            "near_end": NEAR_END,
        },
    ).scalar_one()
    # Pinned threads come first (-1), and a thread whose first comment is gone counts none.
    return max(position or 0, 0) // max(per_page, 1) + 1


@functools.cache
def _landing(sort: Sort, kind: str | None) -> Select:
    """``page_of_comment``'s statement for a sort and kind of viewer: the thread's place
    among those the viewer sees (0 first; -1 for a pinned thread, shown above the rest).
    Built once: building and keying it for each post cost more than the counting (13 % of
    posting's rate).

    From the threads after it and the stored count when fewer than ``near_end`` follow it
    (and it is one of those the stored count holds); else from the threads before it. A
    CASE: the database counts the other side only when it must."""
    article_id = bindparam("article_id", type_=Integer)
    root_id = bindparam("root_id", type_=Integer)
    key = Comment.top_key if sort is Sort.TOP else Comment.created_at
    root = aliased(Comment, name="landing_root")
    root_key = (
        select(root.top_key if sort is Sort.TOP else root.created_at)
        .where(root.id == root_id)
        .scalar_subquery()
    )
    pinned = select(root.id).where(root.id == root_id, root.pinned_at.is_not(None)).exists()
    extra = _extra_for(kind, bindparam("viewer_id", type_=Integer))
    seen = _seen_threads(article_id, extra)
    where = and_(seen, Comment.pinned_at.is_(None))
    own, root_at = tuple_(key, Comment.id), tuple_(root_key, root_id)
    earlier, later = (
        (own > root_at, own < root_at) if sort is Sort.NEWEST else (own < root_at, own > root_at)
    )
    before = (
        select(func.count(Comment.id)).where(where, earlier).scalar_subquery()
        + select(func.count(Comment.id))
        .where(seen, Comment.pinned_at.is_not(None))
        .scalar_subquery()
    )
    if sort is Sort.NEWEST:  # new threads come first: there are few before them
        return select(case((pinned, -1), else_=before))
    near_end = bindparam("near_end", type_=Integer)
    after = (
        select(func.count())
        .select_from(select(Comment.id).where(where, later).limit(near_end).subquery())
        .scalar_subquery()
    )
    total = select(Article.thread_count).where(Article.id == article_id).scalar_subquery()
    if extra is not None:  # the viewer's unlisted threads, as in _thread_total
        total = total + _unlisted_threads(article_id, extra).scalar_subquery()
    counted = select(Comment.id).where(Comment.id == root_id, seen).exists()
    return select(
        case(
            (pinned, -1),
            (and_(counted, after < near_end), total - 1 - after),
            else_=before,
        )
    )


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
