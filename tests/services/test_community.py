"""Helpful votes and the top sort, pinned comments, and following discussions, through the
community service: what each person may do, and that a refusal changes nothing."""

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from forum.extensions import db
from forum.models import Article, Comment, CommentStatus, Follow, Role, User, Vote, utcnow
from forum.services import (
    article_editor,
    article_import,
    article_rules,
    community,
    discussion_pages,
    discussion_state,
    moderation,
    sanctions,
    threads,
)
from forum.services.discussion_pages import Sort
from forum.services.errors import Conflict, DomainError, Forbidden, NotAllowed
from forum.services.threads import DiscussionSettings
from tests.conftest import make_article, make_user

# --- helpers -----------------------------------------------------------------------------


@dataclass
class People:
    article: Article
    other: Article
    writer: User
    alice: User
    bob: User
    carol: User
    mod: User


@pytest.fixture
def p(app) -> People:
    writer = make_user("writer", role=Role.AUTHOR)
    return People(
        article=make_article(writer, slug="the-article"),
        other=make_article(writer, slug="another-article"),
        writer=writer,
        alice=make_user("alice"),
        bob=make_user("bob"),
        carol=make_user("carol"),
        mod=make_user("moderator", role=Role.MODERATOR),
    )


def post(author, article, body="A comment.", parent=None, *, ago=None) -> Comment:
    comment = threads.post_comment(author, article, body, parent_id=parent.id if parent else None)
    if ago is not None:
        comment.created_at = utcnow() - ago
        # Back-dated behind the services' back: bring the stored sort keys along.
        discussion_state.recount([article.id])
        db.session.commit()
    return comment


def refused(error_class, action, *args, **kwargs) -> DomainError:
    """Run ``action``, expect ``error_class`` exactly, and check nothing was left pending."""
    with pytest.raises(DomainError) as caught:
        action(*args, **kwargs)
    assert type(caught.value) is error_class
    assert not db.session.new and not db.session.dirty and not db.session.deleted
    return caught.value


def rows(model) -> int:
    db.session.rollback()
    return db.session.execute(select(func.count(model.id))).scalar_one()


def helpful(comment) -> int:
    db.session.refresh(comment)
    return comment.helpful_count


def ids(nodes) -> list[int]:
    return [node.comment.id for node in nodes]


def pinned(article) -> list[tuple[int, int | None]]:
    """(comment id, pinned by) of the article's pinned comments, as committed."""
    db.session.rollback()
    return [
        (c.id, c.pinned_by_id)
        for c in db.session.execute(
            select(Comment).where(Comment.article_id == article.id, Comment.pinned_at.is_not(None))
        ).scalars()
    ]


# --- votes -------------------------------------------------------------------------------


def test_a_vote_counts_once_and_can_be_taken_back(p):
    comment = post(p.alice, p.article)
    community.vote(p.bob, comment)
    community.vote(p.carol, comment)
    assert helpful(comment) == 2
    assert community.voted_ids(p.bob, [comment.id]) == {comment.id}

    error = refused(Conflict, community.vote, p.bob, comment)
    assert "already" in error.message
    assert helpful(comment) == 2 and rows(Vote) == 2

    community.unvote(p.bob, comment)
    assert helpful(comment) == 1
    assert community.voted_ids(p.bob, [comment.id]) == set()
    assert community.voted_ids(p.carol, [comment.id]) == {comment.id}
    # Taken back, it can be given again.
    community.vote(p.bob, comment)
    assert helpful(comment) == 2


def test_taking_back_a_vote_never_given_conflicts(p):
    comment = post(p.alice, p.article)
    community.vote(p.carol, comment)
    refused(Conflict, community.unvote, p.bob, comment)
    assert helpful(comment) == 1 and rows(Vote) == 1


def test_you_cannot_vote_for_your_own_comment(p):
    comment = post(p.alice, p.article)
    refused(Forbidden, community.vote, p.alice, comment)
    assert helpful(comment) == 0 and rows(Vote) == 0


