"""``import forum FILE.json``: this forum's own export read back (forum.services.export
writes it; README describes each field).

Reading checks the whole file before anything is written and names the record at fault
("comments[12].created_at: ..."). :func:`prepare` makes what comments need before they are
loaded (accounts, series, articles with their old addresses); :func:`finish` adds the
moderation log once the comments have their new ids."""

import json
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select

from forum.extensions import db
from forum.models import (
    Article,
    ArticleAlias,
    CommentSource,
    HideReason,
    ModAction,
    ModerationAction,
    Role,
    Series,
    User,
)
from forum.services import article_rules, external_articles
from forum.services.errors import DomainError
from forum.services.export import FORMAT, NO_PASSWORD, VERSION
from forum.services.sanitize import render_markdown
from forum.services.text import clean_text
from forum.services.usernames import is_valid_username

from .loader import Summary
from .records import (
    ImportFileError,
    Source,
    SourceAuthor,
    SourceComment,
    SourceRevision,
    SourceThread,
)

_STATES = {"visible", "pending", "hidden", "rejected", "deleted"}
COUNT_MAX = 1_000_000


class ForumSource(Source):
    """A forum export, read: the generic records plus what only this format carries."""

    def __init__(self, data: dict) -> None:
        super().__init__(system="forum")
        self.data = data


def read(path: Path) -> ForumSource:
    try:
        with path.open(encoding="utf-8") as handle:
            data = json.load(handle)
    except json.JSONDecodeError as error:
        raise ImportFileError(
            f"{path.name}, line {error.lineno}, column {error.colno}: not JSON ({error.msg})."
        ) from None
    except UnicodeDecodeError as error:
        raise ImportFileError(f"{path.name}: not UTF-8 text ({error.reason}).") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ImportFileError(f'{path.name}: not a forum export ("format": "{FORMAT}").')
    if data.get("version") != VERSION:
        raise ImportFileError(
            f"{path.name}: export version {data.get('version')!r}; this forum reads {VERSION}."
        )
    source = ForumSource(data)
    for index, article in enumerate(_list(data, "articles")):
        where = f"articles[{index}]"
        slug = _text(article, "slug", where)
        source.threads[slug] = SourceThread(
            key=slug,
            url=article.get("external_url"),
            title=_text(article, "title", where),
            where=where,
            slug=slug,
            prepared=True,
        )
    imported = {
        _text(a, "key", f"imported_authors[{i}]"): a
        for i, a in enumerate(_list(data, "imported_authors"))
    }
    for index, comment in enumerate(_list(data, "comments")):
        source.comments.append(_comment(comment, f"comments[{index}]", imported))
    return source


def _list(data: dict, key: str) -> list:
    value = data.get(key, [])
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise ImportFileError(f"{key}: expected a list of objects.")
    return value


def _text(record: dict, key: str, where: str, *, optional: bool = False) -> str | None:
    value = record.get(key)
    if value is None and optional:
        return None
    if not isinstance(value, str) or (not value and not optional):
        raise ImportFileError(f"{where}.{key}: expected text.")
    return value


