"""Accounts."""

import enum
import secrets
from datetime import UTC, datetime

from flask_login import UserMixin
from sqlalchemy import ColumnElement, Enum, String, Text, and_
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column

from forum.extensions import db
from forum.models.common import UTCDateTime, utcnow

# Stored for an indefinite suspension: far enough away to never arrive, and still a date so
# "suspended until" stays one comparison.
INDEFINITE = datetime(9999, 12, 31, tzinfo=UTC)


class EmailPreference(enum.StrEnum):
    NONE = "none"
    IMMEDIATE = "immediate"
    DAILY = "daily"


class Role(enum.StrEnum):
    READER = "reader"
    AUTHOR = "author"
    MODERATOR = "moderator"
    ADMIN = "admin"


def new_session_token() -> str:
    """A random token; changing it signs the user out of every session."""
    return secrets.token_urlsafe(24)


class RoleQuestions:
    """What a role allows, asked of anything with a ``role``: accounts, and the typical
    viewer that shared page renderings are made for (forum/discussion/cached.py)."""

    role: Role

    @property
    def is_moderator(self) -> bool:
        """Moderators and admins: the one definition (``permissions.is_moderator`` asks it)."""
        return self.role in (Role.MODERATOR, Role.ADMIN)

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN


class User(RoleQuestions, UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(30))
    # Lower-cased copy with a unique index: "Alice" and "alice" are one account.
    username_key: Mapped[str] = mapped_column(String(30), unique=True)
    display_name: Mapped[str | None] = mapped_column(String(60))
    # Confusable skeletons (forum/services/names.py) of the username and display name,
    # indexed so that a new name is compared with every account's in one query.
    username_skeleton: Mapped[str | None] = mapped_column(String(255), index=True)
    display_name_skeleton: Mapped[str | None] = mapped_column(String(255), index=True)
    # A short Markdown bio and its sanitized HTML, rendered once when saved.
    bio_md: Mapped[str | None] = mapped_column(Text)
    bio_html: Mapped[str | None] = mapped_column(Text)
    # The content hash of the uploaded avatar (an AvatarImage row), None for the generated
    # one. On the row that cards render from, so a change bumps the discussions' version.
    avatar_hash: Mapped[str | None] = mapped_column(String(64))
    # The language the reader chose (forum.i18n.LOCALES); None follows their browser.
    locale: Mapped[str | None] = mapped_column(String(10))
    email: Mapped[str | None] = mapped_column(String(254))
    email_confirmed: Mapped[bool] = mapped_column(default=False)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(
        Enum(Role, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e]),
        default=Role.READER,
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    suspended_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    suspension_reason: Mapped[str | None] = mapped_column(String(500))
    # Hand-granted or earned trust lifts the limits on new accounts.
    trusted: Mapped[bool] = mapped_column(default=False)
    session_token: Mapped[str] = mapped_column(String(64), default=new_session_token)
    email_preference: Mapped[EmailPreference] = mapped_column(
        Enum(
            EmailPreference,
            native_enum=False,
            length=20,
            values_callable=lambda e: [m.value for m in e],
        ),
        default=EmailPreference.NONE,
        server_default=EmailPreference.NONE.value,
    )
    # When an author last marked their desk's new comments as seen.
    desk_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_digest_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Set when the account is deleted; the row stays so threads keep their shape.
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @classmethod
    def username_is(cls, username: str) -> ColumnElement[bool]:
        """SQL condition: this account's name is ``username``, whatever its letter case."""
        return cls.username_key == username.strip().lower()

    def get_id(self) -> str:
        """Flask-Login's alternative id: the session is valid only while the token matches."""
        return f"{self.id}:{self.session_token}"

    @property
    def name(self) -> str:
        """What to show for this user."""
        if self.deleted_at is not None:
            return "[deleted user]"
        return self.display_name or self.username

    @hybrid_property
    def wants_notification_email(self) -> bool:
        """Opted in to notification emails, with an address they confirmed. On the class,
        the same question in SQL (the fan-out reads it for many people in one query)."""
        return (
            self.email_preference is not EmailPreference.NONE
            and bool(self.email)
            and self.email_confirmed
            and self.deleted_at is None
        )

    @wants_notification_email.inplace.expression
    @classmethod
    def _wants_notification_email_clause(cls) -> ColumnElement[bool]:
        return and_(
            cls.email_preference != EmailPreference.NONE,
            cls.email.is_not(None),
            cls.email != "",
            cls.email_confirmed.is_(True),
            cls.deleted_at.is_(None),
        )

    def is_suspended(self, now: datetime | None = None) -> bool:
        """Whether a suspension is in force at ``now``."""
        return self.suspended_until is not None and self.suspended_until > (now or utcnow())

    @property
    def suspended_indefinitely(self) -> bool:
        return self.suspended_until is not None and self.suspended_until >= INDEFINITE

    def __repr__(self) -> str:
        return f"<User {self.username}>"
