"""Many people posting at once, through a real multi-process server on SQLite: every
acknowledged comment is stored exactly once and no request fails.

This is about SQLite's locking under several worker processes, so it always runs on an
SQLite file, whatever FORUM_TEST_DATABASE_URL says."""

import os
import re
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pytest

from tests.conftest import PASSWORD, csrf_token_from

# A real multi-process server: off the quick run, and (under pytest-xdist) on the worker that
# runs the browser tests, so that the two heaviest things never run at once.
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("servers")]

PROJECT_ROOT = Path(__file__).resolve().parent.parent
CLIENTS = 8
COMMENTS_EACH = 50
WORKERS = 2
REQUEST_TIMEOUT = 30  # seconds, for every request
STARTUP_TIMEOUT = 30
SLUG = "concurrency"

ARTICLE = f"""---
title: Everyone at once
slug: {SLUG}
author: writer
published: 2026-01-15
---
An article that many people comment on at the same moment.
"""

# Everyone registers and posts through the session's own CSRF token: the server runs with
# its production defaults except for the limits that would refuse a burst from one account.
CREATE_CLIENTS = """
import sys
from forum import create_app
from forum.services import accounts

app = create_app({"INSTANCE_PATH": sys.argv[1]})
with app.app_context():
    for i in range(int(sys.argv[2])):
        accounts.register(f"client{i}", sys.argv[3])
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _environment(db_path: Path) -> dict[str, str]:
    """The test runner's environment minus any FORUM_* setting, plus the server's own."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FORUM_")}
    env.update(
        FORUM_DATABASE_URL=f"sqlite:///{db_path}",
        FORUM_SECRET_KEY="concurrency-test-secret",
        FORUM_RATELIMIT_ENABLED="false",
        FORUM_SPAM_CHECKS_ENABLED="false",
        # Cheap password hashing: logging in is not what this test measures.
        FORUM_PASSWORD_TIME_COST="1",
        FORUM_PASSWORD_MEMORY_COST="8",
        FORUM_PASSWORD_PARALLELISM="1",
        PYTHONUNBUFFERED="1",
    )
    return env


def _run(args: list[str], env: dict[str, str], stdin: str | None = None) -> None:
    result = subprocess.run(
        args,
        env=env,
        cwd=PROJECT_ROOT,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, f"{args} failed:\n{result.stdout}\n{result.stderr}"


def _prepare(tmp_path: Path, env: dict[str, str], app_spec: str) -> None:
    """Create the schema, the accounts and the article, as an operator would."""
    flask = [sys.executable, "-m", "flask", "--app", app_spec]
    _run([*flask, "db", "upgrade"], env)
    create_writer = ["users", "create", "writer", "--role", "author", "--password-stdin"]
    _run([*flask, *create_writer], env, stdin=PASSWORD + "\n")
    _run(
        [sys.executable, "-c", CREATE_CLIENTS, str(tmp_path / "instance"), str(CLIENTS), PASSWORD],
        env,
    )
    article = tmp_path / "article.md"
    article.write_text(ARTICLE, encoding="utf-8")
    _run([*flask, "articles", "import", str(article)], env)


def _wait_until_serving(base: str, server: subprocess.Popen, log: Path, requests) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"gunicorn exited with {server.returncode}:\n{log.read_text()}")
        try:
            if requests.get(f"{base}/", timeout=10).status_code == 200:
                return
        except (requests.ConnectionError, requests.Timeout):
            pass  # still starting (a busy machine can take a while)
        time.sleep(0.2)
    pytest.fail(f"gunicorn did not answer within {STARTUP_TIMEOUT} s:\n{log.read_text()}")


