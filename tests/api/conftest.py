"""Fixtures shared by the API tests."""

import pytest

from forum.models import Role
from forum.services import moderation, threads
from tests.conftest import make_article, make_user

PREMODERATED = threads.DiscussionSettings(premoderate_first=10)


@pytest.fixture
def scene(app):
    """An article (by an author) with a thread, its reply and a reply to that, a hidden
    comment, a pending one and a deleted comment whose reply still stands."""
    writer = make_user(role=Role.AUTHOR)
    carl = make_user()
    rita = make_user()
    mod = make_user(role=Role.MODERATOR)
    article = make_article(writer)
    first = threads.post_comment(carl, article, "First *thread*.")
    reply = threads.post_comment(writer, article, "A reply.", parent_id=first.id)
    deeper = threads.post_comment(rita, article, "Deeper.", parent_id=reply.id)
    hidden = threads.post_comment(carl, article, "Rude words.")
    moderation.hide_comment(mod, hidden, "abuse", "Private note.")
    pending = threads.post_comment(carl, article, "Waiting.", settings=PREMODERATED)
    gone = threads.post_comment(rita, article, "Withdrawn later.")
    threads.post_comment(carl, article, "Answer to the withdrawn one.", parent_id=gone.id)
    threads.delete_comment(rita, gone)
    return {
        "article": article,
        "writer": writer,
        "carl": carl,
        "rita": rita,
        "mod": mod,
        "first": first,
        "reply": reply,
        "deeper": deeper,
        "hidden": hidden,
        "pending": pending,
        "gone": gone,
    }
