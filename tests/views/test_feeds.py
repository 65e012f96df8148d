"""Atom feeds of comments (one article's, one person's, the whole site's): valid Atom, the
sanitized HTML of visible comments only, newest first, and 404 for what doesn't exist."""

import xml.etree.ElementTree as ET
from datetime import datetime, timedelta

import pytest

from forum.extensions import db
from forum.models import Role, utcnow
from forum.services import moderation, premoderation, threads
from forum.services.threads import DiscussionSettings
from tests.conftest import login, make_article, make_user

ATOM = "{http://www.w3.org/2005/Atom}"
# Feed links are built from the configured base URL, never from the request's Host.
BASE = "https://forum.example/community"
FEEDS = [
    "/articles/the-article/comments.atom",
    "/users/alice/comments.atom",
    "/comments.atom",
]


# --- helpers -----------------------------------------------------------------------------


@pytest.fixture
def app(app_factory):
    """The app with a base URL unlike the test client's ``localhost``, under a path."""
    app = app_factory(BASE_URL=BASE)
    with app.app_context():
        yield app


@pytest.fixture
def people(app):
    writer = make_user("writer", role=Role.AUTHOR, display_name="Wendy Writer")
    return (
        make_article(writer, slug="the-article", title='Cells & "Signals"'),
        make_user("alice", display_name="Alice <Liddell>"),
        make_user("bob"),
        make_user("moderator", role=Role.MODERATOR),
    )


def post(author, article, body="A comment.", parent=None, *, ago=None, **kw):
    comment = threads.post_comment(
        author, article, body, parent_id=parent.id if parent else None, **kw
    )
    if ago is not None:
        comment.created_at = utcnow() - ago
        db.session.commit()
    return comment


def parse_time(value: str) -> datetime:
    """An RFC 3339 date-time, as Atom requires (with its offset)."""
    moment = datetime.fromisoformat(value)
    assert moment.tzinfo is not None, f"{value!r} has no offset"
    return moment


def one(element, tag: str) -> ET.Element:
    found = element.findall(f"{ATOM}{tag}")
    assert len(found) == 1, f"expected one <{tag}>, found {len(found)}"
    return found[0]


def fetch(client, url: str) -> ET.Element:
    """GET a feed and check it is Atom with everything RFC 4287 requires; return the root."""
    response = client.get(url)
    assert response.status_code == 200
    assert response.mimetype == "application/atom+xml"
    root = ET.fromstring(response.get_data())  # noqa: S314 (our own response, not untrusted)
    assert root.tag == f"{ATOM}feed"
    for tag in ("id", "title", "updated"):
        assert (one(root, tag).text or "").strip(), f"feed <{tag}> is empty"
    parse_time(one(root, "updated").text)
    assert root.find(f"{ATOM}link[@rel='self']").get("href").lower().endswith(url.lower())
    for entry in root.findall(f"{ATOM}entry"):
        for tag in ("id", "title", "updated", "content"):
            one(entry, tag)
        parse_time(one(entry, "updated").text)
        parse_time(one(entry, "published").text)
        assert one(entry, "link").get("href") == one(entry, "id").text
        assert one(one(entry, "author"), "name").text
        assert one(entry, "content").get("type") == "html"
    return root


def entries(root) -> list[ET.Element]:
    return root.findall(f"{ATOM}entry")


def entry_paths(root) -> list[str]:
    """The permalink path of each entry, in feed order."""
    ids = [one(e, "id").text for e in entries(root)]
    assert all(i.startswith(BASE + "/") for i in ids), ids
    return [i.removeprefix(BASE) for i in ids]


def permalinks(*comments) -> list[str]:
    return [f"/comments/{c.id}" for c in comments]


# --- the three feeds -----------------------------------------------------------------------


def test_an_articles_feed_lists_its_visible_comments_newest_first(client, people):
    article, alice, bob, _ = people
    other = make_article(article.author, slug="other")
    first = post(alice, article, "first", ago=timedelta(hours=3))
    reply = post(bob, article, "a reply", first, ago=timedelta(hours=2))
    latest = post(alice, article, "latest", ago=timedelta(hours=1))
    post(bob, other, "not this article's")

    root = fetch(client, "/articles/the-article/comments.atom")
    assert one(root, "title").text == 'Comments on “Cells & "Signals"”'
    assert one(root, "id").text == BASE + "/articles/the-article/comments.atom"
    assert root.find(f"{ATOM}link[@rel='alternate']").get("href") == (
        BASE + "/articles/the-article#discussion"
    )
    assert entry_paths(root) == permalinks(latest, reply, first)
    assert parse_time(one(root, "updated").text) == latest.created_at
    entry = entries(root)[1]
    assert one(entry, "title").text == 'bob on “Cells & "Signals"”'
    assert one(one(entry, "author"), "name").text == "bob"
    assert one(entry, "content").text == reply.body_html


def test_a_users_feed_lists_their_visible_comments_everywhere(client, people):
    article, alice, bob, _ = people
    other = make_article(article.author, slug="other", title="Other")
    here = post(alice, article, "here", ago=timedelta(hours=2))
    there = post(alice, other, "there", ago=timedelta(hours=1))
    post(bob, article, "bob's own")

    root = fetch(client, "/users/alice/comments.atom")
    assert one(root, "title").text == "Comments by Alice <Liddell>"
    assert root.find(f"{ATOM}link[@rel='alternate']").get("href") == (BASE + "/users/alice")
    assert entry_paths(root) == permalinks(there, here)
    assert one(one(entries(root)[0], "author"), "name").text == "Alice <Liddell>"
    # The name is found whatever its case; the feed's id uses its own spelling.
    root = fetch(client, "/users/ALICE/comments.atom")
    assert one(root, "id").text == BASE + "/users/alice/comments.atom"
    assert entry_paths(root) == permalinks(there, here)


