"""The author's desk: the comments waiting for an answer, new-since-last-visit counts, the
"mark all as seen" button, and a fixed number of queries however many comments there are."""

from datetime import timedelta

import lxml.html
import pytest
from sqlalchemy import event

from forum.extensions import db
from forum.models import Comment, CommentStatus, Role, User, utcnow
from forum.services import author_desk, moderation, threads
from tests.conftest import client_as, login, make_article, make_user

# --- helpers -----------------------------------------------------------------------------


@pytest.fixture
def cast(app):
    """An author with two articles, two readers and a moderator."""
    ann = make_user("ann", role=Role.AUTHOR)
    return {
        "ann": ann,
        "rex": make_user("rex"),
        "sue": make_user("sue"),
        "mod": make_user("mod", role=Role.MODERATOR),
        "first": make_article(ann, slug="first", title="First Article"),
        "second": make_article(ann, slug="second", title="Second Article"),
    }


def say(author: User, article, body: str, parent: Comment | None = None, ago=None) -> Comment:
    comment = threads.post_comment(author, article, body, parent_id=parent.id if parent else None)
    if ago is not None:
        comment.created_at = utcnow() - ago
        db.session.commit()
    return comment


def desk_doc(app, user) -> lxml.html.HtmlElement:
    response = client_as(app, user).get("/author")
    assert response.status_code == 200
    return lxml.html.fromstring(response.get_data(as_text=True))


def waiting_ids(app, user) -> list[int]:
    doc = desk_doc(app, user)
    return [
        int(li.get("id").removeprefix("waiting-")) for li in doc.xpath('//li[@class="waiting"]')
    ]


def counts(app, user, slug: str) -> tuple[int, int]:
    """(comments, new) shown for one article on the desk."""
    [item] = desk_doc(app, user).xpath(f'//li[@id="desk-article-{slug}"]')
    new = item.xpath('.//*[@class="new-count"]')
    return (
        int(item.xpath('.//*[@class="comment-count"]')[0].text),
        int(new[0].text) if new else 0,
    )


# --- who gets a desk ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "status"),
    [(Role.READER, 403), (Role.AUTHOR, 200), (Role.MODERATOR, 200), (Role.ADMIN, 200)],
)
def test_the_desk_is_for_authors_moderators_and_admins(app, role, status):
    assert client_as(app, make_user(role=role)).get("/author").status_code == status


def test_visitors_are_sent_to_log_in(app):
    response = client_as(app).get("/author")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def test_an_author_without_articles_is_invited_to_write(app):
    doc = desk_doc(app, make_user(role=Role.AUTHOR))
    assert doc.xpath('//main//a[@href="/articles/new"]')
    assert "Nothing is waiting" in doc.text_content()


# --- the unanswered list -----------------------------------------------------------------


def test_unanswered_top_level_comments_are_listed_oldest_first(app, cast):
    newer = say(cast["rex"], cast["second"], "Second question?", ago=timedelta(hours=1))
    older = say(cast["sue"], cast["first"], "First question?", ago=timedelta(hours=5))
    middle = say(cast["rex"], cast["first"], "Another?", ago=timedelta(hours=3))
    assert waiting_ids(app, cast["ann"]) == [older.id, middle.id, newer.id]


def test_each_waiting_comment_has_a_reply_link_and_a_link_in_context(app, cast):
    comment = say(cast["rex"], cast["first"], "A question?")
    doc = desk_doc(app, cast["ann"])
    [item] = doc.xpath(f'//li[@id="waiting-{comment.id}"]')
    hrefs = item.xpath(".//a/@href")
    assert f"/comments/{comment.id}/reply" in hrefs
    assert f"/comments/{comment.id}" in hrefs
    assert "/articles/first" in hrefs
    assert "A question?" in item.text_content()


