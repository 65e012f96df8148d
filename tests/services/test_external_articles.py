"""External articles: canonical URLs, finding a page's discussion, moving it (remap), and
opening or counting pages for embeds."""

import pytest
from sqlalchemy import func, select

from forum.extensions import db
from forum.models import Article, ArticleAlias, Role
from forum.services import external_articles, threads
from forum.services.errors import Conflict, Forbidden, NotAllowed, NotFound
from tests.conftest import make_user
from tests.race_support import race

canonical = external_articles.canonical_url


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("HTTP://Example.TLD/Path/Page", "http://example.tld/Path/Page"),
        ("http://example.tld:80/a", "http://example.tld/a"),
        ("https://example.tld:443/a", "https://example.tld/a"),
        ("https://example.tld:8443/a", "https://example.tld:8443/a"),
        ("http://example.tld", "http://example.tld/"),
        ("http://example.tld/a#comments", "http://example.tld/a"),
        ("http://example.tld/?p=4", "http://example.tld/?p=4"),
        ("http://example.tld/2014/test/", "http://example.tld/2014/test/"),
        (
            "https://example.tld/a?utm_source=x&p=4&fbclid=1&gclid=2&utm_medium=y",
            "https://example.tld/a?p=4",
        ),
        ("https://example.tld/a?b=2&a=1", "https://example.tld/a?b=2&a=1"),
        ("  https://example.tld/a  ", "https://example.tld/a"),
        ("https://bücher.example/a", "https://xn--bcher-kva.example/a"),
        ("https://example.tld./a", "https://example.tld/a"),
    ],
)
def test_canonical_url(raw, expected):
    assert canonical(raw) == expected


def test_different_pages_stay_different():
    assert canonical("http://example.tld/?p=4") != canonical("http://example.tld/2014/test/")
    assert canonical("http://example.tld/a") != canonical("https://example.tld/a")


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "   ",
        "example.tld/a",
        "ftp://example.tld/a",
        "javascript:alert(1)",
        "https://user:pw@example.tld/a",
        "https:///a",
        "https://exa mple.tld/a",
        "https://example.tld:99999/a",
        "https://example.tld/" + "a" * 3000,
        "https://example.tld/a b",
    ],
)
def test_addresses_that_cannot_be_pages_are_refused(raw):
    with pytest.raises(NotAllowed) as refused:
        canonical(raw)
    assert refused.value.message


def test_origin_of():
    assert external_articles.origin_of("https://www.example.com:8443/a?b") == (
        "https://www.example.com:8443"
    )
    assert external_articles.origin_of(canonical("HTTPS://Blog.Example.com/x")) == (
        "https://blog.example.com"
    )


def test_create_and_find_by_any_spelling(app):
    author = make_user(role=Role.AUTHOR)
    article = external_articles.create_external(
        "https://Example.tld/2014/test/?utm_source=feed#top", "  A page  ", author
    )
    db.session.commit()
    assert article.is_external
    assert article.external_url == "https://example.tld/2014/test/"
    assert article.title == "A page"
    assert article.slug == "a-page"
    assert external_articles.find_by_url("https://example.tld:443/2014/test/") == article
    assert external_articles.find_by_url("https://example.tld/2014/test") is None
    assert external_articles.find_by_url("not a url") is None
    with pytest.raises(NotFound):
        external_articles.get_by_url("https://example.tld/other")


def test_a_page_has_one_discussion(app):
    author = make_user(role=Role.AUTHOR)
    first, created = external_articles.get_or_create_external("https://e.tld/a", "A", author)
    assert created
    again, created_again = external_articles.get_or_create_external(
        "https://E.TLD/a#x", "Other title", author
    )
    assert (again, created_again) == (first, False)
    with pytest.raises(Conflict):
        external_articles.create_external("https://e.tld/a?utm_campaign=z", "A", author)


def test_untitled_page_is_named_by_its_address(app):
    article = external_articles.create_external(
        "https://e.tld/posts/hello", "", make_user(role=Role.AUTHOR)
    )
    assert article.title == "e.tld/posts/hello"
    assert article.slug == "e-tld-posts-hello"


def test_hosted_articles_are_not_external(app):
    from tests.conftest import make_article

    assert not make_article().is_external


def test_remap_moves_the_discussion_and_keeps_the_old_address(app):
    author = make_user(role=Role.AUTHOR)
    article = external_articles.create_external("https://e.tld/old", "Page", author)
    db.session.commit()
    version = article.discussion_version

    dry = external_articles.remap("https://e.tld/old", "https://e.tld/new", dry_run=True)
    assert (dry.old_url, dry.new_url) == ("https://e.tld/old", "https://e.tld/new")
    db.session.refresh(article)
    assert article.external_url == "https://e.tld/old"
    assert db.session.query(ArticleAlias).count() == 0

    moved = external_articles.remap("https://e.tld/old", "https://e.tld/new")
    assert moved.article.id == article.id
    db.session.refresh(article)
    assert article.external_url == "https://e.tld/new"
    assert article.discussion_version != version  # the page's link to it changed
    assert external_articles.find_by_url("https://e.tld/old") == article
    assert external_articles.find_by_url("https://e.tld/new") == article

    # Moving back to where it was turns the alias back into the address.
    external_articles.remap("https://e.tld/new", "https://e.tld/old")
    db.session.refresh(article)
    assert article.external_url == "https://e.tld/old"
    assert [a.url for a in article.aliases] == ["https://e.tld/new"]


