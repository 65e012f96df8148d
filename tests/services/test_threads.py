"""The threads service: posting at any depth, the display cap, sorts and paging, the edit
window and revisions, deletion, counts, Unicode, and every kind of bad input."""

import re
import unicodedata
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from forum.extensions import db
from forum.models import Comment, CommentRevision, CommentStatus, Role, utcnow
from forum.models.users import INDEFINITE
from forum.services import discussion_pages, discussion_state, sanitize, threads
from forum.services.discussion_pages import Sort
from forum.services.errors import Forbidden, NotAllowed, NotFound
from forum.services.threads import DiscussionSettings
from forum.services.trees import Shown
from tests.conftest import make_article, make_user

# --- helpers -----------------------------------------------------------------------------


def post(author, article, body="A comment.", parent=None, *, ago=None, helpful=None, **kw):
    """Post through the service, then (for the test's sake) back-date it or give it votes."""
    comment = threads.post_comment(
        author, article, body, parent_id=parent.id if parent else None, **kw
    )
    if ago is not None:
        comment.created_at = utcnow() - ago
    if helpful is not None:
        comment.helpful_count = helpful
    if ago is not None or helpful is not None:
        # Edited behind the services' back: bring the stored sort keys and counts along.
        discussion_state.recount([article.id])
        db.session.commit()
    return comment


def comment_rows() -> int:
    """How many comments the database holds, whatever this session has pending."""
    db.session.rollback()
    return db.session.execute(select(func.count(Comment.id))).scalar_one()


def flatten(nodes):
    """Every node of a tree, depth first, in display order."""
    for node in nodes:
        yield node
        yield from flatten(node.children)


def ids(nodes) -> list[int]:
    return [node.comment.id for node in nodes]


@pytest.fixture
def people(app):
    """An article by its author, and two readers to talk under it."""
    author = make_user("writer", role=Role.AUTHOR)
    return (
        make_article(author, slug="the-article"),
        make_user("alice"),
        make_user("bob"),
    )


def chain(article, speakers, length):
    """A single line of replies, ``length`` comments long, speakers taking turns."""
    comments = []
    parent = None
    for i in range(length):
        parent = post(speakers[i % len(speakers)], article, f"level {i}", parent)
        comments.append(parent)
    return comments


# --- nesting -----------------------------------------------------------------------------


def test_top_level_comment_has_no_root_and_depth_zero(people):
    article, alice, _ = people
    comment = post(alice, article, "First!")
    assert comment.parent_id is None
    assert comment.root_id is None
    assert comment.depth == 0
    assert comment.thread_root_id == comment.id
    assert comment.status is CommentStatus.VISIBLE


@pytest.mark.parametrize("depth", [1, 2, 10])
def test_reply_at_depth_stores_its_root_and_depth(people, depth):
    article, alice, bob = people
    comments = chain(article, [alice, bob], depth + 1)
    root, deepest = comments[0], comments[-1]
    db.session.expire_all()  # read back what was stored, not what was set
    assert deepest.depth == depth
    assert deepest.root_id == root.id
    assert deepest.parent_id == comments[-2].id
    assert [c.depth for c in comments] == list(range(depth + 1))
    assert all(c.root_id == root.id for c in comments[1:])


def test_replies_in_two_threads_keep_their_own_roots(people):
    article, alice, bob = people
    first = chain(article, [alice, bob], 3)
    second = chain(article, [bob, alice], 3)
    assert {c.root_id for c in first[1:]} == {first[0].id}
    assert {c.root_id for c in second[1:]} == {second[0].id}


# --- display cap -------------------------------------------------------------------------


def test_deep_replies_show_at_the_cap_naming_whom_they_answer(people):
    article, alice, bob = people
    comments = chain(article, [alice, bob], 11)  # depths 0..10
    page = discussion_pages.load_page(article, None)
    assert DiscussionSettings().max_display_depth == 6

    nodes = list(flatten(page.threads))
    assert ids(nodes) == [c.id for c in comments]  # every comment, in conversation order
    by_id = {node.comment.id: node for node in nodes}
    for depth, comment in enumerate(comments):
        node = by_id[comment.id]
        assert node.level == min(depth + 1, 6)
        if depth <= 5:
            assert node.replying_to is None
        else:
            # Shown at the cap, saying whom it answers (the speakers take turns).
            assert node.replying_to is not None
            assert node.replying_to.id == comments[depth - 1].author_id
            assert node.children == []
    # The comment at the cap holds all the deeper ones, flat.
    assert ids(by_id[comments[5].id].children) == [c.id for c in comments[6:]]


