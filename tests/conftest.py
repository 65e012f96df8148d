"""Fixtures, one model as in Flask's tutorial (flaskr): every test gets a fresh app on a fresh
database, with an app context pushed for the test; ``client`` and ``runner`` talk to it.

A fresh database is cheap: on SQLite the schema is built once per session (per xdist worker)
into a template file that each test copies; on PostgreSQL (``FORUM_TEST_DATABASE_URL`` set to
a database the suite may wipe) the schema is built once per session and every table is
emptied (and its ids restarted) before each test. Under pytest-xdist each worker
gets its own PostgreSQL database, named after the configured one plus the worker id, created
when missing and dropped at the end of the session. What else keeps a fresh app per test
cheap is in tests/cheap_apps.py."""

import os
import shutil
import time
from itertools import count

import pytest
from flask import has_app_context
from flask.globals import app_ctx
from flask.testing import FlaskClient
from sqlalchemy import inspect, text
from sqlalchemy.engine import make_url

from forum import create_app
from forum.extensions import db
from forum.models import Article, Role, Series, User
from forum.services import accounts
from tests.cheap_apps import TEMPLATE_CACHE
from tests.mail_support import mail_config, running_smtp_server
from tests.postgres_support import admin_connection

CONFIGURED_DATABASE_URL = os.environ.get("FORUM_TEST_DATABASE_URL")
TEST_REDIS_URL = os.environ.get("FORUM_TEST_REDIS_URL")
PASSWORD = "correct horse battery"

# "gw0", "gw1", ... in an xdist worker; empty in a run without xdist (or with -n 0).
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")


def _worker_database_url(url: str | None) -> str | None:
    """The configured PostgreSQL database as is without xdist, or ``<name>_<worker>``: two
    workers truncating one database would empty each other's tables mid-test."""
    if not url or not WORKER:
        return url
    parsed = make_url(url)
    return parsed.set(database=f"{parsed.database}_{WORKER}").render_as_string(hide_password=False)


# The database this process's tests use (None: a SQLite file per test).
TEST_DATABASE_URL = _worker_database_url(CONFIGURED_DATABASE_URL)

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


class RequestClient(FlaskClient):
    """The suite's one test client: every request starts and ends as in production.

    The test's app context stays pushed and Flask reuses it for requests, so without this
    ``flask.g`` (where Flask-Login caches the current user and Flask-WTF the CSRF token)
    would carry over from one request, and one client, to the next. Each request gets its own
    ``g``, and what it left uncommitted in the (shared) database session is rolled back, as a
    real request's teardown does; committed rows and loaded objects stay usable."""

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
            db.session.rollback()


# --- the database, once per session -----------------------------------------------------------


def _admin_connection():
    """An autocommit connection to the PostgreSQL server's maintenance database."""
    return admin_connection(CONFIGURED_DATABASE_URL)


def _reset_schema() -> None:
    """Every table of the models, on an empty schema (in the current app context)."""
    if db.engine.dialect.name == "postgresql":
        with db.engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    db.create_all()
    db.session.remove()


def _build_schema(app) -> None:
    with app.app_context():
        _reset_schema()
        db.engine.dispose()


@pytest.fixture(scope="session")
def database_template(tmp_path_factory):
    """Build the schema once: into an SQLite file that each test copies (returned), or into
    this worker's PostgreSQL database (None), created here and dropped afterwards under xdist."""
    directory = tmp_path_factory.mktemp("template")
    if not TEST_DATABASE_URL:
        template = directory / "template.sqlite3"
        config = {**base_config(directory), "DATABASE_URL": f"sqlite:///{template}"}
        _build_schema(create_app(config))
        yield template
        return
    own_database = TEST_DATABASE_URL != CONFIGURED_DATABASE_URL
    name = make_url(TEST_DATABASE_URL).database
    if own_database:
        with _admin_connection() as admin:
            exists = admin.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", (name,)
            ).fetchone()
            if not exists:
                admin.execute(f'CREATE DATABASE "{name}"')
    _build_schema(create_app(base_config(directory)))
    yield None
    if own_database:
        with _admin_connection() as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _empty_postgres_tables() -> None:
    """Delete every row (children first) and restart every id sequence, in one transaction;
    rebuild the schema instead when a test left it different from the models' (the demo
    command drops it and migrates). DELETE, not TRUNCATE: on tables this small TRUNCATE
    costs 250 ms or more a test (new files for every table), DELETE about 30 ms."""
    tables = db.metadata.sorted_tables
    if set(inspect(db.engine).get_table_names()) != {table.name for table in tables}:
        _reset_schema()
        return
    with db.engine.begin() as conn:
        sequences = conn.exec_driver_sql(
            "SELECT sequence_name FROM information_schema.sequences"
            " WHERE sequence_schema = 'public'"
        ).scalars()
        statements = [f'DELETE FROM "{table.name}"' for table in reversed(tables)]  # noqa: S608
        statements += [f'ALTER SEQUENCE "{name}" RESTART' for name in sequences]
        conn.exec_driver_sql("; ".join(statements))


def seeded_template(template, directory, seed):
    """A copy of the empty SQLite ``template`` in ``directory`` with ``seed()`` run on it in
    an app context; returns the file and what ``seed`` returned. A module whose every test
    starts from the same data overrides ``database_template`` with such a file (see
    tests/views/test_authorization.py), so its tests copy the data instead of building it."""
    path = directory / "seeded.sqlite3"
    shutil.copyfile(template, path)
    app = create_app({**base_config(directory), "DATABASE_URL": f"sqlite:///{path}"})
    with app.app_context():
        result = seed()
        db.session.remove()
        db.engine.dispose()
    return path, result


# --- the app, once per test -------------------------------------------------------------------


@pytest.fixture
def app_factory(tmp_path, database_template):
    """Build apps with extra settings; all of one test's apps share its fresh database."""
    if database_template is not None:
        shutil.copyfile(database_template, tmp_path / "test.sqlite3")
    made = []

    def build(**overrides):
        app = create_app({**base_config(tmp_path), **overrides})
        app.test_client_class = RequestClient
        app.jinja_env.bytecode_cache = TEMPLATE_CACHE
        if not made and database_template is None:
            with app.app_context():
                _empty_postgres_tables()
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


def client_as(app, user: User | None = None) -> RequestClient:
    """A client for ``app`` (any app, also one a test built itself), logged in as ``user``
    (anonymous when None)."""
    app.test_client_class = RequestClient
    client = app.test_client()
    if user is not None:
        login(client, user)
    return client


def snapshot() -> dict[str, list[tuple]]:
    """Every committed row of every table: compare two to prove that nothing changed.
    (Plain SQL: each test's fresh engine would compile these statements again.)"""
    db.session.rollback()
    connection = db.session.connection()
    state = {}
    for table in db.metadata.sorted_tables:
        order = ", ".join(column.name for column in table.primary_key.columns)
        query = f'SELECT * FROM "{table.name}" ORDER BY {order}'  # noqa: S608 (table names)
        rows = connection.exec_driver_sql(query)
        state[table.name] = [tuple(row) for row in rows]
    db.session.rollback()
    return state


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
