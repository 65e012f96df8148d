"""Webhooks: admins register URLs for events; events queue one delivery per hook.

``emit`` only INSERTs rows, in the transaction of the change it reports, so a delivery
exists exactly when the change was committed, and no page ever waits for a receiver.
``flask notifications send`` sends them (forum/services/webhook_delivery.py).

Payloads carry what a newsroom tool needs (ids, the author's username, the sanitized
HTML) and nothing private: no email addresses, no moderators' notes, no reporter's
identity or note, no appeal message. URLs are added when a delivery is sent, from
``FORUM_BASE_URL`` (services build no URLs)."""

import functools
import json
import secrets
from collections.abc import Callable
from typing import ParamSpec
from urllib.parse import urlsplit

from sqlalchemy import delete, select

from forum.extensions import db
from forum.models import (
    SUBSCRIBABLE_EVENTS,
    Appeal,
    Comment,
    Report,
    User,
    Webhook,
    WebhookDelivery,
    WebhookEvent,
    utcnow,
)
from forum.services import permissions
from forum.services.errors import Forbidden, NotAllowed, NotFound
from forum.services.text import clean_text
from forum.services.words import _l

# The events, for the services that emit them: ``webhooks.emit(webhooks.Event.X, ...)``.
Event = WebhookEvent
URL_MAX_LENGTH = 2000
P = ParamSpec("P")
LOG_LENGTH = 50


