"""Discussion versions in Redis (forum/published_versions.py): on PostgreSQL with Redis a
revalidation is answered without asking the database, a version reaches Redis only once its
commit is visible, never goes back, never survives its article's move to another address, and
Redis being down means the database answers."""

import uuid

import pytest
from sqlalchemy import event

from forum import published_versions
from forum.extensions import db
from forum.models import Article, Role
from forum.services import threads
from tests.conftest import CONFIGURED_DATABASE_URL, TEST_REDIS_URL, make_article, make_user

redis = pytest.importorskip("redis")

needs_redis = pytest.mark.skipif(not TEST_REDIS_URL, reason="FORUM_TEST_REDIS_URL is not set")
needs_postgres_and_redis = pytest.mark.skipif(
    not (CONFIGURED_DATABASE_URL and TEST_REDIS_URL),
    reason="needs FORUM_TEST_DATABASE_URL (PostgreSQL) and FORUM_TEST_REDIS_URL (Redis)",
)


def _slug() -> str:
    # The test database is emptied between tests and its ids start again; Redis is not, so
    # each test uses addresses of its own.
    return f"v-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def redis_app(app_factory):
    app = app_factory(REDIS_URL=TEST_REDIS_URL, RATELIMIT_STORAGE_URI="memory://")
    with app.app_context():
        yield app


def _versions(app) -> published_versions.RedisVersions:
    return app.extensions["forum_published_versions"]


def _stored(app, slug: str) -> bytes | None:
    versions = _versions(app)
    versions.lookup("no-such-address")  # names the database (the key prefix)
    return versions.client.get(versions._prefix + slug)


def _page(app, slug: str, etag: str | None = None):
    headers = {"If-None-Match": etag} if etag else {}
    return app.test_client().get(f"/articles/{slug}", headers=headers)


class _Counted:
    """Statements through the app's engine, and lookups on the middleware's own database
    connection."""

    def __init__(self, app) -> None:
        self.statements: list[str] = []
        self.database_lookups = 0
        self._versions = _versions(app)
        self._original = self._versions.database.lookup

    def _statement(self, _conn, _cursor, statement, *_rest) -> None:
        self.statements.append(statement)

    def _lookup(self, slug):
        self.database_lookups += 1
        return self._original(slug)

    def __enter__(self):
        event.listen(db.engine, "before_cursor_execute", self._statement)
        self._versions.database.lookup = self._lookup
        return self

    def __exit__(self, *exc) -> None:
        event.remove(db.engine, "before_cursor_execute", self._statement)
        self._versions.database.lookup = self._original


# --- the script: versions only move forward ------------------------------------------------


@needs_redis
def test_versions_in_redis_never_go_back_and_two_claims_block_an_address(tmp_path):
    from sqlalchemy import create_engine

    # The script alone needs no database: name the keys by hand.
    engine = create_engine(f"sqlite:///{tmp_path / 'unused.sqlite3'}")
    versions = published_versions.RedisVersions(TEST_REDIS_URL, engine)
    versions._prefix = f"forum:version:test-{uuid.uuid4().hex}:"
    key = versions._prefix + "a"

    def write(value: str, seconds: int = 60) -> bytes:
        versions.write({"a": value}, seconds)
        return versions.client.get(key)

    try:
        assert write("at:7:5") == b"at:7:5"
        assert write("at:7:4") == b"at:7:5"  # a slower commit publishing late
        assert write("wait:7:6") == b"wait:7:6"
        assert write("at:7:5") == b"wait:7:6"  # can't end the newer commit's marker
        assert write("wait:7:6") == b"wait:7:6"
        assert write("at:7:6") == b"at:7:6"  # its own commit ends it
        assert write("wait:7:6") == b"at:7:6"
        assert write("gone:7:7") == b"gone:7:7"  # renamed away at version 7
        assert write("at:7:6") == b"gone:7:7"
        assert write("at:7:8") == b"at:7:8"  # and back again later
        assert write("at:9:1") == b"gone:0:0"  # another article claims it: nobody is trusted
        assert write("at:9:2") == b"gone:0:0"
        assert write("at:7:9") == b"gone:0:0"
        assert 0 < versions.client.ttl(key) <= 60
        # A reader's refill only fills an empty key.
        versions.client.delete(key)
        assert write("at:3:2") == b"at:3:2"
        assert not versions.client.set(key, "at:3:1", nx=True, ex=60)
    finally:
        versions.client.delete(key)
        versions.close()
        engine.dispose()


