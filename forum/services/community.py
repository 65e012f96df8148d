"""Helpful votes, pinned comments and following discussions."""

from sqlalchemy import delete, func, select, union, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from forum.extensions import db
from forum.models import Article, Comment, Follow, Report, User, Vote, utcnow
from forum.services import discussion_state, notifications, permissions
from forum.services.errors import Conflict, Forbidden, NotAllowed
from forum.services.words import _l

# --- votes ----------------------------------------------------------------------------------

_ALREADY_VOTED = _l("You have already marked this comment helpful.")
_SUSPENDED = _l("Your account is suspended, so you can't do that.")


def vote(user: User, comment: Comment) -> Comment:
    """Mark a comment helpful, once; never one's own; not while suspended."""
    if not permissions.can_vote(user):
        raise Forbidden(_SUSPENDED)
    if comment.author_id == user.id:
        raise Forbidden(_l("You can't vote for your own comment."))
    if not comment.is_visible:
        raise Conflict(_l("That comment isn't shown, so it can't be voted on."))
    if _vote_of(user, comment) is not None:
        raise Conflict(_ALREADY_VOTED)
    try:
        db.session.add(Vote(comment_id=comment.id, user_id=user.id))
        # In SQL, not Python: two votes at the same moment must both count.
        db.session.execute(
            update(Comment)
            .where(Comment.id == comment.id)
            .values(helpful_count=Comment.helpful_count + 1)
        )
        db.session.refresh(comment, ["helpful_count"])
        discussion_state.thread_voted(comment)
        db.session.commit()
    except IntegrityError:
        # The same reader's other request (a double click) voted after our check.
        db.session.rollback()
        raise Conflict(_ALREADY_VOTED) from None
    db.session.refresh(comment)
    return comment


def unvote(user: User, comment: Comment) -> Comment:
    """Take back a helpful vote."""
    if not permissions.can_vote(user):
        raise Forbidden(_SUSPENDED)
    # The DELETE says whether there was a vote to take back; a check before it could pass
    # for two requests at once, and the count would then lose two.
    removed = db.session.execute(
        delete(Vote).where(Vote.comment_id == comment.id, Vote.user_id == user.id)
    ).rowcount
    if not removed:
        raise Conflict(_l("You haven't marked this comment helpful."))
    db.session.execute(
        update(Comment)
        .where(Comment.id == comment.id)
        .values(helpful_count=Comment.helpful_count - 1)
    )
    db.session.refresh(comment, ["helpful_count"])
    discussion_state.thread_voted(comment)
    db.session.commit()
    db.session.refresh(comment)
    return comment


def _vote_of(user: User, comment: Comment) -> Vote | None:
    return db.session.execute(
        select(Vote).where(Vote.comment_id == comment.id, Vote.user_id == user.id)
    ).scalar_one_or_none()


def voted_ids(user: User | None, comment_ids: list[int]) -> set[int]:
    """Which of ``comment_ids`` this user marked helpful (one query)."""
    if user is None or not comment_ids:
        return set()
    return set(
        db.session.execute(
            select(Vote.comment_id).where(Vote.user_id == user.id, Vote.comment_id.in_(comment_ids))
        ).scalars()
    )


def helpful_votes_received(user: User) -> int:
    """Helpful votes on the user's visible comments."""
    return db.session.execute(
        select(func.coalesce(func.sum(Comment.helpful_count), 0)).where(
            Comment.author_id == user.id, Comment.is_visible
        )
    ).scalar_one()


# --- pins -----------------------------------------------------------------------------------


def can_pin(user: User | None, article: Article) -> bool:
    """The article's author or a moderator, in good standing (a suspended moderator keeps
    the role but not the powers)."""
    return (
        permissions.is_article_author(user, article) or permissions.is_moderator(user)
    ) and permissions.in_good_standing(user)


def pin(user: User, comment: Comment, article: Article | None = None) -> Comment:
    """Pin a top-level comment to the top of its discussion; it replaces an earlier pin."""
    if article is not None and comment.article_id != article.id:
        raise NotAllowed(_l("That comment belongs to another article."))
    article = comment.article
    if not can_pin(user, article):
        raise Forbidden(_l("Only the article's author or a moderator can pin comments."))
    if comment.parent_id is not None:
        raise NotAllowed(_l("Only top-level comments can be pinned."))
    if not comment.is_visible:
        raise Conflict(_l("Only visible comments can be pinned."))
    if comment.pinned_at is not None:
        raise Conflict(_l("That comment is already pinned."))
    for other in db.session.execute(
        select(Comment).where(Comment.article_id == article.id, Comment.pinned_at.is_not(None))
    ).scalars():
        other.pinned_at = other.pinned_by_id = None
    comment.pinned_at, comment.pinned_by = utcnow(), user
    db.session.commit()
    return comment


