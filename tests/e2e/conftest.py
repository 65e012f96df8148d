"""Browser tests: one Chromium and one served app for the whole session, a fresh browser
context (cookies, storage) per test, and plain helpers to make people and articles.

The tests skip, saying why, where Chromium or Playwright is missing. They also skip on the
PostgreSQL run of the suite (``FORUM_TEST_DATABASE_URL`` set): the server here always uses
its own SQLite file, so a second run would repeat the first exactly."""

import os
import shutil
import time
from collections.abc import Iterator
from itertools import count
from pathlib import Path

import pytest

from forum.models import Role
from tests.conftest import make_article, make_user
from tests.e2e.server import CHROMIUM_ARGS, CHROMIUM_PATH, LiveServer, start_live_server

VENDOR = Path(__file__).parent / "vendor"
_serial = count(1)

# Failing expectations should fail in seconds, not in Playwright's default 30.
TIMEOUT_MS = 5_000


def chromium_executable() -> str | None:
    """Debian's Chromium (``.ci/run`` installs it), or the one named by the environment."""
    for candidate in (os.environ.get("FORUM_E2E_CHROMIUM"), shutil.which("chromium")):
        if candidate and Path(candidate).exists():
            return candidate
    return CHROMIUM_PATH if Path(CHROMIUM_PATH).exists() else None


def _skip_reason() -> str | None:
    if os.environ.get("FORUM_TEST_DATABASE_URL"):
        return (
            "browser tests run once, on the SQLite pass: their server always uses its own "
            "SQLite file, so the PostgreSQL pass would repeat them unchanged"
        )
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright for Python is not installed (pip install -e '.[dev]')"
    if chromium_executable() is None:
        return (
            "Chromium is not installed (apt-get install chromium, or set FORUM_E2E_CHROMIUM "
            "to a Chromium binary)"
        )
    return None


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist reads the groups
def pytest_collection_modifyitems(config, items):
    """Mark every test under tests/e2e ``e2e`` (this hook sees the whole session's items),
    and keep them on one pytest-xdist worker: one served app and one browser, not one each."""
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.path).parents:
            item.add_marker(pytest.mark.e2e)
            item.add_marker(pytest.mark.xdist_group("servers"))


@pytest.fixture(scope="session")
def live(tmp_path_factory) -> Iterator[LiveServer]:
    """The app served by a real HTTP server on 127.0.0.1, on a fresh SQLite file."""
    reason = _skip_reason()
    if reason:
        pytest.skip(reason)
    server = start_live_server(tmp_path_factory.mktemp("e2e"))
    yield server
    server.stop()


@pytest.fixture(scope="session")
def browser(live):
    """One headless Chromium for the whole session (launching costs a fraction of a second,
    but a browser per test adds up)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=chromium_executable(), args=CHROMIUM_ARGS, headless=True
        )
        yield chromium
        chromium.close()


def new_context(browser, live, **options):
    """A browser context against the live server; closed by the caller (or ``context``)."""
    context = browser.new_context(base_url=live.url, **options)
    context.set_default_timeout(TIMEOUT_MS)
    context.set_default_navigation_timeout(TIMEOUT_MS * 2)
    return context


@pytest.fixture
def contexts(browser, live):
    """Open as many contexts as a test needs (one per person); all closed afterwards."""
    opened = []

    def open_context(**options):
        context = new_context(browser, live, **options)
        opened.append(context)
        return context

    yield open_context
    for context in opened:
        context.close()


@pytest.fixture
def page(contexts):
    """A page in a fresh context with JavaScript on."""
    return contexts().new_page()


# --- data ---------------------------------------------------------------------------------


def unique(prefix: str) -> str:
    return f"{prefix}{next(_serial)}"


@pytest.fixture
def person(live):
    """Make an account on the live server: ``person("ada", role=Role.MODERATOR)``."""

    def make(prefix: str = "reader", role: Role = Role.READER, **kw):
        username = unique(prefix)
        live.run(make_user, username, role=role, **kw)
        return username

    return make


@pytest.fixture
def article(live, person):
    """A fresh article by a fresh author: ``(slug, author_username)``."""
    # Display names are unique up to look-alikes (forum/services/names.py): numbered.
    author = person("writer", role=Role.AUTHOR, display_name=unique("Wendy Writer "))
    slug = unique("article-")

    def build():
        from forum.services import accounts

        return make_article(accounts.find_user(author), slug=slug, title=f"The article {slug}")

    live.run(build)
    return slug, author


def sign_in(page, live, username: str) -> None:
    """Give ``page``'s context the session cookie of ``username``, as the login form would
    (what a test of something else needs: the login form has tests of its own)."""

    def cookie_value() -> str:
        from forum.services import accounts

        now = int(time.time())
        data = {
            "_user_id": accounts.find_user(username).get_id(),
            "_fresh": True,
            "login_at": now,
            "seen_at": now,
        }
        app = live.app
        return app.session_interface.get_signing_serializer(app).dumps(data)

    value = live.run(cookie_value)
    name = live.app.config["SESSION_COOKIE_NAME"]
    page.context.add_cookies([{"name": name, "value": value, "url": live.url}])


@pytest.fixture(scope="session")
def scene(live):
    """The long, lived-in discussion of ``tests.e2e.scenes``, built once per session."""
    from tests.e2e import scenes

    return live.run(scenes.build)
