"""Rate limits: login per address and per account, registration per address, posting and
reporting per account (slower for new accounts), each answered with a 429 page in the site's
layout and a Retry-After header; all off with RATELIMIT_ENABLED=False.

The core checks run twice: on the default in-memory storage and on Redis when
FORUM_TEST_REDIS_URL is set (as CI sets it), where two apps (two workers) must share the count.

Flask-Limiter's ``limiter`` is a module-level singleton that each app's ``init_app`` rebinds:
the storage of the last app built serves every app in the process, and the key prefix it was
first given sticks. So memory tests reset the storage, and Redis tests give each test its own
key prefix (forgetting the previous one), delete only their own keys, and build the second
"worker" after the first has counted, so that only a shared store can carry the count over."""

import re
import uuid
from contextlib import ExitStack

import pytest
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import func, select

from forum import create_app
from forum.auth import devices
from forum.extensions import db, limiter
from forum.models import Comment, CommentRevision, Report, Role, User
from forum.services import threads
from tests.conftest import PASSWORD, TEST_REDIS_URL, base_config, client_as, make_article, make_user

LIMITS = {
    "RATELIMIT_ENABLED": True,
    "RATELIMIT_LOGIN": "3 per minute",
    "RATELIMIT_LOGIN_ACCOUNT": "2 per minute",
    "RATELIMIT_LOGIN_DEVICE": "2 per minute",
    "RATELIMIT_REGISTER": "2 per minute",
    "RATELIMIT_POST": "3 per minute",
    "RATELIMIT_POST_NEW_ACCOUNT": "1 per minute",
    "RATELIMIT_REPORT": "2 per minute",
    "RATELIMIT_EDIT": "3 per minute",
}

needs_redis = pytest.mark.skipif(
    not TEST_REDIS_URL,
    reason="FORUM_TEST_REDIS_URL is not set; the Redis storage checks need a Redis server "
    "(CI sets redis://127.0.0.1:6379/15)",
)


class Limited:
    """Builds apps with small limits on one storage, each with its context open."""

    def __init__(self, app_factory, storage: str, stack: ExitStack):
        self.app_factory, self.storage, self.stack = app_factory, storage, stack
        self.prefix = f"forum-test-{uuid.uuid4().hex}" if storage == "redis" else ""

    def build(self, **overrides):
        extra = {}
        if self.storage == "redis":
            extra = {"REDIS_URL": TEST_REDIS_URL, "RATELIMIT_KEY_PREFIX": self.prefix}
        app = self.app_factory(**LIMITS, **extra, **overrides)
        self.stack.enter_context(app.app_context())
        if self.storage == "memory":
            limiter.reset()  # never on Redis: that would clear every run's keys
        else:
            assert type(limiter.storage).__name__ == "RedisStorage"
            assert limiter.storage.check(), "Redis doesn't answer"
        return app

    def redis_keys(self, delete: bool = False) -> list[bytes]:
        """This test's keys in Redis (only those: other runs may share the database)."""
        import redis

        client = redis.Redis.from_url(TEST_REDIS_URL)
        try:
            keys = list(client.scan_iter(match=f"*{self.prefix}*"))
            if keys and delete:
                client.delete(*keys)
            return keys
        finally:
            client.close()


@pytest.fixture(params=["memory", pytest.param("redis", marks=[pytest.mark.redis, needs_redis])])
def limited(request, app_factory):
    """Apps with small limits, on memory storage and (when configured) on Redis."""
    with ExitStack() as stack:
        limits = Limited(app_factory, request.param, stack)
        if request.param == "redis":
            limiter._key_prefix = ""  # Flask-Limiter keeps the first prefix it ever saw
        try:
            yield limits
        finally:
            if request.param == "redis":
                limits.redis_keys(delete=True)
                limiter._key_prefix = ""


def html(response) -> str:
    return response.get_data(as_text=True)


WAIT_SAYS = re.compile(r"again in \d+ (second|minute|hour)s?\.")


def assert_too_many(response, kept: str | None = None) -> None:
    """429, as a page in the site's layout, saying how long to wait (no "go back"), with
    ``kept`` (the reader's text) still in its form when given."""
    assert response.status_code == 429, html(response)[:300]
    page = html(response)
    assert 'class="site-header"' in page  # the site's layout, not a bare error
    assert WAIT_SAYS.search(page), page[:2000]
    assert "go back" not in page
    assert int(response.headers["Retry-After"]) > 0
    if kept is not None:
        assert re.search(r"<textarea[^>]*>\s*" + re.escape(kept), page), "the draft is kept"


def from_address(address: str) -> dict:
    return {"environ_base": {"REMOTE_ADDR": address}}


