"""Benchmark: CPU per request of the article page, in-process, by kind of viewer.

Builds the same database as ``bench/discussion.py --quick`` (a temporary SQLite file), then
asks for the 1,000-comment and the 100-comment pages through the Flask test client as a
reader, a moderator, the articles' author and an anonymous visitor, and prints the CPU time
per request (``time.process_time``, the best of three runs: the machine may be shared),
the SQL statements per request and the page's size. Unlike the gunicorn rows of
``bench/discussion.py`` it needs no quiet machine to compare two versions of the code.

    python bench/page_cpu.py [--requests 60] [--keep DIR]"""

import argparse
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import event, select

BENCH = Path(__file__).resolve().parent
sys.path[:0] = [str(BENCH), str(BENCH.parent)]

import discussion as bench  # noqa: E402

from forum.extensions import db  # noqa: E402
from forum.models import User  # noqa: E402

PAGES = ("/articles/discussion", "/articles/small")
VIEWERS = ("reader", "moderator", "author", None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=60, help="per run (3 runs per row)")
    parser.add_argument("--keep", type=Path, help="build the database here, or reuse it")
    args = parser.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="forum-page-cpu-"))
    url = f"sqlite:///{work / 'bench.sqlite3'}"
    if not (work / "bench.sqlite3").exists():
        work.mkdir(parents=True, exist_ok=True)
        print(f"building {work} ...", flush=True)
        bench.build(bench.Setup(url=url, backend="sqlite"), work, 10_000)
    app = bench.app_for(url, work)
    app.config["WTF_CSRF_ENABLED"] = True  # as served: the forms carry tokens
    statements: list[str] = []
    with app.app_context():
        ids = {
            name: db.session.execute(select(User).filter_by(username=name)).scalar_one().get_id()
            for name in VIEWERS
            if name
        }
        event.listen(db.engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
        db.session.remove()
    print("| viewer | page | CPU ms per request | queries | bytes |")
    print("|---|---|---:|---:|---:|")
    for viewer in VIEWERS:
        client = bench.logged_in_client(app, ids[viewer] if viewer else None)
        for path in PAGES:
            for _ in range(3):  # warm: the shared renderings are made once
                response = client.get(path)
            if response.status_code != 200:
                sys.exit(f"{path} as {viewer}: {response.status_code}")
            statements.clear()
            client.get(path)
            queries = len(statements)
            runs = []
            for _ in range(3):
                started = time.process_time()
                for _ in range(args.requests):
                    client.get(path)
                runs.append((time.process_time() - started) / args.requests * 1000)
            print(
                f"| {viewer or 'anonymous'} | {path} | {min(runs):.2f} | {queries} "
                f"| {len(response.data):,} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
