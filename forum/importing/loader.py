"""Writing what a reader read: articles, imported authors, comments, in bulk, in one transaction.

Every format goes through :func:`load`, so the rules are the same for all of them:

- a thread becomes the article the URL map names (a hosted slug or a new address), else the
  external article at its page's canonical URL, found or created;
- a comment already imported (same system, thread and id: :class:`CommentSource`) is left as
  it is, so running an import twice adds nothing;
- a comment whose thread is not in the file is an *orphan*: counted, reported, skipped; a
  reply whose parent is not in the file (nor imported before) becomes a top-level comment;
- bodies go through the one sanitizer (``render_html`` for HTML, the Markdown pipeline for
  Markdown) before they are stored;
- parents are written before their replies, in the order comments were written, with the
  stored tree columns (``root_id``, ``depth``) set here, and the discussions' counts, keys
  and versions recounted at the end (bulk inserts bypass the ORM's flush hook).

Nothing here commits: the command commits once when everything worked, or rolls back."""

import hashlib
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from urllib.parse import urlsplit

from sqlalchemy import func, insert, select, text

from forum.extensions import db
from forum.models import (
    Article,
    Comment,
    CommentRevision,
    CommentSource,
    CommentStatus,
    ImportedAuthor,
    User,
    utcnow,
)
from forum.models.imported import NAME_MAX, SOURCE_KEY_MAX
from forum.services import discussion_state, external_articles
from forum.services.errors import DomainError
from forum.services.text import clean_text

from .bodies import render_all, render_body
from .records import ImportFileError, Source, SourceAuthor, SourceComment, SourceThread
from .url_map import UrlMap

BATCH_SIZE = 5_000
# At most this many examples of each kind of problem are listed in the report.
EXAMPLES = 10

_STATUS = {
    "visible": CommentStatus.VISIBLE,
    "pending": CommentStatus.PENDING,
    "deleted": CommentStatus.DELETED,
    "spam": CommentStatus.HIDDEN,
    "hidden": CommentStatus.HIDDEN,
    "rejected": CommentStatus.REJECTED,
}


@dataclass
class Summary:
    """What an import did (or, in a dry run, would do). README describes each key."""

    articles_matched: int = 0
    articles_created: int = 0
    comments: int = 0
    replies: int = 0
    deleted: int = 0
    spam: int = 0
    orphans: int = 0
    authors: int = 0
    pending: int = 0
    hidden: int = 0
    already_imported: int = 0
    unclear_spam: int = 0
    skipped: int = 0
    notes: list[str] = field(default_factory=list)
    note_counts: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict:
        return asdict(self)

    def note(self, kind: str, message: str) -> None:
        """Keep the first few messages of each kind; ``note_counts`` says how many."""
        self.note_counts[kind] = self.note_counts.get(kind, 0) + 1
        if self.note_counts[kind] <= EXAMPLES:
            self.notes.append(message)


@dataclass
class _Placed:
    """Where a comment sits in the tree, for placing its replies."""

    id: int
    article_id: int
    root_id: int | None
    depth: int


ProgressFn = Callable[[int], None]


def load(
    source: Source,
    *,
    owner: User | None,
    url_map: UrlMap | None = None,
    progress: ProgressFn | None = None,
    summary: Summary | None = None,
) -> Summary:
    """Write ``source`` into the session (not committed) and say what was done.

    ``owner`` is the account new external articles are filed under (their author here)."""
    summary = summary or Summary()
    summary.unclear_spam += source.unclear_spam
    summary.skipped += source.skipped
    for message in source.notes:
        summary.note("source", message)
    articles = _articles_for(source, owner, url_map, summary)
    existing = _already_imported(source)
    kept = []
    seen: set[tuple[str, str]] = set()
    for comment in source.comments:
        key = (comment.thread_key, comment.source_id)
        if key in seen:
            summary.skipped += 1
            summary.note("twice", f"{comment.where}: the same comment again; the first is kept.")
            continue
        seen.add(key)
        if comment.thread_key not in source.threads:
            summary.orphans += 1
            summary.note(
                "orphan",
                f"{comment.where}: comment {comment.source_id} belongs to thread "
                f"{comment.thread_key or '(none)'}, which is not in the file; skipped.",
            )
        elif key in existing:
            summary.already_imported += 1
        else:
            kept.append(comment)
    if progress and len(kept) != len(source.comments):
        progress(len(source.comments) - len(kept))
    rendered = dict(
        zip(
            ((c.thread_key, c.source_id) for c in kept),
            render_all([(c.body, c.body_format, source.system) for c in kept], progress),
            strict=True,
        )
    )
    authors = _authors_for(source.system, kept, summary)
    placed = _placed_existing(existing)
    next_id = (db.session.execute(select(func.max(Comment.id))).scalar() or 0) + 1
    writer = _Writer(source.system)
    touched: set[int] = set()
    for comment, parent in _parents_first(kept, placed, summary):
        thread = source.threads[comment.thread_key]
        article_id = articles[comment.thread_key]
        body = rendered[(comment.thread_key, comment.source_id)]
        author = _author_of(source.system, comment, authors)
        row = _comment_row(next_id, comment, body, thread, article_id, parent, author, summary)
        next_id += 1
        placed[(comment.thread_key, comment.source_id)] = _Placed(
            row["id"], article_id, row["root_id"], row["depth"]
        )
        writer.add(row, comment)
        touched.add(article_id)
    writer.flush()
    _advance_id_sequence()
    if touched:  # a run that added nothing leaves every discussion (and its cache) as it was
        discussion_state.recount(touched)
    return summary


