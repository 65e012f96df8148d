"""Registration, login, logout, password changes and the session's limits, through HTTP."""

import time
from html.parser import HTMLParser

import pytest
from sqlalchemy import func, select

from forum.extensions import db
from forum.models import User
from forum.services import accounts
from tests.conftest import PASSWORD, login, make_user

GOOD_PASSWORD = "a long enough passphrase"
REGISTRATION = {
    "username": "newcomer",
    "display_name": "New Comer",
    "email": "newcomer@example.org",
    "password": GOOD_PASSWORD,
    "confirm": GOOD_PASSWORD,
}


class FormPage(HTMLParser):
    """A rendered form: each input's attributes, and the error text shown beside each field."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.inputs: dict[str, dict[str, str | None]] = {}
        self.errors: dict[str, str] = {}
        self._error_of: str | None = None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "input" and attributes.get("name"):
            self.inputs[attributes["name"]] = attributes
        element_id = attributes.get("id") or ""
        if tag == "p" and element_id.endswith("-error"):
            self._error_of = element_id.removesuffix("-error")
            self.errors[self._error_of] = ""

    def handle_endtag(self, tag):
        if tag == "p":
            self._error_of = None

    def handle_data(self, data):
        if self._error_of:
            self.errors[self._error_of] += data

    def value(self, name: str) -> str | None:
        return self.inputs[name].get("value")


def user_count() -> int:
    return db.session.execute(select(func.count(User.id))).scalar_one()


def stored_user(username: str) -> User:
    db.session.expire_all()  # see what the requests committed
    return accounts.find_user(username)


def stored_hash(username: str) -> str:
    """The stored hash, read in a transaction that is over when this returns (on SQLite an
    open one would hold the write lock another app's request needs)."""
    password_hash = stored_user(username).password_hash
    db.session.rollback()
    return password_hash


def is_logged_in(client) -> bool:
    response = client.get("/account")
    assert response.status_code in (200, 302)
    return response.status_code == 200


def post_login(client, username: str, password: str = PASSWORD, **kw):
    return client.post("/login", data={"username": username, "password": password}, **kw)


# --- registration -----------------------------------------------------------------------


def test_registration_creates_the_account_and_logs_in(client, app):
    response = client.post("/register", data=REGISTRATION)
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    user = stored_user("newcomer")
    assert user.username == "newcomer"
    assert user.display_name == "New Comer"
    assert user.email == "newcomer@example.org"
    assert is_logged_in(client)


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        pytest.param({"username": "ab"}, "username", "3 to 30 characters", id="too-short"),
        pytest.param({"username": "a" * 31}, "username", "3 to 30 characters", id="too-long"),
        pytest.param({"username": "two words"}, "username", "3 to 30 characters", id="space"),
        pytest.param({"username": "alice!"}, "username", "3 to 30 characters", id="punct"),
        pytest.param({"username": "\u0430dmin"}, "username", "3 to 30", id="cyrillic-a"),
        pytest.param({"username": "admin\u202e"}, "username", "3 to 30", id="rtl-override"),
        pytest.param({"username": "\u202enimda"}, "username", "3 to 30", id="rtl-first"),
        pytest.param({"username": "j\u00f6rg"}, "username", "3 to 30", id="non-ascii"),
        pytest.param({"username": ""}, "username", "required", id="missing"),
        pytest.param(
            {"password": "short1234", "confirm": "short1234"},
            "password",
            "at least 10 characters",
            id="weak-password",
        ),
        pytest.param(
            {"username": "newcomer42", "password": "NewComer42", "confirm": "NewComer42"},
            "password",
            "can't be your username",
            id="password-is-username",
        ),
        pytest.param(
            {"confirm": GOOD_PASSWORD + "!"}, "confirm", "passwords differ", id="mismatch"
        ),
    ],
)
def test_invalid_registration_is_refused_with_the_message_beside_the_field(
    client, app, changes, field, message
):
    submitted = {**REGISTRATION, **changes}
    response = client.post("/register", data=submitted)
    assert response.status_code == 400
    page = FormPage(response.get_data(as_text=True))
    assert message in page.errors[field]
    assert f"{field}-error" in page.inputs[field]["aria-describedby"]
    assert set(page.errors) == {field}
    # What the person typed is kept, so only the wrong field needs fixing.
    for kept in ("username", "display_name", "email"):
        assert (page.value(kept) or "") == submitted[kept]
    assert user_count() == 0


