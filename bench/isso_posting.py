"""Benchmark: posting on this forum next to Isso 0.14 posting on the same machine, same run.

Issue 10's posting target is relative: "3x Isso 0.14 on this machine". This measures that
reference instead of quoting it. Isso 0.14 runs from a virtual environment of its own
(made on first use with pip, from PyPI, under ``--isso-venv``), under gunicorn with 2 sync
workers like the forum, on 127.0.0.1, with moderation and its rate limits ("guard") off,
as the forum's rate limits are off in the bench. Both get the same 1,000-comment discussion
(``populate.plan_discussion(shape="realistic")``, Isso's through its own API) and the same
load: 4 writers on one wrk connection each, 70 % replies to a random comment. The runs
alternate (Isso, forum, Isso, forum, ...) so drift in the machine's load reaches both.

It prints posts/s, p50/p99 and the servers' CPU per post (gunicorn master and workers,
from /proc), checks that every post acknowledged was stored once, and the ratio.

What each post does differs, and the table can't show it: an Isso post is anonymous JSON
(no account, session or CSRF token) that inserts one row; a forum post is a logged-in form
post with a CSRF token that checks the account, the discussion and the parent under the write
lock, keeps the discussion's counts and version, follows the discussion and queues the
notifications and webhooks for the post.

    python bench/isso_posting.py [--seconds 5] [--runs 3] [--isso-venv DIR]

Stops everything it started."""

import argparse
import http.client
import json
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent))

import discussion  # noqa: E402
import loadgen  # noqa: E402
import posting  # noqa: E402

from forum.services import populate  # noqa: E402

ISSO = "isso==0.14.0"
THREAD_URI = "/articles/discussion"
MARKER = "(isso-post "

CONFIG = """[general]
dbpath = {db}
host = http://127.0.0.1:{port}/
[moderation]
enabled = false
[guard]
enabled = false
[server]
listen = http://127.0.0.1:{port}/
"""

# One wrk thread and connection per writer, each comment with a marker that says who sent it.
SCRIPT = r"""
local parents = {{ {parents} }}
local next_writer = 0

function setup(thread)
  next_writer = next_writer + 1
  thread:set("writer", next_writer)
end

function init(args)
  sent = 0
  math.randomseed(writer * 7919)
end

function request()
  local marker = "{marker}w" .. writer .. "-" .. sent .. "{tag})"
  sent = sent + 1
  local body = '{{"text": "A reply written under load. ' .. marker .. '", "author": "w'
    .. writer .. '", "title": "A realistic discussion"'
  if math.random() < 0.7 then
    body = body .. ', "parent": ' .. parents[math.random(#parents)]
  end
  body = body .. "}}"
  local headers = {{}}
  headers["Content-Type"] = "application/json"
  headers["Origin"] = "http://127.0.0.1:{port}"
  return wrk.format("POST", "/new?uri={uri}", headers, body)
end
"""


def isso_python(venv: Path) -> Path:
    """The virtual environment's Python with Isso 0.14 and gunicorn, made when missing."""
    python = venv / "bin" / "python"
    ready = venv / ".isso-ready"
    if not ready.exists():
        print(f"installing {ISSO} and gunicorn into {venv} (from PyPI) ...", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "-q", ISSO, "gunicorn"],
            check=True,
        )
        ready.touch()
    return python


def start_isso(python: Path, workdir: Path, port: int) -> subprocess.Popen:
    config = workdir / "isso.cfg"
    config.write_text(CONFIG.format(db=workdir / "isso.sqlite3", port=port))
    log = open(workdir / "isso.log", "w")  # noqa: SIM115 (closed with the process)
    process = subprocess.Popen(
        [
            str(python),
            "-m",
            "gunicorn",
            "--preload",  # the master makes Isso's tables once, before the workers start
            "--workers",
            "2",
            "--bind",
            f"{loadgen.HOST}:{port}",
            "isso.run",
        ],
        cwd=workdir,
        env={**os.environ, "ISSO_SETTINGS": str(config)},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    process.log_path = str(workdir / "isso.log")  # type: ignore[attr-defined]
    return process


def isso_post(port: int, text: str, parent: int | None) -> int:
    body = {"text": text, "author": "seed", "title": "A realistic discussion"}
    if parent is not None:
        body["parent"] = parent
    connection = http.client.HTTPConnection(loadgen.HOST, port, timeout=30)
    try:
        connection.request(
            "POST",
            f"/new?uri={THREAD_URI}",
            json.dumps(body),
            {"Content-Type": "application/json", "Origin": f"http://{loadgen.HOST}:{port}"},
        )
        response = connection.getresponse()
        data = response.read()
    finally:
        connection.close()
    if response.status != 201:
        raise RuntimeError(f"Isso answered {response.status}: {data[:300]!r}")
    return json.loads(data)["id"]


def wait_for_isso(process: subprocess.Popen, port: int, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"Isso's gunicorn exited; log: {process.log_path}")
        try:
            loadgen.request(port, "GET", "/info", timeout=5)
            return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"Isso did not answer in {seconds:.0f} s; log: {process.log_path}")


