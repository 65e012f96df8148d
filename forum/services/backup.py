"""Backups and restores of the whole database, online: the site keeps serving while a backup
is taken, and what is copied is one consistent snapshot.

SQLite: the sqlite3 backup API copies the database page by page from a read snapshot (a
plain file copy of a WAL database in use can miss or tear pages). PostgreSQL: ``pg_dump`` in
its custom format (one transaction, so one snapshot), restored with ``pg_restore``. The pg
tools run as subprocesses with the connection given as separate arguments and the password
in ``PGPASSWORD``, never on a command line another user could read in ``ps``.

A restore goes into an empty database only, unless forced: restoring over live data would
mix two histories (or, on PostgreSQL, fail halfway on duplicate keys)."""

import hashlib
import os
import shutil
import sqlite3
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import inspect
from sqlalchemy.engine import URL, Engine

from forum.services.text import count_of

# Pages copied per step of the SQLite backup: small steps let writers in between them.
SQLITE_PAGES_PER_STEP = 256

Progress = Callable[[int, int], None]  # (done, total) in pages; total 0 when unknown


class BackupError(Exception):
    """A backup or restore that could not be done; the message says why, for the operator."""


class TargetNotEmpty(BackupError):
    """The restore target already holds tables (restore refuses without ``force``)."""


@dataclass(frozen=True)
class BackupResult:
    path: Path
    method: str  # "sqlite backup API" or "pg_dump (custom format)"
    size: int
    sha256: str


def sha256_of(path: Path) -> str:
    """The SHA-256 of a file, read in chunks (backups can be larger than memory)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _sqlite_file(url: URL) -> Path:
    if not url.database or url.database == ":memory:":
        raise BackupError("The configured SQLite database is in memory; there is no file.")
    return Path(url.database)


def _pg_environment(url: URL) -> tuple[list[str], dict[str, str]]:
    """Connection arguments for the pg tools, and an environment with the password."""
    args = []
    if url.host:
        args += ["--host", url.host]
    if url.port:
        args += ["--port", str(url.port)]
    if url.username:
        args += ["--username", url.username]
    env = dict(os.environ)
    if url.password is not None:
        env["PGPASSWORD"] = str(url.password)
    return args, env


def _pg_tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupError(f"{name} is not on PATH; install the PostgreSQL client tools.")
    return path


def _run(command: list[str], env: dict[str, str]) -> None:
    finished = subprocess.run(command, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if finished.returncode != 0:
        tool = Path(command[0]).name
        raise BackupError(f"{tool} failed: {finished.stderr.strip() or finished.returncode}")


def method_for(engine: Engine) -> str:
    """How a backup of ``engine``'s database is taken, in words for the operator."""
    if engine.dialect.name == "sqlite":
        return "sqlite backup API"
    if engine.dialect.name == "postgresql":
        return "pg_dump (custom format)"
    raise BackupError(f"Backups of {engine.dialect.name} databases are not supported.")


def backup(engine: Engine, path: Path, progress: Progress | None = None) -> BackupResult:
    """Copy the database of ``engine`` to ``path`` (replaced if it exists)."""
    method = method_for(engine)
    path = Path(path)
    partial = path.with_name(path.name + ".partial")
    partial.unlink(missing_ok=True)
    if engine.dialect.name == "sqlite":
        database = _sqlite_file(engine.url)
        if not database.is_file():
            raise BackupError(f"There is no database file at {database}.")

        def report(status: int, remaining: int, total: int) -> None:
            if progress is not None:
                progress(total - remaining, total)

        try:
            source = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
            try:
                target = sqlite3.connect(partial)
                try:
                    source.backup(target, pages=SQLITE_PAGES_PER_STEP, progress=report)
                finally:
                    target.close()
            finally:
                source.close()
        except (sqlite3.Error, OSError) as exc:
            partial.unlink(missing_ok=True)
            raise BackupError(f"The backup failed: {exc}") from exc
    else:
        args, env = _pg_environment(engine.url)
        command = [_pg_tool("pg_dump"), "--format=custom", "--file", str(partial), *args]
        _run([*command, "--dbname", engine.url.database or ""], env)
        if progress is not None:
            progress(1, 1)
    # Only a finished backup takes the name: a crash halfway leaves the old one intact.
    partial.replace(path)
    return BackupResult(path, method, path.stat().st_size, sha256_of(path))


def existing_tables(engine: Engine) -> list[str]:
    """The tables the database of ``engine`` holds now (none: a restore may go there)."""
    if engine.dialect.name == "sqlite":
        database = _sqlite_file(engine.url)
        if not database.exists() or database.stat().st_size == 0:
            return []
    with engine.connect() as connection:
        return inspect(connection).get_table_names()


def restore(engine: Engine, path: Path, *, force: bool = False) -> str:
    """Restore the backup at ``path`` into the database of ``engine``; returns the method.

    Refuses (``TargetNotEmpty``) a database that has tables unless ``force``: then the
    backup replaces its content. The caller must have no open connections that matter; the
    engine's pool is disposed so that no connection sees the old file."""
    path = Path(path)
    if not path.is_file():
        raise BackupError(f"No backup file at {path}.")
    method = method_for(engine)
    tables = existing_tables(engine)
    if tables and not force:
        raise TargetNotEmpty(
            f"The database already has {count_of(len(tables), 'table')}; restore goes into an "
            "empty database. Use --force to replace its content."
        )
    engine.dispose()
    if engine.dialect.name == "sqlite":
        with open(path, "rb") as handle:
            if handle.read(16) != b"SQLite format 3\x00":
                raise BackupError(f"{path} is not an SQLite backup.")
        try:
            source = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
            try:
                target = sqlite3.connect(_sqlite_file(engine.url))
                try:
                    # The backup API replaces every page of the target: forcing needs no more.
                    source.backup(target)
                finally:
                    target.close()
            finally:
                source.close()
        except (sqlite3.Error, OSError) as exc:
            raise BackupError(f"The restore failed: {exc}") from exc
    else:
        args, env = _pg_environment(engine.url)
        command = [_pg_tool("pg_restore"), "--no-owner", "--exit-on-error", "--single-transaction"]
        command += args
        if force:
            command += ["--clean", "--if-exists"]
        _run([*command, "--dbname", engine.url.database or "", str(path)], env)
    engine.dispose()
    return method
