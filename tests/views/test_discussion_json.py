"""The answers the page's script gets: posting, replying and editing with
``Accept: application/json`` return the comment's ``<li>`` rendered by the page's own
macros (or the errors, tied to their field), and ``POST /comments/preview`` renders a draft
through the sanitizer. CSRF is required exactly as for the plain forms."""

import lxml.html
import pytest
from sqlalchemy import func, select

from forum.extensions import db, limiter
from forum.models import Comment, Role
from forum.services import sanctions, threads
from tests.conftest import csrf_token_from, login, make_article, make_user

JSON = {"Accept": "application/json"}


@pytest.fixture
def people(app):
    writer = make_user("writer", role=Role.AUTHOR)
    return make_article(writer, slug="the-article"), make_user("alice"), writer


def comment_count() -> int:
    db.session.rollback()
    return db.session.execute(select(func.count(Comment.id))).scalar_one()


def fragment(html: str):
    [li] = lxml.html.fragments_fromstring(html)
    return li


def css(node, selector: str) -> list:
    """Elements under ``node`` with all the classes in ``selector`` (".a .b" = descendant)."""
    path = "."
    for part in selector.split():
        tag, *classes = part.split(".")
        conditions = "".join(
            f"[contains(concat(' ', normalize-space(@class), ' '), ' {c} ')]" for c in classes
        )
        path += f"//{tag or '*'}{conditions}"
    return node.xpath(path)


def test_posting_answers_with_the_rendered_comment(client, people):
    article, alice, _ = people
    login(client, alice)
    response = client.post(
        f"/articles/{article.slug}/comments", data={"body": "Hello **there**."}, headers=JSON
    )
    assert response.status_code == 201
    answer = response.get_json()
    comment = db.session.get(Comment, answer["id"])
    assert comment.body_md == "Hello **there**."
    assert answer["parent_id"] is None
    assert answer["level"] == 1
    assert answer["url"].endswith(f"/articles/the-article#c{comment.id}")
    assert answer["message"] == "Your comment is posted."
    li = fragment(answer["html"])
    assert li.tag == "li"
    assert li.get("id") == f"c{comment.id}"
    assert "is-text" in li.get("class").split()
    assert "is-mine" in li.find("article").get("class").split()
    assert li.get("data-created")
    assert css(li, ".comment-body strong")[0].text == "there"
    assert css(li, ".action-edit")  # the author may edit it


def test_the_fragment_is_the_comment_as_the_page_shows_it(client, people):
    article, alice, _ = people
    login(client, alice)
    answer = client.post(
        f"/articles/{article.slug}/comments", data={"body": "Same either way."}, headers=JSON
    ).get_json()
    page = lxml.html.fromstring(client.get(f"/articles/{article.slug}").get_data(as_text=True))
    on_page = page.get_element_by_id(f"c{answer['id']}")
    alone = fragment(answer["html"])
    assert markup(alone.find("article")) == markup(on_page.find("article"))
    assert alone.attrib == on_page.attrib


def markup(element) -> bytes:
    """An element's HTML with CSRF tokens blanked: a token carries the second it was made,
    so two renders a second apart differ there and only there."""
    for token in element.xpath(".//input[@name='csrf_token']"):
        token.set("value", "")
    return lxml.html.tostring(element)


def test_a_reply_says_where_it_goes(client, people):
    article, alice, writer = people
    parent = threads.post_comment(writer, article, "A question?")
    login(client, alice)
    response = client.post(
        f"/comments/{parent.id}/reply", data={"body": "An answer."}, headers=JSON
    )
    assert response.status_code == 201
    answer = response.get_json()
    assert answer["parent_id"] == parent.id
    assert answer["level"] == 2
    assert "level-2" in fragment(answer["html"]).get("class").split()


def test_a_reply_past_the_display_cap_names_whom_it_answers(app_factory):
    app = app_factory(MAX_DISPLAY_DEPTH=2)
    with app.app_context():
        article = make_article(slug="deep")
        alice = make_user("alice")
        bob = make_user("bob")
        top = threads.post_comment(alice, article, "Top.")
        second = threads.post_comment(bob, article, "Second.", parent_id=top.id)
        client = app.test_client()
        login(client, alice)
        answer = client.post(
            f"/comments/{second.id}/reply", data={"body": "Third."}, headers=JSON
        ).get_json()
    assert answer["level"] == 2
    li = fragment(answer["html"])
    assert "level-2" in li.get("class").split()
    assert css(li, ".replying-to a")[0].text == "@bob"


def test_a_refused_post_answers_with_errors_by_field(client, people):
    article, alice, _ = people
    login(client, alice)
    response = client.post(f"/articles/{article.slug}/comments", data={"body": "   "}, headers=JSON)
    assert response.status_code == 400
    assert response.get_json() == {"errors": {"body": ["Write something before posting."]}}
    too_long = client.post(
        f"/articles/{article.slug}/comments", data={"body": "x" * 10_001}, headers=JSON
    )
    assert too_long.status_code == 400
    assert "at most 10,000 characters" in too_long.get_json()["errors"]["body"][0]
    assert comment_count() == 0


