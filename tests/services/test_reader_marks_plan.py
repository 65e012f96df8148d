"""A logged-in reader's page asks which of the article's comments they wrote, voted for or
reported (``community.own_and_voted_comments``). SQLite must answer from the reader's side
(the index on author and article, the reporter's index): walking the article's comments
instead cost 19 ms a page under a 100,000-comment discussion, whatever the reader did."""

import pytest
from sqlalchemy import event

from forum.extensions import db
from forum.models import Role
from forum.services import community
from tests.conftest import make_article, make_user
from tests.services.test_threads import post


def test_a_readers_marks_are_read_from_their_side_not_from_the_articles_comments(app):
    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite's query planner")
    article = make_article(make_user("writer", role=Role.AUTHOR), slug="the-article")
    alice, bob = make_user("alice"), make_user("bob")
    for n in range(3):
        post(bob, article, f"Bob's {n}.")
    mine = post(alice, article, "Alice's.")
    db.session.commit()
    statements: list[tuple[str, tuple]] = []

    def seen(_conn, _cursor, statement, parameters, *_args):
        statements.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", seen)
    try:
        rows = community.own_and_voted_comments(alice, article)
    finally:
        event.remove(db.engine, "before_cursor_execute", seen)
    assert [comment.id for comment, _voted, _reported in rows] == [mine.id]
    [(statement, parameters)] = [s for s in statements if "UNION" in s[0]]
    connection = db.session.connection()
    plan = [
        row[3] for row in connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)
    ]
    assert any("ix_comments_author_article (author_id=? AND article_id=?)" in s for s in plan)
    assert not any(step.startswith("SCAN") for step in plan), plan
