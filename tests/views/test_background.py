"""Posting tells people about a new comment after the response, not during it; whatever a
stopped worker never did is caught up by ``flask notifications send``, exactly once."""

from datetime import timedelta

from sqlalchemy import func, select

from forum import background
from forum.extensions import db
from forum.models import Comment, Notification, NotificationKind, Role, utcnow
from forum.services import notifications, threads
from tests.conftest import login, make_article, make_user


def notes_for(user) -> list[NotificationKind]:
    return list(
        db.session.execute(
            select(Notification.kind).where(Notification.user_id == user.id)
        ).scalars()
    )


def test_the_post_answers_first_and_people_are_told_just_after(app_factory):
    app = app_factory(NOTIFY_IN_BACKGROUND=True)
    with app.app_context():
        writer = make_user("writer", role=Role.AUTHOR)
        article = make_article(writer, slug="the-article")
        alice = make_user("alice")
        client = app.test_client()
        login(client, alice)

        response = client.post("/articles/the-article/comments", data={"body": "Hello."})
        assert response.status_code == 302
        db.session.commit()  # release the test's transaction, as a request's end would
        background.wait(app)

        db.session.expire_all()
        assert notes_for(writer) == [NotificationKind.ARTICLE_COMMENT]
        comment = db.session.execute(select(Comment)).scalar_one()
        assert comment.notified_at is not None
        assert comment.article_id == article.id


def test_a_fan_out_the_worker_never_did_is_caught_up_once(app, runner):
    writer = make_user("writer", role=Role.AUTHOR)
    article = make_article(writer, slug="the-article")
    alice = make_user("alice")
    comment = threads.post_comment(alice, article, "Hello.", notify=False)
    assert comment.notified_at is None
    assert notes_for(writer) == []

    # Too recent: the background thread may still be on it.
    assert notifications.catch_up() == 0
    comment.created_at = utcnow() - timedelta(minutes=5)
    db.session.commit()

    result = runner.invoke(args=["notifications", "send"])
    assert result.exit_code == 0, result.output
    assert "Made 1 notification" in result.output
    assert notes_for(writer) == [NotificationKind.ARTICLE_COMMENT]
    assert notifications.catch_up() == 0
    assert notifications.fan_out(comment.id) == 0  # claimed once, never twice
    count = db.session.execute(select(func.count(Notification.id))).scalar_one()
    assert count == 1
