"""Your data: the JSON export (everything the member wrote, nothing private of anyone else)
and deleting an account, keeping or removing the comments."""

import json

import lxml.html
import pytest
from sqlalchemy import select

from forum.extensions import db
from forum.models import (
    Comment,
    CommentStatus,
    EmailPreference,
    Follow,
    Notification,
    OutgoingEmail,
    Role,
    User,
)
from forum.services import accounts, appeals, community, moderation, sanctions, threads, your_data
from forum.services.errors import Conflict, NotAllowed
from tests.conftest import PASSWORD, client_as, make_article, make_user

# --- helpers -----------------------------------------------------------------------------


@pytest.fixture
def world(app):
    """Alice wrote comments (one edited, one hidden and appealed), reported one of Bob's,
    voted for one and follows a discussion; Bob reported Alice. Only Alice's side may show
    in her export."""
    writer = make_user("writer", role=Role.AUTHOR)
    alice = make_user("alice", display_name="Alice Liddell", email="alice@example.org")
    bob = make_user("bob", email="bob@example.org")
    mod = make_user("mod", role=Role.MODERATOR)
    article = make_article(writer, slug="the-article", title="The Article")
    other = make_article(writer, slug="other-article")

    first = threads.post_comment(alice, article, "First **words**.")
    threads.edit_comment(alice, first, "First **words**, revised.")
    hidden = threads.post_comment(alice, article, "A heated remark.")
    moderation.hide_comment(mod, hidden, "abuse", "MODERATOR-PRIVATE-NOTE")
    appeals.appeal(alice, hidden, "It was a fair point.")
    bobs = threads.post_comment(bob, article, "Bob's view.")
    moderation.report_comment(alice, bobs, "spam", "Looks like an advert.")
    community.vote(alice, bobs)
    community.follow(alice, other)
    # Bob reports Alice: his name and note are his, never hers to download.
    moderation.report_comment(bob, first, "off-topic", "BOB-PRIVATE-REPORT-NOTE")
    return {
        "alice": alice,
        "bob": bob,
        "mod": mod,
        "article": article,
        "first": first,
        "hidden": hidden,
        "bobs": bobs,
    }


def export_of(app, user) -> dict:
    response = client_as(app, user).get("/account/export")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    return json.loads(response.get_data(as_text=True))


def fresh(user: User) -> User:
    db.session.rollback()
    return db.session.get(User, user.id)


def statuses(*comments: Comment) -> list[CommentStatus]:
    db.session.rollback()
    return [db.session.get(Comment, c.id).status for c in comments]


# --- the account page --------------------------------------------------------------------


def test_the_account_page_offers_the_download_and_the_deletion(app, world):
    response = client_as(app, world["alice"]).get("/account")
    assert response.status_code == 200
    doc = lxml.html.fromstring(response.get_data(as_text=True))
    assert doc.xpath('//a[@href="/account/export"]')
    [form] = doc.xpath('//form[@action="/account/delete"]')
    assert form.xpath('.//input[@name="password"][@type="password"]')
    assert sorted(form.xpath('.//input[@name="comments"]/@value')) == ["keep", "remove"]


def test_the_deletion_page_asks_before_anything_happens(app, world):
    response = client_as(app, world["alice"]).get("/account/delete")
    assert response.status_code == 200
    assert fresh(world["alice"]).deleted_at is None


@pytest.mark.parametrize("path", ["/account/export", "/account/delete"])
def test_visitors_are_sent_to_log_in(app, path):
    response = client_as(app).get(path)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


# --- the export --------------------------------------------------------------------------


def test_the_export_is_a_json_attachment(app, world):
    response = client_as(app, world["alice"]).get("/account/export")
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert 'filename="forum-alice-data.json"' in disposition
    assert response.headers["Cache-Control"] == "no-store"


def test_the_export_holds_the_account_and_its_settings(app, world):
    data = export_of(app, world["alice"])
    assert data["account"]["username"] == "alice"
    assert data["account"]["display_name"] == "Alice Liddell"
    assert data["account"]["email"] == "alice@example.org"
    assert data["account"]["role"] == "reader"
    assert data["account"]["created_at"].startswith(str(world["alice"].created_at.year))
    assert data["notification_settings"] == {
        "email": "alice@example.org",
        "email_preference": "none",
    }


