"""The stored state of each discussion: its version, its counts and its threads' order keys.

This is the only module that writes ``Article.discussion_version``, ``comment_count`` and
``thread_count`` and the thread columns ``Comment.listed``, ``visible_in_thread`` and
``top_key``:

- the version changes on every event that can change what anyone sees in a discussion; it
  keys the page cache and the ``ETag``, so one bump makes every cached copy stale at once,
  on every worker and machine;
- the counts spare pages a ``COUNT(*)`` over the whole discussion;
- the thread columns let a page of threads be read straight off an index, in every sort.

Changes made through the ORM are caught by one flush hook (see ``install``), so no service
can forget an event: a comment posted or changing state, an edit, a pin, an article edited,
an author suspended, renamed, given a new picture, promoted or deleted. Changes made in bulk
SQL, which the ORM never sees (votes, account deletion, ``comments populate``), call
``thread_voted``, ``comments_changed`` or ``recount`` themselves. Nothing here commits: the
version moves in the same transaction as the change it stands for. Counts move by deltas in
SQL (``x = x + d``) and a thread is recounted only after its root row is locked, so two
transactions at once on PostgreSQL can't lose each other's changes (SQLite serializes
writers anyway)."""

import math
from collections.abc import Iterable
from datetime import UTC, datetime

from sqlalchemy import bindparam, event, func, inspect, select, update
from sqlalchemy.orm import Session

from forum.extensions import db
from forum.models import Article, Comment, CommentStatus, Series, User, utcnow

# How many seconds of recency one tenfold of helpful votes is worth in the "top" sort (as
# Reddit's "hot" ranking): a stored key never needs updating as time passes, yet a newer
# thread overtakes an older one with as many votes, so the order can live in an index.
TOP_SECONDS_PER_DECADE = 45_000
# Threads nobody has voted for come after every voted thread, oldest first.
UNVOTED_TOP_KEY = 1e12
# session.info: ids of the articles whose version moved in this transaction, for whoever
# tells other machines after the commit (forum/published_versions.py).
BUMPED = "forum_bumped_articles"


def top_key(helpful: int, created_at: datetime) -> float:
    """A thread's key in the "top" sort: smaller comes first (it is the negated score)."""
    if created_at.tzinfo is None:
        created_at = created_at.replace(tzinfo=UTC)
    if helpful <= 0:
        return UNVOTED_TOP_KEY + created_at.timestamp()
    return -(math.log10(helpful) + created_at.timestamp() / TOP_SECONDS_PER_DECADE)


def _stands(status: CommentStatus) -> bool:
    """Whether a top-level comment keeps its thread listed by itself (a hidden one shows
    its placeholder)."""
    return status in (CommentStatus.VISIBLE, CommentStatus.HIDDEN)


def version_of(slug: str):
    """The article's id, its discussion's version and visible comment count, by the
    article's address (one small indexed query, no ORM objects); None when no article has
    that address."""
    return db.session.execute(
        select(
            Article.id, Article.discussion_version.label("version"), Article.comment_count
        ).where(Article.slug == slug)
    ).first()


# --- writing the stored state ---------------------------------------------------------------


