"""A page of discussion costs a fixed number of SQL statements, whatever the thread's size;
the home and series pages count comments with one aggregate query.

Setup runs in its own application context and every request in a fresh one (as in
production), so nothing is served from a session the test filled: each request pays for
everything it needs."""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import lxml.html
import pytest
from sqlalchemy import event, inspect, select

from forum import background
from forum.extensions import db
from forum.models import Article, Comment, CommentStatus, Role, Series, utcnow
from forum.services import accounts, threads
from tests.conftest import login, make_article, make_series, make_user

MAX_QUERIES = 8
# Transaction control is not a query (and SQLite shows it where PostgreSQL does not).
_NOT_QUERIES = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")

# One thread's shape: comment i replies to comment SHAPE[i] (None: the top-level one).
# Ten comments, nested down to depth 5.
SHAPE = [None, 0, 1, 2, 3, 4, 0, 6, 0, 1]


@contextmanager
def counted(app) -> Iterator[list[str]]:
    """The SQL statements executed (transaction control left out) while the block runs."""
    with app.app_context():
        engine = db.engine
    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        if not statement.lstrip().upper().startswith(_NOT_QUERIES):
            statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


def depth_of(index: int, shape: list[int | None]) -> int:
    return 0 if shape[index] is None else depth_of(shape[index], shape) + 1


def add_threads(article: Article, authors: list, threads: int, shape: list[int | None]) -> None:
    """``threads`` threads of the given shape, inserted a generation at a time (one flush
    per depth), with ``root_id``, ``depth`` and ``body_html`` set as the service would."""
    start = utcnow() - timedelta(days=2)
    made: list[list[Comment | None]] = [[None] * len(shape) for _ in range(threads)]
    serial = 0
    for depth in range(max(depth_of(i, shape) for i in range(len(shape))) + 1):
        generation = []
        for t in range(threads):
            for i, parent_index in enumerate(shape):
                if depth_of(i, shape) != depth:
                    continue
                parent = made[t][parent_index] if parent_index is not None else None
                serial += 1
                comment = Comment(
                    article_id=article.id,
                    author_id=authors[(t + i) % len(authors)].id,
                    parent_id=parent.id if parent else None,
                    root_id=(parent.root_id or parent.id) if parent else None,
                    depth=depth,
                    body_md=f"Comment {t}.{i}",
                    body_html=f"<p>Comment {t}.{i}</p>\n",
                    created_at=start + timedelta(seconds=t * 60 + i),
                )
                made[t][i] = comment
                generation.append(comment)
        db.session.add_all(generation)
        db.session.flush()
    # Some of every state a reader can meet, in one thread out of ten: a withdrawn comment
    # whose replies stand (a placeholder), a hidden one with a reply, a hidden leaf, a
    # pending one.
    for t in range(0, threads, 10):
        made[t][1].status = CommentStatus.DELETED
        if len(shape) < 10:
            continue
        made[t][6].status = CommentStatus.HIDDEN
        made[t][6].hidden_reason = "spam"
        made[t][9].status = CommentStatus.HIDDEN
        made[t][9].hidden_reason = "off-topic"
        made[t][8].status = CommentStatus.PENDING
    db.session.commit()


@pytest.fixture
def site(app_factory):
    """Two articles, one with 10 comments and one with 1,000, and clients for an anonymous
    reader, a reader who wrote some of the comments, and a moderator."""
    app = app_factory()
    with app.app_context():
        reader = make_user("reader")
        moderator = make_user("moderator", role=Role.MODERATOR)
        writer = make_user("writer", role=Role.AUTHOR)
        authors = [reader, writer, moderator, make_user("other")]
        small = make_article(writer, slug="small")
        big = make_article(writer, slug="big")
        add_threads(small, authors, 1, SHAPE)
        add_threads(big, authors, 100, SHAPE)
        assert db.session.query(Comment).filter_by(article_id=small.id).count() == 10
        assert db.session.query(Comment).filter_by(article_id=big.id).count() == 1000
        clients = {"anonymous": app.test_client()}
        for name, user in (("reader", reader), ("moderator", moderator)):
            clients[name] = app.test_client()
            login(clients[name], user)
    return app, clients


def statements_for(app, client, url: str) -> list[str]:
    assert client.get(url).status_code == 200  # warm up whatever is cached per process
    with counted(app) as statements:
        response = client.get(url)
    assert response.status_code == 200
    return statements