WRONG = "not the password"


def try_login(client, username: str, password: str = WRONG, address="10.0.0.1"):
    return client.post(
        "/login", data={"username": username, "password": password}, **from_address(address)
    )


def register(client, username: str, address="10.0.0.1"):
    data = {"username": username, "password": PASSWORD, "confirm": PASSWORD}
    return client.post("/register", data=data, **from_address(address))


# --- login ------------------------------------------------------------------------------------


def test_login_attempts_are_limited_per_address(limited):
    app = limited.build()
    client = client_as(app)
    for n in range(3):  # different names: the per-account limit stays out of the way
        assert try_login(client, f"name{n}").status_code == 400
    assert_too_many(try_login(client, "name3"))
    assert try_login(client, "name4", address="10.0.0.2").status_code == 400


def test_login_attempts_are_limited_per_account_from_any_address(limited):
    app = limited.build()
    make_user("rita")
    client = client_as(app)
    assert try_login(client, "rita", address="10.0.1.1").status_code == 400
    assert try_login(client, "RITA", address="10.0.1.2").status_code == 400
    # Even the right password waits: the attacker mustn't learn it was right.
    assert_too_many(try_login(client, "rita", PASSWORD, address="10.0.1.3"))
    assert try_login(client, "someone-else", address="10.0.1.3").status_code == 400


# --- known devices: throttling an attacker never locks the owner out -------------------------


def device_cookie(client) -> str | None:
    cookie = client.get_cookie(devices.COOKIE_NAME, path=devices.COOKIE_PATH)
    return cookie.value if cookie else None


def with_device(app, value: str):
    """A browser holding the device cookie ``value`` (and nothing else)."""
    client = client_as(app)
    client.set_cookie(devices.COOKIE_NAME, value, path=devices.COOKIE_PATH)
    return client


def owners_device(app, username: str = "rita") -> str:
    """The device cookie an earlier successful login left in the owner's browser."""
    owner = client_as(app)
    assert try_login(owner, username, PASSWORD, address="10.7.0.1").status_code == 302
    value = device_cookie(owner)
    assert value
    return value


def lock_out_strangers(client, username: str = "rita") -> None:
    """An attacker's wrong guesses until the account answers 429 to strangers."""
    statuses = [try_login(client, username, address="10.6.6.6").status_code for _ in range(6)]
    assert statuses[-1] == 429


def test_a_known_device_logs_in_while_strangers_are_throttled(limited):
    app = limited.build()
    make_user("rita")
    cookie = owners_device(app)
    lock_out_strangers(client_as(app))
    # The owner, from the attacker's very address, on their own device: let in.
    owner = with_device(app, cookie)
    response = try_login(owner, "rita", PASSWORD, address="10.6.6.6")
    assert response.status_code == 302
    # The same right password from an unknown device waits, and is told how long.
    stranger = client_as(app)
    response = try_login(stranger, "rita", PASSWORD, address="10.8.8.8")
    assert_too_many(response)
    assert "Too many login attempts. You can try again in" in html(response)
    assert 'value="rita"' in html(response)  # the login form again, with the name typed


def test_a_forged_or_foreign_device_cookie_grants_nothing(limited):
    app = limited.build()
    make_user("rita")
    make_user("bob")
    ritas = owners_device(app, "rita")
    lock_out_strangers(client_as(app), "bob")
    # Rita's cookie says nothing about Bob's account.
    assert_too_many(try_login(with_device(app, ritas), "bob", PASSWORD, address="10.9.0.1"))
    # A cookie signed by someone else, or altered, is nobody's.
    forged = URLSafeTimedSerializer("not the key", salt="forum.known-device").dumps(
        ["bob", "guessed"]
    )
    assert_too_many(try_login(with_device(app, forged), "bob", PASSWORD, address="10.9.0.2"))
    altered = ritas.replace(ritas.split(".")[0], "WyJib2IiLCAieCJd")
    assert_too_many(try_login(with_device(app, altered), "bob", PASSWORD, address="10.9.0.3"))


def test_a_stolen_device_cookie_buys_only_a_few_guesses(limited):
    app = limited.build()
    make_user("rita")
    stolen = with_device(app, owners_device(app))
    for _ in range(2):  # RATELIMIT_LOGIN_DEVICE: 2 per minute
        assert try_login(stolen, "rita", address="10.5.5.5").status_code == 400
    assert_too_many(try_login(stolen, "rita", PASSWORD, address="10.5.5.5"))


