"""Articles and series: reading them, the series navigation, and importing Markdown files."""

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from pathlib import Path

import yaml
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from forum.extensions import db
from forum.models import Article, Comment, CommentStatus, Series
from forum.services import accounts, community
from forum.services.errors import NotFound
from forum.services.sanitize import render_markdown

SLUG_PATTERN = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")


def slugify(text: str) -> str:
    """'Cells & Their Messengers' -> 'cells-their-messengers'."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:120] or "series"


def get_article(slug: str) -> Article:
    """The article with its author and series, or NotFound."""
    article = db.session.execute(
        select(Article)
        .options(joinedload(Article.author), joinedload(Article.series))
        .where(Article.slug == slug)
    ).scalar_one_or_none()
    if article is None:
        raise NotFound("No article has that address.")
    return article


def get_series(slug: str) -> Series:
    series = db.session.execute(select(Series).where(Series.slug == slug)).scalar_one_or_none()
    if series is None:
        raise NotFound("No series has that address.")
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
        .where(Comment.article_id.in_(article_ids), Comment.status == CommentStatus.VISIBLE)
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


# --- import -----------------------------------------------------------------------------


class ArticleImportError(Exception):
    """A file that can't be imported; the message names the file and the line."""


@dataclass
class ParsedArticle:
    path: Path
    title: str
    slug: str
    series_title: str | None
    series_description: str
    position: int | None
    author: str
    published: datetime
    summary: str
    body: str


REQUIRED_FIELDS = ("title", "slug", "author", "published")


def parse_article_file(path: Path) -> ParsedArticle:
    """Read one Markdown file with YAML front matter; the error names the file and line."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ArticleImportError(f"{path}: cannot be read: {exc}") from exc
    lines = text.splitlines()
    if not lines or lines[0].strip() != "---":
        raise ArticleImportError(f"{path}:1: the file must start with a '---' front-matter line")
    try:
        end = next(i for i in range(1, len(lines)) if lines[i].strip() == "---")
    except StopIteration:
        raise ArticleImportError(
            f"{path}:1: the front matter opened here is never closed by '---'"
        ) from None
    try:
        meta = yaml.safe_load("\n".join(lines[1:end])) or {}
    except yaml.MarkedYAMLError as exc:
        line = (exc.problem_mark.line + 2) if exc.problem_mark else 2
        raise ArticleImportError(
            f"{path}:{line}: front matter is not valid YAML: {exc.problem}"
        ) from exc
    if not isinstance(meta, dict):
        raise ArticleImportError(f"{path}:2: front matter must be a mapping of 'key: value' lines")

    def line_of(key: str) -> int:
        for i in range(1, end):
            if lines[i].split(":", 1)[0].strip() == key:
                return i + 1
        return 2

    def fail(key: str, message: str):
        raise ArticleImportError(f"{path}:{line_of(key)}: {message}")

    for key in REQUIRED_FIELDS:
        if meta.get(key) in (None, ""):
            raise ArticleImportError(f"{path}:{end + 1}: front matter is missing '{key}'")
    slug = str(meta["slug"])
    if not SLUG_PATTERN.fullmatch(slug):
        fail("slug", f"slug {slug!r} must be lower-case letters, digits and single hyphens")
    published = meta["published"]
    if isinstance(published, datetime):
        published = published if published.tzinfo else published.replace(tzinfo=UTC)
    elif isinstance(published, date):
        published = datetime.combine(published, time(12, 0), tzinfo=UTC)
    else:
        fail("published", f"published {published!r} is not a date like 2026-01-31")
    position = meta.get("position")
    if position is not None and (not isinstance(position, int) or position < 1):
        fail("position", f"position {position!r} must be a whole number from 1")
    if meta.get("series") is None and position is not None:
        fail("position", "position is given but series is not")
    body = "\n".join(lines[end + 1 :]).strip("\n")
    if not body.strip():
        raise ArticleImportError(f"{path}:{end + 2}: the article has no body")
    return ParsedArticle(
        path=path,
        title=str(meta["title"]).strip(),
        slug=slug,
        series_title=str(meta["series"]).strip() if meta.get("series") else None,
        series_description=str(meta.get("series_description") or ""),
        position=position,
        author=str(meta["author"]),
        published=published,
        summary=str(meta.get("summary") or ""),
        body=body,
    )


def collect_article_files(paths: list[Path]) -> list[Path]:
    """Files given directly, and every ``*.md`` inside directories given, in name order."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(sorted(path.glob("*.md")))
        else:
            files.append(path)
    return files


def import_articles(paths: list[Path], sanitizer: str = "bleach") -> list[tuple[Article, bool]]:
    """Create or update (by slug) the articles in ``paths`` in one transaction.

    Every file is parsed and checked before anything is written, so a bad file leaves the
    database as it was. Returns each article with True when it was new."""
    files = collect_article_files(paths)
    parsed = [parse_article_file(path) for path in files]
    seen: dict[str, Path] = {}
    for item in parsed:
        if item.slug in seen:
            raise ArticleImportError(
                f"{item.path}: slug {item.slug!r} is also used by {seen[item.slug]}"
            )
        seen[item.slug] = item.path
    places: dict[tuple[str, int], Path] = {}
    for item in parsed:
        if item.series_title and item.position is not None:
            place = (item.series_title, item.position)
            if place in places:
                raise ArticleImportError(
                    f"{item.path}: position {item.position} in {item.series_title!r} is also "
                    f"given by {places[place]}"
                )
            places[place] = item.path
    authors = {}
    for item in parsed:
        user = accounts.find_user(item.author)
        if user is None:
            raise ArticleImportError(
                f"{item.path}: author {item.author!r} has no account (create it with "
                "'flask --app forum users create')"
            )
        authors[item.slug] = user

    results = []
    try:
        for item in parsed:
            series = None
            if item.series_title:
                series = _series_named(item.series_title, item.series_description)
            article = db.session.execute(
                select(Article).where(Article.slug == item.slug)
            ).scalar_one_or_none()
            created = article is None
            if created:
                article = Article(slug=item.slug)
                db.session.add(article)
            article.title = item.title
            article.summary = item.summary
            article.body_md = item.body
            article.body_html = render_markdown(item.body, sanitizer, profile="article")
            article.author = authors[item.slug]
            article.series = series
            article.position = item.position
            article.published_at = item.published
            _check_position_free(article, item)
            if created:
                db.session.flush()
                community.add_follow(article.author, article)  # authors hear about comments
            results.append((article, created))
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return results


def _series_named(title: str, description: str) -> Series:
    series = db.session.execute(select(Series).where(Series.title == title)).scalar_one_or_none()
    if series is None:
        series = Series(
            title=title, slug=_free_series_slug(slugify(title)), description=description
        )
        db.session.add(series)
        db.session.flush()
    elif description:
        series.description = description
    return series


def _free_series_slug(base: str) -> str:
    slug, n = base, 1
    while db.session.execute(select(Series.id).where(Series.slug == slug)).first():
        n += 1
        slug = f"{base}-{n}"
    return slug


def _check_position_free(article: Article, item: ParsedArticle) -> None:
    if article.series is None or article.position is None:
        return
    with db.session.no_autoflush:
        holder = db.session.execute(
            select(Article.slug).where(
                Article.series_id == article.series.id,
                Article.position == article.position,
                Article.slug != article.slug,
            )
        ).scalar_one_or_none()
    if holder is not None:
        raise ArticleImportError(
            f"{item.path}: position {article.position} in {article.series.title!r} is taken by "
            f"{holder!r}"
        )
