"""``flask comments populate`` and the discussion plans the benchmark shares with it."""

from sqlalchemy import func, select

from forum.extensions import db
from forum.models import Comment, User, Vote
from forum.services import accounts
from forum.services.populate import UNUSABLE_PASSWORD, plan_discussion
from tests.conftest import make_article


def populate(runner, slug: str, *args: str):
    return runner.invoke(args=["comments", "populate", slug, *args])


def stored(article_id: int) -> list[Comment]:
    db.session.expire_all()
    return list(
        db.session.execute(
            select(Comment).where(Comment.article_id == article_id).order_by(Comment.id)
        ).scalars()
    )


def test_populate_fills_the_article_with_consistent_threads(app, runner):
    article = make_article()
    result = populate(runner, article.slug, "--count", "500", "--seed", "7", "--max-depth", "4")
    assert result.exit_code == 0, result.output
    assert "Added 500 comments" in result.output
    comments = stored(article.id)
    assert len(comments) == 500
    by_id = {c.id: c for c in comments}
    top_level = [c for c in comments if c.parent_id is None]
    assert len(top_level) > 250  # "populate": most comments start a thread
    for comment in comments:
        assert comment.depth <= 4
        if comment.parent_id is None:
            assert comment.root_id is None and comment.depth == 0
            continue
        parent = by_id[comment.parent_id]
        assert comment.depth == parent.depth + 1
        assert comment.root_id == (parent.root_id or parent.id)
        assert comment.created_at > parent.created_at
        assert "<script" not in comment.body_html
    assert max(c.depth for c in comments) == 4
    # helpful_count agrees with the vote rows
    votes = dict(
        db.session.execute(select(Vote.comment_id, func.count()).group_by(Vote.comment_id)).all()
    )
    assert votes and all(by_id[cid].helpful_count == n for cid, n in votes.items())
    assert sum(c.helpful_count for c in comments) == sum(votes.values())


def test_populate_is_deterministic_for_a_seed(app, runner):
    first, second = make_article(), make_article()
    for article in (first, second):
        assert populate(runner, article.slug, "--count", "300", "--seed", "3").exit_code == 0

    def shape(article_id: int) -> list[tuple]:
        comments = stored(article_id)
        base = comments[0].id
        return [
            (
                c.id - base,
                None if c.parent_id is None else c.parent_id - base,
                c.depth,
                c.author_id,
                c.body_md,
            )
            for c in comments
        ]

    assert shape(first.id) == shape(second.id)
    assert list(plan_discussion(300, 3)) == list(plan_discussion(300, 3))
    assert list(plan_discussion(300, 3)) != list(plan_discussion(300, 4))


def test_synthetic_accounts_cannot_log_in(app, runner):
    article = make_article()
    assert populate(runner, article.slug, "--count", "100").exit_code == 0
    synthetic = db.session.execute(select(User).where(User.username == "synth-000000")).scalar()
    assert synthetic.password_hash == UNUSABLE_PASSWORD
    assert accounts.authenticate("synth-000000", UNUSABLE_PASSWORD) is None
    # a second run reuses the accounts
    assert populate(runner, article.slug, "--count", "100").exit_code == 0
    assert len(stored(article.id)) == 200


def test_populated_article_page_still_answers(app, runner, client):
    article = make_article()
    assert populate(runner, article.slug, "--count", "500", "--seed", "1").exit_code == 0
    db.session.rollback()
    response = client.get(f"/articles/{article.slug}")
    assert response.status_code == 200
    assert response.get_data(as_text=True).count("data-comment-id=") > 50


def test_populate_refuses_an_unknown_article(app, runner):
    result = populate(runner, "no-such-article", "--count", "10")
    assert result.exit_code != 0
    assert "No article" in result.output


def test_realistic_plan_is_mostly_replies_in_about_forty_threads():
    plan = list(plan_discussion(1000, seed=1, max_depth=10, shape="realistic"))
    assert [p.index for p in plan] == list(range(1000))
    depth: dict[int, int] = {}
    for planned in plan:
        if planned.parent_index is None:
            depth[planned.index] = 0
        else:
            assert planned.parent_index < planned.index
            assert planned.offset_seconds > plan[planned.parent_index].offset_seconds
            depth[planned.index] = depth[planned.parent_index] + 1
    top_level = sum(1 for d in depth.values() if d == 0)
    assert 30 <= top_level <= 50
    assert max(depth.values()) == 10
    sizes: dict[int, int] = {}
    for planned in plan:
        root = planned.index
        while plan[root].parent_index is not None:
            root = plan[root].parent_index
        sizes[root] = sizes.get(root, 0) + 1
    assert max(sizes.values()) > 10 * min(sizes.values())  # very different sizes
