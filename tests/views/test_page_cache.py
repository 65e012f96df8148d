"""Cached discussion pages: every event that changes what someone sees makes a new version
(so no page is ever stale), anonymous pages carry no cookie and revalidate with an ETag,
and one kind of viewer is never served another's page."""

import re
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from sqlalchemy import event

from forum.extensions import db
from forum.models import Article, Comment, CommentStatus, Role
from forum.page_cache import LocalStore, PageCache, RedisStore
from forum.services import (
    avatars,
    community,
    discussion_pages,
    discussion_state,
    moderation,
    premoderation,
    profiles,
    sanctions,
    threads,
    your_data,
)
from tests.avatar_support import png_bytes
from tests.conftest import (
    PASSWORD,
    TEST_REDIS_URL,
    login,
    make_article,
    make_series,
    make_user,
)


@dataclass
class World:
    article: Article
    alice: object
    bob: object
    mod: object
    writer: object
    visible: Comment
    reply: Comment


@pytest.fixture
def world(app) -> World:
    writer = make_user("writer", role=Role.AUTHOR)
    article = make_article(writer, slug="the-article", series=make_series(), position=1)
    alice, bob = make_user("alice"), make_user("bob")
    mod = make_user("moderator", role=Role.MODERATOR)
    visible = threads.post_comment(alice, article, "Alice's first thought.")
    reply = threads.post_comment(bob, article, "Bob answers.", parent_id=visible.id)
    return World(article, alice, bob, mod, writer, visible, reply)


def version(article: Article) -> int:
    db.session.expire(article)
    return article.discussion_version


def anonymous(app):
    return app.test_client()


def as_user(app, user):
    client = app.test_client()
    login(client, user)
    return client


def revalidate(app, etag: str, path="/articles/the-article"):
    return anonymous(app).get(path, headers={"If-None-Match": etag})


def page(client, path="/articles/the-article"):
    response = client.get(path)
    assert response.status_code == 200
    return response


# --- the events ------------------------------------------------------------------------------


def _pending(w) -> Comment:
    pending = threads.post_comment(w.bob, w.article, "Waiting for review.")
    pending.status = CommentStatus.PENDING
    db.session.commit()
    return pending


def _set(obj, name, value):
    setattr(obj, name, value)
    db.session.commit()


_LIMITS = {"max_bytes": 1_000_000, "max_pixels": 1_000_000}

