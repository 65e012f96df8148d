"""Notifications: who hears about a comment and why (a reply, a mention, a followed
discussion, a comment on one's article), each person once with the most specific reason,
never about one's own actions, never about a comment readers can't see; moderators' hides,
restores and appeal decisions; reading, unread counts and paging."""

from dataclasses import dataclass

import pytest
from sqlalchemy import func, select

from forum.extensions import db
from forum.models import (
    Appeal,
    Comment,
    CommentStatus,
    Notification,
    NotificationKind,
    Role,
    User,
    utcnow,
)
from forum.services import (
    appeals,
    community,
    mentions,
    moderation,
    notifications,
    premoderation,
    sanitize,
    threads,
)
from forum.services.errors import NotFound
from forum.services.threads import DiscussionSettings
from tests.conftest import make_article, make_user

REPLY = NotificationKind.REPLY
MENTION = NotificationKind.MENTION
FOLLOWED = NotificationKind.FOLLOWED
ARTICLE_COMMENT = NotificationKind.ARTICLE_COMMENT
HIDDEN = NotificationKind.HIDDEN
RESTORED = NotificationKind.RESTORED
APPEAL_DECIDED = NotificationKind.APPEAL_DECIDED

PREMODERATED = DiscussionSettings(premoderate_first=1)


# --- helpers -----------------------------------------------------------------------------


@dataclass
class People:
    article: object
    writer: User
    alice: User
    bob: User
    carol: User
    mod: User


@pytest.fixture
def p(app) -> People:
    """An article by its writer (who, like every author of an imported or written article,
    follows it), three readers and a moderator."""
    writer = make_user("writer", role=Role.AUTHOR)
    article = make_article(writer, slug="the-article", title="The Article")
    community.follow(writer, article)
    return People(
        article=article,
        writer=writer,
        alice=make_user("alice"),
        bob=make_user("bob"),
        carol=make_user("carol"),
        mod=make_user("moderator", role=Role.MODERATOR),
    )


def post(author, article, body="A comment.", parent=None, **kw) -> Comment:
    return threads.post_comment(
        author, article, body, parent_id=parent.id if parent else None, **kw
    )


def about(comment) -> dict[str, NotificationKind]:
    """Who was told about new ``comment``, and why: {username: kind}, one entry per person."""
    db.session.rollback()
    rows = db.session.execute(
        select(User.username, Notification.kind)
        .join(User, User.id == Notification.user_id)
        .where(
            Notification.comment_id == comment.id,
            Notification.kind.in_(notifications.ABOUT_A_COMMENT),
        )
    ).all()
    found = {}
    for username, kind in rows:
        assert username not in found, f"{username} was told twice about one comment"
        found[username] = kind
    return found


def kinds_for(user) -> list[tuple[NotificationKind, int | None]]:
    """What ``user`` has in their inbox, newest first, as (kind, comment id)."""
    return [(n.kind, n.comment_id) for n in notifications.page_for(user, 1, 100).items]


def notification_rows() -> int:
    db.session.rollback()
    return db.session.execute(select(func.count(Notification.id))).scalar_one()


def only(user, kind) -> Notification:
    [note] = [n for n in notifications.page_for(user, 1, 100).items if n.kind is kind]
    return note


# --- each kind ---------------------------------------------------------------------------


def test_a_top_level_comment_tells_the_article_author(p):
    comment = post(p.alice, p.article, "Lovely piece.")
    assert about(comment) == {"writer": ARTICLE_COMMENT}
    note = only(p.writer, ARTICLE_COMMENT)
    assert (note.actor_id, note.article_id, note.read_at) == (p.alice.id, p.article.id, None)


def test_a_reply_tells_the_author_of_the_comment_replied_to(p):
    first = post(p.alice, p.article, "A question.")
    reply = post(p.bob, p.article, "An answer.", first)
    # The writer follows the article, so hears about the reply as a follower.
    assert about(reply) == {"alice": REPLY, "writer": FOLLOWED}
    note = only(p.alice, REPLY)
    assert (note.actor_id, note.comment_id, note.article_id) == (p.bob.id, reply.id, p.article.id)