def test_the_export_holds_every_comment_with_its_markdown_html_and_status(app, world):
    data = export_of(app, world["alice"])
    by_id = {c["id"]: c for c in data["comments"]}
    assert set(by_id) == {world["first"].id, world["hidden"].id}
    first = by_id[world["first"].id]
    assert first["body_markdown"] == "First **words**, revised."
    assert "<strong>words</strong>" in first["body_html"]
    assert first["status"] == "visible"
    assert first["article"] == "the-article"
    assert first["created_at"] and first["edited_at"]
    hidden = by_id[world["hidden"].id]
    assert hidden["status"] == "hidden"
    assert hidden["hidden_reason"] == "abuse"


def test_the_export_holds_revisions_reports_appeals_votes_and_follows(app, world):
    data = export_of(app, world["alice"])
    [revision] = data["comment_revisions"]
    assert revision["comment_id"] == world["first"].id
    assert revision["body_markdown"] == "First **words**."
    [report] = data["reports_filed"]
    assert report["comment_id"] == world["bobs"].id
    assert (report["category"], report["note"]) == ("spam", "Looks like an advert.")
    assert report["created_at"]
    [appeal] = data["appeals"]
    assert (appeal["comment_id"], appeal["message"]) == (world["hidden"].id, "It was a fair point.")
    assert [v["comment_id"] for v in data["votes"]] == [world["bobs"].id]
    assert [f["article"] for f in data["follows"]] == ["other-article"]


def test_the_export_never_holds_other_peoples_private_data(app, world):
    text = client_as(app, world["alice"]).get("/account/export").get_data(as_text=True)
    # Who reported her and what they wrote; the moderator's private note; Bob's words.
    for secret in (
        "BOB-PRIVATE-REPORT-NOTE",
        "off-topic",
        "bob@example.org",
        "MODERATOR-PRIVATE-NOTE",
        "Bob's view",
        '"mod"',
        '"bob"',
    ):
        assert secret not in text, secret


def test_an_authors_export_holds_their_articles(app, world):
    data = export_of(app, db.session.get(User, world["article"].author_id))
    assert {a["slug"] for a in data["articles"]} == {"the-article", "other-article"}
    assert data["articles"][0]["body_markdown"] == "Body text."


def test_looking_at_the_export_changes_nothing(app, world):
    before = fresh(world["alice"]).session_token
    export_of(app, world["alice"])
    assert fresh(world["alice"]).session_token == before


# --- deleting, keeping the comments ------------------------------------------------------


def delete(app, user, choice="keep", password=PASSWORD):
    client = client_as(app, user)
    response = client.post("/account/delete", data={"password": password, "comments": choice})
    return client, response


def test_deleting_and_keeping_comments_signs_them_deleted_user(app, world):
    reply = threads.post_comment(
        world["bob"], world["article"], "A reply.", parent_id=world["first"].id
    )
    _, response = delete(app, world["alice"], "keep")
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    alice = fresh(world["alice"])
    assert alice.deleted_at is not None
    assert (alice.email, alice.display_name, alice.password_hash) == (None, None, None)
    assert alice.username == "alice"
    assert statuses(world["first"], world["hidden"], reply) == [
        CommentStatus.VISIBLE,
        CommentStatus.HIDDEN,
        CommentStatus.VISIBLE,
    ]
    page = client_as(app).get("/articles/the-article").get_data(as_text=True)
    assert "First <strong>words</strong>, revised." in page
    assert "[deleted user]" in page
    assert "Alice Liddell" not in page
    assert "A reply." in page


def test_deleting_ends_every_session(app, world):
    copied = client_as(app, world["alice"])  # the same login on another device
    assert copied.get("/account").status_code == 200
    client, _ = delete(app, world["alice"])
    for each in (client, copied):
        response = each.get("/account")
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/login")


def test_a_deleted_account_cannot_log_in_and_its_name_stays_reserved(app, world):
    delete(app, world["alice"])
    db.session.rollback()
    assert accounts.authenticate("alice", PASSWORD) is None
    response = client_as(app).post("/login", data={"username": "alice", "password": PASSWORD})
    assert response.status_code == 400
    assert accounts.username_problem("Alice") == "That username is taken."


