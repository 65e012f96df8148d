"""The discussion through HTTP: the section under an article, posting and replying, preview,
bad input, editing and deleting, permalinks, history, locks, suspensions, sorts and pages,
and every hostile input of the XSS list posted through the real form."""

import re
import unicodedata
from datetime import timedelta
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlsplit

import lxml.html
import pytest
from sqlalchemy import func, select

from forum.extensions import db
from forum.models import Comment, CommentRevision, CommentStatus, Role, utcnow
from forum.services import threads
from forum.services.text import is_blank, strip_control_characters
from forum.templating import short_time
from tests.conftest import PASSWORD, login, make_article, make_user

# --- helpers -----------------------------------------------------------------------------


@pytest.fixture
def people(app):
    """An article by its author, two readers and a moderator."""
    writer = make_user("writer", role=Role.AUTHOR, display_name="Wendy Writer")
    return (
        make_article(writer, slug="the-article", title="The Article"),
        make_user("alice", display_name="Alice Liddell"),
        make_user("bob"),
        make_user("moderator", role=Role.MODERATOR),
    )


def post(author, article, body="A comment.", parent=None, *, ago=None):
    """A comment made through the service (the thing under test here is HTTP)."""
    comment = threads.post_comment(author, article, body, parent_id=parent.id if parent else None)
    if ago is not None:
        comment.created_at = utcnow() - ago
        db.session.commit()
    return comment


def http_post(client, article, body, parent=None, **extra):
    data = {"body": body, "parent_id": str(parent.id) if parent else "", **extra}
    return client.post(f"/articles/{article.slug}/comments", data=data)


def stored_comments() -> list[Comment]:
    """What the requests committed (this session's own unsaved state discarded)."""
    db.session.rollback()
    return list(db.session.execute(select(Comment).order_by(Comment.id)).scalars())


def comment_rows() -> int:
    db.session.rollback()
    return db.session.execute(select(func.count(Comment.id))).scalar_one()


def doc_of(response) -> lxml.html.HtmlElement:
    return lxml.html.fromstring(response.get_data(as_text=True))


def element(doc, comment) -> lxml.html.HtmlElement:
    return doc.get_element_by_id(f"c{comment.id if hasattr(comment, 'id') else comment}")


def card(doc, comment) -> lxml.html.HtmlElement:
    """The comment's own card: its element minus the replies nested inside it."""
    return element(doc, comment).find("article")


def has_id(doc, comment) -> bool:
    return bool(doc.xpath(f'//*[@id="c{comment.id}"]'))


def draft_in(doc) -> str:
    """The text in the comment form's textarea, as a browser reads it (HTML drops the one
    newline that may follow ``<textarea>``; lxml keeps it)."""
    [found] = doc.xpath('//textarea[@name="body"]')
    text = found.text or ""
    return text.removeprefix("\r\n") if text.startswith("\r\n") else text.removeprefix("\n")


def new_id_from(response, article) -> int:
    """The id of the comment a successful post landed on."""
    assert response.status_code in (302, 303), response.get_data(as_text=True)[:500]
    location = response.headers["Location"]
    match = re.fullmatch(rf"/articles/{article.slug}(?:\?[^#]*)?#c(\d+)", location)
    assert match, location
    return int(match.group(1))


def iso(moment) -> str:
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


# --- the section -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("visible", "heading"),
    [(0, "Discussion (0 comments)"), (1, "Discussion (1 comment)"), (3, "Discussion (3 comments)")],
)
def test_article_page_has_a_discussion_section_with_its_count(client, people, visible, heading):
    article, alice, bob, _ = people
    for i in range(visible):
        post(alice if i % 2 else bob, article, f"comment {i}")
    threads.delete_comment(alice, post(alice, article, "withdrawn"))

    response = client.get(f"/articles/{article.slug}")
    assert response.status_code == 200
    [section] = doc_of(response).xpath('//section[@id="discussion"]')
    assert section.xpath("normalize-space(.//h2)") == heading


