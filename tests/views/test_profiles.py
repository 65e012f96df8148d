"""Profiles: role, join date, helpful votes received, and the visible comments, paged and
linked in context; never a hidden, pending or deleted comment; deleted accounts."""

from datetime import timedelta

import lxml.html
import pytest
from sqlalchemy import event

from forum.extensions import db
from forum.models import Role, utcnow
from forum.services import community, moderation, premoderation, threads, your_data
from tests.conftest import PASSWORD, client_as, make_article, make_user


@pytest.fixture
def cast(app):
    writer = make_user("writer", role=Role.AUTHOR)
    return {
        "alice": make_user("alice", display_name="Alice Liddell"),
        "bob": make_user("bob"),
        "carol": make_user("carol"),
        "mod": make_user("mod", role=Role.MODERATOR),
        "article": make_article(writer, slug="cells", title="How Cells Talk"),
        "other": make_article(writer, slug="tissues", title="Tissues at Work"),
    }


def say(user, article, body, parent=None, ago=None):
    comment = threads.post_comment(user, article, body, parent_id=parent.id if parent else None)
    if ago is not None:
        comment.created_at = utcnow() - ago
        db.session.commit()
    return comment


def profile_doc(app, username, viewer=None, **query) -> lxml.html.HtmlElement:
    response = client_as(app, viewer).get(f"/users/{username}", query_string=query)
    assert response.status_code == 200
    return lxml.html.fromstring(response.get_data(as_text=True))


def listed(doc) -> list[int]:
    """Ids of the comments listed on the profile, in order."""
    return [int(li.get("id")[1:]) for li in doc.xpath('//li[@class="profile-comment"]')]


def test_the_profile_shows_role_join_date_and_helpful_votes(app, cast):
    first = say(cast["alice"], cast["article"], "Useful.")
    second = say(cast["alice"], cast["other"], "Also useful.")
    for voter in (cast["bob"], cast["carol"]):
        community.vote(voter, first)
    community.vote(cast["bob"], second)
    doc = profile_doc(app, "alice")
    text = doc.text_content()
    assert "Alice Liddell" in text and "@alice" in text
    assert "Reader" in text
    assert "Joined" in text and doc.xpath("//time/@datetime")
    assert "3 helpful votes received" in text


def test_votes_on_hidden_comments_are_not_counted(app, cast):
    shown = say(cast["alice"], cast["article"], "Fine.")
    hidden = say(cast["alice"], cast["article"], "Not fine.")
    community.vote(cast["bob"], shown)
    community.vote(cast["bob"], hidden)
    moderation.hide_comment(cast["mod"], hidden, "abuse")
    assert "1 helpful vote received" in profile_doc(app, "alice").text_content()


def test_visible_comments_are_listed_with_their_article_and_a_link_in_context(app, cast):
    comment = say(cast["alice"], cast["article"], "My **point**.")
    doc = profile_doc(app, "alice")
    [item] = doc.xpath('//li[@class="profile-comment"]')
    assert item.xpath(".//strong")[0].text == "point"
    hrefs = item.xpath(".//a/@href")
    assert f"/comments/{comment.id}" in hrefs
    assert "/articles/cells" in hrefs
    assert "How Cells Talk" in item.text_content()


def test_hidden_pending_rejected_and_deleted_comments_never_appear_to_others(app, cast):
    visible = say(cast["alice"], cast["article"], "Visible words.")
    hidden = say(cast["alice"], cast["article"], "Hidden words.")
    moderation.hide_comment(cast["mod"], hidden, "spam")
    deleted = say(cast["alice"], cast["article"], "Deleted words.")
    threads.delete_comment(cast["alice"], deleted)
    pending_settings = threads.DiscussionSettings(premoderate_first=10)
    pending = threads.post_comment(
        cast["alice"], cast["other"], "Pending words.", settings=pending_settings
    )
    rejected = threads.post_comment(
        cast["alice"], cast["other"], "Rejected words.", settings=pending_settings
    )
    premoderation.reject_comment(cast["mod"], rejected, "spam")
    for viewer in (None, cast["bob"], cast["mod"]):
        doc = profile_doc(app, "alice", viewer)
        assert listed(doc) == [visible.id]
        text = doc.text_content()
        for words in ("Hidden words", "Deleted words", "Pending words", "Rejected words"):
            assert words not in text
    assert pending.status.value == "pending" and rejected.status.value == "rejected"


