"""`flask --app forum import disqus|wordpress|isso`: the sample exports in tests/data/import,
imported through the CLI as a publisher would, then read back as readers see them."""

import json
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import func, select

from forum.extensions import db
from forum.models import Article, Comment, CommentSource, CommentStatus, ImportedAuthor, Role
from tests.conftest import make_article, make_user, snapshot

DATA = Path(__file__).resolve().parent.parent / "data" / "import"
HOSTILE = ("<script", "onerror", "javascript:", "<img", "<iframe", "onclick", "alert(")


@pytest.fixture
def admin(app):
    return make_user("editor", role=Role.ADMIN)


@pytest.fixture
def isso_db(tmp_path) -> Path:
    path = tmp_path / "comments.db"
    connection = sqlite3.connect(path)
    connection.executescript((DATA / "isso.sql").read_text())
    connection.commit()
    connection.close()
    return path


def run_import(runner, *args) -> tuple[dict, object]:
    result = runner.invoke(args=["import", *map(str, args), "--json"])
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    return json.loads(lines[-1]), result


def comments_by_source(system: str) -> dict[str, Comment]:
    rows = db.session.execute(
        select(CommentSource.source_id, Comment)
        .join(Comment, Comment.id == CommentSource.comment_id)
        .where(CommentSource.source == system)
    ).all()
    return {source_id: comment for source_id, comment in rows}


def test_disqus_sample(app, runner, admin):
    summary, _ = run_import(runner, "disqus", DATA / "disqus.xml")
    assert summary["articles_created"] == 3
    assert summary["articles_matched"] == 0
    assert summary["comments"] == 9
    assert summary["replies"] == 3  # 9002→9001, 9003→9002, 9005→9004 (9008's parent is gone)
    assert summary["deleted"] == 2  # 9004, and 9009 in the deleted thread
    assert summary["spam"] == 2  # isSpam true, and "maybe"
    assert summary["unclear_spam"] == 1
    assert summary["orphans"] == 1  # 9010: thread 7999 is not in the file
    assert summary["authors"] == 7  # annreader, Guest Bob, Mallory, anonymous, Spammer, ...
    by_id = comments_by_source("disqus")
    assert by_id["9003"].parent_id == by_id["9002"].id
    assert by_id["9003"].root_id == by_id["9001"].id and by_id["9003"].depth == 2
    assert by_id["9008"].parent_id is None
    assert by_id["9004"].status is CommentStatus.DELETED
    assert by_id["9006"].status is CommentStatus.HIDDEN
    assert by_id["9006"].hidden_reason == "spam"
    assert by_id["9007"].status is CommentStatus.HIDDEN
    assert by_id["9009"].status is CommentStatus.DELETED
    assert by_id["9001"].created_at.isoformat() == "2014-05-01T09:00:00+00:00"
    assert by_id["9001"].author_id is None
    assert by_id["9001"].imported_author.name == "Ann Reader"
    assert by_id["9001"].imported_author.email == "ann@example.net"
    assert "<strong>post</strong>" in by_id["9001"].body_html
    hostile = by_id["9003"].body_html
    assert not any(marker in hostile.lower() for marker in HOSTILE), hostile
    # Tracking parameters are not part of the page's address.
    hello = db.session.execute(
        select(Article).where(
            Article.external_url == "https://blog.example.org/2014/05/hello-world/"
        )
    ).scalar_one()
    assert hello.author_id == admin.id
    assert hello.comment_count == 4  # 9001, 9002, 9003, 9005 (9004 deleted)


def test_disqus_deleted_thread_shows_nothing(app, runner, client, admin):
    run_import(runner, "disqus", DATA / "disqus.xml")
    removed = db.session.execute(
        select(Article).where(Article.external_url == "https://blog.example.org/2016/removed/")
    ).scalar_one()
    assert removed.comment_count == 0 and removed.thread_count == 0
    page = client.get(f"/articles/{removed.slug}").get_data(as_text=True)
    assert "On a page that was removed" not in page


