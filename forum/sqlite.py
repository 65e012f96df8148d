"""SQLite connection settings: WAL, foreign keys, a busy timeout, and explicit transactions.

pysqlite's own transaction handling starts a *deferred* transaction lazily; a request that
reads and then writes under concurrency then fails at once with "database is locked" (its
WAL snapshot cannot be upgraded, and busy_timeout cannot help). So the driver's handling is
switched off and every transaction is begun here: ``BEGIN IMMEDIATE`` when the current work
may write (unsafe HTTP methods, CLI commands), a plain ``BEGIN`` for reads. (Measured with
2 workers and 8 writers: deferred read-then-write transactions failed 27-51 % of the time,
``BEGIN IMMEDIATE`` with a busy timeout never.)

``BEGIN IMMEDIATE`` takes the database's one write lock and holds it until the commit, so
nothing slow may run inside it. Two tools keep it short:

- ``@reads_first`` on a view: its request starts with plain ``BEGIN`` transactions even for
  a POST (the preview, the login's password check, the reads and Markdown rendering before
  a comment is stored). Such a request that writes must do so inside ``writing()``.
- ``writing(session)``: ends the read transaction (nothing was written in it, so there is
  nothing to upgrade) and makes the next one ``BEGIN IMMEDIATE``, for the block. Everything
  the write depends on is read again inside it (the commit expired the ORM objects), under
  the lock, so no decision rests on a stale snapshot.

A write that waits longer than the busy timeout for the lock fails with "database is
locked"; the app answers that with 503 and Retry-After (forum/errors.py)."""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, scoped_session

from forum import sqlite_writers

BUSY_TIMEOUT_MS = 5000

# True while handling a request that may write; CLI and tests default to writing.
write_intent: ContextVar[bool] = ContextVar("forum_sqlite_write_intent", default=True)

# Marks a view function whose POST begins with read transactions (see ``reads_first``).
READS_FIRST_ATTRIBUTE = "sqlite_reads_first"


def reads_first(view: Callable) -> Callable:
    """Mark ``view``: its requests read without the write lock; any write it makes runs in
    ``writing()``. The mark survives decorators that use functools.wraps (they copy
    ``__dict__``), so it may sit anywhere under the route decorator."""
    setattr(view, READS_FIRST_ATTRIBUTE, True)
    return view


def mark_request_intent(method: str, view: Callable | None = None) -> None:
    """Called at the start of each request: only unsafe methods of views not marked
    ``reads_first`` begin their transactions with the write lock."""
    unsafe = method not in ("GET", "HEAD", "OPTIONS")
    write_intent.set(unsafe and not getattr(view, READS_FIRST_ATTRIBUTE, False))


@contextmanager
def writing(session: Session | scoped_session) -> Iterator[None]:
    """Run the block in a write transaction (``BEGIN IMMEDIATE`` on SQLite).

    A read transaction already open is committed first (it wrote nothing); with a write
    transaction already open, or on another database, this changes nothing. The request's
    intent is restored afterwards, so reads after the block take no lock."""
    if isinstance(session, scoped_session):
        session = session()  # Flask-SQLAlchemy's db.session: this request's session
    if session.get_bind().dialect.name != "sqlite":
        yield
        return
    if session.in_transaction() and not session.connection().info.get("sqlite_immediate"):
        session.commit()
    token = write_intent.set(True)
    try:
        yield
    finally:
        write_intent.reset(token)


def configure_sqlite_engine(engine: Engine, busy_timeout_ms: int = BUSY_TIMEOUT_MS) -> None:
    """Attach the pragmas and the transaction-start policy to an SQLite engine."""
    if engine.dialect.name != "sqlite":
        return
    timeout = int(busy_timeout_ms)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {timeout}")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.close()

    # Writers take turns through a lock file before SQLite's lock (see sqlite_writers).
    take_turn = sqlite_writers.install(engine, timeout)

    @event.listens_for(engine, "close")
    def _on_close(_dbapi_connection, record) -> None:
        sqlite_writers.close(record.info)

    @event.listens_for(engine, "begin")
    def _on_begin(connection) -> None:
        immediate = write_intent.get()
        if immediate and take_turn is not None:
            take_turn(connection.connection.info)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")
        # Read by writing(): a deferred transaction must end before the write lock is asked.
        connection.info["sqlite_immediate"] = immediate
