"""Sending queued webhook deliveries: signed POSTs with a short timeout, retried with
backoff, never following a redirect. Run by ``flask notifications send``, never by a page.

Each delivery is claimed with one conditional UPDATE before it is sent, so two runs at
once (two machines' cron jobs) never send it twice; a run that dies mid-send leaves the
claim to lapse, and the delivery is tried again (receivers dedupe on ``X-Forum-Delivery``).
No transaction is open while the network is waited on."""

import hashlib
import hmac
import http.client
import json
import logging
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol
from urllib.parse import urlsplit

from sqlalchemy import delete, select, update

from forum.extensions import db
from forum.models import DeliveryStatus, Webhook, WebhookDelivery, utcnow
from forum.sqlite import writing

log = logging.getLogger(__name__)

# After the first attempt fails: retry after each of these, then give up.
BACKOFF = (
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=12),
)
TIMEOUT_SECONDS = 5
# How long a claimed delivery is left to the run that claimed it.
CLAIM = timedelta(minutes=2)
# Finished deliveries (delivered or failed) are kept this long for the admin's log.
KEEP_FINISHED = timedelta(days=30)
# Receivers should refuse signatures older than this (replays).
SIGNATURE_TOLERANCE_SECONDS = 300


class Links(Protocol):
    """Absolute URLs of the site's pages (forum/mailing/links.py: EmailLinks)."""

    def comment(self, comment_id: int) -> str: ...

    def article(self, slug: str) -> str: ...


# --- signing ---------------------------------------------------------------------------------


def signature(secret: str, timestamp: int | str, body: bytes) -> str:
    """``sha256=<hex>``: HMAC-SHA256 of ``"<timestamp>.<body>"`` with the hook's secret."""
    message = f"{timestamp}.".encode() + body
    digest = hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def verify_signature(
    secret: str,
    timestamp: str,
    body: bytes,
    header: str,
    *,
    tolerance: int = SIGNATURE_TOLERANCE_SECONDS,
    now: float | None = None,
) -> bool:
    """What a receiver runs (README, "Webhooks"): the signature matches and the timestamp
    is recent, so neither a forged nor a replayed delivery passes."""
    try:
        sent_at = int(timestamp)
    except (TypeError, ValueError):
        return False
    if abs((time.time() if now is None else now) - sent_at) > tolerance:
        return False
    return hmac.compare_digest(signature(secret, sent_at, body), header or "")


# --- one attempt -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Attempt:
    ok: bool
    status_code: int | None = None
    error: str | None = None


class _RefuseRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect is answered as the failure it is: following it could send the signed
    body somewhere the admin never registered."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


# Direct connections only (no proxies from the environment), no redirects.
_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), _RefuseRedirects)


def post(url: str, body: bytes, headers: dict[str, str], timeout: float) -> Attempt:
    """POST ``body``; any 2xx is success, everything else (3xx included) a failure."""
    if urlsplit(url).scheme not in ("http", "https"):  # never file: or ftp:, whatever is stored
        return Attempt(ok=False, error="Not an http(s) address.")
    # The scheme is checked just above (and when the hook was saved).
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310
    try:
        with _opener.open(request, timeout=timeout) as response:
            response.read(1024)
            return Attempt(ok=200 <= response.status < 300, status_code=response.status)
    except urllib.error.HTTPError as exc:
        exc.close()
        return Attempt(ok=False, status_code=exc.code, error=f"HTTP {exc.code} {exc.reason}")
    except urllib.error.URLError as exc:
        return Attempt(ok=False, error=f"Could not connect: {exc.reason}")
    except (TimeoutError, OSError, http.client.HTTPException, ValueError) as exc:
        return Attempt(ok=False, error=f"{type(exc).__name__}: {exc}")


# --- the queue -------------------------------------------------------------------------------


def body_of(payload: str, links: Links) -> bytes:
    """The JSON sent: the stored payload with the comment's and article's URLs added."""
    data = json.loads(payload)
    if isinstance(data.get("comment"), dict):
        data["comment"]["url"] = links.comment(data["comment"]["id"])
    if isinstance(data.get("article"), dict):
        data["article"]["url"] = links.article(data["article"]["slug"])
    return json.dumps(data, ensure_ascii=False).encode()


@dataclass
class SendReport:
    delivered: int = 0
    retrying: int = 0
    failed: int = 0
    pruned: int = 0  # finished deliveries past KEEP_FINISHED, deleted

    @property
    def attempted(self) -> int:
        return self.delivered + self.retrying + self.failed


