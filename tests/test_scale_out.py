"""The production shape: several app servers sharing one PostgreSQL and one Redis. Two
gunicorn instances on different ports stand for two machines: what one does, the other
sees at once (the cached page and its ETag), a session made on one works on the other, and
rate-limit counts are shared."""

import uuid

import pytest

from tests.conftest import CONFIGURED_DATABASE_URL, PASSWORD, TEST_REDIS_URL
from tests.postgres_support import fresh_postgres_database
from tests.servers import (
    REQUEST_TIMEOUT,
    gunicorn,
    logged_in_session,
    run_flask,
    server_environment,
)

pytestmark = [
    pytest.mark.slow,
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.skipif(
        not (CONFIGURED_DATABASE_URL and TEST_REDIS_URL),
        reason="needs FORUM_TEST_DATABASE_URL (PostgreSQL) and FORUM_TEST_REDIS_URL (Redis)",
    ),
]

SLUG = "shared"
ARTICLE = f"""---
title: One discussion, two servers
slug: {SLUG}
author: writer
published: 2026-01-15
---
Read on one machine, written on another.
"""


def test_two_app_servers_share_pages_sessions_and_limits(tmp_path):
    requests = pytest.importorskip("requests")
    with fresh_postgres_database(CONFIGURED_DATABASE_URL) as database_url:
        env = server_environment(
            DATABASE_URL=database_url,
            REDIS_URL=TEST_REDIS_URL,
            SECRET_KEY="the-same-secret-on-every-machine",
            SPAM_CHECKS_ENABLED="false",
            RATELIMIT_POST="4 per minute",
            RATELIMIT_POST_NEW_ACCOUNT="4 per minute",
            # This run's own counters, whatever else uses the Redis database.
            RATELIMIT_KEY_PREFIX=f"scale-out-{uuid.uuid4().hex}",
        )
        machines = [f"forum:create_app({{'INSTANCE_PATH': {str(tmp_path / m)!r}}})" for m in "ab"]
        run_flask(machines[0], ["db", "upgrade"], env)
        for name, role in (("writer", "author"), ("alice", "reader")):
            create = ["users", "create", name, "--role", role, "--password-stdin"]
            run_flask(machines[0], create, env, stdin=PASSWORD + "\n")
        article = tmp_path / "article.md"
        article.write_text(ARTICLE, encoding="utf-8")
        run_flask(machines[0], ["articles", "import", str(article)], env)

        with (
            gunicorn(machines[0], env, tmp_path / "a.log", workers=1) as a,
            gunicorn(machines[1], env, tmp_path / "b.log", workers=1) as b,
        ):
            page = f"/articles/{SLUG}"
            before = requests.get(b + page, timeout=REQUEST_TIMEOUT)
            assert before.status_code == 200
            assert "Set-Cookie" not in before.headers
            old_tag = before.headers["ETag"]

            # A session made on A.
            alice, token = logged_in_session(a, "alice", SLUG)
            posted = alice.post(
                f"{a}{page}/comments",
                data={"body": "Written through machine A.", "csrf_token": token},
                allow_redirects=False,
                timeout=REQUEST_TIMEOUT,
            )
            assert posted.status_code == 302, posted.text[:500]

            # B's cached anonymous page changed at once, and its ETag with it.
            after = requests.get(b + page, headers={"If-None-Match": old_tag}, timeout=30)
            assert after.status_code == 200
            assert "Written through machine A." in after.text
            new_tag = after.headers["ETag"]
            assert new_tag != old_tag
            # Both machines agree on the new version: A revalidates B's tag.
            same = requests.get(a + page, headers={"If-None-Match": new_tag}, timeout=30)
            assert same.status_code == 304

            # A's session works on B.
            on_b = alice.get(b + page, timeout=REQUEST_TIMEOUT)
            assert "Log out" in on_b.text
            assert 'name="body"' in on_b.text

            # One budget of 4 posts a minute, counted across both machines.
            statuses = []
            for n, machine in enumerate((b, a, b, a)):
                response = alice.post(
                    f"{machine}{page}/comments",
                    data={"body": f"Post {n} of the burst.", "csrf_token": token},
                    allow_redirects=False,
                    timeout=REQUEST_TIMEOUT,
                )
                statuses.append(response.status_code)
            assert statuses == [302, 302, 302, 429], statuses
