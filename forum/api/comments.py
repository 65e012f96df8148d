"""The discussion of an article and its comments: read a page of threads, post, reply,
edit, delete, a comment's revisions, helpful votes and reports.

Each operation is the page's view again with JSON in and out: the same service call, so
the same rules, refusals and rate limits (posting shares the pages' budget)."""

from datetime import datetime
from typing import Literal

from flask import current_app, url_for
from flask_babel import gettext
from pydantic import BaseModel, ConfigDict, Field

from forum import background
from forum.api.callers import account_key, current_api_caller, posting_limit
from forum.api.core import READ, WRITE, bp, operation
from forum.api.cursors import DEFAULT_LIMIT, MAX_LIMIT, keyset_page
from forum.api.shapes import ApiComment, ApiThread, comment_out, shown_alone, thread_out
from forum.extensions import limiter
from forum.models import Comment, HideReason
from forum.paging import MAX_DB_INT
from forum.services import (
    articles,
    community,
    discussion_pages,
    moderation,
    notifications,
    permissions,
    threads,
)
from forum.services.errors import NotFound
from forum.services.words import _l
from forum.sqlite import reads_first

TAGS = ("discussion",)
LATEST_LIST = "latest-comments"


def _settings() -> threads.DiscussionSettings:
    return threads.DiscussionSettings.from_config(current_app.config)


# --- reading -----------------------------------------------------------------------------


class DiscussionQuery(BaseModel):
    sort: Literal["oldest", "newest", "top"] = "oldest"
    page: int = Field(default=1, ge=1, le=MAX_DB_INT)


class DiscussionPage(BaseModel):
    article: str
    sort: str
    page: int
    pages: int
    next_page: int | None
    thread_count: int = Field(description="Threads this caller sees.")
    comment_count: int = Field(description="Visible comments in the whole discussion.")
    version: int
    threads: list[ApiThread]


@bp.get("/articles/<slug>/comments")
@operation(scope=READ, ok=DiscussionPage, query=DiscussionQuery, tags=TAGS)
def list_comments(slug: str, query: DiscussionQuery):
    """A page of the discussion's threads in one of the page's sorts, each with its replies,
    as this caller sees them (placeholders for readers where moderators see text)."""
    article = articles.get_article(slug)
    viewer = current_api_caller().user
    page = discussion_pages.load_page(
        article,
        viewer,
        sort=discussion_pages.Sort(query.sort),
        page=query.page,
        settings=_settings(),
    )
    return DiscussionPage(
        article=article.slug,
        sort=page.sort.value,
        page=page.page,
        pages=page.pages,
        next_page=page.paging.next_num,
        thread_count=page.thread_count,
        comment_count=page.visible_count,
        version=article.discussion_version,
        threads=[thread_out(root, viewer) for root in page.threads],
    )


class LatestQuery(BaseModel):
    cursor: str | None = Field(default=None, max_length=500)
    limit: int = Field(default=DEFAULT_LIMIT, ge=1, le=MAX_LIMIT)


class LatestComments(BaseModel):
    items: list[ApiComment]
    next: str | None = Field(description="Cursor of the next page; null on the last page.")


@bp.get("/articles/<slug>/comments/latest")
@operation(scope=READ, ok=LatestComments, query=LatestQuery, tags=TAGS)
def latest_comments(slug: str, query: LatestQuery):
    """Every comment of the discussion this caller sees, replies included, newest first,
    cursor-paged (a dashboard of new comments): new ones never shift a page."""
    article = articles.get_article(slug)
    viewer = current_api_caller().user
    found = keyset_page(
        discussion_pages.comments_seen_by(article, viewer),
        LATEST_LIST,
        (Comment.id,),
        query.cursor,
        query.limit,
    )
    return LatestComments(
        items=[comment_out(c, viewer, shown_alone(c, viewer)) for c in found.items],
        next=found.next,
    )


def _visible_comment(comment_id: int) -> Comment:
    """The comment, if this caller would see it in its thread (as text or placeholder)."""
    comment = threads.get_comment(comment_id)
    if not discussion_pages.is_on_page(comment, current_api_caller().user):
        raise NotFound(_l("That comment isn't available: it was deleted, or hasn't been approved."))
    return comment


def _out(comment: Comment) -> ApiComment:
    viewer = current_api_caller().user
    return comment_out(comment, viewer, shown_alone(comment, viewer))


@bp.get("/comments/<int:comment_id>")
@operation(scope=READ, ok=ApiComment, tags=TAGS)
def get_comment(comment_id: int):
    """One comment, as this caller sees it."""
    return _out(_visible_comment(comment_id))


class Revision(BaseModel):
    written_at: datetime
    replaced_at: datetime
    body_html: str
    body_md: str | None = Field(description="For the comment's author and moderators.")


class RevisionList(BaseModel):
    comment_id: int
    items: list[Revision] = Field(description="Earlier texts, newest first.")


@bp.get("/comments/<int:comment_id>/revisions")
@operation(scope=READ, ok=RevisionList, tags=TAGS)
def list_revisions(comment_id: int):
    """A comment's earlier texts, for those who may read its words (as its history page)."""
    comment = threads.get_comment(comment_id)
    viewer = current_api_caller().user
    if not permissions.can_see_text(viewer, comment):
        raise NotFound(_l("That comment's text isn't available."))
    sees_source = (viewer is not None and viewer.id == comment.author_id) or (
        permissions.is_moderator(viewer)
    )
    return RevisionList(
        comment_id=comment.id,
        items=[
            Revision(
                written_at=revision.written_at,
                replaced_at=revision.replaced_at,
                body_html=revision.body_html,
                body_md=revision.body_md if sees_source else None,
            )
            for revision in threads.revisions_of(comment)
        ],
    )


