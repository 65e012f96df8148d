"""State changes that hinge on a read, raced by threads (each with its own app context and
session, released together by a barrier).

SQLite serializes writers, so these hold there anyway; on PostgreSQL (run the file with
FORUM_TEST_DATABASE_URL) they need the row locks and the unique-violation handling: a reset
link works once, a comment is hidden once, no edit's text is lost, a double report or appeal
is the normal "already done" answer (409), never a 500."""

import time

import pytest
from sqlalchemy import func, select

from forum.extensions import db, passwords
from forum.models import (
    Appeal,
    Comment,
    CommentRevision,
    ModAction,
    ModerationAction,
    Report,
    Role,
    User,
)
from forum.services import accounts, appeals, mail_accounts, moderation, threads, tokens
from forum.services.errors import Conflict, ValidationFailed
from forum.services.tokens import InvalidToken, TokenSettings
from tests.conftest import login, make_article, make_user
from tests.race_support import race


@pytest.fixture
def racing_app(app_factory):
    """An app with no context pushed: every thread pushes its own."""
    return app_factory()


def scalar(app, query):
    with app.app_context():
        value = db.session.scalar(query)
        db.session.remove()
        return value


def _setup(app):
    with app.app_context():
        author = make_user("author")
        reader = make_user("reader")
        moderators = [make_user(f"mod{i}", role=Role.MODERATOR) for i in range(4)]
        article = make_article(slug="raced")
        comment = threads.post_comment(author, article, "The original text")
        ids = {
            "author": author.id,
            "reader": reader.id,
            "moderators": [m.id for m in moderators],
            "comment": comment.id,
        }
        db.session.remove()
    return ids


def test_a_reset_link_used_twice_at_once_works_once(racing_app, monkeypatch):
    app = racing_app
    ids = _setup(app)
    # Real argon2 takes ~150 ms between the check and the write; the tests' cheap
    # parameters would hide the window the two requests race through.
    fast_hash = passwords.hash
    monkeypatch.setattr(passwords, "hash", lambda text: time.sleep(0.2) or fast_hash(text))
    with app.app_context():
        settings = TokenSettings.from_config(app.config)
        token = tokens.for_password_reset(settings, db.session.get(User, ids["author"]))
        db.session.remove()

    results = race(
        app,
        2,
        lambda i: (f"brand new password {i}",),
        lambda password: mail_accounts.reset_password(token, password, settings, None),
    )
    failures = [r for r in results if isinstance(r, Exception)]
    assert len(failures) == 1, results
    assert isinstance(failures[0], InvalidToken)


def test_parallel_hides_of_one_comment_log_one_action(racing_app):
    app = racing_app
    ids = _setup(app)

    def prepare(i):
        actor = db.session.get(User, ids["moderators"][i])
        comment = db.session.get(Comment, ids["comment"])
        assert comment.is_visible
        return actor, comment

    results = race(
        app, 4, prepare, lambda actor, comment: moderation.hide_comment(actor, comment, "spam")
    )
    assert sum(isinstance(r, Comment) for r in results) == 1, results
    assert all(isinstance(r, Comment | Conflict) for r in results), results
    hides = select(func.count(ModerationAction.id)).where(ModerationAction.action == ModAction.HIDE)
    assert scalar(app, hides) == 1


def test_parallel_edits_keep_every_text_in_the_history(racing_app):
    app = racing_app
    ids = _setup(app)
    count = 6

    def prepare(i):
        author = db.session.get(User, ids["author"])
        comment = db.session.get(Comment, ids["comment"])
        assert comment.body_md == "The original text"
        return author, comment, f"Edited text number {i}"

    results = race(
        app,
        count,
        prepare,
        lambda author, comment, body: threads.edit_comment(author, comment, body),
    )
    assert all(isinstance(r, Comment) for r in results), results
    with app.app_context():
        comment = db.session.get(Comment, ids["comment"])
        kept = db.session.scalars(
            select(CommentRevision.body_md).where(CommentRevision.comment_id == comment.id)
        ).all()
        texts = [*kept, comment.body_md]
        db.session.remove()
    assert len(kept) == count
    assert sorted(texts) == sorted(
        ["The original text", *(f"Edited text number {i}" for i in range(count))]
    )


