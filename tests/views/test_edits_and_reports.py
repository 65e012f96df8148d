"""Two tabs editing one comment never overwrite each other, and a reader who reported a
comment sees "Reported" where the Report link was (their pages still come from the shared
rendering, with their marks put in place)."""

import lxml.html
from sqlalchemy import event, select

from forum.extensions import db
from forum.models import Comment, CommentRevision, Role
from forum.services import moderation, threads
from forum.services.errors import Conflict
from tests.conftest import client_as, make_article, make_user

JSON = {"Accept": "application/json"}


def html(response) -> str:
    return response.get_data(as_text=True)


def revision_in(page: str) -> str:
    (value,) = lxml.html.fromstring(page).xpath('//input[@name="revision"]/@value')
    return value


# --- two tabs, one comment --------------------------------------------------------------------


def test_saving_over_a_newer_revision_is_refused_with_both_texts(app):
    alice = make_user("alice")
    comment = threads.post_comment(alice, make_article(slug="the-article"), "First text.")
    client = client_as(app, alice)
    first_tab = revision_in(html(client.get(f"/comments/{comment.id}/edit")))
    second_tab = revision_in(html(client.get(f"/comments/{comment.id}/edit")))
    saved = client.post(
        f"/comments/{comment.id}/edit", data={"body": "Second tab's text.", "revision": second_tab}
    )
    assert saved.status_code == 302

    late = client.post(
        f"/comments/{comment.id}/edit", data={"body": "First tab's text.", "revision": first_tab}
    )

    assert late.status_code == 409
    page = html(late)
    tree = lxml.html.fromstring(page)
    assert tree.xpath('string(//textarea[@name="body"])').strip() == "First tab's text."
    assert tree.xpath('string(//pre[@class="current-text"])') == "Second tab's text."
    assert "changed elsewhere" in page
    db.session.rollback()
    assert db.session.get(Comment, comment.id).body_md == "Second tab's text."  # untouched
    # The form now starts from the current revision: saving again is a deliberate choice.
    again = client.post(
        f"/comments/{comment.id}/edit",
        data={"body": "First tab's text.", "revision": revision_in(page)},
    )
    assert again.status_code == 302
    db.session.rollback()
    assert db.session.get(Comment, comment.id).body_md == "First tab's text."
    assert len(db.session.execute(select(CommentRevision)).all()) == 2


def test_the_script_gets_a_409_with_the_current_text(app):
    alice = make_user("alice")
    comment = threads.post_comment(alice, make_article(slug="the-article"), "First text.")
    client = client_as(app, alice)
    started = revision_in(html(client.get(f"/comments/{comment.id}/edit")))
    threads.edit_comment(alice, comment, "Saved elsewhere.")
    response = client.post(
        f"/comments/{comment.id}/edit",
        data={"body": "Mine.", "revision": started},
        headers=JSON,
    )
    assert response.status_code == 409
    answer = response.get_json()
    assert "changed elsewhere" in answer["errors"]["form"][0]
    assert answer["current"]["body"] == "Saved elsewhere."
    assert answer["current"]["revision"] == threads.revision_of(comment)


def test_the_service_checks_the_revision_under_the_write_lock(app):
    alice = make_user("alice")
    comment = threads.post_comment(alice, make_article(), "One.")
    started = threads.revision_of(comment)
    threads.edit_comment(alice, comment, "Two.", base_revision=started)
    try:
        threads.edit_comment(alice, comment, "Three.", base_revision=started)
    except threads.EditedElsewhere as conflict:
        assert isinstance(conflict, Conflict)
        assert conflict.current_body == "Two."
    else:
        raise AssertionError("an edit from an old revision must be refused")
    assert db.session.get(Comment, comment.id).body_md == "Two."
    # Without a revision (an older client), the edit goes through as before.
    threads.edit_comment(alice, comment, "Four.")
    assert comment.body_md == "Four."


# --- "Reported" ---------------------------------------------------------------------------------


def report_controls(page: str, comment_id: int) -> tuple[list, list]:
    tree = lxml.html.fromstring(page)
    card = tree.xpath(f'//article[@data-card="{comment_id}"]')[0]
    return card.xpath('.//a[@class="action-report"]'), card.xpath(
        './/span[@class="action-reported"]'
    )


def test_a_reader_who_reported_sees_reported_instead_of_the_link(app):
    article = make_article(slug="the-article")
    carl = make_user("carl")
    reported = threads.post_comment(carl, article, "Reported one.")
    other = threads.post_comment(carl, article, "Not reported.")
    rita = make_user("rita")
    client = client_as(app, rita)
    client.get("/articles/the-article")  # the shared rendering is made and cached
    moderation.report_comment(rita, reported, "spam")

    page = html(client.get("/articles/the-article"))

    links, marks = report_controls(page, reported.id)
    assert not links and [m.text for m in marks] == ["Reported"]
    links, marks = report_controls(page, other.id)
    assert links and not marks
    # Everyone else still gets the Report link on the same (cached) rendering.
    page = html(client_as(app, make_user("sam")).get("/articles/the-article"))
    links, marks = report_controls(page, reported.id)
    assert links and not marks


def test_a_moderator_who_reported_sees_it_too(app):
    article = make_article(slug="the-article")
    comment = threads.post_comment(make_user("carl"), article, "Reported one.")
    moe = make_user("moe", role=Role.MODERATOR)
    moderation.report_comment(moe, comment, "spam")
    links, marks = report_controls(
        html(client_as(app, moe).get("/articles/the-article")), comment.id
    )
    assert not links and marks


def test_the_report_page_says_it_was_already_reported(app):
    comment = threads.post_comment(make_user("carl"), make_article(), "Reported one.")
    rita = make_user("rita")
    moderation.report_comment(rita, comment, "spam")
    page = html(client_as(app, rita).get(f"/comments/{comment.id}/report"))
    assert "You have already reported this comment" in page
    assert "Send report" not in page


def queries_for(client, url: str) -> int:
    seen: list[str] = []

    def listener(*args) -> None:
        if not args[2].startswith("BEGIN"):
            seen.append(args[2])

    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        assert client.get(url).status_code == 200
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    return len(seen)


def test_reports_cost_the_reader_no_extra_query(app):
    """The reports ride along in the one query for the reader's own and voted comments."""
    article = make_article(slug="the-article")
    carl = make_user("carl")
    comments = [threads.post_comment(carl, article, f"Comment {n}.") for n in range(5)]
    rita = make_user("rita")
    client = client_as(app, rita)
    client.get("/articles/the-article")
    before = queries_for(client, "/articles/the-article")
    for comment in comments:
        moderation.report_comment(rita, comment, "spam")
    client.get("/articles/the-article")  # the new version's rendering is made
    assert queries_for(client, "/articles/the-article") == before


def test_more_replies_say_reported_too(app_factory):
    app = app_factory(REPLIES_PER_THREAD=1)
    with app.app_context():
        article = make_article(slug="the-article")
        carl = make_user("carl")
        root = threads.post_comment(carl, article, "The thread.")
        first = threads.post_comment(carl, article, "First reply.", parent_id=root.id)
        later = threads.post_comment(carl, article, "Later reply.", parent_id=root.id)
        rita = make_user("rita")
        moderation.report_comment(rita, later, "spam")
        client = client_as(app, rita)
        url = f"/comments/{root.id}/replies?after={first.id}"
        for answer in (html(client.get(url)), client.get(url, headers=JSON).get_json()["html"]):
            links, marks = report_controls(answer, later.id)
            assert not links and [m.text for m in marks] == ["Reported"]