def test_the_site_feed_lists_the_newest_comments_everywhere(client, people):
    article, alice, bob, mod = people
    other = make_article(article.author, slug="other")
    comments = [
        post(who, where, f"comment {i}", ago=timedelta(minutes=60 - i))
        for i, (who, where) in enumerate([(alice, article), (bob, other), (mod, article)])
    ]
    root = fetch(client, "/comments.atom")
    assert one(root, "title").text == "Newest comments"
    assert entry_paths(root) == permalinks(*reversed(comments))


def test_a_feed_holds_at_most_fifty_of_the_newest(client, people):
    article, alice, _, _ = people
    start = utcnow() - timedelta(hours=2)
    comments = []
    for i in range(52):
        comment = post(alice, article, f"number {i}")
        comment.created_at = start + timedelta(seconds=i)
        comments.append(comment)
    db.session.commit()
    for url in FEEDS:
        assert entry_paths(fetch(client, url)) == permalinks(*reversed(comments[2:]))


@pytest.mark.parametrize("url", FEEDS)
def test_an_empty_feed_is_still_valid_atom(client, people, url):
    root = fetch(client, url)
    assert entries(root) == []


# --- what never appears --------------------------------------------------------------------


@pytest.mark.parametrize("url", FEEDS)
def test_hidden_deleted_pending_and_rejected_comments_never_appear(client, people, url):
    article, alice, bob, mod = people
    shown = post(alice, article, "shown", ago=timedelta(hours=5))
    hidden = post(alice, article, "hidden", ago=timedelta(hours=4))
    moderation.hide_comment(mod, hidden, "spam")
    deleted = post(alice, article, "deleted", ago=timedelta(hours=3))
    threads.delete_comment(alice, deleted)
    newcomer = make_user("newcomer")
    premoderated = DiscussionSettings(premoderate_first=1)
    pending = post(newcomer, article, "pending", settings=premoderated)
    rejected = post(newcomer, article, "rejected", settings=premoderated)
    premoderation.reject_comment(mod, rejected, "spam")
    # A reply still standing under the deleted comment keeps it in the thread as
    # "[deleted]"; the feed still leaves the deleted comment out.
    replied = post(bob, article, "reply", shown)

    root = fetch(client, url)
    expected = {
        "/articles/the-article/comments.atom": permalinks(replied, shown),
        "/users/alice/comments.atom": permalinks(shown),
        "/comments.atom": permalinks(replied, shown),
    }[url]
    assert entry_paths(root) == expected
    contents = [one(entry, "content").text for entry in entries(root)]
    for word in ("hidden", "deleted", "pending", "rejected"):
        assert f"<p>{word}</p>" not in contents

    # Shown again, the hidden comment is back; approved, the pending one appears.
    moderation.unhide_comment(mod, hidden)
    premoderation.approve_comment(mod, pending)
    paths = entry_paths(fetch(client, url))
    assert (f"/comments/{hidden.id}" in paths) is True
    assert (f"/comments/{pending.id}" in paths) is (url != "/users/alice/comments.atom")


def test_content_is_the_sanitized_html_and_survives_xml_escaping(client, people):
    article, alice, _, _ = people
    body = (
        "Tom & Jerry <script>alert(1)</script> say **hi** to @bob\n\n"
        "[x](javascript:alert(2)) `<b>code</b>` ]]> done"
    )
    comment = post(alice, article, body)
    assert "<script" not in comment.body_html
    for url in FEEDS:
        [entry] = entries(fetch(client, url))
        content = one(entry, "content").text
        assert content == comment.body_html
        assert "<strong>hi</strong>" in content
        assert 'href="/users/bob"' in content
        assert 'href="javascript' not in content and "<script" not in content


def test_an_edit_moves_the_entrys_updated_time(client, people):
    article, alice, _, _ = people
    comment = post(alice, article, "first words")
    threads.edit_comment(alice, comment, "better words")
    [entry] = entries(fetch(client, "/articles/the-article/comments.atom"))
    assert parse_time(one(entry, "updated").text) == comment.edited_at
    assert parse_time(one(entry, "published").text) == comment.created_at
    assert "better words" in one(entry, "content").text


# --- what doesn't exist ------------------------------------------------------------------


@pytest.mark.parametrize(
    "url", ["/articles/no-such-article/comments.atom", "/users/nobody/comments.atom"]
)
def test_unknown_articles_and_users_have_no_feed(client, people, url):
    assert client.get(url).status_code == 404


def test_a_deleted_account_has_no_feed(client, people):
    _, alice, _, _ = people
    alice.deleted_at = utcnow()
    db.session.commit()
    assert client.get("/users/alice/comments.atom").status_code == 404


def test_the_discussion_links_its_feed(client, people):
    login(client, people[1])
    page = client.get("/articles/the-article").get_data(as_text=True)
    assert 'href="/articles/the-article/comments.atom"' in page


@pytest.mark.parametrize("url", FEEDS)
def test_feed_links_use_the_base_url_whatever_the_host_header(client, people, url):
    """Feed links once followed the request's Host: a forged Host put its links in the feed."""
    article, alice, _, _ = people
    post(alice, article, "Hello.")
    response = client.get(url, headers={"Host": "evil.example"})
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert "evil.example" not in text
    assert BASE + "/comments/" in text