def test_flattened_replies_keep_depth_first_conversation_order(people):
    article, alice, bob = people
    top = post(alice, article, "top")
    at_cap = post(bob, article, "at the cap", top)
    first = post(alice, article, "first answer", at_cap)
    answer_to_first = post(bob, article, "answer to first", first)
    second = post(bob, article, "second answer", at_cap)
    page = discussion_pages.load_page(
        article, None, settings=DiscussionSettings(max_display_depth=2)
    )

    [root] = page.threads
    [cap_node] = root.children
    assert cap_node.level == 2
    assert ids(cap_node.children) == [first.id, answer_to_first.id, second.id]
    assert [n.level for n in cap_node.children] == [2, 2, 2]
    assert [n.replying_to.username for n in cap_node.children] == ["bob", "alice", "bob"]


def test_display_cap_is_configurable(people):
    article, alice, bob = people
    comments = chain(article, [alice, bob], 5)
    page = discussion_pages.load_page(
        article, None, settings=DiscussionSettings(max_display_depth=3)
    )
    levels = {node.comment.id: node.level for node in flatten(page.threads)}
    assert [levels[c.id] for c in comments] == [1, 2, 3, 3, 3]


def test_display_cap_comes_from_app_config(app_factory):
    app = app_factory(MAX_DISPLAY_DEPTH=2)
    with app.app_context():
        settings = DiscussionSettings.from_config(app.config)
        assert settings.max_display_depth == 2
        article = make_article()
        comments = chain(article, [make_user(), make_user()], 4)
        page = discussion_pages.load_page(article, None, settings=settings)
        nodes = list(flatten(page.threads))
        assert [n.level for n in nodes] == [1, 2, 2, 2]
        assert [n.replying_to is not None for n in nodes] == [False, False, True, True]
        assert ids(nodes) == [c.id for c in comments]


# --- sorts and paging --------------------------------------------------------------------


def test_sorts_oldest_by_default_and_newest_on_request(people):
    article, alice, bob = people
    middle = post(alice, article, "middle", ago=timedelta(hours=2))
    oldest = post(bob, article, "oldest", ago=timedelta(hours=3))
    newest = post(alice, article, "newest", ago=timedelta(hours=1))
    reply = post(bob, article, "a reply doesn't start a thread", oldest)

    default = discussion_pages.load_page(article, None)
    assert default.sort is Sort.OLDEST
    assert ids(default.threads) == [oldest.id, middle.id, newest.id]
    assert ids(default.threads[0].children) == [reply.id]
    newest_first = discussion_pages.load_page(article, None, sort=Sort.NEWEST)
    assert ids(newest_first.threads) == [newest.id, middle.id, oldest.id]


def test_top_sort_decays_votes_with_age(people):
    article, alice, bob = people
    old_favourite = post(alice, article, "old", ago=timedelta(days=3), helpful=12)
    fresh = post(bob, article, "fresh", ago=timedelta(hours=1), helpful=9)
    unloved = post(alice, article, "no votes", ago=timedelta(minutes=5), helpful=0)

    page = discussion_pages.load_page(article, None, sort=Sort.TOP)
    # Three more votes collected over three days don't outrank a fresh, well-liked comment.
    assert ids(page.threads) == [fresh.id, old_favourite.id, unloved.id]


def test_top_sort_orders_ties_by_age(people):
    article, alice, bob = people
    newer = post(alice, article, "newer, no votes", ago=timedelta(hours=1))
    older = post(bob, article, "older, no votes", ago=timedelta(hours=5))
    same_moment = utcnow() - timedelta(hours=2)
    twin_a = post(alice, article, "twin a", helpful=3)
    twin_b = post(bob, article, "twin b", helpful=3)
    twin_a.created_at = twin_b.created_at = same_moment
    discussion_state.recount([article.id])
    db.session.commit()

    page = discussion_pages.load_page(article, None, sort=Sort.TOP)
    assert ids(page.threads) == [twin_a.id, twin_b.id, older.id, newer.id]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, Sort.OLDEST),
        ("", Sort.OLDEST),
        ("oldest", Sort.OLDEST),
        ("newest", Sort.NEWEST),
        ("top", Sort.TOP),
    ],
)
def test_sort_parses_query_values(value, expected):
    assert Sort.parse(value) is expected


