"""``flask --app forum backup`` and ``restore``: a round trip gives back every row of every
table exactly, and a restore refuses a database that already has tables unless forced.

On SQLite always; on PostgreSQL (pg_dump/pg_restore) when FORUM_TEST_DATABASE_URL is set,
restoring into a fresh database made for the test."""

import re
from contextlib import contextmanager
from urllib.parse import urlsplit

import pytest
import redis
from flask import current_app
from sqlalchemy import text

from forum.extensions import db
from forum.mailing.links import EmailLinks
from forum.models import Role
from forum.models.users import EmailPreference
from forum.services import (
    appeals,
    articles,
    community,
    mail,
    moderation,
    premoderation,
    sanctions,
    threads,
    your_data,
)
from forum.services import backup as backup_service
from tests.conftest import (
    PASSWORD,
    TEST_DATABASE_URL,
    TEST_REDIS_URL,
    make_article,
    make_series,
    make_user,
    snapshot,
)
from tests.postgres_support import fresh_postgres_database

SETTINGS = threads.DiscussionSettings(premoderate_first=1, trusted_after=1, spam_checks=False)


def fill_database() -> None:
    """Users, articles, comments in every state, revisions, votes, reports, appeals,
    moderation actions, follows and notifications, all made through the services."""
    admin = make_user("admin", role=Role.ADMIN)
    moderator = make_user("mod", role=Role.MODERATOR)
    author = make_user("writer", role=Role.AUTHOR, email="writer@example.org")
    alice = make_user("alice", email="alice@example.org")
    alice.email_confirmed, alice.email_preference = True, EmailPreference.IMMEDIATE
    db.session.commit()
    bob, carol = make_user("bob"), make_user("carol")
    article = make_article(author, title="Round trip", series=make_series(), position=1)
    other = make_article(author, title="Locked one")

    # Alice's first comment waits for review (pre-moderation), approved: she is trusted.
    first = threads.post_comment(alice, article, "First, with **Markdown**.", settings=SETTINGS)
    premoderation.approve_comment(moderator, first)
    reply = threads.post_comment(bob, article, "A reply @alice", parent_id=first.id)
    threads.post_comment(alice, article, "Deeper.", parent_id=reply.id, settings=SETTINGS)
    threads.edit_comment(alice, first, "First, edited.", settings=SETTINGS)
    hidden = threads.post_comment(bob, article, "Rude words.", settings=SETTINGS)
    rejected = threads.post_comment(carol, article, "Buy things.", settings=SETTINGS)
    premoderation.reject_comment(moderator, rejected, "spam")
    threads.post_comment(carol, article, "Still pending.", settings=SETTINGS)  # stays pending
    deleted = threads.post_comment(alice, article, "Never mind.", settings=SETTINGS)
    threads.delete_comment(alice, deleted)
    community.vote(carol, first)
    community.vote(bob, first)
    moderation.report_comment(alice, hidden, "abuse", "Not nice.")
    moderation.report_comment(carol, reply, "spam")
    moderation.hide_comment(moderator, hidden, "abuse", "Calm down.")
    appeals.appeal(bob, hidden, "It was a joke.")
    community.pin(author, first, article)
    sanctions.lock_article(moderator, other, "Closed.")
    sanctions.suspend_user(admin, carol, 3, "Spam.")
    leaver = make_user("leaver")
    threads.post_comment(leaver, article, "Goodbye.", parent_id=first.id, settings=SETTINGS)
    your_data.delete_account(leaver, PASSWORD, remove_comments=False)
    mail.queue_due_notifications(EmailLinks.for_app(current_app))  # alice's emails


def filled_tables(state: dict[str, list[tuple]]) -> set[str]:
    return {name for name, rows in state.items() if rows}


@contextmanager
def restore_target(app_factory, tmp_path):
    """An app on a new, empty database (a file not yet made, or a fresh PostgreSQL one)."""
    if TEST_DATABASE_URL:
        with fresh_postgres_database(TEST_DATABASE_URL) as url:
            yield app_factory(DATABASE_URL=url)
    else:
        yield app_factory(DATABASE_URL=f"sqlite:///{tmp_path / 'restored.sqlite3'}")


def run(app, *args):
    with app.app_context():
        result = app.test_cli_runner().invoke(args=list(args))
        db.session.remove()
    return result


def test_round_trip_gives_back_every_row(app, app_factory, tmp_path):
    fill_database()
    before = snapshot()
    # Every kind of row is there to be compared (an empty table would prove nothing).
    for name in (
        "users",
        "articles",
        "comments",
        "comment_revisions",
        "votes",
        "reports",
        "moderation_actions",
        "series",
        "follows",
        "outgoing_emails",
        "notifications",
        "appeals",
    ):
        assert before.get(name), f"{name} is empty: the fill doesn't exercise it"
    statuses = {row.status for row in db.session.execute(text("SELECT status FROM comments"))}
    assert statuses == {"visible", "pending", "hidden", "rejected", "deleted"}

    path = tmp_path / "forum.backup"
    result = app.test_cli_runner().invoke(args=["backup", str(path)])
    assert result.exit_code == 0, result.output
    db.session.remove()
    method = "pg_dump" if TEST_DATABASE_URL else "sqlite backup API"
    assert method in result.output
    assert "%" in result.output or "done" in result.output  # a progress line
    checksum = re.search(r"SHA-256: ([0-9a-f]{64})", result.output)
    assert checksum and checksum.group(1) == backup_service.sha256_of(path)

    with restore_target(app_factory, tmp_path) as target:
        restored = run(target, "restore", str(path))
        assert restored.exit_code == 0, restored.output
        with target.app_context():
            after = snapshot()
            db.session.remove()
            db.engine.dispose()
    assert filled_tables(after) == filled_tables(before)
    assert after == before


