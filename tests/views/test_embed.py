"""The discussion embedded in the publisher's pages: the scripts, the iframe page and its
headers, starting discussions only for the publisher's origins, posting without JavaScript
from inside the iframe, counts, themes and the login window's landing page."""

import re
from urllib.parse import urlencode

import pytest
from sqlalchemy import func, select

from forum import create_app
from forum.extensions import db
from forum.models import Article, CommentStatus, Role
from forum.services import external_articles, moderation, threads
from tests.conftest import PASSWORD, base_config, client_as, make_user, snapshot

PUBLISHER = "http://localhost:8001"
BLOG = "https://blog.example.com"
PAGE = f"{PUBLISHER}/2014/test/"


@pytest.fixture
def embed_app(app_factory):
    app = app_factory(EMBED_ORIGINS=f"{PUBLISHER}, {BLOG}/")
    with app.app_context():
        yield app


@pytest.fixture
def admin(embed_app):
    return make_user("boss", role=Role.ADMIN)


@pytest.fixture
def client(embed_app):
    return client_as(embed_app)


def external(url: str = PAGE, title: str = "A page of the publisher", author=None) -> Article:
    article = external_articles.create_external(url, title, author or make_user(role=Role.AUTHOR))
    db.session.commit()
    return article


def articles_count() -> int:
    return db.session.execute(select(func.count()).select_from(Article)).scalar_one()


def embed_url(url: str = PAGE, **extra: str) -> str:
    return "/embed/discussion?" + urlencode({"url": url, **extra})


# --- the scripts and the stylesheet ---------------------------------------------------------


