"""Articles and series: reading them, the series navigation, and importing Markdown files."""

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from pathlib import Path

import yaml
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from forum.extensions import db
from forum.models import Article, Comment, CommentStatus, Series, User, utcnow
from forum.services import accounts, community, permissions
from forum.services.errors import Forbidden, NotFound, ValidationFailed
from forum.services.sanitize import render_markdown
from forum.services.text import is_blank, strip_control_characters

SLUG_PATTERN = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
# Paths under /articles/ that belong to pages, not articles: /articles/new is the editor.
RESERVED_SLUGS = frozenset({"new"})


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
    # Line of each front-matter key, so later checks can point at the right line too.
    key_lines: dict[str, int] = field(default_factory=dict)

    def where(self, key: str) -> str:
        """``path:line`` of a front-matter key, for error messages."""
        return f"{self.path}:{self.key_lines.get(key, 1)}"


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
    except ValueError as exc:  # a well-formed but impossible value, such as 2026-02-30
        line = next((i + 1 for i in range(1, end) if lines[i].startswith("published")), 2)
        raise ArticleImportError(
            f"{path}:{line}: front matter has an impossible value: {exc}"
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
    if slug in RESERVED_SLUGS:
        fail("slug", f"slug {slug!r} is the address of a page; choose another")
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
        key_lines={str(key): line_of(str(key)) for key in meta},
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


def import_articles(paths: list[Path]) -> list[tuple[Article, bool]]:
    """Create or update (by slug) the articles in ``paths`` in one transaction.

    Every file is parsed and checked before anything is written, so a bad file leaves the
    database as it was. Returns each article with True when it was new."""
    files = collect_article_files(paths)
    parsed = [parse_article_file(path) for path in files]
    seen: dict[str, Path] = {}
    for item in parsed:
        if item.slug in seen:
            raise ArticleImportError(
                f"{item.where('slug')}: slug {item.slug!r} is also used by {seen[item.slug]}"
            )
        seen[item.slug] = item.path
    places: dict[tuple[str, int], Path] = {}
    for item in parsed:
        if item.series_title and item.position is not None:
            place = (item.series_title, item.position)
            if place in places:
                raise ArticleImportError(
                    f"{item.where('position')}: position {item.position} in "
                    f"{item.series_title!r} is also given by {places[place]}"
                )
            places[place] = item.path
    authors = {}
    for item in parsed:
        user = accounts.find_user(item.author)
        if user is None:
            raise ArticleImportError(
                f"{item.where('author')}: author {item.author!r} has no account (create it with "
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
            article.body_html = render_markdown(item.body, profile="article")
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
            f"{item.where('position')}: position {article.position} in {article.series.title!r} "
            "is taken by "
            f"{holder!r}"
        )


# --- writing in the browser ---------------------------------------------------------------

TITLE_MAX = 200
SLUG_MAX = 120
SUMMARY_MAX = 1000
SERIES_TITLE_MAX = 200
POSITION_MAX = 10_000


@dataclass
class ArticleDraft:
    """What the author typed into the article form, before any rule has looked at it."""

    title: str = ""
    slug: str = ""  # empty: made from the title
    summary: str = ""
    body: str = ""
    series_id: int | None = None  # an existing series...
    new_series: str = ""  # ...or the title of a new one
    position: int | None = None  # empty: after the series' last article


@dataclass
class _Checked:
    title: str
    slug: str
    summary: str
    body: str
    series: Series | None
    new_series: str | None  # created only when the article is saved
    position: int | None


def suggest_slug(title: str, article: Article | None = None) -> str:
    """A free slug made from ``title``: 'Cafés & Cells' -> 'cafes-cells' (or 'cafes-cells-2').

    One query finds every slug the base could collide with."""
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    base = re.sub(r"[^a-z0-9]+", "-", ascii_title.lower()).strip("-")[:100].strip("-")
    if not base or base in RESERVED_SLUGS:
        base = f"{base}-article".strip("-")
    taken_query = select(Article.slug).where(
        (Article.slug == base) | Article.slug.startswith(f"{base}-", autoescape=True)
    )
    if article is not None and article.id is not None:
        taken_query = taken_query.where(Article.id != article.id)
    taken = set(db.session.execute(taken_query).scalars())
    slug, n = base, 1
    while slug in taken:
        n += 1
        slug = f"{base}-{n}"
    return slug


def _one_line(text: str) -> str:
    return re.sub(r"\s+", " ", strip_control_characters(text or "")).strip()


def _check_draft(draft: ArticleDraft, article: Article | None, body_max: int) -> _Checked:
    """The draft as it will be stored, or ValidationFailed naming every bad field.

    The same rules as the importer: the slug's pattern and uniqueness, a free position in
    the series, and a position only with a series."""
    errors: dict[str, str] = {}
    title = _one_line(draft.title)
    if not title:
        errors["title"] = "Give the article a title."
    elif len(title) > TITLE_MAX:
        errors["title"] = f"Titles can be at most {TITLE_MAX} characters."

    slug = (draft.slug or "").strip()
    if not slug and title:
        slug = suggest_slug(title, article)
    elif slug:
        slug_error = _slug_problem(slug, article)
        if slug_error:
            errors["slug"] = slug_error

    summary = strip_control_characters(draft.summary or "").strip()
    if len(summary) > SUMMARY_MAX:
        errors["summary"] = f"Keep the summary under {SUMMARY_MAX:,} characters."

    body = strip_control_characters(draft.body or "").strip("\n")
    if is_blank(body):
        errors["body"] = "Write the article before saving it."
    elif len(body) > body_max:
        errors["body"] = (
            f"Articles can be at most {body_max:,} characters; this one has {len(body):,}."
        )

    series, new_series = None, _one_line(draft.new_series) or None
    if draft.series_id is not None and new_series:
        errors["new_series"] = "Choose an existing series or name a new one, not both."
    elif draft.series_id is not None:
        series = db.session.get(Series, draft.series_id)
        if series is None:
            errors["series"] = "That series doesn't exist; choose another."
    elif new_series:
        if len(new_series) > SERIES_TITLE_MAX:
            errors["new_series"] = f"Series titles can be at most {SERIES_TITLE_MAX} characters."
        else:
            # A "new" series that already exists by that title is the existing one.
            series = db.session.execute(
                select(Series).where(Series.title == new_series)
            ).scalar_one_or_none()
            if series is not None:
                new_series = None

    position = draft.position
    if position is not None and not 1 <= position <= POSITION_MAX:
        errors["position"] = f"The position is a whole number from 1 to {POSITION_MAX:,}."
    elif position is not None and series is None and not new_series:
        if "series" not in errors and "new_series" not in errors:
            errors["position"] = "A position needs a series: choose one, or leave it empty."
    elif series is not None:
        if position is None:
            position = _next_position(series, article)
        else:
            holder = _position_holder(series, position, article)
            if holder is not None:
                errors["position"] = (
                    f"Position {position} in “{series.title}” is taken by “{holder}”."
                )
    elif new_series and position is None:
        position = 1

    if errors:
        raise ValidationFailed(errors)
    return _Checked(title, slug, summary, body, series, new_series, position)


def _slug_problem(slug: str, article: Article | None) -> str | None:
    if len(slug) > SLUG_MAX or not SLUG_PATTERN.fullmatch(slug):
        return (
            "Use lower-case letters, digits and single hyphens (like cells-and-signals), "
            f"at most {SLUG_MAX} characters."
        )
    if slug in RESERVED_SLUGS:
        return f"“{slug}” is the address of a page; choose another slug."
    query = select(Article.title).where(Article.slug == slug)
    if article is not None:
        query = query.where(Article.id != article.id)
    holder = db.session.execute(query).scalar_one_or_none()
    if holder is not None:
        return f"That slug is taken by “{holder}”."
    return None


def _position_holder(series: Series, position: int, article: Article | None) -> str | None:
    query = select(Article.title).where(
        Article.series_id == series.id, Article.position == position
    )
    if article is not None:
        query = query.where(Article.id != article.id)
    return db.session.execute(query.limit(1)).scalar_one_or_none()


def _next_position(series: Series, article: Article | None) -> int:
    """After the series' last article (keeping the article's own place if it has one)."""
    if article is not None and article.series_id == series.id and article.position is not None:
        return article.position
    query = select(func.max(Article.position)).where(Article.series_id == series.id)
    return (db.session.execute(query).scalar_one() or 0) + 1


def _apply(article: Article, checked: _Checked) -> None:
    article.title = checked.title
    article.slug = checked.slug
    article.summary = checked.summary
    article.body_md = checked.body
    article.body_html = render_markdown(checked.body, profile="article")
    article.series = _series_named(checked.new_series, "") if checked.new_series else checked.series
    article.position = checked.position if article.series is not None else None


def _explain_race(draft: ArticleDraft, article: Article | None, body_max: int) -> None:
    """After a unique constraint caught what the checks missed (someone saved at the same
    moment), say which field: the checks, run again, now see the other article."""
    _check_draft(draft, article, body_max)
    raise ValidationFailed(
        {"slug": "Someone saved an article with this slug or position a moment ago."}
    )


def create_article(user: User, draft: ArticleDraft, *, body_max: int = 100_000) -> Article:
    """Publish a new article by ``user``, who then follows its discussion."""
    if not permissions.can_write_articles(user):
        raise Forbidden("Only authors, moderators and admins can write articles.")
    checked = _check_draft(draft, None, body_max)
    article = Article(author=user, published_at=utcnow())
    try:
        _apply(article, checked)
        db.session.add(article)
        db.session.flush()
        community.add_follow(user, article)  # authors hear about their readers
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        _explain_race(draft, None, body_max)
    return article


def update_article(
    user: User,
    article: Article,
    draft: ArticleDraft,
    *,
    body_max: int = 100_000,
) -> Article:
    """Change an article: its author, or any moderator or admin. The author stays the same."""
    if not permissions.can_edit_article(user, article):
        raise Forbidden("You can only edit your own articles.")
    checked = _check_draft(draft, article, body_max)
    try:
        _apply(article, checked)
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        _explain_race(draft, article, body_max)
    return article


def draft_of(article: Article) -> ArticleDraft:
    """The form's starting values for editing ``article``."""
    return ArticleDraft(
        title=article.title,
        slug=article.slug,
        summary=article.summary,
        body=article.body_md,
        series_id=article.series_id,
        position=article.position,
    )