@pytest.mark.parametrize("viewer", ["anonymous", "reader", "moderator"])
def test_article_page_costs_the_same_few_queries_for_10_or_1000_comments(site, viewer):
    app, clients = site
    client = clients[viewer]
    small = statements_for(app, client, "/articles/small")
    big = statements_for(app, client, "/articles/big")

    print(f"\n{viewer}: {len(small)} statements for 10 comments, {len(big)} for 1,000")
    assert len(small) == len(big), "\n\n".join(big)
    assert len(big) <= MAX_QUERIES, "\n\n".join(big)
    page = client.get("/articles/big").get_data(as_text=True)
    assert page.count("data-comment-id=") >= 450  # a full page of 50 whole threads


def index_counts(html: str) -> dict[str, str]:
    doc = lxml.html.fromstring(html)
    return {
        link.get("href").split("#")[0]: link.text_content()
        for link in doc.xpath('//a[contains(@href, "#discussion")]')
    }


def series_counts(html: str) -> list[str]:
    doc = lxml.html.fromstring(html)
    return [span.text_content().strip("· ") for span in doc.xpath('//ol//span[@class="meta"]')]


def test_home_and_series_pages_count_comments_in_one_aggregate_query(app_factory):
    app = app_factory()

    def add_articles(first: int, count: int) -> None:
        writer = accounts.find_user("writer")
        readers = [accounts.find_user("reader"), writer]
        series = db.session.execute(select(Series)).scalar_one()
        for n in range(first, first + count):
            article = make_article(writer, series=series, position=n, slug=f"part-{n}")
            add_threads(article, readers, n, [None, 0])  # 2n comments

    with app.app_context():
        make_user("writer", role=Role.AUTHOR)
        make_user("reader")
        make_series("The Series", slug="the-series")
        add_articles(1, 2)
    client = app.test_client()

    with counted(app) as home_before:
        assert client.get("/").status_code == 200
    with counted(app) as series_before:
        assert client.get("/series/the-series").status_code == 200

    with app.app_context():
        add_articles(3, 6)
    with counted(app) as home_after:
        home = client.get("/").get_data(as_text=True)
    with counted(app) as series_after:
        listing = client.get("/series/the-series").get_data(as_text=True)

    assert len(home_after) == len(home_before)
    assert len(series_after) == len(series_before)
    for statements in (home_after, series_after):
        touching_comments = [s for s in statements if "comments" in s]
        assert len(touching_comments) == 1, touching_comments
        assert "count(" in touching_comments[0].lower()
        assert "group by" in touching_comments[0].lower()

    # Every article in add_threads(n, [None, 0]) has 2n comments, one in ten threads
    # touched by the state mix: thread 0's reply (index 1) is withdrawn.
    expected = {f"/articles/part-{n}": f"{2 * n - 1} comments" for n in range(2, 9)}
    expected["/articles/part-1"] = "1 comment"
    assert index_counts(home) == expected
    assert series_counts(listing) == [expected[f"/articles/part-{n}"] for n in range(1, 9)]


def test_a_reply_asks_about_following_and_webhooks_in_its_read_under_the_lock(app_factory):
    """Posting is the hot write path: whether the replier already follows the discussion and
    whether any webhook is active are columns of the one read under the write lock, not a
    query each; with a webhook active, the post still queues its delivery."""
    app = app_factory()
    with app.app_context():
        writer = make_user("writer", role=Role.AUTHOR)
        reader = make_user("reader")
        article = make_article(writer, slug="talk")
        first = Comment(
            article_id=article.id, author_id=writer.id, depth=0, body_md="First.",
            body_html="<p>First.</p>\n", created_at=utcnow(),
        )  # fmt: skip
        db.session.add(first)
        db.session.commit()
        first_id, writer_id = first.id, writer.id
        client = app.test_client()
        login(client, reader)

    def reply(text: str) -> list[str]:
        with counted(app) as statements:
            response = client.post(
                "/articles/talk/comments", data={"body": text, "parent_id": str(first_id)}
            )
        assert response.status_code == 302
        return statements

    reply("Warming up: now I follow the discussion.")
    statements = reply("A second reply.")
    assert not any(s.lstrip().startswith("SELECT follows.id") for s in statements)
    assert not any("FROM webhooks" in s and "EXISTS" not in s for s in statements)

    with app.app_context():
        from forum.models import Webhook, WebhookDelivery

        db.session.add(
            Webhook(url="https://hooks.example/forum", events_text="comment.posted", secret="s",
                    active=True, created_by_id=writer_id, created_at=utcnow())
        )  # fmt: skip
        db.session.commit()
    reply("A reply a webhook hears about.")
    with app.app_context():
        deliveries = db.session.scalars(select(WebhookDelivery)).all()
        assert [d.event for d in deliveries] == ["comment.posted"]


