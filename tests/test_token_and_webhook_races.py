"""Races around tokens and webhooks (they matter on PostgreSQL; SQLite serializes writers):
one name per member's tokens, one delivery per report, one send per delivery."""

import threading

import pytest
from sqlalchemy import func, select

from forum.extensions import db
from forum.mailing.links import EmailLinks
from forum.models import ApiToken, Report, Role, User, WebhookDelivery
from forum.services import api_tokens, moderation, threads, webhook_delivery, webhooks
from forum.services.errors import Conflict, NotAllowed
from tests.conftest import make_article, make_user
from tests.race_support import race


@pytest.fixture
def racing_app(app_factory):
    """An app with no context pushed: every thread pushes its own."""
    return app_factory()


def count(app, model) -> int:
    with app.app_context():
        value = db.session.scalar(select(func.count(model.id)))
        db.session.remove()
        return value


def test_one_token_name_made_twice_at_once_makes_one_token(racing_app):
    app = racing_app
    with app.app_context():
        user_id = make_user("alice").id
        db.session.remove()
    results = race(
        app,
        4,
        lambda i: (db.session.get(User, user_id),),
        lambda user: api_tokens.create_token(user, "Dashboard", "read", 30),
    )
    assert sum(isinstance(r, tuple) for r in results) == 1, results
    assert all(isinstance(r, tuple | NotAllowed) for r in results), results
    assert count(app, ApiToken) == 1


def test_a_double_report_queues_one_delivery(racing_app):
    app = racing_app
    with app.app_context():
        admin = make_user("boss", role=Role.ADMIN)
        webhooks.create_hook(admin, "https://example.org/in", ["comment.reported"])
        comment = threads.post_comment(make_user("author"), make_article(), "Text.")
        ids = (make_user("reader").id, comment.id)
        db.session.remove()
    results = race(
        app,
        4,
        lambda i: (db.session.get(User, ids[0]), db.session.get(type(comment), ids[1])),
        lambda reader, target: moderation.report_comment(reader, target, "spam"),
    )
    assert sum(isinstance(r, Report) for r in results) == 1, results
    assert all(isinstance(r, Report | Conflict) for r in results), results
    assert count(app, WebhookDelivery) == 1


def test_two_runs_at_once_send_each_delivery_once(racing_app):
    app = racing_app
    with app.app_context():
        admin = make_user("boss", role=Role.ADMIN)
        webhooks.create_hook(admin, "https://example.org/in", ["comment.posted"])
        author, article = make_user("author"), make_article()
        for number in range(10):
            threads.post_comment(author, article, f"Comment {number}.")
        db.session.remove()
    sent: list[str] = []
    lock = threading.Lock()

    def send(url, body, headers, timeout):
        with lock:
            sent.append(headers["X-Forum-Delivery"])
        return webhook_delivery.Attempt(ok=True, status_code=200)

    results = race(
        app,
        3,
        lambda i: (EmailLinks.for_app(app),),
        lambda links: webhook_delivery.send_due(links, send=send),
    )
    assert sum(r.delivered for r in results) == 10, results
    assert sorted(sent) == sorted(set(sent))
    assert len(sent) == 10
