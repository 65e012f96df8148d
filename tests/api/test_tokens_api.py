"""Personal API tokens on the API: the same answers as the session for each actor, scopes
that stop at what they name, no CSRF for token calls (and CSRF for session writes), and
tokens that never work on the HTML pages."""

import secrets
from datetime import timedelta

import pytest

from forum.extensions import db
from forum.models import ApiToken, TokenScope, User, utcnow
from forum.services import api_tokens
from tests.api.support import assert_problem, bearer
from tests.api.test_authorization_api import (  # noqa: F401  (the world's fixtures)
    OPERATIONS,
    SUCCESS,
    call,
    changed_tables,
    check,
    database_template,
    world,
)
from tests.conftest import client_as, csrf_token_from, make_article, make_user, snapshot
from tests.views.test_authorization import ACTORS, ANON, SUSPENDED


def token_for(user: User, scope: TokenScope | str) -> str:
    """A raw token of ``user`` with ``scope``, made as the account page makes it; for a
    suspended member (who can't make one now) stored as the page would have before."""
    if not user.is_suspended():
        return api_tokens.create_token(user, f"t-{secrets.token_hex(3)}", scope, 30)[1]
    raw = f"forum_{secrets.token_hex(4)}_{secrets.token_urlsafe(32)}"
    db.session.add(
        ApiToken(
            user_id=user.id,
            name="made before the suspension",
            scope=TokenScope(scope),
            prefix=raw.split("_")[1],
            secret_hash=api_tokens.hash_token(raw),
            created_at=utcnow(),
            expires_at=utcnow() + timedelta(days=30),
        )
    )
    db.session.commit()
    return raw


def without_tokens(state: dict) -> dict:
    """The database minus the tokens' table (a call marks its token used: that is no change
    of anything the call did)."""
    return {name: rows for name, rows in state.items() if name != "api_tokens"}


TOKEN_CASES = [
    pytest.param(op, actor, id=f"{op}-{actor}")
    for op in OPERATIONS
    for actor in ACTORS
    if actor != ANON
]


@pytest.mark.parametrize(("op", "actor"), TOKEN_CASES)
def test_operation_answers_each_actor_by_token_as_by_session(app, world, op, actor):  # noqa: F811
    """A token with the holder's full scope gets the session's answer; a suspended
    member's tokens stop working altogether (401)."""
    user = db.session.get(User, world.users[actor])
    raw = token_for(user, TokenScope.MODERATE if user.is_moderator else TokenScope.WRITE)
    client = client_as(app)
    before = without_tokens(snapshot())
    response = call(client, op, world.values, bearer(raw))
    after = without_tokens(snapshot())
    expected = 401 if actor == SUSPENDED else op.expect[actor]
    check(response, op, expected, before, after)


@pytest.mark.parametrize("op", OPERATIONS, ids=str)
def test_a_read_token_reads_and_never_writes(app, world, op):  # noqa: F811
    user = db.session.get(User, world.users["author"])
    client = client_as(app)
    before = without_tokens(snapshot())
    response = call(client, op, world.values, bearer(token_for(user, TokenScope.READ)))
    after = without_tokens(snapshot())
    expected = op.expect["author"] if op.method == "GET" else 403
    check(response, op, expected, before, after)
    if expected == 403:
        assert "scope" in response.get_json()["detail"]


def test_an_unknown_or_revoked_token_is_401_with_a_challenge(app, client):
    reader = make_user()
    raw = token_for(reader, TokenScope.READ)
    assert client.get("/api/v1/notifications", headers=bearer(raw)).status_code == 200
    token = db.session.query(ApiToken).filter_by(user_id=reader.id).one()
    api_tokens.revoke(reader, token.id)
    for headers in (bearer(raw), bearer("forum_nope_nope"), {"Authorization": "Bearer"}):
        response = client.get("/api/v1/articles", headers=headers)
        assert_problem(response, 401)
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_token_acts_for_its_holder_whatever_session_comes_along(app):
    """A request with a token never gets the session's user."""
    holder = make_user()
    other = make_user()
    article = make_article()
    client = client_as(app, other)  # a session cookie for someone else
    response = client.post(
        f"/api/v1/articles/{article.slug}/comments",
        json={"body": "Posted by the token."},
        headers=bearer(token_for(holder, TokenScope.WRITE)),
    )
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["author"]["username"] == holder.username


def test_tokens_never_work_on_the_html_pages(app, client):
    reader = make_user()
    headers = bearer(token_for(reader, TokenScope.WRITE))
    response = client.get("/account", headers=headers)
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    response = client.get("/notifications", headers=headers)
    assert response.status_code == 302 and "/login" in response.headers["Location"]


@pytest.fixture
def csrf_app(app_factory):
    """An app with CSRF switched on (the test suite's default app has it off)."""
    return app_factory(WTF_CSRF_ENABLED=True)


def test_session_writes_need_the_csrf_header_and_token_writes_do_not(csrf_app):
    with csrf_app.app_context():
        reader = make_user()
        slug = make_article().slug
        raw = token_for(reader, TokenScope.WRITE)
        client = client_as(csrf_app, reader)
    path = f"/api/v1/articles/{slug}/comments"

    refused = client.post(path, json={"body": "No token in the header."})
    assert_problem(refused, 400)

    token = csrf_token_from(client.get("/account").get_data(as_text=True))
    accepted = client.post(path, json={"body": "With it."}, headers={"X-CSRFToken": token})
    assert accepted.status_code == 201

    by_token = client_as(csrf_app).post(path, json={"body": "By token."}, headers=bearer(raw))
    assert by_token.status_code == 201
    with csrf_app.app_context():
        before = snapshot()
    assert_problem(
        client.post(path, json={"body": "Bad header."}, headers={"X-CSRFToken": "x"}), 400
    )
    with csrf_app.app_context():
        assert changed_tables(before, snapshot()) == []
