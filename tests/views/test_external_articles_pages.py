"""External articles (pages of the publisher's site) in the product: their page here, the
lists, feeds, permalinks and the author's desk treat them as any article; admins list and
edit them in the browser."""

import re

import pytest
from sqlalchemy import select

from forum.extensions import db
from forum.models import ArticleAlias, ModAction, ModerationAction, Role
from forum.services import external_articles, threads
from tests.conftest import client_as, make_article, make_user, snapshot

PAGE = "https://www.example.com/2014/test/"


@pytest.fixture
def writer(app):
    return make_user("writer", role=Role.AUTHOR)


@pytest.fixture
def page(app, writer):
    article = external_articles.create_external(PAGE, "Tests on the publisher's site", writer)
    db.session.commit()
    return article


def test_the_article_page_links_to_the_page_instead_of_a_body(client, page):
    html = client.get(f"/articles/{page.slug}").get_data(as_text=True)
    assert f'<a href="{PAGE}" rel="noopener">Read the article on www.example.com</a>' in html
    assert "article-body" not in html
    assert 'id="discussion"' in html


def test_hosted_articles_keep_their_body(client, writer):
    article = make_article(writer)
    html = client.get(f"/articles/{article.slug}").get_data(as_text=True)
    assert "<p>Body text.</p>" in html and "Read the article on" not in html


def test_lists_feeds_permalinks_and_the_desk_include_external_articles(app, page, writer):
    alice = make_user("alice")
    comment = threads.post_comment(alice, page, "Hello from the publisher's page.")
    client = client_as(app)
    home = client.get("/").get_data(as_text=True)
    assert f"/articles/{page.slug}" in home and "1 comment" in home
    feed = client.get(f"/articles/{page.slug}/comments.atom")
    assert feed.status_code == 200 and "Hello from the publisher" in feed.get_data(as_text=True)
    assert "Hello from the publisher" in client.get("/comments.atom").get_data(as_text=True)
    permalink = client.get(f"/comments/{comment.id}")
    assert permalink.status_code == 302
    assert permalink.headers["Location"] == f"/articles/{page.slug}#c{comment.id}"
    desk = client_as(app, writer).get("/author").get_data(as_text=True)
    assert "Hello from the publisher" in desk


def test_admins_see_the_edit_link_of_an_external_article(app, page):
    admin = make_user("boss", role=Role.ADMIN)
    html = client_as(app, admin).get(f"/articles/{page.slug}").get_data(as_text=True)
    assert f'href="/admin/articles/external/{page.id}">Edit article' in html
    writer_view = client_as(app, page.author).get(f"/articles/{page.slug}").get_data(True)
    assert "Edit article" not in writer_view


# --- the admins' pages ----------------------------------------------------------------------


@pytest.fixture
def admin(app):
    return make_user("boss", role=Role.ADMIN)


@pytest.mark.parametrize(
    ("role", "status"),
    [(Role.READER, 403), (Role.AUTHOR, 403), (Role.MODERATOR, 403), (Role.ADMIN, 200)],
)
def test_the_list_is_for_admins(app, page, role, status):
    client = client_as(app, make_user(role=role))
    assert client.get("/admin/articles/external").status_code == status
    assert client.get(f"/admin/articles/external/{page.id}").status_code == status


def test_visitors_are_sent_to_log_in(client, page):
    response = client.get("/admin/articles/external")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_the_list_shows_each_external_article(app, page, admin, writer):
    make_article(writer, title="A hosted one")
    html = client_as(app, admin).get("/admin/articles/external").get_data(as_text=True)
    assert PAGE in html and "Tests on the publisher" in html
    assert "A hosted one" not in html
    assert f"/admin/articles/external/{page.id}" in html


def test_a_hosted_article_has_no_external_edit_page(app, admin, writer):
    hosted = make_article(writer)
    assert client_as(app, admin).get(f"/admin/articles/external/{hosted.id}").status_code == 404


def form(**changes) -> dict:
    return {
        "title": "Tests, moved",
        "url": "https://www.example.com/2014/tests/",
        "author": "writer",
        **changes,
    }


def test_editing_moves_the_page_and_keeps_the_old_address(app, page, admin):
    client = client_as(app, admin)
    editor = make_user("editor", role=Role.AUTHOR)
    response = client.post(f"/admin/articles/external/{page.id}", data=form(author="Editor"))
    assert response.status_code == 302
    db.session.refresh(page)
    assert page.title == "Tests, moved"
    assert page.external_url == "https://www.example.com/2014/tests/"
    assert page.author == editor
    alias = db.session.execute(select(ArticleAlias)).scalar_one()
    assert alias.url == PAGE and alias.article == page
    assert external_articles.find_by_url(PAGE) == page
    listed = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "The external article is saved." in listed


def test_locking_and_unlocking_are_logged(app, page, admin):
    client = client_as(app, admin)
    client.post(
        f"/admin/articles/external/{page.id}",
        data=form(url=PAGE, locked="y", lock_reason="Closed for the holidays."),
    )
    db.session.refresh(page)
    assert page.discussion_locked and page.lock_reason == "Closed for the holidays."
    client.post(
        f"/admin/articles/external/{page.id}",
        data=form(url=PAGE, locked="y", lock_reason="Back in January."),
    )
    db.session.refresh(page)
    assert page.discussion_locked and page.lock_reason == "Back in January."
    client.post(f"/admin/articles/external/{page.id}", data=form(url=PAGE))
    db.session.refresh(page)
    assert not page.discussion_locked and page.lock_reason is None
    actions = db.session.execute(select(ModerationAction.action)).scalars().all()
    assert actions == [ModAction.LOCK, ModAction.UNLOCK]


@pytest.mark.parametrize(
    ("changes", "status", "message"),
    [
        ({"title": "  "}, 400, "Give the article a title."),
        ({"url": "ftp://www.example.com/x"}, 400, "starts with http"),
        ({"author": "nobody"}, 400, "must be an author"),
        ({"author": "rita"}, 400, "must be an author"),  # a reader
        ({"url": "https://www.example.com/other/"}, 409, "already has its own discussion"),
    ],
)
def test_refusals_keep_the_draft_and_change_nothing(app, page, admin, changes, status, message):
    make_user("rita")
    other = external_articles.create_external(
        "https://www.example.com/other/", "Other", page.author
    )
    db.session.commit()
    before = snapshot()
    response = client_as(app, admin).post(
        f"/admin/articles/external/{page.id}", data=form(**changes)
    )
    assert response.status_code == status
    html = response.get_data(as_text=True)
    assert message in html
    assert re.search(r'name="title"[^>]*value="Tests, moved"', html) or "title" in changes
    assert snapshot() == before
    assert other.external_url == "https://www.example.com/other/"