def test_restore_refuses_a_database_with_tables_unless_forced(app, tmp_path):
    alice = make_user("alice")
    article = make_article()
    threads.post_comment(alice, article, "Kept in the backup.")
    path = tmp_path / "forum.backup"
    assert app.test_cli_runner().invoke(args=["backup", str(path)]).exit_code == 0
    db.session.remove()
    backed_up = snapshot()
    threads.post_comment(alice, article, "Written after the backup.")
    changed = snapshot()

    refused = app.test_cli_runner().invoke(args=["restore", str(path)])
    db.session.remove()
    assert refused.exit_code == 1
    assert "already has" in refused.output and "--force" in refused.output
    assert "Traceback" not in refused.output
    assert refused.exception is None or isinstance(refused.exception, SystemExit)
    assert snapshot() == changed  # nothing was touched

    forced = app.test_cli_runner().invoke(args=["restore", "--force", str(path)])
    db.session.remove()
    assert forced.exit_code == 0, forced.output
    assert snapshot() == backed_up


def test_restore_of_a_missing_or_foreign_file_fails_cleanly(app, app_factory, tmp_path):
    missing = app.test_cli_runner().invoke(args=["restore", str(tmp_path / "nothing")])
    assert missing.exit_code != 0
    db.session.remove()
    junk = tmp_path / "junk.backup"
    junk.write_bytes(b"not a backup at all")
    with restore_target(app_factory, tmp_path) as target:
        result = run(target, "restore", str(junk))
        assert result.exit_code == 1
        assert result.output.startswith("Restoring") and "Error:" in result.output
        with target.app_context():
            db.engine.dispose()


def test_pg_password_goes_in_the_environment_not_the_command_line():
    from sqlalchemy.engine import make_url

    url = make_url("postgresql+psycopg://someone:s3cret@db.example:6543/forum")
    args, env = backup_service._pg_environment(url)
    assert "s3cret" not in " ".join(args)
    assert env["PGPASSWORD"] == "s3cret"
    assert args == ["--host", "db.example", "--port", "6543", "--username", "someone"]


def test_backup_into_a_missing_directory_fails_cleanly(app, tmp_path):
    result = app.test_cli_runner().invoke(args=["backup", str(tmp_path / "no" / "such.backup")])
    db.session.remove()
    assert result.exit_code == 1
    assert "Error:" in result.output and "Traceback" not in result.output


def test_missing_pg_tools_are_named(monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    try:
        backup_service._pg_tool("pg_dump")
    except backup_service.BackupError as exc:
        assert "pg_dump is not on PATH" in str(exc)
    else:
        raise AssertionError("expected a BackupError")


@pytest.mark.skipif(not TEST_REDIS_URL, reason="FORUM_TEST_REDIS_URL is not set")
def test_restore_clears_the_pages_and_versions_kept_in_redis(app_factory, tmp_path):
    """A restored database reuses article and version numbers for other content: pages
    cached in Redis under those numbers (and published versions) would be served as if
    current. ``restore`` clears them."""
    # A Redis database of its own: clearing must not race with other tests' keys.
    url = urlsplit(TEST_REDIS_URL)._replace(path="/12").geturl()
    redis.Redis.from_url(url).flushdb()
    app = app_factory(REDIS_URL=url)
    with app.app_context():
        alice, article = make_user("alice"), make_article(slug="kept")
        threads.post_comment(alice, article, "Kept in the backup.")
        path = tmp_path / "forum.backup"
        assert app.test_cli_runner().invoke(args=["backup", str(path)]).exit_code == 0
        threads.post_comment(alice, article, "Written after the backup.")
        db.session.remove()
        page = app.test_client().get("/articles/kept")
        assert "Written after the backup." in page.get_data(as_text=True)
        client = redis.Redis.from_url(url)
        assert list(client.scan_iter(match="forum:page:*"))

        forced = app.test_cli_runner().invoke(args=["restore", "--force", str(path)])
        db.session.remove()
        assert forced.exit_code == 0, forced.output
        assert re.search(r"Cleared [1-9]\d* cached pages and versions from Redis", forced.output)
        assert not list(client.scan_iter(match="forum:page:*"))
        assert not list(client.scan_iter(match="forum:version:*"))
    # A new process (the app restarted after the restore) serves the restored discussion,
    # also once a new comment brings it back to the version number the lost one had.
    fresh = app_factory(REDIS_URL=url)
    with fresh.app_context():
        served = fresh.test_client().get("/articles/kept").get_data(as_text=True)
        assert "Kept in the backup." in served
        assert "Written after the backup." not in served
        threads.post_comment(
            make_user("bob"), articles.get_article("kept"), "Written after the restore."
        )
        db.session.remove()
        served = fresh.test_client().get("/articles/kept").get_data(as_text=True)
        assert "Written after the restore." in served
        assert "Written after the backup." not in served
