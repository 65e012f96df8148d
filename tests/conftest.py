"""Fixtures: an app with a fresh database per test, clients, and plain factory functions.

The suite runs on SQLite by default. With ``FORUM_TEST_DATABASE_URL`` set (a PostgreSQL URL
of a database the suite may wipe), every test runs on PostgreSQL instead."""

import os
import time
from itertools import count

import pytest
from flask import has_app_context
from flask.globals import app_ctx
from flask.testing import FlaskClient
from sqlalchemy import text

from forum import create_app
from forum.extensions import db
from forum.models import Article, Role, Series, User
from forum.services import accounts
from tests.mail_support import mail_config, running_smtp_server

TEST_DATABASE_URL = os.environ.get("FORUM_TEST_DATABASE_URL")
TEST_REDIS_URL = os.environ.get("FORUM_TEST_REDIS_URL")
PASSWORD = "correct horse battery"

_serial = count(1)


def base_config(tmp_path) -> dict:
    """Settings for a test app: cheap hashing, no rate limits or spam timers, CSRF off
    (tests that prove CSRF switch it back on)."""
    return {
        "TESTING": True,
        "INSTANCE_PATH": str(tmp_path / "instance"),
        "SECRET_KEY": "test-secret",
        "DATABASE_URL": TEST_DATABASE_URL or f"sqlite:///{tmp_path / 'test.sqlite3'}",
        "PASSWORD_TIME_COST": 1,
        "PASSWORD_MEMORY_COST": 8,
        "PASSWORD_PARALLELISM": 1,
        "RATELIMIT_ENABLED": False,
        "SPAM_CHECKS_ENABLED": False,
        "WTF_CSRF_ENABLED": False,
        # Tell people about new comments inside the posting request, so a test sees them
        # at once (tests/views/test_background.py proves the after-the-response path).
        "NOTIFY_IN_BACKGROUND": False,
    }


def _reset_schema() -> None:
    if db.engine.dialect.name == "postgresql":
        with db.engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    db.create_all()


class PerRequestGlobalsClient(FlaskClient):
    """A test client whose every request gets its own ``flask.g``, as in production.

    The ``app`` fixture keeps an app context pushed for the whole test, and Flask reuses a
    pushed context for requests, so ``g`` (where Flask-Login caches the current user and
    Flask-WTF the CSRF token) would otherwise carry over from one request, and from one
    client, to the next. The database session stays shared, which tests rely on."""

    def open(self, *args, **kwargs):
        if not has_app_context():
            return super().open(*args, **kwargs)
        context = app_ctx._get_current_object()
        saved = context.g
        context.g = self.application.app_ctx_globals_class()
        try:
            return super().open(*args, **kwargs)
        finally:
            context.g = saved


@pytest.fixture
def app_factory(tmp_path):
    """Build apps with extra settings; each gets the same fresh database."""
    made = []

    def build(**overrides):
        app = create_app({**base_config(tmp_path), **overrides})
        app.test_client_class = PerRequestGlobalsClient
        with app.app_context():
            if not made:
                _reset_schema()
        made.append(app)
        return app

    yield build
    for app in made:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def app(app_factory):
    app = app_factory()
    with app.app_context():
        yield app


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def smtp():
    """A real SMTP server on 127.0.0.1 (aiosmtpd) collecting what the app sends."""
    with running_smtp_server() as server:
        yield server


@pytest.fixture
def mail_app(app_factory, smtp):
    """An app whose mail goes to the ``smtp`` fixture's server."""
    app = app_factory(**mail_config(smtp.port))
    with app.app_context():
        yield app


# --- factories ---------------------------------------------------------------------------


def make_user(
    username: str | None = None, role: Role = Role.READER, password: str = PASSWORD, **kw
) -> User:
    """A committed account (cheap hashing in tests)."""
    username = username or f"user{next(_serial)}"
    return accounts.register(username, password, role=role, **kw)


def make_series(title: str = "A Series", slug: str | None = None) -> Series:
    series = Series(
        title=title, slug=slug or f"series-{next(_serial)}", description="About things."
    )
    db.session.add(series)
    db.session.commit()
    return series


def make_article(
    author: User | None = None,
    *,
    series: Series | None = None,
    position: int | None = None,
    slug: str | None = None,
    title: str = "An Article",
) -> Article:
    author = author or make_user(role=Role.AUTHOR)
    article = Article(
        slug=slug or f"article-{next(_serial)}",
        title=title,
        summary="A summary.",
        body_md="Body text.",
        body_html="<p>Body text.</p>",
        author=author,
        series=series,
        position=position,
    )
    db.session.add(article)
    db.session.commit()
    return article


def login(client, user: User) -> None:
    """Log ``client`` in as ``user`` without a login POST (as Flask-Login's test client does)."""
    now = int(time.time())
    with client.session_transaction() as session:
        session["_user_id"] = user.get_id()
        session["_fresh"] = True
        session["login_at"] = now
        session["seen_at"] = now


def csrf_token_from(html: str) -> str:
    """The CSRF token embedded in a rendered form."""
    marker = 'name="csrf_token" type="hidden" value="'
    start = html.find(marker)
    if start == -1:
        marker = 'name="csrf_token" value="'
        start = html.find(marker)
    assert start != -1, "no CSRF token in the page"
    start += len(marker)
    return html[start : html.index('"', start)]
