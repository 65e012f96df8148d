"""Community features through HTTP: helpful votes and ``?sort=top``, pinning, following,
and the notifications page with its unread count in the navigation."""

from datetime import timedelta
from urllib.parse import urlsplit

import lxml.html
import pytest
from sqlalchemy import func, select

from forum.extensions import db
from forum.models import Comment, CommentStatus, Follow, Notification, Role, Vote, utcnow
from forum.services import (
    appeals,
    community,
    moderation,
    notifications,
    premoderation,
    sanctions,
    threads,
)
from tests.conftest import login, make_article, make_user

# --- helpers -----------------------------------------------------------------------------


@pytest.fixture
def people(app):
    """An article by its writer, another article, two readers and a moderator."""
    writer = make_user("writer", role=Role.AUTHOR, display_name="Wendy Writer")
    return (
        make_article(writer, slug="the-article", title="The Article"),
        make_user("alice", display_name="Alice Liddell"),
        make_user("bob", display_name="Bob Builder"),
        make_user("moderator", role=Role.MODERATOR),
    )


def client_for(app, user=None):
    client = app.test_client()
    if user is not None:
        login(client, user)
    return client


def post(author, article, body="A comment.", parent=None, *, ago=None) -> Comment:
    comment = threads.post_comment(author, article, body, parent_id=parent.id if parent else None)
    if ago is not None:
        comment.created_at = utcnow() - ago
        db.session.commit()
    return comment


def doc_of(response) -> lxml.html.HtmlElement:
    return lxml.html.fromstring(response.get_data(as_text=True))


def card(doc, comment) -> lxml.html.HtmlElement:
    """The comment's own card, without the replies nested in its list item."""
    return doc.get_element_by_id(f"c{comment.id}").find("article")


def text_of(element) -> str:
    """The element's text as a reader hears it: words, single spaces."""
    return " ".join(" ".join(element.itertext()).split())


def thread_ids(response) -> list[int]:
    doc = doc_of(response)
    return [int(li.get("data-comment-id")) for li in doc.xpath('//ol[@class="threads"]/li')]


def count(model, *where) -> int:
    db.session.rollback()
    return db.session.execute(select(func.count(model.id)).where(*where)).scalar_one()


def is_login_redirect(response) -> bool:
    return response.status_code == 302 and urlsplit(response.location).path == "/login"


def nav_count(response) -> int:
    """The unread count beside "Notifications" in the navigation (0 when none is shown)."""
    [link] = doc_of(response).xpath('//header//a[@href="/notifications"]')
    counts = link.xpath('.//span[@class="count"]')
    if not counts:
        assert text_of(link) == "Notifications"
        return 0
    assert text_of(counts[0]).endswith(" unread")
    return int(text_of(counts[0]).split()[0])


# --- votes -------------------------------------------------------------------------------


def test_a_reader_marks_a_comment_helpful_and_takes_it_back(app, people):
    article, alice, bob, _ = people
    comment = post(alice, article)
    reader = client_for(app, bob)

    response = reader.post(f"/comments/{comment.id}/vote")
    assert response.status_code == 302
    assert response.location == f"/articles/the-article#c{comment.id}"
    db.session.refresh(comment)
    assert comment.helpful_count == 1
    page = doc_of(reader.get("/articles/the-article"))
    assert "1 found this helpful" in text_of(card(page, comment))
    assert card(page, comment).xpath(f'.//button[@formaction="/comments/{comment.id}/unvote"]')
    assert not card(page, comment).xpath(f'.//button[@formaction="/comments/{comment.id}/vote"]')

    response = reader.post(f"/comments/{comment.id}/unvote")
    assert response.status_code == 302
    db.session.refresh(comment)
    assert comment.helpful_count == 0
    page = doc_of(reader.get("/articles/the-article"))
    assert "found this helpful" not in text_of(card(page, comment))
    assert card(page, comment).xpath(f'.//button[@formaction="/comments/{comment.id}/vote"]')


def test_a_vote_returns_to_a_safe_next_address_only(app, people):
    article, alice, bob, _ = people
    comment = post(alice, article)
    reader = client_for(app, bob)
    response = reader.post(f"/comments/{comment.id}/vote", data={"next": "/users/alice"})
    assert response.location == "/users/alice"
    response = reader.post(f"/comments/{comment.id}/unvote", data={"next": "https://evil.example/"})
    assert response.location == f"/articles/the-article#c{comment.id}"


