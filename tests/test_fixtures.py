"""The fixture model itself (tests/conftest.py): each test starts on an empty database whose
ids start at 1, and each request through the test client starts and ends as in production."""

import pytest
from flask import g

from forum.extensions import db
from forum.models import User
from tests.conftest import client_as, make_user, snapshot


@pytest.mark.parametrize("turn", ["first", "second"])
def test_every_test_starts_on_an_empty_database_with_ids_from_one(app, turn):
    assert all(rows == [] for rows in snapshot().values())
    assert make_user(f"someone-{turn}").id == 1


def test_the_apps_of_one_test_share_its_database(app, app_factory):
    user_id = make_user("shared").id
    db.session.rollback()  # this session's (SQLite: write) transaction ends before the other's
    other = app_factory(SESSION_IDLE_MINUTES=5)
    with other.app_context():
        assert db.session.get(User, user_id).username == "shared"
        db.session.remove()


def test_a_request_gets_its_own_g_and_leaves_the_tests_g_alone(app):
    g.marker = "the test's"
    alice = client_as(app, make_user("alice"))
    assert alice.get("/account").status_code == 200
    # Flask-Login cached alice in the request's g, not in the test's: an anonymous client
    # after her is anonymous.
    assert client_as(app).get("/account").status_code == 302
    assert g.marker == "the test's"
    assert "_login_user" not in g


def test_what_a_request_leaves_uncommitted_is_rolled_back(app):
    user = make_user("carl")
    user.display_name = "Not committed"
    client_as(app).get("/")
    assert db.session.get(User, user.id).display_name != "Not committed"