def test_a_successful_login_marks_the_device_for_that_account_only(limited):
    app = limited.build()
    make_user("rita")
    client = client_as(app)
    assert try_login(client, "rita", WRONG).status_code == 400
    assert device_cookie(client) is None  # a failed login marks nothing
    assert try_login(client, "Rita ", PASSWORD).status_code == 302
    with app.test_request_context(
        "/login",
        method="POST",
        data={"username": "rita"},
        headers={"Cookie": f"{devices.COOKIE_NAME}={device_cookie(client)}"},
    ):
        assert devices.is_known_device()
    with app.test_request_context(
        "/login",
        method="POST",
        data={"username": "bob"},
        headers={"Cookie": f"{devices.COOKIE_NAME}={device_cookie(client)}"},
    ):
        assert not devices.is_known_device()


# --- registration -----------------------------------------------------------------------------


def test_registrations_are_limited_per_address(limited):
    app = limited.build()
    for n in range(2):
        assert register(client_as(app), f"newbie{n}").status_code == 302
    assert_too_many(register(client_as(app), "newbie2"))
    assert register(client_as(app), "newbie3", address="10.0.0.9").status_code == 302
    assert db.session.execute(select(func.count(User.id))).scalar_one() == 3


# --- posting and reporting --------------------------------------------------------------------


def trusted_user(username: str) -> User:
    """An account past the new-account limits (as a moderator's "trust" button makes it)."""
    user = make_user(username)
    user.trusted = True
    db.session.commit()
    return user


def post(client, slug: str, body: str, address="10.0.0.1"):
    return client.post(f"/articles/{slug}/comments", data={"body": body}, **from_address(address))


def test_posting_is_limited_per_account(limited):
    app = limited.build()
    article = make_article(slug="the-article")
    regular = client_as(app, trusted_user("regular"))
    for n in range(3):
        assert post(regular, "the-article", f"Comment {n}.").status_code == 302
    assert_too_many(post(regular, "the-article", "One too many."), kept="One too many.")
    assert_too_many(post(regular, "the-article", "New address.", address="10.9.9.9"))
    other = client_as(app, make_user("other", role=Role.AUTHOR))
    assert post(other, "the-article", "Someone else.").status_code == 302
    comments = db.session.execute(select(Comment.body_md).where(Comment.article_id == article.id))
    assert "One too many." not in set(comments.scalars())


def test_the_script_is_told_how_long_to_wait_in_the_form(limited):
    """Inline, nothing navigated away: no "go back", just when to post again."""
    app = limited.build()
    make_article(slug="the-article")
    client = client_as(app, trusted_user("regular"))
    json = {"Accept": "application/json"}
    for n in range(3):
        response = client.post(
            "/articles/the-article/comments", data={"body": f"Comment {n}."}, headers=json
        )
        assert response.status_code == 201
    response = client.post(
        "/articles/the-article/comments", data={"body": "One too many."}, headers=json
    )
    assert response.status_code == 429
    (message,) = response.get_json()["errors"]["form"]
    assert re.fullmatch(r"You can post again in \d+ seconds?\.", message), message
    assert int(response.headers["Retry-After"]) > 0


def test_new_accounts_post_more_slowly_until_trusted(limited):
    app = limited.build()
    make_article(slug="the-article")
    newcomer = make_user("newcomer")
    client = client_as(app, newcomer)
    assert post(client, "the-article", "Hello.").status_code == 302
    assert_too_many(post(client, "the-article", "Hello again."))

    newcomer.trusted = True  # as a moderator's "trust" button does
    db.session.commit()
    assert post(client, "the-article", "Now at the regular pace.").status_code == 302


def test_comments_and_replies_share_one_posting_budget(limited):
    app = limited.build()
    article = make_article(slug="the-article")
    regular = trusted_user("regular")
    client = client_as(app, regular)
    for n in range(3):
        assert post(client, "the-article", f"Comment {n}.").status_code == 302
    parent = threads.post_comment(make_user("other"), article, "Reply to me.")
    response = client.post(f"/comments/{parent.id}/reply", data={"body": "A fourth."})
    assert_too_many(response, kept="A fourth.")
    assert "You can post again in" in html(response)