# Each event: (setup, action). The version is read between the two, so each action proves
# on its own that it makes a new version.
EVENTS: dict[str, tuple[Callable | None, Callable]] = {
    "post": (None, lambda w, _: threads.post_comment(w.bob, w.article, "A new comment.")),
    "reply": (
        None,
        lambda w, _: threads.post_comment(w.alice, w.article, "More.", parent_id=w.reply.id),
    ),
    "edit": (None, lambda w, _: threads.edit_comment(w.alice, w.visible, "A second thought.")),
    "delete": (None, lambda w, _: threads.delete_comment(w.bob, w.reply)),
    "hide": (None, lambda w, _: moderation.hide_comment(w.mod, w.visible, "spam")),
    "unhide": (
        lambda w: moderation.hide_comment(w.mod, w.visible, "spam"),
        lambda w, _: moderation.unhide_comment(w.mod, w.visible),
    ),
    "approve": (_pending, lambda w, pending: premoderation.approve_comment(w.mod, pending)),
    "reject": (_pending, lambda w, pending: premoderation.reject_comment(w.mod, pending, "spam")),
    "pin": (None, lambda w, _: community.pin(w.writer, w.visible)),
    "unpin": (
        lambda w: community.pin(w.writer, w.visible),
        lambda w, _: community.unpin(w.writer, w.visible),
    ),
    "vote": (None, lambda w, _: community.vote(w.bob, w.visible)),
    "unvote": (
        lambda w: community.vote(w.bob, w.visible),
        lambda w, _: community.unvote(w.bob, w.visible),
    ),
    "lock": (None, lambda w, _: sanctions.lock_article(w.mod, w.article, "Closed for now.")),
    "unlock": (
        lambda w: sanctions.lock_article(w.mod, w.article, "Closed for now."),
        lambda w, _: sanctions.unlock_article(w.mod, w.article),
    ),
    "suspend a commenter": (
        None,
        lambda w, _: sanctions.suspend_user(w.mod, w.alice, 3, "Rude."),
    ),
    "unsuspend a commenter": (
        lambda w: sanctions.suspend_user(w.mod, w.alice, 3, "Rude."),
        lambda w, _: sanctions.unsuspend_user(w.mod, w.alice),
    ),
    "role change of a commenter": (
        None,
        lambda w, _: sanctions.change_role(None, w.alice, "moderator"),
    ),
    "display name change": (None, lambda w, _: _set(w.alice, "display_name", "Alice L.")),
    "profile edit of a commenter": (
        None,
        lambda w, _: profiles.update_profile(
            w.alice, display_name="Alice Liddell", bio="Down the hole.", trusted_after=3
        ),
    ),
    "avatar upload": (None, lambda w, _: avatars.set_uploaded(w.alice, png_bytes(), **_LIMITS)),
    "avatar removal": (
        lambda w: avatars.set_uploaded(w.alice, png_bytes(), **_LIMITS),
        lambda w, _: avatars.remove_uploaded(w.alice),
    ),
    "account deletion": (
        None,
        lambda w, _: your_data.delete_account(w.alice, PASSWORD, remove_comments=False),
    ),
    "account deletion with comments": (
        None,
        lambda w, _: your_data.delete_account(w.alice, PASSWORD, remove_comments=True),
    ),
    "article edit": (None, lambda w, _: _set(w.article, "title", "A New Title")),
    "series renamed": (None, lambda w, _: _set(w.article.series, "title", "Another Name")),
    "article added to the series": (
        None,
        lambda w, _: make_article(w.writer, series=w.article.series, position=2, slug="part-2"),
    ),
}


def fresh(html: str) -> str:
    """A page without what differs from one request to the next (the reader's token, the
    server's clock), to compare a served page with a fresh render."""
    html = re.sub(r'name="csrf_token" value="[^"]*"', 'name="csrf_token" value=""', html)
    html = re.sub(r'name="form_started" type="hidden" value="[^"]*"', "", html)
    html = re.sub(r'name="idempotency_key" type="hidden" value="[^"]*"', "", html)
    return re.sub(r'data-rendered="[^"]*"', 'data-rendered=""', html)


@pytest.mark.parametrize("name", list(EVENTS))
def test_every_event_readers_can_see_makes_a_new_version_and_no_stale_page(app, world, name):
    setup, action = EVENTS[name]
    prepared = setup(world) if setup else None
    carol = make_user("carol")
    viewers = {"anonymous": anonymous(app), "reader": as_user(app, carol)}
    viewers["moderator"] = as_user(app, world.mod)
    first = {who: page(client) for who, client in viewers.items()}
    old_etag = first["anonymous"].headers["ETag"]
    assert revalidate(app, old_etag).status_code == 304  # the fast path now knows the version
    before = version(world.article)

    action(world, prepared)

    assert version(world.article) > before
    # The reader revalidating the page they hold gets the new page, never a stale 304.
    after = revalidate(app, old_etag)
    assert after.status_code == 200
    assert after.headers["ETag"] != old_etag
    served = {who: page(client) for who, client in viewers.items()}
    assert served["anonymous"].headers["ETag"] == after.headers["ETag"]
    # Nothing served from the cache differs from what a fresh render gives now.
    app.extensions["forum_page_cache"].store = LocalStore(64 * 1024 * 1024)
    for who, client in viewers.items():
        again = page(client).get_data(as_text=True)
        assert fresh(served[who].get_data(as_text=True)) == fresh(again), who