def test_a_reply_to_a_reply_tells_only_its_parent_author_not_the_whole_thread(p):
    first = post(p.alice, p.article)
    second = post(p.bob, p.article, "reply", first)
    community.unfollow(p.bob, p.article)  # bob replied, so followed; not any more
    community.unfollow(p.writer, p.article)
    third = post(p.carol, p.article, "reply to the reply", second)
    assert about(third) == {"bob": REPLY}


def test_a_mention_tells_the_person_named_and_links_their_profile(p):
    comment = post(p.bob, p.article, "I think @carol knows this.")
    assert about(comment) == {"carol": MENTION, "writer": ARTICLE_COMMENT}
    assert '<a href="/users/carol" rel="nofollow ugc noopener">@carol</a>' in comment.body_html


def test_mentions_ignore_case_and_link_the_right_spelling(p):
    make_user("DrWho")
    comment = post(p.bob, p.article, "Ask @drwho or @CAROL.")
    assert about(comment) == {"DrWho": MENTION, "carol": MENTION, "writer": ARTICLE_COMMENT}
    assert 'href="/users/DrWho"' in comment.body_html
    assert 'href="/users/carol"' in comment.body_html


def test_an_unknown_name_stays_plain_text_and_tells_nobody(p):
    comment = post(p.bob, p.article, "Thanks @nobody-here and @zed!")
    assert about(comment) == {"writer": ARTICLE_COMMENT}
    assert "<a" not in comment.body_html
    assert "@nobody-here" in comment.body_html and "@zed" in comment.body_html


def test_mentioning_yourself_tells_nobody(p):
    comment = post(p.bob, p.article, "As @bob said before: me.")
    assert about(comment) == {"writer": ARTICLE_COMMENT}
    assert kinds_for(p.bob) == []


def test_a_deleted_account_is_not_mentioned(p):
    p.carol.deleted_at = utcnow()
    db.session.commit()
    comment = post(p.bob, p.article, "Where did @carol go?")
    assert "carol" not in about(comment)
    assert 'href="/users/carol"' not in comment.body_html


@pytest.mark.parametrize(
    "body",
    [
        "Type `@carol` to mention her.",
        "Double ticks: ``@carol``.",
        "Inline code over lines: `one\n@carol two`.",
        "```\n@carol in a fenced block\n```",
        "~~~\n@carol in a tilde fence\n~~~",
        "Before.\n\n    @carol in an indented block",
        "[@carol](https://example.com/) is a link's text.",
        "Write to carol@example.com.",
        "See https://example.com/@carol for the profile.",
    ],
)
def test_mentions_inside_code_links_and_addresses_do_not_count(p, body):
    comment = post(p.bob, p.article, body)
    assert "carol" not in about(comment)
    assert 'href="/users/carol"' not in comment.body_html


@pytest.mark.parametrize(
    "body",
    [
        "Plain @carol",
        "**@carol** in bold",
        "> quoting @carol",
        "- a list item for @carol",
        r"Escaped ticks \`@carol\` are not code.",
        "@carol, at the very start",
        "(@carol)",
        "&#64;carol, written as an entity",
    ],
)
def test_a_mention_that_is_linked_is_a_mention_that_notifies(p, body):
    comment = post(p.bob, p.article, body)
    assert 'href="/users/carol"' in comment.body_html
    assert about(comment)["carol"] is MENTION


def test_mentioned_names_agree_with_the_links_the_renderer_makes(p):
    """The names that notify are exactly the names the comment shows as profile links."""
    body = (
        "Hi @alice, `@bob`, ``@carol``, [@writer](https://e.org), moderator@example.com,\n\n"
        "    @moderator in code\n\n"
        r"and \`@bob\`."
    )
    found = mentions.mentioned_names(body)
    html = threads.render_body(body)
    linked = {name for name in ("alice", "bob", "carol", "writer", "moderator")}
    linked = {name for name in linked if f'href="/users/{name}"' in html}
    assert found == linked == {"alice", "bob"}


