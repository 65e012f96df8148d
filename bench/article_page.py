"""Benchmark: the article page with a large discussion, served by gunicorn.

Builds an SQLite database with one article and N comments (threads up to depth 5), serves it
with gunicorn (2 workers, as on the 2-core reference machine), then reads the page from 8
client threads for a fixed number of requests. Prints req/s, p50/p99 latency and SQL queries
per page, and exits non-zero if throughput or latency miss the floors below.

    python bench/article_page.py [--comments 1000] [--requests 400]

Talks to 127.0.0.1 only; stops by itself.
"""

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests
from sqlalchemy import event

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from forum import create_app  # noqa: E402
from forum.extensions import db  # noqa: E402
from forum.models import Article, Comment, Role, User  # noqa: E402
from forum.services.sanitize import render_markdown  # noqa: E402

FLOOR_REQ_PER_SEC = 40.0  # 2 sync workers, 1,000 comments, 50 threads a page; ~78 measured
CEILING_P99_MS = 600.0
MAX_QUERIES = 8


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def build_database(url: str, instance: str, comments: int) -> tuple[str, int]:
    app = create_app({"DATABASE_URL": url, "INSTANCE_PATH": instance, "SECRET_KEY": "bench"})
    with app.app_context():
        db.create_all()
        author = User(username="author", username_key="author", role=Role.AUTHOR)
        readers = [User(username=f"r{i}", username_key=f"r{i}") for i in range(20)]
        db.session.add_all([author, *readers])
        article = Article(
            slug="big", title="Big discussion", author=author, body_md="x", body_html="<p>x</p>"
        )
        db.session.add(article)
        db.session.flush()
        html = render_markdown("A *typical* comment with a [link](https://example.com) in it.")
        made: list[Comment] = []
        for n in range(comments):
            parent = made[n - 1] if n % 4 and made and made[n - 1].depth < 5 else None
            comment = Comment(
                article_id=article.id,
                author=readers[n % len(readers)],
                parent_id=parent.id if parent else None,
                root_id=(parent.root_id or parent.id) if parent else None,
                depth=parent.depth + 1 if parent else 0,
                body_md="A *typical* comment.",
                body_html=html,
            )
            db.session.add(comment)
            db.session.flush()
            made.append(comment)
        db.session.commit()
        client = app.test_client()
        statements: list[str] = []
        listener = lambda *args: statements.append(args[2])  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listener)
        client.get("/articles/big")
        event.remove(db.engine, "before_cursor_execute", listener)
        return "big", len(statements)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--comments", type=int, default=1000)
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--clients", type=int, default=8)
    args = parser.parse_args()

    workdir = tempfile.mkdtemp(prefix="forum-bench-")
    url = f"sqlite:///{workdir}/bench.sqlite3"
    slug, queries = build_database(url, f"{workdir}/instance", args.comments)
    port = free_port()
    env = {
        **os.environ,
        "FORUM_DATABASE_URL": url,
        "FORUM_SECRET_KEY": "bench",
        "FORUM_RATELIMIT_ENABLED": "false",
    }
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--workers",
            "2",
            "--bind",
            f"127.0.0.1:{port}",
            "forum:create_app()",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if requests.get(f"{base}/articles/{slug}", timeout=5).status_code == 200:
                    break
            except requests.ConnectionError:
                time.sleep(0.2)
        else:
            print("server did not start", file=sys.stderr)
            return 2
        latencies: list[float] = []
        errors = 0
        lock = threading.Lock()
        per_client = args.requests // args.clients

        def reader() -> None:
            nonlocal errors
            session = requests.Session()
            for _ in range(per_client):
                start = time.perf_counter()
                response = session.get(f"{base}/articles/{slug}", timeout=30)
                elapsed = (time.perf_counter() - start) * 1000
                with lock:
                    latencies.append(elapsed)
                    errors += response.status_code != 200

        threads = [threading.Thread(target=reader) for _ in range(args.clients)]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        wall = time.perf_counter() - started
    finally:
        server.terminate()
        server.wait(timeout=10)

    latencies.sort()
    rate = len(latencies) / wall
    p50 = statistics.median(latencies)
    p99 = latencies[int(len(latencies) * 0.99) - 1]
    print(f"article page, {args.comments} comments, {args.clients} clients, 2 gunicorn workers")
    print(f"  requests: {len(latencies)}  errors: {errors}")
    print(f"  throughput: {rate:.1f} req/s (floor {FLOOR_REQ_PER_SEC})")
    print(f"  latency: p50 {p50:.1f} ms, p99 {p99:.1f} ms (ceiling {CEILING_P99_MS})")
    print(f"  SQL queries per page (anonymous): {queries} (at most {MAX_QUERIES})")
    ok = errors == 0 and rate >= FLOOR_REQ_PER_SEC and p99 <= CEILING_P99_MS
    ok = ok and queries <= MAX_QUERIES
    print("  result:", "PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