def seed_isso(port: int) -> list[int]:
    """The forum's 1,000-comment plan, posted through Isso's API, one by one."""
    ids: list[int] = []
    for planned in populate.plan_discussion(1000, seed=11, max_depth=10, shape="realistic"):
        parent = ids[planned.parent_index] if planned.parent_index is not None else None
        ids.append(isso_post(port, planned.body, parent))
    return ids


def isso_run(port: int, ids: list[int], seconds: float, tag: str) -> tuple[loadgen.Result, int]:
    """4 writers posting to Isso; returns wrk's result and how many answers were not 201."""
    script_text = SCRIPT.format(
        parents=", ".join(str(i) for i in ids), marker=MARKER, tag=tag, port=port, uri=THREAD_URI
    )
    out = loadgen.wrk_script(port, script_text, discussion.WRITERS, seconds)
    seen = loadgen.read_wrk(out)
    bad = seen.socket_errors
    if "Non-2xx or 3xx responses:" in out:
        bad += int(out.split("Non-2xx or 3xx responses:")[1].split()[0])
    answered = loadgen.Result(seen.requests, seen.seconds, seen.p50_ms, seen.p99_ms, bad, "wrk")
    return answered, bad


def isso_stored(workdir: Path, tag: str) -> tuple[int, int]:
    """(comments stored by the run with ``tag``, distinct markers among them)."""
    with sqlite3.connect(workdir / "isso.sqlite3") as connection:
        texts = [
            row[0]
            for row in connection.execute(
                "SELECT text FROM comments WHERE text LIKE ?", (f"%{MARKER}%{tag})%",)
            )
        ]
    return len(texts), len({text[text.index(MARKER) :] for text in texts})


def print_row(run: int, server: str, result: loadgen.Result, cpu: float, *counts: int) -> None:
    """A table row: the run, the server, wrk's numbers, CPU per stored post and the counts
    (answered, stored, lost, duplicated)."""
    answered, stored, lost, duplicated = counts
    print(
        f"| {run} | {server} | {result.rate:.1f} | {result.p50_ms:.1f} | {result.p99_ms:.1f} "
        f"| {1000 * cpu / max(stored, 1):.1f} ms | {answered} | {stored} | {lost} | {duplicated} |",
        flush=True,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--isso-venv",
        type=Path,
        default=Path.home() / ".cache" / "forum-bench" / "isso-0.14.0",
        help="where Isso's virtual environment is (made when missing)",
    )
    args = parser.parse_args()
    if not shutil.which("wrk"):
        print("wrk is needed for this comparison (apt-get install wrk)")
        return 1
    python = isso_python(args.isso_venv)
    workdir = Path(tempfile.mkdtemp(prefix="forum-bench-isso-"))
    isso = None
    errors = 0
    rows: dict[str, list[tuple[loadgen.Result, float]]] = {"Isso 0.14": [], "forum": []}
    try:
        isso_port = loadgen.free_port()
        isso = start_isso(python, workdir, isso_port)
        wait_for_isso(isso, isso_port)
        isso_ids = seed_isso(isso_port)
        with posting.forum_server() as (setup, forum_dir, server, port, writers):
            print("posting, SQLite, 4 writers, wrk, runs alternating")
            print("| run | server | posts/s | p50 ms | p99 ms | server CPU per post | answered "
                  "| stored | lost | dup |")  # fmt: skip
            print("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|")
            for run in range(1, args.runs + 1):
                tag = f".r{run}"
                before = loadgen.cpu_seconds(isso)
                result, bad = isso_run(isso_port, isso_ids, args.seconds, tag)
                cpu = loadgen.cpu_seconds(isso) - before
                stored, distinct = isso_stored(workdir, tag)
                answered = result.requests - bad
                lost, duplicated = max(answered - distinct, 0), stored - distinct
                errors += bad + lost + duplicated
                rows["Isso 0.14"].append((result, cpu / max(stored, 1)))
                print_row(run, "Isso 0.14", result, cpu, answered, stored, lost, duplicated)
                before = loadgen.cpu_seconds(server)
                result, answered, stored, lost, duplicated = posting.checked_run(
                    setup, forum_dir, port, writers, args.seconds, tag
                )
                time.sleep(0.3)  # the fan-out of the last posts is part of their cost
                cpu = loadgen.cpu_seconds(server) - before
                errors += result.errors + lost + duplicated
                rows["forum"].append((result, cpu / max(stored, 1)))
                print_row(run, "forum", result, cpu, answered, stored, lost, duplicated)
        print()
        median = {name: statistics.median(r.rate for r, _ in runs) for name, runs in rows.items()}
        cpu = {name: statistics.median(c for _, c in runs) for name, runs in rows.items()}
        print(
            f"median posts/s: forum {median['forum']:.1f}, Isso 0.14 {median['Isso 0.14']:.1f}: "
            f"the forum at {median['forum'] / median['Isso 0.14']:.2f}x Isso "
            "(issue 10 asks for 3x)"
        )
        print(
            f"median server CPU per post: forum {1000 * cpu['forum']:.1f} ms, "
            f"Isso 0.14 {1000 * cpu['Isso 0.14']:.1f} ms"
        )
    finally:
        loadgen.stop_server(isso)
        shutil.rmtree(workdir, ignore_errors=True)
    if errors:
        print(f"ERRORS: {errors} failed, lost or duplicated posts")
    return 1 if errors else 0


if __name__ == "__main__":
    raise SystemExit(main())