def test_imported_discussion_renders_for_readers(app, runner, client, admin):
    run_import(runner, "disqus", DATA / "disqus.xml")
    hello = db.session.execute(select(Article).where(Article.title == "Hello world")).scalar_one()
    response = client.get(f"/articles/{hello.slug}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Ann Reader" in page and "Guest Bob" in page
    assert "badge-imported" in page
    assert "ann@example.net" not in page and "mallory@example.net" not in page
    assert "A reply kept under a deleted comment." in page
    assert "This was deleted by its author." not in page
    assert "[deleted]" in page
    assert "/users/annreader" not in page  # imported authors have no profile
    # Oldest thread first by default: the order of the original discussion.
    assert page.index("First! Nice") < page.index("I agree with Ann") < page.index("Hostile:")
    for marker in ("<script>alert", "onerror=", 'href="javascript:'):
        assert marker not in page


def test_rerunning_an_import_changes_nothing(app, runner, admin):
    run_import(runner, "disqus", DATA / "disqus.xml")
    before = snapshot()
    again, _ = run_import(runner, "disqus", DATA / "disqus.xml")
    assert again["comments"] == 0 and again["authors"] == 0 and again["articles_created"] == 0
    assert again["already_imported"] == 9
    # Not even a discussion's version moves: cached pages stay valid.
    assert snapshot() == before


def test_dry_run_writes_nothing_and_reports_the_same(app, runner, admin):
    before = snapshot()
    dry, result = run_import(runner, "disqus", DATA / "disqus.xml", "--dry-run")
    assert "Dry run" in result.output
    assert snapshot() == before
    real, _ = run_import(runner, "disqus", DATA / "disqus.xml")
    assert {k: v for k, v in dry.items() if k != "dry_run"} == {
        k: v for k, v in real.items() if k != "dry_run"
    }


def test_wordpress_sample(app, runner, admin):
    summary, _ = run_import(runner, "wordpress", DATA / "wordpress.xml")
    assert summary["articles_created"] == 2  # the post without comments makes no discussion
    assert summary["comments"] == 7
    assert summary["skipped"] == 1  # the pingback
    assert summary["spam"] == 2  # "spam" and a made-up status
    assert summary["unclear_spam"] == 1
    assert summary["deleted"] == 1  # trash
    assert summary["pending"] == 1
    assert summary["replies"] == 2
    posts = {
        a.external_url: a
        for a in db.session.execute(
            select(Article).where(Article.external_url.is_not(None))
        ).scalars()
    }
    assert set(posts) == {"http://wp.example.tld/?p=4", "http://wp.example.tld/2014/test/"}
    # WordPress numbers comments site-wide yet both posts have a comment 1: two comments.
    ones = db.session.execute(
        select(func.count()).select_from(CommentSource).where(CommentSource.source_id == "1")
    ).scalar()
    assert ones == 2
    first = (
        db.session.execute(
            select(Comment)
            .where(Comment.article_id == posts["http://wp.example.tld/?p=4"].id)
            .order_by(Comment.id)
        )
        .scalars()
        .first()
    )
    assert first.body_html.startswith("<p>Hi, this is a comment.<br>")
    assert '<a href="https://gravatar.com" rel="nofollow ugc noopener">Gravatar</a>' in (
        first.body_html
    )
    ann = db.session.execute(
        select(ImportedAuthor).where(ImportedAuthor.email == "ann@example.net")
    ).scalar_one()
    assert ann.url is None  # a javascript: "website" is not kept
    anonymous = db.session.execute(
        select(ImportedAuthor).where(ImportedAuthor.source_key == "anonymous")
    ).scalar_one()
    assert anonymous.name == "Anonymous"
    for comment in db.session.execute(select(Comment)).scalars():
        assert not any(marker in comment.body_html.lower() for marker in HOSTILE)


def test_wordpress_missing_gmt_date_uses_the_local_one(app, runner, admin):
    run_import(runner, "wordpress", DATA / "wordpress.xml")
    page = db.session.execute(
        select(Article).where(Article.external_url == "http://wp.example.tld/2014/test/")
    ).scalar_one()
    first = db.session.execute(
        select(Comment).where(Comment.article_id == page.id, Comment.parent_id.is_(None))
    ).scalar_one()
    assert first.created_at.isoformat() == "2014-05-06T10:00:00+00:00"


def test_isso_sample(app, runner, admin, isso_db):
    summary, _ = run_import(runner, "isso", isso_db, "--site", "https://blog.example.org")
    assert summary["articles_created"] == 2
    assert summary["comments"] == 8
    assert summary["orphans"] == 1
    assert summary["pending"] == 1
    assert summary["deleted"] == 1
    assert summary["spam"] == 1 and summary["unclear_spam"] == 1
    assert summary["replies"] == 2  # 2→1 and 5→4; 7's parent 99 does not exist
    by_id = comments_by_source("isso")
    assert "<strong>Isso</strong>" in by_id["1"].body_html
    assert by_id["1"].helpful_count == 3
    # Isso's text is Markdown: raw HTML shows as text, a javascript: link stays text.
    assert "<script" not in by_id["2"].body_html and "href" not in by_id["2"].body_html
    assert by_id["2"].imported_author.name == "Anonymous"
    assert by_id["3"].status is CommentStatus.PENDING
    urls = set(
        db.session.execute(
            select(Article.external_url).where(Article.external_url.is_not(None))
        ).scalars()
    )
    assert urls == {
        "https://blog.example.org/posts/first/",
        "https://blog.example.org/posts/second/",
    }


def test_url_map_points_threads_at_hosted_articles_and_new_urls(app, runner, admin, tmp_path):
    hosted = make_article(slug="hello-hosted", title="Hello, hosted")
    mapping = tmp_path / "map.csv"
    mapping.write_text(
        "old_url,target\n"
        "# the old blog post now lives here\n"
        "https://blog.example.org/2014/05/hello-world/,hello-hosted\n"
        "https://blog.example.org/2015/01/second-post/,https://www.example.org/second\n"
    )
    summary, _ = run_import(runner, "disqus", DATA / "disqus.xml", "--url-map", mapping)
    assert summary["articles_matched"] == 1 and summary["articles_created"] == 2
    assert db.session.get(Article, hosted.id).comment_count == 4
    assert (
        db.session.execute(
            select(Article).where(Article.external_url == "https://www.example.org/second")
        ).scalar_one()
        is not None
    )


def test_url_map_naming_a_missing_slug_changes_nothing(app, runner, admin, tmp_path):
    mapping = tmp_path / "map.csv"
    mapping.write_text("https://blog.example.org/2014/05/hello-world/,no-such-article\n")
    before = snapshot()
    result = runner.invoke(
        args=["import", "disqus", str(DATA / "disqus.xml"), "--url-map", str(mapping)]
    )
    assert result.exit_code == 1
    assert "no article has the slug 'no-such-article'" in result.output
    assert "Traceback" not in result.output
    assert snapshot() == before


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("<disqus><post dsq:id='1'>", "line 1"),
        ("<disqus><thread><link>x</thread></disqus>", "line 1, column"),
        (
            '<?xml version="1.0"?>\n<!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n'
            "<disqus>&x;</disqus>",
            "refused",
        ),
        (
            '<disqus xmlns:dsq="http://disqus.com/disqus-internals">\n'
            '<post dsq:id="5"><message>x</message><createdAt>yesterday</createdAt></post>'
            "</disqus>",
            "post 5: 'yesterday' is not a date",
        ),
        ("", "line 1"),
    ],
)
def test_a_bad_disqus_file_changes_nothing(app, runner, admin, tmp_path, content, message):
    bad = tmp_path / "bad.xml"
    bad.write_text(content)
    before = snapshot()
    result = runner.invoke(args=["import", "disqus", str(bad)])
    assert result.exit_code == 1
    assert message in result.output
    assert "Nothing was imported" in result.output
    assert "Traceback" not in result.output
    assert snapshot() == before