@pytest.mark.parametrize("state", ["hidden", "deleted", "pending"])
def test_only_visible_comments_take_votes(p, state):
    if state == "pending":
        comment = threads.post_comment(
            make_user("newcomer"),
            p.article,
            "new",
            settings=DiscussionSettings(premoderate_first=1),
        )
    else:
        comment = post(p.alice, p.article)
        if state == "hidden":
            moderation.hide_comment(p.mod, comment, "spam")
        else:
            threads.delete_comment(p.alice, comment)
    refused(Conflict, community.vote, p.bob, comment)
    assert helpful(comment) == 0 and rows(Vote) == 0


def test_a_vote_can_be_taken_back_after_the_comment_was_hidden(p):
    comment = post(p.alice, p.article)
    community.vote(p.bob, comment)
    moderation.hide_comment(p.mod, comment, "spam")
    community.unvote(p.bob, comment)
    assert helpful(comment) == 0 and rows(Vote) == 0


def test_voted_ids_answers_for_one_reader_and_only_the_ids_asked(p):
    first, second, third = (post(p.alice, p.article, f"c{i}") for i in range(3))
    community.vote(p.bob, first)
    community.vote(p.bob, third)
    community.vote(p.carol, second)
    assert community.voted_ids(p.bob, [first.id, second.id, third.id]) == {first.id, third.id}
    assert community.voted_ids(p.bob, [second.id]) == set()
    assert community.voted_ids(p.bob, []) == set()
    assert community.voted_ids(None, [first.id]) == set()


def test_helpful_votes_received_counts_the_visible_comments_only(p):
    kept = post(p.alice, p.article, "kept")
    hidden = post(p.alice, p.article, "hidden later")
    elsewhere = post(p.alice, p.other, "on the other article")
    for voter in (p.bob, p.carol, p.mod):
        community.vote(voter, kept)
    community.vote(p.bob, hidden)
    community.vote(p.carol, elsewhere)
    community.vote(p.alice, post(p.bob, p.article, "bob's"))
    assert community.helpful_votes_received(p.alice) == 5
    assert community.helpful_votes_received(p.bob) == 1
    assert community.helpful_votes_received(p.carol) == 0

    moderation.hide_comment(p.mod, hidden, "off-topic")
    assert community.helpful_votes_received(p.alice) == 4
    moderation.unhide_comment(p.mod, hidden)
    assert community.helpful_votes_received(p.alice) == 5


# --- the top sort ------------------------------------------------------------------------


def vote_n(comment, voters):
    for voter in voters:
        community.vote(voter, comment)


@pytest.fixture
def voters(p):
    return [make_user(f"voter{i}") for i in range(8)]


def test_top_sort_follows_the_votes_given(p, voters):
    few = post(p.alice, p.article, "few", ago=timedelta(hours=2))
    many = post(p.bob, p.article, "many", ago=timedelta(hours=2))
    none = post(p.carol, p.article, "none", ago=timedelta(hours=2))
    vote_n(few, voters[:1])
    vote_n(many, voters[:4])
    page = discussion_pages.load_page(p.article, None, sort=Sort.TOP)
    assert ids(page.threads) == [many.id, few.id, none.id]


def test_an_old_comment_with_a_few_more_votes_does_not_beat_a_fresh_one(p, voters):
    old = post(p.alice, p.article, "old", ago=timedelta(days=2))
    fresh = post(p.bob, p.article, "fresh", ago=timedelta(minutes=30))
    vote_n(old, voters[:6])
    vote_n(fresh, voters[:4])
    page = discussion_pages.load_page(p.article, None, sort=Sort.TOP)
    assert ids(page.threads) == [fresh.id, old.id]
    # Oldest first is unchanged by votes.
    assert ids(discussion_pages.load_page(p.article, None).threads) == [old.id, fresh.id]


