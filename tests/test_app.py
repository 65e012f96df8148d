"""The application factory: configuration layers, the secret key, the database engine and
the session cookie."""

import gc
import os
import stat
import sys
import types
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from forum import create_app
from forum.config import DefaultConfig
from forum.extensions import db
from forum.models import User
from tests.conftest import PASSWORD, TEST_DATABASE_URL, make_user

CHEAP_HASHING = {"PASSWORD_TIME_COST": 1, "PASSWORD_MEMORY_COST": 8, "PASSWORD_PARALLELISM": 1}


@pytest.fixture
def bare_config(tmp_path, monkeypatch) -> dict:
    """Test settings that leave the secret key and the database to the factory's defaults,
    with none of the caller's ``FORUM_*`` variables leaking in."""
    for name in list(os.environ):
        if name.startswith("FORUM_"):
            monkeypatch.delenv(name)
    return {"TESTING": True, "INSTANCE_PATH": str(tmp_path / "instance"), **CHEAP_HASHING}


# --- configuration layers ---------------------------------------------------------------


def test_defaults_apply_when_nothing_overrides_them(bare_config):
    app = create_app(bare_config)
    assert app.config["EDIT_WINDOW_MINUTES"] == DefaultConfig.EDIT_WINDOW_MINUTES
    assert app.config["MAX_CONTENT_LENGTH"] == 64 * 1024
    assert app.config["PERMANENT_SESSION_LIFETIME"] == timedelta(
        hours=DefaultConfig.SESSION_LIFETIME_HOURS
    )


def test_test_config_overrides_defaults(bare_config):
    app = create_app({**bare_config, "EDIT_WINDOW_MINUTES": 5})
    assert app.config["EDIT_WINDOW_MINUTES"] == 5
    assert app.config["TESTING"] is True


@pytest.mark.parametrize(
    ("variable", "value", "key", "expected"),
    [
        ("FORUM_EDIT_WINDOW_MINUTES", "30", "EDIT_WINDOW_MINUTES", 30),
        ("FORUM_SPAM_CHECKS_ENABLED", "false", "SPAM_CHECKS_ENABLED", False),
        ("FORUM_SANITIZER", "nh3", "SANITIZER", "nh3"),
        ("FORUM_RATELIMIT_LOGIN", "3 per minute", "RATELIMIT_LOGIN", "3 per minute"),
        ("FORUM_SESSION_COOKIE_SECURE", "true", "SESSION_COOKIE_SECURE", True),
    ],
)
def test_forum_environment_variables_reach_config_parsed_as_json(
    bare_config, monkeypatch, variable, value, key, expected
):
    monkeypatch.setenv(variable, value)
    app = create_app(bare_config)
    assert app.config[key] == expected
    assert type(app.config[key]) is type(expected)


def test_database_url_from_environment_becomes_the_sqlalchemy_uri(
    bare_config, monkeypatch, tmp_path
):
    url = f"sqlite:///{tmp_path / 'elsewhere.sqlite3'}"
    monkeypatch.setenv("FORUM_DATABASE_URL", url)
    app = create_app(bare_config)
    assert app.config["SQLALCHEMY_DATABASE_URI"] == url


def test_session_lifetime_hours_from_environment_set_the_cookie_lifetime(bare_config, monkeypatch):
    monkeypatch.setenv("FORUM_SESSION_LIFETIME_HOURS", "2")
    app = create_app(bare_config)
    assert app.config["PERMANENT_SESSION_LIFETIME"] == timedelta(hours=2)


def test_layers_apply_in_order_instance_file_then_environment_then_test_config(
    bare_config, monkeypatch
):
    instance = Path(bare_config["INSTANCE_PATH"])
    instance.mkdir(parents=True)
    (instance / "config.py").write_text("EDIT_WINDOW_MINUTES = 45\nTHREADS_PER_PAGE = 7\n")
    assert create_app(bare_config).config["EDIT_WINDOW_MINUTES"] == 45

    monkeypatch.setenv("FORUM_EDIT_WINDOW_MINUTES", "30")
    app = create_app(bare_config)
    assert app.config["EDIT_WINDOW_MINUTES"] == 30
    assert app.config["THREADS_PER_PAGE"] == 7  # the instance file still counts

    assert create_app({**bare_config, "EDIT_WINDOW_MINUTES": 5}).config["EDIT_WINDOW_MINUTES"] == 5


# --- database ---------------------------------------------------------------------------


def test_default_database_is_an_sqlite_file_in_the_instance_folder(bare_config):
    app = create_app(bare_config)
    expected = Path(bare_config["INSTANCE_PATH"]) / "forum.sqlite3"
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{expected}"
    with app.app_context():
        assert db.engine.dialect.name == "sqlite"
        assert Path(db.engine.url.database) == expected


def test_factory_does_no_database_work(bare_config):
    """Building the app must not connect: an unreachable server or a missing file is fine."""
    app = create_app(bare_config)
    assert not (Path(bare_config["INSTANCE_PATH"]) / "forum.sqlite3").exists()

    unreachable = "postgresql+psycopg://nobody@127.0.0.1:9/nowhere"
    app = create_app({**bare_config, "DATABASE_URL": unreachable})
    assert app.config["SQLALCHEMY_DATABASE_URI"] == unreachable
    assert app.config["SQLALCHEMY_ENGINE_OPTIONS"] == {"pool_pre_ping": True}