def _when(record: dict, key: str, where: str, *, optional: bool = True) -> datetime | None:
    value = record.get(key)
    if value is None and optional:
        return None
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        raise ImportFileError(f"{where}.{key}: {value!r} is not a date and time.") from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _comment(record: dict, where: str, imported: dict[str, dict]) -> SourceComment:
    comment_id = record.get("id")
    if not isinstance(comment_id, int) or isinstance(comment_id, bool):
        raise ImportFileError(f"{where}.id: expected a whole number.")
    parent = record.get("parent")
    if parent is not None and (not isinstance(parent, int) or isinstance(parent, bool)):
        raise ImportFileError(f"{where}.parent: expected a whole number or null.")
    status = record.get("status")
    if status not in _STATES:
        raise ImportFileError(f"{where}.status: {status!r} is not one of {sorted(_STATES)}.")
    body_format = record.get("body_format", "markdown")
    if body_format not in ("markdown", "html"):
        raise ImportFileError(f"{where}.body_format: expected markdown or html.")
    author = record.get("author")
    if isinstance(author, dict) and isinstance(author.get("account"), str):
        source_author = SourceAuthor(key="", name="", username=author["account"])
    elif isinstance(author, dict) and author.get("imported") in imported:
        found = imported[author["imported"]]
        source_author = SourceAuthor(
            key=_text(found, "source_key", where + ".author"),
            name=found.get("name") or "",
            email=found.get("email"),
            url=found.get("url"),
            system=_text(found, "source", where + ".author"),
        )
    else:
        raise ImportFileError(f"{where}.author: expected an account or a listed imported author.")
    revisions = record.get("revisions") or []
    if not isinstance(revisions, list):
        raise ImportFileError(f"{where}.revisions: expected a list.")
    return SourceComment(
        source_id=str(comment_id),
        thread_key=_text(record, "article", where),
        parent_id=str(parent) if parent is not None else None,
        created_at=_when(record, "created_at", where, optional=False),
        body=_text(record, "body_md", where, optional=True) or "",
        body_format=body_format,
        author=source_author,
        state=status,
        where=where,
        edited_at=_when(record, "edited_at", where),
        deleted_at=_when(record, "deleted_at", where),
        hidden_at=_when(record, "hidden_at", where),
        hidden_by=_text(record, "hidden_by", where, optional=True),
        hidden_reason=_reason(record, where),
        hidden_note=(_text(record, "hidden_note", where, optional=True) or "")[:500] or None,
        pinned_at=_when(record, "pinned_at", where),
        pinned_by=_text(record, "pinned_by", where, optional=True),
        helpful_count=_count(record, "helpful_count", where),
        revisions=[
            SourceRevision(
                body=_text(r, "body_md", f"{where}.revisions[{i}]", optional=True) or "",
                written_at=_when(r, "written_at", f"{where}.revisions[{i}]", optional=False),
                replaced_at=_when(r, "replaced_at", f"{where}.revisions[{i}]", optional=False),
            )
            for i, r in enumerate(revisions)
        ],
    )


def _reason(record: dict, where: str) -> str | None:
    value = record.get("hidden_reason")
    if value is None:
        return None
    try:
        return HideReason(value).value
    except ValueError:
        raise ImportFileError(f"{where}.hidden_reason: {value!r} is not a reason.") from None


def _count(record: dict, key: str, where: str) -> int:
    value = record.get(key) or 0
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= COUNT_MAX:
        raise ImportFileError(f"{where}.{key}: expected a whole number from 0 to {COUNT_MAX}.")
    return value


# --- before and after loading ---------------------------------------------------------------


def prepare(source: ForumSource, summary: Summary) -> None:
    """Accounts, series and articles, found or made; each thread pointed at its article."""
    data = source.data
    for index, account in enumerate(_list(data, "accounts")):
        _account(account, f"accounts[{index}]", summary)
    series = {}
    for index, record in enumerate(_list(data, "series")):
        where = f"series[{index}]"
        slug = _text(record, "slug", where)
        found = db.session.execute(select(Series).where(Series.slug == slug)).scalar_one_or_none()
        if found is None:
            found = Series(
                slug=article_rules.free_slug(Series, _usable_slug(slug)),
                title=clean_text(_text(record, "title", where))[: article_rules.SERIES_TITLE_MAX],
                description=record.get("description") or "",
            )
            db.session.add(found)
        series[slug] = found
    for index, record in enumerate(_list(data, "articles")):
        where = f"articles[{index}]"
        thread = source.threads[record["slug"]]
        article, created = _article(record, where, series)
        thread.slug = article.slug
        summary.articles_created += int(created)
        summary.articles_matched += int(not created)
    db.session.flush()


def _account(record: dict, where: str, summary: Summary) -> User:
    username = _text(record, "username", where)
    if not is_valid_username(username):
        raise ImportFileError(f"{where}.username: {username!r} is not a valid username.")
    display_name = _text(record, "display_name", where, optional=True)
    user = db.session.execute(
        select(User).where(User.username_key == username.lower())
    ).scalar_one_or_none()
    if user is not None:
        return user
    try:
        role = Role(record.get("role") or "reader")
    except ValueError:
        raise ImportFileError(f"{where}.role: {record.get('role')!r} is not a role.") from None
    user = User(
        username=username,
        username_key=username.lower(),
        display_name=clean_text(display_name or "").strip()[:60] or None,
        password_hash=NO_PASSWORD,
        role=role,
        deleted_at=datetime.now(UTC) if record.get("deleted") else None,
    )
    db.session.add(user)
    db.session.flush()
    summary.authors += 1
    return user