def test_top_sort_breaks_ties_by_age_oldest_first(p, voters):
    same = utcnow() - timedelta(hours=3)
    a = post(p.alice, p.article, "a")
    b = post(p.bob, p.article, "b")
    c = post(p.carol, p.article, "c", ago=timedelta(hours=1))
    for comment in (a, b):
        comment.created_at = same
        vote_n(comment, voters[:2])
    discussion_state.recount([p.article.id])
    db.session.commit()
    page = discussion_pages.load_page(p.article, None, sort=Sort.TOP)
    assert ids(page.threads) == [a.id, b.id, c.id]


def test_a_reply_s_votes_do_not_lift_its_thread(p, voters):
    first = post(p.alice, p.article, "first", ago=timedelta(hours=1))
    second = post(p.bob, p.article, "second", ago=timedelta(hours=1))
    vote_n(post(p.carol, p.article, "a much-liked reply", first), voters[:5])
    vote_n(second, voters[:1])
    page = discussion_pages.load_page(p.article, None, sort=Sort.TOP)
    assert ids(page.threads) == [second.id, first.id]


@pytest.mark.parametrize("hours", [0, 1, 6, 24, 24 * 7, 24 * 365])
def test_top_key_puts_more_votes_and_newer_threads_first(hours):
    created = utcnow() - timedelta(hours=hours)
    key = discussion_state.top_key  # ascending: smaller comes first
    assert key(5, created) < key(4, created) < key(0, created)
    assert key(5, created) < key(5, created - timedelta(hours=1))
    # Ten times the votes are worth TOP_SECONDS_PER_DECADE of recency.
    later = created + timedelta(seconds=discussion_state.TOP_SECONDS_PER_DECADE)
    assert key(30, created) == pytest.approx(key(3, later))


def test_unvoted_threads_come_after_every_voted_one_oldest_first():
    old = utcnow() - timedelta(days=365)
    assert discussion_state.top_key(1, old) < discussion_state.top_key(0, utcnow())
    assert discussion_state.top_key(0, old) < discussion_state.top_key(0, utcnow())


# --- pins --------------------------------------------------------------------------------


def test_the_article_author_pins_a_top_level_comment(p):
    first = post(p.alice, p.article)
    chosen = post(p.bob, p.article)
    community.pin(p.writer, chosen)
    assert pinned(p.article) == [(chosen.id, p.writer.id)]
    assert chosen.pinned_at is not None and first.pinned_at is None


def test_a_moderator_pins_on_anyones_article(p):
    chosen = post(p.alice, p.article)
    community.pin(p.mod, chosen, p.article)
    assert pinned(p.article) == [(chosen.id, p.mod.id)]


@pytest.mark.parametrize("who", ["alice", "bob"])
def test_readers_cannot_pin_or_unpin(p, who):
    chosen = post(p.alice, p.article)
    refused(Forbidden, community.pin, getattr(p, who), chosen)
    assert pinned(p.article) == []
    community.pin(p.writer, chosen)
    refused(Forbidden, community.unpin, getattr(p, who), chosen)
    assert pinned(p.article) == [(chosen.id, p.writer.id)]


def test_another_articles_author_cannot_pin_here(p):
    stranger = make_user("stranger", role=Role.AUTHOR)
    make_article(stranger, slug="strangers-article")
    chosen = post(p.alice, p.article)
    refused(Forbidden, community.pin, stranger, chosen)
    assert pinned(p.article) == []


def test_a_reply_cannot_be_pinned(p):
    reply = post(p.bob, p.article, "reply", post(p.alice, p.article))
    error = refused(NotAllowed, community.pin, p.writer, reply)
    assert "top-level" in error.message
    assert pinned(p.article) == []


def test_a_comment_from_another_article_cannot_be_pinned_here(p):
    already = post(p.alice, p.article)
    community.pin(p.writer, already)
    elsewhere = post(p.bob, p.other)
    error = refused(NotAllowed, community.pin, p.writer, elsewhere, p.article)
    assert "another article" in error.message
    assert pinned(p.article) == [(already.id, p.writer.id)]
    assert pinned(p.other) == []


