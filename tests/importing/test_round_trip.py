"""`export` then `import forum` into an empty database: every discussion looks the same to
readers and to moderators, hidden, deleted and pending comments, revisions, pins, votes,
imported comments and the moderation log included."""

import json
import re
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import func, select

from forum import create_app
from forum.extensions import db
from forum.models import (
    Article,
    ArticleAlias,
    Comment,
    CommentRevision,
    CommentStatus,
    ImportedAuthor,
    ModerationAction,
    Role,
    User,
)
from forum.services import community, external_articles, moderation, threads
from forum.services.sanitize import render_markdown
from tests.conftest import (
    TEST_DATABASE_URL,
    base_config,
    client_as,
    make_article,
    make_series,
    make_user,
)
from tests.postgres_support import fresh_postgres_database

DATA = Path(__file__).resolve().parent.parent / "data" / "import"
FORBIDDEN_KEYS = ("password", "password_hash", "session_token", "token", "email_confirmed")


def build_discussions(runner) -> tuple[list[str], str]:
    """Two discussions with everything a reader or moderator can see in one."""
    admin = make_user("editor", role=Role.ADMIN)
    # Imported first, so that ids follow creation times in both databases.
    assert runner.invoke(args=["import", "disqus", str(DATA / "disqus.xml")]).exit_code == 0
    author = make_user("writer", role=Role.AUTHOR, display_name="The Writer")
    mod = make_user("moddy", role=Role.MODERATOR)
    ann = make_user("ann", email="ann@example.org")
    bob = make_user("bob", display_name="Bob B.")
    gone = make_user("gone")
    hosted = make_article(author, series=make_series(slug="basics"), position=1, slug="hosted")
    # As the article editor stores it (the factory writes its HTML by hand).
    hosted.body_html = render_markdown(hosted.body_md, profile="article")
    root = threads.post_comment(ann, hosted, "First, with a [link](https://example.org).")
    reply = threads.post_comment(bob, hosted, "A reply to @ann", parent_id=root.id)
    threads.post_comment(ann, hosted, "A reply to the reply", parent_id=reply.id)
    threads.edit_comment(ann, root, "First, edited once.")
    threads.edit_comment(ann, db.session.get(Comment, root.id), "First, edited twice.")
    rude = threads.post_comment(bob, hosted, "Something rude")
    threads.post_comment(ann, hosted, "Under a hidden comment", parent_id=rude.id)
    moderation.hide_comment(mod, db.session.get(Comment, rude.id), "abuse", "private note")
    withdrawn = threads.post_comment(gone, hosted, "Soon deleted")
    threads.post_comment(bob, hosted, "Kept under a deleted comment", parent_id=withdrawn.id)
    threads.delete_comment(gone, withdrawn)
    waiting = threads.post_comment(bob, hosted, "Waiting for a moderator")
    waiting.status = CommentStatus.PENDING
    db.session.commit()
    community.vote(ann, db.session.get(Comment, reply.id))
    community.pin(author, db.session.get(Comment, root.id))
    gone.deleted_at = gone.created_at
    db.session.commit()
    external, _ = external_articles.get_or_create_external(
        "https://www.example.org/old-page", "A page elsewhere", admin
    )
    db.session.commit()
    external_articles.remap("https://www.example.org/old-page", "https://www.example.org/page")
    threads.post_comment(bob, db.session.get(Article, external.id), "On the publisher's page")
    slugs = [a.slug for a in db.session.execute(select(Article).order_by(Article.id)).scalars()]
    db.session.remove()  # the pages are read by requests with sessions of their own
    return slugs, "moddy"


def pages(app, slugs: list[str], moderator: str) -> dict[tuple[str, str], str]:
    """Each article's page as an anonymous reader and as the moderator, without what
    differs by request (CSRF tokens, nonces) or by database (versions)."""
    with app.app_context():
        mod = db.session.execute(select(User).where(User.username == moderator)).scalar_one()
        db.session.commit()  # no transaction of the test's stays open during the requests
        anonymous, moderating = client_as(app), client_as(app, mod)
        seen = {}
        for slug in slugs:
            for who, client in (("anonymous", anonymous), ("moderator", moderating)):
                response = client.get(f"/articles/{slug}")
                assert response.status_code == 200, (slug, who)
                seen[(slug, who)] = normalized(response.get_data(as_text=True))
        db.session.remove()
    return seen


