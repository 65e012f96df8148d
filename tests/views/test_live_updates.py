"""``GET /articles/<slug>/discussion/new?after=<id>``: the comments an open page's script
inserts when the discussion's version changed. Each viewer gets what they would see on the
page (readers never get texts awaiting review or hidden; moderators and authors do), oldest
first, at most 100, rendered by the page's own templates; and the page tells the script its
version and where to ask."""

import lxml.html
import pytest
from sqlalchemy import event

from forum.extensions import db
from forum.models import CommentStatus, Role
from forum.services import moderation, threads
from tests.conftest import login, make_article, make_user

JSON = {"Accept": "application/json"}


@pytest.fixture
def settings_deep(app):
    """A display cap of two levels, so deeper replies are shown flat."""
    app.config["MAX_DISPLAY_DEPTH"] = 2


@pytest.fixture
def scene(app):
    writer = make_user("writer", role=Role.AUTHOR)
    article = make_article(writer, slug="the-article")
    return article, make_user("alice"), make_user("bob"), make_user("moe", role=Role.MODERATOR)


def new_since(client, after, slug="the-article"):
    response = client.get(f"/articles/{slug}/discussion/new?after={after}", headers=JSON)
    assert response.status_code == 200, response.data
    return response.get_json()


def test_new_comments_come_oldest_first_rendered_as_on_the_page(client, scene):
    article, alice, bob, _ = scene
    old = threads.post_comment(alice, article, "Before the page was open.")
    first = threads.post_comment(bob, article, "A **new** thread.")
    reply = threads.post_comment(alice, article, "A new reply.", parent_id=first.id)

    answer = new_since(client, old.id)

    assert [c["id"] for c in answer["comments"]] == [first.id, reply.id]
    assert answer["comments"][0]["parent_id"] is None
    assert answer["comments"][0]["level"] == 1
    assert answer["comments"][1]["parent_id"] == first.id
    assert answer["comments"][1]["level"] == 2
    db.session.refresh(article)
    assert answer["version"] == article.discussion_version
    [li] = lxml.html.fragments_fromstring(answer["comments"][0]["html"])
    assert li.tag == "li" and li.get("id") == f"c{first.id}"
    assert "comment" in li.get("class") and "level-1" in li.get("class")
    assert li.xpath(".//strong")[0].text == "new"
    assert li.xpath(".//time[@datetime]")  # the script makes it relative


def test_the_answer_is_not_cached_by_shared_caches(client, scene):
    response = client.get("/articles/the-article/discussion/new?after=0", headers=JSON)
    assert response.headers["Cache-Control"] == "private, no-cache"
    assert response.get_json() == {"comments": [], "version": response.get_json()["version"]}


def test_readers_never_get_texts_awaiting_review_or_hidden(client, scene):
    article, alice, bob, mo = scene
    visible = threads.post_comment(alice, article, "Plainly visible.")
    pending = threads.post_comment(alice, article, "Awaiting review text.")
    pending.status = CommentStatus.PENDING
    db.session.commit()
    hidden = threads.post_comment(alice, article, "Rude hidden text.")
    moderation.hide_comment(mo, hidden, "abuse")

    for viewer in (None, bob):
        if viewer is not None:
            login(client, viewer)
        answer = new_since(client, 0)
        ids = [c["id"] for c in answer["comments"]]
        assert ids == [visible.id, hidden.id]  # the hidden one as its placeholder
        html = "".join(c["html"] for c in answer["comments"])
        assert "Awaiting review text." not in html
        assert "Rude hidden text." not in html
        assert "Hidden by a moderator: abuse" in html


def test_moderators_and_authors_get_what_their_page_shows(app, scene):
    article, alice, bob, mo = scene
    pending = threads.post_comment(alice, article, "Awaiting review text.")
    pending.status = CommentStatus.PENDING
    db.session.commit()
    hidden = threads.post_comment(bob, article, "Rude hidden text.")
    moderation.hide_comment(mo, hidden, "abuse")
    deleted = threads.post_comment(bob, article, "Withdrawn.")
    threads.delete_comment(bob, deleted)

    moderator = app.test_client()
    login(moderator, mo)
    answer = new_since(moderator, 0)
    assert [c["id"] for c in answer["comments"]] == [pending.id, hidden.id]
    html = "".join(c["html"] for c in answer["comments"])
    assert "Awaiting review text." in html and "Rude hidden text." in html
    assert "Withdrawn." not in html

    author = app.test_client()
    login(author, alice)
    answer = new_since(author, 0)
    assert [c["id"] for c in answer["comments"]] == [pending.id, hidden.id]
    html = "".join(c["html"] for c in answer["comments"])
    assert "Awaiting review text." in html  # their own, marked as awaiting review
    assert "Rude hidden text." not in html


def test_at_most_a_hundred_at_once(client, scene):
    article, alice, _, _ = scene
    made = [threads.post_comment(alice, article, f"Comment {n}.").id for n in range(105)]
    first = new_since(client, 0)["comments"]
    assert [c["id"] for c in first] == made[:100]
    rest = new_since(client, first[-1]["id"])["comments"]
    assert [c["id"] for c in rest] == made[100:]