@pytest.mark.parametrize("state", ["hidden", "deleted"])
def test_only_visible_comments_can_be_pinned(p, state):
    comment = post(p.alice, p.article)
    if state == "hidden":
        moderation.hide_comment(p.mod, comment, "spam")
    else:
        threads.delete_comment(p.alice, comment)
    refused(Conflict, community.pin, p.writer, comment)
    assert pinned(p.article) == []


def test_pinning_a_second_comment_replaces_the_first(p):
    first = post(p.alice, p.article)
    second = post(p.bob, p.article)
    elsewhere = post(p.carol, p.other)
    community.pin(p.writer, elsewhere)
    community.pin(p.writer, first)
    community.pin(p.mod, second)
    assert pinned(p.article) == [(second.id, p.mod.id)]
    assert first.pinned_at is None and first.pinned_by_id is None
    # Pins are per article: the other article's pin stays.
    assert pinned(p.other) == [(elsewhere.id, p.writer.id)]


def test_pinning_the_pinned_comment_again_conflicts(p):
    chosen = post(p.alice, p.article)
    community.pin(p.writer, chosen)
    refused(Conflict, community.pin, p.mod, chosen)
    assert pinned(p.article) == [(chosen.id, p.writer.id)]


def test_unpin_and_unpinning_an_unpinned_comment_conflicts(p):
    chosen = post(p.alice, p.article)
    refused(Conflict, community.unpin, p.writer, chosen)
    community.pin(p.writer, chosen)
    community.unpin(p.mod, chosen)
    assert pinned(p.article) == []
    assert chosen.pinned_by_id is None
    refused(Conflict, community.unpin, p.writer, chosen)


@pytest.mark.parametrize(
    ("sort", "order"),
    [
        (Sort.OLDEST, [0, 1, 2, 3, 4, 5]),
        (Sort.NEWEST, [5, 4, 3, 2, 1, 0]),
        (Sort.TOP, [0, 1, 2, 3, 4, 5]),  # the voted-for one, then the rest by age
    ],
)
def test_the_pinned_thread_leads_the_first_page_whatever_the_sort(p, voters, sort, order):
    speakers = [p.alice, p.bob, p.carol] * 2
    comments = [
        post(who, p.article, f"comment {i}", ago=timedelta(hours=10 - i))
        for i, who in enumerate(speakers)
    ]
    vote_n(comments[0], voters[:3])
    settings = DiscussionSettings(threads_per_page=2)

    def shown() -> list[int]:
        """Thread ids page after page, as a reader sees them under ``sort``."""
        pages = discussion_pages.load_page(p.article, None, sort=sort, settings=settings).pages
        return [
            node_id
            for n in range(1, pages + 1)
            for node_id in ids(
                discussion_pages.load_page(
                    p.article, None, sort=sort, page=n, settings=settings
                ).threads
            )
        ]

    expected = [comments[i].id for i in order]
    assert shown() == expected
    # Under every sort the last thread is on page 3; pinned, it leads page 1.
    chosen = comments[order[-1]]
    community.pin(p.writer, chosen)
    assert shown() == [chosen.id, *expected[:-1]]
    first_page = discussion_pages.load_page(p.article, None, sort=sort, settings=settings)
    assert ids(first_page.threads)[0] == chosen.id
    community.unpin(p.writer, chosen)
    assert shown() == expected


# --- follows -----------------------------------------------------------------------------


def follows(article) -> set[str]:
    db.session.rollback()
    return set(
        db.session.execute(
            select(User.username)
            .join(Follow, Follow.user_id == User.id)
            .where(Follow.article_id == article.id)
        ).scalars()
    )


def test_follow_and_unfollow(p):
    assert not community.is_following(p.alice, p.article)
    community.follow(p.alice, p.article)
    assert community.is_following(p.alice, p.article)
    assert not community.is_following(p.alice, p.other)
    assert not community.is_following(None, p.article)
    community.unfollow(p.alice, p.article)
    assert not community.is_following(p.alice, p.article)
    assert follows(p.article) == set()