@pytest.mark.parametrize(
    "email",
    [
        "newcomer@example.org\r\nBcc: everyone@example.org",
        "new\rcomer@example.org",
        "not an address",
        "two@at@example.org",
    ],
)
def test_registration_checks_the_email_address_like_the_account_page(client, app, email):
    """Registration once stored the address unchecked, carriage returns included."""
    response = client.post("/register", data={**REGISTRATION, "email": email})
    assert response.status_code == 400
    page = FormPage(response.get_data(as_text=True))
    assert "isn't an email address" in page.errors["email"]
    assert user_count() == 0


def test_registration_stores_the_address_as_the_account_page_would(client, app):
    response = client.post("/register", data={**REGISTRATION, "email": " Newcomer@EXAMPLE.org "})
    assert response.status_code == 302
    assert stored_user("newcomer").email == "Newcomer@example.org"


@pytest.mark.parametrize("taken", ["alice", "ALICE", "aLiCe", " Alice "])
def test_registration_refuses_a_taken_username_in_any_letter_case(client, app, taken):
    make_user("Alice")
    response = client.post("/register", data={**REGISTRATION, "username": taken})
    assert response.status_code == 400
    page = FormPage(response.get_data(as_text=True))
    assert page.errors["username"] == "That username is taken."
    assert page.value("display_name") == "New Comer"
    assert page.value("email") == "newcomer@example.org"
    assert user_count() == 1


def test_display_name_keeps_any_script_but_loses_bidi_controls(client, app):
    # Latin with a diaeresis, Han, Arabic and an emoji joined by a zero-width joiner.
    scripts = "Zo\u00eb \u5c71\u7530 \u0645\u0631\u062d\u0628\u0627 \U0001f469\u200d\U0001f4bb"
    written = f"\u202e{scripts}\u202c \u2067x\u2069"
    response = client.post("/register", data={**REGISTRATION, "display_name": written})
    assert response.status_code == 302
    expected = f"{scripts} x"
    assert stored_user("newcomer").display_name == expected
    assert expected in client.get("/users/newcomer").get_data(as_text=True)


def test_long_passwords_are_accepted_whole_and_never_truncated(client, app):
    long_password = "correct horse battery staple " * 10 + "end"  # 293 characters
    assert len(long_password) > 256
    registered = client.post(
        "/register", data={**REGISTRATION, "password": long_password, "confirm": long_password}
    )
    assert registered.status_code == 302

    fresh = app.test_client()
    assert post_login(fresh, "newcomer", long_password[:255]).status_code == 400
    assert post_login(fresh, "newcomer", long_password[:72]).status_code == 400  # bcrypt's cut
    assert post_login(fresh, "newcomer", long_password).status_code == 302


# --- login ------------------------------------------------------------------------------


def test_login_with_the_right_password_logs_in_and_goes_home(client, app):
    make_user("alice")
    response = post_login(client, "alice")
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert is_logged_in(client)


def test_login_ignores_the_letter_case_of_the_username(client, app):
    make_user("alice")
    assert post_login(client, "ALICE").status_code == 302