# --- articles -------------------------------------------------------------------------------


def _articles_for(
    source: Source, owner: User | None, url_map: UrlMap | None, summary: Summary
) -> dict[str, int]:
    """Thread key → article id: the hosted article the URL map (or this forum's export)
    names, else the external article at the thread's page, found or created in bulk."""
    by_slug: dict[str, list[str]] = defaultdict(list)
    by_url: dict[str, list[str]] = defaultdict(list)
    titles: dict[str, str] = {}
    for key, thread in source.threads.items():
        slug, url = thread.slug, thread.url
        if url_map is not None and url:
            mapped = url_map.target(url)
            if mapped is not None:
                slug, url = mapped.slug, mapped.url or url
        if slug:
            by_slug[slug].append(key)
            continue
        if not url:
            raise ImportFileError(f"{thread.where}: the thread has no page address (link).")
        try:
            url = external_articles.canonical_url(url)
        except DomainError as error:
            raise ImportFileError(f"{thread.where}: {url!r}: {error.message}") from None
        by_url[url].append(key)
        titles.setdefault(url, thread.title)
    found: dict[str, int] = {}
    for slug, keys in by_slug.items():
        article_id = db.session.execute(
            select(Article.id).where(Article.slug == slug)
        ).scalar_one_or_none()
        if article_id is None:
            where = source.threads[keys[0]].where
            raise ImportFileError(f"{where}: no article has the slug {slug!r}.")
        for key in keys:
            found[key] = article_id
            summary.articles_matched += int(not source.threads[key].prepared)
    existing = external_articles.find_many(by_url)
    missing = [(url, titles[url]) for url in by_url if url not in existing]
    if missing and owner is None:
        raise ImportFileError(
            "New discussions need an author: create an admin account first, or name one "
            "with --author."
        )
    created = external_articles.create_many(missing, owner) if missing else {}
    summary.articles_matched += len(existing)
    summary.articles_created += len(created)
    for url, keys in by_url.items():
        for key in keys:
            found[key] = existing.get(url) or created[url]
    return found


# --- what is there already ------------------------------------------------------------------


def source_key(value: str) -> str:
    """A key that fits the key columns: as it is, or a digest when it is too long."""
    if len(value) <= SOURCE_KEY_MAX:
        return value
    return "sha256:" + hashlib.sha256(value.encode()).hexdigest()


