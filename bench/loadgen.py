"""Load generation for the benchmark: wrk when installed (cheap on a 2-core machine, where a
Python client would steal CPU from the server it measures), else Python threads with
``http.client``; plus the few HTTP helpers the benchmark needs (login, cookies, gunicorn).

127.0.0.1 only: every URL here is built from a port on the loopback interface."""

import http.client
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

HOST = "127.0.0.1"


@dataclass
class Result:
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    errors: int = 0  # wrong status, socket errors, timeouts
    tool: str = "python"

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes
    cookies: dict[str, str] = field(default_factory=dict)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def request(
    port: int,
    method: str,
    path: str,
    *,
    headers: dict[str, str] | None = None,
    form: dict[str, str] | None = None,
    timeout: float = 600,
) -> Response:
    """One request on a fresh connection; Set-Cookie values are collected by name."""
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        body = urlencode(form).encode() if form is not None else None
        sent = dict(headers or {})
        if body is not None:
            sent["Content-Type"] = "application/x-www-form-urlencoded"
        conn.request(method, path, body=body, headers=sent)
        raw = conn.getresponse()
        data = raw.read()
        cookies = {}
        for name, value in raw.getheaders():
            if name.lower() == "set-cookie":
                pair = value.split(";", 1)[0]
                key, _, val = pair.partition("=")
                cookies[key.strip()] = val.strip()
        return Response(raw.status, {k.lower(): v for k, v in raw.getheaders()}, data, cookies)
    finally:
        conn.close()


def request_retrying(port: int, method: str, path: str, tries: int = 5, **kw) -> Response:
    """``request``, again when the connection drops (a worker that died is replaced)."""
    for attempt in range(tries):
        try:
            return request(port, method, path, **kw)
        except (ConnectionError, http.client.RemoteDisconnected):
            if attempt == tries - 1:
                raise
            time.sleep(0.5)
    raise AssertionError("unreachable")


def worker_crashes(process: subprocess.Popen) -> int:
    """Workers the gunicorn master saw die of a signal (SIGSEGV, SIGKILL...) so far."""
    log = Path(process.log_path).read_text(errors="replace")  # type: ignore[attr-defined]
    return len(re.findall(r"Worker \(pid:\d+\) was sent SIG", log))


def cookie_header(cookies: dict[str, str]) -> str:
    return "; ".join(f"{k}={v}" for k, v in cookies.items() if v)


_CSRF = re.compile(rb'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')


def csrf_token(html: bytes) -> str:
    match = _CSRF.search(html)
    if not match:
        raise RuntimeError("no CSRF token in the page")
    return (match.group(1) or match.group(2)).decode()


def login(port: int, username: str, password: str) -> dict[str, str]:
    """Log in through the real login form; returns the session cookies."""
    page = request_retrying(port, "GET", "/login")
    cookies = dict(page.cookies)
    answer = request(
        port,
        "POST",
        "/login",
        headers={"Cookie": cookie_header(cookies)},
        form={"username": username, "password": password, "csrf_token": csrf_token(page.body)},
    )
    if answer.status not in (302, 303):
        raise RuntimeError(f"login as {username} answered {answer.status}")
    cookies.update(answer.cookies)
    return cookies


def settle_session(port: int, path: str, cookies: dict[str, str]) -> dict[str, str]:
    """Visit a page with forms once, keeping the cookie it sets: the session then holds its
    CSRF secret, as a browser's would, and later requests neither need nor set a cookie."""
    answer = request_retrying(port, "GET", path, headers={"Cookie": cookie_header(cookies)})
    return {**cookies, **answer.cookies}


# --- servers ----------------------------------------------------------------------------------


def start_gunicorn(app_spec: str, port: int, env: dict[str, str], cwd: Path) -> subprocess.Popen:
    """gunicorn, 2 sync workers, on 127.0.0.1:port; the caller stops it (stop_server)."""
    log = tempfile.NamedTemporaryFile(  # noqa: SIM115 (closed after the process ends)
        prefix="bench-gunicorn-", suffix=".log", delete=False
    )
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--workers",
            "2",
            "--bind",
            f"{HOST}:{port}",
            "--timeout",
            "600",
            app_spec,
        ],
        cwd=cwd,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    process.log_path = log.name  # type: ignore[attr-defined]
    return process


def wait_until_up(process: subprocess.Popen, port: int, path: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log = Path(process.log_path).read_text()[-3000:]  # type: ignore[attr-defined]
            raise RuntimeError(f"gunicorn exited ({process.returncode}):\n{log}")
        try:
            if request(port, "GET", path, timeout=30).status < 500:
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"gunicorn on port {port} did not answer {path}")


def stop_server(process: subprocess.Popen | None) -> None:
    """Stop a gunicorn master we started (it stops its workers), by its PID."""
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)


def worker_pids(master: subprocess.Popen) -> list[int]:
    path = Path(f"/proc/{master.pid}/task/{master.pid}/children")
    return [int(pid) for pid in path.read_text().split()] if path.exists() else []


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