def unpin(user: User, comment: Comment) -> Comment:
    if not can_pin(user, comment.article):
        raise Forbidden(_l("Only the article's author or a moderator can unpin comments."))
    if comment.pinned_at is None:
        raise Conflict(_l("That comment isn't pinned."))
    comment.pinned_at = comment.pinned_by_id = None
    db.session.commit()
    return comment


# --- follows --------------------------------------------------------------------------------

_ALREADY_FOLLOWING = _l("You already follow this discussion.")


def is_following(user: User | None, article: Article) -> bool:
    if user is None:
        return False
    return (
        db.session.execute(
            select(Follow.id).where(Follow.article_id == article.id, Follow.user_id == user.id)
        ).first()
        is not None
    )


def following_and_unread(user: User, article: Article) -> tuple[bool, int]:
    """Whether ``user`` follows ``article``'s discussion, and how many notifications they
    haven't read: one round trip for the two things every article page a logged-in reader
    opens asks (on PostgreSQL each query is a trip to the server)."""
    following = (
        select(Follow.id).where(Follow.article_id == article.id, Follow.user_id == user.id).exists()
    )
    row = db.session.execute(
        select(following, notifications.unread_count_query(user).scalar_subquery())
    ).one()
    return bool(row[0]), int(row[1])


def add_follow(user: User, article: Article) -> bool:
    """Follow without committing (used inside other use cases); True if newly followed."""
    if is_following(user, article):
        return False
    db.session.add(Follow(article_id=article.id, user_id=user.id))
    return True


def follow(user: User, article: Article) -> None:
    if not permissions.can_follow(user):
        raise Forbidden(_SUSPENDED)
    if article.discussion_locked:
        raise Forbidden(_l("This discussion is locked, so there is nothing new to follow."))
    if not add_follow(user, article):
        raise Conflict(_ALREADY_FOLLOWING)
    try:
        db.session.commit()
    except IntegrityError:
        # The same reader's other request followed after our check.
        db.session.rollback()
        raise Conflict(_ALREADY_FOLLOWING) from None


def unfollow(user: User, article: Article) -> None:
    existing = db.session.execute(
        select(Follow).where(Follow.article_id == article.id, Follow.user_id == user.id)
    ).scalar_one_or_none()
    if existing is None:
        raise Conflict(_l("You don't follow this discussion."))
    db.session.delete(existing)
    db.session.commit()


# --- one reader's marks on a discussion page ------------------------------------------------


def own_and_voted_comments(user: User, article: Article) -> list[tuple[Comment, bool, bool]]:
    """The comments under ``article`` that ``user`` wrote, voted for or reported, each with
    whether they voted for it and whether they reported it (one query, through the author,
    voter and reporter indexes, whatever the size of the discussion): what makes their page
    differ from everyone else's."""
    voted_here = _votes_under(user, article)
    reported_here = _under(article, Report.comment_id, Report.reporter_id == user.id)
    own = select(Comment.id).where(Comment.author_id == user.id, Comment.article_id == article.id)
    rows = db.session.execute(
        select(Comment, Comment.id.in_(voted_here), Comment.id.in_(reported_here))
        .options(joinedload(Comment.author))
        .where(Comment.id.in_(union(own, voted_here, reported_here)))
    ).all()
    return [(comment, bool(voted), bool(reported)) for comment, voted, reported in rows]


def voted_in(user: User | None, article: Article) -> set[int]:
    """Ids of the comments under ``article`` that ``user`` marked helpful (one query)."""
    if user is None:
        return set()
    return set(db.session.execute(_votes_under(user, article)).scalars())


def _votes_under(user: User, article: Article):
    """The ids of the comments under ``article`` that ``user`` voted for."""
    return _under(article, Vote.comment_id, Vote.user_id == user.id)


def _under(article: Article, comment_id, mine):
    """The ``comment_id`` of the rows matching ``mine`` (one person's votes or reports: a
    few) whose comment is under ``article``, each comment checked by its key. Written as
    EXISTS because as a join SQLite, without statistics, walked every comment of the article
    instead: 69 ms per page on a 100,000-comment discussion, for a reader who had voted for
    nothing."""
    here = select(Comment.id).where(Comment.id == comment_id, Comment.article_id == article.id)
    return select(comment_id).where(mine, here.exists())