def test_anonymous_readers_see_the_thread_and_a_way_to_log_in_and_back(client, people):
    article, alice, bob, _ = people
    top = post(alice, article, "Readable by all")
    post(bob, article, "Me too", top)

    response = client.get(f"/articles/{article.slug}")
    doc = doc_of(response)
    assert "Readable by all" in card(doc, top).text_content()
    assert not doc.xpath('//textarea[@name="body"]')  # no form for anonymous readers
    [link] = doc.xpath('//section[@id="discussion"]//a[.="Log in to join the discussion"]')
    href = urlsplit(link.get("href"))
    assert href.path == "/login"
    [next_url] = parse_qs(href.query)["next"]
    assert urlsplit(next_url).path == f"/articles/{article.slug}"

    logged_in = client.post(
        link.get("href"), data={"username": "alice", "password": PASSWORD, "next": next_url}
    )
    assert logged_in.status_code == 302
    assert logged_in.headers["Location"] == next_url
    page = doc_of(client.get(logged_in.headers["Location"]))
    assert draft_in(page) == ""  # back on the article, now with the form


def test_replies_are_rendered_inside_their_parents_element(client, people):
    article, alice, bob, _ = people
    first = post(alice, article, "first thread")
    reply = post(bob, article, "reply", first)
    reply_to_reply = post(alice, article, "reply to the reply", reply)
    second = post(bob, article, "second thread")

    doc = doc_of(client.get(f"/articles/{article.slug}"))
    for comment in (first, reply, reply_to_reply, second):
        assert element(doc, comment).get("id") == f"c{comment.id}"

    def ancestors(comment):
        return set(element(doc, comment).iterancestors())

    assert element(doc, first) in ancestors(reply)
    assert {element(doc, first), element(doc, reply)} <= ancestors(reply_to_reply)
    assert element(doc, first) not in ancestors(second)
    assert element(doc, second) not in ancestors(reply)
    # Each card shows its own words only; replies sit beside it inside the same element.
    assert "reply to the reply" not in card(doc, reply).text_content()
    assert "reply to the reply" in element(doc, reply).text_content()


def test_comment_shows_author_link_and_machine_readable_time(client, people):
    article, alice, _, _ = people
    comment = post(alice, article, "Hello", ago=timedelta(hours=3))

    doc = doc_of(client.get(f"/articles/{article.slug}"))
    own = card(doc, comment)
    [author] = own.xpath('.//a[contains(@class, "comment-author")]')
    assert author.get("href") == "/users/alice"
    assert author.text_content() == "Alice Liddell"
    [when] = own.xpath(".//time")
    assert when.get("datetime") == iso(comment.created_at)
    # A fixed date (the page is cached for every reader); the script says "3 hours ago".
    assert when.text_content() == short_time(comment.created_at)
    assert doc.xpath(f'//a[@href="/comments/{comment.id}"]')  # permalink


def test_edited_marker_appears_after_an_edit(client, people):
    article, alice, _, _ = people
    comment = post(alice, article, "Frist")
    assert not card(doc_of(client.get(f"/articles/{article.slug}")), comment).xpath(
        './/*[contains(@class, "edited")]'
    )

    login(client, alice)
    response = client.post(f"/comments/{comment.id}/edit", data={"body": "First"})
    assert response.status_code == 302
    assert response.headers["Location"] == f"/articles/{article.slug}#c{comment.id}"

    own = card(doc_of(client.get(f"/articles/{article.slug}")), comment)
    [marker] = own.xpath('.//*[contains(@class, "edited")]')
    assert marker.text_content() == "edited"
    assert marker.get("href") == f"/comments/{comment.id}/history"
    assert "First" in own.text_content()


def badges(doc, comment) -> list[str]:
    return [b.text_content() for b in card(doc, comment).xpath('.//*[contains(@class, "badge")]')]


def test_author_and_moderator_badges(client, people):
    article, alice, _, mo = people
    writer = article.author
    by_writer = post(writer, article, "I wrote this")
    by_mod = post(mo, article, "Keep it civil", by_writer)
    by_reader = post(alice, article, "Just reading", by_mod)

    doc = doc_of(client.get(f"/articles/{article.slug}"))
    assert badges(doc, by_writer) == ["Author"]
    assert badges(doc, by_mod) == ["Moderator"]
    assert badges(doc, by_reader) == []

    # The author of *another* article is only a reader here.
    elsewhere = make_article(writer, slug="elsewhere")
    visiting = post(writer, elsewhere, "hello from next door")
    other_doc = doc_of(client.get(f"/articles/{elsewhere.slug}"))
    assert badges(other_doc, visiting) == ["Author"]
    guest = post(make_user("guestwriter", role=Role.AUTHOR), elsewhere, "guest")
    assert badges(doc_of(client.get(f"/articles/{elsewhere.slug}")), guest) == []


