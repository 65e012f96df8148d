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
    workdir = Path(tempfile.mkdtemp(prefix="forum-bench-posting-"))
    drop = None
    server = None
    errors = 0
    try:
        if args.postgres:
            url, drop = discussion.postgres_database(args.postgres)
        else:
            url = f"sqlite:///{workdir}/bench.sqlite3"
        setup = discussion.Setup(url, "PostgreSQL" if args.postgres else "SQLite", args.redis)
        discussion.build(setup, workdir, args.big)
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
        tool = "wrk" if shutil.which("wrk") else "python threads"
        print(f"posting, {setup.backend}, {discussion.WRITERS} writers, {tool}")
        print("| run | posts/s | p50 ms | p99 ms | answered 3xx | stored | lost | dup | errors |")
        print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        for run in range(1, args.runs + 1):
            tag = f".r{run}"
            result, posted = discussion.post_load(
                port, writers, setup.discussion_ids, args.seconds, tag
            )
            markers = [m for m in discussion.stored_markers(setup, workdir) if f"{tag})" in m]
            lost = len(set(posted) - set(markers))
            duplicated = len(markers) - len(set(markers))
            errors += result.errors + lost + duplicated
            print(
                f"| {run} | {result.rate:.1f} | {result.p50_ms:.1f} | {result.p99_ms:.1f} "
                f"| {len(posted)} | {len(markers)} | {lost} | {duplicated} | {result.errors} |",
                flush=True,
            )
        time.sleep(1.0)  # the last fan-outs run just after their responses
        waiting = unnotified(setup, workdir)
        print(f"visible comments not yet fanned out 1 s after the last run: {waiting}")
        crashes = loadgen.worker_crashes(server)
        if crashes:
            print(f"ERRORS: {crashes} gunicorn workers died of a signal (log: {server.log_path})")
            errors += crashes
    finally:
        loadgen.stop_server(server)
        if drop is not None:
            drop()
        shutil.rmtree(workdir, ignore_errors=True)
    return 1 if errors else 0


if __name__ == "__main__":
    raise SystemExit(main())
