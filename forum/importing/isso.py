"""Isso's SQLite database (``comments.db``), read as it is, read-only.

Isso keeps ``threads(id, uri, title)``, where ``uri`` is the page's path, and
``comments(tid, id, parent, created, modified, mode, remote_addr, text, author, email,
website, likes, dislikes, voters, notification)``: ``created`` is a Unix time, ``mode`` is
1 (accepted), 2 (waiting for a moderator) or 4 (deleted, kept because replies hang under
it), and ``text`` is Markdown as the reader wrote it (Isso renders it when showing it), so
it goes through this forum's Markdown pipeline. Likes become "found this helpful" counts;
addresses (``remote_addr``) are not imported."""

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from forum.services import external_articles
from forum.services.errors import NotAllowed

from .records import ImportFileError, Source, SourceAuthor, SourceComment, SourceThread

_MODES = {1: "visible", 2: "pending", 4: "deleted"}


def read(path: Path, site: str) -> Source:
    origin = _origin(site)
    source = Source(system="isso")
    try:
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    except sqlite3.Error as error:
        raise ImportFileError(f"{path.name}: cannot open it ({error}).") from None
    try:
        for tid, uri, title in connection.execute("SELECT id, uri, title FROM threads"):
            key = str(tid)
            where = f"thread {tid} ({uri})"
            if not isinstance(uri, str) or not uri.startswith("/"):
                raise ImportFileError(f"{where}: the uri is not a path starting with /.")
            source.threads[key] = SourceThread(
                key=key, url=origin + uri, title=title or "", where=where
            )
        rows = connection.execute(
            "SELECT tid, id, parent, created, modified, mode, text, author, email, website,"
            " likes FROM comments ORDER BY id"
        )
        for row in rows:
            source.comments.append(_comment(row, source))
    except sqlite3.DatabaseError as error:
        raise ImportFileError(f"{path.name}: not an Isso database ({error}).") from None
    finally:
        connection.close()
    return source


def _origin(site: str) -> str:
    try:
        url = external_articles.canonical_url(site)
    except NotAllowed as error:
        raise ImportFileError(f"--site {site!r}: {error.message}") from None
    return external_articles.origin_of(url)


def _time(value, where: str) -> datetime:
    try:
        return datetime.fromtimestamp(float(value), tz=UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        raise ImportFileError(f"{where}: created {value!r} is not a Unix time.") from None


def _comment(row, source: Source) -> SourceComment:
    tid, comment_id, parent, created, modified, mode, text, author, email, website, likes = row
    where = f"comment {comment_id} (thread {tid})"
    state = _MODES.get(mode)
    if state is None:
        state = "spam"
        source.unclear_spam += 1
        source.notes.append(f"{where}: mode is {mode!r}, not 1, 2 or 4; imported as spam.")
    created_at = _time(created, where)
    if email:
        key = f"email:{str(email).lower()}"
    elif author:
        key = f"name:{author}|{website or ''}"
    else:
        key = "anonymous"
    return SourceComment(
        source_id=str(comment_id),
        thread_key=str(tid),
        parent_id=str(parent) if parent is not None else None,
        created_at=created_at,
        body=str(text or ""),
        body_format="markdown",
        author=SourceAuthor(
            key=key, name=str(author or ""), email=email or None, url=website or None
        ),
        state=state,
        where=where,
        edited_at=_time(modified, where) if modified else None,
        helpful_count=_likes(likes) if state == "visible" else 0,
    )


def _likes(value) -> int:
    """Isso's like count, as a "found this helpful" count (anything odd counts as none)."""
    try:
        return min(max(int(value or 0), 0), 1_000_000)
    except (TypeError, ValueError):
        return 0
