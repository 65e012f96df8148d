"""``page_of_comment`` (where posting and permalinks land) agrees with the pages themselves,
for every kind of viewer, sort and page size, whichever end it counts from: the threads
after a thread with the stored thread count, or the threads before it."""

from datetime import timedelta

import pytest
from sqlalchemy import event, select

from forum.extensions import db
from forum.models import Comment, Role
from forum.services import (
    community,
    discussion_pages,
    moderation,
    populate,
    premoderation,
    threads,
)
from forum.services.discussion_pages import Sort
from forum.services.threads import DiscussionSettings
from tests.conftest import make_article, make_user
from tests.services.test_threads import post

PENDING_FIRST = DiscussionSettings(premoderate_first=3)


@pytest.fixture
def discussion(app):
    """Threads of every standing a viewer can meet: visible, voted, hidden, deleted with and
    without replies, pending, rejected and pinned; and the people who see them differently."""
    writer = make_user("writer", role=Role.AUTHOR)
    mod = make_user("mod", role=Role.MODERATOR)
    alice, bob, newcomer = make_user("alice"), make_user("bob"), make_user("newcomer")
    article = make_article(writer, slug="the-article")
    hours = iter(range(40, 0, -1))

    def thread(author, text, **kw):
        root = post(author, article, text, ago=timedelta(hours=next(hours)), **kw)
        post(bob, article, f"a reply under {text}", root)
        return root

    roots = [thread(alice, f"visible {n}") for n in range(4)]
    roots.append(thread(alice, "voted", helpful=7))
    hidden = thread(bob, "hidden")
    moderation.hide_comment(mod, hidden, "spam")
    gone_with_reply = thread(alice, "deleted, its reply stays")
    threads.delete_comment(alice, gone_with_reply)
    gone = post(alice, article, "deleted alone", ago=timedelta(hours=next(hours)))
    threads.delete_comment(alice, gone)
    waiting = post(newcomer, article, "waiting", settings=PENDING_FIRST)
    refused = post(newcomer, article, "refused", settings=PENDING_FIRST)
    premoderation.reject_comment(mod, refused, "spam")
    roots += [thread(alice, f"later {n}") for n in range(3)]
    pinned = roots[2]
    community.pin(writer, pinned)
    db.session.commit()
    people = {"anonymous": None, "alice": alice, "newcomer": newcomer, "mod": mod}
    return article, people, [*roots, hidden, gone_with_reply, gone, waiting, refused]


def pages_by_thread(article, viewer, sort, per_page) -> dict[int, int]:
    """Each thread the viewer is shown, and the page it is on, read off the pages."""
    settings = DiscussionSettings(threads_per_page=per_page)
    found, number, pages = {}, 1, 1
    while number <= pages:
        page = discussion_pages.load_page(
            article, viewer, sort=sort, page=number, settings=settings
        )
        for node in page.threads:
            found[node.comment.id] = number
        pages, number = page.pages, number + 1
    return found


@pytest.mark.parametrize("near_end", [discussion_pages.NEAR_END, 1, 0])
def test_the_page_of_every_thread_and_reply_is_the_page_that_shows_it(
    discussion, monkeypatch, near_end
):
    """``near_end`` 0 always counts the threads before; 1 counts after only for the last."""
    monkeypatch.setattr(discussion_pages, "NEAR_END", near_end)
    article, people, roots = discussion
    checked = 0
    for viewer in people.values():
        for sort in Sort:
            for per_page in (1, 2, 3, 50):
                shown = pages_by_thread(article, viewer, sort, per_page)
                for root in roots:
                    if root.id not in shown:
                        continue
                    replies = db.session.scalars(
                        select(Comment).where(Comment.root_id == root.id)
                    ).all()
                    for comment in [root, *replies]:
                        page = discussion_pages.page_of_comment(comment, viewer, sort, per_page)
                        assert page == shown[root.id], (viewer, sort, per_page, root.body_md)
                        checked += 1
    assert checked > 300
    assert len({len(pages_by_thread(article, v, Sort.OLDEST, 1)) for v in people.values()}) > 1


def sqlite_steps(work) -> int:
    """How many SQLite virtual machine instructions ``work()`` runs (in tens)."""
    raw = db.session.connection().connection.driver_connection
    steps = 0

    def count() -> int:
        nonlocal steps
        steps += 1
        return 0

    raw.set_progress_handler(count, 10)
    try:
        work()
    finally:
        raw.set_progress_handler(None, 10)
    return steps


def test_a_new_thread_in_a_long_discussion_is_found_without_counting_the_threads_before(
    app, monkeypatch
):
    """Posting lands on the last page of a long discussion by counting what comes after the
    new thread (nothing) against the stored count, not by reading every thread before it."""
    if db.engine.dialect.name != "sqlite":
        pytest.skip("counts SQLite's instructions")
    article = make_article(make_user("writer", role=Role.AUTHOR), slug="long")
    populate.populate_article(article, 1500, seed=3, shape="populate")
    alice = make_user("alice")
    db.session.commit()
    newest = post(alice, article, "the newest thread")
    db.session.commit()
    threads_before = len(pages_by_thread(article, alice, Sort.OLDEST, 50)) - 1
    assert threads_before > 500

    def where_it_lands():
        assert discussion_pages.page_of_comment(newest, alice, Sort.OLDEST, 50) == (
            threads_before // 50 + 1
        )

    from_the_end = sqlite_steps(where_it_lands)
    monkeypatch.setattr(discussion_pages, "NEAR_END", 0)  # count the threads before instead
    from_the_start = sqlite_steps(where_it_lands)
    assert from_the_end * 20 < from_the_start, (from_the_end, from_the_start)


def test_where_a_reader_lands_is_counted_off_the_thread_indexes_not_their_comments(discussion):
    """Counted on every post: through the index on the author, SQLite read every comment the
    reader ever wrote, slower with each one."""
    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite's query planner")
    _article, people, roots = discussion
    statements: list[tuple[str, tuple]] = []

    def seen(_conn, _cursor, statement, parameters, *_args):
        statements.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", seen)
    try:
        discussion_pages.page_of_comment(roots[0], people["alice"], Sort.OLDEST, 2)
    finally:
        event.remove(db.engine, "before_cursor_execute", seen)
    [(statement, parameters)] = [s for s in statements if "EXISTS" in s[0]]
    connection = db.session.connection()
    plan = [
        row[3] for row in connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)
    ]
    assert not any("ix_comments_author" in step for step in plan), plan