@pytest.mark.parametrize("value", ["TOP", "xyz", "1"])
def test_an_unknown_sort_is_refused_not_defaulted(value):
    with pytest.raises(NotAllowed, match="Unknown sort"):
        Sort.parse(value)


def make_threads(article, authors, count):
    """``count`` threads an hour apart, oldest first, each with a nested pair of replies."""
    made = []
    for i in range(count):
        root = post(authors[0], article, f"thread {i}", ago=timedelta(hours=count - i))
        reply = post(authors[1], article, f"reply in {i}", root)
        nested = post(authors[0], article, f"nested in {i}", reply)
        made.append((root, reply, nested))
    return made


def test_threads_are_paged_whole(people):
    article, alice, bob = people
    made = make_threads(article, [alice, bob], 7)
    settings = DiscussionSettings(threads_per_page=3)

    pages = [
        discussion_pages.load_page(article, None, page=n, settings=settings) for n in (1, 2, 3)
    ]
    assert [p.pages for p in pages] == [3, 3, 3]
    assert [p.page for p in pages] == [1, 2, 3]
    assert [ids(p.threads) for p in pages] == [
        [made[0][0].id, made[1][0].id, made[2][0].id],
        [made[3][0].id, made[4][0].id, made[5][0].id],
        [made[6][0].id],
    ]
    for p in pages:
        assert p.thread_count == 7
        assert p.visible_count == 21
        for node in p.threads:  # each thread whole, with its replies, on its page
            root, reply, nested = next(t for t in made if t[0].id == node.comment.id)
            assert ids(flatten([node])) == [root.id, reply.id, nested.id]
    assert sum(len(list(flatten(p.threads))) for p in pages) == 21


def test_paging_follows_the_sort(people):
    article, alice, bob = people
    made = make_threads(article, [alice, bob], 7)
    settings = DiscussionSettings(threads_per_page=3)
    first = discussion_pages.load_page(article, None, sort=Sort.NEWEST, page=1, settings=settings)
    last = discussion_pages.load_page(article, None, sort=Sort.NEWEST, page=3, settings=settings)
    assert ids(first.threads) == [made[6][0].id, made[5][0].id, made[4][0].id]
    assert ids(last.threads) == [made[0][0].id]


@pytest.mark.parametrize("asked", [0, -5, 4, 10**9])
def test_page_numbers_out_of_range_are_not_found(people, asked):
    article, alice, bob = people
    make_threads(article, [alice, bob], 7)
    with pytest.raises(NotFound):
        discussion_pages.load_page(
            article, None, page=asked, settings=DiscussionSettings(threads_per_page=3)
        )


def test_empty_discussion_has_one_empty_page(people):
    article, _, _ = people
    page = discussion_pages.load_page(article, None)
    assert (page.threads, page.page, page.pages, page.visible_count) == ([], 1, 1, 0)


def test_page_of_comment_finds_the_threads_page_in_each_sort(people):
    article, alice, bob = people
    made = make_threads(article, [alice, bob], 7)
    nested_in_second = made[1][2]
    assert discussion_pages.page_of_comment(nested_in_second, None, Sort.OLDEST, 3) == 1
    assert discussion_pages.page_of_comment(nested_in_second, None, Sort.NEWEST, 3) == 2
    assert discussion_pages.page_of_comment(made[6][0], None, Sort.OLDEST, 3) == 3


# --- editing -----------------------------------------------------------------------------


def test_edit_within_window_keeps_the_old_text_as_a_revision(people):
    article, alice, _ = people
    comment = post(alice, article, "Teh first version")
    posted_at = comment.created_at
    later = posted_at + timedelta(minutes=30)

    threads.edit_comment(alice, comment, "The *first* version", now=later)

    db.session.expire_all()
    assert comment.body_md == "The *first* version"
    assert comment.body_html == "<p>The <em>first</em> version</p>\n"
    assert comment.edited_at == later
    [revision] = db.session.execute(select(CommentRevision)).scalars().all()
    assert revision.comment_id == comment.id
    assert revision.body_md == "Teh first version"
    assert revision.body_html == "<p>Teh first version</p>\n"
    assert revision.written_at == posted_at
    assert revision.replaced_at == later