def test_voting_twice_conflicts(app, people):
    article, alice, bob, _ = people
    comment = post(alice, article)
    reader = client_for(app, bob)
    assert reader.post(f"/comments/{comment.id}/vote").status_code == 302
    response = reader.post(f"/comments/{comment.id}/vote")
    assert response.status_code == 409
    assert "already marked this comment helpful" in response.get_data(as_text=True)
    assert count(Vote) == 1
    db.session.refresh(comment)
    assert comment.helpful_count == 1


def test_taking_back_a_vote_never_given_conflicts(app, people):
    article, alice, bob, _ = people
    comment = post(alice, article)
    assert client_for(app, bob).post(f"/comments/{comment.id}/unvote").status_code == 409
    assert count(Vote) == 0


def test_voting_for_your_own_comment_is_forbidden_and_offered_nowhere(app, people):
    article, alice, _, _ = people
    comment = post(alice, article)
    own = client_for(app, alice)
    assert own.post(f"/comments/{comment.id}/vote").status_code == 403
    assert count(Vote) == 0
    page = doc_of(own.get("/articles/the-article"))
    assert not card(page, comment).xpath('.//form[contains(@action, "vote")]')


def test_a_hidden_comment_takes_no_votes(app, people):
    article, alice, bob, mod = people
    comment = post(alice, article)
    moderation.hide_comment(mod, comment, "spam")
    assert client_for(app, bob).post(f"/comments/{comment.id}/vote").status_code == 409
    assert count(Vote) == 0


def test_anonymous_votes_go_to_the_login_page(app, people):
    article, alice, _, _ = people
    comment = post(alice, article)
    anonymous = client_for(app)
    for action in ("vote", "unvote"):
        assert is_login_redirect(anonymous.post(f"/comments/{comment.id}/{action}"))
    assert count(Vote) == 0
    page = doc_of(anonymous.get("/articles/the-article"))
    assert not card(page, comment).xpath('.//form[contains(@action, "vote")]')


def test_voting_on_a_missing_comment_is_not_found(app, people):
    assert client_for(app, people[1]).post("/comments/9999/vote").status_code == 404


def test_top_sort_through_the_page(app, people):
    article, alice, bob, mod = people
    voters = [make_user(f"voter{i}") for i in range(6)]
    old = post(alice, article, "old and liked", ago=timedelta(days=2))
    fresh = post(bob, article, "fresh and liked", ago=timedelta(minutes=20))
    quiet = post(mod, article, "no votes", ago=timedelta(hours=1))
    tie_old = post(alice, article, "no votes, older", ago=timedelta(hours=3))
    for voter in voters:
        community.vote(voter, old)
    for voter in voters[:4]:
        community.vote(voter, fresh)
    reader = client_for(app, bob)

    assert thread_ids(reader.get("/articles/the-article?sort=top")) == [
        fresh.id,
        old.id,
        tie_old.id,
        quiet.id,
    ]
    assert thread_ids(reader.get("/articles/the-article")) == [
        old.id,
        tie_old.id,
        quiet.id,
        fresh.id,
    ]


# --- pins --------------------------------------------------------------------------------


def badge(doc, comment) -> str | None:
    found = card(doc, comment).xpath('.//span[contains(@class, "badge-pin")]')
    return text_of(found[0]) if found else None