@pytest.mark.parametrize("action", ["post", "edit"])
def test_a_comment_with_mentions_is_rendered_once(p, monkeypatch, action):
    """Finding the @names and making the HTML are one pass; linking them is not a render."""
    comment = post(p.bob, p.article, "First words.") if action == "edit" else None
    renders = []
    original = sanitize._render
    monkeypatch.setattr(sanitize, "_render", lambda *args: renders.append(args) or original(*args))
    body = "Thanks @carol and @nobody-here!"
    if action == "post":
        comment = post(p.bob, p.article, body)
    else:
        threads.edit_comment(p.bob, comment, body)
    assert len(renders) == 1
    assert 'href="/users/carol"' in comment.body_html
    assert about(comment)["carol"] is MENTION


def test_a_mention_added_by_an_edit_tells_the_person_named_and_nobody_else(p):
    first = post(p.alice, p.article, "A question.")
    comment = post(p.bob, p.article, "Who knows? Ask @alice.", first)
    community.follow(p.carol, p.article)  # after the comment: not told about it by the edit
    dave = make_user("dave")
    threads.edit_comment(p.bob, comment, "Who knows? @alice, @dave, @carol, @bob or @nobody.")
    assert 'href="/users/dave"' in comment.body_html
    assert about(comment) == {
        "alice": REPLY,  # told once, as before the edit
        "writer": FOLLOWED,
        "dave": MENTION,
        "carol": MENTION,
    }
    assert only(dave, MENTION).actor_id == p.bob.id
    # Editing again tells nobody twice.
    threads.edit_comment(p.bob, comment, "Who knows? @dave and @carol, again.")
    assert notifications.unread_count(dave) == 1


def test_edits_tell_at_most_max_mentions_people_over_a_comments_lifetime(p):
    """Editing ten new names in each time once reached 60 people from one comment; the cap
    counts every version: the original's mentions and each edit's."""
    people = [make_user(f"person{n:02d}") for n in range(35)]
    names = [person.username for person in people]
    comment = post(p.bob, p.article, "Hello " + " ".join(f"@{n}" for n in names[:4]))
    mentioned = {name for name, kind in about(comment).items() if kind is MENTION}
    assert mentioned == set(names[:4])
    for start in (4, 14, 24):
        batch = names[start : start + 10]
        threads.edit_comment(p.bob, comment, "Hello " + " ".join(f"@{n}" for n in batch))
    mentioned = {name for name, kind in about(comment).items() if kind is MENTION}
    assert len(mentioned) == mentions.MAX_MENTIONS
    assert mentioned == set(names[: mentions.MAX_MENTIONS])  # the first come, in order


def test_a_late_fan_out_after_edits_keeps_to_the_lifetime_cap(p):
    """Posting's notifications go out after the response: edits made before they do must
    not let the fan-out mention ten more people."""
    people = [make_user(f"late{n:02d}") for n in range(20)]
    comment = post(p.bob, p.article, "Hello.")
    comment.notified_at = None  # as if the fan-out after posting hadn't run yet
    db.session.commit()
    for batch in (people[:10], people[10:]):
        body = "Hello " + " ".join(f"@{person.username}" for person in batch)
        threads.edit_comment(p.bob, comment, body)
    notifications.fan_out(comment.id)
    mentioned = {name for name, kind in about(comment).items() if kind is MENTION}
    assert mentioned == {person.username for person in people[:10]}


def test_following_a_discussion_tells_you_about_every_new_comment(p):
    community.follow(p.carol, p.article)
    top = post(p.alice, p.article, "top-level")
    reply = post(p.bob, p.article, "a reply", top)
    assert about(top) == {"writer": ARTICLE_COMMENT, "carol": FOLLOWED}
    assert about(reply) == {"alice": REPLY, "writer": FOLLOWED, "carol": FOLLOWED}