def test_what_readers_see_changes_with_the_event(app, world):
    before = page(anonymous(app)).get_data(as_text=True)
    community.vote(world.bob, world.visible)
    assert "1 found this helpful" in page(anonymous(app)).get_data(as_text=True)
    assert "1 found this helpful" not in before


def test_a_new_avatar_is_on_the_cached_anonymous_page_at_once(app, world):
    """Comment cards are cached per version: the new picture's address must be there."""
    before = page(anonymous(app)).get_data(as_text=True)
    assert "/avatars/alice.svg" in before
    digest = avatars.set_uploaded(world.alice, png_bytes(), **_LIMITS)
    after = page(anonymous(app)).get_data(as_text=True)
    assert f"/avatars/alice/{digest}.webp" in after
    assert "/avatars/alice.svg" not in after
    avatars.remove_uploaded(world.alice)
    assert "/avatars/alice.svg" in page(anonymous(app)).get_data(as_text=True)


def test_changes_no_reader_sees_keep_the_version(app, world):
    before = version(world.article)
    community.follow(make_user("carol"), world.article)
    moderation.report_comment(world.bob, world.visible, "spam", "Looks like spam.")
    world.alice.email_preference = world.alice.email_preference  # untouched
    db.session.commit()
    assert version(world.article) == before


# --- anonymous pages ------------------------------------------------------------------------


def test_anonymous_page_has_no_cookie_an_etag_and_revalidates(app, world):
    client = anonymous(app)
    response = page(client)
    assert "Set-Cookie" not in response.headers
    assert response.headers["Cache-Control"] == "public, no-cache"
    assert "Cookie" in response.headers["Vary"]
    assert 'name="csrf_token"' not in response.get_data(as_text=True)
    etag = response.headers["ETag"]

    statements = []
    engine = db.engine
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    try:
        again = client.get("/articles/the-article", headers={"If-None-Match": etag})
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    assert again.status_code == 304
    assert again.get_data() == b""
    assert again.headers["ETag"] == etag
    assert "Set-Cookie" not in again.headers
    # One query at most; SQLite's explicit BEGIN (each request opens its own transaction,
    # as the test client now makes it) is transaction control, not a query.
    queries = [statement for statement in statements if statement != "BEGIN"]
    assert len(queries) <= 1, statements


def test_each_sort_and_page_has_its_own_etag(app, world):
    client = anonymous(app)
    tags = {
        page(client, f"/articles/the-article?sort={sort}").headers["ETag"]
        for sort in ("oldest", "newest", "top")
    }
    assert len(tags) == 3


def test_a_flashed_message_is_never_cached_for_everyone(app, world):
    client = anonymous(app)
    with client.session_transaction() as session:
        session["_flashes"] = [("info", "Only for this visitor.")]
    assert "Only for this visitor." in page(client).get_data(as_text=True)
    assert "Only for this visitor." not in page(anonymous(app)).get_data(as_text=True)


# --- viewers never get each other's pages ---------------------------------------------------


def test_moderators_views_are_never_served_to_readers_nor_the_reverse(app, world):
    moderation.hide_comment(world.mod, world.visible, "spam", "private note")
    mod_page = page(as_user(app, world.mod)).get_data(as_text=True)
    assert "Alice&#39;s first thought." in mod_page or "Alice's first thought." in mod_page
    assert "private note" in mod_page

    for client in (anonymous(app), as_user(app, world.bob)):
        shown = page(client).get_data(as_text=True)
        assert "first thought" not in shown
        assert "private note" not in shown
        assert "/unhide" not in shown
    again = page(as_user(app, world.mod)).get_data(as_text=True)
    assert "private note" in again