def require_admin(actor: User | None) -> None:
    if not permissions.can_manage_webhooks(actor):
        raise Forbidden(_l("Only administrators manage webhooks."))


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def check_url(url: str) -> str:
    """The URL as stored, or NotAllowed: absolute http(s) with a host, nothing else."""
    url = clean_text(url).strip()
    if not url:
        raise NotAllowed(_l("Enter the address that receives the events."), field="url")
    if len(url) > URL_MAX_LENGTH:
        raise NotAllowed(
            _l("Addresses have at most %(count)s characters.", count=URL_MAX_LENGTH), field="url"
        )
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 (raises ValueError for a port that isn't a number)
    except ValueError:
        raise NotAllowed(_l("That isn't a valid address."), field="url") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise NotAllowed(_l("Webhooks go to http:// or https:// addresses only."), field="url")
    if any(ch.isspace() for ch in url):
        raise NotAllowed(_l("Addresses contain no spaces."), field="url")
    return url


def _check_events(events) -> list[WebhookEvent]:
    try:
        chosen = [WebhookEvent(event) for event in events]
    except ValueError:
        raise NotAllowed(_l("Choose among the listed events."), field="events") from None
    if not chosen or any(event not in SUBSCRIBABLE_EVENTS for event in chosen):
        raise NotAllowed(_l("Choose at least one of the listed events."), field="events")
    return chosen


# --- administration --------------------------------------------------------------------------


def create_hook(actor: User, url: str, events) -> Webhook:
    """Register ``url`` for ``events``, with a new signing secret; active at once."""
    require_admin(actor)
    hook = Webhook(url=check_url(url), secret=new_secret(), active=True, created_by_id=actor.id)
    hook.events = _check_events(events)
    db.session.add(hook)
    db.session.commit()
    return hook


def all_hooks() -> list[Webhook]:
    return list(db.session.execute(select(Webhook).order_by(Webhook.id)).scalars())


def get_hook(hook_id: int) -> Webhook:
    hook = db.session.get(Webhook, hook_id)
    if hook is None:
        raise NotFound(_l("There is no such webhook."))
    return hook


def set_active(actor: User, hook: Webhook, active: bool) -> Webhook:
    """Pause or resume a hook. A paused hook gets no new deliveries; queued ones still go."""
    require_admin(actor)
    hook.active = active
    db.session.commit()
    return hook


def rotate_secret(actor: User, hook: Webhook) -> Webhook:
    """A new secret; deliveries sent from now on (retries included) are signed with it."""
    require_admin(actor)
    hook.secret = new_secret()
    db.session.commit()
    return hook


def delete_hook(actor: User, hook: Webhook) -> None:
    """Remove the hook and its delivery log (undelivered ones are dropped with it)."""
    require_admin(actor)
    db.session.execute(delete(WebhookDelivery).where(WebhookDelivery.webhook_id == hook.id))
    db.session.delete(hook)
    db.session.commit()


def send_test_event(actor: User, hook: Webhook) -> WebhookDelivery:
    """Queue a ``ping`` for this hook alone (paused or not), sent like any delivery."""
    require_admin(actor)
    delivery = _delivery(hook, WebhookEvent.PING, {"webhook_id": hook.id})
    db.session.add(delivery)
    db.session.commit()
    return delivery


def deliveries_of(hook: Webhook, limit: int = LOG_LENGTH) -> list[WebhookDelivery]:
    """The hook's latest deliveries, newest first."""
    query = (
        select(WebhookDelivery)
        .where(WebhookDelivery.webhook_id == hook.id)
        .order_by(WebhookDelivery.created_at.desc(), WebhookDelivery.id.desc())
        .limit(limit)
    )
    return list(db.session.execute(query).scalars())


# --- events ------------------------------------------------------------------------------------


def _delivery(hook: Webhook, event: WebhookEvent, payload: dict) -> WebhookDelivery:
    now = utcnow()
    body = {"event": event.value, "occurred_at": now.isoformat(timespec="seconds"), **payload}
    return WebhookDelivery(
        webhook_id=hook.id,
        event=event.value,
        payload=json.dumps(body, ensure_ascii=False),
        created_at=now,
        next_attempt_at=now,
    )


def emit(event: WebhookEvent | str, payload: dict) -> int:
    """Queue ``event`` for every active hook subscribed to it, in the caller's transaction
    (the caller commits). No network call. Returns how many deliveries were queued."""
    event = WebhookEvent(event)
    # No autoflush: the caller's pending rows are flushed by its own commit, where it
    # handles their errors (a duplicate report becomes the usual "already done").
    with db.session.no_autoflush:
        hooks = db.session.execute(select(Webhook).where(Webhook.active)).scalars().all()
    queued = 0
    for hook in hooks:
        if hook.wants(event):
            db.session.add(_delivery(hook, event, payload))
            queued += 1
    return queued


def _without_autoflush(build: Callable[P, dict]) -> Callable[P, dict]:
    """Payloads are built before the caller's commit and may load a relationship; loading
    must not flush the caller's pending rows early (a duplicate report's unique violation
    belongs to the caller's ``commit_once``, not to a lazy load here)."""

    @functools.wraps(build)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> dict:
        with db.session.no_autoflush:
            return build(*args, **kwargs)

    return wrapper


def _author(user: User | None) -> dict | None:
    if user is None or user.deleted_at is not None:
        return None
    return {"username": user.username, "name": user.name}


@_without_autoflush
def comment_payload(comment: Comment, *, with_body: bool = True) -> dict:
    """The comment and its article, as a hook sees them (``with_body``: its HTML)."""
    article = comment.article
    data = {
        "comment": {
            "id": comment.id,
            "parent_id": comment.parent_id,
            "status": comment.status.value,
            "author": _author(comment.author),
            "created_at": comment.created_at.isoformat(timespec="seconds"),
            "edited_at": comment.edited_at.isoformat(timespec="seconds")
            if comment.edited_at
            else None,
        },
        "article": {
            "id": article.id,
            "slug": article.slug,
            "title": article.title,
            # An external article's page on the publisher's site (None for hosted ones).
            "external_url": article.external_url,
        },
    }
    if with_body:
        data["comment"]["body_html"] = comment.body_html
    return data


@_without_autoflush
def hidden_payload(comment: Comment) -> dict:
    """The public reason only: the moderator's note stays private."""
    return {**comment_payload(comment, with_body=False), "reason": comment.hidden_reason}


@_without_autoflush
def report_payload(report: Report) -> dict:
    """The category only: neither the reporter nor their note."""
    report_data = {"reason": report.category.value}
    return {**comment_payload(report.comment, with_body=False), "report": report_data}


@_without_autoflush
def appeal_payload(appeal: Appeal) -> dict:
    """That an appeal was filed on the comment; its message is for the moderators."""
    return comment_payload(appeal.comment, with_body=False)