def test_a_locked_discussion_answers_403_with_the_reason(client, people):
    article, alice, _ = people
    sanctions.lock_article(make_user("mod", role=Role.MODERATOR), article, "Cooling off.")
    login(client, alice)
    response = client.post(
        f"/articles/{article.slug}/comments", data={"body": "Let me in."}, headers=JSON
    )
    assert response.status_code == 403
    assert response.get_json() == {"errors": {"form": ["This discussion is locked: Cooling off."]}}
    assert comment_count() == 0


def test_editing_answers_with_the_new_text(client, people):
    article, alice, _ = people
    comment = threads.post_comment(alice, article, "Befor.")
    login(client, alice)
    response = client.post(f"/comments/{comment.id}/edit", data={"body": "Before."}, headers=JSON)
    assert response.status_code == 200
    answer = response.get_json()
    assert answer["id"] == comment.id
    li = fragment(answer["html"])
    assert css(li, ".comment-body p")[0].text == "Before."
    assert css(li, "a.edited")
    assert answer["message"] == "Your changes are saved."


def test_editing_someone_elses_comment_is_refused_in_json_too(client, people):
    article, alice, writer = people
    comment = threads.post_comment(writer, article, "Mine.")
    login(client, alice)
    response = client.post(f"/comments/{comment.id}/edit", data={"body": "Ha."}, headers=JSON)
    assert response.status_code == 403
    assert response.is_json
    db.session.refresh(comment)
    assert comment.body_md == "Mine."


def test_an_empty_edit_answers_with_the_field_error(client, people):
    article, alice, _ = people
    comment = threads.post_comment(alice, article, "Text.")
    login(client, alice)
    response = client.post(f"/comments/{comment.id}/edit", data={"body": ""}, headers=JSON)
    assert response.status_code == 400
    assert response.get_json() == {"errors": {"body": ["Write something before posting."]}}


def test_without_json_the_plain_forms_still_redirect(client, people):
    article, alice, _ = people
    login(client, alice)
    response = client.post(f"/articles/{article.slug}/comments", data={"body": "Plain."})
    assert response.status_code == 302
    assert "#c" in response.headers["Location"]


# --- the live preview --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("Some **bold**.", "<p>Some <strong>bold</strong>.</p>"),
        ("<script>alert(1)</script>", "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>"),
        ("[x](javascript:alert(1))", "<p>[x](javascript:alert(1))</p>"),
        ("", ""),
    ],
)
def test_the_preview_renders_through_the_sanitizer(client, people, body, expected):
    _, alice, _ = people
    login(client, alice)
    response = client.post("/comments/preview", data={"body": body}, headers=JSON)
    assert response.status_code == 200
    assert response.get_json()["html"].strip() == expected


def test_the_preview_links_mentions_like_a_posted_comment(client, people):
    article, alice, writer = people
    login(client, alice)
    html = client.post(
        "/comments/preview", data={"body": f"Hi @{writer.username}"}, headers=JSON
    ).get_json()["html"]
    posted = threads.post_comment(alice, article, f"Hi @{writer.username}")
    assert html == posted.body_html


def test_the_preview_is_capped_like_a_comment_and_changes_nothing(client, people):
    _, alice, _ = people
    login(client, alice)
    response = client.post("/comments/preview", data={"body": "x" * 10_001}, headers=JSON)
    assert response.status_code == 400
    assert "at most 10,000 characters" in response.get_json()["errors"]["body"][0]
    assert comment_count() == 0


def test_the_preview_needs_a_login(client, people):
    response = client.post("/comments/preview", data={"body": "Hi"}, headers=JSON)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


# --- CSRF ----------------------------------------------------------------------------------


@pytest.fixture
def csrf_client(app_factory):
    app = app_factory(WTF_CSRF_ENABLED=True)
    client = app.test_client()
    with app.app_context():
        make_article(slug="guarded")
        login(client, make_user("alice"))
    return app, client, "guarded"


def test_json_posts_and_previews_need_the_csrf_token(csrf_client):
    app, client, slug = csrf_client
    for path in [f"/articles/{slug}/comments", "/comments/preview"]:
        response = client.post(path, data={"body": "No token."}, headers=JSON)
        assert response.status_code == 400, path
        assert response.is_json
    with app.app_context():
        assert comment_count() == 0
    token = csrf_token_from(client.get(f"/articles/{slug}").get_data(as_text=True))
    preview = client.post(
        "/comments/preview", data={"body": "*ok*", "csrf_token": token}, headers=JSON
    )
    assert preview.status_code == 200
    posted = client.post(
        f"/articles/{slug}/comments",
        data={"body": "With token.", "csrf_token": token},
        headers=JSON,
    )
    assert posted.status_code == 201


def test_a_rate_limited_json_post_answers_429_in_json(app_factory):
    app = app_factory(
        RATELIMIT_ENABLED=True,
        RATELIMIT_STORAGE_URI="memory://",
        RATELIMIT_POST="1 per minute",
        RATELIMIT_POST_NEW_ACCOUNT="1 per minute",
    )
    with app.app_context():
        limiter.reset()
        make_article(slug="busy")
        client = app.test_client()
        login(client, make_user("alice"))
        first = client.post("/articles/busy/comments", data={"body": "One."}, headers=JSON)
        second = client.post("/articles/busy/comments", data={"body": "Two."}, headers=JSON)
        limiter.reset()
    assert first.status_code == 201
    assert second.status_code == 429
    assert second.is_json
    assert second.get_json()["message"].startswith("You can post again in")
    assert "Retry-After" in second.headers
