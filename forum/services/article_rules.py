"""What an article must be, checked in one place for both ways of writing one: the
front-matter importer (``article_import``) and the browser editor (``article_editor``).

:func:`check_article` takes what the writer gave (an :class:`ArticleDraft`) and returns it
as it will be stored, or raises ValidationFailed naming every bad field; :func:`apply`
writes a checked article onto its row. Slugs, for articles and series alike, are made by
:func:`make_slug` and made free by :func:`free_slug`."""

import re
import unicodedata
from dataclasses import dataclass

from sqlalchemy import func, select

from forum.extensions import db
from forum.models import Article, Series
from forum.services.errors import ValidationFailed
from forum.services.sanitize import render_markdown
from forum.services.text import is_blank, strip_control_characters
from forum.services.wording import _l, number

SLUG_PATTERN = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
# Paths under /articles/ that belong to pages, not articles: /articles/new is the editor.
RESERVED_SLUGS = frozenset({"new"})

TITLE_MAX = 200
SLUG_MAX = 120
SLUG_BASE_MAX = 100  # a made slug leaves room for a "-2" suffix under SLUG_MAX
SUMMARY_MAX = 1000
SERIES_TITLE_MAX = 200
POSITION_MAX = 10_000


@dataclass
class ArticleDraft:
    """What the writer gave (typed into the form, or written in a file's front matter),
    before any rule has looked at it."""

    title: str = ""
    slug: str = ""  # empty: made from the title
    summary: str = ""
    body: str = ""
    series_id: int | None = None  # an existing series...
    new_series: str = ""  # ...or the title of a series (new, or existing by that title)
    position: int | None = None  # empty: after the series' last article


@dataclass
class CheckedArticle:
    """A draft that passed :func:`check_article`, as it will be stored."""

    title: str
    slug: str
    summary: str
    body: str
    series: Series | None
    new_series: str | None  # created only when the article is saved
    position: int | None


# --- slugs ------------------------------------------------------------------------------------