def _chunks(items: list, size: int = 500) -> Iterable[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _already_imported(source: Source) -> dict[tuple[str, str], int]:
    """(thread key, source id) → comment id, for this system's comments imported before."""
    stored_keys = {source_key(key): key for key in source.threads}
    found: dict[tuple[str, str], int] = {}
    for chunk in _chunks(list(stored_keys)):
        rows = db.session.execute(
            select(
                CommentSource.thread_key, CommentSource.source_id, CommentSource.comment_id
            ).where(CommentSource.source == source.system, CommentSource.thread_key.in_(chunk))
        ).all()
        for thread_key, source_id, comment_id in rows:
            found[(stored_keys[thread_key], source_id)] = comment_id
    if not found:
        return found
    # Ids too long for the column were stored as digests: look those up by their digest.
    by_digest = {
        (c.thread_key, source_key(c.source_id)): c.source_id
        for c in source.comments
        if len(c.source_id) > SOURCE_KEY_MAX
    }
    for (thread_key, stored_id), comment_id in list(found.items()):
        original = by_digest.get((thread_key, stored_id))
        if original is not None:
            found[(thread_key, original)] = comment_id
    return found


def _placed_existing(existing: dict[tuple[str, str], int]) -> dict[tuple[str, str], _Placed]:
    by_id = {comment_id: key for key, comment_id in existing.items()}
    placed: dict[tuple[str, str], _Placed] = {}
    for chunk in _chunks(list(by_id)):
        rows = db.session.execute(
            select(Comment.id, Comment.article_id, Comment.root_id, Comment.depth).where(
                Comment.id.in_(chunk)
            )
        ).all()
        for row in rows:
            placed[by_id[row.id]] = _Placed(row.id, row.article_id, row.root_id, row.depth)
    return placed


# --- authors --------------------------------------------------------------------------------


def _clean_name(name: str) -> str:
    return clean_text(name or "").strip()[:NAME_MAX] or "Anonymous"


def _clean_url(url: str | None) -> str | None:
    url = clean_text(url or "").strip()
    if not url or len(url) > 2000 or urlsplit(url).scheme.lower() not in ("http", "https"):
        return None  # only a web address is worth keeping; never a javascript: "website"
    return url


def _clean_email(email: str | None) -> str | None:
    email = clean_text(email or "").strip()
    return email[:320] if "@" in email else None


def _authors_for(system: str, comments: list[SourceComment], summary: Summary) -> dict:
    """author key → ("user" | "imported", id): accounts by username, else imported authors,
    created when missing."""
    wanted: dict[tuple[str, str], SourceAuthor] = {}
    usernames: set[str] = set()
    for comment in comments:
        if comment.author.username:
            usernames.add(comment.author.username.lower())
        else:
            wanted.setdefault(_author_key(system, comment.author), comment.author)
    found: dict[str, tuple[str, int]] = {}
    for chunk in _chunks(sorted(usernames)):
        for key, user_id in db.session.execute(
            select(User.username_key, User.id).where(User.username_key.in_(chunk))
        ).all():
            found["user:" + key] = ("user", user_id)
    missing_accounts = usernames - {key[5:] for key in found}
    if missing_accounts:
        raise ImportFileError(f"No account is named {sorted(missing_accounts)[0]!r}.")
    existing = _imported_author_ids(list(wanted))
    new_rows = [
        {
            "source": key[0],
            "source_key": key[1],
            "name": _clean_name(author.name),
            "email": _clean_email(author.email),
            "url": _clean_url(author.url),
            "created_at": utcnow(),
        }
        for key, author in wanted.items()
        if key not in existing
    ]
    for chunk in _chunks(new_rows, BATCH_SIZE):
        db.session.execute(insert(ImportedAuthor), chunk)
    summary.authors += len(new_rows)
    if new_rows:
        existing = _imported_author_ids(list(wanted))
    for key, author_id in existing.items():
        found[key] = ("imported", author_id)
    return found


def _author_key(system: str, author: SourceAuthor) -> tuple[str, str]:
    return (author.system or system, source_key(author.key))


def _imported_author_ids(keys: list[tuple[str, str]]) -> dict[tuple[str, str], int]:
    by_system: dict[str, list[str]] = defaultdict(list)
    for system, key in keys:
        by_system[system].append(key)
    found: dict[tuple[str, str], int] = {}
    for system, system_keys in by_system.items():
        for chunk in _chunks(system_keys):
            rows = db.session.execute(
                select(ImportedAuthor.source_key, ImportedAuthor.id).where(
                    ImportedAuthor.source == system, ImportedAuthor.source_key.in_(chunk)
                )
            ).all()
            found.update({(system, key): author_id for key, author_id in rows})
    return found


def _author_of(system: str, comment: SourceComment, authors: dict) -> tuple[str, int]:
    if comment.author.username:
        return authors["user:" + comment.author.username.lower()]
    return authors[_author_key(system, comment.author)]


# --- the tree -------------------------------------------------------------------------------


def _parents_first(
    comments: list[SourceComment], placed: dict[tuple[str, str], _Placed], summary: Summary
) -> Iterable[tuple[SourceComment, _Placed | None]]:
    """Each comment with the place of its parent (None: top-level), parents always before
    their replies, otherwise in the order the comments were written. Without recursion:
    an old discussion may hold chains thousands deep."""
    in_file = {(c.thread_key, c.source_id) for c in comments}
    waiting: dict[tuple[str, str], list[SourceComment]] = defaultdict(list)
    ordered = sorted(comments, key=lambda c: c.created_at)

    def ready(comment: SourceComment) -> Iterable[tuple[SourceComment, _Placed | None]]:
        stack = [comment]
        while stack:
            current = stack.pop()
            parent = None
            if current.parent_id is not None:
                parent = placed.get((current.thread_key, current.parent_id))
            yield current, parent
            key = (current.thread_key, current.source_id)
            stack.extend(reversed(waiting.pop(key, [])))

    for comment in ordered:
        parent_key = (comment.thread_key, comment.parent_id)
        if comment.parent_id is None or parent_key in placed:
            yield from ready(comment)
        elif parent_key in in_file:
            waiting[parent_key].append(comment)  # its parent comes later (a clock was off)
        else:
            summary.note(
                "parent",
                f"{comment.where}: comment {comment.source_id} answers {comment.parent_id}, "
                "which is not in the file; imported as a top-level comment.",
            )
            comment.parent_id = None
            yield from ready(comment)
    # Whatever still waits is in a loop of parents (a broken file): break each loop.
    while waiting:
        key = next(iter(waiting))
        for comment in waiting.pop(key):
            summary.note(
                "parent",
                f"{comment.where}: comment {comment.source_id} is in a loop of replies; "
                "imported as a top-level comment.",
            )
            comment.parent_id = None
            yield from ready(comment)


# --- rows -----------------------------------------------------------------------------------


def _comment_row(
    comment_id: int,
    comment: SourceComment,
    body: tuple[str, str],
    thread: SourceThread,
    article_id: int,
    parent: _Placed | None,
    author: tuple[str, int],
    summary: Summary,
) -> dict:
    if parent is not None and parent.article_id != article_id:
        parent = None  # a parent filed under another page: keep the comment, not the link
    kind, author_id = author
    state = "deleted" if thread.deleted else comment.state
    status = _STATUS[state]
    body_md, body_html = body
    now = utcnow()
    summary.comments += 1
    summary.replies += int(parent is not None)
    summary.deleted += int(state == "deleted")
    summary.spam += int(state == "spam")
    summary.pending += int(state == "pending")
    summary.hidden += int(state == "hidden")
    hidden = status is CommentStatus.HIDDEN
    return {
        "id": comment_id,
        "article_id": article_id,
        "author_id": author_id if kind == "user" else None,
        "imported_author_id": author_id if kind == "imported" else None,
        "parent_id": parent.id if parent else None,
        "root_id": (parent.root_id or parent.id) if parent else None,
        "depth": parent.depth + 1 if parent else 0,
        "body_md": body_md,
        "body_html": body_html,
        "status": status,
        "created_at": comment.created_at,
        "edited_at": comment.edited_at,
        "deleted_at": (comment.deleted_at or now) if status is CommentStatus.DELETED else None,
        "hidden_at": (comment.hidden_at or now) if hidden else None,
        "hidden_by_id": comment.hidden_by,  # a username here; _Writer resolves it
        "hidden_reason": (comment.hidden_reason or "spam") if hidden else None,
        "hidden_note": comment.hidden_note if hidden else None,
        "pinned_at": comment.pinned_at,
        "pinned_by_id": comment.pinned_by,  # likewise
        "helpful_count": comment.helpful_count,
        # Nobody is told about imported comments: they were news years ago.
        "notified_at": comment.created_at,
    }


class _Writer:
    """Inserts rows in batches: comments, then where they came from, then revisions."""

    def __init__(self, system: str) -> None:
        self.system = system
        self.comments: list[dict] = []
        self.sources: list[dict] = []
        self.revisions: list[dict] = []
        self.usernames: dict[str, int | None] = {}

    def add(self, row: dict, comment: SourceComment) -> None:
        row["hidden_by_id"] = self._user_id(row["hidden_by_id"])
        row["pinned_by_id"] = self._user_id(row["pinned_by_id"])
        self.comments.append(row)
        self.sources.append(
            {
                "comment_id": row["id"],
                "source": self.system,
                "thread_key": source_key(comment.thread_key),
                "source_id": source_key(comment.source_id),
                "body_format": comment.body_format,
                "imported_at": utcnow(),
            }
        )
        for revision in comment.revisions:
            body, html = render_body(revision.body, comment.body_format, self.system)
            self.revisions.append(
                {
                    "comment_id": row["id"],
                    "body_md": body,
                    "body_html": html,
                    "written_at": revision.written_at,
                    "replaced_at": revision.replaced_at,
                }
            )
        if len(self.comments) >= BATCH_SIZE:
            self.flush()

    def _user_id(self, username: str | None) -> int | None:
        if not username:
            return None
        key = username.lower()
        if key not in self.usernames:
            self.usernames[key] = db.session.execute(
                select(User.id).where(User.username_key == key)
            ).scalar_one_or_none()
        return self.usernames[key]

    def flush(self) -> None:
        if self.comments:
            # Core inserts, not the ORM's bulk path: the rows are complete, and the ORM's
            # per-row bookkeeping was a third of an import's time.
            connection = db.session.connection()
            connection.execute(Comment.__table__.insert(), self.comments)
            connection.execute(CommentSource.__table__.insert(), self.sources)
        if self.revisions:
            db.session.connection().execute(CommentRevision.__table__.insert(), self.revisions)
        self.comments, self.sources, self.revisions = [], [], []


def _advance_id_sequence() -> None:
    """PostgreSQL's id sequence didn't see the ids given here: move it past them, or the
    next comment posted normally would collide."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(
            text(
                "SELECT setval(pg_get_serial_sequence('comments', 'id'), "
                "(SELECT COALESCE(MAX(id), 1) FROM comments))"
            )
        )
