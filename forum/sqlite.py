"""SQLite connection settings: WAL, foreign keys, a busy timeout, and explicit transactions.

pysqlite's own transaction handling starts a *deferred* transaction lazily; a request that
reads and then writes under concurrency then fails at once with "database is locked" (its
WAL snapshot cannot be upgraded, and busy_timeout cannot help). So the driver's handling is
switched off and every transaction is begun here: ``BEGIN IMMEDIATE`` when the current work
may write (unsafe HTTP methods, CLI commands), a plain ``BEGIN`` for reads.
See ../shared/PITFALLS.md, "SQLite under several gunicorn workers"."""

from contextvars import ContextVar

from sqlalchemy import event
from sqlalchemy.engine import Engine

BUSY_TIMEOUT_MS = 5000

# True while handling a request that may write; CLI and tests default to writing.
write_intent: ContextVar[bool] = ContextVar("forum_sqlite_write_intent", default=True)


def mark_request_intent(method: str) -> None:
    """Called at the start of each request: only unsafe methods take the write lock."""
    write_intent.set(method not in ("GET", "HEAD", "OPTIONS"))


def configure_sqlite_engine(engine: Engine) -> None:
    """Attach the pragmas and the transaction-start policy to an SQLite engine."""
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE" if write_intent.get() else "BEGIN")
