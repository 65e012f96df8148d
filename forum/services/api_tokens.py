"""Personal API tokens: made on the account page, sent as ``Authorization: Bearer``.

A raw token reads ``forum_<prefix>_<secret>``: the prefix is public (the account page lists
it, so a member can tell which token leaked), the secret is 256 random bits. Only the
SHA-256 of the whole string is stored (see ``ApiToken``), so the raw token is shown once, at
creation, and can never be shown again."""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update

from forum.extensions import db
from forum.models import ApiToken, TokenScope, User, utcnow
from forum.services import permissions
from forum.services.errors import Forbidden, NotAllowed, NotFound
from forum.services.locking import commit_once
from forum.services.text import clean_text
from forum.services.words import _l
from forum.sqlite import writing

TOKEN_PREFIX = "forum"  # noqa: S105 (the public start of every token, not a secret)
EXPIRY_CHOICES_DAYS = (7, 30, 90, 365)
DEFAULT_EXPIRY_DAYS = 90
NAME_MAX_LENGTH = 60
# Marking a token used costs a write; once a minute is precise enough for "last used".
LAST_USED_PRECISION = timedelta(minutes=1)


@dataclass(frozen=True)
class TokenGrant:
    """Who a valid token acts for, and what it may do now (capped by the holder's role)."""

    user: User
    scope: TokenScope
    token_id: int


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()


def _new_raw_token() -> tuple[str, str]:
    """(prefix, raw token)."""
    prefix = secrets.token_hex(4)
    return prefix, f"{TOKEN_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"


def scopes_for(user: User | None) -> list[TokenScope]:
    """The scopes ``user`` may give a token, lowest first."""
    return [scope for scope in TokenScope if permissions.can_hold_token_scope(user, scope)]


def effective_scope(user: User, scope: TokenScope) -> TokenScope:
    """``scope`` lowered to what the holder's current role allows (a demoted moderator's
    moderate token acts as a write token)."""
    allowed = scopes_for(user)
    return scope if scope in allowed else allowed[-1]


def create_token(
    user: User, name: str, scope: TokenScope | str, expires_in_days: int
) -> tuple[ApiToken, str]:
    """A new token for ``user`` and its raw form, which nobody can see again after this."""
    if not permissions.can_make_tokens(user):
        raise Forbidden(_l("Your account can't make API tokens now."))
    name = clean_text(name).strip()
    if not name:
        raise NotAllowed(_l("Give the token a name, so you know where it is used."), field="name")
    if len(name) > NAME_MAX_LENGTH:
        raise NotAllowed(
            _l("Names have at most %(count)s characters.", count=NAME_MAX_LENGTH), field="name"
        )
    try:
        scope = TokenScope(scope)
    except ValueError:
        raise NotAllowed(_l("Choose read, write or moderate."), field="scope") from None
    if not permissions.can_hold_token_scope(user, scope):
        raise Forbidden(_l("Your role can't give a token the %(scope)s scope.", scope=scope.value))
    if expires_in_days not in EXPIRY_CHOICES_DAYS:
        raise NotAllowed(_l("Choose 7, 30, 90 or 365 days."), field="expires_in_days")
    if _name_taken(user, name):
        raise NotAllowed(_l("You already have a token with this name."), field="name")
    prefix, raw = _new_raw_token()
    now = utcnow()
    token = ApiToken(
        user_id=user.id,
        name=name,
        scope=scope,
        prefix=prefix,
        secret_hash=hash_token(raw),
        created_at=now,
        expires_at=now + timedelta(days=expires_in_days),
    )
    db.session.add(token)
    # Two forms sent at once with one name: the unique constraint refuses the second.
    commit_once(lambda: NotAllowed(_l("You already have a token with this name."), field="name"))
    return token, raw


def _name_taken(user: User, name: str) -> bool:
    query = select(ApiToken.id).where(ApiToken.user_id == user.id, ApiToken.name == name)
    return db.session.execute(query.limit(1)).first() is not None


def bearer_token(authorization: str | None) -> str | None:
    """The raw token of an ``Authorization: Bearer <token>`` header value, or None (the
    scheme's name is case-insensitive, RFC 9110)."""
    scheme, _, token = (authorization or "").strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def authenticate(raw: str, now: datetime | None = None) -> TokenGrant | None:
    """The grant of a raw token, or None for an unknown, expired or revoked token or a
    holder who is suspended or deleted. Marks the token used (at most once a minute)."""
    if not raw or not raw.startswith(TOKEN_PREFIX + "_") or len(raw) > 200:
        return None
    now = now or utcnow()
    token = db.session.execute(
        select(ApiToken).where(ApiToken.secret_hash == hash_token(raw))
    ).scalar_one_or_none()
    if token is None or not token.is_usable(now):
        return None
    user = token.user
    if user.deleted_at is not None or user.is_suspended(now):
        return None
    grant = TokenGrant(user=user, scope=effective_scope(user, token.scope), token_id=token.id)
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_PRECISION:
        _mark_used(token.id, now)
    return grant


def _mark_used(token_id: int, now: datetime) -> None:
    """One conditional UPDATE: concurrent calls within the minute write nothing twice."""
    with writing(db.session):
        db.session.execute(
            update(ApiToken)
            .where(
                ApiToken.id == token_id,
                or_(
                    ApiToken.last_used_at.is_(None),
                    ApiToken.last_used_at <= now - LAST_USED_PRECISION,
                ),
            )
            .values(last_used_at=now)
            .execution_options(synchronize_session=False)
        )
        db.session.commit()


def revoke(user: User, token_id: int) -> ApiToken:
    """Revoke one of ``user``'s own tokens; anyone else's is "not found". Revoking twice
    changes nothing the second time."""
    token = db.session.get(ApiToken, token_id)
    if token is None or user is None or token.user_id != user.id:
        raise NotFound(_l("There is no such token."))
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        db.session.commit()
    return token


def tokens_of(user: User) -> list[ApiToken]:
    """``user``'s tokens, newest first, revoked and expired ones included (to show why a
    script stopped working)."""
    query = (
        select(ApiToken)
        .where(ApiToken.user_id == user.id)
        .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
    )
    return list(db.session.execute(query).scalars())
