"""Benchmark: the posting row of ``discussion.py`` alone, repeated, for work on the write path.

Builds the same 1,000-comment discussion (and a 100-comment ``big`` article, which posting
never reads), serves it with gunicorn (2 sync workers), logs the 4 writers in through the
login form and posts for ``--seconds`` per run, ``--runs`` times, with the same client as
``discussion.py`` (wrk when installed). After each run it checks that every comment
acknowledged with a redirect was stored, once, and that the background fan-out has told
people about every stored comment.

    python bench/posting.py [--seconds 5] [--runs 3] [--postgres URL] [--redis URL] [--big N]

Stops everything it started."""

import argparse
import contextlib
import shutil
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import func, select

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent))

import discussion  # noqa: E402
import loadgen  # noqa: E402

from forum.extensions import db  # noqa: E402
from forum.models import Comment  # noqa: E402


def unnotified(setup: discussion.Setup, workdir: Path) -> int:
    """Visible comments whose fan-out hasn't run (it runs just after each response)."""
    app = discussion.app_for(setup.url, workdir)
    with app.app_context():
        count = db.session.execute(
            select(func.count(Comment.id)).where(Comment.notified_at.is_(None), Comment.is_visible)
        ).scalar_one()
        db.engine.dispose()
    return count


@contextlib.contextmanager
def forum_server(postgres: str | None = None, redis: str | None = None, big: int = 100):
    """Build the posting row's database and serve it (gunicorn, 2 sync workers); yields
    ``(setup, workdir, server, port, writers)``, the writers' session cookies logged in
    through the login form. Stops and removes everything at the end."""
    workdir = Path(tempfile.mkdtemp(prefix="forum-bench-posting-"))
    drop = None
    server = None
    try:
        if postgres:
            url, drop = discussion.postgres_database(postgres)
        else:
            url = f"sqlite:///{workdir}/bench.sqlite3"
        setup = discussion.Setup(url, "PostgreSQL" if postgres else "SQLite", redis)
        discussion.build(setup, workdir, big)
        port = loadgen.free_port()
        server = loadgen.start_gunicorn(
            "forum:create_app()", port, discussion.server_env(setup), discussion.ROOT
        )
        loadgen.wait_until_up(server, port, f"/articles/{discussion.SLUG}")
        writers = [
            loadgen.settle_session(
                port,
                f"/articles/{discussion.SMALL}",
                loadgen.login(port, f"writer{n}", discussion.PASSWORD),
            )
            for n in range(discussion.WRITERS)
        ]
        yield setup, workdir, server, port, writers
    finally:
        loadgen.stop_server(server)
        if drop is not None:
            drop()
        shutil.rmtree(workdir, ignore_errors=True)


def checked_run(setup, workdir: Path, port: int, writers, seconds: float, tag: str):
    """One posting run; returns (result, answered, stored, lost, duplicated)."""
    result, posted = discussion.post_load(port, writers, setup.discussion_ids, seconds, tag)
    markers = [m for m in discussion.stored_markers(setup, workdir) if f"{tag})" in m]
    lost = len(set(posted) - set(markers))
    duplicated = len(markers) - len(set(markers))
    return result, len(posted), len(markers), lost, duplicated


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--postgres", default=None, help="a PostgreSQL URL instead of SQLite")
    parser.add_argument("--redis", default=None, help="FORUM_REDIS_URL for the forum, if any")
    parser.add_argument(
        "--big",
        type=int,
        default=100,
        help="comments of the other article (100,000 in the full run)",
    )
    args = parser.parse_args()
    errors = 0
    with forum_server(args.postgres, args.redis, args.big) as (
        setup,
        workdir,
        server,
        port,
        writers,
    ):
        tool = "wrk" if shutil.which("wrk") else "python threads"
        print(f"posting, {setup.backend}, {discussion.WRITERS} writers, {tool}")
        print(
            "| run | posts/s | p50 ms | p99 ms | server CPU per post "
            "| answered 3xx | stored | lost | dup | errors |"
        )
        print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        for run in range(1, args.runs + 1):
            before = loadgen.cpu_seconds(server)
            result, answered, stored, lost, duplicated = checked_run(
                setup, workdir, port, writers, args.seconds, f".r{run}"
            )
            cpu_ms = 1000 * (loadgen.cpu_seconds(server) - before) / max(stored, 1)
            errors += result.errors + lost + duplicated
            print(
                f"| {run} | {result.rate:.1f} | {result.p50_ms:.1f} | {result.p99_ms:.1f} "
                f"| {cpu_ms:.1f} ms | {answered} | {stored} | {lost} | {duplicated} "
                f"| {result.errors} |",
                flush=True,
            )
        time.sleep(1.0)  # the last fan-outs run just after their responses
        waiting = unnotified(setup, workdir)
        print(f"visible comments not yet fanned out 1 s after the last run: {waiting}")
        crashes = loadgen.worker_crashes(server)
        if crashes:
            print(f"ERRORS: {crashes} gunicorn workers died of a signal (log: {server.log_path})")
            errors += crashes
    return 1 if errors else 0


if __name__ == "__main__":
    raise SystemExit(main())
