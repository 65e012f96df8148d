"""How a comment looks in the API, for one caller: the same decision as on the page
(``trees.shown_as``, ``permissions``), put into a model the document describes."""

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from forum.models import Article, Comment, CommentStatus, User
from forum.services import permissions
from forum.services.trees import Node, Shown, shown_as

# The comment's state as the caller may know it.
STATES = {
    Shown.TEXT: "visible",
    Shown.OWN_HIDDEN: "hidden",
    Shown.MOD_HIDDEN: "hidden",
    Shown.HIDDEN_PLACEHOLDER: "hidden",
    Shown.OWN_PENDING: "pending",
    Shown.MOD_PENDING: "pending",
    Shown.OWN_REJECTED: "rejected",
    Shown.MOD_REJECTED: "rejected",
    Shown.DELETED_PLACEHOLDER: "deleted",
}
# What stands in a thread only to keep its shape: no words, no author.
PLACEHOLDERS = (Shown.HIDDEN_PLACEHOLDER, Shown.DELETED_PLACEHOLDER)

State = Literal["visible", "hidden", "pending", "rejected", "deleted"]
Badge = Literal["article-author", "moderator"]


class CommentAuthor(BaseModel):
    username: str | None = Field(description="null once the account is deleted")
    display_name: str
    badges: list[Badge]


class ApiComment(BaseModel):
    id: int
    article: str = Field(description="The article's slug.")
    parent_id: int | None
    depth: int = Field(description="0 for a thread's first comment.")
    author: CommentAuthor | None = Field(description="null for a placeholder")
    created_at: datetime
    edited_at: datetime | None
    state: State
    shown: str = Field(description="How this caller sees it, as on the page (trees.Shown).")
    body_html: str | None = Field(description="Sanitized HTML; null for a placeholder.")
    body_md: str | None = Field(description="The Markdown source, for its author and moderators.")
    hidden_reason: str | None
    helpful_count: int
    pinned: bool


def shown_alone(comment: Comment, viewer: User | None) -> Shown:
    """What ``viewer`` sees of a comment asked for by itself (its thread keeps it as a
    placeholder when it isn't shown: callers check ``discussion_pages.is_on_page``)."""
    shown = shown_as(comment, viewer)
    if shown is not None:
        return shown
    if comment.status is CommentStatus.HIDDEN:
        return Shown.HIDDEN_PLACEHOLDER
    return Shown.DELETED_PLACEHOLDER


def author_of(user: User, article: Article) -> CommentAuthor:
    badges: list[Badge] = []
    if user.id == article.author_id:
        badges.append("article-author")
    if user.is_moderator:
        badges.append("moderator")
    deleted = user.deleted_at is not None
    return CommentAuthor(
        username=None if deleted else user.username, display_name=user.name, badges=badges
    )


def comment_out(comment: Comment, viewer: User | None, shown: Shown) -> ApiComment:
    """``comment`` as ``viewer`` sees it (``shown``: from the tree, or ``shown_alone``)."""
    article = comment.article
    placeholder = shown in PLACEHOLDERS
    sees_source = not placeholder and (
        (viewer is not None and viewer.id == comment.author_id) or permissions.is_moderator(viewer)
    )
    return ApiComment(
        id=comment.id,
        article=article.slug,
        parent_id=comment.parent_id,
        depth=comment.depth,
        author=None if placeholder else author_of(comment.author, article),
        created_at=comment.created_at,
        edited_at=None if placeholder else comment.edited_at,
        state=STATES[shown],
        shown=shown.value,
        body_html=None if placeholder else comment.body_html,
        body_md=comment.body_md if sees_source else None,
        hidden_reason=comment.hidden_reason if comment.status is CommentStatus.HIDDEN else None,
        helpful_count=0 if placeholder else comment.helpful_count,
        pinned=comment.pinned_at is not None and comment.parent_id is None,
    )


class ApiThread(ApiComment):
    replies: list[ApiComment] = Field(description="Its replies in reading order.")
    more_replies: int = Field(description="Replies not included here (a long thread).")


def thread_out(root: Node, viewer: User | None) -> ApiThread:
    """A thread of the page: its first comment and its replies in reading order (walked
    with a stack: chains can be thousands deep)."""
    replies: list[ApiComment] = []
    stack = list(reversed(root.children))
    while stack:
        node = stack.pop()
        replies.append(comment_out(node.comment, viewer, node.shown))
        stack.extend(reversed(node.children))
    return ApiThread(
        **comment_out(root.comment, viewer, root.shown).model_dump(),
        replies=replies,
        more_replies=root.more_replies,
    )