def _bump(session: Session, article_ids: Iterable[int], **deltas: int) -> None:
    ids = sorted(set(article_ids))
    if not ids:
        return
    values = {"discussion_version": Article.discussion_version + 1}
    for name, delta in deltas.items():
        if delta:
            values[name] = getattr(Article, name) + delta
    session.execute(
        update(Article)
        .where(Article.id.in_(ids))
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    _bumped(session, ids)


def _bumped(session: Session, article_ids: list[int]) -> None:
    """Note the articles whose version moved, and expire their counts in the session."""
    session.info.setdefault(BUMPED, set()).update(article_ids)
    for obj in list(session.identity_map.values()):
        if isinstance(obj, Article) and obj.id in article_ids:
            session.expire(obj, ["discussion_version", "comment_count", "thread_count"])


def _expire_roots(session: Session, root_ids: Iterable[int]) -> None:
    for root_id in root_ids:
        obj = session.identity_map.get((Comment, (root_id,), None))
        if obj is not None:
            session.expire(obj, ["listed", "visible_in_thread", "top_key"])


def thread_columns(status: CommentStatus, created_at: datetime) -> dict[str, object]:
    """A new top-level comment's own thread columns, stored with its row."""
    visible = status is CommentStatus.VISIBLE
    return {
        "listed": visible,
        "visible_in_thread": int(visible),
        "top_key": top_key(0, created_at),
    }


# Posting's two statements, built once: they run on every post, and building and keying a
# statement cost about as much as running it.
_comments, _articles = Comment.__table__, Article.__table__
_REPLY_COUNTED = (
    update(_comments)
    .where(_comments.c.id == bindparam("thread_root"))
    .values(visible_in_thread=_comments.c.visible_in_thread + 1, listed=True)
    .returning(_comments.c.visible_in_thread, _comments.c.status)
)
_POSTED_BUMP = (
    update(_articles)
    .where(_articles.c.id == bindparam("article"))
    .values(
        discussion_version=_articles.c.discussion_version + 1,
        comment_count=_articles.c.comment_count + bindparam("more_comments"),
        thread_count=_articles.c.thread_count + bindparam("more_threads"),
    )
)


def posted(session: Session, comment: Comment) -> None:
    """A comment was just stored: its thread and article counts move by one and the
    version with them, nothing is recounted. The flush hook calls this for comments added
    through the ORM; posting, which inserts its row itself, calls it directly."""
    visible = comment.status is CommentStatus.VISIBLE
    # A visible top-level comment is a new listed thread (its own columns were set with
    # its row); a reply lists its thread only if nothing else did.
    more_threads = int(visible)
    if comment.parent_id is not None and visible:
        # One UPDATE, not a read then a write: the thread's new count says whether readers
        # could see it before (two replies at once under an unlisted thread list it once).
        in_thread, root_status = session.execute(
            _REPLY_COUNTED, {"thread_root": comment.root_id}
        ).one()
        more_threads = int(in_thread == 1 and not _stands(root_status))
        _expire_roots(session, [comment.root_id])
    session.execute(
        _POSTED_BUMP,
        {
            "article": comment.article_id,
            "more_comments": int(visible),
            "more_threads": more_threads,
        },
    )
    _bumped(session, [comment.article_id])


def _refresh(session: Session, article_id: int, root_ids: Iterable[int]) -> None:
    """Recount the given threads of one article and bump it with the differences."""
    ids = sorted(set(root_ids))
    locked = select(Comment.id, Comment.status, Comment.listed, Comment.visible_in_thread).where(
        Comment.id.in_(ids)
    )
    if session.get_bind().dialect.name == "postgresql":
        locked = locked.with_for_update()
    before = session.execute(locked).all()
    replies = dict(
        session.execute(
            select(Comment.root_id, func.count(Comment.id))
            .where(Comment.root_id.in_(ids), Comment.is_visible)
            .group_by(Comment.root_id)
        ).all()
    )
    comment_delta = thread_delta = 0
    for row in before:
        visible_replies = replies.get(row.id, 0)
        in_thread = visible_replies + int(row.status is CommentStatus.VISIBLE)
        listed = _stands(row.status) or visible_replies > 0
        comment_delta += in_thread - row.visible_in_thread
        thread_delta += int(listed) - int(row.listed)
        if in_thread != row.visible_in_thread or listed != row.listed:
            session.execute(
                update(Comment)
                .where(Comment.id == row.id)
                .values(visible_in_thread=in_thread, listed=listed)
                .execution_options(synchronize_session=False)
            )
    _expire_roots(session, ids)
    _bump(session, [article_id], comment_count=comment_delta, thread_count=thread_delta)


# --- for changes the ORM doesn't see --------------------------------------------------------


def comments_changed(comments: Iterable[Comment]) -> None:
    """Comments changed state in bulk SQL: recount their threads, move their counts."""
    db.session.flush()
    roots: dict[int, set[int]] = {}
    for comment in comments:
        roots.setdefault(comment.article_id, set()).add(comment.thread_root_id)
    for article_id, root_ids in roots.items():
        _refresh(db.session, article_id, root_ids)


def thread_voted(comment: Comment) -> None:
    """A helpful vote was given or taken back in SQL: a top-level comment moves in the top
    sort, and the count shown under the comment changed."""
    db.session.flush()
    if comment.parent_id is None:
        db.session.execute(
            update(Comment)
            .where(Comment.id == comment.id)
            .values(top_key=top_key(comment.helpful_count, comment.created_at))
            .execution_options(synchronize_session=False)
        )
        _expire_roots(db.session, [comment.id])
    _bump(db.session, [comment.article_id])


def recount(article_ids: Iterable[int] | None = None) -> int:
    """Recompute every stored count and key from the comments themselves.

    For bulk loads (``comments populate``, imports) and as a repair; returns how many
    articles it recounted. Grouped queries, so it costs a few scans, not one per thread."""
    db.session.flush()
    articles = select(Article.id)
    if article_ids is not None:
        articles = articles.where(Article.id.in_(list(article_ids)))
    ids = list(db.session.execute(articles).scalars())
    if not ids:
        return 0
    replies = dict(
        db.session.execute(
            select(Comment.root_id, func.count(Comment.id))
            .where(
                Comment.article_id.in_(ids),
                Comment.root_id.is_not(None),
                Comment.is_visible,
            )
            .group_by(Comment.root_id)
        ).all()
    )
    roots = db.session.execute(
        select(
            Comment.id,
            Comment.article_id,
            Comment.status,
            Comment.helpful_count,
            Comment.created_at,
        ).where(Comment.article_id.in_(ids), Comment.parent_id.is_(None))
    ).all()
    totals = {article_id: [0, 0] for article_id in ids}
    updates = []
    for root in roots:
        visible_replies = replies.get(root.id, 0)
        in_thread = visible_replies + int(root.status is CommentStatus.VISIBLE)
        listed = _stands(root.status) or visible_replies > 0
        totals[root.article_id][0] += in_thread
        totals[root.article_id][1] += int(listed)
        updates.append(
            {
                "id": root.id,
                "listed": listed,
                "visible_in_thread": in_thread,
                "top_key": top_key(root.helpful_count, root.created_at),
            }
        )
    for start in range(0, len(updates), 5000):
        db.session.execute(update(Comment), updates[start : start + 5000])
    db.session.info.setdefault(BUMPED, set()).update(ids)
    for article_id, (comments, threads) in totals.items():
        db.session.execute(
            update(Article)
            .where(Article.id == article_id)
            .values(
                comment_count=comments,
                thread_count=threads,
                discussion_version=Article.discussion_version + 1,
            )
            .execution_options(synchronize_session=False)
        )
    db.session.expire_all()
    return len(ids)


# --- the ORM hook ---------------------------------------------------------------------------

# Columns whose change alters what some reader sees. Anything else (a user's session token,
# an email queue flag) leaves cached pages valid.
_COMMENT_SHOWN = ("body_html", "edited_at", "pinned_at", "hidden_reason", "hidden_note")
_ARTICLE_SHOWN = (
    "slug",
    "title",
    "summary",
    "body_html",
    "author_id",
    "series_id",
    "position",
    "published_at",
    "discussion_locked",
    "lock_reason",
    "external_url",
)
_USER_SHOWN = (
    "username",
    "display_name",
    "avatar_hash",
    "role",
    "suspended_until",
    "deleted_at",
)
_SERIES_SHOWN = ("slug", "title")
_PENDING = "forum_discussion_state"


def _changed(obj, names) -> bool:
    attrs = inspect(obj).attrs
    return any(attrs[name].history.has_changes() for name in names)


def _before_flush(session: Session, _context, _instances) -> None:
    """Note what this flush changes that readers see; keep top-level columns current."""
    pending = session.info.setdefault(
        _PENDING, {"posted": [], "threads": set(), "bump": set(), "articles": []}
    )
    for obj in session.new:
        if isinstance(obj, Comment):
            if obj.created_at is None:
                obj.created_at = utcnow()
            if obj.parent_id is None:
                status = obj.status or CommentStatus.VISIBLE
                for name, value in thread_columns(status, obj.created_at).items():
                    setattr(obj, name, value)
                obj.top_key = top_key(obj.helpful_count or 0, obj.created_at)
            pending["posted"].append(obj)
        elif isinstance(obj, Article):
            pending["articles"].append(obj)  # "Article 3 of N" changes for its series
    for obj in session.dirty:
        if isinstance(obj, Comment):
            if obj.parent_id is None and _changed(obj, ("created_at", "helpful_count")):
                obj.top_key = top_key(obj.helpful_count or 0, obj.created_at)
            if _changed(obj, ("status",)):
                pending["threads"].add((obj.article_id, obj.thread_root_id))
            elif _changed(obj, (*_COMMENT_SHOWN, "created_at", "helpful_count")):
                pending["bump"].add(("article", obj.article_id))
        elif isinstance(obj, Article) and _changed(obj, (*_ARTICLE_SHOWN, "series")):
            pending["articles"].append(obj)  # its page, and its neighbours' links
        elif isinstance(obj, User) and _changed(obj, _USER_SHOWN):
            pending["bump"].add(("user", obj.id))
        elif isinstance(obj, Series) and _changed(obj, _SERIES_SHOWN):
            pending["bump"].add(("series", obj.id))


def _after_flush(session: Session, _context) -> None:
    """Apply what ``_before_flush`` noted, now that new rows have their ids."""
    pending = session.info.pop(_PENDING, None)
    if not pending:
        return
    for comment in pending["posted"]:
        posted(session, comment)
    threads: dict[int, set[int]] = {}
    for article_id, root_id in pending["threads"]:
        threads.setdefault(article_id, set()).add(root_id)
    for article_id, root_ids in threads.items():
        _refresh(session, article_id, root_ids)
    article_ids: set[int] = set()
    for article in pending["articles"]:
        article_ids.add(article.id)
        if article.series_id is not None:
            pending["bump"].add(("series", article.series_id))
    for kind, key in pending["bump"]:
        if kind == "article":
            article_ids.add(key)
        elif kind == "series":
            article_ids.update(
                session.execute(select(Article.id).where(Article.series_id == key)).scalars()
            )
        else:
            article_ids.update(
                session.execute(
                    select(Comment.article_id).where(Comment.author_id == key).distinct()
                ).scalars()
            )
    _bump(session, article_ids - set(threads))


def install() -> None:
    """Attach the hook to every ORM session (idempotent: app factories run it per app)."""
    if not event.contains(Session, "before_flush", _before_flush):
        event.listen(Session, "before_flush", _before_flush)
        event.listen(Session, "after_flush_postexec", _after_flush)
