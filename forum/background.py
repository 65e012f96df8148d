"""Work that a page starts but doesn't wait for: run in a thread once the view has returned.

The response never waits for it and never sees its errors (they are logged). Whatever must
not be lost is also caught up by a command (``flask notifications send``), so a worker
stopped between the response and this work loses nothing. The threads are kept in
``app.extensions`` so tests (and shutdown code) can wait for them."""

import logging
import threading
from collections.abc import Callable

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


def wait(app: Flask, timeout: float = 10.0) -> None:
    """Wait for the background work this app started (for tests and orderly shutdown)."""
    for thread in list(app.extensions.get("forum_background_threads", [])):
        thread.join(timeout)