# --- PostgreSQL with Redis -------------------------------------------------------------------


@needs_postgres_and_redis
def test_a_revalidation_from_redis_asks_the_database_nothing(redis_app):
    slug = _slug()
    make_article(make_user("writer", role=Role.AUTHOR), slug=slug)
    first = _page(redis_app, slug)
    assert first.status_code == 200
    etag = first.headers["ETag"]
    assert _page(redis_app, slug, etag).status_code == 304
    db.session.commit()  # end the test's own transaction before counting
    with _Counted(redis_app) as counted:
        answers = [_page(redis_app, slug, etag) for _ in range(3)]
    assert [answer.status_code for answer in answers] == [304, 304, 304]
    assert counted.statements == []
    assert counted.database_lookups == 0


@needs_postgres_and_redis
def test_an_empty_key_is_filled_from_the_database_once(redis_app):
    slug = _slug()
    article = make_article(make_user("writer", role=Role.AUTHOR), slug=slug)
    etag = _page(redis_app, slug).headers["ETag"]
    versions = _versions(redis_app)
    versions.client.delete(versions._prefix + slug)  # expired, or Redis restarted
    with _Counted(redis_app) as counted:
        assert _page(redis_app, slug, etag).status_code == 304
        assert _page(redis_app, slug, etag).status_code == 304
    assert counted.database_lookups == 1
    assert _stored(redis_app, slug) == f"at:{article.id}:{article.discussion_version}".encode()


@needs_postgres_and_redis
def test_a_version_reaches_redis_only_after_its_commit(redis_app):
    slug = _slug()
    article = make_article(make_user("writer", role=Role.AUTHOR), slug=slug)
    article_id, old = article.id, article.discussion_version
    versions = _versions(redis_app)
    assert _stored(redis_app, slug) == f"at:{article_id}:{old}".encode()
    seen: dict[str, object] = {}

    def just_before_commit(session) -> None:  # runs after the module's own hook
        if session is db.session() and not session.in_nested_transaction():
            seen["stored"] = versions.client.get(versions._prefix + slug)
            seen["lookup"] = versions.lookup(slug)

    article.title = "A new title"
    db.session.flush()
    assert _stored(redis_app, slug) == f"at:{article_id}:{old}".encode()  # flushed only
    from sqlalchemy.orm import Session

    event.listen(Session, "before_commit", just_before_commit)
    try:
        db.session.commit()
    finally:
        event.remove(Session, "before_commit", just_before_commit)
    # While committing: a marker, and readers get the version their database shows.
    assert seen["stored"] == f"wait:{article_id}:{old + 1}".encode()
    assert seen["lookup"] == (article_id, old)
    assert _stored(redis_app, slug) == f"at:{article_id}:{old + 1}".encode()
    assert versions.lookup(slug) == (article_id, old + 1)


@needs_postgres_and_redis
def test_a_rolled_back_change_publishes_nothing(redis_app):
    slug = _slug()
    article = make_article(make_user("writer", role=Role.AUTHOR), slug=slug)
    article_id, old = article.id, article.discussion_version
    article.title = "Never committed"
    db.session.flush()
    db.session.rollback()
    assert _stored(redis_app, slug) == f"at:{article_id}:{old}".encode()
    # A commit that fails after its marker: readers go to the database until it expires.
    from sqlalchemy.orm import Session

    def fail(session) -> None:
        raise RuntimeError("the commit fails after the marker")

    db.session.get(Article, article_id).title = "Fails late"
    event.listen(Session, "before_commit", fail)
    try:
        with pytest.raises(RuntimeError):
            db.session.commit()
    finally:
        event.remove(Session, "before_commit", fail)
    db.session.rollback()
    assert _stored(redis_app, slug) == f"wait:{article_id}:{old + 1}".encode()
    assert _versions(redis_app).lookup(slug) == (article_id, old)
    # The next real commit publishes past the abandoned marker.
    db.session.get(Article, article_id).title = "Committed"
    db.session.commit()
    assert _stored(redis_app, slug) == f"at:{article_id}:{old + 1}".encode()


@needs_postgres_and_redis
def test_a_post_changes_the_etag_at_once_through_redis(redis_app):
    slug = _slug()
    article = make_article(make_user("writer", role=Role.AUTHOR), slug=slug)
    etag = _page(redis_app, slug).headers["ETag"]
    assert _page(redis_app, slug, etag).status_code == 304
    threads.post_comment(make_user("alice"), article, "A new thought.")
    db.session.commit()
    after = _page(redis_app, slug, etag)
    assert after.status_code == 200
    assert after.headers["ETag"] != etag
    assert "A new thought." in after.get_data(as_text=True)
    with _Counted(redis_app) as counted:
        assert _page(redis_app, slug, after.headers["ETag"]).status_code == 304
    assert counted.database_lookups == 0