def test_the_author_pins_a_comment_and_its_thread_leads_the_first_page(app, people):
    article, alice, bob, _ = people
    app.config["THREADS_PER_PAGE"] = 2
    comments = [post(alice if i % 2 else bob, article, f"c{i}") for i in range(5)]
    chosen = comments[4]
    reply = post(alice, article, "a reply in the pinned thread", chosen)
    author = client_for(app, article.author)

    page = doc_of(author.get("/articles/the-article?page=3"))
    assert card(page, chosen).xpath(f'.//button[@formaction="/comments/{chosen.id}/pin"]')
    assert not card(page, reply).xpath('.//form[contains(@action, "pin")]')

    response = author.post(f"/comments/{chosen.id}/pin")
    assert response.status_code == 302
    assert response.location == f"/articles/the-article#c{chosen.id}"
    for sort in ("", "?sort=newest", "?sort=top"):
        response = author.get(f"/articles/the-article{sort}")
        assert thread_ids(response)[0] == chosen.id
        doc = doc_of(response)
        assert badge(doc, chosen) == "Pinned by the author"
        assert badge(doc, reply) is None
        assert card(doc, chosen).xpath(f'.//button[@formaction="/comments/{chosen.id}/unpin"]')
    # Readers see the badge and no pin buttons.
    doc = doc_of(client_for(app, bob).get("/articles/the-article"))
    assert badge(doc, chosen) == "Pinned by the author"
    assert not doc.xpath('//form[contains(@action, "/pin") or contains(@action, "/unpin")]')
    # Unpinned, the thread goes back to its place, and the redirect follows it there.
    response = author.post(f"/comments/{chosen.id}/unpin")
    assert response.location == f"/articles/the-article?page=3#c{chosen.id}"
    assert thread_ids(author.get("/articles/the-article?page=3")) == [chosen.id]


def test_a_moderator_pins_and_the_badge_says_so(app, people):
    article, alice, _, mod = people
    chosen = post(alice, article)
    assert client_for(app, mod).post(f"/comments/{chosen.id}/pin").status_code == 302
    doc = doc_of(client_for(app).get("/articles/the-article"))
    assert badge(doc, chosen) == "Pinned by a moderator"


def test_a_reader_cannot_pin(app, people):
    article, alice, bob, _ = people
    chosen = post(alice, article)
    for who in (alice, bob):
        assert client_for(app, who).post(f"/comments/{chosen.id}/pin").status_code == 403
    db.session.refresh(chosen)
    assert chosen.pinned_at is None
    assert is_login_redirect(client_for(app).post(f"/comments/{chosen.id}/pin"))


def test_a_reply_cannot_be_pinned(app, people):
    article, alice, bob, _ = people
    reply = post(bob, article, "reply", post(alice, article))
    response = client_for(app, article.author).post(f"/comments/{reply.id}/pin")
    assert response.status_code == 400
    assert "Only top-level comments can be pinned." in response.get_data(as_text=True)
    assert count(Comment, Comment.pinned_at.is_not(None)) == 0


def test_pinning_a_comment_from_another_article_is_refused_and_changes_nothing(app, people):
    article, alice, bob, _ = people
    other = make_article(article.author, slug="other-article")
    already = post(alice, article)
    elsewhere = post(bob, other)
    author = client_for(app, article.author)
    assert author.post(f"/comments/{already.id}/pin").status_code == 302

    response = author.post(f"/comments/{elsewhere.id}/pin", data={"article": "the-article"})
    assert response.status_code == 400
    assert "belongs to another article" in response.get_data(as_text=True)
    db.session.rollback()
    assert [
        c.id for c in db.session.scalars(select(Comment).where(Comment.pinned_at.is_not(None)))
    ] == [already.id]
    # A slug that names no article at all.
    response = author.post(f"/comments/{already.id}/pin", data={"article": "no-such-article"})
    assert response.status_code == 404


def test_pinning_another_comment_replaces_the_pin(app, people):
    article, alice, bob, _ = people
    first, second = post(alice, article, "first"), post(bob, article, "second")
    author = client_for(app, article.author)
    author.post(f"/comments/{first.id}/pin")
    assert author.post(f"/comments/{second.id}/pin").status_code == 302
    doc = doc_of(client_for(app).get("/articles/the-article"))
    assert badge(doc, second) == "Pinned by the author"
    assert badge(doc, first) is None
    assert thread_ids(client_for(app).get("/articles/the-article")) == [second.id, first.id]


def test_unpinning_and_unpinning_what_is_not_pinned(app, people):
    article, alice, _, mod = people
    chosen = post(alice, article)
    author = client_for(app, article.author)
    assert author.post(f"/comments/{chosen.id}/unpin").status_code == 409
    author.post(f"/comments/{chosen.id}/pin")
    assert client_for(app, alice).post(f"/comments/{chosen.id}/unpin").status_code == 403
    assert client_for(app, mod).post(f"/comments/{chosen.id}/unpin").status_code == 302
    db.session.refresh(chosen)
    assert chosen.pinned_at is None
    assert badge(doc_of(client_for(app).get("/articles/the-article")), chosen) is None
    assert author.post(f"/comments/{chosen.id}/unpin").status_code == 409


