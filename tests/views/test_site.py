"""The publisher's pages, error pages and the security headers on every response."""

import re
from datetime import UTC, datetime

import pytest
from flask import abort

from forum.extensions import db
from forum.models import Article, Role
from tests.conftest import client_as, make_article, make_series, make_user


def page(client, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, path
    return response.get_data(as_text=True)


def link(href: str) -> str:
    return f'href="{href}"'


@pytest.fixture
def series_of_three(app):
    """A series whose three articles were added out of order: 3, 1, 2."""
    mara = make_user("mara", role=Role.AUTHOR, display_name="Mara Quell")
    series = make_series("How Cells Talk", slug="how-cells-talk")
    third = make_article(mara, series=series, position=3, slug="third", title="Third Word")
    first = make_article(mara, series=series, position=1, slug="first", title="First Word")
    second = make_article(mara, series=series, position=2, slug="second", title="Second Word")
    second.published_at = datetime(2026, 10, 1, 12, 0, tzinfo=UTC)
    db.session.commit()
    return series, [first, second, third]


# --- pages ------------------------------------------------------------------------------


def test_home_lists_series_and_recent_articles(client, series_of_three):
    _, articles = series_of_three
    loose = make_article(title="A Loose Article", slug="loose")
    body = page(client, "/")
    assert "How Cells Talk" in body
    assert link("/series/how-cells-talk") in body
    for article in [*articles, loose]:
        assert article.title in body
        assert link(f"/articles/{article.slug}") in body


def test_home_without_content_says_so(client, app):
    assert "No articles yet" in page(client, "/")


def test_series_page_lists_its_articles_in_position_order(client, series_of_three):
    _, articles = series_of_three
    body = page(client, "/series/how-cells-talk")
    assert "How Cells Talk" in body
    where = [body.index(link(f"/articles/{a.slug}")) for a in articles]
    assert where == sorted(where)


def test_article_page_shows_the_article_and_its_place_in_the_series(client, series_of_three):
    body = page(client, "/articles/second")
    assert "<h1" in body and "Second Word</h1>" in body
    assert "Mara Quell" in body
    assert link("/users/mara") in body
    assert "1 October 2026" in body
    assert 'datetime="2026-10-01T12:00:00Z"' in body
    assert "<p>Body text.</p>" in body
    assert "Article 2 of 3" in body
    assert re.search(r'rel="prev" href="/articles/first">[^<]*<bdi dir="auto">First Word', body)
    assert re.search(r'rel="next" href="/articles/third">[^<]*<bdi dir="auto">Third Word', body)
    assert re.search(r'href="/series/how-cells-talk">View all articles</a>', body)


def test_article_page_has_a_discussion_section(client, series_of_three):
    """The discussion feature fills this section; here only its frame is checked."""
    body = page(client, "/articles/second")
    assert re.search(r'<section[^>]*\bid="discussion"', body)
    assert re.search(r"<h2[^>]*>\s*Discussion\b", body)


def test_first_article_has_no_previous_and_last_has_no_next(client, series_of_three):
    first = page(client, "/articles/first")
    assert "Article 1 of 3" in first
    assert 'rel="prev"' not in first
    assert 'rel="next" href="/articles/second"' in first

    last = page(client, "/articles/third")
    assert "Article 3 of 3" in last
    assert 'rel="next"' not in last
    assert 'rel="prev" href="/articles/second"' in last


def test_article_outside_a_series_has_no_series_navigation(client, app):
    make_article(slug="alone", title="Alone")
    body = page(client, "/articles/alone")
    assert "Alone" in body
    assert "View all articles" not in body
    assert "Article 1 of" not in body
    assert 'rel="prev"' not in body and 'rel="next"' not in body


@pytest.mark.parametrize("path", ["/articles/x", "/series/x", "/users/x"])
def test_unknown_slugs_are_404(client, app, path):
    response = client.get(path)
    assert response.status_code == 404
    assert "Error 404" in response.get_data(as_text=True)


def test_profile_shows_role_and_join_date(client, app):
    theo = make_user("theo", role=Role.MODERATOR, display_name="Theo Okafor")
    theo.created_at = datetime(2026, 3, 14, 9, 30, tzinfo=UTC)
    db.session.commit()
    body = page(client, "/users/theo")
    assert "Theo Okafor" in body
    assert "@theo" in body
    assert "Moderator" in body
    assert "Joined" in body
    assert "14 March 2026" in body
    assert "Theo Okafor" in page(client, "/users/THEO")  # usernames ignore letter case


# --- error pages ------------------------------------------------------------------------


SECRET_DETAIL = "db password is hunter2"


@pytest.fixture
def error_app(app_factory):
    """An app with routes that fail on purpose, added before its first request."""
    app = app_factory()

    def explode():
        raise RuntimeError(SECRET_DETAIL)

    app.add_url_rule("/_test/explode", "explode", explode)
    for code in (400, 403, 429):
        app.add_url_rule(f"/_test/abort/{code}", f"abort_{code}", lambda code=code: abort(code))
    return app


ERROR_REQUESTS = [
    pytest.param(400, "GET", "/_test/abort/400", {}, id="400"),
    pytest.param(403, "GET", "/_test/abort/403", {}, id="403"),
    pytest.param(404, "GET", "/no/such/page", {}, id="404"),
    pytest.param(405, "GET", "/logout", {}, id="405"),
    pytest.param(413, "POST", "/login", {"data": {"username": "x" * (65 * 1024)}}, id="413"),
    pytest.param(429, "GET", "/_test/abort/429", {}, id="429"),
    pytest.param(500, "GET", "/_test/explode", {}, id="500"),
]

LEAKS = ["Traceback", "RuntimeError", SECRET_DETAIL, "Werkzeug", "werkzeug", "Python", "Flask"]


@pytest.mark.parametrize(("code", "method", "path", "kwargs"), ERROR_REQUESTS)
def test_error_pages_render_in_the_site_layout_without_internals(
    error_app, code, method, path, kwargs
):
    response = error_app.test_client().open(path, method=method, **kwargs)
    assert response.status_code == code
    assert response.mimetype == "text/html"
    body = response.get_data(as_text=True)
    assert 'class="skip-link"' in body
    assert re.search(r'class="brand"[^>]*><span>Forum</span></a>', body)
    assert f"Error {code}" in body
    assert f"<title>{code} " in body
    for leak in LEAKS:
        assert leak not in body
    assert "Server" not in response.headers


def test_405_keeps_the_allow_header(client, app):
    response = client.get("/logout")
    assert response.status_code == 405
    assert "POST" in response.headers["Allow"]


@pytest.mark.parametrize(("code", "method", "path", "kwargs"), ERROR_REQUESTS)
def test_errors_are_json_for_clients_that_ask_for_json(error_app, code, method, path, kwargs):
    response = error_app.test_client().open(
        path, method=method, headers={"Accept": "application/json"}, **kwargs
    )
    assert response.status_code == code
    assert response.is_json
    payload = response.get_json()
    assert payload["status"] == code
    assert payload["error"]
    assert SECRET_DETAIL not in response.get_data(as_text=True)
    assert "Traceback" not in response.get_data(as_text=True)


def test_browsers_accepting_anything_get_the_html_error_page(client, app):
    response = client.get("/no/such/page", headers={"Accept": "text/html,*/*;q=0.8"})
    assert response.status_code == 404
    assert response.mimetype == "text/html"


# --- security headers -------------------------------------------------------------------


def csp_directives(response) -> dict[str, list[str]]:
    policy = response.headers["Content-Security-Policy"]
    directives = {}
    for part in policy.split(";"):
        name, *values = part.split()
        directives[name] = values
    return directives


@pytest.mark.parametrize(
    ("path", "headers"),
    [
        ("/", {}),
        ("/login", {}),
        ("/no/such/page", {}),
        ("/no/such/page", {"Accept": "application/json"}),
        ("/static/css/site.css", {}),
    ],
)
def test_security_headers_are_on_every_response(client, app, path, headers):
    response = client.get(path, headers=headers)
    csp = csp_directives(response)
    assert csp["default-src"] == ["'self'"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["object-src"] == ["'none'"]
    for values in csp.values():
        assert "'unsafe-inline'" not in values
        assert "'unsafe-eval'" not in values
        assert "*" not in values
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] in (
        "no-referrer",
        "same-origin",
        "strict-origin",
        "strict-origin-when-cross-origin",
    )
    assert response.headers["X-Frame-Options"] == "DENY"


def test_pages_load_no_inline_script_or_style(client, series_of_three):
    """A CSP without 'unsafe-inline' would block them, so none may be relied on."""
    for path in ["/", "/articles/second", "/series/how-cells-talk", "/login", "/register"]:
        body = page(client, path)
        # A JSON data block (the script's words) is data, never run: the CSP allows it.
        assert not re.search(r"<script(?![^>]*\b(?:src=|type=\"application/json\"))[^>]*>", body), (
            path
        )
        assert "<style" not in body, path
        assert not re.search(r"\sstyle=", body), path
        assert not re.search(r"\son[a-z]+=", body), path


@pytest.mark.parametrize(
    "path",
    [
        "/comments/2147483648",
        "/comments/99999999999999999999",
        "/comments/0",
        "/comments/2147483648/history",
        "/comments/2147483647",  # the largest id the database holds: none has it
    ],
)
def test_ids_the_database_cannot_hold_are_404_before_any_query(client, path):
    assert client.get(path).status_code == 404


def _draft_owner(page: str) -> str | None:
    found = re.search(r'<body(?: data-account="([0-9a-f]+)")?>', page)
    assert found, "no <body> tag"
    return found.group(1)


def test_the_page_tags_drafts_with_the_account_and_anonymous_readers_have_none(app):
    """Drafts in the browser were keyed by page only, so the next person to log in on a
    shared browser saw the last one's unsent text. The page names whose drafts it may show
    (an opaque tag, not the id), and the logout form is marked for the script to clear
    them."""
    make_article(slug="the-article")
    rita, sam = make_user("rita"), make_user("sam")
    assert _draft_owner(client_as(app).get("/articles/the-article").text) is None
    tags = []
    for user in (rita, sam, rita):
        page = client_as(app, user).get("/articles/the-article").text
        tags.append(_draft_owner(page))
        assert "data-logout" in page
    assert tags[0] and tags[1] and tags[0] != tags[1]
    assert tags[0] == tags[2]  # the same account finds its drafts again
    assert str(rita.id) != tags[0]


def test_a_suspended_reader_is_offered_no_vote_report_or_follow_button(app):
    """They would be refused (a suspension leaves reading, appealing and deleting one's own
    data), so the page doesn't offer them; others still see them."""
    from forum.services import sanctions, threads

    writer = make_user("writer", role=Role.AUTHOR)
    make_article(writer, slug="the-article")
    article = db.session.execute(db.select(Article).filter_by(slug="the-article")).scalar_one()
    threads.post_comment(writer, article, "Something to vote on.")
    mod, sam = make_user("mod", role=Role.MODERATOR), make_user("sam")
    sanctions.suspend_user(mod, sam, 7, "Cooling off.")
    for user, shown in ((make_user("rita"), True), (sam, False)):
        page = client_as(app, user).get("/articles/the-article").text
        for marker in ("/vote", 'class="action-report"', "/follow"):
            assert (marker in page) is shown, (user.username, marker)
