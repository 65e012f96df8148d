"""Logged-in article pages put together from a cached frame (forum/discussion/frame.py): the
same bytes as the page rendered in full, and nothing personal of one reader (name, counts,
token, draft tag, follow state) in another's page; anything unusual is rendered in full."""

import re
from typing import NamedTuple

import pytest

from forum.discussion.frame import FrameLeak, FrameViewer, Personal
from forum.extensions import db
from forum.models import Role
from forum.page_cache import LocalStore, Memo, page_cache
from forum.services import community, moderation, notifications, sanctions, threads
from tests.conftest import csrf_token_from, login, make_article, make_series, make_user

PATH = "/articles/the-article"
GERMAN = {"Accept-Language": "de-DE,de;q=0.9"}

# Values that differ between two requests of one reader whatever the page is made from.
_PER_REQUEST = [
    (re.compile(r'name="csrf_token"( type="hidden")? value="[^"]+"'), 'name="csrf_token" T'),
    (re.compile(r'id="form_started"([^>]*) value="[^"]+"'), r'id="form_started"\1 V'),
    (re.compile(r'id="idempotency_key"([^>]*) value="[^"]+"'), r'id="idempotency_key"\1 V'),
    (re.compile(r'data-rendered="[^"]+"'), "data-rendered=R"),
]


def normalized(html: str) -> str:
    for pattern, replacement in _PER_REQUEST:
        html = pattern.sub(replacement, html)
    return html


class World(NamedTuple):
    article: object
    alice: object
    bob: object
    first: object
    reply: object


@pytest.fixture
def world(app) -> World:
    writer = make_user("writer", role=Role.AUTHOR)
    article = make_article(writer, slug="the-article", title="Frames")
    alice, bob = make_user("alice"), make_user("bob")
    first = threads.post_comment(alice, article, "Alice's first thought.")
    reply = threads.post_comment(bob, article, "Bob answers.", parent_id=first.id)
    return World(article, alice, bob, first, reply)


def client_of(app, user):
    client = app.test_client()
    login(client, user)
    return client


def framed_keys(app) -> list[str]:
    with app.app_context():
        return [key for key in page_cache().memo if ":frame-" in key]


def get(client, path=PATH, **kw) -> str:
    response = client.get(path, **kw)
    assert response.status_code == 200
    return response.get_data(as_text=True)


@pytest.mark.parametrize(
    "role", [Role.READER, Role.AUTHOR, Role.MODERATOR, Role.ADMIN, "the article's author"]
)
@pytest.mark.parametrize("headers", [{}, GERMAN], ids=["english", "german"])
def test_a_framed_page_is_the_page_rendered_in_full(app, world, role, headers):
    community.vote(world.bob, world.first)
    if role == "the article's author":
        viewer = world.article.author
    elif role is Role.READER:
        viewer = world.bob
    else:
        viewer = make_user(f"someone-{role.value}", role=role)
    client = client_of(app, viewer)
    framed = get(client, headers=headers)
    assert framed_keys(app), "the page did not come from a frame"
    # An argument the page doesn't know sends it to the full rendering, which is otherwise
    # the same page.
    full = get(client, PATH + "?utm_source=mail", headers=headers)
    assert normalized(framed) == normalized(full)
    assert "\x00" not in framed


def test_the_frame_is_served_again_with_each_readers_own_values(app, world):
    assert notifications.unread_count(world.alice) > 0  # Bob's reply
    alice_page = get(client_of(app, world.alice))
    carol = make_user("carol", display_name="Carol Frame")
    carol_client = client_of(app, carol)
    carol_page = get(carol_client)
    assert len(framed_keys(app)) == 1  # one frame for both readers

    assert '<span class="count">' in alice_page
    assert '<span class="count">' not in carol_page
    nav_link = '<li><a href="/users/alice"><bdi dir="auto">alice</bdi></a></li>'
    assert nav_link in alice_page and nav_link not in carol_page
    assert "Carol Frame" in carol_page and "Carol Frame" not in alice_page
    assert csrf_token_from(alice_page) != csrf_token_from(carol_page)
    account = re.compile(r'<body data-account="([0-9a-f]+)">')
    assert account.search(alice_page)[1] != account.search(carol_page)[1]
    # Every form of Carol's page carries her token.
    tokens = set(re.findall(r'name="csrf_token"(?: type="hidden")? value="([^"]+)"', carol_page))
    assert tokens == {csrf_token_from(carol_page)}
    # Two requests never share a form's idempotency key.
    keys = re.compile(r'id="idempotency_key"[^>]* value="([^"]+)"')
    assert keys.search(carol_page)[1] != keys.search(get(carol_client))[1]