def test_the_owner_sees_their_own_pending_and_hidden_comments_marked(app, cast):
    visible = say(cast["alice"], cast["article"], "Visible.", ago=timedelta(minutes=3))
    hidden = say(cast["alice"], cast["article"], "Hidden.", ago=timedelta(minutes=2))
    moderation.hide_comment(cast["mod"], hidden, "off-topic")
    pending = threads.post_comment(
        cast["alice"],
        cast["other"],
        "Pending.",
        settings=threads.DiscussionSettings(premoderate_first=10),
    )
    deleted = say(cast["alice"], cast["article"], "Deleted.")
    threads.delete_comment(cast["alice"], deleted)
    doc = profile_doc(app, "alice", cast["alice"])
    assert listed(doc) == [pending.id, hidden.id, visible.id]
    text = doc.text_content()
    assert "Awaiting review" in text
    assert "Hidden by a moderator: off topic" in text


def test_comments_are_paged_newest_first(app_factory):
    app = app_factory(PROFILE_PAGE_SIZE=3)
    with app.app_context():
        alice = make_user("alice")
        article = make_article()
        made = [
            say(alice, article, f"Comment {i}.", ago=timedelta(minutes=10 - i)) for i in range(7)
        ]
        newest_first = [c.id for c in reversed(made)]
        pages = [listed(profile_doc(app, "alice", page=n)) for n in (1, 2, 3)]
        assert pages == [newest_first[0:3], newest_first[3:6], newest_first[6:7]]
        doc = profile_doc(app, "alice", page=2)
        assert doc.xpath('//a[@rel="next"][@href="/users/alice?page=3"]')
        assert doc.xpath('//a[@rel="prev"][@href="/users/alice?page=1"]')
        assert "Page 2 of 3" in doc.text_content()
        # A page past the last, or a page number that isn't one, is not there: 404.
        client = client_as(app, None)
        for page in ("4", "99", "0", "x", "2147483648"):
            assert client.get(f"/users/alice?page={page}").status_code == 404


def test_an_empty_profile_has_its_first_page_only(app, cast):
    assert "No comments yet." in profile_doc(app, "bob", page=1).text_content()
    assert client_as(app, None).get("/users/bob?page=2").status_code == 404


def test_someone_without_comments_has_an_empty_list(app, cast):
    assert "No comments yet." in profile_doc(app, "bob").text_content()


def test_the_profile_links_to_the_users_atom_feed(app, cast):
    doc = profile_doc(app, "alice")
    assert doc.xpath('//a[@href="/users/alice/comments.atom"]')
    assert client_as(app).get("/users/alice/comments.atom").status_code == 200


def test_an_unknown_user_is_404(app):
    assert client_as(app).get("/users/nobody").status_code == 404


def test_a_deleted_account_that_removed_its_comments_shows_no_list(app, cast):
    say(cast["alice"], cast["article"], "Soon gone.")
    your_data.delete_account(cast["alice"], PASSWORD, remove_comments=True)
    doc = profile_doc(app, "alice")
    text = doc.text_content()
    assert "[deleted user]" in text
    assert "Alice Liddell" not in text
    assert not doc.xpath('//section[@class="profile-comments"]')
    assert not doc.xpath('//a[@href="/users/alice/comments.atom"]')


def test_a_deleted_account_that_kept_its_comments_lists_them_under_deleted_user(app, cast):
    kept = say(cast["alice"], cast["article"], "Still here.")
    your_data.delete_account(cast["alice"], PASSWORD, remove_comments=False)
    doc = profile_doc(app, "alice")
    assert "[deleted user]" in doc.xpath("//h1")[0].text_content()
    assert "Alice Liddell" not in doc.text_content()
    assert listed(doc) == [kept.id]


def test_moderators_get_no_tools_on_a_deleted_account(app, cast):
    your_data.delete_account(cast["alice"], PASSWORD, remove_comments=False)
    doc = profile_doc(app, "alice", cast["mod"])
    assert not doc.xpath('//section[contains(@class, "mod-tools")]')
    assert profile_doc(app, "bob", cast["mod"]).xpath('//section[contains(@class, "mod-tools")]')


def test_the_profile_costs_the_same_queries_for_few_or_many_comments(app_factory):
    app = app_factory()
    counts = {}
    for size in (2, 60):
        with app.app_context():
            user = make_user(f"user{size}")
            article = make_article()
            for i in range(size):
                say(user, article, f"c{i}")
            name = user.username
        statements = []

        def record(conn, cursor, statement, *args, statements=statements):
            if not statement.lstrip().upper().startswith(("BEGIN", "COMMIT", "ROLLBACK")):
                statements.append(statement)

        with app.app_context():
            engine = db.engine
        event.listen(engine, "before_cursor_execute", record)
        try:
            assert app.test_client().get(f"/users/{name}").status_code == 200
        finally:
            event.remove(engine, "before_cursor_execute", record)
        counts[size] = len(statements)
    assert counts[2] == counts[60]