def test_the_author_hears_of_top_level_comments_and_not_of_replies_unless_following(p):
    community.unfollow(p.writer, p.article)
    top = post(p.alice, p.article)
    reply = post(p.bob, p.article, "reply", top)
    assert about(top) == {"writer": ARTICLE_COMMENT}
    assert about(reply) == {"alice": REPLY}


def test_deleted_accounts_hear_nothing(p):
    community.follow(p.carol, p.article)
    first = post(p.alice, p.article)
    for gone in (p.carol, p.alice):
        gone.deleted_at = utcnow()
    db.session.commit()
    reply = post(p.bob, p.article, "reply to a deleted account, cc @carol", first)
    assert about(reply) == {"writer": FOLLOWED}


def test_unfollowing_stops_the_notifications(p):
    community.follow(p.carol, p.article)
    community.unfollow(p.carol, p.article)
    assert "carol" not in about(post(p.alice, p.article))


# --- once per person, the most specific reason ------------------------------------------


def test_the_parent_author_who_is_also_mentioned_and_following_gets_one_reply_note(p):
    community.follow(p.alice, p.article)
    first = post(p.alice, p.article)
    reply = post(p.bob, p.article, "@alice: here you are, @ALICE", first)
    assert about(reply) == {"alice": REPLY, "writer": FOLLOWED}
    assert kinds_for(p.alice) == [(REPLY, reply.id)]


def test_the_article_author_who_is_mentioned_gets_one_mention_note(p):
    comment = post(p.alice, p.article, "@writer, a question for you")
    assert about(comment) == {"writer": MENTION}


def test_a_follower_who_is_mentioned_gets_one_mention_note(p):
    community.follow(p.carol, p.article)
    comment = post(p.alice, p.article, "@carol agrees")
    assert about(comment) == {"writer": ARTICLE_COMMENT, "carol": MENTION}


def test_the_following_article_author_gets_one_article_comment_note(p):
    assert community.is_following(p.writer, p.article)
    comment = post(p.alice, p.article)
    assert about(comment) == {"writer": ARTICLE_COMMENT}


def test_telling_again_about_the_same_comment_adds_nothing(p):
    comment = post(p.alice, p.article, "@carol look")
    before = notification_rows()
    assert notifications.notify_new_comment(comment, mentions.resolve({"carol"})) == []
    db.session.commit()
    assert notification_rows() == before


# --- never for your own actions -----------------------------------------------------------


def test_the_author_commenting_on_their_own_article_hears_nothing(p):
    top = post(p.writer, p.article, "Author's note: @writer")
    assert about(top) == {}


def test_replying_to_your_own_comment_tells_you_nothing(p):
    first = post(p.alice, p.article)
    reply = post(p.alice, p.article, "Also, I forgot...", first)
    assert "alice" not in about(reply)
    assert kinds_for(p.alice) == []


def test_a_follower_is_not_told_about_their_own_comment(p):
    community.follow(p.carol, p.article)
    assert about(post(p.carol, p.article)) == {"writer": ARTICLE_COMMENT}


def test_a_moderator_hiding_their_own_comment_tells_nobody(p):
    comment = post(p.mod, p.article)
    moderation.hide_comment(p.mod, comment, "off-topic")
    moderation.unhide_comment(p.mod, comment)
    assert kinds_for(p.mod) == []


# --- pending and hidden comments ----------------------------------------------------------


def test_a_pending_comment_tells_nobody_until_it_is_approved(p):
    community.follow(p.carol, p.article)
    first = post(p.alice, p.article, "Welcome!")
    newcomer = make_user("newcomer")
    pending = post(newcomer, p.article, "Thanks @bob!", first, settings=PREMODERATED)
    assert pending.status is CommentStatus.PENDING
    assert about(pending) == {}
    assert notifications.unread_count(p.alice) == 0

    premoderation.approve_comment(p.mod, pending)
    assert about(pending) == {
        "alice": REPLY,
        "bob": MENTION,
        "writer": FOLLOWED,
        "carol": FOLLOWED,
    }
    note = only(p.alice, REPLY)
    assert note.actor_id == newcomer.id  # from the comment's author, not the moderator