def test_every_edit_adds_a_revision_newest_first(people):
    article, alice, _ = people
    comment = post(alice, article, "one")
    start = comment.created_at
    threads.edit_comment(alice, comment, "two", now=start + timedelta(minutes=1))
    threads.edit_comment(alice, comment, "three", now=start + timedelta(minutes=2))
    threads.edit_comment(alice, comment, "three", now=start + timedelta(minutes=3))  # no change

    revisions = threads.revisions_of(comment)
    assert [r.body_md for r in revisions] == ["two", "one"]
    assert revisions[0].written_at == start + timedelta(minutes=1)
    assert comment.body_md == "three"


def test_edit_after_the_window_is_forbidden_and_changes_nothing(people):
    article, alice, _ = people
    comment = post(alice, article, "original")
    too_late = comment.created_at + timedelta(minutes=61)

    with pytest.raises(Forbidden, match="60 minutes"):
        threads.edit_comment(alice, comment, "rewritten", now=too_late)

    db.session.rollback()
    assert comment.body_md == "original"
    assert comment.edited_at is None
    assert threads.revisions_of(comment) == []


def test_edit_window_is_configurable(people):
    article, alice, _ = people
    comment = post(alice, article, "original")
    settings = DiscussionSettings(edit_window_minutes=5)
    with pytest.raises(Forbidden, match="5 minutes"):
        threads.edit_comment(
            alice, comment, "new", settings=settings, now=comment.created_at + timedelta(minutes=6)
        )
    threads.edit_comment(
        alice, comment, "new", settings=settings, now=comment.created_at + timedelta(minutes=4)
    )
    assert comment.body_md == "new"


def test_editing_someone_elses_comment_is_forbidden(people):
    article, alice, bob = people
    comment = post(alice, article, "alice's words")
    with pytest.raises(Forbidden):
        threads.edit_comment(bob, comment, "bob's words")
    db.session.rollback()
    assert comment.body_md == "alice's words"
    assert threads.revisions_of(comment) == []


def test_edit_with_a_blank_body_is_refused(people):
    article, alice, _ = people
    comment = post(alice, article, "original")
    with pytest.raises(NotAllowed) as refused:
        threads.edit_comment(alice, comment, "   ")
    assert refused.value.field == "body"
    db.session.rollback()
    assert comment.body_md == "original"
    assert threads.revisions_of(comment) == []


# --- deleting and counting ---------------------------------------------------------------


def test_deleted_comment_with_replies_stays_as_a_placeholder(people):
    article, alice, bob = people
    top = post(alice, article, "regrettable")
    reply = post(bob, article, "a reply that still stands", top)

    threads.delete_comment(alice, top)

    db.session.expire_all()
    assert top.status is CommentStatus.DELETED
    assert top.deleted_at is not None
    assert top.body_md == "regrettable"  # kept in the database
    page = discussion_pages.load_page(article, None)
    [node] = page.threads
    assert node.comment.id == top.id
    assert node.shown is Shown.DELETED_PLACEHOLDER
    assert ids(node.children) == [reply.id]
    assert node.children[0].shown is Shown.TEXT
    assert page.visible_count == 1
    assert page.thread_count == 1


def test_deleted_comment_without_replies_leaves_the_thread(people):
    article, alice, bob = people
    top = post(alice, article, "top")
    reply = post(bob, article, "reply")
    leaf = post(alice, article, "leaf reply", top)

    threads.delete_comment(alice, leaf)
    page = discussion_pages.load_page(article, None)
    assert ids(page.threads) == [top.id, reply.id]
    assert page.threads[0].children == []

    threads.delete_comment(bob, reply)
    page = discussion_pages.load_page(article, None)
    assert ids(page.threads) == [top.id]
    assert page.thread_count == 1
    assert page.visible_count == 1
    assert comment_rows() == 3  # nothing removed from the database