def test_a_bad_file_after_good_threads_changes_nothing(app, runner, admin, tmp_path):
    """The error comes after articles and comments were already read: still nothing."""
    text = (DATA / "disqus.xml").read_text()
    bad = tmp_path / "late.xml"
    bad.write_text(text.replace("<createdAt>2016-03-01T10:00:00Z</createdAt>", "<createdAt>"))
    before = snapshot()
    result = runner.invoke(args=["import", "disqus", str(bad)])
    assert result.exit_code == 1 and "line" in result.output
    assert snapshot() == before


def test_not_an_isso_database(app, runner, admin, tmp_path):
    bad = tmp_path / "comments.db"
    bad.write_text("this is not SQLite")
    result = runner.invoke(args=["import", "isso", str(bad), "--site", "https://x.example"])
    assert result.exit_code == 1
    assert "not an Isso database" in result.output


def test_without_an_admin_new_discussions_need_an_author(app, runner):
    result = runner.invoke(args=["import", "disqus", str(DATA / "disqus.xml")])
    assert result.exit_code == 1
    assert "--author" in result.output


def test_forget_imported_emails(app, runner, admin):
    run_import(runner, "disqus", DATA / "disqus.xml")
    with_email = db.session.execute(
        select(func.count()).select_from(ImportedAuthor).where(ImportedAuthor.email.is_not(None))
    ).scalar()
    assert with_email == 2
    result = runner.invoke(args=["imported-authors", "forget"])
    assert result.exit_code == 0
    assert "Forgot 2 imported authors' email addresses." in result.output
    db.session.expire_all()
    assert (
        db.session.execute(select(ImportedAuthor).where(ImportedAuthor.email.is_not(None))).first()
        is None
    )