def normalized(page: str) -> str:
    page = re.sub(r'(name="csrf_token"[^>]*value=")[^"]+', r"\1", page)
    page = re.sub(r'(value=")[^"]+("[^>]*name="csrf_token")', r"\1\2", page)
    page = re.sub(r'(nonce=")[^"]+', r"\1", page)
    page = re.sub(r'(data-version=")\d+', r"\1", page)
    page = re.sub(r'(data-rendered=")[^"]+', r"\1", page)  # when the page was made
    page = re.sub(r'(data-account=")[^"]+', r"\1", page)  # a key of the session's account
    # The comment form's per-render fields (its signed start time, its idempotency key).
    page = re.sub(
        r'(name="(?:form_started|idempotency_key)" type="hidden" value=")[^"]+', r"\1", page
    )
    return page


@contextmanager
def empty_database(tmp_path):
    if TEST_DATABASE_URL:
        with fresh_postgres_database(TEST_DATABASE_URL) as url:
            yield url
    else:
        yield f"sqlite:///{tmp_path / 'target.sqlite3'}"


@pytest.fixture
def target_app(tmp_path):
    with empty_database(tmp_path) as url:
        app = create_app({**base_config(tmp_path), "DATABASE_URL": url})
        with app.app_context():
            db.create_all()
            db.session.remove()
        yield app
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def test_export_then_import_reproduces_every_discussion(app, runner, tmp_path, target_app):
    slugs, mod = build_discussions(runner)
    before = pages(app, slugs, mod)
    counts_before = _counts()
    exported = tmp_path / "export.json"
    result = runner.invoke(args=["export", str(exported)])
    assert result.exit_code == 0, result.output
    db.session.remove()

    with target_app.app_context():
        result = target_app.test_cli_runner().invoke(
            args=["import", "forum", str(exported), "--json"]
        )
        assert result.exit_code == 0, result.output
        summary = json.loads(result.output.strip().splitlines()[-1])
        assert summary["articles_created"] == len(slugs)
        assert _counts() == counts_before
        db.session.remove()
    after = pages(target_app, slugs, mod)
    for key, page in before.items():
        assert after[key] == page, key

    # Importing the same file again adds nothing.
    with target_app.app_context():
        again = target_app.test_cli_runner().invoke(
            args=["import", "forum", str(exported), "--json"]
        )
        assert again.exit_code == 0, again.output
        assert json.loads(again.output.strip().splitlines()[-1])["comments"] == 0
        assert _counts() == counts_before
        db.session.remove()


def _counts() -> dict[str, int]:
    return {
        model.__tablename__: db.session.execute(select(func.count()).select_from(model)).scalar()
        for model in (
            Article,
            ArticleAlias,
            Comment,
            CommentRevision,
            ImportedAuthor,
            ModerationAction,
        )
    }


def test_the_export_holds_no_secrets(app, runner, tmp_path):
    build_discussions(runner)
    exported = tmp_path / "export.json"
    assert runner.invoke(args=["export", str(exported)]).exit_code == 0
    data = json.loads(exported.read_text())
    assert data["format"] == "forum-export" and data["version"] == 1
    text = exported.read_text()
    assert "ann@example.org" not in text  # an account's email
    assert "$argon2" not in text
    for user in db.session.execute(select(User)).scalars():
        assert user.session_token not in text

    def keys(value):
        if isinstance(value, dict):
            for key, inner in value.items():
                yield key
                yield from keys(inner)
        elif isinstance(value, list):
            for inner in value:
                yield from keys(inner)

    assert not set(keys(data)) & set(FORBIDDEN_KEYS)
    assert {a["username"] for a in data["accounts"]} >= {"ann", "bob", "moddy", "writer"}
    hidden = next(c for c in data["comments"] if c["status"] == "hidden" and c["hidden_by"])
    assert hidden["hidden_reason"] == "abuse" and hidden["hidden_note"] == "private note"
    edited = next(c for c in data["comments"] if c["revisions"])
    assert [r["body_md"] for r in edited["revisions"]] == [
        "First, with a [link](https://example.org).",
        "First, edited once.",
    ]
    external = next(
        a for a in data["articles"] if a["external_url"] == "https://www.example.org/page"
    )
    assert external["aliases"] == ["https://www.example.org/old-page"]


