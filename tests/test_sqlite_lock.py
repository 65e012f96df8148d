"""SQLite's one write lock is held only around writes.

Read-only POSTs (the live preview, the login's password check) take no write lock; posting
and editing render the Markdown before the write transaction opens; a write that can't get
the lock within the busy timeout answers 503 with Retry-After and gives the reader's text
back; and once the lock is free the same post goes through (once)."""

import sqlite3
import time
from contextlib import contextmanager

import pytest
from sqlalchemy import func, select

from forum.extensions import db
from forum.models import Comment
from forum.services import mentions
from tests.conftest import PASSWORD, TEST_DATABASE_URL, login, make_article, make_user

pytestmark = pytest.mark.skipif(bool(TEST_DATABASE_URL), reason="SQLite's write lock")

BUSY_TIMEOUT_MS = 1500
# Well under the busy timeout: an answer this fast did not wait for the lock.
QUICK_SECONDS = 1.0


@pytest.fixture
def site(app_factory, tmp_path):
    """An app with a short busy timeout, an article, and a logged-in reader's client."""
    app = app_factory(SQLITE_BUSY_TIMEOUT_MS=BUSY_TIMEOUT_MS)
    with app.app_context():
        reader = make_user("reader")
        make_article(slug="locked")
        client = app.test_client()
        login(client, reader)
        db.session.remove()
    return app, client, tmp_path / "test.sqlite3"


@contextmanager
def outside_write_lock(path):
    """Another process's write transaction, holding the database's write lock."""
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        yield
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def timed(call):
    started = time.monotonic()
    response = call()
    return response, time.monotonic() - started


def comment_count(app) -> int:
    with app.app_context():
        count = db.session.scalar(select(func.count(Comment.id)))
        db.session.remove()
        return count


def test_reads_and_read_only_posts_answer_quickly_under_an_outside_write_lock(site):
    app, client, path = site
    anonymous = app.test_client()
    with outside_write_lock(path):
        for response, seconds in (
            timed(lambda: anonymous.get("/articles/locked")),
            timed(lambda: client.get("/articles/locked")),
            timed(lambda: client.post("/comments/preview", data={"body": "**draft**"})),
            timed(
                lambda: app.test_client().post(
                    "/login", data={"username": "reader", "password": PASSWORD}
                )
            ),
        ):
            assert response.status_code in (200, 302), response.data[:200]
            assert seconds < QUICK_SECONDS
    assert (
        "<strong>draft</strong>"
        in client.post("/comments/preview", data={"body": "**draft**"}).json["html"]
    )


def test_a_post_that_cannot_get_the_lock_answers_503_and_keeps_the_draft(site):
    app, client, path = site
    draft = {"body": "My carefully written *draft*", "idempotency_key": "k-503-page"}
    with outside_write_lock(path):
        response = client.post("/articles/locked/comments", data=draft)
        assert response.status_code == 503
        assert int(response.headers["Retry-After"]) > 0
        assert "Content-Security-Policy" in response.headers
        page = response.get_data(as_text=True)
        assert "My carefully written *draft*" in page  # back in the textarea
        assert 'value="k-503-page"' in page  # the same key: sending again can't double it

        as_json = client.post(
            "/articles/locked/comments", data=draft, headers={"Accept": "application/json"}
        )
        assert as_json.status_code == 503
        assert as_json.headers["Retry-After"]
        assert "wasn't saved" in as_json.json["errors"]["form"][0]
    assert comment_count(app) == 0

    # The lock is free: the same form goes through, once.
    assert client.post("/articles/locked/comments", data=draft).status_code == 302
    assert client.post("/articles/locked/comments", data=draft).status_code == 302
    assert comment_count(app) == 1


def test_markdown_is_rendered_before_the_write_lock_is_taken(site, monkeypatch):
    """Rendering (0.37 s for a pathological body) must not hold everyone's writes."""
    app, client, path = site
    seen = []
    render = mentions.render_with_mentions

    def render_and_probe(body):
        probe = sqlite3.connect(path, isolation_level=None, timeout=0)
        try:
            probe.execute("BEGIN IMMEDIATE")  # fails at once if the app holds the lock
            probe.execute("ROLLBACK")
            seen.append("free")
        except sqlite3.OperationalError:
            seen.append("held")
        finally:
            probe.close()
        return render(body)

    monkeypatch.setattr(mentions, "render_with_mentions", render_and_probe)
    assert client.post("/articles/locked/comments", data={"body": "first"}).status_code == 302
    with app.app_context():
        comment_id = db.session.scalar(select(Comment.id))
        db.session.remove()
    edited = client.post(f"/comments/{comment_id}/edit", data={"body": "second"})
    assert edited.status_code == 302
    assert seen == ["free", "free"]


def test_an_edit_that_cannot_get_the_lock_answers_503_and_keeps_the_text(site):
    app, client, path = site
    assert client.post("/articles/locked/comments", data={"body": "first"}).status_code == 302
    with app.app_context():
        comment_id = db.session.scalar(select(Comment.id))
        db.session.remove()
    url = f"/comments/{comment_id}/edit"
    with outside_write_lock(path):
        response = client.post(url, data={"body": "my better wording"})
        assert response.status_code == 503
        assert response.headers["Retry-After"]
        assert "my better wording" in response.get_data(as_text=True)
        as_json = client.post(
            url, data={"body": "my better wording"}, headers={"Accept": "application/json"}
        )
        assert as_json.status_code == 503
        assert as_json.headers["Retry-After"]
        assert as_json.json["errors"]["form"]
    assert client.post(url, data={"body": "my better wording"}).status_code == 302


def test_any_other_write_that_cannot_get_the_lock_answers_503(site):
    """Votes, reports, moderation: the site's own 503 page with Retry-After, not a 500."""
    app, client, path = site
    assert client.post("/articles/locked/comments", data={"body": "first"}).status_code == 302
    with app.app_context():
        comment_id = db.session.scalar(select(Comment.id))
        db.session.remove()
    voter = app.test_client()
    with app.app_context():
        login(voter, make_user("voter"))
        db.session.remove()
    with outside_write_lock(path):
        response = voter.post(f"/comments/{comment_id}/vote")
        assert response.status_code == 503
        assert int(response.headers["Retry-After"]) > 0
        assert "Content-Security-Policy" in response.headers
    assert voter.post(f"/comments/{comment_id}/vote").status_code == 302