def test_following_has_its_own_frame(app, world):
    carol, dan = make_user("carol"), make_user("dan")
    community.follow(carol, world.article)
    assert "Unfollow discussion" in get(client_of(app, carol))
    dan_page = get(client_of(app, dan))
    assert "Unfollow discussion" not in dan_page
    assert "Follow discussion" in dan_page
    assert len(framed_keys(app)) == 2


def test_moderators_frames_are_never_served_to_readers(app, world):
    moderation.hide_comment(make_user("mod", role=Role.MODERATOR), world.reply, "spam")
    mod = make_user("mod2", role=Role.MODERATOR)
    mod_page = get(client_of(app, mod))
    assert "Lock discussion" in mod_page and "/edit" in mod_page
    reader_page = get(client_of(app, make_user("carol")))
    assert "Lock discussion" not in reader_page
    assert 'class="edit-article"' not in reader_page


def test_a_flash_is_rendered_in_full_and_only_for_its_reader(app, world):
    client = client_of(app, world.bob)
    get(client)  # the frame exists
    with client.session_transaction() as session:
        session["_flashes"] = [("info", "Only for Bob.")]
    assert "Only for Bob." in get(client)
    assert "Only for Bob." not in get(client)  # shown once
    assert "Only for Bob." not in get(client_of(app, make_user("carol")))


def test_a_form_with_errors_still_shows_them(app, world):
    client = client_of(app, world.bob)
    get(client)
    response = client.post(f"{PATH}/comments", data={"body": "", "parent_id": ""})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert 'id="body-error"' in html
    assert "\x00" not in html
    assert "\x00" not in get(client)


def test_the_frames_viewer_refuses_personal_questions():
    viewer = FrameViewer(Role.READER)
    assert viewer.is_authenticated and not viewer.is_suspended()
    assert not viewer.is_moderator
    for name in ("username", "name", "email", "display_name"):
        with pytest.raises(FrameLeak):
            getattr(viewer, name)
    count = Personal("unread_count")
    with pytest.raises(FrameLeak):
        bool(count)
    with pytest.raises(FrameLeak):
        str(count)


def test_a_memo_keeps_nothing_past_its_time_nor_its_count():
    memo = Memo(2, ttl=0.0)
    memo.set("a", "parsed")
    assert memo.get("a") is None
    memo = Memo(2, ttl=60.0)
    for key in ("a", "b", "c"):
        memo.set(key, key.upper())
    assert memo.get("a") is None
    assert (memo.get("b"), memo.get("c")) == ("B", "C")


def test_a_new_store_comes_with_a_new_memo(app, world):
    get(client_of(app, world.bob))
    assert framed_keys(app)
    app.extensions["forum_page_cache"].store = LocalStore(1024 * 1024)
    assert not framed_keys(app)


def test_the_articles_author_has_a_frame_of_their_own(app, world):
    author_page = get(client_of(app, world.article.author))
    assert 'class="edit-article"' in author_page
    other = get(client_of(app, make_user("other-author", role=Role.AUTHOR)))
    assert 'class="edit-article"' not in other
    assert len(framed_keys(app)) == 2


@pytest.mark.parametrize("state", ["locked", "in a series"])
@pytest.mark.parametrize("role", [Role.READER, Role.MODERATOR, "the article's author"], ids=str)
def test_the_article_and_discussion_states_frame_like_the_full_page(app, world, role, state):
    """What the page around the threads shows for an article's state (a lock and its
    reason, the series line) comes out of the frame as it does from a full rendering."""
    if state == "locked":
        sanctions.lock_article(make_user("moe", role=Role.MODERATOR), world.article, "Cooling off.")
    else:
        series = make_series(title="Cells")
        make_article(world.article.author, series=series, position=1, slug="before")
        world.article.series, world.article.position = series, 2
        db.session.commit()
    if role == "the article's author":
        viewer = world.article.author
    elif role is Role.READER:
        viewer = world.bob
    else:
        viewer = make_user(f"someone-{role.value}", role=role)
    client = client_of(app, viewer)
    framed = get(client)
    assert framed_keys(app), "the page did not come from a frame"
    full = get(client, PATH + "?utm_source=mail")
    assert normalized(framed) == normalized(full)
    assert ("Cooling off." in framed) == (state == "locked")


def test_a_frame_that_reads_something_personal_falls_back_to_the_full_page(
    app, world, monkeypatch, caplog
):
    """A template change that reads the reader's data inside the frame is a bug; readers
    still get their page (rendered in full), and the log says what happened."""
    from forum.discussion import page

    def leaking(*args):
        raise FrameLeak("the page's frame read current_user.email")

    monkeypatch.setattr(page, "_frame_html", leaking)
    html = get(client_of(app, world.bob))
    assert "Alice's first thought." in html and "\x00" not in html
    assert not framed_keys(app)
    assert "Frame refused" in caplog.text
