"""Helpers shared by the moderation, authorization and rate-limit tests.

The ``app`` fixture keeps one application context open for a whole test, and Flask reuses it
for every request made through the test client. Two things then leak from one request to the
next that never leak in production: Flask-Login's user cached in ``g``, and whatever the
request left in the shared database session. ``FreshUserClient`` clears both, so each request
sees the session cookie it carries and the database as committed."""

from flask import g, has_app_context
from flask.testing import FlaskClient
from sqlalchemy import select

from forum.extensions import db
from tests.conftest import _reset_schema, base_config, login

__all__ = [
    "FreshUserClient",
    "client_as",
    "close_module_app",
    "make_module_app",
    "restore_tables",
    "snapshot",
    "wipe_tables",
]


class FreshUserClient(FlaskClient):
    """A test client whose every request starts like a request in production."""

    def open(self, *args, **kwargs):
        if has_app_context():
            g.pop("_login_user", None)
        try:
            return super().open(*args, **kwargs)
        finally:
            # What the teardown of a real request does: uncommitted work is thrown away.
            if has_app_context():
                db.session.rollback()


def client_as(app, user=None) -> FreshUserClient:
    """A client for ``app``, logged in as ``user`` (anonymous when None)."""
    app.test_client_class = FreshUserClient
    client = app.test_client()
    if user is not None:
        login(client, user)
    return client


def snapshot() -> dict[str, list[tuple]]:
    """Every row of every table, as committed: the database's whole state, for comparison."""
    db.session.rollback()
    state = {}
    for table in db.metadata.sorted_tables:
        query = select(table).order_by(*table.primary_key.columns)
        state[table.name] = [tuple(row) for row in db.session.execute(query)]
    db.session.rollback()
    return state


def _delete_all_rows() -> None:
    db.session.rollback()
    for table in reversed(db.metadata.sorted_tables):
        db.session.execute(table.delete())


def wipe_tables() -> None:
    """Delete every row (children first), so a module-wide app can start each test empty."""
    _delete_all_rows()
    db.session.commit()
    # The rows are gone behind the ORM's back (and SQLite reuses their ids): forget them.
    db.session.expunge_all()


def restore_tables(state: dict[str, list[tuple]]) -> None:
    """Put the database back exactly as ``snapshot`` saw it (same rows, same ids), in one
    transaction; objects already loaded stay usable and reload their rows."""
    _delete_all_rows()
    for table in db.metadata.sorted_tables:
        rows = state[table.name]
        if rows:
            names = [column.key for column in table.columns]
            db.session.execute(table.insert(), [dict(zip(names, row, strict=True)) for row in rows])
    db.session.commit()


def make_module_app(tmp_path_factory, name: str):
    """One app for a whole module (building an app and its schema per test costs more than
    the tests themselves); the caller keeps its app context open and wipes between tests."""
    from forum import create_app

    app = create_app(base_config(tmp_path_factory.mktemp(name)))
    app.test_client_class = FreshUserClient
    ctx = app.app_context()
    ctx.push()
    _reset_schema()
    return app, ctx


def close_module_app(ctx) -> None:
    """Undo ``make_module_app``: release the connections and pop the context."""
    db.session.remove()
    db.engine.dispose()
    ctx.pop()
