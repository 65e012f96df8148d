"""Public profiles: who someone is here, and the comments they wrote that anyone can read."""

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from forum.models import Comment, CommentStatus, User
from forum.services.pages import Page, paginate


def listed_statuses(user: User, viewer: User | None) -> tuple[CommentStatus, ...]:
    """Everyone sees visible comments; the owner also sees their own pending and hidden ones
    (marked as such), which nobody else may."""
    if viewer is not None and getattr(viewer, "id", None) == user.id:
        return (CommentStatus.VISIBLE, CommentStatus.PENDING, CommentStatus.HIDDEN)
    return (CommentStatus.VISIBLE,)


def profile_comments(user: User, viewer: User | None, page: int, per_page: int) -> Page[Comment]:
    """One page of ``user``'s comments as ``viewer`` may see them, newest first, with their
    articles. Two queries: the count and the page."""
    statuses = listed_statuses(user, viewer)
    return paginate(
        select(Comment)
        .options(joinedload(Comment.article))
        .where(Comment.author_id == user.id, Comment.status.in_(statuses))
        .order_by(Comment.created_at.desc(), Comment.id.desc()),
        page,
        per_page,
    )
