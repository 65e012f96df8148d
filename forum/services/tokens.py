"""Signed, expiring tokens for links sent by email: confirm an address, unsubscribe, reset a
password. Each purpose has its own salt, so a token made for one can never be used for
another; the payload is signed, not encrypted, so it holds ids and fingerprints, never secrets.
"""

import enum
import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from itsdangerous import BadSignature, URLSafeTimedSerializer

from forum.models import User
from forum.services.words import _l


class Purpose(enum.StrEnum):
    CONFIRM_EMAIL = "confirm-email"
    UNSUBSCRIBE = "unsubscribe"
    RESET = "reset-password"


class InvalidToken(Exception):
    """The token was altered, made for another purpose, or is not a token at all."""

    message = _l("This link isn't valid. Check that you copied all of it.")

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or self.message)
        if message:
            self.message = message


class ExpiredToken(InvalidToken):
    """The token is genuine but older than its purpose allows."""

    message = _l("This link has expired. Please ask for a new one.")


@dataclass(frozen=True)
class TokenSettings:
    """The signing key and how long each kind of link stays valid (read from app config)."""

    secret_key: str
    confirm_email: timedelta = timedelta(hours=48)
    unsubscribe: timedelta = timedelta(days=90)
    reset_password: timedelta = timedelta(minutes=60)

    @classmethod
    def from_config(cls, config) -> "TokenSettings":
        return cls(
            secret_key=config["SECRET_KEY"],
            confirm_email=timedelta(hours=config["EMAIL_CONFIRM_HOURS"]),
            unsubscribe=timedelta(days=config["UNSUBSCRIBE_LINK_DAYS"]),
            reset_password=timedelta(minutes=config["PASSWORD_RESET_MINUTES"]),
        )

    def max_age(self, purpose: Purpose) -> timedelta:
        return {
            Purpose.CONFIRM_EMAIL: self.confirm_email,
            Purpose.UNSUBSCRIBE: self.unsubscribe,
            Purpose.RESET: self.reset_password,
        }[purpose]


def _serializer(secret_key: str, purpose: Purpose) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_key, salt=f"forum.{purpose.value}")


def issue(
    settings: TokenSettings,
    purpose: Purpose,
    payload: dict[str, Any],
    *,
    now: datetime | None = None,
) -> str:
    """A URL-safe token carrying ``payload``, stamped with ``now`` (tests mint old tokens)."""
    serializer = _serializer(settings.secret_key, purpose)
    if now is None:
        return serializer.dumps(payload)
    signer = serializer.make_signer()
    issued_at = int(now.timestamp())
    signer.get_timestamp = lambda: issued_at
    return signer.sign(serializer.dump_payload(payload)).decode("ascii")


def read(
    settings: TokenSettings, purpose: Purpose, token: str, *, now: datetime | None = None
) -> dict[str, Any]:
    """The payload of a genuine token for ``purpose``, no older than that purpose allows.

    Raises ExpiredToken or InvalidToken; both mean "change nothing"."""
    serializer = _serializer(settings.secret_key, purpose)
    try:
        payload, issued_at = serializer.loads(token, return_timestamp=True)
    except BadSignature:
        raise InvalidToken() from None
    if not isinstance(payload, dict) or not isinstance(payload.get("u"), int):
        raise InvalidToken()
    age = (now or datetime.now(UTC)) - issued_at
    # A token from the future (beyond clock skew) was not made by this clock.
    if age > settings.max_age(purpose) or age < -timedelta(minutes=5):
        raise ExpiredToken()
    return payload


# --- the payload of each kind of link ------------------------------------------------------


def for_confirmation(settings: TokenSettings, user: User, *, now: datetime | None = None) -> str:
    """Confirms the address on the account now; useless once the address changes."""
    return issue(settings, Purpose.CONFIRM_EMAIL, {"u": user.id, "e": user.email}, now=now)


def for_unsubscribe(settings: TokenSettings, user: User, *, now: datetime | None = None) -> str:
    """Stops notification emails to this account, without logging in."""
    return issue(settings, Purpose.UNSUBSCRIBE, {"u": user.id}, now=now)


def for_password_reset(settings: TokenSettings, user: User, *, now: datetime | None = None) -> str:
    """Sets a new password once: the fingerprint no longer matches after that."""
    payload = {"u": user.id, "p": password_fingerprint(user)}
    return issue(settings, Purpose.RESET, payload, now=now)


def password_fingerprint(user: User) -> str:
    """Changes whenever the password (or the address the reset link went to) changes, so a
    reset link dies once used. A digest, not the hash itself: token payloads are readable."""
    material = f"{user.password_hash or ''}\0{user.email or ''}".encode()
    return hashlib.sha256(material).hexdigest()[:24]