def _logged_in_session(base: str, username: str, requests):
    """A browser-like session: log in through the form, then fetch the article's form."""
    session = requests.Session()
    page = session.get(f"{base}/login", timeout=REQUEST_TIMEOUT)
    response = session.post(
        f"{base}/login",
        data={
            "username": username,
            "password": PASSWORD,
            "csrf_token": csrf_token_from(page.text),
        },
        allow_redirects=False,
        timeout=REQUEST_TIMEOUT,
    )
    assert response.status_code == 302, response.text[:500]
    article = session.get(f"{base}/articles/{SLUG}", timeout=REQUEST_TIMEOUT)
    assert article.status_code == 200
    assert 'name="body"' in article.text, "no comment form for a logged-in reader"
    return session, csrf_token_from(article.text[article.text.index('class="comment-form"') :])


def test_eight_clients_posting_at_once_store_every_comment_exactly_once(tmp_path):
    try:
        import gunicorn  # noqa: F401
    except ImportError:
        pytest.skip("gunicorn is not installed; the concurrency test needs a real server")
    requests = pytest.importorskip("requests")

    db_path = tmp_path / "forum.sqlite3"
    env = _environment(db_path)
    app_spec = f"forum:create_app({{'INSTANCE_PATH': {str(tmp_path / 'instance')!r}}})"
    _prepare(tmp_path, env, app_spec)

    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    log = tmp_path / "gunicorn.log"
    with log.open("w") as log_file:
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "--workers",
                str(WORKERS),
                "--bind",
                f"127.0.0.1:{port}",
                "--timeout",
                "60",
                app_spec,
            ],
            env=env,
            cwd=PROJECT_ROOT,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_until_serving(base, server, log, requests)
        sessions = [_logged_in_session(base, f"client{i}", requests) for i in range(CLIENTS)]

        start = threading.Barrier(CLIENTS + 1)
        results: list[list[tuple[str, int, str | None]]] = [[] for _ in range(CLIENTS)]
        errors: list[BaseException] = []

        def client(i: int) -> None:
            session, token = sessions[i]
            try:
                start.wait(timeout=STARTUP_TIMEOUT)
                for j in range(COMMENTS_EACH):
                    body = f"client {i} comment {j}"
                    response = session.post(
                        f"{base}/articles/{SLUG}/comments",
                        data={"body": body, "parent_id": "", "csrf_token": token},
                        allow_redirects=False,
                        timeout=REQUEST_TIMEOUT,
                    )
                    results[i].append(
                        (body, response.status_code, response.headers.get("Location"))
                    )
            except BaseException as exc:  # reported below, with the server's log
                errors.append(exc)

        workers = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(CLIENTS)]
        for worker in workers:
            worker.start()
        start.wait(timeout=STARTUP_TIMEOUT)
        began = time.perf_counter()
        for worker in workers:
            worker.join(timeout=REQUEST_TIMEOUT * COMMENTS_EACH)
        elapsed = time.perf_counter() - began
        assert not any(worker.is_alive() for worker in workers), "a client never finished"
        assert not errors, f"{errors!r}\n{log.read_text()[-5000:]}"
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=15)

    total = CLIENTS * COMMENTS_EACH
    print(
        f"\n{total} comments from {CLIENTS} clients through {WORKERS} gunicorn workers on "
        f"SQLite in {elapsed:.2f} s: {total / elapsed:.0f} requests/s"
    )

    landing = re.compile(rf"(?:{re.escape(base)})?/articles/{SLUG}(?:\?[^#]*)?#c(\d+)")
    acknowledged: dict[int, str] = {}
    failures = []
    for body, status, location in (r for rs in results for r in rs):
        match = landing.fullmatch(location or "")
        if status not in (302, 303) or match is None:
            failures.append((body, status, location))
            continue
        acknowledged[int(match.group(1))] = body
    assert failures == [], f"{len(failures)} failed posts, first: {failures[:5]}"
    assert len(acknowledged) == total  # every redirect named a comment of its own

    with sqlite3.connect(db_path) as conn:
        rows = conn.execute("SELECT id, body_md FROM comments").fetchall()
    assert len(rows) == total
    assert {row[0] for row in rows} == set(acknowledged)
    assert dict(rows) == acknowledged  # each id holds the body its redirect acknowledged
    assert Counter(body for _, body in rows) == Counter(
        f"client {i} comment {j}" for i in range(CLIENTS) for j in range(COMMENTS_EACH)
    )
