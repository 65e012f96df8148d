"""Work that a page starts but doesn't wait for: run in a thread once the view has returned.

The response never waits for it and never sees its errors (they are logged). Whatever must
not be lost is also caught up by a command (``flask notifications send``), so a worker
stopped between the response and this work loses nothing. The threads are kept in
``app.extensions`` so tests (and shutdown code) can wait for them.

Two kinds: ``after_response`` starts a thread for one piece of work (sending email, which
waits on the network); ``after_response_batched`` hands ids to one long-lived thread per
process and work, which does everything handed to it since it last ran in one call. Under
load, one transaction then tells the followers of many posts (a thread per post made as many
threads, each with its own write transaction queueing for SQLite's one lock)."""

import atexit
import logging
import os
import threading
import weakref
from collections.abc import Callable, Iterable

from flask import Flask, after_this_request, current_app

from forum.extensions import db

logger = logging.getLogger("forum.background")


def after_response(work: Callable[..., object], *args: object) -> None:
    """Run ``work(*args)`` in an app context in a new thread after this request's view."""
    app = current_app._get_current_object()

    @after_this_request
    def _start(response):
        thread = threading.Thread(
            target=_run, args=(app, work, args), name=f"forum-{work.__name__}", daemon=True
        )
        started = app.extensions.setdefault("forum_background_threads", [])
        started[:] = [t for t in started if t.is_alive()]
        started.append(thread)
        thread.start()
        return response


def _run(app: Flask, work: Callable[..., object], args: tuple) -> None:
    try:
        with app.app_context():
            try:
                work(*args)
            finally:
                db.session.remove()
    except Exception:
        logger.exception("Background work %s%r failed; it will be caught up", work.__name__, args)


# At most this many ids per call of a batched work: one transaction stays short.
BATCH_LIMIT = 200
# How long a batched work waits for more ids after the first one arrives. Each call pays a
# fixed price (on SQLite, a turn at the one write lock, 3-4 ms of it, whatever the batch's
# size): measured with 4 writers, calls that ran at once held the lock 1.1 posts at a time,
# longer than the posts themselves did, and queued the posts behind them. A tenth of a
# second late, a notification is as good as on time.
LINGER_SECONDS = 0.1
# A batched work's thread ends after this long with nothing to do (the next id starts one).
IDLE_SECONDS = 60.0


def after_response_batched(work: Callable[[list[int]], object], ids: Iterable[int]) -> None:
    """Have ``work(ids)`` called soon after this request's view, in this process's one
    thread for ``work``, together with the ids other requests handed over meanwhile."""
    app = current_app._get_current_object()
    ids = list(ids)

    @after_this_request
    def _hand_over(response):
        _hand(app, work, ids)
        return response


class _Batcher:
    """One daemon thread doing ``work`` for every id handed over, a batch at a time."""

    def __init__(self, app: Flask, work: Callable[[list[int]], object]) -> None:
        self.app, self.work = app, work
        self.pending: set[int] = set()
        self.busy = False
        self.closed = False
        self.waiters = 0  # no lingering while someone waits for the work (wait())
        self.pid = os.getpid()
        _live_batchers.add(self)
        self.changed = threading.Condition()
        self.thread = threading.Thread(
            target=self._loop, name=f"forum-batched-{work.__name__}", daemon=True
        )
        self.thread.start()

    def add(self, ids: Iterable[int]) -> bool:
        """Hand ``ids`` over; False when the thread has ended (idle), and took nothing."""
        with self.changed:
            if self.closed:
                return False
            started = not self.pending
            self.pending.update(ids)
            # Wake the thread only when this changes what it waits for (a first id, or a
            # full batch): woken for every id while it lingers, it took the GIL from the
            # request that handed it over, once per post.
            if started or len(self.pending) >= BATCH_LIMIT:
                self.changed.notify_all()
            return True

    def _loop(self) -> None:
        while True:
            with self.changed:
                if not self.changed.wait_for(lambda: self.pending, IDLE_SECONDS):
                    self.closed = True
                    self.changed.notify_all()
                    return
                self.changed.wait_for(
                    lambda: self.waiters or len(self.pending) >= BATCH_LIMIT, LINGER_SECONDS
                )
                batch = sorted(self.pending)[:BATCH_LIMIT]
                self.pending.difference_update(batch)
                self.busy = True
            try:
                _run(self.app, self.work, (batch,))
            finally:
                with self.changed:
                    self.busy = False
                    self.changed.notify_all()

    def wait(self, timeout: float) -> bool:
        with self.changed:
            self.waiters += 1
            self.changed.notify_all()
            try:
                return self.changed.wait_for(
                    lambda: self.closed or (not self.pending and not self.busy), timeout
                )
            finally:
                self.waiters -= 1


_batchers_lock = threading.Lock()
_live_batchers: "weakref.WeakSet[_Batcher]" = weakref.WeakSet()
# How long a stopping process gives its batched work to finish what it was handed.
FINISH_SECONDS = 5.0


def finish_pending(timeout: float = FINISH_SECONDS) -> None:
    """Do now what this process's batched threads were handed and haven't done: a worker
    that stops in order (gunicorn's restart, a deploy) tells people about its last posts
    itself instead of leaving them to the next ``flask notifications send``. Runs at exit."""
    for batcher in list(_live_batchers):
        if batcher.pid == os.getpid():
            batcher.wait(timeout)


atexit.register(finish_pending)


def _after_fork_in_child() -> None:
    global _batchers_lock
    _batchers_lock = threading.Lock()  # a thread of the parent may have held it at the fork


os.register_at_fork(after_in_child=_after_fork_in_child)


def _hand(app: Flask, work: Callable[[list[int]], object], ids: list[int]) -> None:
    """Give ``ids`` to this process's thread for ``work``, starting one if there is none
    (threads don't survive the fork of a pre-forking server: a thread made before it would
    be missing in its workers, so each process makes its own on first use)."""
    with _batchers_lock:
        batchers = app.extensions.setdefault("forum_background_batchers", {})
        key = (os.getpid(), work)
        batcher = batchers.get(key)
        if batcher is None or not batcher.add(ids):
            batchers[key] = batcher = _Batcher(app, work)
            batcher.add(ids)


def wait(app: Flask, timeout: float = 10.0) -> None:
    """Wait for the background work this app started (for tests and orderly shutdown)."""
    for thread in list(app.extensions.get("forum_background_threads", [])):
        thread.join(timeout)
    for key, batcher in list(app.extensions.get("forum_background_batchers", {}).items()):
        if key[0] == os.getpid():
            batcher.wait(timeout)
