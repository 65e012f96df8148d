"""A real HTTP server for browser tests and screenshots: the app on 127.0.0.1, a free port,
a fresh SQLite file, served by werkzeug in a background thread and stopped on its own."""

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask import Flask
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from forum import create_app
from forum.extensions import db

CHROMIUM_PATH = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def live_config(directory: Path, **overrides: Any) -> dict[str, Any]:
    """A production-like app (CSRF on, real templates) minus rate limits, spam timers and
    slow password hashing, with its database and instance folder in ``directory``."""
    return {
        "INSTANCE_PATH": str(directory / "instance"),
        "SECRET_KEY": "e2e-secret",
        "DATABASE_URL": f"sqlite:///{directory / 'e2e.sqlite3'}",
        "RATELIMIT_ENABLED": False,
        "SPAM_CHECKS_ENABLED": False,
        "PASSWORD_TIME_COST": 1,
        "PASSWORD_MEMORY_COST": 8,
        "PASSWORD_PARALLELISM": 1,
        "MAIL_SERVER": None,
        "MAIL_SEND_IN_BACKGROUND": False,
        # Static files from the browser's cache, not revalidated on every page: faster tests.
        "SEND_FILE_MAX_AGE_DEFAULT": 3600,
        **overrides,
    }


@dataclass
class LiveServer:
    app: Flask
    url: str
    _server: BaseWSGIServer
    _thread: threading.Thread
    _stopped: bool = field(default=False)

    def run(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Call ``fn`` inside an app context of the served app (to make test data)."""
        with self.app.app_context():
            try:
                return fn(*args, **kwargs)
            finally:
                db.session.remove()

    def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)
        with self.app.app_context():
            db.session.remove()
            db.engine.dispose()


class QuietRequestHandler(WSGIRequestHandler):
    """No access log: a failing test's output should show the test, not every request.
    HTTP/1.1, so the browser keeps its connections open between requests."""

    protocol_version = "HTTP/1.1"

    def log_request(self, code="-", size="-") -> None:
        pass


def serve(app: Flask) -> LiveServer:
    """Serve ``app`` on 127.0.0.1 at a free port (the OS picks it) in a daemon thread."""
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=QuietRequestHandler)
    thread = threading.Thread(target=server.serve_forever, name="e2e-server", daemon=True)
    thread.start()
    return LiveServer(app, f"http://127.0.0.1:{server.server_port}", server, thread)


def start_live_server(directory: Path, **overrides: Any) -> LiveServer:
    """A fresh app with an empty schema in ``directory``, served."""
    app = create_app(live_config(directory, **overrides))
    with app.app_context():
        db.create_all()
        db.session.remove()
    return serve(app)
