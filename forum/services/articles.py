"""Articles and series: reading them and the series navigation.

Writing them is elsewhere: ``article_import`` (Markdown files with front matter) and
``article_editor`` (the browser), both checked by ``article_rules``."""

import functools
from dataclasses import dataclass

from sqlalchemy import Select, bindparam, func, select
from sqlalchemy.orm import joinedload

from forum.extensions import db
from forum.models import Article, Comment, Series
from forum.services.errors import NotFound
from forum.services.words import _l


def get_article(slug: str, *, for_page: bool = True) -> Article:
    """The article, or NotFound; with its author and series loaded for a page, alone when
    ``for_page`` is False (posting under it needs neither: reading them cost a third of
    the read)."""
    article = db.session.execute(_by_slug(for_page), {"slug": slug}).scalar_one_or_none()
    if article is None:
        raise NotFound(_l("No article has that address."))
    return article


@functools.cache
def _by_slug(for_page: bool) -> Select:
    """``get_article``'s statement, built once: it runs on every article page and post, and
    building it with its two eager loads cost a quarter of running it."""
    query = select(Article).where(Article.slug == bindparam("slug"))
    if for_page:
        query = query.options(joinedload(Article.author), joinedload(Article.series))
    return query


def get_series(slug: str) -> Series:
    series = db.session.execute(select(Series).where(Series.slug == slug)).scalar_one_or_none()
    if series is None:
        raise NotFound(_l("No series has that address."))
    return series


@dataclass(frozen=True)
class SeriesPosition:
    """Where an article stands in its series: "Article 3 of 12" with its neighbours."""

    series: Series
    number: int
    total: int
    previous: Article | None
    next: Article | None


def series_position(article: Article) -> SeriesPosition | None:
    """The article's place in its series, from one query over the series' articles."""
    if article.series is None:
        return None
    siblings = list(
        db.session.execute(
            select(Article.id, Article.slug, Article.title)
            .where(Article.series_id == article.series_id)
            .order_by(Article.position, Article.published_at, Article.id)
        )
    )
    index = next(i for i, row in enumerate(siblings) if row.id == article.id)

    def as_link(row) -> Article | None:
        return Article(id=row.id, slug=row.slug, title=row.title) if row is not None else None

    return SeriesPosition(
        series=article.series,
        number=index + 1,
        total=len(siblings),
        previous=as_link(siblings[index - 1]) if index > 0 else None,
        next=as_link(siblings[index + 1]) if index + 1 < len(siblings) else None,
    )


def comment_counts(article_ids: list[int]) -> dict[int, int]:
    """Visible comments per article, in one aggregate query."""
    if not article_ids:
        return {}
    rows = db.session.execute(
        select(Comment.article_id, func.count(Comment.id))
        .where(Comment.article_id.in_(article_ids), Comment.is_visible)
        .group_by(Comment.article_id)
    )
    return dict(rows.tuples().all())


def recent_articles(limit: int = 10) -> list[Article]:
    return list(
        db.session.execute(
            select(Article)
            .options(joinedload(Article.author), joinedload(Article.series))
            .order_by(Article.published_at.desc(), Article.id.desc())
            .limit(limit)
        ).scalars()
    )


def all_series() -> list[Series]:
    return list(db.session.execute(select(Series).order_by(Series.title)).scalars())


def series_articles(series: Series) -> list[Article]:
    return list(
        db.session.execute(
            select(Article)
            .options(joinedload(Article.author))
            .where(Article.series_id == series.id)
            .order_by(Article.position, Article.published_at, Article.id)
        ).scalars()
    )


def articles_query(series: Series | None = None) -> Select:
    """Every article (of ``series`` when given), with its author and series loaded; callers
    order and page it."""
    query = select(Article).options(joinedload(Article.author), joinedload(Article.series))
    if series is not None:
        query = query.where(Article.series_id == series.id)
    return query
