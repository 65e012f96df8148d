"""CPU of one revalidation (``If-None-Match`` answered ``304``) in-process, per way the
middleware learns the version: PostgreSQL's prepared query, PostgreSQL with versions in Redis,
and (for comparison) SQLite's remembered versions, next to the floor app's 304.

    python bench/revalidation.py --postgres postgresql+psycopg://postgres@127.0.0.1:5432/postgres \\
        --redis redis://127.0.0.1:6379/13

Each case calls the WSGI app directly (no HTTP, no test client) and reports CPU time
(``time.process_time``) per request, the median of several rounds; the machine is shared, so
compare cases of one run, not runs."""

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))


def _environ(path: str, etag: str | None = None) -> dict:
    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "HTTP_HOST": "127.0.0.1:8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.url_scheme": "http",
        "wsgi.input": None,
        "wsgi.errors": sys.stderr,
    }
    if etag:
        environ["HTTP_IF_NONE_MATCH"] = etag
    return environ


def _call(app, environ: dict) -> tuple[str, dict]:
    seen: dict = {}

    def start_response(status, headers, exc_info=None):
        seen["status"], seen["headers"] = status, dict(headers)

    result = app(environ, start_response)
    b"".join(result)
    if hasattr(result, "close"):
        result.close()
    return seen["status"], seen["headers"]


def per_request_us(app, environ: dict, count: int, rounds: int) -> float:
    samples = []
    for _ in range(rounds):
        start = time.process_time()
        for _ in range(count):
            status, _ = _call(app, dict(environ))
            if not status.startswith("304"):
                raise SystemExit(f"expected 304, got {status}")
        samples.append((time.process_time() - start) / count * 1e6)
    return statistics.median(samples)


def forum_case(url: str, redis_url: str | None, workdir: Path, count: int, rounds: int):
    from forum import create_app
    from forum.extensions import db
    from forum.models import Article, Role
    from forum.services import accounts

    config = {
        "DATABASE_URL": url,
        "SECRET_KEY": "bench",
        "INSTANCE_PATH": str(workdir),
        "RATELIMIT_ENABLED": False,
        "RATELIMIT_STORAGE_URI": "memory://",
    }
    if redis_url:
        config["REDIS_URL"] = redis_url
    app = create_app(config)
    slug = f"bench-{uuid.uuid4().hex[:8]}"
    with app.app_context():
        db.create_all()
        author = accounts.register(f"w{uuid.uuid4().hex[:6]}", "bench-password-1", role=Role.AUTHOR)
        db.session.add(Article(slug=slug, title="Bench", author=author, body_html="<p>x</p>"))
        db.session.commit()
    wsgi = app.wsgi_app
    status, headers = _call(wsgi, _environ(f"/articles/{slug}"))
    assert status.startswith("200"), status
    environ = _environ(f"/articles/{slug}", headers["ETag"])
    _call(wsgi, dict(environ))  # keeps the parsed head, fills Redis
    result = per_request_us(wsgi, environ, count, rounds)
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    return result


def floor_case(workdir: Path, count: int, rounds: int) -> float:
    import os

    folder = workdir / "floor"
    folder.mkdir()
    (folder / "revalidate").write_bytes(b"")
    os.environ["BENCH_FLOOR_DIR"] = str(folder)
    import floor_app

    app = floor_app.create().wsgi_app
    return per_request_us(app, _environ("/revalidate"), count, rounds)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", required=True, help="server URL; a temporary database")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/13")
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    server = make_url(args.postgres)
    name = f"forum_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = server.set(database=name).render_as_string(hide_password=False)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            work = Path(tmp)
            rows = [
                ("floor app 304 (bare Flask)", floor_case(work, args.count, args.rounds)),
                (
                    "SQLite, remembered versions",
                    forum_case(
                        f"sqlite:///{work / 'b.sqlite3'}", None, work, args.count, args.rounds
                    ),
                ),
                (
                    "PostgreSQL, prepared query",
                    forum_case(url, None, work, args.count, args.rounds),
                ),
                (
                    f"PostgreSQL, versions in Redis ({args.redis})",
                    forum_case(url, args.redis, work, args.count, args.rounds),
                ),
            ]
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    print(f"CPU per revalidation, in-process, median of {args.rounds} x {args.count}:")
    for label, value in rows:
        print(f"  {label:55} {value:7.1f} µs")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