# --- posting -----------------------------------------------------------------------------


def test_posting_a_comment_lands_on_its_anchor(client, people):
    article, alice, _, _ = people
    login(client, alice)
    response = http_post(client, article, "Hello *there*")
    new_id = new_id_from(response, article)
    assert response.headers["Location"] == f"/articles/{article.slug}#c{new_id}"

    [stored] = stored_comments()
    assert (stored.id, stored.author_id, stored.parent_id) == (new_id, alice.id, None)
    assert stored.body_md == "Hello *there*"
    assert stored.body_html == "<p>Hello <em>there</em></p>\n"
    page = doc_of(client.get(response.headers["Location"]))
    assert card(page, new_id).xpath(".//em")[0].text == "there"


def test_posting_a_reply_through_the_article_form(client, people):
    article, alice, bob, _ = people
    parent = post(bob, article, "Question?")
    login(client, alice)
    new_id = new_id_from(http_post(client, article, "Answer.", parent), article)
    reply = db.session.get(Comment, new_id)
    assert (reply.parent_id, reply.root_id, reply.depth) == (parent.id, parent.id, 1)


def test_reply_page_shows_a_form_and_posts_the_reply(client, people):
    article, alice, bob, _ = people
    parent = post(bob, article, "Question?")
    login(client, alice)

    page = client.get(f"/comments/{parent.id}/reply")
    assert page.status_code == 200
    doc = doc_of(page)
    [form] = doc.xpath(f'//form[@action="/comments/{parent.id}/reply"]')
    assert form.xpath('.//textarea[@name="body"]')
    assert "Question?" in doc.text_content()

    response = client.post(f"/comments/{parent.id}/reply", data={"body": "Answer."})
    new_id = new_id_from(response, article)
    reply = db.session.get(Comment, new_id)
    assert (reply.parent_id, reply.body_md) == (parent.id, "Answer.")


def test_anonymous_posts_go_to_login_and_write_nothing(client, people):
    article, _, bob, _ = people
    parent = post(bob, article, "Question?")
    response = http_post(client, article, "drive-by")
    # The form again with its text and a way to log in (a session that ended looks the same).
    assert response.status_code == 401
    assert 'class="login-again"' in response.get_data(as_text=True)
    assert "drive-by" in response.get_data(as_text=True)
    assert client.get(f"/comments/{parent.id}/reply").status_code == 302
    assert comment_rows() == 1


def test_posting_to_a_missing_article_is_404(client, people):
    _, alice, _, _ = people
    login(client, alice)
    response = client.post("/articles/no-such-article/comments", data={"body": "hi"})
    assert response.status_code == 404
    assert comment_rows() == 0


def test_preview_renders_sanitized_html_and_writes_nothing(client, people):
    article, alice, _, _ = people
    login(client, alice)
    draft = "**bold** <script>alert(1)</script> [x](javascript:alert(1))"
    response = http_post(client, article, draft, preview="1")
    assert response.status_code == 200
    doc = doc_of(response)
    [preview] = doc.xpath('//section[contains(@class, "preview")]')
    body = preview.xpath('.//div[contains(@class, "comment-body")]')[0]
    assert body.xpath(".//strong")[0].text == "bold"
    assert "<script>alert(1)</script>" in body.text_content()  # shown as text
    assert not doc.xpath("//section[@id='discussion']//script")
    assert not body.xpath(".//a")
    assert draft_in(doc) == draft
    assert comment_rows() == 0


def test_preview_on_the_reply_page(client, people):
    article, alice, bob, _ = people
    parent = post(bob, article, "Question?")
    login(client, alice)
    response = client.post(f"/comments/{parent.id}/reply", data={"body": "*maybe*", "preview": "1"})
    assert response.status_code == 200
    doc = doc_of(response)
    assert doc.xpath('//section[contains(@class, "preview")]//em')[0].text == "maybe"
    assert draft_in(doc) == "*maybe*"
    assert comment_rows() == 1


