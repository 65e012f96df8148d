"""Sending webhook deliveries to a real receiver on 127.0.0.1: signed as the README says,
retried with backoff when the receiver is down or slow, never following a redirect, and
sent once even when two runs overlap."""

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from sqlalchemy import select

from forum.extensions import db
from forum.mailing.links import EmailLinks
from forum.models import DeliveryStatus, Role, WebhookDelivery, utcnow
from forum.services import threads, webhook_delivery, webhooks
from forum.services.webhook_delivery import BACKOFF, send_due, signature, verify_signature
from tests.conftest import make_article, make_user
from tests.servers import free_port


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """What a test receiver answers, and everything it was sent."""

    url: str
    requests: list[Received] = field(default_factory=list)
    status: int = 204
    location: str | None = None
    delay: float = 0.0


@contextmanager
def receiver() -> Iterator[Receiver]:
    """An HTTP server in a thread on 127.0.0.1, stopped however the test ends."""
    state = Receiver(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            state.requests.append(Received(self.path, dict(self.headers.items()), body))
            if state.delay:
                time.sleep(state.delay)
            self.send_response(state.status)
            if state.location:
                self.send_header("Location", state.location)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@pytest.fixture
def site(app):
    admin = make_user("boss", role=Role.ADMIN)
    article = make_article(make_user("writer", role=Role.AUTHOR), slug="the-article")
    return {"admin": admin, "alice": make_user("alice"), "article": article}


@pytest.fixture
def links(app):
    return EmailLinks.for_app(app)


def only_delivery() -> WebhookDelivery:
    db.session.expire_all()
    return db.session.execute(select(WebhookDelivery)).scalar_one()


# --- signing ---------------------------------------------------------------------------------


def test_the_signature_is_an_hmac_of_timestamp_and_body():
    body = b'{"event": "ping"}'
    expected = hmac.new(b"s3cret", b"1700000000." + body, hashlib.sha256).hexdigest()
    assert signature("s3cret", 1700000000, body) == f"sha256={expected}"


@pytest.mark.parametrize(
    ("secret", "timestamp", "body", "now", "valid"),
    [
        ("s3cret", "1700000000", b"{}", 1700000000, True),
        ("s3cret", "1700000000", b"{}", 1700000299, True),
        ("wrong", "1700000000", b"{}", 1700000000, False),
        ("s3cret", "1700000000", b"{ }", 1700000000, False),  # body altered
        ("s3cret", "1700000001", b"{}", 1700000001, False),  # timestamp altered
        ("s3cret", "1700000000", b"{}", 1700000301, False),  # a replay, too old
        ("s3cret", "1700000000", b"{}", 1699999600, False),  # from the future
        ("s3cret", "soon", b"{}", 1700000000, False),
    ],
)
def test_verify_signature(secret, timestamp, body, now, valid):
    header = signature("s3cret", 1700000000, b"{}")
    assert verify_signature(secret, timestamp, body, header, now=now) is valid


def test_verify_signature_refuses_a_missing_header():
    assert not verify_signature("s3cret", "1700000000", b"{}", "", now=1700000000)


# --- sending ---------------------------------------------------------------------------------


def test_the_receiver_gets_a_signed_delivery_it_can_verify(site, links):
    with receiver() as rx:
        hook = webhooks.create_hook(site["admin"], rx.url, ["comment.posted"])
        comment = threads.post_comment(site["alice"], site["article"], "Hello.")
        report = send_due(links)
    assert (report.delivered, report.retrying, report.failed) == (1, 0, 0)
    (request,) = rx.requests
    headers = request.headers
    assert headers["Content-Type"] == "application/json"
    assert headers["X-Forum-Event"] == "comment.posted"
    delivery = only_delivery()
    assert headers["X-Forum-Delivery"] == str(delivery.id)
    assert abs(int(headers["X-Forum-Timestamp"]) - time.time()) < 60
    assert verify_signature(
        hook.secret, headers["X-Forum-Timestamp"], request.body, headers["X-Forum-Signature"]
    )
    assert not verify_signature(
        "another secret",
        headers["X-Forum-Timestamp"],
        request.body,
        headers["X-Forum-Signature"],
    )
    body = json.loads(request.body)
    assert body["event"] == "comment.posted"
    assert body["comment"]["id"] == comment.id
    assert body["comment"]["url"] == f"http://127.0.0.1:5000/comments/{comment.id}"
    assert body["article"]["url"] == "http://127.0.0.1:5000/articles/the-article"
    assert delivery.status is DeliveryStatus.DELIVERED
    assert delivery.attempts == 1
    assert delivery.last_status_code == 204
    assert delivery.delivered_at is not None
    assert send_due(links).attempted == 0  # nothing is sent twice


def test_a_receiver_that_is_down_gets_retries_with_backoff_then_failed(site, links):
    down = f"http://127.0.0.1:{free_port()}/hook"  # nothing listens there
    webhooks.create_hook(site["admin"], down, ["comment.posted"])
    threads.post_comment(site["alice"], site["article"], "Hello.")
    now = utcnow()
    for attempt, wait in enumerate(BACKOFF, start=1):
        report = send_due(links, now=now)
        assert report.retrying == 1
        delivery = only_delivery()
        assert delivery.status is DeliveryStatus.PENDING
        assert delivery.attempts == attempt
        assert delivery.next_attempt_at == now + wait
        assert "Could not connect" in delivery.last_error
        assert send_due(links, now=now + wait - timedelta(seconds=1)).attempted == 0  # not yet
        now += wait
    report = send_due(links, now=now)
    assert report.failed == 1
    delivery = only_delivery()
    assert delivery.status is DeliveryStatus.FAILED
    assert delivery.attempts == len(BACKOFF) + 1
    assert delivery.next_attempt_at is None
    assert send_due(links, now=now + timedelta(days=30)).attempted == 0


def test_a_receiver_back_up_gets_the_retry(site, links):
    with receiver() as rx:
        rx.status = 503
        webhooks.create_hook(site["admin"], rx.url, ["comment.posted"])
        threads.post_comment(site["alice"], site["article"], "Hello.")
        now = utcnow()
        assert send_due(links, now=now).retrying == 1
        assert only_delivery().last_status_code == 503
        rx.status = 200
        assert send_due(links, now=now + BACKOFF[0]).delivered == 1
    assert len(rx.requests) == 2
    first, second = rx.requests
    assert first.headers["X-Forum-Delivery"] == second.headers["X-Forum-Delivery"]
    assert first.body == second.body


def test_a_redirect_is_not_followed(site, links):
    with receiver() as rx:
        rx.status = 302
        rx.location = rx.url.replace("/hook", "/elsewhere")
        webhooks.create_hook(site["admin"], rx.url, ["comment.posted"])
        threads.post_comment(site["alice"], site["article"], "Hello.")
        assert send_due(links).retrying == 1
    assert [r.path for r in rx.requests] == ["/hook"]
    delivery = only_delivery()
    assert delivery.status is DeliveryStatus.PENDING
    assert delivery.last_status_code == 302


def test_a_slow_receiver_times_out(site, links):
    with receiver() as rx:
        rx.delay = 3.0
        webhooks.create_hook(site["admin"], rx.url, ["comment.posted"])
        threads.post_comment(site["alice"], site["article"], "Hello.")
        started = time.monotonic()
        assert send_due(links, timeout=0.3).retrying == 1
        # Well under the receiver's 3 s (a loaded machine adds the database's own time).
        assert time.monotonic() - started < 2.5
    assert "timed out" in only_delivery().last_error.lower()


def test_a_claimed_delivery_is_not_sent_by_another_run(site, links):
    webhooks.create_hook(site["admin"], "https://example.org/hook", ["comment.posted"])
    threads.post_comment(site["alice"], site["article"], "Hello.")
    delivery_id = only_delivery().id
    now = utcnow()
    assert webhook_delivery._claim(delivery_id, now) is not None
    assert webhook_delivery._claim(delivery_id, now) is None  # the other run loses
    sent = []
    report = send_due(links, now=now, send=lambda *args: sent.append(args))
    assert report.attempted == 0
    assert sent == []
    # A run that died holding the claim: it lapses and the delivery goes again.
    later = now + webhook_delivery.CLAIM
    report = send_due(links, now=later, send=lambda *a: webhook_delivery.Attempt(ok=True))
    assert report.delivered == 1


def test_a_stored_url_that_is_not_http_is_never_opened():
    attempt = webhook_delivery.post("file:///etc/passwd", b"{}", {}, 1)
    assert not attempt.ok
    assert attempt.error == "Not an http(s) address."


def test_notifications_send_delivers_webhooks_even_without_email(site, runner):
    with receiver() as rx:
        webhooks.create_hook(site["admin"], rx.url, ["comment.posted"])
        threads.post_comment(site["alice"], site["article"], "Hello.")
        result = runner.invoke(args=["notifications", "send"])
    assert result.exit_code == 0, result.output
    assert "Webhooks: delivered 1, failed 0, 0 to be retried." in result.output
    assert len(rx.requests) == 1
    assert only_delivery().status is DeliveryStatus.DELIVERED


def test_the_readme_snippet_verifies_a_real_delivery(site, links):
    """The receivers' code in README's "Webhooks" section, run as a receiver would."""
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    section = readme[readme.index("### Webhooks") :]
    snippet = section[section.index("```python") + len("```python") : section.index("```\n\n")]
    namespace: dict = {}
    exec(compile(snippet, "README.md", "exec"), namespace)  # noqa: S102 (our own README)
    readme_verify = namespace["verify_signature"]
    with receiver() as rx:
        hook = webhooks.create_hook(site["admin"], rx.url, ["comment.posted"])
        threads.post_comment(site["alice"], site["article"], "Hello.")
        send_due(links)
    (request,) = rx.requests
    stamp, header = request.headers["X-Forum-Timestamp"], request.headers["X-Forum-Signature"]
    assert readme_verify(hook.secret, stamp, request.body, header)
    assert not readme_verify(hook.secret, stamp, request.body + b" ", header)
    assert not readme_verify("wrong", stamp, request.body, header)


def test_finished_deliveries_are_pruned_after_thirty_days(site, links):
    webhooks.create_hook(site["admin"], "https://example.org/in", ["comment.posted"])
    for number in range(3):
        threads.post_comment(site["alice"], site["article"], f"Comment {number}.")
    delivered, failed, waiting = list(db.session.execute(select(WebhookDelivery)).scalars())
    old = utcnow() - webhook_delivery.KEEP_FINISHED - timedelta(minutes=1)
    delivered.status, delivered.created_at = DeliveryStatus.DELIVERED, old
    failed.status, failed.created_at = DeliveryStatus.FAILED, old
    waiting.created_at, waiting.next_attempt_at = old, utcnow() + timedelta(hours=1)
    db.session.commit()
    report = send_due(links)
    assert report.pruned == 2
    assert only_delivery().id == waiting.id  # a pending one is never pruned
