"""Public profiles: who someone is here, and the comments they wrote that anyone can read."""

import math
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from forum.extensions import db
from forum.models import Comment, CommentStatus, User
from forum.services.errors import NotFound


@dataclass(frozen=True)
class ProfileComments:
    items: list[Comment]  # newest first
    page: int
    pages: int
    total: int


def find_profile(username: str) -> User:
    """The account with this username, whatever its letter case (deleted ones too)."""
    user = db.session.execute(
        select(User).where(User.username_key == username.strip().lower())
    ).scalar_one_or_none()
    if user is None:
        raise NotFound("No one by that name has an account here.")
    return user


def listed_statuses(user: User, viewer: User | None) -> tuple[CommentStatus, ...]:
    """Everyone sees visible comments; the owner also sees their own pending and hidden ones
    (marked as such), which nobody else may."""
    if viewer is not None and getattr(viewer, "id", None) == user.id:
        return (CommentStatus.VISIBLE, CommentStatus.PENDING, CommentStatus.HIDDEN)
    return (CommentStatus.VISIBLE,)


def profile_comments(user: User, viewer: User | None, page: int, per_page: int) -> ProfileComments:
    """One page of ``user``'s comments as ``viewer`` may see them, with their articles.

    Two queries: the count and the page."""
    statuses = listed_statuses(user, viewer)
    condition = (Comment.author_id == user.id, Comment.status.in_(statuses))
    total = db.session.execute(select(func.count(Comment.id)).where(*condition)).scalar_one()
    per_page = max(per_page, 1)
    pages = max(math.ceil(total / per_page), 1)
    page = min(max(page, 1), pages)
    items = []
    if total:
        items = list(
            db.session.execute(
                select(Comment)
                .options(joinedload(Comment.article))
                .where(*condition)
                .order_by(Comment.created_at.desc(), Comment.id.desc())
                .offset((page - 1) * per_page)
                .limit(per_page)
            ).scalars()
        )
    return ProfileComments(items, page, pages, total)
