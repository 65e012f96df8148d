"""Pages in the reader's language: the article page (anonymous, from the cache, and logged
in), login and registration, profiles and notifications. Anonymous pages are cached, so
each language must have its own bytes and ETag, and a 304 for one never answers the other."""

import json
import re

import pytest

from forum.i18n import language_key
from forum.models import Role, TokenScope
from forum.services import api_tokens, notifications, threads
from tests.conftest import login, make_article, make_user

GERMAN = {"Accept-Language": "de-DE,de;q=0.9,en;q=0.5"}
ENGLISH = {"Accept-Language": "en-GB,en;q=0.8"}


@pytest.fixture
def article(app):
    writer = make_user("writer", role=Role.AUTHOR)
    article = make_article(writer, slug="the-article")
    alice, bob = make_user("alice"), make_user("bob")
    first = threads.post_comment(alice, article, "Alice's first thought.")
    threads.post_comment(bob, article, "Bob answers.", parent_id=first.id)
    threads.post_comment(bob, article, "Bob starts another thread.")
    return article


def test_an_anonymous_reader_gets_the_article_page_in_their_browser_language(client, article):
    german = client.get("/articles/the-article", headers=GERMAN)
    html = german.get_data(as_text=True)
    assert german.status_code == 200
    assert '<html lang="de">' in html
    assert "Diskussion (3 Kommentare)" in html
    assert "Melden Sie sich an, um mitzudiskutieren" in html
    assert "Zum Inhalt springen" in html
    assert "Älteste" in html  # the sort links, from the shared threads block
    assert "Log in to join" not in html

    english = client.get("/articles/the-article", headers=ENGLISH)
    assert "Discussion (3 comments)" in english.get_data(as_text=True)
    assert '<html lang="en">' in english.get_data(as_text=True)


def test_each_language_has_its_own_cached_bytes_and_etag(client, article):
    # Twice each, in turns: the second answers come from the cache (the middleware's copy).
    answers = {}
    for _ in range(2):
        for name, headers in (("de", GERMAN), ("en", ENGLISH)):
            response = client.get("/articles/the-article", headers=headers)
            assert response.status_code == 200
            assert response.headers["Vary"] == "Accept-Language, Cookie"
            answers.setdefault(name, []).append((response.headers["ETag"], response.data))
    for name in ("de", "en"):
        assert answers[name][0] == answers[name][1], f"{name} changed between two requests"
    (german_etag, german_body), (english_etag, english_body) = answers["de"][0], answers["en"][0]
    assert german_etag != english_etag
    assert german_etag.endswith(f'-{language_key("de")}"')
    assert english_etag.endswith(f'-{language_key("en")}"')
    assert german_body != english_body
    assert b"Diskussion (3 Kommentare)" in german_body
    assert b"Discussion (3 comments)" in english_body


def test_a_304_for_one_language_never_answers_the_other(client, article):
    german = client.get("/articles/the-article", headers=GERMAN)
    german_etag = german.headers["ETag"]
    for _ in range(2):  # first from the app, then from the middleware's cache
        same = client.get("/articles/the-article", headers={**GERMAN, "If-None-Match": german_etag})
        assert same.status_code == 304
        assert same.headers["Vary"] == "Accept-Language, Cookie"
        other = client.get(
            "/articles/the-article", headers={**ENGLISH, "If-None-Match": german_etag}
        )
        assert other.status_code == 200
        assert b"Discussion (3 comments)" in other.data
        assert other.headers["ETag"] != german_etag


def test_no_accept_language_is_english(client, article):
    response = client.get("/articles/the-article")
    assert b"Discussion (3 comments)" in response.data
    assert (
        response.headers["ETag"]
        == client.get("/articles/the-article", headers=ENGLISH).headers["ETag"]
    )


def test_a_logged_in_reader_gets_the_article_page_in_german(client, article):
    reader = make_user("greta")
    login(client, reader)
    html = client.get("/articles/the-article", headers=GERMAN).get_data(as_text=True)
    assert '<html lang="de">' in html
    assert "Kommentar schreiben" in html
    assert "Kommentar veröffentlichen" in html
    assert ">Antworten<" in html  # each card's Reply link
    assert ">Hilfreich<" in html
    assert "Diskussion folgen" in html
    assert "Abmelden" in html
    # The shared per-viewer-kind rendering is kept per language: English right after.
    english = client.get("/articles/the-article", headers=ENGLISH).get_data(as_text=True)
    assert ">Reply<" in english and ">Antworten<" not in english
    assert "Add a comment" in english


