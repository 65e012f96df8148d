"""Inputs that broke pages for everyone on the first version, and now don't.

- XML-invalid characters (U+FFFF, U+FFFE, C0 controls, lone surrogates): one in a comment
  made every Atom feed listing it answer 500; in a display name, that user's feed.
- NUL bytes: PostgreSQL refuses them in text, so a NUL in a form field or a path was a 500.
- Ids and page numbers past the database's integer range: a 500 on PostgreSQL.

Every test here runs on SQLite and, with ``FORUM_TEST_DATABASE_URL``, on PostgreSQL."""

import pytest
from lxml import etree
from sqlalchemy import update

from forum.extensions import db
from forum.models import Article, Comment, Role, User
from forum.services import appeals, moderation, sanctions, threads
from forum.services.text import clean_display_name, clean_text, xml_safe
from tests.conftest import login, make_article, make_user

HOSTILE = "a\uffffb\ufffec\x01d\ud800e"
FEEDS = ("/articles/hostile/comments.atom", "/users/alice/comments.atom", "/comments.atom")


# --- the normaliser ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        ("plain", "plain"),
        ("tab\tand\nnewline", "tab\tand\nnewline"),
        ("windows\r\nmac\rend", "windows\nmac\nend"),
        ("nul\x00bell\x07esc\x1bdel\x7fnel\x85", "nulbellescdelnel"),
        ("\uffff\ufffe\U0001fffe\U0010ffff\ufdd0\ufdef", ""),
        ("lone \ud800 and \udfff surrogates", "lone  and  surrogates"),
        ("e\u0301", "\u00e9"),  # NFC: a composed é
        ("emoji 👩‍🔬 and עברית stay", "emoji 👩‍🔬 and עברית stay"),
        ("\ufffd replacement and \ufeff BOM stay", "\ufffd replacement and \ufeff BOM stay"),
        (None, ""),
    ],
)
def test_clean_text_drops_what_no_stored_text_keeps(raw, stored):
    assert clean_text(raw) == stored


def test_display_names_and_feed_strings_are_cleaned_too():
    assert clean_display_name(f" Al{HOSTILE}ice ") == "Alabcdeice"
    assert xml_safe("ok\uffff\x00\x0b") == "ok"
    assert xml_safe("keeps\ttab\nnewline") == "keeps\ttab\nnewline"


# --- XML-invalid characters -------------------------------------------------------------


def _assert_feeds_parse(client):
    for url in FEEDS:
        response = client.get(url)
        assert response.status_code == 200, url
        etree.fromstring(response.data)  # raises on anything XML can't hold


def test_hostile_characters_are_dropped_when_stored_and_feeds_stay_valid(app, client):
    alice = make_user("alice", display_name=f"Alice {HOSTILE}")
    article = make_article(slug="hostile")
    comment = threads.post_comment(alice, article, f"Hello {HOSTILE} world")
    db.session.refresh(comment)
    db.session.refresh(alice)
    assert comment.body_md == "Hello abcde world"
    assert alice.display_name == "Alice abcde"
    _assert_feeds_parse(client)
    assert "abcde" in client.get("/comments.atom").text


def test_rows_stored_before_the_normaliser_still_give_valid_feeds(app, client):
    alice = make_user("alice", display_name="Alice")
    article = make_article(slug="hostile")
    comment = threads.post_comment(alice, article, "Fine words")
    # Written straight to the database, as a row from before the normaliser would be.
    db.session.execute(
        update(Comment)
        .where(Comment.id == comment.id)
        .values(body_md="bad \uffff", body_html="<p>bad \uffff\ufffe\x01</p>")
    )
    db.session.execute(update(User).where(User.id == alice.id).values(display_name="A\uffff"))
    db.session.execute(update(Article).where(Article.id == article.id).values(title="T\uffff\x02"))
    db.session.commit()
    db.session.expire_all()
    _assert_feeds_parse(client)


def test_every_moderation_text_is_normalised(app):
    mod = make_user("mod", role=Role.MODERATOR)
    alice = make_user("alice")
    article = make_article(slug="hostile")
    comment = threads.post_comment(alice, article, "words")
    report = moderation.report_comment(mod, comment, "spam", f"note {HOSTILE}")
    assert report.note == "note abcde"
    moderation.hide_comment(mod, comment, "spam", f"hide {HOSTILE}")
    assert comment.hidden_note == "hide abcde"
    assert appeals.appeal(alice, comment, f"appeal {HOSTILE}").message == "appeal abcde"
    sanctions.lock_article(mod, article, f"lock {HOSTILE}")
    assert article.lock_reason == "lock abcde"
    sanctions.suspend_user(mod, alice, 3, f"suspend {HOSTILE}")
    assert alice.suspension_reason == "suspend abcde"


# --- NUL bytes --------------------------------------------------------------------------