def test_one_readers_marks_never_reach_another(app, world):
    community.vote(world.bob, world.visible)
    bob_page = page(as_user(app, world.bob)).get_data(as_text=True)
    assert f'formaction="/comments/{world.visible.id}/unvote"' in bob_page
    carol = make_user("carol")
    carol_page = page(as_user(app, carol)).get_data(as_text=True)
    assert f'formaction="/comments/{world.visible.id}/vote"' in carol_page
    assert "/unvote" not in carol_page
    # Bob's own reply has his Edit link; nobody else's page does.
    assert f"/comments/{world.reply.id}/edit" in bob_page
    assert f"/comments/{world.reply.id}/edit" not in carol_page
    assert f"/comments/{world.reply.id}/report" in carol_page
    assert f"/comments/{world.reply.id}/report" not in bob_page


def test_each_reader_gets_their_own_csrf_token_in_the_shared_page(app, world):
    moderation.hide_comment(world.mod, world.reply, "spam")
    second_mod = make_user("second", role=Role.MODERATOR)
    pages = [page(as_user(app, user)).get_data(as_text=True) for user in (world.mod, second_mod)]
    for html in pages:
        assert "forum-csrf" not in html
        assert "\x00" not in html
    tokens = [html.split('name="csrf_token" value="')[1].split('"')[0] for html in pages]
    assert tokens[0] != tokens[1]


def test_a_reader_with_a_comment_awaiting_review_sees_it(app, world):
    pending = threads.post_comment(world.bob, world.article, "Mine, waiting.")
    pending.status = CommentStatus.PENDING
    db.session.commit()
    page(as_user(app, make_user("carol")))  # warm the shared rendering
    assert "Mine, waiting." in page(as_user(app, world.bob)).get_data(as_text=True)
    assert "Mine, waiting." not in page(as_user(app, make_user("dan"))).get_data(as_text=True)


# --- the cache's storage --------------------------------------------------------------------


def test_an_unreachable_redis_means_rendering_not_errors(app_factory):
    app = app_factory(REDIS_URL="redis://127.0.0.1:1/0", RATELIMIT_STORAGE_URI="memory://")
    with app.app_context():
        make_article(make_user("writer", role=Role.AUTHOR), slug="the-article")
        cache = app.extensions["forum_page_cache"]
        assert isinstance(cache.store, RedisStore)
        for _ in range(2):
            assert page(anonymous(app)).status_code == 200
        assert page(anonymous(app)).headers["ETag"]


def test_the_local_store_keeps_within_its_size(app):
    store = LocalStore(100)
    for n in range(10):
        store.set(f"k{n}", b"x" * 30, ttl=60)
    assert store.get("k9") == b"x" * 30
    assert store.get("k0") is None
    assert store._size <= 100


@pytest.mark.redis
@pytest.mark.skipif(not TEST_REDIS_URL, reason="FORUM_TEST_REDIS_URL is not set")
def test_workers_share_rendered_pages_through_redis(app_factory):
    redis_url = TEST_REDIS_URL
    first = app_factory(REDIS_URL=redis_url)
    second = app_factory(REDIS_URL=redis_url)
    with first.app_context():
        make_article(make_user("writer", role=Role.AUTHOR), slug="the-article")
        response = page(anonymous(first))
    cache: PageCache = second.extensions["forum_page_cache"]
    with second.app_context():
        article = db.session.execute(db.select(Article)).scalar_one()
        from forum.discussion.cached import cache_key

        key = cache_key(
            article.id,
            article.discussion_version,
            "anonymous-page",
            discussion_pages.Sort.OLDEST,
            1,
        )
        assert cache.get(key) == response.get_data()


# --- the stored counts ----------------------------------------------------------------------


def test_stored_counts_match_a_recount_after_every_event(app, world):
    for name, (setup, action) in EVENTS.items():
        if "deletion" in name:
            continue
        try:
            action(world, setup(world) if setup else None)
        except Exception:  # an event may not apply twice (already pinned...): fine here
            db.session.rollback()
    db.session.expire_all()
    stored = (world.article.comment_count, world.article.thread_count)
    discussion_state.recount([world.article.id])
    db.session.commit()
    db.session.expire_all()
    assert (world.article.comment_count, world.article.thread_count) == stored