# --- follows -----------------------------------------------------------------------------


def following(user, article) -> bool:
    db.session.rollback()
    return community.is_following(user, article)


def follow_form(response) -> str | None:
    """Which follow button the discussion offers: "follow", "unfollow" or None."""
    doc = doc_of(response)
    for action in ("unfollow", "follow"):
        if doc.xpath(f'//form[@action="/articles/the-article/{action}"]'):
            return action
    return None


def test_follow_and_unfollow_through_the_buttons(app, people):
    article, alice, _, _ = people
    reader = client_for(app, alice)
    assert follow_form(reader.get("/articles/the-article")) == "follow"

    response = reader.post("/articles/the-article/follow")
    assert response.status_code == 302
    assert response.location == "/articles/the-article#discussion"
    assert following(alice, article)
    page = reader.get(response.location)
    assert "You'll be notified about new comments here." in text_of(doc_of(page))
    assert follow_form(page) == "unfollow"

    assert reader.post("/articles/the-article/unfollow").status_code == 302
    assert not following(alice, article)
    assert follow_form(reader.get("/articles/the-article")) == "follow"


def test_following_twice_and_unfollowing_what_you_do_not_follow_conflict(app, people):
    _, alice, _, _ = people
    reader = client_for(app, alice)
    assert reader.post("/articles/the-article/unfollow").status_code == 409
    reader.post("/articles/the-article/follow")
    response = reader.post("/articles/the-article/follow")
    assert response.status_code == 409
    assert "already follow" in response.get_data(as_text=True)
    assert count(Follow) == 1


def test_a_locked_discussion_cannot_be_followed(app, people):
    article, alice, _, mod = people
    sanctions.lock_article(mod, article, "Quiet now.")
    reader = client_for(app, alice)
    response = reader.post("/articles/the-article/follow")
    assert response.status_code == 403
    assert count(Follow) == 0
    assert follow_form(reader.get("/articles/the-article")) is None


def test_following_needs_an_account_and_an_article(app, people):
    anonymous = client_for(app)
    assert is_login_redirect(anonymous.post("/articles/the-article/follow"))
    assert is_login_redirect(anonymous.post("/articles/the-article/unfollow"))
    assert follow_form(anonymous.get("/articles/the-article")) is None
    reader = client_for(app, people[1])
    assert reader.post("/articles/no-such-article/follow").status_code == 404
    assert reader.post("/articles/no-such-article/unfollow").status_code == 404
    assert count(Follow) == 0


def test_replying_through_the_page_follows_the_discussion(app, people):
    article, alice, bob, _ = people
    first = post(alice, article)
    reader = client_for(app, bob)
    response = reader.post(
        "/articles/the-article/comments", data={"body": "A reply.", "parent_id": str(first.id)}
    )
    assert response.status_code == 302
    assert following(bob, article)
    assert follow_form(reader.get("/articles/the-article")) == "unfollow"


# --- notifications -------------------------------------------------------------------------


def inbox_items(response) -> list[str]:
    doc = doc_of(response)
    return [text_of(li.find("p")) for li in doc.xpath('//ol[@class="notifications"]/li')]


def test_the_notifications_page_describes_each_kind(app, people):
    article, alice, bob, mod = people
    carol = make_user("carol")
    community.follow(alice, article)
    mine = post(alice, article, "My question.")
    post(bob, article, "A reply.", mine)  # reply
    post(carol, article, "cc @alice")  # mention
    post(carol, article, "Just a thought.")  # followed
    moderation.hide_comment(mod, mine, "off-topic", "private note")  # hidden
    moderation.unhide_comment(mod, mine)  # restored
    other = post(alice, article, "Another.")
    moderation.hide_comment(mod, other, "spam")
    appeals.decide_appeal(mod, appeals.appeal(alice, other, "Please."), grant=False)

    response = client_for(app, alice).get("/notifications")
    assert response.status_code == 200
    items = inbox_items(response)
    assert items[0] == (
        "New Your appeal about a comment on “The Article” was decided: "
        "denied, the comment stays hidden."
    )
    assert items[1] == "New A moderator hid your comment on “The Article”. Reason: Spam."
    assert items[2] == "New A moderator restored your comment on “The Article”."
    assert items[3] == "New A moderator hid your comment on “The Article”. Reason: Off topic."
    assert items[4] == "New carol commented on “The Article”, which you follow."
    assert items[5] == "New carol mentioned you on “The Article”."
    assert items[6] == "New Bob Builder replied to your comment on “The Article”."
    assert "private note" not in response.get_data(as_text=True)

    writer_page = client_for(app, article.author).get("/notifications")
    assert "Alice Liddell commented on your article “The Article”." in " ".join(
        inbox_items(writer_page)
    )


