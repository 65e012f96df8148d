"""Imported comments everywhere a comment's author shows: by name, marked "imported", never
with an email or a profile link; replying to one, approving one and reporting one work."""

from pathlib import Path

import pytest
from sqlalchemy import select

from forum.extensions import db
from forum.models import Comment, CommentSource, Notification, Role
from forum.services import threads
from tests.conftest import client_as, make_user

DATA = Path(__file__).resolve().parent.parent / "data" / "import"
EMAILS = ("ann@example.net", "mallory@example.net", "wapuu@wordpress.example")


@pytest.fixture
def imported(app, runner):
    """The Disqus and WordPress samples, imported under an admin's name."""
    make_user("editor", role=Role.ADMIN)
    for kind, name in (("disqus", "disqus.xml"), ("wordpress", "wordpress.xml")):
        assert runner.invoke(args=["import", kind, str(DATA / name)]).exit_code == 0
    db.session.remove()


def by_source(system: str, source_id: str) -> Comment:
    return db.session.execute(
        select(Comment)
        .join(CommentSource, CommentSource.comment_id == Comment.id)
        .where(CommentSource.source == system, CommentSource.source_id == source_id)
    ).scalar_one()


def assert_no_email(text: str) -> None:
    for email in EMAILS:
        assert email not in text


def test_feeds_name_imported_authors(imported, client):
    ann = by_source("disqus", "9001")
    feed = client.get(f"/articles/{ann.article.slug}/comments.atom").get_data(as_text=True)
    assert "<name>Ann Reader (imported)</name>" in feed
    assert_no_email(feed)
    site_feed = client.get("/comments.atom").get_data(as_text=True)
    assert "(imported)" in site_feed
    assert_no_email(site_feed)


def test_comment_pages_name_imported_authors(imported, app):
    ann = by_source("disqus", "9001")
    reader = client_as(app, make_user("reader"))
    for path in (f"/comments/{ann.id}/reply", f"/comments/{ann.id}/report"):
        page = reader.get(path)
        assert page.status_code == 200, path
        html = page.get_data(as_text=True)
        assert "Ann Reader" in html
        assert_no_email(html)
    permalink = reader.get(f"/comments/{ann.id}", follow_redirects=True)
    assert permalink.status_code == 200


def test_moderation_queue_shows_imported_pending_comments(imported, app):
    mod = make_user("moddy", role=Role.MODERATOR)
    page = client_as(app, mod).get("/moderation")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Still waiting for approval." in html  # WordPress comment_approved 0
    assert "Waiting Walt" in html and "badge-imported" in html
    assert_no_email(html)


def test_approving_an_imported_comment_tells_the_article_author(imported, app):
    walt = by_source("wordpress", "3")
    mod = make_user("moddy", role=Role.MODERATOR)
    response = client_as(app, mod).post(f"/comments/{walt.id}/approve")
    assert response.status_code in (302, 303)
    db.session.expire_all()
    assert db.session.get(Comment, walt.id).is_visible


def test_replying_to_an_imported_comment(imported, app):
    ann = by_source("disqus", "9001")
    reader = make_user("reader")
    reply = threads.post_comment(reader, ann.article, "Answering an old comment", parent_id=ann.id)
    assert reply.parent_id == ann.id and reply.root_id == ann.id
    # Nobody to tell: the imported author has no account.
    assert (
        db.session.execute(select(Notification).where(Notification.comment_id == reply.id))
        .scalars()
        .all()
        == []
    )
    page = client_as(app).get(f"/articles/{ann.article.slug}").get_data(as_text=True)
    assert "Answering an old comment" in page


def test_nobody_can_edit_or_delete_an_imported_comment_but_moderators_can_hide_it(imported, app):
    ann = by_source("disqus", "9001")
    reader = client_as(app, make_user("reader"))
    assert reader.post(f"/comments/{ann.id}/delete").status_code == 403
    assert reader.get(f"/comments/{ann.id}/edit").status_code == 403
    mod = client_as(app, make_user("moddy", role=Role.MODERATOR))
    hidden = mod.post(f"/comments/{ann.id}/hide", data={"reason": "off-topic"})
    assert hidden.status_code in (302, 303)
    db.session.expire_all()
    assert not db.session.get(Comment, ann.id).is_visible
