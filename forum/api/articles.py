"""Articles: the list (newest first, cursor-paged, by series) and one article with its
discussion's numbers. The example every other operation follows (docs/architecture.md,
"Adding an API operation")."""

from datetime import datetime

from flask import url_for
from pydantic import BaseModel, Field

from forum.api.core import READ, bp, operation
from forum.api.cursors import DEFAULT_LIMIT, MAX_LIMIT, keyset_page
from forum.models import Article
from forum.services import articles, external_articles

LIST_NAME = "articles"


class SeriesRef(BaseModel):
    slug: str
    title: str


class ArticleAuthor(BaseModel):
    username: str | None  # None once the account is deleted
    display_name: str


class ArticleSummary(BaseModel):
    slug: str
    title: str
    summary: str
    author: ArticleAuthor
    series: SeriesRef | None
    published_at: datetime
    # The page of the article: on this site for hosted articles, the publisher's page for
    # external ones (which the by-url lookup finds).
    url: str
    external: bool = False
    comment_count: int


class ArticleList(BaseModel):
    items: list[ArticleSummary]
    next: str | None = Field(description="Cursor of the next page; null on the last page.")


class ArticleQuery(BaseModel):
    series: str | None = Field(default=None, max_length=120, description="A series' slug.")
    cursor: str | None = Field(default=None, max_length=500)
    limit: int = Field(default=DEFAULT_LIMIT, ge=1, le=MAX_LIMIT)


class ArticleDetail(ArticleSummary):
    thread_count: int
    locked: bool
    lock_reason: str | None
    # Changes whenever anything readers see in the discussion changes (an ETag for polling).
    version: int


class ByUrlQuery(BaseModel):
    url: str = Field(min_length=1, max_length=2000)


def _author(article: Article) -> ArticleAuthor:
    author = article.author
    deleted = author.deleted_at is not None
    return ArticleAuthor(username=None if deleted else author.username, display_name=author.name)


def summary_of(article: Article) -> ArticleSummary:
    series = article.series
    return ArticleSummary(
        slug=article.slug,
        title=article.title,
        summary=article.summary,
        author=_author(article),
        series=SeriesRef(slug=series.slug, title=series.title) if series else None,
        published_at=article.published_at,
        url=article.external_url or url_for("site.article", slug=article.slug, _external=True),
        external=article.is_external,
        comment_count=article.comment_count,
    )


def detail_of(article: Article) -> ArticleDetail:
    return ArticleDetail(
        **summary_of(article).model_dump(),
        thread_count=article.thread_count,
        locked=article.discussion_locked,
        lock_reason=article.lock_reason,
        version=article.discussion_version,
    )


@bp.get("/articles")
@operation(scope=READ, ok=ArticleList, query=ArticleQuery, tags=("articles",))
def list_articles(query: ArticleQuery):
    """The articles, newest first; ``series`` keeps one series' articles."""
    series = articles.get_series(query.series) if query.series else None
    found = keyset_page(
        articles.articles_query(series),
        LIST_NAME,
        (Article.published_at, Article.id),
        query.cursor,
        query.limit,
    )
    return ArticleList(items=[summary_of(a) for a in found.items], next=found.next)


@bp.get("/articles/by-url")
@operation(scope=READ, ok=ArticleDetail, query=ByUrlQuery, tags=("articles",))
def article_by_url(query: ByUrlQuery):
    """The article published at ``url`` on the publisher's site (an external article)."""
    return detail_of(external_articles.get_by_url(query.url))


@bp.get("/articles/<slug>")
@operation(scope=READ, ok=ArticleDetail, tags=("articles",))
def get_article(slug: str):
    """One article, with its discussion's numbers."""
    return detail_of(articles.get_article(slug))
