"""Row locks and unique violations: the two tools for state changes that hinge on a read.

SQLite serializes writers, so check-then-write code is correct there; on PostgreSQL two
requests read the same state at once and both act (a reset link used twice, a comment
hidden twice). Re-reading the row ``FOR UPDATE`` makes the second wait for the first and
then see its result. Where a unique constraint already says "once" (one report per reader
and comment), the loser's insert fails: that is the normal "already done" answer."""

from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.exc import IntegrityError

from forum.extensions import db

T = TypeVar("T")


def lock(instance: T) -> T:
    """Re-read ``instance``'s row and hold it until the commit (``SELECT ... FOR UPDATE``;
    SQLite has no row locks and needs none: its write transaction holds the database)."""
    # FOR UPDATE OF the row's own table: the instance may have been loaded with joined
    # relationships, and PostgreSQL can't lock the nullable side of an outer join.
    db.session.refresh(instance, with_for_update={"of": type(instance)})
    return instance


def is_unique_violation(error: IntegrityError) -> bool:
    """Whether the database refused a duplicate (not, say, a missing foreign key)."""
    original = error.orig
    if getattr(original, "sqlstate", None) == "23505":  # PostgreSQL's unique_violation
        return True
    return "UNIQUE constraint failed" in str(original)  # SQLite's words


def commit_once(already_done: Callable[[], Exception]) -> None:
    """Commit; if a unique constraint refuses it (someone did the same thing a moment
    earlier), roll back and raise ``already_done()`` instead of a database error."""
    try:
        db.session.commit()
    except IntegrityError as error:
        db.session.rollback()
        if not is_unique_violation(error):
            raise
        raise already_done() from None