def _article(record: dict, where: str, series: dict[str, Series]) -> tuple[Article, bool]:
    slug = _text(record, "slug", where)
    url = record.get("external_url")
    found = None
    if url:
        found = external_articles.find_by_url(url)
    if found is None:
        found = db.session.execute(select(Article).where(Article.slug == slug)).scalar_one_or_none()
        if found is not None and url and found.external_url != url:
            found = None  # another page took this slug here: a new slug below
    if found is not None:
        return found, False
    author = db.session.execute(
        select(User).where(User.username_key == (record.get("author") or "").lower())
    ).scalar_one_or_none()
    if author is None:
        raise ImportFileError(f"{where}.author: {record.get('author')!r} is not in accounts.")
    body = clean_text(record.get("body_md") or "")
    in_series = series.get(record.get("series") or "")
    try:
        article = Article(
            slug=article_rules.free_slug(Article, _usable_slug(slug)),
            title=clean_text(_text(record, "title", where))[: article_rules.TITLE_MAX],
            summary=clean_text(_text(record, "summary", where, optional=True) or "")[
                : article_rules.SUMMARY_MAX
            ],
            body_md=body,
            body_html=render_markdown(body, profile="article") if body else "",
            author=author,
            series=in_series,
            position=_position(record, where) if in_series is not None else None,
            published_at=_when(record, "published_at", where),
            discussion_locked=bool(record.get("discussion_locked")),
            lock_reason=(_text(record, "lock_reason", where, optional=True) or "")[:500] or None,
            external_url=external_articles.canonical_url(url) if url else None,
        )
    except DomainError as error:
        raise ImportFileError(f"{where}: {error.message}") from None
    db.session.add(article)
    db.session.flush()
    for alias in record.get("aliases") or []:
        try:
            alias_url = external_articles.canonical_url(alias)
        except DomainError as error:
            raise ImportFileError(f"{where}.aliases: {error.message}") from None
        if external_articles.find_by_url(alias_url) is None:
            db.session.add(ArticleAlias(url=alias_url, article=article))
    return article, True


def _usable_slug(slug: str) -> str:
    """The exported slug when it could be one here, else one made from it."""
    usable = len(slug) <= article_rules.SLUG_MAX and article_rules.SLUG_PATTERN.fullmatch(slug)
    if usable and slug not in article_rules.RESERVED_SLUGS:
        return slug
    return article_rules.make_slug(slug)


def _position(record: dict, where: str) -> int | None:
    value = record.get("position")
    if value is None:
        return None
    if not isinstance(value, int) or not 1 <= value <= article_rules.POSITION_MAX:
        raise ImportFileError(f"{where}.position: expected a whole number or null.")
    return value


def finish(source: ForumSource, summary: Summary) -> None:
    """The moderation log, its comments and articles named by their new ids."""
    data = source.data
    thread_of = {str(c["id"]): c["article"] for c in data.get("comments", [])}
    stored = {
        (thread, sid): comment_id
        for thread, sid, comment_id in db.session.execute(
            select(
                CommentSource.thread_key, CommentSource.source_id, CommentSource.comment_id
            ).where(CommentSource.source == "forum")
        ).all()
    }
    slugs = {slug: source.threads[slug].slug for slug in source.threads}
    for index, record in enumerate(_list(data, "moderation_actions")):
        where = f"moderation_actions[{index}]"
        try:
            action = ModAction(record.get("action"))
        except ValueError:
            raise ImportFileError(f"{where}.action: {record.get('action')!r} is unknown.") from None
        comment_id = None
        if record.get("comment") is not None:
            source_id = str(record["comment"])
            comment_id = stored.get((thread_of.get(source_id, ""), source_id))
        article_id = None
        if record.get("article") in slugs:
            article_id = db.session.execute(
                select(Article.id).where(Article.slug == slugs[record["article"]])
            ).scalar_one()
        actor = _user_id(record.get("actor"))
        if actor is None:
            raise ImportFileError(f"{where}.actor: {record.get('actor')!r} is not in accounts.")
        created_at = _when(record, "created_at", where, optional=False)
        already = db.session.execute(
            select(ModerationAction.id).where(
                ModerationAction.actor_id == actor,
                ModerationAction.action == action,
                ModerationAction.created_at == created_at,
            )
        ).first()
        if already is not None:
            continue  # imported before
        db.session.add(
            ModerationAction(
                actor_id=actor,
                action=action,
                comment_id=comment_id,
                article_id=article_id,
                target_user_id=_user_id(record.get("target_user")),
                reason=str(record.get("reason") or "")[:500],
                note=str(record.get("note") or "")[:1000],
                created_at=created_at,
            )
        )


def _user_id(username) -> int | None:
    if not isinstance(username, str):
        return None
    return db.session.execute(
        select(User.id).where(User.username_key == username.lower())
    ).scalar_one_or_none()