def make_slug(text: str, fallback: str = "article") -> str:
    """A slug made from ``text``: 'Cafés & Cells' -> 'cafes-cells'.

    Accents are dropped rather than cut out (NFKD, then ASCII). Text with nothing usable, or
    that would give a reserved path, gets ``fallback`` ('new' -> 'new-article')."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    base = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:SLUG_BASE_MAX].strip("-")
    if not base or base in RESERVED_SLUGS:
        base = f"{base}-{fallback}".strip("-")
    return base


def free_slug(model: type[Article] | type[Series], base: str, exclude_id: int | None = None) -> str:
    """``base``, or ``base-2``, ``base-3``... whichever no other row of ``model`` has.

    One query finds every slug the base could collide with."""
    query = select(model.slug).where(
        (model.slug == base) | model.slug.startswith(f"{base}-", autoescape=True)
    )
    if exclude_id is not None:
        query = query.where(model.id != exclude_id)
    taken = set(db.session.execute(query).scalars())
    slug, n = base, 1
    while slug in taken:
        n += 1
        slug = f"{base}-{n}"
    return slug


def suggest_slug(title: str, article: Article | None = None) -> str:
    """A free article slug made from ``title`` (``article`` keeps its own)."""
    return free_slug(Article, make_slug(title), article.id if article is not None else None)


def slug_problem(slug: str, article: Article | None) -> str | None:
    """Why ``slug`` can't be ``article``'s address (None for a new article), or None."""
    if len(slug) > SLUG_MAX or not SLUG_PATTERN.fullmatch(slug):
        return _l(
            "Use lower-case letters, digits and single hyphens (like cells-and-signals), "
            "at most %(max)s characters.",
            max=SLUG_MAX,
        )
    if slug in RESERVED_SLUGS:
        return _l("“%(slug)s” is the address of a page; choose another slug.", slug=slug)
    query = select(Article.title).where(Article.slug == slug)
    if article is not None and article.id is not None:
        query = query.where(Article.id != article.id)
    holder = db.session.execute(query).scalar_one_or_none()
    if holder is not None:
        return _l("That slug is taken by “%(title)s”.", title=holder)
    return None


# --- the check --------------------------------------------------------------------------------


def one_line(text: str) -> str:
    """A title: control characters removed, runs of white space made one space."""
    return re.sub(r"\s+", " ", strip_control_characters(text or "")).strip()


def check_article(draft: ArticleDraft, article: Article | None, body_max: int) -> CheckedArticle:
    """The draft as it will be stored, or ValidationFailed naming every bad field.

    ``article`` is the row being changed (None for a new one): its own slug and position
    don't count as taken. The rules: a title; a slug of the right shape that no other
    article has (made from the title when empty); a body within ``body_max``; an existing
    series or a series title; a position only with a series, free in it, and after the
    series' last article when not given."""
    errors: dict[str, str] = {}
    title = one_line(draft.title)
    if not title:
        errors["title"] = _l("Give the article a title.")
    elif len(title) > TITLE_MAX:
        errors["title"] = _l("Titles can be at most %(max)s characters.", max=TITLE_MAX)

    slug = (draft.slug or "").strip()
    if not slug and title:
        slug = suggest_slug(title, article)
    elif slug and (problem := slug_problem(slug, article)):
        errors["slug"] = problem

    summary = strip_control_characters(draft.summary or "").strip()
    if len(summary) > SUMMARY_MAX:
        errors["summary"] = _l(
            "Keep the summary under %(max)s characters.", max=number(SUMMARY_MAX)
        )

    body = strip_control_characters(draft.body or "").strip("\n")
    if is_blank(body):
        errors["body"] = _l("Write the article before saving it.")
    elif len(body) > body_max:
        errors["body"] = _l(
            "Articles can be at most %(max)s characters; this one has %(length)s.",
            max=number(body_max),
            length=number(len(body)),
        )

    series, new_series = None, one_line(draft.new_series) or None
    if draft.series_id is not None and new_series:
        errors["new_series"] = _l("Choose an existing series or name a new one, not both.")
    elif draft.series_id is not None:
        series = db.session.get(Series, draft.series_id)
        if series is None:
            errors["series"] = _l("That series doesn't exist; choose another.")
    elif new_series:
        if len(new_series) > SERIES_TITLE_MAX:
            errors["new_series"] = _l(
                "Series titles can be at most %(max)s characters.", max=SERIES_TITLE_MAX
            )
        else:
            # A "new" series that already exists by that title is the existing one.
            series = db.session.execute(
                select(Series).where(Series.title == new_series)
            ).scalar_one_or_none()
            if series is not None:
                new_series = None

    position = draft.position
    if position is not None and not 1 <= position <= POSITION_MAX:
        errors["position"] = _l(
            "The position is a whole number from 1 to %(max)s.", max=number(POSITION_MAX)
        )
    elif position is not None and series is None and not new_series:
        if "series" not in errors and "new_series" not in errors:
            errors["position"] = _l("A position needs a series: choose one, or leave it empty.")
    elif series is not None:
        if position is None:
            position = _next_position(series, article)
        else:
            holder = _position_holder(series, position, article)
            if holder is not None:
                errors["position"] = _l(
                    "Position %(position)s in “%(series)s” is taken by “%(title)s” (%(slug)s).",
                    position=position,
                    series=series.title,
                    title=holder[0],
                    slug=holder[1],
                )
    elif new_series and position is None:
        position = 1

    if errors:
        raise ValidationFailed(errors)
    return CheckedArticle(title, slug, summary, body, series, new_series, position)


def _position_holder(
    series: Series, position: int, article: Article | None
) -> tuple[str, str] | None:
    """(title, slug) of the other article at ``position`` in ``series``, if any."""
    query = select(Article.title, Article.slug).where(
        Article.series_id == series.id, Article.position == position
    )
    if article is not None and article.id is not None:
        query = query.where(Article.id != article.id)
    row = db.session.execute(query.limit(1)).first()
    return (row.title, row.slug) if row is not None else None


def _next_position(series: Series, article: Article | None) -> int:
    """After the series' last article (keeping the article's own place if it has one)."""
    if article is not None and article.series_id == series.id and article.position is not None:
        return article.position
    query = select(func.max(Article.position)).where(Article.series_id == series.id)
    return (db.session.execute(query).scalar_one() or 0) + 1


# --- writing ----------------------------------------------------------------------------------


def apply(article: Article, checked: CheckedArticle, series_description: str = "") -> None:
    """Write a checked article onto its row (rendering the body once, here); a new series
    is created now. A ``series_description`` replaces the series' description."""
    article.title = checked.title
    article.slug = checked.slug
    article.summary = checked.summary
    article.body_md = checked.body
    article.body_html = render_markdown(checked.body, profile="article")
    if checked.new_series:
        article.series = series_named(checked.new_series, series_description)
    else:
        article.series = checked.series
        if checked.series is not None and series_description:
            checked.series.description = series_description
    article.position = checked.position if article.series is not None else None


def series_named(title: str, description: str = "") -> Series:
    """The series with this title, created (with a free slug) when there is none."""
    series = db.session.execute(select(Series).where(Series.title == title)).scalar_one_or_none()
    if series is None:
        slug = free_slug(Series, make_slug(title, fallback="series"))
        series = Series(title=title, slug=slug, description=description)
        db.session.add(series)
        db.session.flush()
    elif description:
        series.description = description
    return series
