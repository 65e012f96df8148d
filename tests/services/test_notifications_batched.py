"""The fan-out after posting, in batches: one call tells the people concerned about many
comments with a fixed number of queries, each notification exactly once, whoever runs it
(the worker's thread, a second worker, ``catch_up``), and a post whose fan-out never ran
(a worker stopped after the response) is caught up, once."""

from datetime import timedelta

import pytest
from sqlalchemy import event, func, select

from forum import background, sqlite
from forum.extensions import db
from forum.models import Comment, Notification, NotificationKind, Role, User, utcnow
from forum.services import community, notifications, threads
from tests.conftest import login, make_article, make_user
from tests.race_support import race

REPLY = NotificationKind.REPLY
MENTION = NotificationKind.MENTION
FOLLOWED = NotificationKind.FOLLOWED
ARTICLE_COMMENT = NotificationKind.ARTICLE_COMMENT


def about(comment_id: int) -> dict[str, NotificationKind]:
    """Who was told about the comment, and why."""
    rows = db.session.execute(
        select(User.username, Notification.kind)
        .join(User, User.id == Notification.user_id)
        .where(Notification.comment_id == comment_id)
    ).all()
    return dict(rows)


def notification_count() -> int:
    return db.session.execute(select(func.count(Notification.id))).scalar_one()


@pytest.fixture
def discussion(app):
    """An article whose writer follows it, two followers and two readers who post."""
    writer = make_user("writer", role=Role.AUTHOR)
    article = make_article(writer, slug="the-article")
    community.follow(writer, article)
    followers = [make_user(f"follower{n}") for n in range(2)]
    for follower in followers:
        community.follow(follower, article)
    alice, bob = make_user("alice"), make_user("bob")
    db.session.commit()
    return article, writer, followers, alice, bob


def test_one_batch_tells_everyone_once_with_the_most_specific_reason(discussion):
    article, _writer, _followers, alice, bob = discussion
    top = threads.post_comment(alice, article, "A question, @follower0?", notify=False)
    reply = threads.post_comment(bob, article, "An answer.", parent_id=top.id, notify=False)
    ids = [top.id, reply.id]

    made = notifications.fan_out_many(ids)

    # Bob follows by replying, before the fan-out runs: as a follower he hears of the top
    # comment too (a fan-out running late, in a thread per post, did the same).
    assert about(top.id) == {
        "writer": ARTICLE_COMMENT,
        "follower0": MENTION,
        "follower1": FOLLOWED,
        "bob": FOLLOWED,
    }
    # Alice posted a reply's parent, and replying made her follow: one REPLY, no FOLLOWED.
    assert about(reply.id) == {
        "alice": REPLY,
        "writer": FOLLOWED,
        "follower0": FOLLOWED,
        "follower1": FOLLOWED,
    }
    assert made == 8 == notification_count()
    assert notifications.fan_out_many(ids) == 0  # claimed once, never twice
    assert notifications.fan_out(top.id) == 0
    assert notification_count() == 8


def test_a_batch_costs_the_same_queries_whatever_its_size(app, discussion):
    article, _writer, _followers, alice, bob = discussion

    def statements_for(count: int) -> int:
        ids = [
            threads.post_comment(alice if n % 2 else bob, article, f"Note {n}.", notify=False).id
            for n in range(count)
        ]
        seen = []

        def listener(*_args) -> None:
            seen.append(1)

        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            notifications.fan_out_many(ids)
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
        return len(seen)

    assert statements_for(1) == statements_for(12)


def test_who_was_already_told_is_read_from_the_comments_side(app, discussion):
    """The fan-out's first question (which notifications about these comments exist) is
    answered through an index on the comment: SQLite read the whole notifications table for
    it, 30,000 rows after a few seconds of posting, and a site's table only grows."""
    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite's query planner")
    article, _writer, _followers, alice, bob = discussion
    earlier = threads.post_comment(alice, article, "Told already.", notify=False)
    notifications.fan_out_many([earlier.id])
    posted = threads.post_comment(bob, article, "Told now.", notify=False)
    statements: list[tuple[str, tuple]] = []

    def seen(_conn, _cursor, statement, parameters, *_args):
        statements.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", seen)
    try:
        notifications.fan_out_many([posted.id])
    finally:
        event.remove(db.engine, "before_cursor_execute", seen)
    [(statement, parameters)] = [
        s for s in statements if s[0].lstrip().startswith("SELECT notifications.comment_id")
    ]
    plan = [
        row[3]
        for row in db.session.connection().exec_driver_sql(
            f"EXPLAIN QUERY PLAN {statement}", parameters
        )
    ]
    assert any("ix_notifications_comment_kind_user (comment_id=?" in step for step in plan), plan
    assert not any(step.startswith("SCAN") for step in plan), plan