def test_each_notification_links_to_its_comment(app, people):
    article, alice, bob, _ = people
    reply = post(bob, article, "reply", post(alice, article))
    doc = doc_of(client_for(app, alice).get("/notifications"))
    [link] = doc.xpath('//ol[@class="notifications"]//a[text()="View comment"]')
    assert link.get("href") == f"/comments/{reply.id}"


def test_the_unread_count_in_the_navigation(app, people):
    article, alice, bob, mod = people
    reader = client_for(app, alice)
    assert nav_count(reader.get("/")) == 0
    first = post(alice, article)
    post(bob, article, "one", first)
    post(mod, article, "two", first)
    assert nav_count(reader.get("/")) == 2
    assert nav_count(reader.get("/articles/the-article")) == 2
    # Not shown to anyone else, nor to visitors.
    assert nav_count(client_for(app, make_user("carol")).get("/")) == 0
    assert not doc_of(client_for(app).get("/")).xpath('//a[@href="/notifications"]')


def test_mark_one_read(app, people):
    article, alice, bob, mod = people
    first = post(alice, article)
    post(bob, article, "one", first)
    post(mod, article, "two", first)
    reader = client_for(app, alice)
    doc = doc_of(reader.get("/notifications"))
    forms = doc.xpath('//form[contains(@action, "/read") and not(contains(@action, "read-all"))]')
    assert len(forms) == 2
    action = forms[1].get("action")
    response = reader.post(action, data={"next": "/notifications?page=1"})
    assert response.status_code == 302 and response.location == "/notifications?page=1"
    page = reader.get("/notifications")
    assert nav_count(page) == 1
    items = inbox_items(page)
    assert items[0].startswith("New ") and not items[1].startswith("New ")
    # Marking it again is harmless.
    assert reader.post(action).status_code == 302
    assert nav_count(reader.get("/")) == 1


def test_mark_all_read(app, people):
    article, alice, bob, mod = people
    first = post(alice, article)
    post(bob, article, "one", first)
    post(mod, article, "two", first)
    post(alice, article, "for the writer")
    reader = client_for(app, alice)
    page = doc_of(reader.get("/notifications"))
    assert page.xpath('//form[@action="/notifications/read-all"]')
    response = reader.post("/notifications/read-all")
    assert response.status_code == 302 and response.location == "/notifications"
    page = reader.get("/notifications")
    assert nav_count(page) == 0
    assert len(inbox_items(page)) == 2  # kept, now read
    assert not any(item.startswith("New ") for item in inbox_items(page))
    assert not doc_of(page).xpath('//form[@action="/notifications/read-all"]')
    # Someone else's stay unread.
    assert notifications.unread_count(article.author) == 2


def test_someone_elses_notification_is_not_found(app, people):
    article, alice, bob, _ = people
    post(bob, article, "reply", post(alice, article))
    db.session.rollback()
    [note] = db.session.scalars(select(Notification).where(Notification.user_id == alice.id))
    assert client_for(app, bob).post(f"/notifications/{note.id}/read").status_code == 404
    assert client_for(app, bob).post("/notifications/99999/read").status_code == 404
    db.session.refresh(note)
    assert note.read_at is None
    assert is_login_redirect(client_for(app).post(f"/notifications/{note.id}/read"))
    assert is_login_redirect(client_for(app).post("/notifications/read-all"))
    assert is_login_redirect(client_for(app).get("/notifications"))


