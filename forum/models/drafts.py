"""Text a reader wrote whose form could not be sent because their session had ended."""

from datetime import datetime

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from forum.extensions import db
from forum.models.common import UTCDateTime, utcnow


class KeptDraft(db.Model):
    """A refused form's fields, kept for a day so the reader gets them back after logging
    in again. Found only through a random token held in the reader's session cookie; the
    table stores the token's hash, so reading the table reveals no way to claim a draft."""

    __tablename__ = "kept_drafts"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The path the form was posted to: which form gets the fields back.
    action: Mapped[str] = mapped_column(String(500))
    # The form's fields as a JSON object of strings (never a password or a token).
    fields: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