def test_the_write_lock_covers_only_the_claim_and_the_insert(app, discussion):
    """Who is told is read before the write transaction: under SQLite's one write lock,
    which every post queues for, the fan-out only claims its comments and inserts."""
    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite's write transaction")
    article, _writer, _followers, alice, bob = discussion
    top = threads.post_comment(alice, article, "A question, @follower0?", notify=False)
    reply = threads.post_comment(bob, article, "An answer.", parent_id=top.id, notify=False)
    db.session.commit()
    statements: list[str] = []

    def seen(_conn, _cursor, statement, *_args):
        statements.append(" ".join(statement.split()))

    event.listen(db.engine, "before_cursor_execute", seen)
    token = sqlite.write_intent.set(False)  # as in the worker's thread: reads come first
    try:
        made = notifications.fan_out_many([top.id, reply.id])
    finally:
        sqlite.write_intent.reset(token)
        event.remove(db.engine, "before_cursor_execute", seen)

    assert made == 8
    locked = statements[statements.index("BEGIN IMMEDIATE") + 1 :]
    assert [" ".join(s.split()[:3]) for s in locked] == [
        "UPDATE comments SET",
        "INSERT INTO notifications",
    ]
    assert statements[0] == "BEGIN"
    assert all(s.startswith("SELECT") for s in statements[1 : statements.index("BEGIN IMMEDIATE")])


def test_someone_told_between_the_read_and_the_claim_is_not_told_twice(
    app, discussion, monkeypatch
):
    """An edit's mention that lands between the fan-out's read and its claim: the fan-out
    still tells everyone else, and the person mentioned hears of the comment once."""
    article, _writer, _followers, alice, _bob = discussion
    posted = threads.post_comment(alice, article, "Hello @follower1.", notify=False)
    db.session.commit()
    follower1 = db.session.execute(select(User).filter_by(username="follower1")).scalar_one()
    read_first = notifications._notes_about

    def told_meanwhile(batch, **kwargs):
        rows = read_first(batch, **kwargs)
        db.session.add(
            Notification(
                user_id=follower1.id,
                kind=MENTION,
                comment_id=posted.id,
                article_id=article.id,
                actor_id=alice.id,
            )
        )
        db.session.flush()
        return rows

    monkeypatch.setattr(notifications, "_notes_about", told_meanwhile)

    made = notifications.fan_out_many([posted.id])

    assert about(posted.id) == {
        "writer": ARTICLE_COMMENT,
        "follower0": FOLLOWED,
        "follower1": MENTION,
    }
    assert notification_count() == 3
    assert made == 3  # the mention made meanwhile is one of them: skipped, not failed on
    assert db.session.get(Comment, posted.id).notified_at is not None


def test_two_workers_fanning_out_the_same_comments_at_once_tell_each_person_once(app, discussion):
    article, _writer, _followers, alice, bob = discussion
    ids = [
        threads.post_comment(alice if n % 2 else bob, article, f"Note {n}.", notify=False).id
        for n in range(6)
    ]
    db.session.commit()
    expected_per_comment = 3  # the writer (their article) and the two followers

    results = race(
        app,
        3,
        lambda i: (ids if i != 1 else list(reversed(ids)),),
        notifications.fan_out_many,
    )

    assert not [r for r in results if isinstance(r, Exception)], results
    db.session.expire_all()
    assert sum(results) == notification_count()
    rows = db.session.execute(
        select(Notification.comment_id, Notification.user_id, func.count())
        .group_by(Notification.comment_id, Notification.user_id)
        .having(func.count() > 1)
    ).all()
    assert rows == []
    per_comment = db.session.execute(
        select(Notification.comment_id, func.count()).group_by(Notification.comment_id)
    ).all()
    assert {count for _comment, count in per_comment} == {expected_per_comment}
    assert len(per_comment) == len(ids)