def test_an_answered_comment_drops_off(app, cast):
    by_reader = say(cast["rex"], cast["first"], "Answered by a reader?")
    by_author = say(cast["rex"], cast["first"], "Answered by the author?")
    waiting = say(cast["rex"], cast["first"], "Still waiting?")
    assert waiting_ids(app, cast["ann"]) == [by_reader.id, by_author.id, waiting.id]
    say(cast["sue"], cast["first"], "Here is an answer.", parent=by_reader)
    say(cast["ann"], cast["first"], "Thanks for asking.", parent=by_author)
    assert waiting_ids(app, cast["ann"]) == [waiting.id]


def test_a_follow_up_by_the_commenter_is_not_an_answer(app, cast):
    question = say(cast["rex"], cast["first"], "A question?")
    say(cast["rex"], cast["first"], "Edit: and another thing.", parent=question)
    assert waiting_ids(app, cast["ann"]) == [question.id]


def test_an_answer_that_was_hidden_or_deleted_does_not_count(app, cast):
    question = say(cast["rex"], cast["first"], "A question?")
    hidden_answer = say(cast["sue"], cast["first"], "Spam answer.", parent=question)
    moderation.hide_comment(cast["mod"], hidden_answer, "spam")
    deleted_answer = say(cast["sue"], cast["first"], "Withdrawn answer.", parent=question)
    threads.delete_comment(cast["sue"], deleted_answer)
    assert waiting_ids(app, cast["ann"]) == [question.id]


def test_hidden_deleted_pending_and_own_comments_never_show(app, cast):
    hidden = say(cast["rex"], cast["first"], "Hidden @ann?")
    moderation.hide_comment(cast["mod"], hidden, "abuse")
    deleted = say(cast["rex"], cast["first"], "Deleted @ann?")
    threads.delete_comment(cast["rex"], deleted)
    threads.post_comment(
        cast["sue"],
        cast["first"],
        "Pending @ann?",
        settings=threads.DiscussionSettings(premoderate_first=5),
    )
    say(cast["ann"], cast["first"], "My own note, @ann.")
    assert waiting_ids(app, cast["ann"]) == []


def test_comments_on_other_authors_articles_are_not_on_the_desk(app, cast):
    other = make_article(make_user(role=Role.AUTHOR), slug="other")
    say(cast["rex"], other, "A question for someone else, @ann?")
    # A mention on someone else's article belongs to the notifications, not the desk.
    assert waiting_ids(app, cast["ann"]) == []


def test_questions_addressed_to_the_author_appear_at_any_depth(app, cast):
    top = say(cast["rex"], cast["first"], "Top.", ago=timedelta(hours=4))
    answer = say(cast["sue"], cast["first"], "An answer.", parent=top, ago=timedelta(hours=3))
    deep = say(cast["rex"], cast["first"], "What do you think, @ANN?", parent=answer)
    # ``top`` is answered (by sue); ``deep`` is a reply but names the author.
    assert waiting_ids(app, cast["ann"]) == [deep.id]
    doc = desk_doc(app, cast["ann"])
    assert "Mentions you" in doc.get_element_by_id(f"waiting-{deep.id}").text_content()


def test_a_question_drops_off_once_the_author_replies_to_it(app, cast):
    top = say(cast["rex"], cast["first"], "Top.")
    answer = say(cast["sue"], cast["first"], "An answer.", parent=top)
    deep = say(cast["rex"], cast["first"], "@ann, is that right?", parent=answer)
    assert waiting_ids(app, cast["ann"]) == [deep.id]
    say(cast["sue"], cast["first"], "Someone else's reply is not the author's.", parent=deep)
    assert waiting_ids(app, cast["ann"]) == [deep.id]
    say(cast["ann"], cast["first"], "Yes.", parent=deep)
    assert waiting_ids(app, cast["ann"]) == []


def test_a_mentioning_top_level_comment_waits_until_the_author_answers(app, cast):
    question = say(cast["rex"], cast["first"], "@ann, a question.")
    say(cast["sue"], cast["first"], "I'll take this one.", parent=question)
    # Answered by a reader, but it asked the author: it still waits for her.
    assert waiting_ids(app, cast["ann"]) == [question.id]
    say(cast["ann"], cast["first"], "Answered.", parent=question)
    assert waiting_ids(app, cast["ann"]) == []