def test_login_and_register_pages_in_german(client):
    login_page = client.get("/login", headers=GERMAN).get_data(as_text=True)
    assert "<h1>Anmelden</h1>" in login_page
    assert "Neu hier?" in login_page
    register_page = client.get("/register", headers=GERMAN).get_data(as_text=True)
    assert "<h1>Konto anlegen</h1>" in register_page
    assert "Sie haben schon ein Konto?" in register_page


def test_a_profile_in_german(client, article):
    html = client.get("/users/alice", headers=GERMAN).get_data(as_text=True)
    assert "Dabei seit" in html
    assert "Leser" in html  # the role badge
    assert "Kommentare (1)" in html
    assert "Zu <a href=" in html


def test_notifications_in_german(client, article):
    reader = make_user("greta")
    mine = threads.post_comment(reader, article, "Greta's thought.")
    answer = threads.post_comment(make_user("hans"), article, "Hans answers.", parent_id=mine.id)
    notifications.fan_out(answer.id)
    login(client, reader)
    html = client.get("/notifications", headers=GERMAN).get_data(as_text=True)
    assert "<h1>Benachrichtigungen</h1>" in html
    assert "hat auf Ihren Kommentar zu „" in html
    assert "Alle als gelesen markieren" in html


JSON = {"Accept": "application/json"}


def test_a_json_refusal_and_answer_are_in_german(client, article):
    reader = make_user("greta")
    login(client, reader)
    refused = client.post(
        "/articles/the-article/comments", data={"body": "   "}, headers={**JSON, **GERMAN}
    )
    assert refused.status_code == 400
    write_something = "Schreiben Sie etwas, bevor Sie veröffentlichen."
    assert refused.get_json()["errors"]["body"] == [write_something]
    posted = client.post(
        "/articles/the-article/comments", data={"body": "Hallo."}, headers={**JSON, **GERMAN}
    )
    assert posted.status_code == 201
    assert posted.get_json()["message"] == "Ihr Kommentar ist veröffentlicht."
    too_long = client.post(
        "/comments/preview", data={"body": "x" * 10_001}, headers={**JSON, **GERMAN}
    )
    assert too_long.status_code == 400
    assert "höchstens 10.000 Zeichen" in too_long.get_json()["errors"]["body"][0]


def test_an_api_problem_detail_is_in_german(client, article):
    reader = make_user("greta")
    raw = api_tokens.create_token(reader, "script", TokenScope.WRITE, 30)[1]
    refused = client.post(
        "/api/v1/articles/the-article/comments",
        json={"body": "  "},
        headers={"Authorization": f"Bearer {raw}", **GERMAN},
    )
    assert refused.status_code == 400
    problem = refused.get_json()
    assert problem["detail"] == "Schreiben Sie etwas, bevor Sie veröffentlichen."
    english = client.post(
        "/api/v1/articles/the-article/comments",
        json={"body": "  "},
        headers={"Authorization": f"Bearer {raw}"},
    )
    assert english.get_json()["detail"] == "Write something before posting."


def test_a_flash_after_a_refused_vote_is_in_german(client, article):
    reader = make_user("greta")
    login(client, reader)
    own = threads.post_comment(reader, article, "Mine.")
    answer = client.post(f"/comments/{own.id}/vote", headers=GERMAN)
    assert answer.status_code == 403
    assert "Sie können nicht für Ihren eigenen Kommentar stimmen." in answer.get_data(as_text=True)


def script_strings_of(html: str) -> dict:
    found = re.search(
        r'<script type="application/json" id="i18n-strings">(.*?)</script>', html, re.S
    )
    assert found, "the page carries no strings for its script"
    return json.loads(found.group(1))


def test_every_page_carries_the_scripts_words_in_its_language(client, article):
    german = script_strings_of(client.get("/articles/the-article", headers=GERMAN).text)
    assert german["Posted."] == "Veröffentlicht."
    assert german["Hide %(count)s reply"] == [
        "%(count)s Antwort ausblenden",
        "%(count)s Antworten ausblenden",
    ]
    assert german["Something went wrong (error %(status)s). Your draft is kept."] == (
        "Etwas ist schiefgegangen (Fehler %(status)s). Ihr Entwurf bleibt erhalten."
    )
    english = script_strings_of(client.get("/login", headers=ENGLISH).text)
    assert english["Posted."] == "Posted."
    assert english["Hide %(count)s reply"] == ["Hide %(count)s reply", "Hide %(count)s replies"]
    assert set(english) == set(german)


def test_the_scripts_words_are_escaped_for_a_script_block(client, article):
    # tojson escapes <, > and & so no translation can end the data block early.
    html = client.get("/articles/the-article", headers=GERMAN).text
    block = re.search(r'id="i18n-strings">(.*?)</script>', html, re.S).group(1)
    assert "<" not in block and ">" not in block
