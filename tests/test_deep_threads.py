"""A reply chain thousands deep breaks no page: every walk over a thread is iterative.

On the first version one reader replying to their own newest reply about 490 times made
the article page answer 500 for everyone (``RecursionError``, two stack frames a level).
The chain here is built with plain inserts (posting 5,000 replies through the service
would take minutes) and then recounted, as a bulk import would."""

from datetime import timedelta

import pytest
from lxml import etree
from sqlalchemy import func, insert, select, text

from forum.extensions import db
from forum.models import Comment, CommentStatus, Notification, Role, utcnow
from forum.services import discussion_pages, discussion_state, threads
from tests.conftest import login, make_article, make_user

DEPTH = 5_000


def _chain(article, author, depth: int) -> list[int]:
    """Ids of a chain of ``depth + 1`` comments, each replying to the one before, written
    in one multi-row insert with ids chosen here (then PostgreSQL's sequence is moved on)."""
    start = utcnow() - timedelta(hours=2)
    first = (db.session.execute(select(func.max(Comment.id))).scalar_one() or 0) + 1
    ids = list(range(first, first + depth + 1))
    rows = [
        {
            "id": comment_id,
            "article_id": article.id,
            "author_id": author.id,
            "parent_id": comment_id - 1 if level else None,
            "root_id": first if level else None,
            "depth": level,
            "body_md": f"reply {level}",
            "body_html": f"<p>reply {level}</p>",
            "status": CommentStatus.VISIBLE,
            "created_at": start + timedelta(milliseconds=level),
        }
        for level, comment_id in enumerate(ids)
    ]
    db.session.execute(insert(Comment), rows)
    if db.engine.dialect.name == "postgresql":
        db.session.execute(
            text("SELECT setval(pg_get_serial_sequence('comments', 'id'), :last)"),
            {"last": ids[-1]},
        )
    db.session.commit()
    discussion_state.recount([article.id])
    db.session.commit()
    return ids


@pytest.fixture
def deep(app):
    author = make_user("chainer")
    article = make_article(slug="deep")
    ids = _chain(article, author, DEPTH)
    return article, author, ids


def _viewers():
    return {
        "anonymous": None,
        "reader": make_user("reader1"),
        "moderator": make_user("mod1", role=Role.MODERATOR),
    }


def test_article_page_of_a_5000_deep_chain_answers_for_every_viewer_and_sort(app, deep):
    article, _, ids = deep
    for name, user in _viewers().items():
        client = app.test_client()
        if user is not None:
            login(client, user)
        for sort in ("oldest", "newest", "top"):
            response = client.get(f"/articles/{article.slug}?sort={sort}")
            assert response.status_code == 200, (name, sort)
            assert f'id="c{ids[0]}"' in response.text
            # The page shows a thread's first replies and offers the rest.
            assert f'id="c{ids[50]}"' in response.text


def test_permalink_and_more_replies_reach_the_deepest_comment(app, client, deep):
    _, _, ids = deep
    response = client.get(f"/comments/{ids[-1]}")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"#c{ids[-1]}")
    assert client.get(response.headers["Location"]).status_code == 200
    # "Show more replies" from the thread's last but one comment shows the deepest one.
    more = client.get(f"/comments/{ids[0]}/replies?after={ids[-2]}")
    assert more.status_code == 200
    assert f'id="c{ids[-1]}"' in more.text


def test_a_deep_comment_under_withdrawn_ancestors_is_still_found(app, client, deep):
    _, _, ids = deep
    # Withdraw everything but the deepest: the permalink must look down 5,000 levels.
    db.session.execute(
        Comment.__table__.update()
        .where(Comment.id.in_(ids[:-1]))
        .values(status=CommentStatus.DELETED)
    )
    db.session.commit()
    comment = db.session.get(Comment, ids[1])
    assert discussion_pages.is_on_page(comment, None)
    assert client.get(f"/comments/{ids[1]}").status_code == 302


