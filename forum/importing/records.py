"""What every reader (Disqus, WordPress, Isso, this forum's export) turns its file into.

Readers only parse: they never touch the database. :mod:`forum.importing.loader` writes what
they read, the same way for every format."""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

# What a comment's state was in the system it came from.
State = Literal["visible", "pending", "deleted", "spam", "hidden", "rejected"]
BodyFormat = Literal["html", "markdown"]


class ImportFileError(Exception):
    """The file can't be imported; the message names the line or record and the reason."""


@dataclass(frozen=True)
class SourceAuthor:
    key: str  # what the source system identifies the person by (username, email, name)
    name: str
    email: str | None = None
    url: str | None = None
    # This forum's export: the account that wrote it (found or created by username), or the
    # system an imported author first came from (their key is kept from that system).
    username: str | None = None
    system: str | None = None


@dataclass
class SourceThread:
    key: str  # the thread's id in the source system (its link when it has none)
    url: str | None  # the page it belongs to
    title: str
    where: str  # "line 12", "thread 7": for messages
    deleted: bool = False  # a deleted Disqus thread: imported, nothing shown
    # This forum's export: the article's slug here, found or made before loading (and then
    # already counted as matched or created).
    slug: str | None = None
    prepared: bool = False


@dataclass
class SourceRevision:
    body: str
    written_at: datetime
    replaced_at: datetime


@dataclass
class SourceComment:
    source_id: str
    thread_key: str
    parent_id: str | None
    created_at: datetime
    body: str
    body_format: BodyFormat
    author: SourceAuthor
    state: State
    where: str
    # What this forum's own export also carries (the other formats leave the defaults).
    edited_at: datetime | None = None
    deleted_at: datetime | None = None
    hidden_at: datetime | None = None
    hidden_by: str | None = None  # username
    hidden_reason: str | None = None
    hidden_note: str | None = None
    pinned_at: datetime | None = None
    pinned_by: str | None = None  # username
    helpful_count: int = 0
    revisions: list[SourceRevision] = field(default_factory=list)


@dataclass
class Source:
    """A whole file, read."""

    system: str  # "disqus", "wordpress", "isso", "forum"
    threads: dict[str, SourceThread] = field(default_factory=dict)
    comments: list[SourceComment] = field(default_factory=list)
    # Things worth telling the person importing (an unclear isSpam value, a pingback skipped).
    notes: list[str] = field(default_factory=list)
    # Counted as spam because the source's value was neither clearly yes nor clearly no.
    unclear_spam: int = 0
    skipped: int = 0  # records that are not comments (pingbacks, trackbacks)
