"""What imports from other comment systems (Disqus, WordPress, Isso, another forum) keep.

An :class:`ImportedAuthor` is the person behind imported comments: shown by name with an
"imported" mark, never an account, never shown with their email. The email is kept only so
that a later claim can match it, and ``flask --app forum imported-authors forget`` deletes
every one. A :class:`CommentSource` remembers where an imported comment came from, so running
the same import again finds it and adds nothing."""

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from forum.extensions import db
from forum.models.common import UTCDateTime, utcnow

SOURCE_MAX = 20
SOURCE_KEY_MAX = 300
NAME_MAX = 100


class ImportedAuthor(db.Model):
    __tablename__ = "imported_authors"
    __table_args__ = (
        UniqueConstraint("source", "source_key", name="uq_imported_authors_source_source_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # The system the comments came from ("disqus", "wordpress", "isso", "forum") and the
    # author's key there (a username, an email or a name, whatever that system identifies
    # people by), so that re-importing finds the same author.
    source: Mapped[str] = mapped_column(String(SOURCE_MAX))
    source_key: Mapped[str] = mapped_column(String(SOURCE_KEY_MAX))
    name: Mapped[str] = mapped_column(String(NAME_MAX))
    email: Mapped[str | None] = mapped_column(String(320))
    url: Mapped[str | None] = mapped_column(String(2000))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def is_imported(self) -> bool:
        return True


class CommentSource(db.Model):
    """The id an imported comment had in the system it came from."""

    __tablename__ = "comment_sources"
    __table_args__ = (
        # WordPress numbers comments per site but Isso and others per thread: the thread is
        # part of the key, so two threads' comment 7 are two comments.
        UniqueConstraint(
            "source", "thread_key", "source_id", name="uq_comment_sources_source_thread_id"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    comment_id: Mapped[int] = mapped_column(
        ForeignKey("comments.id", ondelete="CASCADE"), unique=True
    )
    source: Mapped[str] = mapped_column(String(SOURCE_MAX))
    thread_key: Mapped[str] = mapped_column(String(SOURCE_KEY_MAX))
    source_id: Mapped[str] = mapped_column(String(SOURCE_KEY_MAX))
    # "html" (Disqus, WordPress: body_md holds the HTML as it came, re-rendered with
    # sanitize.render_html) or "markdown" (Isso, this forum: rendered as any comment).
    body_format: Mapped[str] = mapped_column(String(10), default="markdown")
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
