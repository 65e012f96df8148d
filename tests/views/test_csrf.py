"""Every state-changing form refuses a POST without the CSRF token of the session's form.

These tests build their own app with CSRF switched on and push an app context only around
database checks, so each request runs in its own context (its own ``flask.g``, where
Flask-WTF caches the token), as in production."""

import pytest
from sqlalchemy import func, select

from forum.extensions import db
from forum.models import Comment, User
from forum.services import accounts, threads
from tests.conftest import PASSWORD, csrf_token_from, make_article, make_user

NEW_PASSWORD = "a brand new passphrase"
REGISTRATION = {"username": "newcomer", "password": NEW_PASSWORD, "confirm": NEW_PASSWORD}


@pytest.fixture
def csrf_app(app_factory):
    app = app_factory(WTF_CSRF_ENABLED=True)
    with app.app_context():
        make_user("alice")
    return app


@pytest.fixture
def client(csrf_app):
    return csrf_app.test_client()


def user_count(app) -> int:
    with app.app_context():
        return db.session.execute(select(func.count(User.id))).scalar_one()


def password_works(app, password: str) -> bool:
    with app.app_context():
        return accounts.authenticate("alice", password) is not None


def is_logged_in(client) -> bool:
    return client.get("/account").status_code == 200


def token_from(client, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200
    return csrf_token_from(response.get_data(as_text=True))


def log_in(client) -> None:
    token = token_from(client, "/login")
    response = client.post(
        "/login", data={"username": "alice", "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 302


def test_register_without_a_token_is_refused_and_creates_nobody(csrf_app, client):
    client.get("/register")  # a session exists, but the POST doesn't carry its token
    response = client.post("/register", data=REGISTRATION)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "CSRF" not in page  # never the library's words
    assert "This form had expired, so nothing was sent." in page
    assert 'value="newcomer"' in page  # what was typed comes back (never the password)
    assert NEW_PASSWORD not in page
    assert user_count(csrf_app) == 1


def test_register_with_the_token_from_the_form_works(csrf_app, client):
    token = token_from(client, "/register")
    response = client.post("/register", data={**REGISTRATION, "csrf_token": token})
    assert response.status_code == 302
    assert user_count(csrf_app) == 2


def test_login_without_a_token_is_refused(client):
    client.get("/login")
    response = client.post("/login", data={"username": "alice", "password": PASSWORD})
    assert response.status_code == 400
    assert not is_logged_in(client)


def test_login_with_the_token_from_the_form_works(client):
    log_in(client)
    assert is_logged_in(client)


def test_logout_without_a_token_is_refused_and_keeps_the_session(client):
    log_in(client)
    response = client.post("/logout")
    assert response.status_code == 400
    assert is_logged_in(client)


def test_logout_with_the_token_from_the_page_works(client):
    log_in(client)
    token = token_from(client, "/")  # the header's logout button
    response = client.post("/logout", data={"csrf_token": token})
    assert response.status_code == 302
    assert not is_logged_in(client)


def test_password_change_without_a_token_is_refused(csrf_app, client):
    log_in(client)
    response = client.post(
        "/account",
        data={"current_password": PASSWORD, "new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
    )
    assert response.status_code == 400
    assert password_works(csrf_app, PASSWORD)
    assert not password_works(csrf_app, NEW_PASSWORD)


def test_password_change_with_the_token_from_the_form_works(csrf_app, client):
    log_in(client)
    token = token_from(client, "/account")
    response = client.post(
        "/account",
        data={
            "current_password": PASSWORD,
            "new_password": NEW_PASSWORD,
            "confirm": NEW_PASSWORD,
            "csrf_token": token,
        },
    )
    assert response.status_code == 302
    assert password_works(csrf_app, NEW_PASSWORD)


def test_a_token_from_another_session_is_refused(csrf_app, client):
    """An attacker's own valid token is no use against someone else's session."""
    attacker = csrf_app.test_client()
    attackers_token = token_from(attacker, "/login")
    log_in(client)
    response = client.post("/logout", data={"csrf_token": attackers_token})
    assert response.status_code == 400
    assert is_logged_in(client)


def test_a_token_from_before_login_is_useless_after_it(csrf_app, client):
    """Login starts a fresh session, so a token planted before it dies with it."""
    old_token = token_from(client, "/login")
    client.post("/login", data={"username": "alice", "password": PASSWORD, "csrf_token": old_token})
    response = client.post("/logout", data={"csrf_token": old_token})
    assert response.status_code == 400
    assert is_logged_in(client)


def test_buttons_without_a_token_are_refused_by_the_global_csrf_check(csrf_app, client):
    """The per-view token forms are gone: CSRFProtect still refuses every tokenless POST."""
    with csrf_app.app_context():
        alice = accounts.find_user("alice")
        comment = threads.post_comment(alice, make_article(slug="an-article"), "Mine.")
        comment_id = comment.id
    log_in(client)
    for path in (
        f"/comments/{comment_id}/delete",
        f"/comments/{comment_id}/vote",
        "/notifications/read-all",
        "/articles/an-article/follow",
        "/account/email/confirmation",
    ):
        response = client.post(path)
        assert response.status_code == 400, path
        page = response.get_data(as_text=True)
        assert "CSRF" not in page  # the reader's words, not the library's
        assert "This form had expired, so nothing was sent." in page
    with csrf_app.app_context():
        assert db.session.get(Comment, comment_id).is_visible
