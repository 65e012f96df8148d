"""The discussion embedded in a publisher's page on another origin, in Chromium.

The forum is served on 127.0.0.1 and the publisher's site on ``localhost`` (another site, as
far as the browser is concerned), with ``FORUM_EMBED_CROSS_SITE`` on: the session cookie is
``SameSite=None; Secure``, which Chromium accepts on plain HTTP for these loopback hosts.
A third server, on another port, plays a site that is not in ``FORUM_EMBED_ORIGINS``."""

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import pytest

from forum import create_app
from forum.extensions import db
from forum.models import Role
from forum.services import external_articles, threads
from tests.conftest import PASSWORD, make_user
from tests.e2e.conftest import _skip_reason, unique
from tests.e2e.helpers import expect
from tests.e2e.server import LiveServer, live_config, serve


class Publisher:
    """A tiny site of static pages on ``localhost``: pages with the embed script, and a list
    of links with the count script."""

    def __init__(self, forum_url: str) -> None:
        self.forum_url = forum_url
        self.pages: dict[str, str] = {}
        publisher = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                body = publisher.pages.get(urlsplit(self.path).path)
                if body is None:
                    self.send_error(404)
                    return
                data = body.encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.origin = f"http://localhost:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def add_article(self, path: str, title: str, extra: str = "") -> str:
        self.pages[path] = (
            f"<!doctype html><html><head><title>{title}</title></head><body>"
            f"<h1>{title}</h1><p>The publisher's own words.</p>"
            f'<div id="forum-discussion" {extra}></div>'
            f'<script src="{self.forum_url}/embed.js" async></script></body></html>'
        )
        return self.origin + path

    def add_list(self, path: str, hrefs: list[str], lang: str = "") -> None:
        links = "".join(
            f'<li><a data-forum-count href="{href}">Comments</a></li>' for href in hrefs
        )
        html = f'<html lang="{lang}">' if lang else "<html>"
        self.pages[path] = (
            f"<!doctype html>{html}<head><title>Index</title></head><body><ul>{links}</ul>"
            f'<script src="{self.forum_url}/embed/count.js" async></script></body></html>'
        )

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@dataclass
class Sites:
    forum: LiveServer
    publisher: Publisher
    stranger: Publisher  # a site not in FORUM_EMBED_ORIGINS


@pytest.fixture(scope="module")
def sites(tmp_path_factory) -> Iterator[Sites]:
    reason = _skip_reason()
    if reason:
        pytest.skip(reason)
    # The publisher's port is known only once it listens: start it, then the forum.
    publisher = Publisher("")
    stranger = Publisher("")
    directory = tmp_path_factory.mktemp("embed")
    app = create_app(live_config(directory, EMBED_ORIGINS=publisher.origin, EMBED_CROSS_SITE=True))
    with app.app_context():
        db.create_all()
        make_user("boss", role=Role.ADMIN)
        db.session.remove()
    forum = serve(app)
    publisher.forum_url = stranger.forum_url = forum.url
    yield Sites(forum, publisher, stranger)
    forum.stop()
    publisher.stop()
    stranger.stop()


@pytest.fixture
def context(browser, sites):
    """A fresh browser context: no cookies, no storage, no permissions."""
    context = browser.new_context()
    context.set_default_timeout(5_000)
    yield context
    context.close()


def article_at(sites: Sites, url: str) -> tuple[int, str, int] | None:
    """(id, slug, comment count) of the page's discussion, or None."""

    def find():
        found = external_articles.find_by_url(url)
        return None if found is None else (found.id, found.slug, found.comment_count)

    return sites.forum.run(find)


def discussion_frame(page):
    return page.frame_locator("#forum-discussion iframe")


def test_reading_without_any_cookie_and_the_frame_fits_its_content(context, sites):
    url = sites.publisher.add_article(f"/{unique('read-')}/", "Reading from afar")
    found = None

    def seed():
        nonlocal found
        writer = make_user(unique("alice"))
        article = external_articles.create_external(url, "Reading from afar", writer)
        db.session.commit()
        for n in range(12):
            threads.post_comment(writer, article, f"Comment number {n} with some words.")
        found = article.slug

    sites.forum.run(seed)
    page = context.new_page()
    page.goto(url)
    frame = discussion_frame(page)
    expect(frame.locator("#discussion")).to_contain_text("Comment number 11")
    expect(frame.locator("[data-embed-login-button]")).to_be_visible()
    # The frame posted its height: the iframe is as tall as its page, not the 240 it began.
    iframe = page.locator("#forum-discussion iframe")
    page.wait_for_function(
        "() => Number(document.querySelector('#forum-discussion iframe').height) > 600"
    )
    inner = frame.locator("html").evaluate("html => html.scrollHeight")
    height = int(iframe.get_attribute("height"))
    assert abs(height - inner) <= 2
    assert context.cookies() == []
    assert found is not None


def test_a_new_page_of_the_publisher_gets_its_discussion(context, sites):
    url = sites.publisher.add_article(
        f"/{unique('new-')}/", "A brand new post", 'data-theme="dark"'
    )
    assert article_at(sites, url) is None
    page = context.new_page()
    page.goto(url)
    frame = discussion_frame(page)
    expect(frame.locator("#discussion")).to_contain_text("No comments yet")
    expect(frame.locator("html")).to_have_attribute("data-theme", "dark")
    assert article_at(sites, url) is not None


