"""The migrations build exactly the models' schema from nothing, and take it away again with
data in the tables, on SQLite and on PostgreSQL."""

import logging
import os

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from forum import create_app
from forum.extensions import db
from forum.models import Comment
from tests.conftest import base_config, make_article, make_series, make_user
from tests.postgres_support import fresh_postgres_database

POSTGRES_URL = os.environ.get("FORUM_TEST_DATABASE_URL")


@pytest.fixture(autouse=True)
def keep_loggers_enabled():
    """alembic.ini's fileConfig disables every logger that exists when a migration runs in
    this process; put them back so that later tests still log."""
    loggers = [logging.getLogger(name) for name in list(logging.root.manager.loggerDict)]
    enabled = [logger for logger in loggers if not logger.disabled]
    yield
    for logger in enabled:
        logger.disabled = False


def migrations_app(tmp_path, database_url: str):
    """An app on an empty database that nothing but the migrations will touch."""
    return create_app({**base_config(tmp_path), "DATABASE_URL": database_url})


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'migrated.sqlite3'}"


@pytest.fixture
def postgres_url():
    """A fresh PostgreSQL database of its own on the test server, dropped afterwards."""
    if not POSTGRES_URL:
        pytest.skip("FORUM_TEST_DATABASE_URL is not set: no PostgreSQL server to migrate")
    with fresh_postgres_database(POSTGRES_URL) as url:
        yield url


def table_names() -> set[str]:
    return set(sa.inspect(db.engine).get_table_names())


def model_tables() -> set[str]:
    return set(db.metadata.tables)


def schema_differences() -> list:
    """What ``alembic check`` would find: differences between the models and the database."""
    with db.engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "compare_server_default": True}
        )
        return compare_metadata(context, db.metadata)


def add_rows() -> None:
    """A row in the main tables, so the downgrade has to cope with data."""
    author = make_user("mara")
    article = make_article(author, series=make_series(), position=1)
    db.session.add(Comment(article=article, author=author, body_md="Hi", body_html="<p>Hi</p>"))
    db.session.commit()


def migrate_up_and_down(app) -> None:
    with app.app_context():
        try:
            assert table_names() == set()
            upgrade()
            assert table_names() == model_tables() | {"alembic_version"}
            assert schema_differences() == []

            add_rows()
            db.session.remove()  # end the session's transaction before the schema changes

            downgrade(revision="base")
            assert table_names() == {"alembic_version"}

            upgrade()  # and back up: the downgrade left nothing in the way
            assert table_names() == model_tables() | {"alembic_version"}
            downgrade(revision="base")
        finally:
            db.session.remove()
            db.engine.dispose()


def test_sqlite_upgrade_from_nothing_and_downgrade_with_data(tmp_path, sqlite_url):
    migrate_up_and_down(migrations_app(tmp_path, sqlite_url))


@pytest.mark.postgres
def test_postgresql_upgrade_from_nothing_and_downgrade_with_data(tmp_path, postgres_url):
    migrate_up_and_down(migrations_app(tmp_path, postgres_url))


def test_upgrade_twice_is_a_no_op(tmp_path, sqlite_url):
    app = migrations_app(tmp_path, sqlite_url)
    with app.app_context():
        upgrade()
        upgrade()
        with db.engine.connect() as connection:
            versions = connection.execute(sa.text("SELECT version_num FROM alembic_version"))
            assert len(versions.all()) == 1
        db.engine.dispose()


def test_sqlite_foreign_keys_are_back_on_after_a_migration(tmp_path, sqlite_url):
    """The migration switches them off on its own connection; the app's need them on."""
    app = migrations_app(tmp_path, sqlite_url)
    with app.app_context():
        upgrade()
        with db.engine.connect() as connection:
            assert connection.execute(sa.text("PRAGMA foreign_keys")).scalar() == 1
        db.engine.dispose()


def test_running_migrations_leaves_the_app_logger_enabled(tmp_path, sqlite_url):
    app = migrations_app(tmp_path, sqlite_url)
    logger = app.logger
    with app.app_context():
        upgrade()
        db.engine.dispose()
    assert not logger.disabled


def test_existing_accounts_get_their_name_skeletons(tmp_path, sqlite_url):
    """Accounts made before the look-alike check existed are compared with new names too:
    the migration that adds the skeleton columns fills them."""
    app = migrations_app(tmp_path, sqlite_url)
    with app.app_context():
        try:
            upgrade(revision="c3f1d7a2e9b4")
            with db.engine.begin() as connection:
                connection.execute(
                    sa.text(
                        "INSERT INTO users (username, username_key, display_name, role,"
                        " created_at, trusted, session_token, email_confirmed,"
                        " email_preference) VALUES ('theo', 'theo', 'Th\u00e9o O.', 'moderator',"
                        " '2026-01-01 00:00:00', 0, 'token', 0, 'none')"
                    )
                )
            upgrade(revision="40248653dff9")
            with db.engine.connect() as connection:
                row = connection.execute(
                    sa.text("SELECT username_skeleton, display_name_skeleton FROM users")
                ).one()
            assert tuple(row) == ("theo", "theoo")
        finally:
            db.session.remove()
            db.engine.dispose()