@pytest.mark.parametrize(
    "unknown", ["nobody", "\u0430lice", "bad name!"], ids=["unknown", "cyrillic", "ill-formed"]
)
def test_wrong_password_and_unknown_user_get_the_same_answer(client, app, unknown):
    """Nothing in the response tells whether an account exists."""
    make_user("alice")
    wrong_password = post_login(client, "alice", "not the password")
    unknown_user = post_login(client, unknown, "not the password")
    assert wrong_password.status_code == unknown_user.status_code == 400
    wrong_body = wrong_password.get_data(as_text=True)
    unknown_body = unknown_user.get_data(as_text=True)
    assert "Wrong username or password." in wrong_body
    assert wrong_body.replace('value="alice"', "") == unknown_body.replace(
        f'value="{unknown}"', ""
    ).replace('value="bad name!"', "")
    assert not is_logged_in(client)


def test_login_starts_a_fresh_session(client, app):
    """A value planted in the session before login (session fixation) doesn't survive it."""
    make_user("alice")
    with client.session_transaction() as session:
        session["planted"] = "by someone else"
    assert post_login(client, "alice").status_code == 302
    with client.session_transaction() as session:
        assert "planted" not in session
        assert session["_user_id"]


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/articles/x", "/articles/x"),
        ("/users/alice?tab=comments", "/users/alice?tab=comments"),
        ("//evil.example", "/"),
        ("///evil.example", "/"),
        ("https://evil.example", "/"),
        ("http:evil.example", "/"),
        ("/\\evil.example", "/"),
        ("\\\\evil.example", "/"),
        ("/\t/evil.example", "/"),
        ("javascript:alert(1)", "/"),
        ("/\r\nSet-Cookie: x=1", "/"),
        ("evil.example", "/"),
        ("", "/"),
    ],
)
def test_login_redirects_only_to_paths_on_this_site(client, app, target, expected):
    make_user("alice")
    response = post_login(client, "alice", query_string={"next": target})
    assert response.status_code == 302
    assert response.headers["Location"] == expected


def test_login_form_does_not_carry_a_refused_next_along(client, app):
    body = client.get("/login", query_string={"next": "//evil.example"}).get_data(as_text=True)
    assert "evil.example" not in body


def test_registration_redirects_only_to_paths_on_this_site(client, app):
    response = client.post("/register?next=//evil.example", data=REGISTRATION)
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


# --- logout -----------------------------------------------------------------------------


def test_logout_is_post_only(client, app):
    make_user("alice")
    post_login(client, "alice")
    assert client.get("/logout").status_code == 405
    assert client.head("/logout").status_code == 405
    assert is_logged_in(client)
    response = client.post("/logout")
    assert response.status_code == 302
    assert not is_logged_in(client)


def test_logout_makes_earlier_session_cookies_useless(client, app):
    make_user("alice")
    post_login(client, "alice")
    copied = client.get_cookie("session").value

    thief = app.test_client()
    thief.set_cookie("session", copied)
    assert is_logged_in(thief)  # the copy works until the owner logs out

    client.post("/logout")
    thief = app.test_client()
    thief.set_cookie("session", copied)
    assert not is_logged_in(thief)


# --- changing the password --------------------------------------------------------------


def change_password(client, current: str, new: str = GOOD_PASSWORD, confirm: str | None = None):
    return client.post(
        "/account",
        data={"current_password": current, "new_password": new, "confirm": confirm or new},
    )


def test_changing_the_password_requires_the_current_one(client, app):
    alice = make_user("alice")
    login(client, alice)
    response = change_password(client, "not my password")
    assert response.status_code == 400
    page = FormPage(response.get_data(as_text=True))
    assert page.errors["current_password"] == "That isn't your current password."
    assert accounts.authenticate("alice", PASSWORD) is not None
    assert is_logged_in(client)


def test_a_weak_new_password_is_refused(client, app):
    alice = make_user("alice")
    login(client, alice)
    response = change_password(client, PASSWORD, "short")
    assert response.status_code == 400
    assert "at least 10" in FormPage(response.get_data(as_text=True)).errors["new_password"]
    assert accounts.authenticate("alice", PASSWORD) is not None