def test_feeds_and_export_include_the_deepest_comment(app, client, deep):
    article, author, ids = deep
    for url in (
        f"/articles/{article.slug}/comments.atom",
        f"/users/{author.username}/comments.atom",
        "/comments.atom",
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        etree.fromstring(response.data)
        assert f"/comments/{ids[-1]}" in response.text, url
    login(client, author)
    export = client.get("/account/export")
    assert export.status_code == 200
    exported = export.get_json()["comments"]
    assert len(exported) == DEPTH + 1
    assert exported[-1]["id"] == ids[-1]
    # The article's author's desk lists the newest comments under their articles.
    login(client, article.author)
    desk = client.get("/author")
    assert desk.status_code == 200


def test_a_whole_5000_deep_chain_renders_nested_when_the_settings_allow_it(app_factory):
    """Every comment on the page and nested 5,000 levels: the tree build, the levels and
    the template's open/close steps all walk without recursion."""
    app = app_factory(REPLIES_PER_THREAD=DEPTH + 1, MAX_DISPLAY_DEPTH=DEPTH + 1)
    with app.app_context():
        article = make_article(slug="deep")
        ids = _chain(article, make_user("chainer"), DEPTH)
        response = app.test_client().get("/articles/deep")
        assert response.status_code == 200
        assert f'id="c{ids[-1]}"' in response.text
        assert response.text.count('<ol class="replies"') >= DEPTH


# --- the reply depth limit ----------------------------------------------------------------


def test_a_reply_past_the_depth_limit_is_stored_beside_the_comment_it_answers(app):
    article = make_article(slug="deep")
    chainer, replier = make_user("chainer"), make_user("replier")
    ids = _chain(article, chainer, 50)  # the last one is at depth 50, the limit
    reply = threads.post_comment(replier, article, "Deeper still", parent_id=ids[-1])
    assert (reply.parent_id, reply.depth, reply.root_id) == (ids[-2], 50, ids[0])
    assert reply.body_md == "@chainer Deeper still"
    # Within the limit, nothing changes.
    within = threads.post_comment(replier, article, "Just fits", parent_id=ids[-2])
    assert (within.parent_id, within.depth, within.body_md) == (ids[-2], 50, "Just fits")
    # Someone who already addressed the person isn't addressed twice.
    again = threads.post_comment(replier, article, "@Chainer yes", parent_id=ids[-1])
    assert again.body_md == "@Chainer yes"
    # The page shows it flat, naming whom it answers, and the mention links the profile.
    client = app.test_client()
    page = client.get(f"/comments/{reply.id}")
    html = client.get(page.headers["Location"]).text
    start = html.index(f'data-card="{reply.id}"')
    card = html[start : html.index("</article>", start)]
    assert "replying to" in card
    assert "/users/chainer" in card


def test_the_person_answered_past_the_limit_is_told(app):
    article = make_article(slug="deep")
    chainer, replier = make_user("chainer"), make_user("replier")
    ids = _chain(article, chainer, 50)
    threads.post_comment(replier, article, "Deeper still", parent_id=ids[-1])
    assert any(n.user_id == chainer.id for n in db.session.execute(select(Notification)).scalars())


def test_the_limit_is_a_setting_and_holds_through_the_web(app_factory):
    app = app_factory(MAX_REPLY_DEPTH=3)
    with app.app_context():
        article = make_article(slug="deep")
        chainer, replier = make_user("chainer"), make_user("replier")
        ids = _chain(article, chainer, 6)  # an old chain, deeper than today's limit
        client = app.test_client()
        login(client, replier)
        response = client.post(
            "/articles/deep/comments", data={"body": "Way down", "parent_id": ids[-1]}
        )
        assert response.status_code in (200, 302, 303)
        reply = db.session.execute(
            select(Comment).where(Comment.author_id == replier.id)
        ).scalar_one()
        # Stored under the ancestor at depth 2, so the reply is at depth 3.
        assert (reply.parent_id, reply.depth) == (ids[2], 3)
        assert reply.body_md.startswith("@chainer ")