def test_old_notifications_are_kept_and_paged(app, people):
    article, alice, bob, mod = people
    app.config["NOTIFICATIONS_PAGE_SIZE"] = 3
    first = post(alice, article)
    replies = [post(bob if i % 2 else mod, article, f"reply {i}", first) for i in range(7)]
    notifications.mark_all_read(alice)
    reader = client_for(app, alice)

    seen = []
    for page in (1, 2, 3):
        response = reader.get(f"/notifications?page={page}")
        doc = doc_of(response)
        assert f"Page {page} of 3" in text_of(doc.xpath('//nav[@class="pager"]')[0])
        seen += [
            int(a.get("href").rsplit("/", 1)[1])
            for a in doc.xpath('//ol[@class="notifications"]//a[text()="View comment"]')
        ]
        assert bool(doc.xpath('//a[@rel="next"]')) == (page < 3)
        assert bool(doc.xpath('//a[@rel="prev"]')) == (page > 1)
    assert seen == [c.id for c in reversed(replies)]
    # Pages that aren't there are 404s, like any other missing page.
    for query in ("?page=0", "?page=abc", "?page=4", "?page=99999999999"):
        assert reader.get(f"/notifications{query}").status_code == 404


def test_an_empty_inbox_says_what_will_appear(app, people):
    response = client_for(app, people[1]).get("/notifications")
    assert response.status_code == 200
    assert "Nothing yet." in response.get_data(as_text=True)


def test_a_hidden_comment_leaves_the_inbox_and_the_count_and_comes_back(app, people):
    article, alice, bob, mod = people
    first = post(alice, article)
    reply = post(bob, article, "Something rude", first)
    reader = client_for(app, alice)
    assert nav_count(reader.get("/")) == 1

    moderator = client_for(app, mod)
    response = moderator.post(f"/comments/{reply.id}/hide", data={"reason": "abuse"})
    assert response.status_code == 302
    page = reader.get("/notifications")
    assert nav_count(page) == 0
    assert inbox_items(page) == []
    assert f"/comments/{reply.id}" not in page.get_data(as_text=True)

    assert moderator.post(f"/comments/{reply.id}/unhide").status_code == 302
    page = reader.get("/notifications")
    assert nav_count(page) == 1
    assert inbox_items(page) == ["New Bob Builder replied to your comment on “The Article”."]


def test_a_pending_comment_notifies_when_approved(app_factory):
    app = app_factory(PREMODERATE_FIRST_COMMENTS=1)
    with app.app_context():
        writer = make_user("writer", role=Role.AUTHOR)
        article = make_article(writer, slug="the-article", title="The Article")
        alice, newcomer = make_user("alice"), make_user("newcomer")
        mod = make_user("moderator", role=Role.MODERATOR)
        community.follow(writer, article)
        first = post(alice, article)
        alice_client = client_for(app, alice)
        assert nav_count(alice_client.get("/")) == 0

        response = client_for(app, newcomer).post(
            "/articles/the-article/comments",
            data={"body": "Thanks, @alice!", "parent_id": str(first.id)},
        )
        assert response.status_code == 302
        db.session.rollback()
        reply = db.session.scalars(select(Comment).where(Comment.author_id == newcomer.id)).one()
        assert reply.status is CommentStatus.PENDING
        assert count(Notification, Notification.comment_id == reply.id) == 0
        assert nav_count(alice_client.get("/")) == 0
        assert inbox_items(alice_client.get("/notifications")) == []

        premoderation.approve_comment(mod, reply)
        page = alice_client.get("/notifications")
        assert nav_count(page) == 1
        assert inbox_items(page) == ["New newcomer replied to your comment on “The Article”."]
        assert notifications.unread_count(writer) == 2  # alice's comment, then the reply


def test_the_article_pages_unread_count_follows_reading(app, people):
    """The article page asks the count with the follow state (one query): it still moves
    when notifications are read, and it is the reader's own."""
    article, alice, bob, _ = people
    first = post(alice, article)
    post(bob, article, "one", first)
    reader = client_for(app, alice)
    assert nav_count(reader.get("/articles/the-article")) == 1
    assert reader.post("/notifications/read-all").status_code == 302
    assert nav_count(reader.get("/articles/the-article")) == 0
    assert nav_count(client_for(app, bob).get("/articles/the-article")) == 0
