"""`flask --app forum comments rerender`: stored HTML is made again from the Markdown source."""

from forum.extensions import db
from forum.models import CommentRevision
from forum.services import profiles, threads
from forum.services.sanitize import render_markdown
from tests.conftest import make_article, make_user

SETTINGS = threads.DiscussionSettings(spam_checks=False)


def test_rerender_remakes_comments_revisions_and_articles_with_the_configured_sanitizer(
    app_factory,
):
    app = app_factory(SANITIZER="nh3")
    with app.app_context():
        ada = make_user("ada")
        make_user("ben")
        article = make_article(title="Cells")
        article.body_md = "## Heading\n\nText with <script>alert(1)</script>."
        comment = threads.post_comment(ada, article, "Hello @ben, see *this*.", settings=SETTINGS)
        threads.edit_comment(ada, comment, "Hello @ben, see **this**.", settings=SETTINGS)
        # As if the HTML had been made under older, looser rules.
        comment.body_html = "<p onclick=x>stale</p>"
        revision = db.session.execute(db.select(CommentRevision)).scalar_one()
        revision.body_html = "<p>stale revision</p>"
        article.body_html = "<script>stale</script>"
        db.session.commit()

        result = app.test_cli_runner().invoke(args=["comments", "rerender"])

        assert result.exit_code == 0, result.output
        assert "Re-rendering with nh3" in result.output
        assert "3 bodies re-rendered, 3 changed." in result.output
        db.session.expire_all()
        assert comment.body_html == (
            '<p>Hello <a href="/users/ben" rel="nofollow ugc noopener">@ben</a>, see '
            "<strong>this</strong>.</p>\n"
        )
        assert revision.body_html.startswith("<p>Hello")
        assert "<em>this</em>" in revision.body_html
        assert article.body_html == render_markdown(article.body_md, "nh3", profile="article")
        assert "<h2>Heading</h2>" in article.body_html
        assert "<script>" not in article.body_html


def test_rerender_twice_changes_nothing_the_second_time(app_factory):
    app = app_factory()
    with app.app_context():
        ada = make_user("ada")
        threads.post_comment(ada, make_article(), "Plain *words*.", settings=SETTINGS)
        runner = app.test_cli_runner()
        runner.invoke(args=["comments", "rerender"])
        result = runner.invoke(args=["comments", "rerender"])
        assert result.exit_code == 0, result.output
        assert "changed." in result.output and ", 0 changed." in result.output


def test_rerender_gives_a_bio_its_links_once_the_account_is_trusted(app_factory):
    app = app_factory()
    with app.app_context():
        ada = make_user("ada")
        profiles.update_profile(
            ada, display_name=None, bio="Read https://example.org *now*.", trusted_after=3
        )
        assert "<a " not in ada.bio_html and "<em>now</em>" in ada.bio_html
        ada.trusted = True
        db.session.commit()
        result = app.test_cli_runner().invoke(args=["comments", "rerender"])
        assert result.exit_code == 0, result.output
        assert "1 profile bios re-rendered, 1 changed." in result.output
        db.session.expire_all()
        assert '<a href="https://example.org" rel="nofollow ugc noopener">' in ada.bio_html
