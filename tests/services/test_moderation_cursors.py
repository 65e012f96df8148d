"""The moderation lists walked by cursor (what the JSON API pages by): the same order as the
HTML pages, every item once, and nothing skipped or repeated when the lists grow meanwhile."""

from datetime import timedelta
from types import SimpleNamespace

import pytest

from forum.extensions import db
from forum.models import Role, utcnow
from forum.services import appeals, moderation, premoderation, sanctions, threads
from forum.services.errors import NotAllowed
from tests.conftest import make_article, make_user

PREMODERATE = threads.DiscussionSettings(premoderate_first=50)


@pytest.fixture
def p(app):
    writer = make_user("writer", role=Role.AUTHOR)
    return SimpleNamespace(
        article=make_article(writer, slug="the-article"),
        carl=make_user("carl"),
        rita=make_user("rita"),
        wes=make_user("wes"),
        mod=make_user("mod", role=Role.MODERATOR),
    )


def walk(fetch, key, limit: int) -> list:
    """Every item ``fetch(after, limit)`` gives, page after page, as a client would."""
    items, after = [], None
    while True:
        page = fetch(after, limit)
        items += page
        if len(page) < limit:
            return items
        after = key(page[-1])


def queue_key(item):
    return (item.newest, item.comment.id)


def test_the_report_queue_by_cursor_is_the_html_queue_order(p):
    now = utcnow()
    comments = [threads.post_comment(p.carl, p.article, f"Comment {n}.") for n in range(5)]
    # Two comments share their newest report's time: the comment id breaks the tie.
    minutes = [30, 10, 10, 50, 5]
    for comment, ago in zip(comments, minutes, strict=True):
        report = moderation.report_comment(p.rita, comment, "spam")
        report.created_at = now - timedelta(minutes=ago)
    older = moderation.report_comment(p.wes, comments[0], "abuse")
    older.created_at = now - timedelta(minutes=90)  # not its newest: it doesn't move it
    db.session.commit()

    paged = [item.comment.id for item in moderation.report_queue(1, 100).items]
    assert paged == [comments[i].id for i in (4, 2, 1, 0, 3)]
    for limit in (1, 2, 3, 5):
        walked = walk(moderation.report_queue_after, queue_key, limit)
        assert [item.comment.id for item in walked] == paged
    [first] = [item for item in walked if item.comment.id == comments[0].id]
    assert len(first.reports) == 2
    assert first.newest == now - timedelta(minutes=30)


def test_a_comment_reported_again_mid_walk_is_neither_repeated_nor_skipped(p):
    now = utcnow()
    comments = [threads.post_comment(p.carl, p.article, f"Comment {n}.") for n in range(3)]
    for ago, comment in enumerate(comments):
        report = moderation.report_comment(p.rita, comment, "spam")
        report.created_at = now - timedelta(minutes=ago + 1)
    db.session.commit()

    [first] = moderation.report_queue_after(None, 1)
    assert first.comment.id == comments[0].id
    moderation.report_comment(p.wes, comments[0], "abuse")  # now the newest again
    late = threads.post_comment(p.carl, p.article, "Reported after the walk began.")
    moderation.report_comment(p.rita, late, "spam")
    rest = moderation.report_queue_after(queue_key(first), 10)
    assert [item.comment.id for item in rest] == [comments[1].id, comments[2].id]


def test_pending_comments_by_cursor_oldest_first(p):
    waiting = [
        threads.post_comment(p.carl, p.article, f"Waiting {n}.", settings=PREMODERATE)
        for n in range(4)
    ]
    same_time = utcnow() - timedelta(hours=1)
    for comment in waiting[1:3]:
        comment.created_at = same_time
    db.session.commit()
    expected = [c.id for c in premoderation.pending_comments()]
    assert expected == [waiting[1].id, waiting[2].id, waiting[0].id, waiting[3].id]
    for limit in (1, 3, 4):
        walked = walk(premoderation.pending_comments_after, lambda c: (c.created_at, c.id), limit)
        assert [c.id for c in walked] == expected
    premoderation.approve_comment(p.mod, waiting[1])
    rest = premoderation.pending_comments_after((waiting[1].created_at, waiting[1].id), 10)
    assert [c.id for c in rest] == [waiting[2].id, waiting[0].id, waiting[3].id]


def test_open_appeals_by_cursor_oldest_first(p):
    items = []
    for n in range(3):
        comment = threads.post_comment(p.carl, p.article, f"To hide {n}.")
        moderation.hide_comment(p.mod, comment, "spam")
        items.append(appeals.appeal(p.carl, comment, "Please look again."))
    appeals.decide_appeal(p.mod, items[1], False)
    for limit in (1, 2, 5):
        walked = walk(appeals.open_appeals_after, lambda a: (a.created_at, a.id), limit)
        assert walked == appeals.open_appeals() == [items[0], items[2]]


def test_the_log_by_cursor_newest_first_filtered_like_the_page(p):
    comment = threads.post_comment(p.carl, p.article, "A comment.")
    moderation.hide_comment(p.mod, comment, "spam", "private")
    moderation.unhide_comment(p.mod, comment)
    moderation.hide_comment(p.mod, comment, "abuse")
    sanctions.lock_article(p.mod, p.article, "Heated.")
    everything = [e.id for e in moderation.log_page(1, 100).items]
    for limit in (1, 2, 4):
        walked = walk(moderation.log_after, lambda e: e.id, limit)
        assert [e.id for e in walked] == everything
    hides = moderation.log_after(None, 10, action="hide", moderator="MOD")
    assert [e.reason for e in hides] == ["abuse", "spam"]
    assert moderation.log_after(hides[0].id, 10, action="hide") == [hides[1]]
    assert moderation.log_after(None, 10, moderator="carl") == []
    with pytest.raises(NotAllowed):
        moderation.log_after(None, 10, action="delete-everything")
