"""A database outage answers 503 with Retry-After and the site's own page (or problem JSON),
with the security headers, for anonymous and logged-in readers alike; and the site heals by
itself when the database is back, without a restart.

On PostgreSQL the database is made unreachable mid-run by a TCP proxy between the app and
the server, which the test stops (cutting every connection) and starts again. On SQLite an
outside connection holds the database file exclusively, so even reads can't get in."""

import contextlib
import socket
import sqlite3
import threading

import lxml.html
import pytest
from sqlalchemy import select
from sqlalchemy.engine import make_url

from forum.extensions import db
from forum.models import Comment, Role
from tests.conftest import TEST_DATABASE_URL, login, make_article, make_user

SECURITY_HEADERS = ("Content-Security-Policy", "X-Content-Type-Options", "X-Frame-Options")


class TcpProxy:
    """Forwards 127.0.0.1:<port> to a server; ``stop()`` closes the listener and every
    forwarded connection (the database "goes away"), ``start()`` listens again."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = 0
        self._listener: socket.socket | None = None
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()

    def start(self) -> None:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self.port = listener.getsockname()[1]
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # stopped
            try:
                upstream = socket.create_connection(self.target)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._sockets += [client, upstream]
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        for sock in (source, sink):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def stop(self) -> None:
        if self._listener is not None:
            # Wakes the thread blocked in accept(); close() alone doesn't on Linux.
            with contextlib.suppress(OSError):
                self._listener.shutdown(socket.SHUT_RDWR)
            self._listener.close()
            self._listener = None
        with self._lock:
            sockets, self._sockets = self._sockets, []
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()


def assert_unavailable(response, *, json: bool = False) -> None:
    assert response.status_code == 503, response.data[:300]
    assert int(response.headers["Retry-After"]) > 0
    for header in SECURITY_HEADERS:
        assert header in response.headers, header
    if json:
        assert response.content_type == "application/problem+json"
        assert response.json["detail"]
        assert response.json["status"] == 503
        assert response.json["title"]
    else:
        page = response.get_data(as_text=True)
        assert 'class="site-header"' in page  # the site's own layout
        assert "reach our database" in page
        assert "Traceback" not in page and "OperationalError" not in page


def _readers(app):
    """Data, an anonymous client and a logged-in moderator (whose nav has the most helpers)."""
    with app.app_context():
        moderator = make_user("moddy", role=Role.MODERATOR)
        article = make_article(slug="outage")
        slug = article.slug
        anonymous = app.test_client()
        member = app.test_client()
        login(member, moderator)
        db.session.remove()
    return slug, anonymous, member


PAGES = ("/", "/articles/{slug}")


def _check_down(slug, anonymous, member) -> None:
    for client in (anonymous, member):
        for page in PAGES:
            assert_unavailable(client.get(page.format(slug=slug)))
        assert_unavailable(
            client.get(f"/articles/{slug}", headers={"Accept": "application/problem+json"}),
            json=True,
        )
        as_json = client.get(f"/articles/{slug}", headers={"Accept": "application/json"})
        assert as_json.status_code == 503 and as_json.headers["Retry-After"]
        assert as_json.content_type == "application/json"  # what the page's script reads
        assert as_json.json["message"] and as_json.json["status"] == 503


def _check_up(slug, anonymous, member) -> None:
    for client in (anonymous, member):
        for page in PAGES:
            response = client.get(page.format(slug=slug))
            assert response.status_code == 200, (page, response.status_code)
    assert "moddy" in member.get("/").get_data(as_text=True)  # logged in again, nav and all


@pytest.mark.skipif(not TEST_DATABASE_URL, reason="needs FORUM_TEST_DATABASE_URL (PostgreSQL)")
def test_postgresql_outage_answers_503_and_heals(app_factory):
    real = make_url(TEST_DATABASE_URL)
    proxy = TcpProxy(real.host or "127.0.0.1", real.port or 5432)
    proxy.start()
    try:
        url = real.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
        app = app_factory(DATABASE_URL=url)
        assert app.config["SQLALCHEMY_ENGINE_OPTIONS"]["pool_pre_ping"] is True
        slug, anonymous, member = _readers(app)
        _check_up(slug, anonymous, member)  # pooled connections now run through the proxy

        proxy.stop()
        _check_down(slug, anonymous, member)
        # A write during the outage: the same clean 503, nothing half-done.
        response = member.post(f"/articles/{slug}/comments", data={"body": "during"})
        assert response.status_code == 503
        assert response.headers["Retry-After"]

        proxy.start()  # the database is back: no restart of the app
        _check_up(slug, anonymous, member)
    finally:
        proxy.stop()


def test_sqlite_database_held_exclusively_answers_503_and_heals(app_factory, tmp_path):
    if TEST_DATABASE_URL:
        pytest.skip("SQLite only")
    app = app_factory(SQLITE_BUSY_TIMEOUT_MS=100)
    slug, anonymous, member = _readers(app)
    _check_up(slug, anonymous, member)
    with app.app_context():
        db.engine.dispose()  # no pooled connection keeps a read snapshot from before

    holder = sqlite3.connect(tmp_path / "test.sqlite3", isolation_level=None)
    holder.execute("PRAGMA locking_mode = EXCLUSIVE")
    holder.execute("BEGIN EXCLUSIVE")
    holder.execute("UPDATE users SET display_name = display_name")
    holder.execute("COMMIT")  # in exclusive locking mode the file stays locked after this
    try:
        _check_down(slug, anonymous, member)
    finally:
        holder.execute("PRAGMA locking_mode = NORMAL")
        holder.execute("SELECT 1 FROM users").fetchall()  # the next access lets go
        holder.close()
    _check_up(slug, anonymous, member)


def test_error_page_helpers_do_not_query_after_a_database_error(app, client, monkeypatch):
    """The cause of the bare 500s: after a database error, the error page's helpers (unread
    count, moderation queue, the logged-in user) queried the failed session again."""
    from sqlalchemy import exc as sa_exc

    from forum.services import moderation, notifications

    def no_query(*_args, **_kwargs):
        raise AssertionError("queried the database while rendering the outage page")

    @app.get("/_test/broken")
    def broken():
        monkeypatch.setattr(notifications, "unread_count", no_query)
        monkeypatch.setattr(moderation, "open_report_count", no_query)
        raise sa_exc.OperationalError("SELECT 1", {}, Exception("server closed the connection"))

    moderator = make_user("helper", role=Role.MODERATOR)
    login(client, moderator)
    assert "helper" in client.get("/").get_data(as_text=True)

    assert_unavailable(client.get("/_test/broken"))
    response = client.get("/_test/broken", headers={"Accept": "application/problem+json"})
    assert_unavailable(response, json=True)


def test_pending_rollback_answers_503(app, client):
    """A session left unusable by an earlier failure answers 503, not a bare 500."""
    from sqlalchemy import exc as sa_exc

    @app.get("/_test/pending")
    def pending():
        raise sa_exc.PendingRollbackError("This Session's transaction has been rolled back")

    assert_unavailable(client.get("/_test/pending"))


def test_words_posted_during_an_outage_come_back_to_send_again(app_factory, tmp_path):
    """A comment sent while the database is away answers 503 with its text in a form to send
    again (the form's own page needs the database), keeping the idempotency key, so sending
    it again once the database is back stores it once."""
    if TEST_DATABASE_URL:
        pytest.skip("SQLite only")
    app = app_factory(SQLITE_BUSY_TIMEOUT_MS=100)
    slug, _anonymous, member = _readers(app)
    _check_up(slug, _anonymous, member)
    with app.app_context():
        db.engine.dispose()
    words = "Words I <b>won't</b> lose.\nA second line."
    holder = sqlite3.connect(tmp_path / "test.sqlite3", isolation_level=None)
    holder.execute("PRAGMA locking_mode = EXCLUSIVE")
    holder.execute("BEGIN EXCLUSIVE")
    holder.execute("UPDATE users SET display_name = display_name")
    holder.execute("COMMIT")
    try:
        response = member.post(
            f"/articles/{slug}/comments",
            data={"body": words, "parent_id": "", "idempotency_key": "outage-key-1"},
        )
        assert_unavailable(response)
        [form] = lxml.html.fromstring(response.data).xpath(
            f'//form[@action="/articles/{slug}/comments"]'
        )
        assert form.xpath('.//textarea[@name="body"]')[0].text_content() == words
        assert form.xpath('.//input[@name="idempotency_key"]/@value') == ["outage-key-1"]
        # A form with no words of the reader's (a button) gets the plain outage page.
        pressed = member.post(f"/articles/{slug}/follow")
        assert_unavailable(pressed)
        assert b"<textarea" not in pressed.data
    finally:
        holder.execute("PRAGMA locking_mode = NORMAL")
        holder.execute("SELECT 1 FROM users").fetchall()
        holder.close()
    fields = dict(form.form_values())
    for _ in range(2):  # sent again, twice: stored once
        assert member.post(form.get("action"), data=fields).status_code == 302
    with app.app_context():
        stored = db.session.scalars(select(Comment).where(Comment.body_md == words)).all()
        assert len(stored) == 1