def test_an_unknown_article_is_404(client, scene):
    response = client.get("/articles/no-such/discussion/new?after=0", headers=JSON)
    assert response.status_code == 404
    assert response.get_json()["errors"]["form"] == ["No article has that address."]


@pytest.mark.parametrize(
    ("after", "status"),
    [
        ("abc", 404),
        ("-1", 404),
        ("1.5", 404),
        ("²", 404),
        ("2147483648", 404),
        ("99999999999999999999", 404),
        ("1%00", 400),  # a NUL anywhere in a request is refused before any view
    ],
)
def test_after_must_be_a_comment_number_the_database_can_hold(client, scene, after, status):
    """As every id in a query string (``paging.id_arg``): one the database can't hold names
    nothing."""
    response = client.get(f"/articles/the-article/discussion/new?after={after}", headers=JSON)
    assert response.status_code == status


def test_after_absent_or_at_the_largest_id(client, scene):
    article, alice, _, _ = scene
    made = threads.post_comment(alice, article, "Hello.")
    assert [c["id"] for c in new_since(client, "")["comments"]] == [made.id]
    assert new_since(client, 2**31 - 1)["comments"] == []


def test_the_page_tells_the_script_its_version_and_where_to_ask(app, client, scene):
    article, alice, _, _ = scene
    threads.post_comment(alice, article, "Hello.")
    db.session.refresh(article)
    page = lxml.html.fromstring(client.get("/articles/the-article").data)
    [section] = page.xpath("//section[@id='discussion']")
    assert section.get("data-version") == str(article.discussion_version)
    assert section.get("data-poll-seconds") == str(app.config["LIVE_POLL_SECONDS"])
    assert section.get("data-version-url") == "/articles/the-article/discussion/version"
    assert section.get("data-new-url") == "/articles/the-article/discussion/new"
    assert not page.xpath("//form[@id='report-form']")  # only for logged-in readers


def test_logged_in_readers_get_one_report_form_for_the_page(client, scene):
    article, alice, bob, _ = scene
    for n in range(3):
        threads.post_comment(alice, article, f"Comment {n}.")
    login(client, bob)
    page = lxml.html.fromstring(client.get("/articles/the-article").data)
    [form] = page.xpath("//form[@id='report-form']")
    assert form.get("hidden") is not None
    assert form.xpath(".//select[@name='category']") and form.xpath(".//input[@name='note']")
    assert form.xpath(".//input[@name='csrf_token']")
    assert len(page.xpath("//select[@name='category']")) == 1
    assert len(page.xpath("//a[contains(@class, 'action-report')]")) == 3


def test_reporting_answers_the_script_with_json(client, scene):
    article, alice, bob, _ = scene
    comment = threads.post_comment(alice, article, "Reportable.")
    login(client, bob)
    response = client.post(
        f"/comments/{comment.id}/flag", data={"category": "spam", "note": "Ads."}, headers=JSON
    )
    assert response.status_code == 200
    assert response.get_json() == {
        "message": "Thank you. The moderators will take a look.",
        "reported": True,
    }
    # Reported twice (another tab): answered in place, not as an error.
    again = client.post(f"/comments/{comment.id}/flag", data={"category": "spam"}, headers=JSON)
    assert again.status_code == 200
    assert again.get_json() == {
        "message": "You have already reported this comment.",
        "reported": True,
    }


def statements_for(client, url: str) -> int:
    """Queries for ``url``, not counting SQLite's BEGIN (whether the request opens a
    transaction depends on what the test's shared session left open)."""
    seen: list[str] = []

    def listener(*args) -> None:
        if not args[2].startswith("BEGIN"):
            seen.append(args[2])

    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        assert client.get(url, headers=JSON).status_code == 200
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    return len(seen)


def test_the_cost_does_not_grow_with_the_number_of_new_comments(app, client, scene, settings_deep):
    article, alice, bob, mo = scene
    root = threads.post_comment(alice, article, "A thread.")
    parent = root
    for n in range(4):  # deeper than the display cap: flat replies name whom they answer
        parent = threads.post_comment(
            bob if n % 2 else alice, article, "Deeper.", parent_id=parent.id
        )
    few = {}
    for viewer in (None, bob, mo):
        user_client = app.test_client()
        if viewer is not None:
            login(user_client, viewer)
        few[viewer] = statements_for(
            user_client, f"/articles/the-article/discussion/new?after={root.id}"
        )
    for n in range(30):
        parent = threads.post_comment(
            bob if n % 2 else alice, article, "More.", parent_id=parent.id
        )
    for viewer in (None, bob, mo):
        user_client = app.test_client()
        if viewer is not None:
            login(user_client, viewer)
        url = f"/articles/the-article/discussion/new?after={root.id}"
        assert statements_for(user_client, url) == few[viewer], viewer


def test_anonymous_answers_set_no_cookie(client, scene):
    response = client.get("/articles/the-article/discussion/new?after=0", headers=JSON)
    assert "Set-Cookie" not in response.headers
