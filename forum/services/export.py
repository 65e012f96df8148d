"""This forum's own export format ("forum-export", version 1), written and read back.

README ("Importing and exporting") describes every field. What goes in: articles (hosted
and external, with their old addresses), comments with their states, moderation details,
revisions and where imported ones came from, the moderation log, imported authors, and of
accounts only what readers see (username, display name, role, whether deleted). What never
goes in: password hashes, accounts' emails, session or reset tokens, notifications, votes by
person (only each comment's count), reports and appeals.

``import forum`` reads it back (:func:`read_export`, :func:`prepare_import`): accounts that
don't exist in the target are created with no password and no email (nobody can log in to
them), so every comment keeps its author's name, badges and profile link; existing accounts
are matched by username."""

import json
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select

from forum.extensions import db
from forum.models import (
    Article,
    Comment,
    CommentSource,
    ImportedAuthor,
    ModerationAction,
    User,
    utcnow,
)
from forum.services import external_articles

FORMAT = "forum-export"
VERSION = 1
# Not an argon2 hash: verifying any password against it fails, so nobody can log in.
NO_PASSWORD = "!imported"  # noqa: S105 (a marker, not a secret)


class ExportError(Exception):
    pass


def _time(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat() if value is not None else None


# --- writing --------------------------------------------------------------------------------


def write_export(path: Path, *, article: str | None = None) -> dict[str, int]:
    data = build_export(article=article)
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", encoding="utf-8") as handle:
        json.dump(data, handle, ensure_ascii=False, indent=1)
        handle.write("\n")
    tmp.replace(path)
    return {key: len(data[key]) for key in ("articles", "comments", "moderation_actions")}


def _chosen_articles(article: str | None) -> list[Article]:
    query = select(Article).order_by(Article.id)
    if article is None:
        return list(db.session.execute(query).scalars())
    found = db.session.execute(
        select(Article).where(Article.slug == article.strip("/").removeprefix("articles/"))
    ).scalar_one_or_none()
    if found is None and "://" in article:
        found = external_articles.find_by_url(article)
    if found is None:
        raise ExportError(f"No article has the slug or page address {article!r}.")
    return [found]


def build_export(*, article: str | None = None) -> dict:
    articles = _chosen_articles(article)
    ids = [a.id for a in articles]
    comments: list[Comment] = []
    for start in range(0, len(ids), 500):
        comments += db.session.execute(
            select(Comment)
            .where(Comment.article_id.in_(ids[start : start + 500]))
            .order_by(Comment.id)
        ).scalars()
    comment_ids = {c.id for c in comments}
    sources = _sources_of(comment_ids)
    actions = [
        action
        for action in db.session.execute(
            select(ModerationAction).order_by(ModerationAction.id)
        ).scalars()
        if action.comment_id in comment_ids
        or action.article_id in ids
        or (article is None and action.comment_id is None and action.article_id is None)
    ]
    users: dict[int, User] = {}

    def username(user_id: int | None) -> str | None:
        if user_id is None:
            return None
        if user_id not in users:
            users[user_id] = db.session.get(User, user_id)
        return users[user_id].username

    imported: dict[int, ImportedAuthor] = {}
    article_slugs = {a.id: a.slug for a in articles}
    series = {a.series.slug: a.series for a in articles if a.series is not None}
    data = {
        "format": FORMAT,
        "version": VERSION,
        "exported_at": _time(utcnow()),
        "series": [
            {"slug": s.slug, "title": s.title, "description": s.description}
            for s in series.values()
        ],
        "articles": [
            {
                "slug": a.slug,
                "title": a.title,
                "summary": a.summary,
                "body_md": a.body_md,
                "author": username(a.author_id),
                "series": a.series.slug if a.series is not None else None,
                "position": a.position,
                "published_at": _time(a.published_at),
                "discussion_locked": a.discussion_locked,
                "lock_reason": a.lock_reason,
                "external_url": a.external_url,
                "aliases": [alias.url for alias in a.aliases],
            }
            for a in articles
        ],
        "comments": [],
        "moderation_actions": [],
    }
    for c in comments:
        if c.imported_author_id is not None:
            imported[c.imported_author_id] = c.imported_author
        source = sources.get(c.id)
        data["comments"].append(
            {
                "id": c.id,
                "article": article_slugs[c.article_id],
                "parent": c.parent_id,
                "author": {"account": username(c.author_id)}
                if c.author_id is not None
                else {"imported": _imported_key(c.imported_author)},
                "status": c.status.value,
                "created_at": _time(c.created_at),
                "edited_at": _time(c.edited_at),
                "deleted_at": _time(c.deleted_at),
                "hidden_at": _time(c.hidden_at),
                "hidden_by": username(c.hidden_by_id),
                "hidden_reason": c.hidden_reason,
                "hidden_note": c.hidden_note,
                "pinned_at": _time(c.pinned_at),
                "pinned_by": username(c.pinned_by_id),
                "helpful_count": c.helpful_count,
                "body_md": c.body_md,
                "body_format": source.body_format if source else "markdown",
                "source": {
                    "system": source.source,
                    "thread": source.thread_key,
                    "id": source.source_id,
                }
                if source
                else None,
                "revisions": [
                    {
                        "body_md": r.body_md,
                        "written_at": _time(r.written_at),
                        "replaced_at": _time(r.replaced_at),
                    }
                    for r in c.revisions
                ],
            }
        )
    for action in actions:
        data["moderation_actions"].append(
            {
                "actor": username(action.actor_id),
                "action": action.action.value,
                "comment": action.comment_id,
                "article": article_slugs.get(action.article_id),
                "target_user": username(action.target_user_id),
                "reason": action.reason,
                "note": action.note,
                "created_at": _time(action.created_at),
            }
        )
    data["imported_authors"] = [
        {
            "key": _imported_key(author),
            "source": author.source,
            "source_key": author.source_key,
            "name": author.name,
            "url": author.url,
            "email": author.email,
            "created_at": _time(author.created_at),
        }
        for author in imported.values()
    ]
    data["accounts"] = [
        {
            "username": user.username,
            "display_name": user.display_name,
            "role": user.role.value,
            "deleted": user.deleted_at is not None,
        }
        for user in users.values()
    ]
    return data


def _imported_key(author: ImportedAuthor) -> str:
    return f"{author.source}:{author.source_key}"


def _sources_of(comment_ids: Iterable[int]) -> dict[int, CommentSource]:
    ids = sorted(comment_ids)
    found: dict[int, CommentSource] = {}
    for start in range(0, len(ids), 500):
        for source in db.session.execute(
            select(CommentSource).where(CommentSource.comment_id.in_(ids[start : start + 500]))
        ).scalars():
            found[source.comment_id] = source
    return found