def test_remap_refuses_to_merge_two_discussions(app):
    author = make_user(role=Role.AUTHOR)
    external_articles.create_external("https://e.tld/a", "A", author)
    external_articles.create_external("https://e.tld/b", "B", author)
    db.session.commit()
    with pytest.raises(Conflict):
        external_articles.remap("https://e.tld/a", "https://e.tld/b")
    with pytest.raises(NotFound):
        external_articles.remap("https://e.tld/missing", "https://e.tld/c")


def test_remap_cli(app, runner):
    author = make_user(role=Role.AUTHOR)
    external_articles.create_external("https://e.tld/a", "A", author)
    db.session.commit()

    dry = runner.invoke(
        args=["articles", "remap", "https://e.tld/a", "https://e.tld/b", "--dry-run"]
    )
    assert dry.exit_code == 0, dry.output
    assert "Would move the discussion /articles/a" in dry.output
    assert db.session.scalar(db.select(Article.external_url)) == "https://e.tld/a"

    done = runner.invoke(args=["articles", "remap", "https://e.tld/a", "https://e.tld/b"])
    assert done.exit_code == 0, done.output
    assert "stays an alias" in done.output
    db.session.expire_all()
    assert db.session.scalar(db.select(Article.external_url)) == "https://e.tld/b"

    missing = runner.invoke(args=["articles", "remap", "https://e.tld/zz", "https://e.tld/y"])
    assert missing.exit_code == 1
    assert "No discussion is attached" in missing.output
    assert "Traceback" not in missing.output


def test_deleting_an_article_deletes_its_aliases(app):
    author = make_user(role=Role.AUTHOR)
    article = external_articles.create_external("https://e.tld/a", "A", author)
    db.session.commit()
    external_articles.remap("https://e.tld/a", "https://e.tld/b")
    db.session.delete(article)
    db.session.commit()
    assert db.session.query(ArticleAlias).count() == 0


# --- embedding ------------------------------------------------------------------------------

EMBED_ORIGINS = ("https://www.example.com",)


def open_page(url: str, **kw):
    return external_articles.open_for_embed(
        url,
        kw.pop("title", "A page"),
        allowed_origins=kw.pop("allowed_origins", EMBED_ORIGINS),
        requested_author=kw.pop("requested_author", None),
        fallback_author=kw.pop("fallback_author", None),
        **kw,
    )


def test_open_for_embed_creates_once_and_then_finds(app):
    make_user("boss", role=Role.ADMIN)
    article, created = open_page("https://www.example.com/a?utm_medium=x")
    assert created and article.external_url == "https://www.example.com/a"
    again, created_again = open_page("https://WWW.example.com/a#comments")
    assert again.id == article.id and not created_again


def test_open_for_embed_refuses_other_origins_before_spending_the_budget(app):
    make_user("boss", role=Role.ADMIN)
    spent = []
    with pytest.raises(Forbidden):
        open_page("https://evil.example/a", before_create=lambda: spent.append(1))
    assert spent == []
    open_page("https://www.example.com/a", before_create=lambda: spent.append(1))
    assert spent == [1]


def test_two_readers_opening_a_new_page_at_once_share_one_discussion(app_factory):
    racing = app_factory()
    with racing.app_context():
        make_user("boss", role=Role.ADMIN)
        db.session.remove()

    results = race(racing, 4, lambda i: (), lambda: open_page("https://www.example.com/new")[0].id)
    assert all(isinstance(r, int) for r in results), results
    assert len(set(results)) == 1
    with racing.app_context():
        count = db.session.scalar(select(func.count()).select_from(Article))
        db.session.remove()
    assert count == 1


def test_comment_counts_by_url_as_given(app):
    writer = make_user("writer", role=Role.AUTHOR)
    article = external_articles.create_external("https://www.example.com/a", "A", writer)
    db.session.commit()
    threads.post_comment(make_user("alice"), article, "One.")
    given = ["https://www.example.com/a", "https://www.example.com/a?utm_source=x", "nope", ""]
    assert external_articles.comment_counts(given) == {
        "https://www.example.com/a": 1,
        "https://www.example.com/a?utm_source=x": 1,
        "nope": 0,
        "": 0,
    }
    assert external_articles.comment_counts([]) == {}
