"""What a member tells about themselves: the log of their display names and their avatar."""

from datetime import datetime

from sqlalchemy import ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from forum.extensions import db
from forum.models.common import UTCDateTime, utcnow


class DisplayNameChange(db.Model):
    """One change of a display name, kept so that anyone can see who someone was called
    before (a renamed account can't quietly take over an old name's reputation)."""

    __tablename__ = "display_name_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    old_name: Mapped[str | None] = mapped_column(String(60))
    new_name: Mapped[str | None] = mapped_column(String(60))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AvatarImage(db.Model):
    """An uploaded avatar, already decoded, re-encoded and stripped of metadata: the bytes
    served as they are. One per account; ``content_hash`` names it in the URL, so a new
    picture gets a new address and the old one may be cached for ever."""

    __tablename__ = "avatar_images"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    content_hash: Mapped[str] = mapped_column(String(64))
    media_type: Mapped[str] = mapped_column(String(40))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
