"""Importing articles from Markdown files with YAML front matter (``flask articles import``).

This module reads the files and reports problems at their line; the article's rules are
:func:`forum.services.article_rules.check_article`, the same as in the browser editor."""

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from pathlib import Path

import yaml
from sqlalchemy import select

from forum.extensions import db
from forum.models import Article
from forum.services import accounts, article_rules, community
from forum.services.article_rules import ArticleDraft
from forum.services.errors import ValidationFailed


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
        """``path:line`` of a front-matter key (or of the body), for error messages."""
        return f"{self.path}:{self.key_lines.get(key, 1)}"

    def draft(self) -> ArticleDraft:
        """The file as the shared rules take it: the series by title, new or existing."""
        return ArticleDraft(
            title=self.title,
            slug=self.slug,
            summary=self.summary,
            body=self.body,
            new_series=self.series_title or "",
            position=self.position,
        )

    def refusals(self, errors: dict[str, str]) -> list[str]:
        """The rules' refusals, each at the line of its front-matter key."""
        return [
            f"{self.where(_FRONT_MATTER_KEY.get(name, name))}: "
            f"{_FRONT_MATTER_KEY.get(name, name)}: {message}"
            for name, message in errors.items()
        ]


# The front-matter key (or "body") behind each field the shared rules name.
_FRONT_MATTER_KEY = {"series": "series", "new_series": "series"}


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
    # Only what a file's shape decides is checked here; the article's own rules (slug,
    # lengths, series and position) are article_rules.check_article's, as in the editor.
    published = meta["published"]
    if isinstance(published, datetime):
        published = published if published.tzinfo else published.replace(tzinfo=UTC)
    elif isinstance(published, date):
        published = datetime.combine(published, time(12, 0), tzinfo=UTC)
    else:
        fail("published", f"published {published!r} is not a date like 2026-01-31")
    position = meta.get("position")
    if position is not None and (isinstance(position, bool) or not isinstance(position, int)):
        fail("position", f"position {position!r} must be a whole number from 1")
    return ParsedArticle(
        path=path,
        title=str(meta["title"]),
        slug=str(meta["slug"]).strip(),
        series_title=str(meta["series"]).strip() if meta.get("series") else None,
        series_description=str(meta.get("series_description") or ""),
        position=position,
        author=str(meta["author"]),
        published=published,
        summary=str(meta.get("summary") or ""),
        body="\n".join(lines[end + 1 :]),
        key_lines={str(key): line_of(str(key)) for key in meta} | {"body": end + 2},
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


def import_articles(paths: list[Path], *, body_max: int = 100_000) -> list[tuple[Article, bool]]:
    """Create or update (by slug) the articles in ``paths`` in one transaction.

    Every file is parsed before anything is written; each is then checked (against the
    files before it, and by the shared rules against the database) as it is written, and
    a refusal rolls the whole batch back, so a bad file leaves the database as it was. A
    refused file's every problem is reported. Returns each article with True when new."""
    files = collect_article_files(paths)
    parsed = [parse_article_file(path) for path in files]
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
    batch = _Batch()
    try:
        for item in parsed:
            article = db.session.execute(
                select(Article).where(Article.slug == item.slug)
            ).scalar_one_or_none()
            problems = batch.problems(item)
            try:
                checked = article_rules.check_article(item.draft(), article, body_max)
            except ValidationFailed as exc:
                problems += item.refusals(exc.errors)
            if problems:
                raise ArticleImportError("\n".join(problems))
            created = article is None
            if created:
                # Added to the session only once complete: apply() may query (and so flush).
                article = Article(author=authors[item.slug], published_at=item.published)
            else:
                article.author, article.published_at = authors[item.slug], item.published
            article_rules.apply(article, checked, item.series_description)
            if created:
                db.session.add(article)
                db.session.flush()
                community.add_follow(article.author, article)  # authors hear about comments
            results.append((article, created))
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return results


class _Batch:
    """Two files of one batch can't share a slug, nor a place in a series: the database
    can't tell, since the first of them is not the article it would see."""

    def __init__(self) -> None:
        self._slugs: dict[str, Path] = {}
        self._places: dict[tuple[str, int], Path] = {}

    def problems(self, item: ParsedArticle) -> list[str]:
        """What clashes with the files before ``item``; remembers ``item`` for the next."""
        found = []
        if item.slug in self._slugs:
            found.append(
                f"{item.where('slug')}: slug {item.slug!r} is also used by {self._slugs[item.slug]}"
            )
        self._slugs.setdefault(item.slug, item.path)
        if item.series_title and item.position is not None:
            place = (item.series_title, item.position)
            if place in self._places:
                found.append(
                    f"{item.where('position')}: position {item.position} in "
                    f"{item.series_title!r} is also given by {self._places[place]}"
                )
            self._places.setdefault(place, item.path)
        return found