@pytest.mark.parametrize("path", ["/embed.js", "/embed/count.js"])
def test_the_scripts_are_javascript_and_cacheable(client, path):
    response = client.get(path)
    assert response.status_code == 200
    assert response.mimetype == "text/javascript"
    assert "public" in response.headers["Cache-Control"]
    assert "max-age=3600" in response.headers["Cache-Control"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cross-Origin-Resource-Policy"] == "cross-origin"
    assert "Set-Cookie" not in response.headers
    again = client.get(path, headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304


def test_the_theme_stylesheet_carries_the_settings(app_factory):
    app = app_factory(
        EMBED_ACCENT_COLOR="#aa3300", EMBED_FONT_FAMILY='Georgia, "Times New Roman", serif'
    )
    with app.app_context():
        response = client_as(app).get("/embed/theme.css")
    assert response.status_code == 200
    assert response.mimetype == "text/css"
    css = response.get_data(as_text=True)
    assert "--accent: light-dark(#aa3300, " in css  # readable on light as it is
    assert ':root { --font-body: Georgia, "Times New Roman", serif; }' in css
    assert "public" in response.headers["Cache-Control"]


def test_the_theme_stylesheet_without_settings_keeps_the_sites_look(client):
    css = client.get("/embed/theme.css").get_data(as_text=True)
    assert "--accent" not in css  # site.css's own colours and font
    assert "--font-body" not in css


@pytest.mark.parametrize(
    ("setting", "value"),
    [
        ("EMBED_ACCENT_COLOR", "red; } body { display: none"),
        ("EMBED_ACCENT_COLOR", "url(https://evil.example/x)"),
        ("EMBED_FONT_FAMILY", "serif; } * { color: red"),
        ("EMBED_FONT_FAMILY", "x\\y"),
        ("EMBED_ORIGINS", "https://www.example.com/a/path"),
        ("EMBED_ORIGINS", "www.example.com"),
    ],
)
def test_settings_that_could_break_out_stop_the_app(tmp_path, setting, value):
    with pytest.raises(ValueError, match=f"FORUM_{setting}"):
        create_app({**base_config(tmp_path), setting: value})


# --- the iframe page ------------------------------------------------------------------------


def test_an_allowed_origins_new_page_gets_a_discussion(client, admin):
    response = client.get(embed_url(title="Hello there", theme="dark", origin=PUBLISHER))
    assert response.status_code == 200
    article = external_articles.find_by_url(PAGE)
    assert article is not None
    assert article.title == "Hello there"
    assert article.author == admin  # nobody named: the first admin
    html = response.get_data(as_text=True)
    assert 'data-theme="dark"' in html
    assert f'data-parent-origin="{PUBLISHER}"' in html
    assert 'id="discussion"' in html
    assert "site-header" not in html  # the embed layout, not the site's


def test_embed_pages_may_be_framed_by_exactly_the_listed_origins(client, admin):
    response = client.get(embed_url())
    policy = response.headers["Content-Security-Policy"]
    assert policy.endswith(f"frame-ancestors {PUBLISHER} {BLOG}")
    assert "X-Frame-Options" not in response.headers
    # Every other page keeps refusing to be framed.
    article = external_articles.find_by_url(PAGE)
    for path in ["/", f"/articles/{article.slug}", "/embed/counts", "/login"]:
        other = client.get(path)
        assert other.headers["Content-Security-Policy"].endswith("frame-ancestors 'none'"), path
        assert other.headers["X-Frame-Options"] == "DENY", path


def test_without_embed_origins_nothing_is_framed(app_factory):
    app = app_factory()
    with app.app_context():
        article = external()
        response = client_as(app).get(f"/embed/articles/{article.slug}")
    assert response.status_code == 200
    assert response.headers["Content-Security-Policy"].endswith("frame-ancestors 'none'")
    assert response.headers["X-Frame-Options"] == "DENY"


@pytest.mark.parametrize(
    "url",
    [
        "https://evil.example/2014/test/",
        "http://localhost:8002/2014/test/",  # another port is another origin
        "https://localhost:8001/2014/test/",  # and another scheme
        "javascript:alert(1)",
        "",
    ],
)
def test_other_unknown_pages_are_refused_and_nothing_is_created(client, admin, url):
    before = snapshot()
    response = client.get(embed_url(url, origin=PUBLISHER))
    assert response.status_code in (400, 403)
    assert snapshot() == before


def test_an_existing_discussion_is_served_whoever_asks(client):
    article = external("https://elsewhere.example/page")
    response = client.get(embed_url("https://ELSEWHERE.example/page?utm_source=x#top"))
    assert response.status_code == 200
    assert f'data-article="{article.slug}"' in response.get_data(as_text=True)
    # A page that moved is found by its old address too.
    external_articles.remap("https://elsewhere.example/page", "https://elsewhere.example/new")
    assert client.get(embed_url("https://elsewhere.example/page")).status_code == 200


def test_the_named_author_owns_the_new_discussion_when_they_may(client, admin):
    writer = make_user("writer", role=Role.AUTHOR)
    make_user("rita")
    client.get(embed_url(f"{PUBLISHER}/a", author="Writer"))
    assert external_articles.find_by_url(f"{PUBLISHER}/a").author == writer
    client.get(embed_url(f"{PUBLISHER}/b", author="rita"))  # a reader: not an author
    assert external_articles.find_by_url(f"{PUBLISHER}/b").author == admin


def test_the_configured_author_owns_discussions_nobody_claims(app_factory):
    app = app_factory(EMBED_ORIGINS=PUBLISHER, EMBED_AUTHOR="desk")
    with app.app_context():
        make_user("boss", role=Role.ADMIN)
        desk = make_user("desk", role=Role.AUTHOR)
        assert client_as(app).get(embed_url()).status_code == 200
        assert external_articles.find_by_url(PAGE).author == desk


def test_no_account_to_own_a_discussion_is_a_refusal_not_an_error(client):
    response = client.get(embed_url())
    assert response.status_code == 403
    assert articles_count() == 0


def test_starting_discussions_is_rate_limited_but_reading_is_not(app_factory):
    app = app_factory(
        EMBED_ORIGINS=PUBLISHER, RATELIMIT_ENABLED=True, RATELIMIT_EMBED_CREATE="2 per hour"
    )
    with app.app_context():
        make_user("boss", role=Role.ADMIN)
        client = client_as(app)
        assert client.get(embed_url(f"{PUBLISHER}/1")).status_code == 200
        assert client.get(embed_url(f"{PUBLISHER}/2")).status_code == 200
        before = articles_count()
        assert client.get(embed_url(f"{PUBLISHER}/3")).status_code == 429
        assert articles_count() == before
        for _ in range(3):
            assert client.get(embed_url(f"{PUBLISHER}/1")).status_code == 200


def test_the_origin_is_kept_only_when_it_is_listed(client, admin):
    html = client.get(embed_url(origin="https://evil.example", theme="purple")).get_data(True)
    assert "data-parent-origin" not in html
    assert "data-theme" not in html  # an unknown theme follows the reader's system


# --- caching --------------------------------------------------------------------------------


def test_anonymous_embed_pages_are_cached_by_their_own_bytes(client, admin):
    article = external(author=admin)
    threads.post_comment(make_user("alice"), article, "A first thought.")
    page = client.get(f"/articles/{article.slug}")
    embedded = client.get(embed_url(theme="light", origin=PUBLISHER))
    for response in (page, embedded):
        assert response.status_code == 200
        assert "Set-Cookie" not in response.headers
        assert response.headers["Cache-Control"] == "public, no-cache"
    assert page.headers["ETag"] != embedded.headers["ETag"]
    assert "site-header" in page.get_data(as_text=True)
    assert "site-header" not in embedded.get_data(as_text=True)
    # Again, from the caches: each its own bytes.
    assert client.get(f"/articles/{article.slug}").data == page.data
    again = client.get(embed_url(theme="light", origin=PUBLISHER))
    assert again.data == embedded.data
    assert again.headers["ETag"] == embedded.headers["ETag"]
    # Another theme is another page.
    dark = client.get(embed_url(theme="dark", origin=PUBLISHER))
    assert dark.headers["ETag"] != embedded.headers["ETag"]
    assert 'data-theme="dark"' in dark.get_data(as_text=True)
    # Revalidation.
    unchanged = client.get(
        embed_url(theme="light", origin=PUBLISHER),
        headers={"If-None-Match": embedded.headers["ETag"]},
    )
    assert unchanged.status_code == 304
    assert unchanged.headers["Content-Security-Policy"].endswith(f"{PUBLISHER} {BLOG}")


def test_a_new_comment_changes_the_embed_pages_etag(client, admin):
    article = external(author=admin)
    first = client.get(embed_url())
    threads.post_comment(make_user("alice"), article, "News.")
    second = client.get(embed_url(), headers={"If-None-Match": first.headers["ETag"]})
    assert second.status_code == 200
    assert "News." in second.get_data(as_text=True)


def test_logged_in_readers_get_a_private_page(embed_app, admin):
    article = external(author=admin)
    reader = client_as(embed_app, make_user("alice"))
    response = reader.get(f"/embed/articles/{article.slug}")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "private, no-cache"
    html = response.get_data(as_text=True)
    assert 'id="comment-form' in html or 'class="comment-form"' in html
    assert "data-embed-login" not in html


# --- staying inside the iframe --------------------------------------------------------------


def test_links_stay_in_the_embed_or_open_a_new_tab(client, admin):
    article = external(author=admin)
    alice = make_user("alice")
    for n in range(3):
        threads.post_comment(alice, article, f"Thread {n} with https://example.org/link")
    embed_app_config = client.application.config
    embed_app_config["THREADS_PER_PAGE"] = 1
    html = client.get(embed_url(theme="dark", origin=PUBLISHER)).get_data(as_text=True)
    links = re.findall(r"<a\b[^>]*>", html)
    article_links = [a for a in links if f"/articles/{article.slug}" in a]
    assert article_links
    for link in article_links:
        # Sort and page links lead to the embed page, keeping the theme and the origin;
        # the "open on the forum" fallback opens a new tab.
        assert f'href="/embed/articles/{article.slug}?' in link or 'target="_blank"' in link
    pager = [a for a in links if "page=2" in a]
    assert pager and all("theme=dark" in a and "origin=http" in a for a in pager)
    profile = [a for a in links if "/users/alice" in a]
    assert profile and all('target="_blank"' in a for a in profile)
    in_comments = [a for a in links if "https://example.org/link" in a]
    assert in_comments and all('target="_blank"' in a for a in in_comments)


def test_a_comment_posted_without_javascript_comes_back_into_the_iframe(embed_app, admin):
    article = external(author=admin)
    alice = client_as(embed_app, make_user("alice"))
    page = alice.get(embed_url(theme="dark", origin=PUBLISHER)).get_data(as_text=True)
    action = re.search(r'<form method="post" action="([^"]*)" class="comment-form"', page)[1]
    action = action.replace("&amp;", "&")
    assert action.startswith(f"/articles/{article.slug}/comments?embed=1")
    response = alice.post(action, data={"body": "From the iframe."})
    assert response.status_code == 302
    location = response.headers["Location"]
    assert location.startswith(f"/embed/articles/{article.slug}?")
    assert "theme=dark" in location and "origin=http" in location
    assert re.search(r"#c\d+$", location)
    landed = alice.get(location)
    assert landed.status_code == 200
    assert "From the iframe." in landed.get_data(as_text=True)
    assert "Your comment is posted." in landed.get_data(as_text=True)


def test_a_refused_comment_is_shown_again_in_the_embed_layout(embed_app, admin):
    article = external(author=admin)
    alice = client_as(embed_app, make_user("alice"))
    response = alice.post(f"/articles/{article.slug}/comments?embed=1&theme=dark", data={})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "site-header" not in html and 'data-theme="dark"' in html
    assert "frame-ancestors http://localhost:8001" in response.headers["Content-Security-Policy"]


def test_the_script_is_told_the_embed_address_of_a_new_comment(embed_app, admin):
    article = external(author=admin)
    alice = client_as(embed_app, make_user("alice"))
    response = alice.post(
        f"/articles/{article.slug}/comments?embed=1&theme=light",
        data={"body": "Posted by the script."},
        headers={"Accept": "application/json"},
    )
    assert response.status_code == 201
    assert response.json["url"].startswith(f"/embed/articles/{article.slug}?")


def test_other_forms_keep_their_redirects(embed_app, admin):
    article = external(author=admin)
    alice = client_as(embed_app, make_user("alice"))
    response = alice.post(f"/articles/{article.slug}/comments", data={"body": "On the site."})
    assert response.headers["Location"].startswith(f"/articles/{article.slug}")


# --- counts ---------------------------------------------------------------------------------


def test_counts_are_what_anonymous_readers_see(client, admin):
    article = external(author=admin)
    alice = make_user("alice")
    threads.post_comment(alice, article, "One.")
    threads.post_comment(alice, article, "Two.")
    hidden = threads.post_comment(alice, article, "Three, hidden.")
    moderation.hide_comment(make_user("mod", role=Role.MODERATOR), hidden, "spam")
    assert hidden.status is CommentStatus.HIDDEN
    given = [PAGE, f"{PAGE}?utm_source=news#x", f"{PUBLISHER}/unknown", "not a url"]
    response = client.get("/embed/counts", query_string=[("url", u) for u in given])
    assert response.status_code == 200
    assert response.json == {
        "counts": {
            PAGE: 2,
            f"{PAGE}?utm_source=news#x": 2,
            f"{PUBLISHER}/unknown": 0,
            "not a url": 0,
        },
        "labels": {
            PAGE: "2 comments",
            f"{PAGE}?utm_source=news#x": "2 comments",
            f"{PUBLISHER}/unknown": "0 comments",
            "not a url": "0 comments",
        },
        "lang": "en",
    }
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "public" in response.headers["Cache-Control"]
    assert "max-age=60" in response.headers["Cache-Control"]
    assert "Set-Cookie" not in response.headers
    again = client.get(
        "/embed/counts",
        query_string=[("url", u) for u in given],
        headers={"If-None-Match": response.headers["ETag"]},
    )
    assert again.status_code == 304


def test_counts_come_with_words_in_the_publishers_language(client, admin):
    """count.js sends the publisher page's <html lang>; without it the browser's language
    decides. The words come from the forum's catalogue, plural and number format included."""
    article = external(author=admin)
    threads.post_comment(make_user("alice"), article, "One.")
    urls = {"url": [PAGE, f"{PUBLISHER}/unknown"]}
    german = client.get("/embed/counts", query_string={**urls, "lang": "de-AT"})
    assert german.json["lang"] == "de"
    assert german.json["labels"] == {PAGE: "1 Kommentar", f"{PUBLISHER}/unknown": "0 Kommentare"}
    by_browser = client.get("/embed/counts", query_string=urls, headers={"Accept-Language": "de"})
    assert by_browser.json["labels"][PAGE] == "1 Kommentar"
    assert "Accept-Language" in by_browser.headers["Vary"]
    page_first = client.get(
        "/embed/counts", query_string={**urls, "lang": "en"}, headers={"Accept-Language": "de"}
    )
    assert page_first.json["labels"][PAGE] == "1 comment"
    unknown = client.get("/embed/counts", query_string={**urls, "lang": "xx"})
    assert unknown.json["lang"] == "en"


def test_counts_follow_a_moved_page(client, admin):
    article = external(author=admin)
    threads.post_comment(make_user("alice"), article, "One.")
    external_articles.remap(PAGE, f"{PUBLISHER}/moved/")
    response = client.get("/embed/counts", query_string={"url": [PAGE, f"{PUBLISHER}/moved/"]})
    assert response.json["counts"] == {PAGE: 1, f"{PUBLISHER}/moved/": 1}


def test_at_most_a_hundred_urls(client):
    ok = client.get("/embed/counts", query_string={"url": [f"{PUBLISHER}/{n}" for n in range(100)]})
    assert ok.status_code == 200 and len(ok.json["counts"]) == 100
    refused = client.get(
        "/embed/counts", query_string={"url": [f"{PUBLISHER}/{n}" for n in range(101)]}
    )
    assert refused.status_code == 400


# --- signing in -----------------------------------------------------------------------------


def test_anonymous_readers_get_the_login_window_and_the_fallbacks(client, admin):
    html = client.get(embed_url()).get_data(as_text=True)
    assert 'data-login-url="/login?next=/embed/done"' in html
    assert "data-storage-access-button" in html
    article = external_articles.find_by_url(PAGE)
    fallback = re.search(r'<a target="_blank" href="([^"]*)">Open the discussion', html)
    assert fallback and fallback[1] == f"/articles/{article.slug}#discussion"


def test_the_login_window_lands_on_done(embed_app):
    make_user("alice")
    client = client_as(embed_app)
    response = client.post(
        "/login?next=/embed/done", data={"username": "alice", "password": PASSWORD}
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/embed/done"
    done = client.get("/embed/done")
    assert 'data-embed-done="signed-in"' in done.get_data(as_text=True)
    assert done.headers["Cache-Control"] == "private, no-store"
    anonymous = client_as(embed_app).get("/embed/done").get_data(as_text=True)
    assert 'data-embed-done="signed-out"' in anonymous


def test_cross_site_embedding_marks_the_session_cookie_for_third_party_use(app_factory):
    app = app_factory(EMBED_CROSS_SITE=True)
    with app.app_context():
        make_user("alice")
        response = client_as(app).post("/login", data={"username": "alice", "password": PASSWORD})
    # The session's cookie; the known-device cookie is only ever sent to /login, first-party.
    (cookie,) = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("session=")]
    assert "SameSite=None" in cookie and "Secure" in cookie


def test_same_site_embedding_keeps_lax_cookies(embed_app):
    make_user("alice")
    response = client_as(embed_app).post("/login", data={"username": "alice", "password": PASSWORD})
    (cookie,) = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("session=")]
    assert "SameSite=Lax" in cookie


def test_a_granted_but_inactive_storage_access_is_activated_and_retried(client, admin):
    response = client.get(
        embed_url(), headers={"Sec-Fetch-Storage-Access": "inactive", "Origin": PUBLISHER}
    )
    assert response.status_code == 401
    assert response.headers["Activate-Storage-Access"] == f'retry; allowed-origin="{PUBLISHER}"'
    assert "Sec-Fetch-Storage-Access" in response.headers["Vary"]
    assert articles_count() == 0  # nothing done before the retry


def test_storage_access_is_not_activated_for_other_origins(client, admin):
    response = client.get(
        embed_url(),
        headers={"Sec-Fetch-Storage-Access": "inactive", "Origin": "https://evil.example"},
    )
    assert response.status_code == 200
    assert "Activate-Storage-Access" not in response.headers


def test_a_page_loaded_with_storage_access_keeps_it(embed_app, admin):
    alice = client_as(embed_app, make_user("alice"))
    response = alice.get(
        embed_url(), headers={"Sec-Fetch-Storage-Access": "active", "Sec-Fetch-Dest": "iframe"}
    )
    assert response.status_code == 200
    assert response.headers["Activate-Storage-Access"] == "load"


def test_buttons_on_comments_come_back_into_the_iframe(embed_app, admin):
    article = external(author=admin)
    comment = threads.post_comment(make_user("alice"), article, "Worth a vote.")
    rita = client_as(embed_app, make_user("rita"))
    page = rita.get(embed_url(theme="dark", origin=PUBLISHER)).get_data(as_text=True)
    vote = re.search(rf'formaction="(/comments/{comment.id}/vote[^"]*)"', page)
    assert vote, "the Helpful button"
    action = vote[1].replace("&amp;", "&")
    assert "embed=1" in action and "theme=dark" in action
    response = rita.post(action)
    assert response.status_code == 302
    assert response.headers["Location"].startswith(f"/embed/articles/{article.slug}?")
    assert response.headers["Location"].endswith(f"#c{comment.id}")


def test_anonymous_embed_pages_are_kept_per_language(client, admin):
    """The embed page speaks the reader's language: German bytes are never served from the
    cache to an English reader, nor the reverse, and neither ETag answers the other."""
    url = embed_url()
    german = client.get(url, headers={"Accept-Language": "de", "Origin": PUBLISHER})
    english = client.get(url, headers={"Accept-Language": "en", "Origin": PUBLISHER})
    again_german = client.get(url, headers={"Accept-Language": "de"})
    again_english = client.get(url, headers={"Accept-Language": "en"})
    assert german.status_code == english.status_code == 200
    assert 'lang="de"' in again_german.get_data(as_text=True)
    assert 'lang="en"' in again_english.get_data(as_text=True)
    assert german.headers["ETag"] != english.headers["ETag"]
    assert "Accept-Language" in english.headers["Vary"]
    cross = client.get(
        url, headers={"Accept-Language": "en", "If-None-Match": german.headers["ETag"]}
    )
    assert cross.status_code == 200