def test_export_of_one_article(app, runner, tmp_path):
    build_discussions(runner)
    exported = tmp_path / "one.json"
    result = runner.invoke(
        args=["export", str(exported), "--article", "https://www.example.org/page"]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(exported.read_text())
    assert [a["external_url"] for a in data["articles"]] == ["https://www.example.org/page"]
    assert [c["body_md"] for c in data["comments"]] == ["On the publisher's page"]
    missing = runner.invoke(args=["export", str(exported), "--article", "nope"])
    assert missing.exit_code == 1 and "No article" in missing.output


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.update(version=2), "export version 2"),
        (lambda d: d.update(format="other"), "not a forum export"),
        (lambda d: d["comments"][0].update(status="odd"), "comments[0].status"),
        (lambda d: d["comments"][-1].update(created_at="soon"), "is not a date"),
        (lambda d: d["comments"][0].update(author={"imported": "nobody"}), "comments[0].author"),
        (lambda d: d["comments"][0].update(hidden_reason="x" * 100), "is not a reason"),
        (lambda d: d["comments"][0].update(helpful_count=2**40), "helpful_count"),
        (lambda d: d["accounts"][0].update(username="bad name/.."), "not a valid username"),
    ],
)
def test_a_bad_forum_export_changes_nothing(app, runner, tmp_path, change, message):
    build_discussions(runner)
    exported = tmp_path / "export.json"
    assert runner.invoke(args=["export", str(exported)]).exit_code == 0
    data = json.loads(exported.read_text())
    change(data)
    exported.write_text(json.dumps(data))
    before = _counts()
    result = runner.invoke(args=["import", "forum", str(exported)])
    assert result.exit_code == 1
    assert message in result.output
    assert "Traceback" not in result.output
    assert _counts() == before


def test_a_truncated_forum_export_names_its_line(app, runner, tmp_path):
    bad = tmp_path / "cut.json"
    bad.write_text('{"format": "forum-export",\n "version": 1,\n "comments": [')
    result = runner.invoke(args=["import", "forum", str(bad)])
    assert result.exit_code == 1 and "line 3" in result.output


def test_hostile_bodies_in_an_export_are_sanitized(app, runner, tmp_path, target_app):
    build_discussions(runner)
    exported = tmp_path / "export.json"
    assert runner.invoke(args=["export", str(exported)]).exit_code == 0
    data = json.loads(exported.read_text())
    data["comments"][0].update(body_md='<p onclick="x()">Hi<script>alert(1)</script></p>')
    data["comments"][0]["body_format"] = "html"
    data["comments"][-1].update(body_md="[click](javascript:alert(1)) <img src=x onerror=y>")
    data["articles"][-1].update(slug="../../etc", external_url=None, body_md="<script>x</script>")
    exported.write_text(json.dumps(data))
    with target_app.app_context():
        result = target_app.test_cli_runner().invoke(args=["import", "forum", str(exported)])
        assert result.exit_code == 0, result.output
        for comment in db.session.execute(select(Comment)).scalars():
            assert "<script" not in comment.body_html and "onclick" not in comment.body_html
            assert 'href="javascript' not in comment.body_html and "<img" not in comment.body_html
        slugs = set(db.session.execute(select(Article.slug)).scalars())
        assert "etc" in slugs and not any("/" in slug or "." in slug for slug in slugs)
        db.session.remove()