def test_rerender_keeps_imported_html_bodies(app, runner, admin):
    run_import(runner, "disqus", DATA / "disqus.xml")
    before = comments_by_source("disqus")["9001"].body_html
    result = runner.invoke(args=["comments", "rerender"])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    # Re-rendered as HTML, not as Markdown (which would show the tags as text).
    assert comments_by_source("disqus")["9001"].body_html == before
    assert "&lt;p&gt;" not in before


def test_a_reply_older_than_its_parent_and_a_loop_of_parents(app, admin):
    """Clocks were wrong and a file was broken: parents still come first, loops are cut."""
    from datetime import UTC, datetime

    from forum.importing.loader import load
    from forum.importing.records import Source, SourceAuthor, SourceComment, SourceThread

    def comment(source_id, parent, hour):
        return SourceComment(
            source_id=source_id,
            thread_key="t",
            parent_id=parent,
            created_at=datetime(2020, 1, 1, hour, tzinfo=UTC),
            body=f"<p>{source_id}</p>",
            body_format="html",
            author=SourceAuthor(key="someone", name="Someone"),
            state="visible",
            where=f"comment {source_id}",
        )

    source = Source(system="disqus")
    source.threads["t"] = SourceThread(key="t", url="https://x.example/a", title="A", where="t")
    source.comments = [
        comment("child", "parent", 1),
        comment("parent", None, 2),
        comment("a", "b", 3),
        comment("b", "a", 4),
    ]
    summary = load(source, owner=admin)
    db.session.commit()
    by_id = comments_by_source("disqus")
    assert by_id["child"].parent_id == by_id["parent"].id
    assert by_id["parent"].id < by_id["child"].id
    assert summary.replies == 2  # child→parent, and one of a/b under the other
    assert {by_id["a"].parent_id, by_id["b"].parent_id} - {None} in (
        {by_id["a"].id},
        {by_id["b"].id},
    )
    assert any("loop" in note for note in summary.notes)