def test_following_twice_conflicts(p):
    community.follow(p.alice, p.article)
    refused(Conflict, community.follow, p.alice, p.article)
    assert rows(Follow) == 1


def test_unfollowing_what_you_do_not_follow_conflicts(p):
    community.follow(p.alice, p.other)
    refused(Conflict, community.unfollow, p.alice, p.article)
    assert follows(p.other) == {"alice"}


def test_a_locked_discussion_cannot_be_followed(p):
    sanctions.lock_article(p.mod, p.article, "Closed for the holidays.")
    refused(Forbidden, community.follow, p.alice, p.article)
    assert follows(p.article) == set()


def test_a_follower_can_still_leave_a_locked_discussion(p):
    community.follow(p.alice, p.article)
    sanctions.lock_article(p.mod, p.article)
    community.unfollow(p.alice, p.article)
    assert follows(p.article) == set()


def test_replying_follows_the_discussion_once(p):
    first = post(p.alice, p.article)
    post(p.bob, p.article, "reply", first)
    post(p.bob, p.article, "and another", first)
    assert follows(p.article) == {"bob"}
    assert rows(Follow) == 1


def test_replying_while_following_keeps_one_follow(p):
    community.follow(p.bob, p.article)
    post(p.bob, p.article, "reply", post(p.alice, p.article))
    assert follows(p.article) == {"bob"}


def test_a_pending_reply_follows_too(p):
    first = post(p.alice, p.article)
    newcomer = make_user("newcomer")
    reply = threads.post_comment(
        newcomer,
        p.article,
        "hi",
        parent_id=first.id,
        settings=DiscussionSettings(premoderate_first=1),
    )
    assert reply.status is CommentStatus.PENDING
    assert "newcomer" in follows(p.article)


def test_an_imported_article_is_followed_by_its_author(p, tmp_path: Path):
    (tmp_path / "new.md").write_text(
        "---\ntitle: Imported\nslug: imported\nauthor: writer\npublished: 2026-01-31\n---\n"
        "The body.\n",
        encoding="utf-8",
    )
    [(article, created)] = article_import.import_articles([tmp_path / "new.md"])
    assert created
    assert follows(article) == {"writer"}
    # Importing it again (an update) doesn't follow twice.
    article_import.import_articles([tmp_path / "new.md"])
    assert follows(article) == {"writer"}


def test_an_article_written_in_the_browser_is_followed_by_its_author(p):
    article = article_editor.create_article(
        p.writer, article_rules.ArticleDraft(title="Written here", body="Some words.")
    )
    assert follows(article) == {"writer"}


def test_an_author_who_unfollowed_their_article_stays_unfollowed_after_commenting(p):
    article = article_editor.create_article(
        p.writer, article_rules.ArticleDraft(title="Mine", body="Words.")
    )
    community.unfollow(p.writer, article)
    post(p.writer, article, "A note from the author.")
    assert follows(article) == set()


# --- two clicks at once ------------------------------------------------------------------
# On PostgreSQL two requests (a double click) can both pass the "not yet" check before
# either commits; the unique constraint then decides. The check answering as it would have a
# moment earlier, with the row already there, is the losing request's view of that race.


def test_a_second_vote_that_raced_past_the_check_conflicts(p, monkeypatch):
    comment = post(p.alice, p.article)
    community.vote(p.bob, comment)
    monkeypatch.setattr(community, "_vote_of", lambda user, comment: None)
    refused(Conflict, community.vote, p.bob, comment)
    assert helpful(comment) == 1 and rows(Vote) == 1


def test_a_second_follow_that_raced_past_the_check_conflicts(p, monkeypatch):
    community.follow(p.alice, p.article)
    monkeypatch.setattr(community, "is_following", lambda user, article: False)
    refused(Conflict, community.follow, p.alice, p.article)
    assert follows(p.article) == {"alice"}