@pytest.mark.parametrize("viewer", ["reader", "moderator"])
def test_a_readers_page_asks_follow_state_and_unread_count_in_one_statement(site, viewer):
    """Both are asked on every article page a logged-in reader opens: one round trip, not
    two (on PostgreSQL each is a trip to the server), whether the page around the threads
    comes from a cached frame or is rendered."""
    app, clients = site
    statements = statements_for(app, clients[viewer], "/articles/big")
    asking = [s for s in statements if "follows" in s or "notifications" in s]
    assert len(asking) == 1, [s[:120] for s in asking]
    assert "FROM follows" in asking[0] and "FROM notifications" in asking[0]


def test_a_post_stores_its_comment_in_one_insert_and_reads_nothing_back(app_factory):
    """Posting's write: one INSERT for the comment, one UPDATE moving the article's counts
    and version (and, for a reply, one for its thread's), and the comment the view goes on
    with is already whole: the redirect to it reads no column of it back."""
    app = app_factory(NOTIFY_IN_BACKGROUND=True)  # as served: the fan-out is after the response
    with app.app_context():
        writer = make_user("writer", role=Role.AUTHOR)
        reader = make_user("reader")
        make_article(writer, slug="talk")
        client = app.test_client()
        login(client, reader)

    def post(text: str, parent_id: int | None = None) -> list[str]:
        with counted(app) as statements:
            response = client.post(
                "/articles/talk/comments", data={"body": text, "parent_id": parent_id or ""}
            )
            background.wait(app)
        assert response.status_code == 302
        return [" ".join(s.split()) for s in statements]

    def request_part(statements: list[str]) -> list[str]:
        """The statements before the fan-out (which starts by reading the comments nobody
        has told about yet, bodies and all, then claims them)."""
        fan_out = next(
            i
            for i, s in enumerate(statements)
            if s.startswith("SELECT comments.id, comments.article_id, comments.author_id,")
            and "comments.body_md, articles.author_id" in s
        )
        return statements[:fan_out]

    post("Warming up.")
    top = request_part(post("A new thread."))
    assert [" ".join(s.split()[:3]) for s in top if not s.startswith("SELECT")] == [
        "INSERT INTO comments",
        "UPDATE articles SET",
    ]
    with app.app_context():
        thread_id = db.session.scalars(
            select(Comment.id).where(Comment.body_md == "A new thread.")
        ).one()
    post("A first reply: from now on the reader follows the discussion.", thread_id)
    reply = request_part(post("A reply.", thread_id))
    writes = [s for s in reply if not s.startswith("SELECT")]
    assert [s.split(" SET")[0] for s in writes[1:]] == ["UPDATE comments", "UPDATE articles"]
    assert writes[0].startswith("INSERT INTO comments")
    # The user, the article, the comment answered, the read under the lock and the landing
    # page: nothing selects the new comment by its id.
    assert len([s for s in reply if s.startswith("SELECT")]) == 5, "\n".join(s[:90] for s in reply)

    with app.app_context():
        stored = db.session.scalars(select(Comment).where(Comment.body_md == "A reply.")).one()
        assert (stored.parent_id, stored.root_id, stored.depth) == (thread_id, thread_id, 1)
        article = db.session.scalars(select(Article).where(Article.slug == "talk")).one()
        assert (article.comment_count, article.thread_count) == (4, 2)


def test_a_posted_comment_comes_back_whole_and_clean_in_the_session(app):
    """The comment ``post_comment`` returns was inserted without the unit of work: every
    column is loaded (reading one asks the database nothing) and nothing is left to flush."""
    with app.app_context():
        writer = make_user("writer", role=Role.AUTHOR)
        article = make_article(writer, slug="talk")
        columns = {c.key for c in inspect(Comment).column_attrs}
        first = threads.post_comment(writer, article, "First.")
        posted = [first]
        posted.append(threads.post_comment(writer, article, "Second.", parent_id=first.id))
        reply = posted[-1]
        for comment in posted:
            state = inspect(comment)
            assert state.persistent and not state.modified
            # The reply's own write expired its thread's counts in the first, rightly.
            expired = {"listed", "visible_in_thread", "top_key"} if comment is first else set()
            assert columns & (state.unloaded | state.expired_attributes) == expired
        assert reply.article is article and reply.author is writer
        with counted(app) as statements:
            assert reply.thread_root_id == first.id and reply.helpful_count == 0
            assert reply.imported_author is None and reply.author_name == writer.name
        assert statements == []
        assert not db.session.dirty and not db.session.new
        stored = db.session.execute(
            select(Comment.listed, Comment.visible_in_thread).where(Comment.id == first.id)
        ).one()
        assert tuple(stored) == (True, 2)
