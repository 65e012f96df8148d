"""Imported authors: the people behind comments imported from other systems."""

from sqlalchemy import update

from forum.extensions import db
from forum.models import ImportedAuthor


def forget_emails() -> int:
    """Delete every imported author's email address (kept only for a later claim); how
    many there were. Not committed."""
    result = db.session.execute(
        update(ImportedAuthor).where(ImportedAuthor.email.is_not(None)).values(email=None)
    )
    return result.rowcount