@pytest.fixture
def scene(app):
    """A moderator, a reader with a hidden comment (so they may appeal), an article."""
    mod = make_user("mod", role=Role.MODERATOR)
    alice = make_user("alice")
    article = make_article(slug="hostile")
    comment = threads.post_comment(alice, article, "words")
    hidden = threads.post_comment(alice, article, "hidden words")
    moderation.hide_comment(mod, hidden, "spam")
    return mod, alice, article, comment, hidden


NUL_POSTS = [
    # (who, url template, form)
    ("alice", "/comments/{comment}/flag", {"category": "spam", "note": "a\x00b"}),
    ("alice", "/comments/{hidden}/appeal", {"message": "a\x00b"}),
    ("mod", "/comments/{comment}/hide", {"reason": "spam", "note": "a\x00b"}),
    ("mod", "/articles/hostile/lock", {"reason": "a\x00b"}),
    ("mod", "/users/alice/suspend", {"days": "3", "reason": "a\x00b"}),
    ("alice", "/articles/hostile/comments", {"body": "a\x00b"}),
    ("alice", "/comments/{comment}/reply", {"body": "a\x00b"}),
    ("alice", "/comments/{comment}/edit", {"body": "a\x00b"}),
    ("alice", "/comments/preview", {"body": "a\x00b"}),
    (
        None,
        "/register",
        {
            "username": "newbie",
            "password": "p" * 12,
            "confirm": "p" * 12,
            "email": "a\x00b@example.com",
        },
    ),
    (None, "/login", {"username": "al\x00ice", "password": "x"}),
    (None, "/password/forgot", {"email": "a\x00b@example.com"}),
]


@pytest.mark.parametrize(("who", "url", "form"), NUL_POSTS, ids=[p[1] for p in NUL_POSTS])
def test_a_nul_in_any_form_field_is_a_400(app, client, scene, who, url, form):
    mod, alice, _, comment, hidden = scene
    if who:
        login(client, {"mod": mod, "alice": alice}[who])
    response = client.post(url.format(comment=comment.id, hidden=hidden.id), data=form)
    assert response.status_code == 400
    assert b"NUL" in response.data


@pytest.mark.parametrize(
    "url",
    [
        "/users/a%00b",
        "/articles/a%00b",
        "/users/a%00b/comments.atom",
        "/articles/a%00b/comments.atom",
        "/series/a%00b",
        "/articles/a%00b/edit",
        "/email/confirm/a%00b",
        "/password/reset/a%00b",
    ],
)
def test_a_nul_in_a_path_is_a_404(app, client, scene, url):
    assert client.get(url).status_code == 404
    login(client, scene[0])
    assert client.get(url).status_code == 404


@pytest.mark.parametrize(
    "url",
    [
        "/moderation/log?moderator=%00",
        "/?page=1%00",
        "/articles/hostile?sort=%00",
        "/login?next=/%00evil",
    ],
)
def test_a_nul_in_a_query_is_a_400(app, client, scene, url):
    login(client, scene[0])
    assert client.get(url).status_code == 400


# --- huge ids and page numbers ----------------------------------------------------------

HUGE = ["2147483648", "9223372036854775807", "99999999999999999999", "-1", "0", "1e3"]


@pytest.mark.parametrize("number", HUGE)
@pytest.mark.parametrize(
    "url",
    [
        "/comments/{n}",
        "/comments/{n}/replies",
        "/comments/{n}/history",
        "/comments/{c}/replies?after={n}",
        "/articles/hostile?page={n}",
        "/moderation/log?page={n}",
        "/moderation?page={n}",
        "/users/alice?page={n}",
    ],
)
def test_huge_or_odd_ids_and_pages_in_the_address_are_404(app, client, scene, url, number):
    login(client, scene[0])
    response = client.get(url.format(n=number, c=scene[3].id))
    assert response.status_code == 404


@pytest.mark.parametrize("number", HUGE)
def test_huge_or_odd_ids_in_forms_never_reach_the_database(app, client, scene, number):
    mod, alice, *_ = scene
    login(client, alice)
    response = client.post(
        "/articles/hostile/comments", data={"body": "A reply.", "parent_id": number}
    )
    assert response.status_code in (400, 404)
    login(client, mod)
    response = client.post("/users/alice/suspend", data={"days": number, "reason": "why"})
    assert response.status_code == 400
    login(client, scene[2].author)  # an author may write articles
    response = client.post(
        "/articles/new",
        data={"title": "T", "body": "B", "series": number},
    )
    assert response.status_code == 400


@pytest.mark.parametrize(
    "until",
    [
        "0001-01-01T00:00:00+14:00",
        "0001-01-01T00:00:00",
        "9999-12-31T23:59:59-14:00",
        "9999-12-31T23:59:59.999999",
        "not a time",
    ],
)
def test_the_desk_mark_takes_any_time_without_a_500(app, client, scene, until):
    login(client, scene[2].author)
    assert client.post("/author/seen", data={"until": until}).status_code == 302