@needs_postgres_and_redis
def test_a_moved_address_never_answers_with_the_old_article(redis_app):
    old_slug, new_slug = _slug(), _slug()
    writer = make_user("writer", role=Role.AUTHOR)
    article = make_article(writer, slug=old_slug)
    etag = _page(redis_app, old_slug).headers["ETag"]
    assert _page(redis_app, old_slug, etag).status_code == 304
    article.slug = new_slug
    db.session.commit()
    assert _stored(redis_app, old_slug).startswith(b"gone:")
    assert _page(redis_app, old_slug, etag).status_code == 404
    moved = _page(redis_app, new_slug)
    assert moved.status_code == 200
    assert _page(redis_app, new_slug, moved.headers["ETag"]).status_code == 304
    # Another article takes the old address: its own page, never a 304 for the old one.
    newcomer = make_article(writer, slug=old_slug, title="Another article")
    answer = _page(redis_app, old_slug, etag)
    assert answer.status_code == 200
    assert "Another article" in answer.get_data(as_text=True)
    assert _versions(redis_app).lookup(old_slug) == (newcomer.id, newcomer.discussion_version)


@needs_postgres_and_redis
def test_redis_down_means_the_database_answers(app_factory):
    app = app_factory(REDIS_URL="redis://127.0.0.1:1/0", RATELIMIT_STORAGE_URI="memory://")
    with app.app_context():
        assert isinstance(_versions(app), published_versions.RedisVersions)
        slug = _slug()
        article = make_article(make_user("writer", role=Role.AUTHOR), slug=slug)  # publishes
        etag = _page(app, slug).headers["ETag"]
        assert _page(app, slug, etag).status_code == 304
        threads.post_comment(make_user("alice"), article, "Posted while Redis is down.")
        db.session.commit()
        after = _page(app, slug, etag)
        assert after.status_code == 200
        assert "Posted while Redis is down." in after.get_data(as_text=True)
        assert _page(app, slug, after.headers["ETag"]).status_code == 304


def test_without_redis_or_postgresql_nothing_is_kept_in_redis(app):
    assert "forum_published_versions" not in app.extensions


@needs_redis
def test_pages_read_from_redis_are_kept_in_the_process_too(app_factory):
    """Keys never go stale, so a page once read from Redis is served from the process's own
    memory after that (a large page costs a millisecond or more to read from Redis)."""
    first = app_factory(REDIS_URL=TEST_REDIS_URL, RATELIMIT_STORAGE_URI="memory://")
    second = app_factory(REDIS_URL=TEST_REDIS_URL, RATELIMIT_STORAGE_URI="memory://")
    key = first.extensions["forum_page_cache"].key("test-near", uuid.uuid4().hex)
    first.extensions["forum_page_cache"].set(key, b"a page")
    shared = second.extensions["forum_page_cache"]
    assert shared.get(key) == b"a page"  # from Redis
    shared.store.client.delete(key)
    assert shared.get(key) == b"a page"  # from this process's memory
    assert shared.store.get(key) is None


@needs_postgres_and_redis
def test_commits_at_once_leave_redis_at_the_databases_version(redis_app):
    """Commits on one article publish in any order; the script keeps the newest, so Redis
    ends where the database is (a plain SET would keep whichever write came last)."""
    from tests.race_support import race

    slug = _slug()
    article = make_article(make_user("writer", role=Role.AUTHOR), slug=slug)
    article_id = article.id
    readers = [make_user(f"reader{i}").id for i in range(4)]
    db.session.commit()

    def prepare(i: int):
        from forum.models import User

        return db.session.get(User, readers[i]), db.session.get(Article, article_id)

    def act(user, target):
        for n in range(5):
            threads.post_comment(user, target, f"Comment {n} from {user.username}.")
            db.session.commit()

    results = race(redis_app, 4, prepare, act)
    assert [r for r in results if isinstance(r, Exception)] == []
    db.session.expire_all()
    final = db.session.get(Article, article_id).discussion_version
    assert _stored(redis_app, slug) == f"at:{article_id}:{final}".encode()
    assert _versions(redis_app).lookup(slug) == (article_id, final)
