"""Where the anonymous-page middleware learns an article's id and discussion version.

A revalidation (``If-None-Match``) should cost next to nothing, so on SQLite each process
remembers slug → (id, version) and trusts the memory only while ``PRAGMA data_version`` on
its own read-only connection is unchanged. SQLite changes that number whenever any other
connection (another worker, this worker's request sessions, a CLI command) commits to the
database, so the memory is dropped on every commit anywhere and never outlives a version.
A commit that lands between the pragma and the lookup makes the memory hold a newer value
under the older number: the next pragma differs and drops it, so that errs only towards a
lookup. On any other database, or an SQLite database in memory, each request asks the
database (one small indexed query)."""

import contextlib
import os
import sqlite3
import threading

from sqlalchemy import bindparam, event, select
from sqlalchemy.dialects import sqlite as sqlite_dialect
from sqlalchemy.engine import Engine

from forum.models import Article
from forum.sqlite import BUSY_TIMEOUT_MS, write_intent

_VERSION = select(Article.id, Article.discussion_version).where(Article.slug == bindparam("slug"))
# Bounded so that requests for many addresses can't grow a worker: past it, start again.
_MEMO_LIMIT = 4096


class VersionsUnavailable(Exception):
    """The database couldn't be asked; the app answers the request instead."""


class QueriedVersions:
    """One indexed query per lookup, through the app's engine."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def lookup(self, slug: str) -> tuple[int, int] | None:
        write_intent.set(False)  # a read: SQLite begins a plain BEGIN, no write lock
        with self.engine.connect() as connection:
            row = connection.execute(_VERSION, {"slug": slug}).first()
        return None if row is None else (row[0], row[1])


class PostgresVersions:
    """One prepared query per lookup on a PostgreSQL connection of its own, in autocommit
    (each lookup sees every commit before it): a fifth of the CPU of the same query through
    the engine's pool, measured here. A failed connection is dropped and made again on the
    next lookup; the error goes to the caller, which lets the app answer."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        # psycopg's positional form of the one parameter
        self._sql = str(_VERSION.compile(dialect=engine.dialect)).replace("%(slug)s", "%s")
        self._lock = threading.Lock()
        self._connection = None
        self._pid = 0

    def lookup(self, slug: str) -> tuple[int, int] | None:
        with self._lock:
            try:
                if self._connection is None or self._pid != os.getpid():
                    # Out of the pool for good: made with the engine's settings, never
                    # returned to it.
                    pooled = self.engine.raw_connection()
                    pooled.detach()
                    self._connection, self._pid = pooled.dbapi_connection, os.getpid()
                    self._connection.autocommit = True
                rows = self._connection.execute(self._sql, (slug,), prepare=True).fetchall()
            except Exception as error:  # the driver's own errors: the database is in trouble
                self._drop()
                raise VersionsUnavailable(str(error)) from error
        return (rows[0][0], rows[0][1]) if rows else None

    def _drop(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None and self._pid == os.getpid():
            with contextlib.suppress(Exception):  # already broken; a new one comes next time
                connection.close()

    def close(self) -> None:
        with self._lock:
            self._drop()


class WatchedSqliteVersions:
    """Versions remembered per process while SQLite's ``data_version`` stands still."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._sql = str(_VERSION.compile(dialect=sqlite_dialect.dialect()))  # one "?"
        self._lock = threading.Lock()
        self._connection: sqlite3.Connection | None = None
        self._pid = 0
        self._data_version: int | None = None
        self._memo: dict[str, tuple[int, int]] = {}

    def _open(self) -> sqlite3.Connection:
        # A forked worker must not share its parent's connection.
        if self._connection is None or self._pid != os.getpid():
            connection = sqlite3.connect(
                self.path, isolation_level=None, check_same_thread=False, timeout=0
            )
            connection.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_MS)}")
            connection.execute("PRAGMA query_only = ON")
            self._connection, self._pid = connection, os.getpid()
            self._data_version, self._memo = None, {}
        return self._connection

    def lookup(self, slug: str) -> tuple[int, int] | None:
        with self._lock:
            connection = self._open()
            # fetchall: each statement runs to its end, so no read transaction stays open
            # (it would pin an old snapshot, and hold the database against an exclusive
            # lock).
            [(data_version,)] = connection.execute("PRAGMA data_version").fetchall()
            if data_version != self._data_version:
                self._memo.clear()
                self._data_version = data_version
            found = self._memo.get(slug)
            if found is not None:
                return found
            rows = connection.execute(self._sql, (slug,)).fetchall()
            row = rows[0] if rows else None
            if row is None:
                return None  # not remembered: the app answers 404, or a new article appears
            if len(self._memo) >= _MEMO_LIMIT:
                self._memo.clear()
            found = self._memo[slug] = (row[0], row[1])
            return found

    def close(self) -> None:
        with self._lock:
            if self._connection is not None and self._pid == os.getpid():
                self._connection.close()
            self._connection = None


def for_engine(engine: Engine) -> QueriedVersions | WatchedSqliteVersions:
    """The cheapest safe lookup for the app's database."""
    url = engine.url
    database = url.database or ""
    on_disk = database not in ("", ":memory:") and not database.startswith("file:")
    if url.get_backend_name() == "sqlite" and on_disk and not url.query.get("uri"):
        versions = WatchedSqliteVersions(database)
        # When the app lets go of its connections (``engine.dispose()``), this one goes
        # too: an open WAL connection holds the file against an exclusive lock.
        event.listen(engine, "engine_disposed", lambda _engine: versions.close())
        return versions
    if url.get_backend_name() == "postgresql" and url.get_driver_name() == "psycopg":
        versions = PostgresVersions(engine)
        event.listen(engine, "engine_disposed", lambda _engine: versions.close())
        return versions
    return QueriedVersions(engine)