def test_deleting_drops_follows_notifications_and_unsent_mail(app, world):
    db.session.add(
        OutgoingEmail(to_address="alice@example.org", subject="Hi", body="Queued for Alice.")
    )
    db.session.add(OutgoingEmail(to_address="bob@example.org", subject="Hi", body="Bob's."))
    db.session.commit()
    assert db.session.execute(
        select(Notification).where(Notification.user_id == world["alice"].id)
    ).first()
    delete(app, world["alice"])
    db.session.rollback()
    alice_id = world["alice"].id
    assert not db.session.execute(select(Follow).where(Follow.user_id == alice_id)).first()
    assert not db.session.execute(
        select(Notification).where(Notification.user_id == alice_id)
    ).first()
    left = db.session.execute(select(OutgoingEmail.to_address)).scalars().all()
    assert left == ["bob@example.org"]
    assert fresh(world["alice"]).email_preference is EmailPreference.NONE


def test_a_deleted_moderator_loses_their_privileges(app):
    former = make_user("former", role=Role.MODERATOR)
    delete(app, former)
    assert fresh(former).role is Role.READER


# --- deleting, removing the comments -----------------------------------------------------


def test_deleting_and_removing_comments_keeps_replies_by_others(app, world):
    lonely = threads.post_comment(world["alice"], world["article"], "Nobody answered this.")
    reply = threads.post_comment(
        world["bob"], world["article"], "Bob replies.", parent_id=world["first"].id
    )
    _, response = delete(app, world["alice"], "remove")
    assert response.status_code == 302
    assert statuses(world["first"], world["hidden"], lonely, reply) == [
        CommentStatus.DELETED,
        CommentStatus.DELETED,
        CommentStatus.DELETED,
        CommentStatus.VISIBLE,
    ]
    doc = lxml.html.fromstring(client_as(app).get("/articles/the-article").get_data(as_text=True))
    # The answered comment leaves a placeholder so Bob's reply keeps its place...
    assert (
        doc.get_element_by_id(f"c{world['first'].id}").find("article").text_content().strip()
        == "[deleted]"
    )
    assert "Bob replies." in doc.get_element_by_id(f"c{reply.id}").text_content()
    # ...the others vanish, words and all.
    text = doc.text_content()
    assert "Nobody answered this." not in text and "First" not in text
    assert not doc.xpath(f'//*[@id="c{lonely.id}"]')


def test_removed_comments_leave_pins(app, world):
    writer = db.session.get(User, world["article"].author_id)
    community.pin(writer, world["first"])
    delete(app, world["alice"], "remove")
    db.session.rollback()
    assert db.session.get(Comment, world["first"].id).pinned_at is None


# --- refusals ----------------------------------------------------------------------------


def test_a_wrong_password_changes_nothing(app, world):
    _, response = delete(app, world["alice"], "remove", password="not my password")
    assert response.status_code == 400
    doc = lxml.html.fromstring(response.get_data(as_text=True))
    assert "isn't your password" in doc.get_element_by_id("password-error").text_content()
    alice = fresh(world["alice"])
    assert alice.deleted_at is None and alice.email == "alice@example.org"
    assert statuses(world["first"]) == [CommentStatus.VISIBLE]


@pytest.mark.parametrize(
    "data",
    [{"password": PASSWORD}, {"password": PASSWORD, "comments": "shred"}, {"comments": "keep"}],
)
def test_an_incomplete_form_changes_nothing(app, world, data):
    response = client_as(app, world["alice"]).post("/account/delete", data=data)
    assert response.status_code == 400
    assert fresh(world["alice"]).deleted_at is None


def test_the_last_admin_cannot_delete_their_account(app):
    boss = make_user("boss", role=Role.ADMIN)
    _, response = delete(app, boss)
    assert response.status_code == 409
    assert fresh(boss).deleted_at is None
    make_user("deputy", role=Role.ADMIN)
    _, response = delete(app, boss)
    assert response.status_code == 302
    assert fresh(boss).deleted_at is not None


def test_the_service_checks_the_password_and_refuses_twice(app, world):
    with pytest.raises(NotAllowed):
        your_data.delete_account(world["alice"], "wrong", remove_comments=False)
    your_data.delete_account(world["alice"], PASSWORD, remove_comments=False)
    with pytest.raises(Conflict):
        your_data.delete_account(world["alice"], PASSWORD, remove_comments=False)


def test_a_suspended_member_can_still_leave(app, world):
    sanctions.suspend_user(world["mod"], world["alice"], 7, "Cooling off.")
    _, response = delete(app, world["alice"])
    assert response.status_code == 302