# --- bad input ---------------------------------------------------------------------------

BAD_BODIES = {
    "empty": ("", "Write something"),
    "whitespace": ("   \n\t \u00a0 ", "Write something"),
    "too long": ("x" * 10_001, "at most 10,000 characters"),
}


@pytest.mark.parametrize(("body", "message"), list(BAD_BODIES.values()), ids=list(BAD_BODIES))
@pytest.mark.parametrize("route", ["article form", "reply page"])
def test_bad_bodies_get_400_with_the_draft_kept(client, people, body, message, route):
    article, alice, bob, _ = people
    parent = post(bob, article, "Question?")
    login(client, alice)
    if route == "article form":
        response = http_post(client, article, body)
    else:
        response = client.post(f"/comments/{parent.id}/reply", data={"body": body})

    assert response.status_code == 400
    doc = doc_of(response)
    assert message in doc.xpath('string(//*[contains(@class, "error")])')
    if not is_blank(body):
        assert draft_in(doc) == body
    assert comment_rows() == 1


def test_parent_from_another_article_gets_400_with_the_draft_kept(client, people):
    article, alice, bob, _ = people
    elsewhere = post(bob, make_article(slug="elsewhere"), "over there")
    login(client, alice)
    response = http_post(client, article, "my careful reply", elsewhere)
    assert response.status_code == 400
    doc = doc_of(response)
    assert "another article" in doc.text_content()
    assert draft_in(doc) == "my careful reply"
    assert comment_rows() == 1


@pytest.mark.parametrize("parent_id", ["abc", "12abc", "\u00b2", "-1", "1.0"])
def test_parent_id_that_is_not_a_number_gets_400(client, people, parent_id):
    article, alice, _, _ = people
    login(client, alice)
    response = client.post(
        f"/articles/{article.slug}/comments",
        data={"body": "my careful reply", "parent_id": parent_id},
    )
    assert response.status_code == 400
    assert draft_in(doc_of(response)) == "my careful reply"
    assert comment_rows() == 0


def test_nonexistent_parent_is_404(client, people):
    article, alice, _, _ = people
    login(client, alice)
    assert http_post(client, article, "reply", parent=Comment(id=999_999)).status_code == 404
    assert client.get("/comments/999999/reply").status_code == 404
    assert client.post("/comments/999999/reply", data={"body": "reply"}).status_code == 404
    assert comment_rows() == 0


def test_reply_to_a_deleted_comment_is_refused(client, people):
    article, alice, bob, _ = people
    parent = post(bob, article, "soon gone")
    threads.delete_comment(bob, parent)
    login(client, alice)
    assert http_post(client, article, "reply", parent).status_code in (400, 404)
    assert client.get(f"/comments/{parent.id}/reply").status_code in (400, 404)
    response = client.post(f"/comments/{parent.id}/reply", data={"body": "reply"})
    assert response.status_code in (400, 404)
    assert comment_rows() == 1


# --- editing and deleting ----------------------------------------------------------------


def test_edit_within_the_window_saves_a_revision(client, people):
    article, alice, _, _ = people
    comment = post(alice, article, "old words", ago=timedelta(minutes=59))
    login(client, alice)
    form = client.get(f"/comments/{comment.id}/edit")
    assert form.status_code == 200
    assert draft_in(doc_of(form)) == "old words"

    response = client.post(f"/comments/{comment.id}/edit", data={"body": "new words"})
    assert response.status_code == 302
    db.session.rollback()
    assert comment.body_md == "new words"
    [revision] = db.session.execute(select(CommentRevision)).scalars().all()
    assert revision.body_md == "old words"