# --- writing -----------------------------------------------------------------------------


class NewComment(BaseModel):
    body: str = Field(description="Markdown.", max_length=100_000)
    parent_id: int | None = Field(default=None, ge=1, le=MAX_DB_INT)


class IdempotencyHeader(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    idempotency_key: str | None = Field(
        default=None,
        alias="Idempotency-Key",
        pattern=r"^[A-Za-z0-9-]{1,64}$",
        description="Sending the same post again with the same key stores it once.",
    )


@bp.post("/articles/<slug>/comments")
# One budget for the page's comment form and the API alike.
@limiter.shared_limit(posting_limit, scope="posting", key_func=account_key)
@operation(
    scope=WRITE,
    ok=ApiComment,
    status=201,
    json=NewComment,
    headers=IdempotencyHeader,
    tags=TAGS,
    errors=(403,),
)
@reads_first  # the write lock is taken only around the insert (threads.post_comment)
def post_comment(slug: str, json: NewComment, headers: IdempotencyHeader):
    """Start a thread, or reply to ``parent_id``. The answer's ``state`` is ``pending`` when
    the comment waits for a moderator's approval."""
    article = articles.get_article(slug)
    later = current_app.config["NOTIFY_IN_BACKGROUND"]
    comment = threads.post_comment(
        current_api_caller().user,
        article,
        json.body,
        parent_id=json.parent_id,
        settings=_settings(),
        notify=not later,
        idempotency_key=headers.idempotency_key,
    )
    if later and comment.is_visible:
        background.after_response_batched(notifications.fan_out_many, [comment.id])
    location = url_for("api.get_comment", comment_id=comment.id)
    return _out(comment), 201, {"Location": location}


class CommentEdit(BaseModel):
    body: str = Field(description="Markdown.", max_length=100_000)


@bp.patch("/comments/<int:comment_id>")
# Each edit stores a revision and may mention people: the page's limit per account.
@limiter.limit(lambda: current_app.config["RATELIMIT_EDIT"], key_func=account_key)
@operation(scope=WRITE, ok=ApiComment, json=CommentEdit, tags=TAGS)
@reads_first  # the write lock is taken only around the update (threads.edit_comment)
def edit_comment(comment_id: int, json: CommentEdit):
    """Change your comment's text within the edit window; the old text becomes a revision."""
    comment = threads.get_comment(comment_id)
    threads.edit_comment(current_api_caller().user, comment, json.body, settings=_settings())
    return _out(comment)


@bp.delete("/comments/<int:comment_id>")
@operation(scope=WRITE, ok=None, status=204, tags=TAGS)
def delete_comment(comment_id: int):
    """Withdraw your comment (its replies keep a placeholder in its place)."""
    comment = threads.get_comment(comment_id)
    threads.delete_comment(current_api_caller().user, comment)
    return "", 204


class VoteState(BaseModel):
    comment_id: int
    voted: bool
    helpful_count: int


@bp.post("/comments/<int:comment_id>/vote")
@operation(scope=WRITE, ok=VoteState, tags=TAGS, errors=(409,))
def vote(comment_id: int):
    """Mark someone else's comment helpful (once)."""
    comment = community.vote(current_api_caller().user, threads.get_comment(comment_id))
    return VoteState(comment_id=comment.id, voted=True, helpful_count=comment.helpful_count)


@bp.delete("/comments/<int:comment_id>/vote")
@operation(scope=WRITE, ok=VoteState, tags=TAGS, errors=(409,))
def unvote(comment_id: int):
    """Take back your helpful vote."""
    comment = community.unvote(current_api_caller().user, threads.get_comment(comment_id))
    return VoteState(comment_id=comment.id, voted=False, helpful_count=comment.helpful_count)


class NewReport(BaseModel):
    category: HideReason
    note: str = Field(default="", max_length=500)


class ReportReceived(BaseModel):
    comment_id: int
    message: str


@bp.post("/comments/<int:comment_id>/reports")
@limiter.limit(lambda: current_app.config["RATELIMIT_REPORT"], key_func=account_key)
@operation(scope=WRITE, ok=ReportReceived, status=201, json=NewReport, tags=TAGS)
def report(comment_id: int, json: NewReport):
    """Report a comment to the moderators. Its author never learns who reported it."""
    comment = threads.get_comment(comment_id)
    moderation.report_comment(current_api_caller().user, comment, json.category.value, json.note)
    return (
        ReportReceived(
            comment_id=comment.id, message=gettext("Thank you. The moderators will take a look.")
        ),
        201,
    )


class FollowState(BaseModel):
    article: str
    following: bool


@bp.post("/articles/<slug>/follow")
@operation(scope=WRITE, ok=FollowState, tags=TAGS, errors=(409,))
def follow(slug: str):
    """Be notified about new comments in this discussion."""
    article = articles.get_article(slug)
    community.follow(current_api_caller().user, article)
    return FollowState(article=article.slug, following=True)


@bp.delete("/articles/<slug>/follow")
@operation(scope=WRITE, ok=FollowState, tags=TAGS, errors=(409,))
def unfollow(slug: str):
    """Stop following this discussion."""
    article = articles.get_article(slug)
    community.unfollow(current_api_caller().user, article)
    return FollowState(article=article.slug, following=False)