def test_signing_in_through_the_login_window_then_posting(context, sites):
    username = unique("poster")
    sites.forum.run(make_user, username)
    url = sites.publisher.add_article(f"/{unique('post-')}/", "Somewhere to comment")
    page = context.new_page()
    requests = []
    page.on(
        "request",
        lambda r: (
            requests.append((r.url, r.all_headers())) if "/embed/discussion" in r.url else None
        ),
    )
    page.goto(url)
    frame = discussion_frame(page)
    with page.expect_popup() as opened:
        frame.locator("[data-embed-login-button]").click()
    login = opened.value
    login.wait_for_load_state()
    assert login.url.startswith(sites.forum.url + "/login")
    login.get_by_label("Username").fill(username)
    login.get_by_label("Password").fill(PASSWORD)
    login.get_by_role("button", name="Log in").click()
    # /embed/done tells the frame and closes itself; the frame reloads signed in.
    login.wait_for_event("close")
    # Chromium keeps a cross-site frame's cookies apart: the frame asks for storage access,
    # which the reader grants with a click (the browser's prompt, answered yes here).
    access = frame.locator("[data-storage-access-button]")
    expect(access).to_be_visible()
    context.grant_permissions(["storage-access"])
    access.click()
    form = frame.locator("form.comment-form")
    expect(form).to_be_visible()
    form.locator("textarea").fill("Posted from inside the publisher's page.")
    form.get_by_role("button", name="Post comment").click()
    expect(frame.locator("ol.threads")).to_contain_text("Posted from inside the publisher")
    # The first load had no cookie; the reload after the grant had it.
    assert "cookie" not in requests[0][1]
    assert "session=" in requests[-1][1].get("cookie", "")
    _, _, comments = article_at(sites, url)
    assert comments == 1

    # The count script on the publisher's list, one request for every link.
    other = sites.publisher.origin + "/never-discussed/"
    sites.publisher.add_list("/index.html", [url, other, url])
    asked = []
    listing = context.new_page()
    listing.on("request", lambda r: asked.append(r.url) if "/embed/counts" in r.url else None)
    listing.goto(sites.publisher.origin + "/index.html")
    links = listing.locator("a[data-forum-count]")
    expect(links.nth(0)).to_have_text("1 comment")
    expect(links.nth(1)).to_have_text("0 comments")
    expect(links.nth(2)).to_have_text("1 comment")
    assert len(asked) == 1

    # A German publisher's list: the words come in the page's language.
    sites.publisher.add_list("/de/index.html", [url, other], lang="de")
    german = context.new_page()
    german.goto(sites.publisher.origin + "/de/index.html")
    expect(german.locator("a[data-forum-count]").nth(0)).to_have_text("1 Kommentar")
    expect(german.locator("a[data-forum-count]").nth(1)).to_have_text("0 Kommentare")


def test_a_site_not_in_the_list_is_refused(context, sites):
    # An unknown page of a stranger's site: 403, nothing created.
    url = sites.stranger.add_article(f"/{unique('stranger-')}/", "Not the publisher's")
    page = context.new_page()
    responses = []
    page.on(
        "response",
        lambda r: responses.append(r.status) if "/embed/discussion" in r.url else None,
    )
    page.goto(url)
    page.wait_for_function("() => document.querySelector('#forum-discussion iframe')")
    page.wait_for_timeout(500)
    assert responses == [403]
    assert article_at(sites, url) is None

    # An existing discussion can't be framed by the stranger's page (frame-ancestors).
    known = sites.publisher.add_article(f"/{unique('known-')}/", "Known")
    page.goto(known)
    expect(discussion_frame(page).locator("#discussion")).to_be_visible()
    slug = article_at(sites, known)[1]
    sites.stranger.pages["/framing.html"] = (
        "<!doctype html><title>Framing</title>"
        f'<iframe id="f" src="{sites.forum.url}/embed/articles/{slug}"></iframe>'
    )
    framing = context.new_page()
    blocked = []
    framing.on("console", lambda m: blocked.append(m.text) if "frame-ancestors" in m.text else None)
    framing.goto(sites.stranger.origin + "/framing.html")
    framing.wait_for_timeout(800)
    inner = framing.frame_locator("#f").locator("#discussion")
    assert inner.count() == 0
    assert blocked, "Chromium should report the refused framing"


def test_the_frame_follows_the_readers_dark_preference(browser, sites):
    url = sites.publisher.add_article(f"/{unique('dark-')}/", "Read at night")
    context = browser.new_context(color_scheme="dark")
    context.set_default_timeout(5_000)
    try:
        page = context.new_page()
        page.goto(url)
        frame = discussion_frame(page)
        expect(frame.locator("html")).to_have_attribute("data-theme", "dark")
        # The dark palette's text colour (site.css: --fg's dark half).
        text = frame.locator("body").evaluate("body => getComputedStyle(body).color")
        assert text == "rgb(233, 233, 236)"
    finally:
        context.close()
