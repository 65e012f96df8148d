"""Writers to one SQLite file take turns through a lock file, so a waiting writer starts the
moment the one before it commits.

SQLite's busy timeout makes a writer that finds the write lock taken *sleep* and try again,
1, 2, 5, 10 ... 100 ms at a time, and a sleeper is overtaken by writers that arrive while it
sleeps. Under 4 concurrent writers (2 gunicorn workers, each with its fan-out thread) a few
posts in a hundred waited half a second or more that way, with the lock free most of that
time. Here a writer first takes an exclusive ``flock`` on ``<database>-writers.lock`` (one
open file per connection, so threads of one process take turns too), polled at short
intervals, then begins its ``BEGIN IMMEDIATE``; its commit or rollback lets go of both.

The lock file only orders writers: a writer that can't have it within the busy timeout goes
on without it and meets SQLite's own lock and timeout as before ("database is locked", 503),
and a process that dies loses its ``flock`` with it. Readers never touch it."""

import fcntl
import logging
import os
import time
from collections.abc import Callable

from sqlalchemy.engine import Engine

# Between two tries for the lock file: short, so a handover costs well under a millisecond
# of waiting, and growing to a cap, so a long wait costs little CPU.
FIRST_PAUSE_S = 0.0001
LONGEST_PAUSE_S = 0.001

logger = logging.getLogger("forum.sqlite_writers")

_FD = "forum_writers_lock_fd"
_NO_FILE = -1
_HELD = "forum_writers_lock_held"


def lock_path(engine: Engine) -> str | None:
    """The lock file beside the database file; None for an in-memory database."""
    database = engine.url.database
    if not database or database == ":memory:" or database.startswith("file::memory:"):
        return None
    return f"{database}-writers.lock"


def install(engine: Engine, timeout_ms: int) -> Callable[[object], None] | None:
    """Make ``engine``'s commits and rollbacks let go of the lock; returns the function
    ``take(connection_info)`` that the start of a write transaction calls (None when the
    database has no file to put a lock beside)."""
    path = lock_path(engine)
    if path is None:
        return None
    dialect = engine.dialect
    commit, rollback = dialect.do_commit, dialect.do_rollback

    def do_commit(dbapi_connection) -> None:
        try:
            commit(dbapi_connection)
        finally:
            release(_info(dbapi_connection))

    def do_rollback(dbapi_connection) -> None:
        try:
            rollback(dbapi_connection)
        finally:
            release(_info(dbapi_connection))

    # On this engine's dialect only (other engines, tests' included, keep theirs).
    dialect.do_commit = do_commit
    dialect.do_rollback = do_rollback

    def take(info: dict) -> None:
        fd = info.get(_FD)
        if fd is None:
            try:
                fd = info[_FD] = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
            except OSError:
                # A directory we may not write to: SQLite's own lock and timeout still hold.
                logger.warning("No lock file for SQLite writers at %s", path, exc_info=True)
                info[_FD] = _NO_FILE
                return
        if fd == _NO_FILE:
            return
        deadline = time.monotonic() + timeout_ms / 1000
        pause = FIRST_PAUSE_S
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    return  # go on without it: SQLite's own timeout decides
                time.sleep(pause)
                pause = min(pause * 2, LONGEST_PAUSE_S)
                continue
            info[_HELD] = True
            return

    return take


def _info(dbapi_connection) -> dict | None:
    """The pool's record of a connection, where its lock file is kept (None for the bare
    connection SQLAlchemy checks once at its first connect)."""
    try:
        return dbapi_connection.info
    except (AttributeError, NotImplementedError):
        return None


def release(info: dict | None) -> None:
    """Let go of the lock file if this connection holds it (a no-op otherwise)."""
    if info and info.get(_HELD):
        info[_HELD] = False
        fcntl.flock(info[_FD], fcntl.LOCK_UN)


def close(info: dict | None) -> None:
    """Close the connection's lock file (closing lets go of the lock too)."""
    if info and info.get(_FD) is not None:
        fd = info.pop(_FD)
        info[_HELD] = False
        if fd != _NO_FILE:
            os.close(fd)