@dataclass(frozen=True)
class _Outgoing:
    delivery_id: int
    event: str
    url: str
    secret: str
    payload: str


def due_ids(now: datetime, limit: int) -> list[int]:
    query = (
        select(WebhookDelivery.id)
        .where(
            WebhookDelivery.status == DeliveryStatus.PENDING,
            WebhookDelivery.next_attempt_at <= now,
        )
        .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id)
        .limit(limit)
    )
    return list(db.session.execute(query).scalars())


def _claim(delivery_id: int, now: datetime) -> _Outgoing | None:
    """Take the delivery for this run, or None when another run took it first."""
    with writing(db.session):
        claimed = db.session.execute(
            update(WebhookDelivery)
            .where(
                WebhookDelivery.id == delivery_id,
                WebhookDelivery.status == DeliveryStatus.PENDING,
                WebhookDelivery.next_attempt_at <= now,
            )
            .values(next_attempt_at=now + CLAIM)
            .execution_options(synchronize_session=False)
        ).rowcount
        row = None
        if claimed:
            row = db.session.execute(
                select(WebhookDelivery.event, Webhook.url, Webhook.secret, WebhookDelivery.payload)
                .join(Webhook, Webhook.id == WebhookDelivery.webhook_id)
                .where(WebhookDelivery.id == delivery_id)
            ).one()
        db.session.commit()
    return _Outgoing(delivery_id, *row) if row else None


def _record(outgoing: _Outgoing, attempt: Attempt, now: datetime) -> DeliveryStatus:
    with writing(db.session):
        delivery = db.session.get(WebhookDelivery, outgoing.delivery_id, populate_existing=True)
        if delivery is None:  # the hook was deleted meanwhile
            db.session.commit()
            return DeliveryStatus.FAILED
        delivery.attempts += 1
        delivery.last_status_code = attempt.status_code
        delivery.last_error = (attempt.error or "")[:500] or None
        if attempt.ok:
            delivery.status = DeliveryStatus.DELIVERED
            delivery.delivered_at = now
            delivery.next_attempt_at = None
        elif delivery.attempts > len(BACKOFF):
            delivery.status = DeliveryStatus.FAILED
            delivery.next_attempt_at = None
        else:
            delivery.next_attempt_at = now + BACKOFF[delivery.attempts - 1]
        status, attempts = delivery.status, delivery.attempts
        db.session.commit()
    log.log(
        logging.INFO if attempt.ok else logging.WARNING,
        "webhook delivery %s (%s) to %s, attempt %s: %s",
        outgoing.delivery_id,
        outgoing.event,
        outgoing.url,
        attempts,
        f"HTTP {attempt.status_code}" if attempt.ok else attempt.error,
    )
    return status


def send_due(
    links: Links,
    *,
    limit: int = 200,
    now: datetime | None = None,
    timeout: float = TIMEOUT_SECONDS,
    send: Callable[[str, bytes, dict[str, str], float], Attempt] = post,
) -> SendReport:
    """Send every due delivery (at most ``limit``), one attempt each."""
    now = now or utcnow()
    report = SendReport()
    ids = due_ids(now, limit)
    db.session.rollback()  # the read is over: no transaction while waiting on receivers
    for delivery_id in ids:
        outgoing = _claim(delivery_id, now)
        if outgoing is None:
            continue
        body = body_of(outgoing.payload, links)
        timestamp = int(time.time())
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "forum-webhooks/1",
            "X-Forum-Event": outgoing.event,
            "X-Forum-Delivery": str(outgoing.delivery_id),
            "X-Forum-Timestamp": str(timestamp),
            "X-Forum-Signature": signature(outgoing.secret, timestamp, body),
        }
        attempt = send(outgoing.url, body, headers, timeout)
        status = _record(outgoing, attempt, now)
        if status is DeliveryStatus.DELIVERED:
            report.delivered += 1
        elif status is DeliveryStatus.FAILED:
            report.failed += 1
        else:
            report.retrying += 1
    report.pruned = prune_finished(now)
    return report


def prune_finished(now: datetime) -> int:
    """Delete deliveries that finished more than ``KEEP_FINISHED`` ago: the log shows the
    latest, and the table would otherwise grow with every comment."""
    with writing(db.session):
        pruned = db.session.execute(
            delete(WebhookDelivery)
            .where(
                WebhookDelivery.status.in_([DeliveryStatus.DELIVERED, DeliveryStatus.FAILED]),
                WebhookDelivery.created_at < now - KEEP_FINISHED,
            )
            .execution_options(synchronize_session=False)
        ).rowcount
        db.session.commit()
    return pruned
