"""Retried posts: the comment form carries an idempotency key, and the same key posted again
by the same account stores one comment and answers with it, even when both arrive at once
(after a worker is killed mid-request, a client that retries must not post a duplicate)."""

import re
import threading

import pytest
from sqlalchemy import func, select

from forum.extensions import db
from forum.models import Article, Comment, User
from forum.services import threads
from tests.conftest import login, make_article, make_user
from tests.race_support import race

KEY_FIELD = re.compile(r'name="idempotency_key" type="hidden" value="([0-9a-f-]{36})"')


def comment_count() -> int:
    return db.session.scalar(select(func.count(Comment.id)))


def test_each_rendered_comment_form_has_its_own_key(app, client):
    make_article(slug="keyed")
    login(client, make_user("poster"))
    first = KEY_FIELD.findall(client.get("/articles/keyed").get_data(as_text=True))
    second = KEY_FIELD.findall(client.get("/articles/keyed").get_data(as_text=True))
    assert len(first) == 1 and len(second) == 1
    assert first != second

    client.post("/articles/keyed/comments", data={"body": "a thread", "idempotency_key": "x"})
    root = db.session.scalar(select(Comment.id))
    reply_page = client.get(f"/comments/{root}/reply").get_data(as_text=True)
    assert len(KEY_FIELD.findall(reply_page)) == 1


def test_the_same_form_posted_twice_stores_one_comment_and_answers_with_it(app, client):
    make_article(slug="keyed")
    login(client, make_user("poster"))
    form = {"body": "Posted once, sent twice", "idempotency_key": "2b1f0c9e-key-one"}
    first = client.post("/articles/keyed/comments", data=form)
    again = client.post("/articles/keyed/comments", data=form)
    assert first.status_code == again.status_code == 302
    assert first.headers["Location"] == again.headers["Location"]
    assert comment_count() == 1


def test_the_same_key_from_the_script_answers_with_the_first_comment(app, client):
    make_article(slug="keyed")
    login(client, make_user("poster"))
    form = {"body": "Through fetch()", "idempotency_key": "from-the-script-1"}
    headers = {"Accept": "application/json"}
    first = client.post("/articles/keyed/comments", data=form, headers=headers)
    again = client.post("/articles/keyed/comments", data=form, headers=headers)
    assert first.status_code == again.status_code == 201
    assert first.json["id"] == again.json["id"]
    assert first.json["html"] == again.json["html"]
    assert comment_count() == 1


def test_replies_are_deduplicated_too(app, client):
    make_article(slug="keyed")
    login(client, make_user("poster"))
    client.post("/articles/keyed/comments", data={"body": "root"})
    root = db.session.scalar(select(Comment.id))
    form = {"body": "a reply", "idempotency_key": "reply-key"}
    first = client.post(f"/comments/{root}/reply", data=form)
    again = client.post(f"/comments/{root}/reply", data=form)
    assert first.headers["Location"] == again.headers["Location"]
    assert comment_count() == 2


def test_keys_are_per_account_and_new_keys_make_new_comments(app):
    make_article(slug="keyed")
    one, two = app.test_client(), app.test_client()
    login(one, make_user("one"))
    login(two, make_user("two"))
    one.post("/articles/keyed/comments", data={"body": "mine", "idempotency_key": "same"})
    two.post("/articles/keyed/comments", data={"body": "mine", "idempotency_key": "same"})
    one.post("/articles/keyed/comments", data={"body": "again", "idempotency_key": "other"})
    one.post("/articles/keyed/comments", data={"body": "no key"})
    one.post("/articles/keyed/comments", data={"body": "no key"})
    assert comment_count() == 5


def test_a_key_we_did_not_make_is_ignored_rather_than_stored(app, client):
    make_article(slug="keyed")
    login(client, make_user("poster"))
    for key in ("x" * 65, "<script>", "a b"):
        client.post("/articles/keyed/comments", data={"body": key, "idempotency_key": key})
    assert db.session.scalars(select(Comment.idempotency_key)).all() == [None, None, None]


@pytest.mark.parametrize("checks_miss", [False, True], ids=["race", "every-check-missed"])
def test_the_same_key_at_the_same_moment_stores_one_comment(app_factory, monkeypatch, checks_miss):
    """Both requests pass the "already posted?" check; the unique (author, key) constraint
    refuses the second insert, which then answers with the first comment. With
    ``checks_miss`` the lookups before the insert see nothing (as on PostgreSQL when the
    requests overlap), so every request but one goes through the refused insert."""
    app = app_factory()
    if checks_miss:
        real_lookup = threads.comment_with_key
        calls = threading.local()

        def blind_before_insert(author, key):
            calls.count = getattr(calls, "count", 0) + 1
            return None if calls.count <= 2 else real_lookup(author, key)

        monkeypatch.setattr(threads, "comment_with_key", blind_before_insert)
    with app.app_context():
        author_id = make_user("poster").id
        article_id = make_article(slug="keyed").id
        db.session.remove()
    results = race(
        app,
        4,
        lambda i: (db.session.get(User, author_id), db.session.get(Article, article_id)),
        lambda author, article: (
            threads.post_comment(
                author, article, "Sent four times at once", idempotency_key="raced-key"
            ).id
        ),
    )
    assert all(isinstance(r, int) for r in results), results
    assert len(set(results)) == 1
    with app.app_context():
        assert comment_count() == 1
        db.session.remove()