def test_edit_after_the_window_is_403(client, people):
    article, alice, _, _ = people
    comment = post(alice, article, "old words", ago=timedelta(minutes=61))
    login(client, alice)
    # The page and the save give the service's one refusal (the page had its own wording).
    for response in (
        client.get(f"/comments/{comment.id}/edit"),
        client.post(f"/comments/{comment.id}/edit", data={"body": "new words"}),
        client.post(f"/comments/{comment.id}/edit", data={"body": "x", "preview": "Preview"}),
    ):
        assert response.status_code == 403
        assert "60 minutes after posting; this one can no longer be changed" in (
            response.get_data(as_text=True)
        )
    db.session.rollback()
    assert (comment.body_md, comment.edited_at) == ("old words", None)
    assert not card(doc_of(client.get(f"/articles/{article.slug}")), comment).xpath(
        './/a[contains(@class, "action-edit")]'
    )


def test_editing_someone_elses_comment_is_403(client, people):
    article, alice, bob, _ = people
    comment = post(alice, article, "alice's words")
    login(client, bob)
    assert client.get(f"/comments/{comment.id}/edit").status_code == 403
    response = client.post(f"/comments/{comment.id}/edit", data={"body": "bob's words"})
    assert response.status_code == 403
    db.session.rollback()
    assert comment.body_md == "alice's words"
    assert db.session.execute(select(func.count(CommentRevision.id))).scalar_one() == 0


def test_deleting_someone_elses_comment_is_403(client, people):
    article, alice, bob, _ = people
    comment = post(alice, article, "alice's words")
    login(client, bob)
    assert client.post(f"/comments/{comment.id}/delete").status_code == 403
    db.session.rollback()
    assert comment.status is CommentStatus.VISIBLE
    assert not card(doc_of(client.get(f"/articles/{article.slug}")), comment).xpath(
        './/form[contains(@class, "action-delete")]'
    )


def test_delete_with_replies_leaves_a_placeholder_and_without_removes(client, people):
    article, alice, bob, _ = people
    with_reply = post(alice, article, "regrettable words")
    reply = post(bob, article, "a reply", with_reply)
    alone = post(alice, article, "lonely words")
    login(client, alice)
    for comment in (with_reply, alone):
        response = client.post(f"/comments/{comment.id}/delete")
        assert response.status_code == 302
        assert response.headers["Location"] == f"/articles/{article.slug}#discussion"

    doc = doc_of(client.get(f"/articles/{article.slug}"))
    placeholder = card(doc, with_reply)
    assert placeholder.text_content().strip() == "[deleted]"
    assert "regrettable" not in doc.text_content()
    assert element(doc, with_reply) in set(element(doc, reply).iterancestors())
    assert not has_id(doc, alone)
    assert "lonely words" not in doc.text_content()
    assert doc.xpath('normalize-space(//section[@id="discussion"]//h2)') == (
        "Discussion (1 comment)"
    )
    assert len(stored_comments()) == 3


# --- permalinks and history --------------------------------------------------------------


@pytest.fixture
def paged(app_factory):
    """An app showing two threads a page, and five threads, oldest first, with a reply each."""
    app = app_factory(THREADS_PER_PAGE=2)
    with app.app_context():
        writer = make_user("writer", role=Role.AUTHOR)
        article = make_article(writer, slug="paged")
        alice, bob = make_user("alice"), make_user("bob")
        made = []
        for i in range(5):
            root = post(alice, article, f"thread {i}", ago=timedelta(hours=10 - i))
            made.append((root, post(bob, article, f"reply in thread {i}", root)))
        yield app, app.test_client(), article, made, alice


def test_a_permalink_with_an_unknown_sort_is_a_400_like_the_page(paged):
    _, client, _, made, _ = paged
    response = client.get(f"/comments/{made[0][1].id}?sort=best")
    assert response.status_code == 400
    assert "Unknown sort" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("thread", "sort", "expected_query"),
    [
        (1, None, ""),
        (3, None, "?page=2"),
        (4, "oldest", "?page=3"),
        (1, "newest", "?sort=newest&page=2"),
        (4, "newest", "?sort=newest"),
        (0, "newest", "?sort=newest&page=3"),
        (4, "top", "?sort=top&page=3"),  # no votes yet: ties go oldest first
    ],
)
def test_permalink_redirects_to_the_right_page_of_the_right_sort(
    paged, thread, sort, expected_query
):
    _, client, article, made, _ = paged
    reply = made[thread][1]
    url = f"/comments/{reply.id}" + (f"?sort={sort}" if sort else "")
    response = client.get(url)
    assert response.status_code == 302
    target = f"/articles/{article.slug}{expected_query}#c{reply.id}"
    assert response.headers["Location"] == target

    doc = doc_of(client.get(target))
    assert has_id(doc, reply)
    assert made[thread][0].id in thread_ids_on(doc)


