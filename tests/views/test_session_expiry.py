"""A reader whose session ends while they write loses nothing.

Posting a comment, a reply, an edit or a report (and a moderator's form) with an ended
session, or with a token that no longer matches it, answers with the form's page and the
text still in it, never a library's message; nothing is posted without a valid token. After
logging in again the reader is brought back to the form with the text (kept on the server
under a token in their session, given back once). The page's script gets the same as JSON.

The app here has CSRF switched on, and each request runs in its own context, as in
production (see test_csrf.py)."""

import re
import time

import pytest
from sqlalchemy import func, select

from forum.extensions import db
from forum.kept_forms import FORM_EXPIRED, SESSION_ENDED
from forum.models import Article, Comment, KeptDraft, Report, Role
from forum.services import accounts, threads
from tests.conftest import PASSWORD, csrf_token_from, make_article, make_user

JSON = {"Accept": "application/json"}
DRAFT = "A long careful answer, written while the session quietly ended."


@pytest.fixture
def csrf_app(app_factory):
    app = app_factory(WTF_CSRF_ENABLED=True)
    with app.app_context():
        alice = make_user("alice")
        bob = make_user("bob")
        make_user("moe", role=Role.MODERATOR)
        article = make_article(slug="an-article")
        threads.post_comment(bob, article, "Bob's comment.")
        threads.post_comment(alice, article, "Alice's first words.")
    return app


@pytest.fixture
def client(csrf_app):
    return csrf_app.test_client()


def page(response) -> str:
    return response.get_data(as_text=True)


def ids(csrf_app) -> dict[str, int]:
    with csrf_app.app_context():
        rows = db.session.execute(select(Comment.body_md, Comment.id)).all()
        return {body: comment_id for body, comment_id in rows}


def comment_count(csrf_app) -> int:
    with csrf_app.app_context():
        return db.session.execute(select(func.count(Comment.id))).scalar_one()


def log_in(client, username: str = "alice", next_url: str | None = None):
    login_page = client.get("/login")
    data = {
        "username": username,
        "password": PASSWORD,
        "csrf_token": csrf_token_from(page(login_page)),
    }
    path = "/login" + (f"?next={next_url}" if next_url else "")
    return client.post(path, data=data)


