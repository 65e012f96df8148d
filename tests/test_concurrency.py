"""Many people posting at once, through a real multi-process server on SQLite: every
acknowledged comment is stored exactly once and no request fails.

This is about SQLite's locking under several worker processes, so it always runs on an
SQLite file, whatever FORUM_TEST_DATABASE_URL says."""

import re
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pytest

from tests.conftest import PASSWORD
from tests.servers import (
    PROJECT_ROOT,
    REQUEST_TIMEOUT,
    STARTUP_TIMEOUT,
    gunicorn,
    logged_in_session,
    run_flask,
    server_environment,
)

# A real multi-process server: off the quick run, and (under pytest-xdist) on the worker that
# runs the browser tests, so that the two heaviest things never run at once.
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("servers")]

CLIENTS = 8
COMMENTS_EACH = 50
WORKERS = 2
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


def _prepare(tmp_path: Path, env: dict[str, str], app_spec: str) -> None:
    """Create the schema, the accounts and the article, as an operator would."""
    run_flask(app_spec, ["db", "upgrade"], env)
    create_writer = ["users", "create", "writer", "--role", "author", "--password-stdin"]
    run_flask(app_spec, create_writer, env, stdin=PASSWORD + "\n")
    result = subprocess.run(
        [sys.executable, "-c", CREATE_CLIENTS, str(tmp_path / "instance"), str(CLIENTS), PASSWORD],
        env=env,
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    article = tmp_path / "article.md"
    article.write_text(ARTICLE, encoding="utf-8")
    run_flask(app_spec, ["articles", "import", str(article)], env)


def test_eight_clients_posting_at_once_store_every_comment_exactly_once(tmp_path):
    pytest.importorskip("gunicorn", reason="the concurrency test needs a real server")
    pytest.importorskip("requests")

    db_path = tmp_path / "forum.sqlite3"
    env = server_environment(
        DATABASE_URL=f"sqlite:///{db_path}",
        SECRET_KEY="concurrency-test-secret",
        RATELIMIT_ENABLED="false",
        SPAM_CHECKS_ENABLED="false",
    )
    app_spec = f"forum:create_app({{'INSTANCE_PATH': {str(tmp_path / 'instance')!r}}})"
    _prepare(tmp_path, env, app_spec)

    log = tmp_path / "gunicorn.log"
    with gunicorn(app_spec, env, log, workers=WORKERS) as base:
        sessions = [logged_in_session(base, f"client{i}", SLUG) for i in range(CLIENTS)]

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
    assert failures == [], (
        f"{len(failures)} failed posts, first: {failures[:5]}\n{log.read_text()[-6000:]}"
    )
    assert len(acknowledged) == total  # every redirect named a comment of its own

    with sqlite3.connect(db_path) as conn:
        rows = conn.execute("SELECT id, body_md FROM comments").fetchall()
    assert len(rows) == total
    assert {row[0] for row in rows} == set(acknowledged)
    assert dict(rows) == acknowledged  # each id holds the body its redirect acknowledged
    assert Counter(body for _, body in rows) == Counter(
        f"client {i} comment {j}" for i in range(CLIENTS) for j in range(COMMENTS_EACH)
    )