def test_posting_lands_on_the_page_holding_the_new_thread(paged):
    _, client, article, _, alice = paged
    login(client, alice)
    response = http_post(client, article, "sixth thread")
    new_id = new_id_from(response, article)
    assert response.headers["Location"] == f"/articles/{article.slug}?page=3#c{new_id}"


def test_permalink_of_a_missing_or_withdrawn_comment_is_404(client, people):
    article, alice, _, _ = people
    gone = post(alice, article, "gone")
    threads.delete_comment(alice, gone)
    assert client.get(f"/comments/{gone.id}").status_code == 404
    assert client.get("/comments/999999").status_code == 404


def test_history_lists_revisions_for_anyone_who_can_see_the_comment(client, people):
    article, alice, bob, _ = people
    comment = post(alice, article, "version one")
    start = comment.created_at
    threads.edit_comment(alice, comment, "version two", now=start + timedelta(minutes=1))
    threads.edit_comment(alice, comment, "version **three**", now=start + timedelta(minutes=2))

    for reader in (None, bob):
        if reader is not None:
            login(client, reader)
        response = client.get(f"/comments/{comment.id}/history")
        assert response.status_code == 200
        doc = doc_of(response)
        texts = [li.text_content() for li in doc.xpath('//ol[@class="revisions"]/li')]
        assert len(texts) == 3
        assert "version three" in texts[0]
        assert "version two" in texts[1]
        assert "version one" in texts[2]


def test_history_of_an_unedited_comment_says_so(client, people):
    article, alice, _, _ = people
    comment = post(alice, article, "as written")
    response = client.get(f"/comments/{comment.id}/history")
    assert response.status_code == 200
    assert "never been edited" in response.get_data(as_text=True)


def test_history_is_closed_to_those_who_cannot_see_the_comment(client, people):
    article, alice, bob, mo = people
    hidden = post(alice, article, "hidden words")
    hidden.status = CommentStatus.HIDDEN
    withdrawn = post(alice, article, "withdrawn words")
    withdrawn.status = CommentStatus.DELETED
    db.session.commit()

    assert client.get(f"/comments/{hidden.id}/history").status_code == 404
    assert client.get(f"/comments/{withdrawn.id}/history").status_code == 404
    login(client, bob)
    assert client.get(f"/comments/{hidden.id}/history").status_code == 404
    for allowed in (alice, mo):
        login(client, allowed)
        assert client.get(f"/comments/{hidden.id}/history").status_code == 200


# --- locked discussions and suspended accounts -------------------------------------------


def test_locked_discussion_shows_a_notice_instead_of_forms_and_refuses_posts(client, people):
    article, alice, bob, _ = people
    parent = post(bob, article, "before the lock")
    article.discussion_locked = True
    article.lock_reason = "Cooling off."
    db.session.commit()
    login(client, alice)

    doc = doc_of(client.get(f"/articles/{article.slug}"))
    [notice] = doc.xpath('//*[contains(@class, "notice-locked")]')
    assert "This discussion is locked." in notice.text_content()
    assert "Cooling off." in notice.text_content()
    assert not doc.xpath('//textarea[@name="body"]')
    assert not doc.xpath('//a[contains(@class, "action-reply")]')

    assert http_post(client, article, "new").status_code == 403
    assert http_post(client, article, "reply", parent).status_code == 403
    assert client.get(f"/comments/{parent.id}/reply").status_code == 403
    assert client.post(f"/comments/{parent.id}/reply", data={"body": "r"}).status_code == 403
    assert comment_rows() == 1