@pytest.fixture
def sqlite_only():
    if TEST_DATABASE_URL:
        pytest.skip("SQLite pragmas; the suite is running on PostgreSQL")


def test_sqlite_connections_use_wal_foreign_keys_and_a_busy_timeout(app, sqlite_only):
    def pragmas(run) -> tuple:
        return tuple(
            run(text(f"PRAGMA {name}")).fetchone()[0]
            for name in ("journal_mode", "foreign_keys", "busy_timeout")
        )

    assert pragmas(db.session.execute) == ("wal", 1, 5000)
    # A second connection opened while the first is busy gets the same settings. (A raw
    # DBAPI connection: through SQLAlchemy it would BEGIN IMMEDIATE and wait on the first.)
    other = db.engine.raw_connection()
    try:
        cursor = other.cursor()
        assert pragmas(lambda sql: cursor.execute(str(sql))) == ("wal", 1, 5000)
    finally:
        other.close()


def test_sqlite_enforces_foreign_keys(app, sqlite_only):
    with pytest.raises(Exception, match="FOREIGN KEY"):
        db.session.execute(
            text(
                "INSERT INTO articles (slug, title, summary, body_md, body_html, author_id,"
                " published_at, discussion_locked) VALUES ('x', 'x', '', '', '', 999,"
                " '2026-01-01 00:00:00', 0)"
            )
        )
        db.session.commit()
    db.session.rollback()


# --- secret key -------------------------------------------------------------------------


def test_secret_key_is_generated_once_and_kept_in_the_instance_folder(bare_config, tmp_path):
    first = create_app(bare_config)
    key_file = Path(bare_config["INSTANCE_PATH"]) / "secret_key"
    key = first.config["SECRET_KEY"]
    assert key_file.read_text().strip() == key
    assert len(key) >= 32
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600

    assert create_app(bare_config).config["SECRET_KEY"] == key

    other_instance = {**bare_config, "INSTANCE_PATH": str(tmp_path / "other")}
    assert create_app(other_instance).config["SECRET_KEY"] != key


def test_configured_secret_key_wins_and_no_key_file_is_written(bare_config, monkeypatch):
    monkeypatch.setenv("FORUM_SECRET_KEY", "from-the-environment")
    app = create_app(bare_config)
    assert app.config["SECRET_KEY"] == "from-the-environment"
    assert not (Path(bare_config["INSTANCE_PATH"]) / "secret_key").exists()


def test_an_empty_secret_key_file_never_becomes_an_empty_key(bare_config):
    instance = Path(bare_config["INSTANCE_PATH"])
    instance.mkdir(parents=True)
    (instance / "secret_key").write_text("")
    try:
        app = create_app(bare_config)
    except RuntimeError:
        return  # refusing to start with an unusable key is acceptable too
    assert app.config["SECRET_KEY"]


# --- session cookie ---------------------------------------------------------------------


def _login_cookie_header(client) -> str:
    response = client.post("/login", data={"username": "alice", "password": PASSWORD})
    assert response.status_code == 302
    (cookie,) = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("session=")]
    return cookie


def test_session_cookie_is_httponly_and_samesite_lax(app, client):
    make_user("alice")
    cookie = _login_cookie_header(client)
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Secure" not in cookie


def test_session_cookie_is_secure_when_the_environment_says_so(app_factory, monkeypatch):
    monkeypatch.setenv("FORUM_SESSION_COOKIE_SECURE", "true")
    app = app_factory()
    assert app.config["SESSION_COOKIE_SECURE"] is True
    with app.app_context():
        make_user("alice")
    cookie = _login_cookie_header(app.test_client())
    assert "Secure" in cookie
    assert "HttpOnly" in cookie


# --- extensions are per app -------------------------------------------------------------


def test_each_app_hashes_with_its_own_password_parameters(app_factory):
    first = app_factory(PASSWORD_TIME_COST=1)
    app_factory(PASSWORD_TIME_COST=2)
    response = first.test_client().post(
        "/register",
        data={"username": "alice", "password": PASSWORD, "confirm": PASSWORD},
    )
    assert response.status_code == 302
    with first.app_context():
        stored = db.session.execute(db.select(User.password_hash)).scalar_one()
    assert ",t=1," in stored


@pytest.mark.parametrize("testing", [False, True])
def test_a_gunicorn_worker_hides_what_startup_made_from_the_garbage_collector(
    bare_config, monkeypatch, testing
):
    """A full collection in a serving worker walks only what requests made since startup
    (forum._freeze_startup_objects); tests and commands leave the collector alone."""
    monkeypatch.setitem(sys.modules, "gunicorn", types.ModuleType("gunicorn"))
    gc.unfreeze()
    try:
        create_app({**bare_config, "TESTING": testing})
        frozen = gc.get_freeze_count()
    finally:
        gc.unfreeze()  # the test process keeps collecting as before
    if testing:
        assert frozen == 0
    else:
        assert frozen > 10_000