def test_tabs_editing_from_one_revision_at_once_save_one_and_refuse_the_rest(racing_app):
    """The revision check runs under the row lock: of several edits started from the same
    text, exactly one is saved and the others are told, none overwritten."""
    app = racing_app
    ids = _setup(app)
    count = 4

    def prepare(i):
        author = db.session.get(User, ids["author"])
        comment = db.session.get(Comment, ids["comment"])
        return author, comment, f"Tab {i}'s text", threads.revision_of(comment)

    results = race(
        app,
        count,
        prepare,
        lambda author, comment, body, started: threads.edit_comment(
            author, comment, body, base_revision=started
        ),
    )
    saved = [r for r in results if isinstance(r, Comment)]
    refused = [r for r in results if isinstance(r, threads.EditedElsewhere)]
    assert len(saved) == 1 and len(refused) == count - 1, results
    revisions = select(func.count(CommentRevision.id))
    assert scalar(app, revisions) == 1


def test_a_double_report_stores_one_and_answers_already_done(racing_app):
    app = racing_app
    ids = _setup(app)

    def prepare(i):
        return db.session.get(User, ids["reader"]), db.session.get(Comment, ids["comment"])

    results = race(
        app,
        4,
        prepare,
        lambda reader, comment: moderation.report_comment(reader, comment, "spam"),
    )
    assert sum(isinstance(r, Report) for r in results) == 1, results
    assert all(isinstance(r, Report | Conflict) for r in results), results
    assert scalar(app, select(func.count(Report.id))) == 1


def test_a_double_click_on_report_answers_already_reported_not_500(racing_app):
    app = racing_app
    ids = _setup(app)
    clients = []
    with app.app_context():
        reader = db.session.get(User, ids["reader"])
        for _ in range(4):
            client = app.test_client()
            login(client, reader)
            clients.append(client)
        db.session.remove()
    url = f"/comments/{ids['comment']}/flag"

    results = race(
        app,
        4,
        lambda i: (clients[i],),
        lambda client: client.post(url, data={"category": "spam"}).status_code,
    )
    # The clicks that lose are told "You have already reported this comment" (200).
    assert sorted(results) == [200, 200, 200, 302], results
    assert scalar(app, select(func.count(Report.id))) == 1


def test_a_double_appeal_stores_one_and_answers_already_done(racing_app):
    app = racing_app
    ids = _setup(app)
    with app.app_context():
        moderation.hide_comment(
            db.session.get(User, ids["moderators"][0]),
            db.session.get(Comment, ids["comment"]),
            "spam",
        )
        db.session.remove()

    def prepare(i):
        return db.session.get(User, ids["author"]), db.session.get(Comment, ids["comment"])

    results = race(
        app,
        4,
        prepare,
        lambda author, comment: appeals.appeal(author, comment, "Please look again."),
    )
    assert sum(isinstance(r, Appeal) for r in results) == 1, results
    assert all(isinstance(r, Appeal | Conflict) for r in results), results
    assert scalar(app, select(func.count(Appeal.id))) == 1


def test_two_replies_at_once_by_one_reader_are_both_stored(racing_app):
    """Replying follows the discussion (one follow per reader and article): replies at once
    by one reader are all stored. (They queue on the article's row, whose version each
    new comment bumps, so the second finds the first one's follow.)"""
    app = racing_app
    ids = _setup(app)

    def prepare(i):
        reader = db.session.get(User, ids["reader"])
        parent = db.session.get(Comment, ids["comment"])
        return reader, parent, f"Reply number {i}"

    results = race(
        app,
        4,
        prepare,
        lambda reader, parent, body: threads.post_comment(
            reader, parent.article, body, parent_id=parent.id
        ),
    )
    assert all(isinstance(r, Comment) for r in results), results
    replies = select(func.count(Comment.id)).where(Comment.parent_id == ids["comment"])
    assert scalar(app, replies) == 4


def test_two_look_alike_names_registered_at_once_make_one_account(racing_app):
    """Each registration checks the other's name before either is committed: on PostgreSQL
    the checks take turns (advisory locks), so the second sees the first's account."""
    names = ["theo", "the0", "THEO", "Th\u0435o"]

    def register(i: int):
        return accounts.register(f"member{i}", "a long passphrase", display_name=names[i])

    results = race(racing_app, len(names), lambda i: (i,), register)
    assert sum(isinstance(r, User) for r in results) == 1, results
    assert all(isinstance(r, User | ValidationFailed) for r in results), results
