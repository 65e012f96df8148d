"""Benchmark: importing a 100,000-comment Disqus export into SQLite (the target: < 3 min).

Generates the file (tests/importing/disqus_generator.py: real-shaped, HTML bodies, replies
down to depth 8), builds a fresh SQLite database with the migrations, and times
``flask --app forum import disqus FILE`` in this process, then checks the page of the
biggest discussion renders. Prints the seconds and the comments per second.

    python bench/import_disqus.py [--comments 100000] [--sanitizer bleach|nh3]

Everything lives in a temporary directory, removed at the end."""

import argparse
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import select  # noqa: E402

from forum import create_app  # noqa: E402
from forum.extensions import db  # noqa: E402
from forum.models import Article, Role  # noqa: E402
from forum.services import accounts  # noqa: E402
from tests.importing.disqus_generator import write_disqus_export  # noqa: E402

TARGET_SECONDS = 180


def _cpu_seconds() -> float:
    """User and system time of this process and its finished children (the workers)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--comments", type=int, default=100_000)
    parser.add_argument("--sanitizer", choices=("bleach", "nh3"), default="bleach")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="forum-import-bench-") as tmp:
        directory = Path(tmp)
        export = directory / "disqus.xml"
        started = time.perf_counter()
        write_disqus_export(export, args.comments)
        size = export.stat().st_size / 1e6
        print(
            f"Generated {args.comments} comments ({size:.1f} MB) in "
            f"{time.perf_counter() - started:.1f} s"
        )
        app = create_app(
            {
                "SECRET_KEY": "bench-secret-not-for-production",
                "DATABASE_URL": f"sqlite:///{directory / 'bench.sqlite3'}",
                "INSTANCE_PATH": str(directory / "instance"),
                "SANITIZER": args.sanitizer,
                "PASSWORD_TIME_COST": 1,
                "PASSWORD_MEMORY_COST": 8,
                "PASSWORD_PARALLELISM": 1,
            }
        )
        with app.app_context():
            upgrade()
            accounts.register("editor", "bench password 1234", role=Role.ADMIN)
            db.session.remove()
            runner = app.test_cli_runner()
            started, cpu = time.perf_counter(), _cpu_seconds()
            result = runner.invoke(args=["import", "disqus", str(export), "--json"])
            seconds, cpu = time.perf_counter() - started, _cpu_seconds() - cpu
            if result.exit_code != 0:
                print(result.output)
                return 1
            summary = json.loads(result.output.strip().splitlines()[-1])
            biggest = db.session.execute(
                select(Article).order_by(Article.comment_count.desc()).limit(1)
            ).scalar_one()
            slug, shown = biggest.slug, biggest.comment_count
            db.session.remove()
            page_started = time.perf_counter()
            status = app.test_client().get(f"/articles/{slug}").status_code
            page_ms = (time.perf_counter() - page_started) * 1000
        print(
            f"Imported {summary['comments']} comments ({summary['replies']} replies, "
            f"{summary['authors']} authors, {summary['articles_created']} discussions) "
            f"with {args.sanitizer} in {seconds:.1f} s "
            f"({summary['comments'] / seconds:.0f} comments/s); target < {TARGET_SECONDS} s: "
            f"{'met' if seconds < TARGET_SECONDS else 'MISSED'}"
        )
        load = os.getloadavg()[0]
        print(
            f"CPU time of the import (this process and its rendering workers): {cpu:.1f} s "
            f"on {os.cpu_count()} cores; load average {load:.1f} (a busy machine stretches "
            "the wall-clock time, not the CPU time)"
        )
        print(
            f"Biggest discussion ({shown} visible comments): "
            f"first page {status} in {page_ms:.0f} ms"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
