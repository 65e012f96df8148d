"""Security headers on every kind of response, set in one place (forum/security.py): the CSP
allows only this site's own files (so no inline script, style or event handler can run),
the site can't be framed, MIME sniffing is off, referrers are trimmed, and HSTS is sent over
HTTPS only. The templates and the script are checked for anything the CSP would block."""

import re
from pathlib import Path

import pytest

from forum import PROJECT_ROOT
from forum.models import Role
from forum.services import threads
from tests.conftest import login, make_article, make_user

TEMPLATES = PROJECT_ROOT / "templates"
STATIC = PROJECT_ROOT / "forum" / "static"


def directives(response) -> dict[str, list[str]]:
    policy = response.headers["Content-Security-Policy"]
    found = {}
    for part in policy.split(";"):
        name, *values = part.split()
        found[name] = values
    return found


@pytest.fixture
def world(app):
    writer = make_user("writer", role=Role.AUTHOR)
    article = make_article(writer, slug="the-article")
    alice = make_user("alice")
    comment = threads.post_comment(writer, article, "The writer's comment.")
    return article, alice, comment


def responses(client, world):
    """One response of each kind: pages, redirects, JSON answers, errors, static files."""
    article, alice, comment = world
    yield "page", client.get(f"/articles/{article.slug}")
    yield "static css", client.get("/static/css/site.css")
    yield "static js", client.get("/static/js/discussion.js")
    yield "404", client.get("/nowhere")
    yield "405", client.post("/")
    login(client, alice)
    yield (
        "json preview",
        client.post(
            "/comments/preview", data={"body": "x"}, headers={"Accept": "application/json"}
        ),
    )
    yield (
        "json error",
        client.post(
            f"/articles/{article.slug}/comments",
            data={"body": ""},
            headers={"Accept": "application/json"},
        ),
    )
    yield "redirect", client.post(f"/articles/{article.slug}/comments", data={"body": "Hi."})
    yield "403", client.get(f"/comments/{comment.id}/edit")  # not alice's


def test_every_kind_of_response_carries_the_headers(client, world):
    statuses = {}
    for kind, response in responses(client, world):
        statuses[kind] = response.status_code
        csp = directives(response)
        assert csp["default-src"] == ["'self'"], kind
        assert csp["script-src"] == ["'self'"], kind
        assert csp["style-src"] == ["'self'"], kind
        assert csp["object-src"] == ["'none'"], kind
        assert csp["frame-ancestors"] == ["'none'"], kind
        assert csp["base-uri"] == ["'self'"], kind
        assert csp["form-action"] == ["'self'"], kind
        policy = response.headers["Content-Security-Policy"]
        assert "unsafe-inline" not in policy and "unsafe-eval" not in policy, kind
        assert response.headers["X-Content-Type-Options"] == "nosniff", kind
        assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin", kind
        assert response.headers["X-Frame-Options"] == "DENY", kind
        assert "Strict-Transport-Security" not in response.headers, f"{kind} over plain HTTP"
    assert statuses == {
        "page": 200,
        "static css": 200,
        "static js": 200,
        "404": 404,
        "405": 405,
        "json preview": 200,
        "json error": 400,
        "redirect": 302,
        "403": 403,
    }


def test_hsts_is_sent_over_https(client):
    response = client.get("/", base_url="https://forum.example")
    hsts = response.headers["Strict-Transport-Security"]
    assert re.fullmatch(r"max-age=(\d+); includeSubDomains", hsts)
    assert int(hsts.split("=")[1].split(";")[0]) >= 180 * 24 * 3600


def test_hsts_is_sent_behind_a_trusted_https_proxy(app_factory):
    app = app_factory(TRUSTED_PROXIES=1)
    response = app.test_client().get("/", headers={"X-Forwarded-Proto": "https"})
    assert "Strict-Transport-Security" in response.headers


def test_an_untrusted_forwarded_proto_does_not_turn_hsts_on(client):
    response = client.get("/", headers={"X-Forwarded-Proto": "https"})
    assert "Strict-Transport-Security" not in response.headers


INLINE = [
    # A JSON data block (type="application/json") is data the CSP never runs: allowed.
    (
        re.compile(r"<script(?![^>]*\b(?:src=|type=\"application/json\"))[^>]*>", re.I),
        "an inline <script>",
    ),
    (re.compile(r"<style\b", re.I), "a <style> element"),
    (re.compile(r"\sstyle\s*=", re.I), "a style attribute"),
    (re.compile(r"\son[a-z]+\s*=", re.I), "an event-handler attribute"),
    (re.compile(r"javascript:", re.I), "a javascript: URL"),
    (re.compile(r"<script[^>]*\bsrc=[\"']?(https?:)?//", re.I), "a script from another site"),
]


# Pages only: HTML emails are read in mail clients, which drop style sheets (so they carry
# inline styles) and never see the site's Content-Security-Policy.
PAGE_TEMPLATES = sorted(p for p in TEMPLATES.rglob("*.html") if "email" not in p.parts)


@pytest.mark.parametrize("template", PAGE_TEMPLATES, ids=lambda p: str(p.relative_to(TEMPLATES)))
def test_no_template_relies_on_what_the_csp_blocks(template: Path):
    text = template.read_text()
    for pattern, what in INLINE:
        assert not pattern.search(text), f"{template.name} has {what}"


def test_the_script_sets_no_inline_styles_and_evaluates_no_strings():
    for script in STATIC.rglob("*.js"):
        text = script.read_text()
        for pattern, what in [
            (r"\.style\b", "an inline style"),
            (r"setAttribute\(\s*[\"']style", "an inline style"),
            (r"\beval\(|new Function\(", "string evaluation (needs unsafe-eval)"),
            (r"setTimeout\(\s*[\"']|setInterval\(\s*[\"']", "a timer given a string"),
            (r"setAttribute\(\s*[\"']on", "an event-handler attribute"),
        ]:
            assert not re.search(pattern, text), f"{script.name} uses {what}"