def test_deleted_chain_disappears_once_no_reply_stands(people):
    article, alice, bob = people
    top = post(alice, article, "top")
    middle = post(bob, article, "middle", top)
    bottom = post(alice, article, "bottom", middle)
    threads.delete_comment(alice, top)
    threads.delete_comment(bob, middle)
    [node] = discussion_pages.load_page(article, None).threads
    assert [n.shown for n in flatten([node])] == [
        Shown.DELETED_PLACEHOLDER,
        Shown.DELETED_PLACEHOLDER,
        Shown.TEXT,
    ]
    threads.delete_comment(alice, bottom)
    assert discussion_pages.load_page(article, None).threads == []


def test_deleting_someone_elses_comment_is_forbidden(people):
    article, alice, bob = people
    comment = post(alice, article, "mine")
    with pytest.raises(Forbidden):
        threads.delete_comment(bob, comment)
    db.session.rollback()
    assert comment.status is CommentStatus.VISIBLE
    assert comment.deleted_at is None


def test_deleting_twice_is_forbidden(people):
    article, alice, _ = people
    comment = post(alice, article, "mine")
    threads.delete_comment(alice, comment)
    with pytest.raises(Forbidden):
        threads.delete_comment(alice, comment)


def test_counts_count_visible_comments_only(people):
    article, alice, bob = people
    other_article = make_article(slug="elsewhere")
    post(alice, other_article, "not counted here")
    kept = [post(alice, article, "one"), post(bob, article, "two")]
    deleted = post(alice, article, "deleted")
    threads.delete_comment(alice, deleted)
    for status in (CommentStatus.HIDDEN, CommentStatus.PENDING, CommentStatus.REJECTED):
        post(bob, article, status.value).status = status
    db.session.commit()

    assert discussion_pages.visible_count(article.id) == len(kept)
    assert discussion_pages.load_page(article, None).visible_count == len(kept)
    assert discussion_pages.visible_count([article.id, other_article.id]) == len(kept) + 1


# --- Unicode and control characters ------------------------------------------------------

UNICODE_BODIES = {
    "emoji": "Family 👩\u200d👩\u200d👧\u200d👦, flag 🇳🇴, wave 👋🏽, astral \U0001d54f",
    "right-to-left": "שלום עולם — مرحبا بالعالم — سلام",
    "combining marks": "Cafe\u0301 and Z\u0351\u0361a\u0336l\u0334g\u0335o and \u1100\u1161",
    "zero-width": (
        "zero\u200bwidth, joiner \u0915\u094d\u200d\u0937, "
        "non-joiner \u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645"
    ),
    "mixed scripts": "日本語のテキスト, Ελληνικά, Кириллица, हिन्दी",
}


@pytest.mark.parametrize("sanitizer", ["bleach", "nh3"])
@pytest.mark.parametrize("text", list(UNICODE_BODIES.values()), ids=list(UNICODE_BODIES))
def test_unicode_is_stored_and_rendered_exactly(people, sanitizer, text, monkeypatch):
    article, alice, _ = people
    # As the app factory does with FORUM_SANITIZER; monkeypatch restores the previous one.
    monkeypatch.setattr(sanitize, "_configured_backend", sanitize.configured_backend())
    sanitize.configure(sanitizer)
    comment = post(alice, article, text)
    db.session.expire_all()
    # Stored in NFC (so "é" typed two ways is one string); nothing else changes.
    text = unicodedata.normalize("NFC", text)
    assert comment.body_md == text
    assert comment.body_html == f"<p>{text}</p>\n"


def test_control_characters_are_removed_but_newline_and_tab_kept(people):
    article, alice, _ = people
    body = "a\x00b\x01c\x08d\x0be\x0cf\x1bg\x7fh\x85i\x9fj\r\nk\rl\tm\nn"
    comment = post(alice, article, body)
    db.session.expire_all()
    assert comment.body_md == "abcdefghij\nk\nl\tm\nn"
    assert not any(ch in comment.body_html for ch in "\x00\x01\x08\x0b\x0c\x1b\x7f\x85\x9f\r")


# --- bad input ---------------------------------------------------------------------------

BLANK_BODIES = {
    "empty": "",
    "spaces": "     ",
    "newlines and tabs": "\n\n\t \r\n",
    "unicode spaces": "\u00a0\u2003\u3000\u2028",
    "only control characters": "\x00\x07\x1b",
}