def test_edits_are_limited_per_account(limited):
    """Edits once had no limit (206 in 18 seconds, each a stored revision)."""
    app = limited.build()
    article = make_article(slug="the-article")
    editor = make_user("editor")
    comments = [threads.post_comment(editor, article, f"Comment {n}.") for n in range(2)]
    client = client_as(app, editor)
    for n in range(3):  # one budget across the account's comments
        response = client.post(f"/comments/{comments[n % 2].id}/edit", data={"body": f"V{n}."})
        assert response.status_code == 302, html(response)[:300]
    response = client.post(
        f"/comments/{comments[0].id}/edit", data={"body": "Too many."}, **from_address("10.3.3.3")
    )
    assert_too_many(response, kept="Too many.")
    assert client.get(f"/comments/{comments[0].id}/edit").status_code == 200  # reading the form
    db.session.rollback()
    assert db.session.execute(select(func.count(CommentRevision.id))).scalar_one() == 3
    other = trusted_user("other")
    mine = threads.post_comment(other, article, "Mine.")
    response = client_as(app, other).post(f"/comments/{mine.id}/edit", data={"body": "Mine!"})
    assert response.status_code == 302


def test_reports_are_limited_per_account(limited):
    app = limited.build()
    article = make_article(slug="the-article")
    author = make_user("author")
    comments = [threads.post_comment(author, article, f"Comment {n}.") for n in range(3)]
    reporter = client_as(app, make_user("reporter"))
    for comment in comments[:2]:
        response = reporter.post(f"/comments/{comment.id}/flag", data={"category": "spam"})
        assert response.status_code == 302
    response = reporter.post(
        f"/comments/{comments[2].id}/flag", data={"category": "spam"}, **from_address("10.2.2.2")
    )
    assert_too_many(response)
    other = client_as(app, make_user("other"))
    response = other.post(f"/comments/{comments[2].id}/flag", data={"category": "spam"})
    assert response.status_code == 302
    assert db.session.execute(select(func.count(Report.id))).scalar_one() == 3


# --- switched off -----------------------------------------------------------------------------


def exceed_every_limit(app) -> None:
    """Do more of everything than LIMITS allows; nothing may answer 429."""
    make_article(slug="the-article")
    make_user("rita")
    statuses = [try_login(client_as(app), "rita").status_code for _ in range(5)]
    statuses += [register(client_as(app), f"newbie{n}").status_code for n in range(4)]
    newcomer = client_as(app, make_user("newcomer"))
    statuses += [post(newcomer, "the-article", f"Comment {n}.").status_code for n in range(5)]
    reporter = client_as(app, make_user("reporter"))
    for comment in db.session.execute(select(Comment)).scalars().all():
        response = reporter.post(f"/comments/{comment.id}/flag", data={"category": "spam"})
        statuses.append(response.status_code)
    assert 429 not in statuses
    assert statuses.count(302) == 4 + 5 + 5


def test_ratelimit_enabled_false_turns_every_limit_off(app_factory):
    app = app_factory(**{**LIMITS, "RATELIMIT_ENABLED": False})
    with app.app_context():
        exceed_every_limit(app)


def test_the_environment_turns_every_limit_off(app_factory, tmp_path, monkeypatch):
    app_factory()  # the fresh database
    monkeypatch.setenv("FORUM_RATELIMIT_ENABLED", "false")
    config = {**base_config(tmp_path), **LIMITS}
    del config["RATELIMIT_ENABLED"]
    app = create_app(config)
    assert app.config["RATELIMIT_ENABLED"] is False
    with app.app_context():
        try:
            exceed_every_limit(app)
        finally:
            db.session.remove()
            db.engine.dispose()


# --- several workers --------------------------------------------------------------------------


@pytest.mark.redis
@needs_redis
def test_two_workers_share_the_count_through_redis(app_factory):
    """Three attempts allowed across both apps, the fourth refused by either."""
    limits = Limited(app_factory, "redis", ExitStack())
    limiter._key_prefix = ""
    try:
        with limits.stack:
            first = limits.build()
            first_client = client_as(first)
            for n in range(2):
                assert try_login(first_client, f"name{n}").status_code == 400
            # The second worker starts after the first has counted: only a store both
            # reach can tell it about those two attempts.
            second = limits.build()
            second_client = client_as(second)
            assert try_login(second_client, "name2").status_code == 400
            assert_too_many(try_login(second_client, "name3"))
            assert_too_many(try_login(first_client, "name4"))
            assert limits.redis_keys(), "the counts should be in Redis"
    finally:
        limits.redis_keys(delete=True)
        limiter._key_prefix = ""


def test_memory_storage_counts_per_worker(app_factory):
    """Why Redis matters: with the default storage a new worker starts from zero (the same
    sequence as above lets more than three attempts through)."""
    with ExitStack() as stack:
        limits = Limited(app_factory, "memory", stack)
        first_client = client_as(limits.build())
        for n in range(2):
            assert try_login(first_client, f"name{n}").status_code == 400
        second_client = client_as(limits.build())
        for n in range(2, 5):
            assert try_login(second_client, f"name{n}").status_code == 400
        assert_too_many(try_login(second_client, "name5"))