def test_a_pending_comment_edited_to_mention_someone_tells_them_only_once_approved(p):
    newcomer = make_user("newcomer")
    pending = post(newcomer, p.article, "Hello", settings=PREMODERATED)
    threads.edit_comment(newcomer, pending, "Hello @carol")
    assert about(pending) == {}
    premoderation.approve_comment(p.mod, pending)
    assert about(pending) == {"carol": MENTION, "writer": ARTICLE_COMMENT}


def test_a_pending_top_level_comment_tells_the_article_author_once_approved(p):
    pending = post(make_user("newcomer"), p.article, "Hello", settings=PREMODERATED)
    assert about(pending) == {}
    premoderation.approve_comment(p.mod, pending)
    assert about(pending) == {"writer": ARTICLE_COMMENT}


def test_a_rejected_comment_never_tells_anyone(p):
    pending = post(make_user("newcomer"), p.article, "Buy @carol stuff", settings=PREMODERATED)
    premoderation.reject_comment(p.mod, pending, "spam")
    assert about(pending) == {}


def test_approving_a_reply_to_a_since_hidden_comment_does_not_tell_its_author(p):
    first = post(p.alice, p.article)
    pending = post(make_user("newcomer"), p.article, "reply", first, settings=PREMODERATED)
    moderation.hide_comment(p.mod, first, "abuse")
    premoderation.approve_comment(p.mod, pending)
    assert "alice" not in about(pending)


def test_notes_about_a_comment_that_gets_hidden_leave_the_inbox_and_come_back(p):
    first = post(p.alice, p.article)
    reply = post(p.bob, p.article, "Rude @carol", first)
    assert notifications.unread_count(p.alice) == 1
    assert notifications.unread_count(p.carol) == 1

    moderation.hide_comment(p.mod, reply, "abuse")
    for reader in (p.alice, p.carol):
        assert notifications.unread_count(reader) == 0
        assert kinds_for(reader) == []
        assert notifications.page_for(reader, 1, 10).total == 0
    # The writer still hears about alice's comment, not about the hidden reply.
    assert kinds_for(p.writer) == [(ARTICLE_COMMENT, first.id)]

    moderation.unhide_comment(p.mod, reply)
    assert kinds_for(p.alice) == [(REPLY, reply.id)]
    assert notifications.unread_count(p.carol) == 1


def test_notes_about_a_deleted_comment_leave_the_inbox(p):
    first = post(p.alice, p.article)
    reply = post(p.bob, p.article, "oops", first)
    threads.delete_comment(p.bob, reply)
    assert kinds_for(p.alice) == []
    assert notifications.unread_count(p.alice) == 0


# --- moderators' actions ------------------------------------------------------------------


def test_hiding_tells_the_author_the_reason_but_not_the_private_note(p):
    comment = post(p.alice, p.article)
    moderation.hide_comment(p.mod, comment, "off-topic", "internal: third warning")
    note = only(p.alice, HIDDEN)
    assert note.detail == "off topic"
    assert note.actor_id == p.mod.id and note.comment_id == comment.id
    assert "warning" not in note.detail
    # The author still sees it although the comment is hidden: it is about them.
    assert notifications.unread_count(p.alice) == 1


def test_restoring_tells_the_author(p):
    comment = post(p.alice, p.article)
    moderation.hide_comment(p.mod, comment, "spam")
    moderation.unhide_comment(p.mod, comment)
    assert [kind for kind, _ in kinds_for(p.alice)] == [RESTORED, HIDDEN]
    assert only(p.alice, RESTORED).actor_id == p.mod.id