def test_suspended_account_can_read_but_posting_is_403_with_the_end_date(client, people):
    article, alice, bob, _ = people
    parent = post(bob, article, "a question")
    until = utcnow() + timedelta(days=3)
    alice.suspended_until = until
    db.session.commit()
    login(client, alice)
    end_date = re.compile(rf"0?{until.day} {until:%B %Y}")

    page = client.get(f"/articles/{article.slug}")
    assert page.status_code == 200
    doc = doc_of(page)
    assert "a question" in doc.text_content()
    assert not doc.xpath('//textarea[@name="body"]')
    assert end_date.search(doc.xpath('string(//section[@id="discussion"])'))

    for response in (
        http_post(client, article, "let me speak"),
        client.post(f"/comments/{parent.id}/reply", data={"body": "let me speak"}),
    ):
        assert response.status_code == 403
        assert end_date.search(doc_of(response).text_content())
    assert comment_rows() == 1


# --- sorts and pages ---------------------------------------------------------------------


def thread_ids_on(doc) -> list[int]:
    return [int(li.get("data-comment-id")) for li in doc.xpath('//ol[@class="threads"]/li')]


def test_sort_and_page_links(paged):
    _, client, article, made, _ = paged
    roots = [root.id for root, _ in made]

    doc = doc_of(client.get(f"/articles/{article.slug}"))
    assert thread_ids_on(doc) == roots[0:2]
    sort_links = doc.xpath('//nav[@aria-label="Sort comments"]//a/@href')
    assert {parse_qs(urlsplit(h).query)["sort"][0] for h in sort_links} == {"newest", "top"}
    pager = doc.xpath('//nav[contains(@class, "pager")]')[0]
    pages = {parse_qs(urlsplit(h).query)["page"][0] for h in pager.xpath(".//a/@href")}
    assert pages == {"2", "3"}
    [next_link] = pager.xpath('.//a[@rel="next"]/@href')
    assert thread_ids_on(doc_of(client.get(next_link))) == roots[2:4]

    newest = doc_of(client.get(f"/articles/{article.slug}?sort=newest&page=2"))
    assert thread_ids_on(newest) == [roots[2], roots[1]]
    for href in newest.xpath('//nav[contains(@class, "pager")]//a/@href'):
        assert parse_qs(urlsplit(href).query)["sort"] == ["newest"]
    [prev_link] = newest.xpath('//nav[contains(@class, "pager")]//a[@rel="prev"]/@href')
    assert thread_ids_on(doc_of(client.get(prev_link))) == [roots[4], roots[3]]


@pytest.mark.parametrize(
    "query",
    [
        "?page=abc",
        "?page=",
        "?page=0",
        "?page=-3",
        "?page=1e3",
        "?page=\u00b2",
        "?page=4",  # the discussion has three pages
        "?page=2147483648",  # past PostgreSQL's INTEGER
        "?page=99999999999999999999999999",
        "?page=" + "9" * 5000,  # past what int() reads
        "?sort=top&page=abc",
    ],
)
def test_a_page_that_is_not_there_is_a_404(paged, query):
    _, client, article, _, _ = paged
    assert client.get(f"/articles/{article.slug}{query}").status_code == 404


@pytest.mark.parametrize("query", ["?sort=xyz", "?sort=TOP", "?sort=xyz&page=2"])
def test_an_unknown_sort_is_a_400_naming_the_sorts(paged, query):
    _, client, article, _, _ = paged
    response = client.get(f"/articles/{article.slug}{query}")
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    assert "Unknown sort" in text and "oldest, newest, top" in text


@pytest.mark.parametrize("query", ["", "?sort=", "?page=1", "?page=3", "?sort[]=x&page[]=2"])
def test_the_default_sort_and_real_pages_are_shown(paged, query):
    _, client, article, _, _ = paged
    response = client.get(f"/articles/{article.slug}{query}")
    assert response.status_code == 200
    assert len(thread_ids_on(doc_of(response))) in (1, 2)