@pytest.mark.parametrize("body", list(BLANK_BODIES.values()), ids=list(BLANK_BODIES))
def test_blank_bodies_are_refused(people, body):
    article, alice, _ = people
    with pytest.raises(NotAllowed) as refused:
        threads.post_comment(alice, article, body)
    assert refused.value.field == "body"
    assert refused.value.status == 400
    assert comment_rows() == 0


def test_body_of_10001_characters_is_refused(people):
    article, alice, _ = people
    with pytest.raises(NotAllowed, match="10,000") as refused:
        threads.post_comment(alice, article, "x" * 10_001)
    assert refused.value.field == "body"
    assert comment_rows() == 0


def test_body_of_10000_characters_is_accepted(people):
    article, alice, _ = people
    comment = threads.post_comment(alice, article, "x" * 10_000)
    assert len(comment.body_md) == 10_000


def test_parent_from_another_article_is_refused(people):
    article, alice, bob = people
    elsewhere = post(bob, make_article(slug="elsewhere"), "over there")
    with pytest.raises(NotAllowed) as refused:
        threads.post_comment(alice, article, "a reply", parent_id=elsewhere.id)
    assert refused.value.field == "parent_id"
    assert comment_rows() == 1


@pytest.mark.parametrize("parent_id", [999_999, "999999"])
def test_nonexistent_parent_is_not_found(people, parent_id):
    article, alice, _ = people
    with pytest.raises(NotFound):
        threads.post_comment(alice, article, "a reply", parent_id=parent_id)
    assert comment_rows() == 0


@pytest.mark.parametrize("parent_id", ["abc", "1.5", "-"])
def test_parent_id_that_is_not_a_number_is_refused(people, parent_id):
    article, alice, _ = people
    with pytest.raises(NotAllowed):
        threads.post_comment(alice, article, "a reply", parent_id=parent_id)
    assert comment_rows() == 0


@pytest.mark.parametrize("status", [CommentStatus.DELETED, CommentStatus.HIDDEN])
def test_reply_to_a_removed_comment_is_refused(people, status):
    article, alice, bob = people
    parent = post(alice, article, "gone")
    parent.status = status
    db.session.commit()
    with pytest.raises(NotAllowed) as refused:
        threads.post_comment(bob, article, "a reply", parent_id=parent.id)
    assert refused.value.field == "parent_id"
    assert comment_rows() == 1


# --- locked discussions and suspended accounts -------------------------------------------


def test_locked_discussion_refuses_comments_and_replies(people):
    article, alice, bob = people
    parent = post(alice, article, "before the lock")
    article.discussion_locked = True
    article.lock_reason = "Heated; cooling off."
    db.session.commit()

    with pytest.raises(Forbidden, match=re.escape("locked: Heated; cooling off.")) as refused:
        threads.post_comment(bob, article, "new")
    assert refused.value.status == 403
    with pytest.raises(Forbidden):
        threads.post_comment(bob, article, "reply", parent_id=parent.id)
    with pytest.raises(Forbidden):
        threads.edit_comment(alice, parent, "edited after the lock")
    assert comment_rows() == 1
    assert parent.body_md == "before the lock"


def test_suspended_user_is_forbidden_with_the_end_date(people):
    article, alice, _ = people
    until = utcnow() + timedelta(days=3)
    alice.suspended_until = until
    db.session.commit()

    with pytest.raises(Forbidden) as refused:
        threads.post_comment(alice, article, "let me speak")
    assert refused.value.status == 403
    assert f"{until:%d %B %Y}" in refused.value.message
    assert f"{until:%H:%M}" in refused.value.message
    assert comment_rows() == 0


def test_indefinite_suspension_says_so(people):
    article, alice, _ = people
    alice.suspended_until = INDEFINITE
    db.session.commit()
    with pytest.raises(Forbidden, match="indefinitely"):
        threads.post_comment(alice, article, "let me speak")


def test_expired_suspension_no_longer_blocks(people):
    article, alice, _ = people
    alice.suspended_until = utcnow() - timedelta(minutes=1)
    db.session.commit()
    assert threads.post_comment(alice, article, "back again").is_visible
