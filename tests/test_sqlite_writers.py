"""Writers to an SQLite file take turns through its lock file (forum/sqlite_writers.py): a
write transaction holds it from its start to its commit or rollback, reads never take it, a
writer waiting for it starts once the one before lets go, and one that can't have it within
the busy timeout goes on and meets SQLite's own lock, as before."""

import fcntl
import os
import threading
import time

import pytest
from sqlalchemy import func, select, text

from forum import sqlite_writers
from forum.extensions import db
from forum.models import User
from forum.sqlite import write_intent
from tests.conftest import TEST_DATABASE_URL, make_user

pytestmark = pytest.mark.skipif(bool(TEST_DATABASE_URL), reason="SQLite's lock file")

BUSY_TIMEOUT_MS = 800


@pytest.fixture
def site(app_factory):
    """An app on an SQLite file; this test's transactions write, as a CLI command's do
    (whatever an earlier test in this thread left the request intent at)."""
    app = app_factory(SQLITE_BUSY_TIMEOUT_MS=BUSY_TIMEOUT_MS)
    writes = write_intent.set(True)
    try:
        with app.app_context():
            make_user("someone")
            db.session.remove()
            yield app
    finally:
        write_intent.reset(writes)


def lock_is_free(app) -> bool:
    """Whether another open file could take the lock now (as another process would)."""
    fd = os.open(sqlite_writers.lock_path(db.engine), os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    finally:
        os.close(fd)
    return True


def test_a_write_transaction_holds_the_lock_until_its_commit(site):
    db.session.execute(text("UPDATE users SET bio_md = 'a' WHERE username = 'someone'"))
    assert not lock_is_free(site)
    db.session.commit()
    assert lock_is_free(site)


def test_a_rolled_back_write_lets_go_too(site):
    db.session.execute(select(func.count(User.id)))  # a write transaction (CLI, tests)
    assert not lock_is_free(site)
    db.session.rollback()
    assert lock_is_free(site)


def test_reads_never_take_the_lock(site):
    token = write_intent.set(False)
    try:
        db.session.execute(select(func.count(User.id)))
        assert lock_is_free(site)
        db.session.commit()
    finally:
        write_intent.reset(token)


def test_a_waiting_writer_goes_in_once_the_one_before_commits_and_nothing_is_lost(site):
    """Two writers in two threads (two connections), each reading then updating the same
    row: with the turns taken, neither update is lost and neither fails."""
    done = []

    def add_one(pause: float) -> None:
        with site.app_context():
            try:
                bio = db.session.execute(
                    text("SELECT bio_md FROM users WHERE username = 'someone'")
                ).scalar_one()
                time.sleep(pause)  # hold the write transaction a while
                db.session.execute(
                    text("UPDATE users SET bio_md = :bio WHERE username = 'someone'"),
                    {"bio": (bio or "") + "x"},
                )
                db.session.commit()
                done.append(True)
            except Exception as error:
                done.append(error)
            finally:
                db.session.remove()

    writers = [threading.Thread(target=add_one, args=(0.2,)) for _ in range(3)]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join(10)
    assert done == [True, True, True]
    bio = db.session.execute(
        text("SELECT bio_md FROM users WHERE username = 'someone'")
    ).scalar_one()
    assert bio == "xxx"
    db.session.commit()
    assert lock_is_free(site)


def test_a_writer_that_cannot_have_the_lock_file_goes_on_after_the_busy_timeout(site):
    """A lock file held by something that never lets go (not a writer of ours) delays a
    writer by the busy timeout at most; SQLite's own lock still decides."""
    path = sqlite_writers.lock_path(db.engine)
    holder = os.open(path, os.O_RDWR | os.O_CREAT)
    fcntl.flock(holder, fcntl.LOCK_EX)
    try:
        started = time.monotonic()
        db.session.execute(text("UPDATE users SET bio_md = 'b' WHERE username = 'someone'"))
        db.session.commit()
        assert time.monotonic() - started >= BUSY_TIMEOUT_MS / 1000 * 0.9
    finally:
        os.close(holder)
    assert lock_is_free(site)


def test_an_in_memory_database_has_no_lock_file(app_factory):
    app = app_factory(DATABASE_URL="sqlite://")
    with app.app_context():
        assert sqlite_writers.lock_path(db.engine) is None
