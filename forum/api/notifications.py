"""The caller's notifications: newest first, cursor-paged (they keep arriving), and marking
them read."""

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field

from forum.api.callers import current_api_caller
from forum.api.core import READ, WRITE, bp, operation
from forum.api.cursors import DEFAULT_LIMIT, MAX_LIMIT, keyset_page
from forum.models import Notification, NotificationKind
from forum.paging import MAX_DB_INT
from forum.services import notifications

TAGS = ("notifications",)
LIST_NAME = "notifications"


class NotificationActor(BaseModel):
    username: str | None
    display_name: str


class NotificationArticle(BaseModel):
    slug: str
    title: str


class ApiNotification(BaseModel):
    id: int
    kind: NotificationKind
    created_at: datetime
    read: bool
    article: NotificationArticle | None
    comment_id: int | None
    actor: NotificationActor | None
    detail: str


class NotificationList(BaseModel):
    items: list[ApiNotification]
    next: str | None = Field(description="Cursor of the next page; null on the last page.")
    unread_count: int


class NotificationQuery(BaseModel):
    cursor: str | None = Field(default=None, max_length=500)
    limit: int = Field(default=DEFAULT_LIMIT, ge=1, le=MAX_LIMIT)


def _out(item: Notification) -> ApiNotification:
    actor = item.actor
    article = item.article
    return ApiNotification(
        id=item.id,
        kind=item.kind,
        created_at=item.created_at,
        read=item.read_at is not None,
        article=NotificationArticle(slug=article.slug, title=article.title) if article else None,
        comment_id=item.comment_id,
        actor=NotificationActor(
            username=None if actor.deleted_at else actor.username, display_name=actor.name
        )
        if actor
        else None,
        detail=item.detail,
    )


def _caller():
    return current_api_caller().user


@bp.get("/notifications")
@operation(scope=READ, ok=NotificationList, query=NotificationQuery, tags=TAGS, member=True)
def list_notifications(query: NotificationQuery):
    """Your notifications, newest first (log in or send a token: 401 otherwise)."""
    user = _caller()
    found = keyset_page(
        notifications.shown_to(user), LIST_NAME, (Notification.id,), query.cursor, query.limit
    )
    return NotificationList(
        items=[_out(item) for item in found.items],
        next=found.next,
        unread_count=notifications.unread_count(user),
    )


class MarkRead(BaseModel):
    ids: list[Annotated[int, Field(ge=1, le=MAX_DB_INT)]] | None = Field(
        default=None,
        max_length=100,
        description="The notifications to mark read; leave out to mark them all.",
    )


class MarkedRead(BaseModel):
    marked: int
    unread_count: int


@bp.post("/notifications/read")
@operation(scope=WRITE, ok=MarkedRead, json=MarkRead, tags=TAGS)
def mark_read(json: MarkRead):
    """Mark some of your notifications read (``ids``), or all of them."""
    user = _caller()
    if json.ids is None:
        marked = notifications.mark_all_read(user)
    else:
        marked = notifications.mark_some_read(user, json.ids)
    return MarkedRead(marked=marked, unread_count=notifications.unread_count(user))