def test_deep_replies_render_at_the_cap_replying_to_their_parent(app_factory):
    app = app_factory(MAX_DISPLAY_DEPTH=2)
    with app.app_context():
        article = make_article(slug="deep")
        alice, bob = make_user("alice"), make_user("bob")
        comments, parent = [], None
        for i in range(4):
            parent = post((alice, bob)[i % 2], article, f"level {i}", parent)
            comments.append(parent)
        doc = doc_of(app.test_client().get("/articles/deep"))

        def nesting(comment) -> int:
            return len(element(doc, comment).xpath("ancestor::li"))

        assert [nesting(c) for c in comments] == [0, 1, 2, 2]
        assert not card(doc, comments[1]).xpath('.//*[contains(@class, "replying-to")]')
        for comment, name in ((comments[2], "@bob"), (comments[3], "@alice")):
            [note] = card(doc, comment).xpath('.//*[contains(@class, "replying-to")]')
            assert note.text_content() == f"replying to {name}"
            assert note.xpath(".//a/@href") == [f"#c{comment.parent_id}"]


def test_unicode_is_shown_exactly(client, people):
    article, alice, _, _ = people
    text = "👩\u200d👩\u200d👧 שלום مرحبا Cafe\u0301 zero\u200bwidth \u0915\u094d\u200d\u0937"
    login(client, alice)
    new_id = new_id_from(http_post(client, article, text), article)
    html = client.get(f"/articles/{article.slug}").get_data(as_text=True)
    text = unicodedata.normalize("NFC", text)  # stored in NFC; nothing else changes
    assert f"<p>{text}</p>" in html
    assert db.session.get(Comment, new_id).body_md == text


# --- hostile input through the real posting path -----------------------------------------

BODY = re.compile(
    r'<div class="comment-body prose" dir="auto">(.*?)</div>\s*<footer class="comment-actions">',
    re.S,
)
SCRIPTABLE = {"script", "iframe", "object", "embed", "svg", "math", "img", "style", "base"}


def _is_forum_avatar(tag: str, attrs: dict) -> bool:
    """The cards' own avatar pictures: the forum's addresses, never the comment's text."""
    return (
        tag == "img"
        and attrs.get("class") == "avatar"
        and re.fullmatch(
            r"/avatars/[A-Za-z0-9_-]+(\.svg|/[0-9a-f]{64}\.webp)", attrs.get("src", "")
        )
        is not None
    )


class _SectionInspector(HTMLParser):
    """Whole-section second opinion: no script-capable element and no ``on*`` attribute
    anywhere in the discussion, whatever the regex above split into bodies."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in SCRIPTABLE and not _is_forum_avatar(tag, dict(attrs)):
            self.problems.append(f"<{tag}>")
        for name, value in attrs:
            if name.startswith("on"):
                self.problems.append(f"{name}= on <{tag}>")
            if name in ("href", "src", "action", "formaction") and re.match(
                r"\s*(javascript|vbscript|data):", value or "", re.I
            ):
                self.problems.append(f"{name}={value!r} on <{tag}>")


@pytest.mark.parametrize("sanitizer", ["bleach", "nh3"])
def test_every_xss_vector_posted_through_http_is_stored_and_shown_safely(app_factory, sanitizer):
    checks = pytest.importorskip("tests.sanitizer_checks")
    vectors = checks.load_vectors()
    assert len(vectors) >= 150
    app = app_factory(SANITIZER=sanitizer, THREADS_PER_PAGE=len(vectors) + 1)
    with app.app_context():
        article = make_article(slug="hostile")
        poster = make_user("mallory")
        client = app.test_client()
        login(client, poster)

        posted: dict[int, str] = {}
        for vector in vectors:
            response = http_post(client, article, vector)
            # Only inputs that are blank once cleaned, or hold a NUL (refused at the door).
            if response.status_code == 400:
                assert "\x00" in vector or is_blank(strip_control_characters(vector)), repr(vector)
                continue
            posted[new_id_from(response, article)] = vector

        stored = stored_comments()
        assert [c.id for c in stored] == list(posted)
        for comment in stored:
            assert comment.body_md == strip_control_characters(posted[comment.id])
            checks.assert_html_is_safe(comment.body_html)

        page = client.get(f"/articles/{article.slug}").get_data(as_text=True)
        section = page[page.index('<section id="discussion"') : page.rindex("</section>")]
        shown = BODY.findall(section)
        assert shown == [c.body_html for c in stored]  # served exactly as stored
        for fragment in shown:
            checks.assert_html_is_safe(fragment)
        inspector = _SectionInspector()
        inspector.feed(section)
        inspector.close()
        assert inspector.problems == []