@pytest.mark.parametrize(
    "body",
    [
        "Ask @annabel instead.",  # a longer name
        "Write `@ann` in code.",
        "Mail ann@ann.example.",  # an address, not a mention
        "```\n@ann\n```",
    ],
)
def test_things_that_only_look_like_mentions_are_not_questions(app, cast, body):
    make_user("annabel")
    top = say(cast["sue"], cast["first"], "Top.")
    say(cast["ann"], cast["first"], "Answered.", parent=top)
    say(cast["rex"], cast["first"], body, parent=top)
    assert waiting_ids(app, cast["ann"]) == []


def test_a_username_with_like_wildcards_matches_only_itself(app):
    author = make_user("a_b", role=Role.AUTHOR)
    article = make_article(author, slug="wild")
    top = say(make_user("zed"), article, "Top.")
    say(author, article, "Answer.", parent=top)
    say(make_user("yan"), article, "Hello @axb, not you.", parent=top)
    real = say(make_user("xan"), article, "Hello @a_b!", parent=top)
    assert waiting_ids(app, author) == [real.id]


def test_the_waiting_list_is_capped_and_says_so(app, cast, monkeypatch):
    monkeypatch.setattr(author_desk, "WAITING_LIMIT", 3)
    made = [
        say(cast["rex"], cast["first"], f"Q{i}?", ago=timedelta(minutes=10 - i)) for i in range(5)
    ]
    doc = desk_doc(app, cast["ann"])
    shown = [
        int(li.get("id").removeprefix("waiting-")) for li in doc.xpath('//li[@class="waiting"]')
    ]
    assert shown == [c.id for c in made[:3]]
    assert "Only the oldest 3" in doc.text_content()


# --- counts and "mark all as seen" -------------------------------------------------------


def test_articles_show_visible_comment_counts_and_new_counts(app, cast):
    say(cast["rex"], cast["first"], "One.")
    say(cast["sue"], cast["first"], "Two.")
    hidden = say(cast["sue"], cast["first"], "Hidden.")
    moderation.hide_comment(cast["mod"], hidden, "spam")
    say(cast["ann"], cast["first"], "The author's own comment.")
    assert counts(app, cast["ann"], "first") == (3, 2)  # her own comment is not news to her
    assert counts(app, cast["ann"], "second") == (0, 0)


def test_looking_at_the_desk_changes_nothing(app, cast):
    say(cast["rex"], cast["first"], "One.")
    client = client_as(app, cast["ann"])
    client.get("/author")
    client.get("/author")
    db.session.refresh(cast["ann"])
    assert cast["ann"].desk_seen_at is None
    assert counts(app, cast["ann"], "first") == (1, 1)


def test_mark_all_as_seen_resets_the_new_counts_until_the_next_comment(app, cast):
    say(cast["rex"], cast["first"], "One.", ago=timedelta(minutes=5))
    say(cast["sue"], cast["second"], "Two.", ago=timedelta(minutes=5))
    assert counts(app, cast["ann"], "first") == (1, 1)
    response = client_as(app, cast["ann"]).post("/author/seen")
    assert response.status_code == 302
    assert response.headers["Location"] == "/author"
    assert counts(app, cast["ann"], "first") == (1, 0)
    assert counts(app, cast["ann"], "second") == (1, 0)
    say(cast["rex"], cast["second"], "Three.")
    assert counts(app, cast["ann"], "second") == (2, 1)
    doc = desk_doc(app, cast["ann"])
    assert doc.xpath('//form[@action="/author/seen"]')


def test_a_comment_posted_after_the_desk_was_shown_stays_new(app, cast):
    """The button marks up to when the page was loaded, not to when it was clicked."""
    doc = desk_doc(app, cast["ann"])
    [until] = doc.xpath('//form[@action="/author/seen"]//input[@name="until"]/@value') or [
        utcnow().isoformat()
    ]
    late = say(cast["rex"], cast["first"], "Posted while the author was reading.")
    late.created_at = utcnow() + timedelta(seconds=1)
    db.session.commit()
    client_as(app, cast["ann"]).post("/author/seen", data={"until": until})
    assert counts(app, cast["ann"], "first") == (1, 1)