def test_a_post_whose_fan_out_never_ran_is_caught_up_once(app_factory, monkeypatch):
    """A worker stopped between the response and its fan-out: nothing is lost."""
    app = app_factory(NOTIFY_IN_BACKGROUND=True)
    handed = []
    # The worker "dies" before its fan-out thread gets the ids.
    monkeypatch.setattr(background, "_hand", lambda _app, _work, ids: handed.extend(ids))
    with app.app_context():
        writer = make_user("writer", role=Role.AUTHOR)
        make_article(writer, slug="the-article")
        alice = make_user("alice")
        client = app.test_client()
        login(client, alice)
        for n in range(3):
            answer = client.post("/articles/the-article/comments", data={"body": f"Hi {n}."})
            assert answer.status_code == 302
        db.session.commit()
        assert len(handed) == 3
        assert notification_count() == 0

        comments = db.session.execute(select(Comment)).scalars().all()
        assert all(comment.notified_at is None for comment in comments)
        assert notifications.catch_up() == 0  # too recent: the worker may still be on it
        for comment in comments:
            comment.created_at = utcnow() - timedelta(minutes=5)
        db.session.commit()

        assert notifications.catch_up(batch_size=2) == 3
        assert notifications.catch_up() == 0
        assert notifications.fan_out_many(handed) == 0  # the late worker finds them claimed
        assert notification_count() == 3


def alice_posting_under_writers_article(app):
    """A client logged in as alice, who posts under an article its writer is told about."""
    writer = make_user("writer", role=Role.AUTHOR)
    make_article(writer, slug="the-article")
    alice = make_user("alice")
    client = app.test_client()
    login(client, alice)
    db.session.commit()
    return client


def test_posts_answered_in_a_row_are_all_told_by_the_one_background_thread(app_factory):
    app = app_factory(NOTIFY_IN_BACKGROUND=True)
    with app.app_context():
        client = alice_posting_under_writers_article(app)
        for n in range(8):
            answer = client.post("/articles/the-article/comments", data={"body": f"Hi {n}."})
            assert answer.status_code == 302
        db.session.commit()
        background.wait(app)

        db.session.expire_all()
        waiting = db.session.execute(
            select(func.count(Comment.id)).where(Comment.notified_at.is_(None))
        ).scalar_one()
        assert waiting == 0
        assert notification_count() == 8  # the writer, once per comment
        threads_alive = [
            batcher
            for batcher in app.extensions["forum_background_batchers"].values()
            if batcher.thread.is_alive()
        ]
        assert len(threads_alive) == 1  # one thread for all of them, not one per post


def test_posts_answered_while_the_thread_lingers_are_told_in_one_call(app_factory, monkeypatch):
    """The background thread waits a moment for more posts before it runs: one turn at the
    write lock for many posts, not one each. Waiting for the work cuts the wait short."""
    monkeypatch.setattr(background, "LINGER_SECONDS", 30.0)
    calls: list[list[int]] = []
    fan_out_many = notifications.fan_out_many

    def counted(ids):
        calls.append(list(ids))
        return fan_out_many(ids)

    monkeypatch.setattr(notifications, "fan_out_many", counted)
    app = app_factory(NOTIFY_IN_BACKGROUND=True)
    with app.app_context():
        client = alice_posting_under_writers_article(app)
        for n in range(5):
            answer = client.post("/articles/the-article/comments", data={"body": f"Hi {n}."})
            assert answer.status_code == 302
        assert calls == []  # still lingering, far from its 30 s

        started = utcnow()
        background.wait(app)
        assert (utcnow() - started).total_seconds() < 10
        assert len(calls) == 1 and len(calls[0]) == 5
        db.session.expire_all()
        assert notification_count() == 5  # the writer, once per comment


def test_a_stopping_worker_tells_people_about_the_posts_its_thread_still_holds(
    app_factory, monkeypatch
):
    """At exit (``finish_pending`` is registered with atexit), the lingering thread runs at
    once: an orderly restart doesn't leave its last posts to the catch-up command."""
    monkeypatch.setattr(background, "LINGER_SECONDS", 30.0)
    app = app_factory(NOTIFY_IN_BACKGROUND=True)
    with app.app_context():
        client = alice_posting_under_writers_article(app)
        answer = client.post("/articles/the-article/comments", data={"body": "The last one."})
        assert answer.status_code == 302
        db.session.expire_all()
        assert notification_count() == 0  # still lingering

        db.session.rollback()  # end the read that saw nothing yet

        background.finish_pending(timeout=10)
        assert notification_count() == 1
