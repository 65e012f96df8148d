"""Personal API tokens: a member's named, scoped, expiring credentials for the JSON API."""

import enum
from datetime import datetime

from sqlalchemy import Enum, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from forum.extensions import db
from forum.models.common import UTCDateTime, utcnow
from forum.models.users import User


class TokenScope(enum.StrEnum):
    """What a token may do, each scope including the ones before it."""

    READ = "read"
    WRITE = "write"
    MODERATE = "moderate"

    @property
    def rank(self) -> int:
        return list(TokenScope).index(self)

    def includes(self, other: "TokenScope") -> bool:
        """Whether this scope covers ``other`` (write covers read, moderate covers both)."""
        return self.rank >= other.rank


class ApiToken(db.Model):
    """One token. Only a hash of its secret is stored: the raw token is shown once.

    The hash is a plain SHA-256 of a 256-bit random secret, not argon2: a password needs a
    slow hash because people choose guessable ones, but nobody can guess 2^256 secrets, and
    argon2's ~150 ms would be spent on every API call. A fast hash also lets the lookup be
    one indexed equality query."""

    __tablename__ = "api_tokens"
    __table_args__ = (UniqueConstraint("user_id", "name", name="uq_api_tokens_user_id_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(60))
    scope: Mapped[TokenScope] = mapped_column(
        Enum(
            TokenScope,
            native_enum=False,
            length=20,
            values_callable=lambda e: [m.value for m in e],
        )
    )
    # Public: shown in the list so a member can tell which token a leaked string is.
    prefix: Mapped[str] = mapped_column(String(16))
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()

    def is_expired(self, now: datetime | None = None) -> bool:
        return self.expires_at <= (now or utcnow())

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None

    def is_usable(self, now: datetime | None = None) -> bool:
        """Neither revoked nor expired (the holder's standing is checked elsewhere)."""
        return not self.is_revoked and not self.is_expired(now)

    def __repr__(self) -> str:
        return f"<ApiToken {self.prefix} {self.scope.value}>"