def test_a_bad_until_value_marks_up_to_now(app, cast):
    say(cast["rex"], cast["first"], "One.", ago=timedelta(minutes=1))
    client_as(app, cast["ann"]).post("/author/seen", data={"until": "yesterday-ish"})
    assert counts(app, cast["ann"], "first") == (1, 0)


def test_the_seen_mark_never_moves_backwards(app, cast):
    later = utcnow()
    author_desk.mark_seen(cast["ann"], later)
    author_desk.mark_seen(cast["ann"], later - timedelta(days=3))
    assert cast["ann"].desk_seen_at == later


def test_new_waiting_comments_are_marked_new(app, cast):
    old = say(cast["rex"], cast["first"], "Old?", ago=timedelta(hours=2))
    author_desk.mark_seen(cast["ann"], utcnow() - timedelta(hours=1))
    new = say(cast["sue"], cast["first"], "New?")
    doc = desk_doc(app, cast["ann"])

    def badged(comment):
        return bool(
            doc.xpath(f'//li[@id="waiting-{comment.id}"]//*[contains(@class, "badge-new")]')
        )

    assert (badged(old), badged(new)) == (False, True)


# --- a fixed number of queries -----------------------------------------------------------

_NOT_QUERIES = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")


def add_comments(article_ids: list[int], author: User, others: list[User], n: int) -> None:
    """``n`` comments of every kind the desk looks at: unanswered, answered, mentioning the
    author, hidden; inserted directly (the thing measured is the desk, not posting)."""
    start = utcnow() - timedelta(days=1)
    tops = []
    for i in range(n):
        status = CommentStatus.HIDDEN if i % 7 == 3 else CommentStatus.VISIBLE
        tops.append(
            Comment(
                article_id=article_ids[i % len(article_ids)],
                author_id=others[i % len(others)].id,
                depth=0,
                body_md=f"Question {i} for @{author.username}?" if i % 3 == 0 else f"Top {i}",
                body_html=f"<p>Top {i}</p>",
                status=status,
                created_at=start + timedelta(seconds=i),
            )
        )
    db.session.add_all(tops)
    db.session.flush()
    replies = [
        Comment(
            article_id=top.article_id,
            author_id=others[(i + 1) % len(others)].id,
            parent_id=top.id,
            root_id=top.id,
            depth=1,
            body_md=f"Reply, @{author.username}" if i % 4 == 0 else "Reply",
            body_html="<p>Reply</p>",
            created_at=start + timedelta(seconds=n + i),
        )
        for i, top in enumerate(tops)
        if i % 2 == 0
    ]
    db.session.add_all(replies)
    db.session.commit()


def statements_for_desk(app, user_id: int) -> tuple[int, int]:
    """(SQL statements, waiting comments) for one desk request, in a fresh context."""
    with app.app_context():
        engine = db.engine
        user = db.session.get(User, user_id)
        client = app.test_client()
        login(client, user)
    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        if not statement.lstrip().upper().startswith(_NOT_QUERIES):
            statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        response = client.get("/author")
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert response.status_code == 200
    doc = lxml.html.fromstring(response.get_data(as_text=True))
    return len(statements), len(doc.xpath('//li[@class="waiting"]'))


def test_the_desk_costs_the_same_number_of_queries_for_5_or_200_comments(app_factory):
    app = app_factory()
    measured = {}
    for size in (5, 200):
        with app.app_context():
            author = make_user(f"writer{size}", role=Role.AUTHOR)
            others = [make_user(f"r{size}x{i}") for i in range(4)]
            ids = [make_article(author, slug=f"a{size}-{i}").id for i in range(3)]
            add_comments(ids, author, others, size)
            author_id = author.id
        measured[size] = statements_for_desk(app, author_id)
    (small, small_waiting), (large, large_waiting) = measured[5], measured[200]
    assert large_waiting > small_waiting  # the bigger desk really shows more
    assert small == large, f"{small} statements for 5 comments, {large} for 200"
    assert large <= 6  # the user, the unread count, the articles, the counts, the waiting list
