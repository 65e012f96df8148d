"""Real servers for the tests that need them: gunicorn started as an operator would, on a
free port of 127.0.0.1, waited for, and stopped by its PID whatever the test did."""

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.conftest import PASSWORD, csrf_token_from

PROJECT_ROOT = Path(__file__).resolve().parent.parent
REQUEST_TIMEOUT = 30  # seconds, for every request
STARTUP_TIMEOUT = 30


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_environment(**settings: str) -> dict[str, str]:
    """The test runner's environment minus any FORUM_* setting, plus the server's own (cheap
    password hashing: logging in is not what these tests measure)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FORUM_")}
    env.update(
        FORUM_PASSWORD_TIME_COST="1",
        FORUM_PASSWORD_MEMORY_COST="8",
        FORUM_PASSWORD_PARALLELISM="1",
        PYTHONUNBUFFERED="1",
    )
    env.update({f"FORUM_{name}": value for name, value in settings.items()})
    return env


def run_flask(app_spec: str, args: list[str], env: dict[str, str], stdin: str | None = None):
    """``flask --app APP ARGS...`` as an operator would run it; fails the test on an error."""
    result = subprocess.run(
        [sys.executable, "-m", "flask", "--app", app_spec, *args],
        env=env,
        cwd=PROJECT_ROOT,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, f"{args} failed:\n{result.stdout}\n{result.stderr}"
    return result


@contextmanager
def gunicorn(app_spec: str, env: dict[str, str], log: Path, workers: int = 2) -> Iterator[str]:
    """A gunicorn serving ``app_spec``; yields its base URL, and stops it by its PID."""
    requests = pytest.importorskip("requests")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with log.open("w") as log_file:
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "--workers",
                str(workers),
                "--bind",
                f"127.0.0.1:{port}",
                "--timeout",
                "60",
                app_spec,
            ],
            env=env,
            cwd=PROJECT_ROOT,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_until_serving(base, server, log, requests)
        yield base
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=15)


def _wait_until_serving(base: str, server: subprocess.Popen, log: Path, requests) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"gunicorn exited with {server.returncode}:\n{log.read_text()}")
        try:
            if requests.get(f"{base}/", timeout=10).status_code == 200:
                return
        except (requests.ConnectionError, requests.Timeout):
            pass  # still starting (a busy machine can take a while)
        time.sleep(0.2)
    pytest.fail(f"gunicorn did not answer within {STARTUP_TIMEOUT} s:\n{log.read_text()}")


def logged_in_session(base: str, username: str, slug: str):
    """A browser-like session: log in through the form, then fetch the article's comment
    form; returns the session and the form's CSRF token."""
    requests = pytest.importorskip("requests")
    session = requests.Session()
    page = session.get(f"{base}/login", timeout=REQUEST_TIMEOUT)
    response = session.post(
        f"{base}/login",
        data={
            "username": username,
            "password": PASSWORD,
            "csrf_token": csrf_token_from(page.text),
        },
        allow_redirects=False,
        timeout=REQUEST_TIMEOUT,
    )
    assert response.status_code == 302, response.text[:500]
    article = session.get(f"{base}/articles/{slug}", timeout=REQUEST_TIMEOUT)
    assert article.status_code == 200
    assert 'name="body"' in article.text, "no comment form for a logged-in reader"
    return session, csrf_token_from(article.text[article.text.index('class="comment-form"') :])