def test_changing_the_password_ends_other_sessions_but_keeps_this_one(client, app):
    alice = make_user("alice")
    other_device = app.test_client()
    post_login(other_device, "alice")
    post_login(client, "alice")
    assert is_logged_in(other_device)

    response = change_password(client, PASSWORD)
    assert response.status_code == 302
    assert is_logged_in(client)
    assert not is_logged_in(other_device)
    db.session.expire_all()
    assert accounts.authenticate("alice", GOOD_PASSWORD).id == alice.id
    assert accounts.authenticate("alice", PASSWORD) is None


# --- password hashing -------------------------------------------------------------------


def test_passwords_are_stored_as_argon2id_hashes(client, app):
    client.post("/register", data=REGISTRATION)
    stored = stored_user("newcomer").password_hash
    assert stored.startswith("$argon2id$")
    assert GOOD_PASSWORD not in stored


def test_login_rehashes_a_password_when_the_parameters_change(app, app_factory):
    make_user("alice")
    before = stored_hash("alice")
    assert ",t=1," in before

    stronger = app_factory(PASSWORD_TIME_COST=2)
    assert post_login(stronger.test_client(), "alice").status_code == 302

    after = stored_hash("alice")
    assert after != before
    assert after.startswith("$argon2id$")
    assert ",t=2," in after
    assert post_login(stronger.test_client(), "alice").status_code == 302


# --- session limits ---------------------------------------------------------------------


def age_session(client, *, idle_seconds: int = 0, since_login_seconds: int = 0) -> None:
    now = int(time.time())
    with client.session_transaction() as session:
        session["seen_at"] = now - idle_seconds
        session["login_at"] = now - since_login_seconds


def test_a_recently_active_session_stays_logged_in(client, app):
    make_user("alice")
    post_login(client, "alice")
    idle = app.config["SESSION_IDLE_MINUTES"] * 60
    age_session(client, idle_seconds=idle - 60, since_login_seconds=idle)
    assert is_logged_in(client)


def test_an_idle_session_ends(client, app):
    make_user("alice")
    post_login(client, "alice")
    age_session(client, idle_seconds=app.config["SESSION_IDLE_MINUTES"] * 60 + 5)
    assert not is_logged_in(client)
    assert "Your session ended" in client.get("/login").get_data(as_text=True)


def test_a_session_ends_after_its_absolute_lifetime_even_when_active(client, app):
    make_user("alice")
    post_login(client, "alice")
    age_session(client, since_login_seconds=app.config["SESSION_LIFETIME_HOURS"] * 3600 + 5)
    assert not is_logged_in(client)


def test_short_configured_limits_are_honoured(app_factory):
    app = app_factory(SESSION_IDLE_MINUTES=1)
    with app.app_context():
        make_user("alice")
    client = app.test_client()
    post_login(client, "alice")
    age_session(client, idle_seconds=30)
    assert is_logged_in(client)
    age_session(client, idle_seconds=61)
    assert not is_logged_in(client)


# --- safe methods change nothing --------------------------------------------------------


@pytest.mark.parametrize("path", ["/", "/register", "/login", "/account", "/users/alice"])
def test_head_requests_change_nothing(client, app, path):
    make_user("alice")
    post_login(client, "alice")
    assert client.head(path).status_code == 200
    assert user_count() == 1
    assert is_logged_in(client)


def test_get_requests_with_form_fields_in_the_query_change_nothing(client, app):
    alice = make_user("alice")
    client.get("/register", query_string=REGISTRATION)
    assert user_count() == 1

    client.get("/login", query_string={"username": "alice", "password": PASSWORD})
    assert not is_logged_in(client)

    login(client, alice)
    client.get(
        "/account",
        query_string={
            "current_password": PASSWORD,
            "new_password": GOOD_PASSWORD,
            "confirm": GOOD_PASSWORD,
        },
    )
    assert accounts.authenticate("alice", PASSWORD) is not None
    assert is_logged_in(client)