# --- the middleware in front of the app -----------------------------------------------------


def test_repeat_anonymous_requests_are_answered_before_flask_runs(app, world):
    from flask import request_started

    reached: list[str] = []

    def count(sender, **extra):
        reached.append("flask")

    request_started.connect(count, app)
    try:
        client = anonymous(app)
        first = page(client)  # rendered by the app, kept by the middleware
        assert reached == ["flask"]
        second = page(client)
        again = client.get(
            "/articles/the-article", headers={"If-None-Match": first.headers["ETag"]}
        )
        assert reached == ["flask"], "the repeat requests reached Flask"
    finally:
        request_started.disconnect(count, app)
    assert second.get_data() == first.get_data()
    assert dict(second.headers) == dict(first.headers)
    assert again.status_code == 304
    assert again.headers["ETag"] == first.headers["ETag"]
    assert again.headers["Content-Security-Policy"] == first.headers["Content-Security-Policy"]


@pytest.mark.parametrize(
    "query", ["?sort=bogus", "?page=0", "?page=99999999999", "?utm_source=x", "?sort=top&x=1"]
)
def test_unusual_queries_go_to_the_app(app, world, query):
    from flask import request_started

    reached: list[str] = []
    request_started.connect(lambda sender, **extra: reached.append("flask"), app, weak=False)
    for _ in range(2):
        anonymous(app).get(f"/articles/the-article{query}")
    assert len(reached) == 2


def test_a_session_cookie_always_goes_to_the_app(app, world):
    client = as_user(app, world.bob)
    page(anonymous(app))
    assert "Log out" in page(client).get_data(as_text=True)


def test_a_commit_from_another_process_ends_every_remembered_version(app, world):
    """On SQLite the middleware remembers versions while ``PRAGMA data_version`` stands
    still; a commit made outside this app (another worker, a CLI command) must end that."""
    import sqlite3

    from forum.discussion_versions import WatchedSqliteVersions

    versions = discussion_versions_of(app)
    if not isinstance(versions, WatchedSqliteVersions):
        pytest.skip("versions are queried on each request on this database")
    etag = page(anonymous(app)).headers["ETag"]
    assert revalidate(app, etag).status_code == 304
    assert revalidate(app, etag).status_code == 304  # answered from memory
    article_id = world.article.id
    db.session.commit()  # the test's own read transaction would hide the change from the app

    other = sqlite3.connect(db.engine.url.database, isolation_level=None)
    try:
        other.execute("PRAGMA busy_timeout = 5000")
        other.execute(
            "UPDATE articles SET discussion_version = discussion_version + 1 WHERE id = ?",
            (article_id,),
        )
    finally:
        other.close()
    after = revalidate(app, etag)
    assert after.status_code == 200
    assert after.headers["ETag"] != etag
    assert revalidate(app, after.headers["ETag"]).status_code == 304


def test_revalidations_on_sqlite_remember_the_version_and_read_no_page(app, world):
    from forum.discussion_versions import WatchedSqliteVersions

    versions = discussion_versions_of(app)
    if not isinstance(versions, WatchedSqliteVersions):
        pytest.skip("versions are queried on each request on this database")
    etag = page(anonymous(app)).headers["ETag"]
    assert revalidate(app, etag).status_code == 304
    cache = app.extensions["forum_page_cache"]
    reads: list[str] = []
    original_get = cache.get
    cache.get = lambda key: reads.append(key) or original_get(key)
    try:
        for _ in range(3):
            assert revalidate(app, etag).status_code == 304
    finally:
        cache.get = original_get
    assert reads == []
    assert versions._memo, "the version was looked up, not remembered"


def discussion_versions_of(app):
    """The middleware's version lookup (made on its first request)."""
    middleware = app.wsgi_app
    while not hasattr(middleware, "_versions"):
        middleware = middleware.wsgi_app
    page(anonymous(app))
    return middleware._versions
