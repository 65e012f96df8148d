"""Benchmark: what open pages polling for new comments cost the server.

An open article page asks ``GET /articles/<slug>/discussion/version`` every 30 seconds while
its tab is visible, revalidating with ``If-None-Match``; while nothing changed the answer is
``304 Not Modified`` after one small query. This serves the app with gunicorn (2 sync
workers, SQLite, as on the 2-core reference machine), sends a fixed number of conditional
requests with the current ETag from several client threads, and prints req/s, latency and
the server's CPU time per request (read from /proc for gunicorn's processes), then the
same for unconditional requests (200 with the JSON body), for comparison.

    python bench/poll.py [--requests 1000] [--clients 8]

Talks to 127.0.0.1 only, is bounded in time (each phase stops at --seconds), and stops the
server it started, by its process id.
"""

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests
from sqlalchemy import event

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import loadgen  # noqa: E402  (beside this script)

from forum import create_app  # noqa: E402
from forum.extensions import db  # noqa: E402
from forum.models import Role  # noqa: E402
from forum.services import accounts, threads  # noqa: E402
from tests.conftest import make_article  # noqa: E402

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
POLL_SECONDS = 30  # the page's default interval (LIVE_POLL_SECONDS)


def build_database(config: dict) -> tuple[str, str, int]:
    """One article with a small discussion; its slug, the version ETag and the number of SQL
    statements a conditional request costs."""
    app = create_app(config)
    with app.app_context():
        db.create_all()
        author = accounts.register("author", "a long bench password", role=Role.AUTHOR)
        reader = accounts.register("reader", "a long bench password")
        article = make_article(author, slug="polled", title="A polled discussion")
        for n in range(20):
            threads.post_comment(reader, article, f"Comment {n}.")
        client = app.test_client()
        etag = client.get("/articles/polled/discussion/version").headers["ETag"]
        statements: list[str] = []
        listener = lambda *args: statements.append(args[2])  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listener)
        answer = client.get("/articles/polled/discussion/version", headers={"If-None-Match": etag})
        event.remove(db.engine, "before_cursor_execute", listener)
        assert answer.status_code == 304, answer.status_code
        db.session.remove()
        db.engine.dispose()
    return "polled", etag, len(statements)


def cpu_seconds(master: int) -> float:
    """User + system CPU time of gunicorn's master and its workers so far."""
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # gone meanwhile
        pid, ppid = int(entry.name), int(fields[1])
        if pid == master or ppid == master:
            total += (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
    return total


def run_phase(url: str, headers: dict, total: int, clients: int, seconds: float, master: int):
    """``total`` GETs of ``url`` from ``clients`` threads (stopping at ``seconds``): the
    latencies, the status counts, the wall time and the server's CPU time."""
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    lock = threading.Lock()
    remaining = [total]
    deadline = time.monotonic() + seconds

    def client() -> None:
        session = requests.Session()
        while time.monotonic() < deadline:
            with lock:
                if remaining[0] <= 0:
                    return
                remaining[0] -= 1
            start = time.perf_counter()
            try:
                status = session.get(url, headers=headers, timeout=10).status_code
            except requests.RequestException:
                status = 0
            elapsed = (time.perf_counter() - start) * 1000
            with lock:
                latencies.append(elapsed)
                statuses[status] = statuses.get(status, 0) + 1

    cpu_before = cpu_seconds(master)
    workers = [threading.Thread(target=client) for _ in range(clients)]
    started = time.perf_counter()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    wall = time.perf_counter() - started
    return latencies, statuses, wall, cpu_seconds(master) - cpu_before


def report(name: str, latencies, statuses, wall: float, cpu: float) -> float:
    latencies = sorted(latencies)
    count = len(latencies)
    rate = count / wall
    p50 = statistics.median(latencies)
    p99 = latencies[max(int(count * 0.99) - 1, 0)]
    per_request = cpu / count * 1000
    codes = ", ".join(f"{code}: {n}" for code, n in sorted(statuses.items()))
    print(f"  {name}")
    print(f"    requests {count} ({codes}) in {wall:.2f} s: {rate:,.0f} req/s")
    print(f"    latency p50 {p50:.1f} ms, p99 {p99:.1f} ms")
    print(f"    server CPU {cpu:.2f} s: {per_request:.2f} ms per request")
    return per_request


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=60, help="stop a phase after this")
    args = parser.parse_args()

    workdir = tempfile.mkdtemp(prefix="forum-poll-bench-")
    url = f"sqlite:///{workdir}/bench.sqlite3"
    config = {
        "DATABASE_URL": url,
        "INSTANCE_PATH": f"{workdir}/instance",
        "SECRET_KEY": "bench",
        "RATELIMIT_ENABLED": False,
        "SPAM_CHECKS_ENABLED": False,
        "NOTIFY_IN_BACKGROUND": False,
        "PASSWORD_TIME_COST": 1,
        "PASSWORD_MEMORY_COST": 8,
        "PASSWORD_PARALLELISM": 1,
    }
    slug, etag, queries = build_database(config)
    port = loadgen.free_port()
    env = {
        **os.environ,
        "FORUM_DATABASE_URL": url,
        "FORUM_INSTANCE_PATH": f"{workdir}/instance",
        "FORUM_SECRET_KEY": "bench",
        "FORUM_RATELIMIT_ENABLED": "false",
    }
    server = loadgen.start_gunicorn("forum:create_app()", port, env, ROOT)
    base = f"http://127.0.0.1:{port}/articles/{slug}/discussion/version"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if requests.get(base, timeout=5).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            if time.monotonic() > deadline or server.poll() is not None:
                print("the server did not start", file=sys.stderr)
                return 2
            time.sleep(0.2)
        # Warm both workers (imports, connections) before measuring.
        run_phase(base, {}, 50, args.clients, args.seconds, server.pid)
        conditional = run_phase(
            base, {"If-None-Match": etag}, args.requests, args.clients, args.seconds, server.pid
        )
        plain = run_phase(base, {}, args.requests, args.clients, args.seconds, server.pid)
    finally:
        loadgen.stop_server(server)  # by its PID; the master stops its workers

    print(
        f"discussion version polling: gunicorn 2 sync workers, SQLite, {args.clients} clients, "
        f"{os.cpu_count()} CPUs"
    )
    print(f"  SQL statements per conditional request: {queries}")
    per_304 = report("If-None-Match with the current ETag (304)", *conditional)
    report("no If-None-Match (200, JSON)", *plain)
    rate = 1000 / POLL_SECONDS
    print(
        f"  1,000 visible tabs polling every {POLL_SECONDS} s: {rate:.0f} req/s, about "
        f"{rate * per_304 / 1000:.0%} of one CPU core"
    )
    ok = conditional[1].get(304, 0) == len(conditional[0]) == args.requests
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