@pytest.mark.parametrize(
    ("grant", "status", "detail"),
    [
        (True, CommentStatus.VISIBLE, "appeal granted: shown again"),
        (False, CommentStatus.HIDDEN, "appeal denied: stays hidden"),
    ],
)
def test_an_appeal_decision_tells_the_author(p, grant, status, detail):
    comment = post(p.alice, p.article)
    moderation.hide_comment(p.mod, comment, "spam")
    item: Appeal = appeals.appeal(p.alice, comment, "It was a real question.")
    appeals.decide_appeal(p.mod, item, grant=grant)
    assert comment.status is status
    note = only(p.alice, APPEAL_DECIDED)
    assert note.detail == detail and note.actor_id == p.mod.id


def test_a_comment_hidden_restored_and_hidden_again_tells_its_author_each_time(p):
    comment = post(p.alice, p.article)
    moderation.hide_comment(p.mod, comment, "spam")
    moderation.unhide_comment(p.mod, comment)
    notifications.mark_all_read(p.alice)
    moderation.hide_comment(p.mod, comment, "abuse")
    assert comment.status is CommentStatus.HIDDEN
    assert notifications.unread_count(p.alice) == 1
    newest = notifications.page_for(p.alice, 1, 10).items[0]
    assert (newest.kind, newest.detail, newest.read_at) == (HIDDEN, "abuse", None)
    moderation.unhide_comment(p.mod, comment)
    assert notifications.unread_count(p.alice) == 2
    assert notifications.page_for(p.alice, 1, 10).items[0].kind is RESTORED


# --- reading, counting and paging --------------------------------------------------------


def test_mark_one_read(p):
    first = post(p.alice, p.article)
    post(p.bob, p.article, "one", first)
    post(p.carol, p.article, "two", first)
    newest, older = notifications.page_for(p.alice, 1, 10).items
    assert notifications.unread_count(p.alice) == 2

    assert notifications.mark_read(p.alice, older.id) is True
    assert notifications.unread_count(p.alice) == 1
    assert older.read_at is not None and newest.read_at is None
    # Again: nothing left to mark, and the time it was read stays.
    read_at = older.read_at
    assert notifications.mark_read(p.alice, older.id) is False
    db.session.refresh(older)
    assert older.read_at == read_at


def test_mark_read_refuses_someone_elses_notification(p):
    post(p.alice, p.article)
    note = only(p.writer, ARTICLE_COMMENT)
    assert notifications.mark_read(p.alice, note.id) is False
    assert notifications.mark_read(p.alice, 999_999) is False
    db.session.refresh(note)
    assert note.read_at is None
    assert notifications.unread_count(p.writer) == 1


def test_mark_all_read_touches_only_your_own(p):
    first = post(p.alice, p.article)
    for speaker in (p.bob, p.carol, p.mod):
        post(speaker, p.article, "reply", first)
    assert notifications.unread_count(p.alice) == 3
    assert notifications.unread_count(p.writer) == 4

    assert notifications.mark_all_read(p.alice) == 3
    assert notifications.unread_count(p.alice) == 0
    assert notifications.unread_count(p.writer) == 4
    # Read ones are kept.
    assert len(kinds_for(p.alice)) == 3
    assert notifications.mark_all_read(p.alice) == 0


def test_old_notifications_are_kept_and_paged_newest_first(p):
    replies = []
    first = post(p.alice, p.article)
    for i in range(7):
        replies.append(post(p.bob if i % 2 else p.carol, p.article, f"reply {i}", first))
    notifications.mark_all_read(p.alice)

    pages = [notifications.page_for(p.alice, n, 3) for n in (1, 2, 3)]
    assert [page.total for page in pages] == [7, 7, 7]
    assert pages[0].pages == 3
    seen = [n.comment_id for page in pages for n in page.items]
    assert seen == [c.id for c in reversed(replies)]
    assert [len(page.items) for page in pages] == [3, 3, 1]
    # Past the end: no such page (the view's 404).
    with pytest.raises(NotFound):
        notifications.page_for(p.alice, 9, 3)