# --- load ------------------------------------------------------------------------------------


def run_load(
    port: int,
    path: str,
    *,
    headers: dict[str, str] | None = None,
    clients: int = 8,
    seconds: float = 5.0,
    max_requests: int = 2000,
    expect: int = 200,
    slow: bool = False,
) -> Result:
    """GET ``path`` from ``clients`` concurrent connections for ``seconds``.

    wrk for fast pages. A ``slow`` page (hundreds of ms each) goes to Python threads: wrk
    drops the requests still in flight when its time is up, which for a page that takes
    seconds under load is most of them, and a Python client costs nothing next to it. The
    threads finish what they started (no abandoned request keeps a worker busy into the next
    row) and make at least one request each."""
    if shutil.which("wrk") and not slow:
        return _wrk(port, path, headers or {}, clients, seconds)
    return _threads(port, path, headers or {}, clients, seconds, max_requests, expect)


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()
    return float(number) * _UNITS[unit]


def _wrk(port: int, path: str, headers: dict[str, str], clients: int, seconds: float) -> Result:
    lines = [f"wrk.headers[{_lua(k)}] = {_lua(v)}" for k, v in headers.items()]
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write("\n".join(lines) + "\n")
    try:
        out = subprocess.run(
            [
                "wrk",
                "-t",
                "2",
                "-c",
                str(clients),
                "-d",
                f"{max(1, round(seconds))}s",
                "--timeout",
                "60s",
                "--latency",
                "-s",
                script.name,
                f"http://{HOST}:{port}{path}",
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    finally:
        os.unlink(script.name)
    seen = read_wrk(out)
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = seen.socket_errors + (int(bad.group(1)) if bad else 0)
    return Result(seen.requests, seen.seconds, seen.p50_ms, seen.p99_ms, errors, "wrk")


def wrk_script(port: int, script_text: str, connections: int, seconds: float) -> str:
    """Run wrk with a Lua script, one thread per connection, against 127.0.0.1:port;
    returns its output (``read_wrk`` reads it)."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(script_text)
    try:
        return subprocess.run(
            [
                "wrk",
                "-t",
                str(connections),
                "-c",
                str(connections),
                "-d",
                f"{max(1, round(seconds))}s",
                "--timeout",
                "30s",
                "--latency",
                "-s",
                script.name,
                f"http://{HOST}:{port}/",
            ],
            capture_output=True,
            text=True,
            check=True,
            timeout=seconds + 60,
        ).stdout
    finally:
        os.unlink(script.name)


@dataclass
class WrkOutput:
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    socket_errors: int  # connect, read and write errors and timeouts


def read_wrk(out: str) -> WrkOutput:
    """The numbers of a ``wrk --latency`` run's output."""
    done = re.search(r"(\d+) requests in ([\d.]+)(us|ms|s|m)", out)
    p50 = re.search(r"50%\s+([\d.]+\w+)", out)
    p99 = re.search(r"99%\s+([\d.]+\w+)", out)
    if not (done and p50 and p99):
        raise RuntimeError(f"could not read wrk's output:\n{out}")
    return WrkOutput(
        int(done.group(1)),
        _ms(done.group(2) + done.group(3)) / 1000,
        _ms(p50.group(1)),
        _ms(p99.group(1)),
        sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", out)),
    )


def _lua(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def percentile(values: list[float], share: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))]


def _threads(
    port: int,
    path: str,
    headers: dict[str, str],
    clients: int,
    seconds: float,
    max_requests: int,
    expect: int,
) -> Result:
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    deadline = time.monotonic() + seconds
    hard_deadline = time.monotonic() + 6 * seconds
    at_least = clients

    def client() -> None:
        nonlocal errors
        conn = http.client.HTTPConnection(HOST, port, timeout=600)
        while True:
            now = time.monotonic()
            with lock:
                done = len(latencies)
            if done >= max_requests or now > hard_deadline:
                break
            if now > deadline and done >= at_least:
                break
            start = time.perf_counter()
            try:
                conn.request("GET", path, headers=headers)
                response = conn.getresponse()
                response.read()
                ok = response.status == expect
            except OSError:
                conn.close()
                ok = False
            elapsed = (time.perf_counter() - start) * 1000
            with lock:
                latencies.append(elapsed)
                errors += not ok
        conn.close()

    started = time.perf_counter()
    workers = [threading.Thread(target=client) for _ in range(clients)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    wall = time.perf_counter() - started
    return Result(
        len(latencies), wall, percentile(latencies, 0.5), percentile(latencies, 0.99), errors
    )


def cpu_seconds(master: subprocess.Popen) -> float:
    """User and system CPU of a gunicorn master and its workers so far (from /proc)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in [master.pid, *worker_pids(master)]:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        total += (int(fields[11]) + int(fields[12])) / ticks  # utime, stime
    return total