def token_of(client, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, path
    return csrf_token_from(page(response))


def end_session(client) -> None:
    """The browser dropped the session cookie (closed, or the cookie ran out)."""
    client.delete_cookie("session")


def go_idle(client) -> None:
    """The session outlived the idle limit: the next request logs it out."""
    with client.session_transaction() as session:
        session["seen_at"] = int(time.time()) - 10 * 365 * 24 * 3600


def textarea_holds(html: str, text: str) -> bool:
    return re.search(r"<textarea[^>]*>\s*" + re.escape(text), html) is not None


def follow_login_back(client, refused_page: str) -> str:
    """Log in through the refused page's "Log in" link; returns the page it lands on."""
    link = re.search(r'<a href="([^"]+)" class="login-again">Log in</a>', refused_page)
    assert link, "the refused form offers a way to log in"
    login_url = link.group(1).replace("&amp;", "&")
    assert login_url.startswith("/login?next=")
    response = log_in(client, next_url=login_url.split("next=", 1)[1])
    assert response.status_code == 302
    landing = client.get(response.headers["Location"])
    while landing.status_code == 302:  # /login/resume → the form's own page
        landing = client.get(landing.headers["Location"])
    assert landing.status_code == 200
    return page(landing)


# --- the forms, without JavaScript ---------------------------------------------------------


def comment_form(ids):
    return "/articles/an-article", "/articles/an-article/comments", {"body": DRAFT}


def reply_form(ids):
    path = "/comments/{}/reply".format(ids["Bob's comment."])
    return path, path, {"body": DRAFT}


def edit_form(ids):
    path = "/comments/{}/edit".format(ids["Alice's first words."])
    return path, path, {"body": DRAFT}


def report_form(ids):
    comment_id = ids["Bob's comment."]
    return (
        f"/comments/{comment_id}/report",
        f"/comments/{comment_id}/flag",
        {
            "category": "abuse",
            "note": DRAFT,
        },
    )


FORMS = [comment_form, reply_form, edit_form, report_form]


def kept_text_in(html: str, fields: dict) -> bool:
    if "body" in fields:
        return textarea_holds(html, fields["body"])
    return f'value="{fields["note"]}"' in html


@pytest.mark.parametrize("form", FORMS, ids=lambda f: f.__name__)
@pytest.mark.parametrize("how", [end_session, go_idle], ids=["cookie-gone", "idle-timeout"])
def test_an_ended_session_keeps_the_text_and_logging_in_brings_it_back(csrf_app, client, form, how):
    form_page, action, fields = form(ids(csrf_app))
    assert log_in(client).status_code == 302
    token = token_of(client, form_page)
    before = db_state(csrf_app)
    how(client)

    response = client.post(action, data={**fields, "csrf_token": token})

    assert response.status_code in (400, 401)
    html = page(response)
    assert str(SESSION_ENDED) in html
    assert "CSRF" not in html
    assert kept_text_in(html, fields)
    assert db_state(csrf_app) == before  # nothing posted, edited or reported

    landing = follow_login_back(client, html)
    assert kept_text_in(landing, fields), "logging in again brings the text back"
    assert "Your text is back in the form" in landing
    # Given back once: the next visit starts from a clean form.
    assert not kept_text_in(page(client.get(form_page)), fields)


def db_state(csrf_app):
    with csrf_app.app_context():
        comments = db.session.execute(select(Comment.id, Comment.body_md)).all()
        reports = db.session.execute(select(func.count(Report.id))).scalar_one()
        return sorted(comments), reports


def test_the_kept_text_goes_to_the_browser_that_wrote_it_only(csrf_app, client):
    assert log_in(client).status_code == 302
    token = token_of(client, "/articles/an-article")
    end_session(client)
    client.post("/articles/an-article/comments", data={"body": DRAFT, "csrf_token": token})
    other = csrf_app.test_client()  # another browser: no token for that draft
    assert log_in(other).status_code == 302
    assert not textarea_holds(page(other.get("/articles/an-article")), DRAFT)
    assert other.get("/login/resume").status_code == 302  # nothing to resume: home
    with csrf_app.app_context():
        stored = db.session.execute(select(KeptDraft)).scalar_one()
        assert DRAFT in stored.fields
        assert len(stored.token_hash) == 64  # only the token's hash is stored


def test_the_login_for_a_comment_never_lands_on_a_post_only_url(client):
    response = client.get("/articles/an-article/comments")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/articles/an-article#new-comment-heading")


def test_a_token_that_no_longer_matches_keeps_the_text_and_the_reader_sends_again(csrf_app, client):
    """Logged in again in another tab: this tab's token is stale, the reader isn't logged
    out. The form comes back with the text and a fresh token; sending it again works."""
    assert log_in(client).status_code == 302
    stale = token_of(client, "/articles/an-article")
    assert log_in(client).status_code == 302  # the other tab: a fresh session
    response = client.post(
        "/articles/an-article/comments", data={"body": DRAFT, "csrf_token": stale}
    )
    assert response.status_code == 400
    html = page(response)
    assert str(FORM_EXPIRED) in html
    assert textarea_holds(html, DRAFT)
    assert comment_count(csrf_app) == 2
    again = client.post(
        "/articles/an-article/comments",
        data={"body": DRAFT, "csrf_token": csrf_token_from(html)},
    )
    assert again.status_code == 302
    assert comment_count(csrf_app) == 3


def test_a_moderators_form_comes_back_to_send_again(csrf_app, client):
    assert log_in(client, "moe").status_code == 302
    token = token_of(client, "/articles/an-article")
    end_session(client)
    reason = "Off topic for a week, please."
    response = client.post(
        "/articles/an-article/lock", data={"reason": reason, "csrf_token": token}
    )
    assert response.status_code in (400, 401)
    assert str(SESSION_ENDED) in page(response)
    assert reason in page(response)
    link = re.search(r'<a href="([^"]+)" class="login-again">', page(response)).group(1)
    response = log_in(client, "moe", next_url=link.split("next=", 1)[1])
    resend = client.get(response.headers["Location"])
    assert resend.status_code == 200
    html = page(resend)
    assert reason in html
    assert 'action="/articles/an-article/lock"' in html
    sent = client.post(
        "/articles/an-article/lock", data={"reason": reason, "csrf_token": csrf_token_from(html)}
    )
    assert sent.status_code == 302
    with csrf_app.app_context():
        article = db.session.execute(select(Article)).scalar_one()
        assert article.discussion_locked


# --- the page's script: JSON ----------------------------------------------------------------


def test_the_script_gets_the_message_and_a_login_link(csrf_app, client):
    assert log_in(client).status_code == 302
    token = token_of(client, "/articles/an-article")
    end_session(client)
    response = client.post(
        "/articles/an-article/comments",
        data={"body": DRAFT, "csrf_token": token},
        headers={**JSON, "Referer": "http://localhost/articles/an-article?page=1"},
    )
    assert response.status_code == 400
    answer = response.get_json()
    assert answer["errors"] == {"form": [SESSION_ENDED]}
    assert answer["login_url"].startswith("/login?next=")
    assert "articles/an-article" in answer["login_url"]
    assert comment_count(csrf_app) == 2


def test_the_script_gets_a_fresh_token_when_still_logged_in(csrf_app, client):
    assert log_in(client).status_code == 302
    stale = token_of(client, "/articles/an-article")
    assert log_in(client).status_code == 302
    response = client.post(
        "/articles/an-article/comments", data={"body": DRAFT, "csrf_token": stale}, headers=JSON
    )
    answer = response.get_json()
    assert response.status_code == 400
    assert answer["errors"] == {"form": [FORM_EXPIRED]}
    again = client.post(
        "/articles/an-article/comments",
        data={"body": DRAFT, "csrf_token": answer["csrf_token"]},
        headers=JSON,
    )
    assert again.status_code == 201


def test_kept_drafts_are_forgotten_after_a_day(csrf_app):
    from datetime import timedelta

    from forum.models import utcnow
    from forum.services import kept_drafts

    with csrf_app.app_context():
        old = kept_drafts.keep("/x", {"body": "old"}, now=utcnow() - timedelta(days=2))
        assert kept_drafts.find(old) is None
        kept_drafts.keep("/y", {"body": "new"})  # keeping one sweeps the old away
        assert db.session.execute(select(func.count(KeptDraft.id))).scalar_one() == 1
        assert accounts.find_user("alice") is not None


def test_a_form_whose_page_is_gone_still_gives_the_text_back(csrf_app, client):
    assert log_in(client).status_code == 302
    token = token_of(client, "/articles/an-article")
    end_session(client)
    response = client.post(
        "/articles/no-such-article/comments", data={"body": DRAFT, "csrf_token": token}
    )
    assert response.status_code == 400
    assert DRAFT in page(response)
    assert str(SESSION_ENDED) in page(response)


def test_a_bare_button_keeps_nothing_and_logs_in_back_to_its_page(csrf_app, client):
    comment_id = ids(csrf_app)["Bob's comment."]
    assert log_in(client).status_code == 302
    token = token_of(client, "/articles/an-article")
    end_session(client)
    response = client.post(
        f"/comments/{comment_id}/vote",
        data={"csrf_token": token},
        headers={"Referer": "http://localhost/articles/an-article"},
    )
    assert response.status_code == 400
    assert str(SESSION_ENDED) in page(response)
    assert "/login?next=/articles/an-article" in page(response)
    with csrf_app.app_context():
        assert db.session.execute(select(func.count(KeptDraft.id))).scalar_one() == 0


def test_an_expired_login_form_comes_back_with_the_name_not_the_password(client):
    client.get("/login")
    response = client.post(
        "/login", data={"username": "alice", "password": PASSWORD, "csrf_token": "stale"}
    )
    assert response.status_code == 400
    html = page(response)
    assert str(FORM_EXPIRED) in html
    assert 'value="alice"' in html
    assert PASSWORD not in html
    # The form's fresh token works.
    again = client.post(
        "/login",
        data={"username": "alice", "password": PASSWORD, "csrf_token": csrf_token_from(html)},
    )
    assert again.status_code == 302
