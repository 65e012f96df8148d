"""An account's email address and email choices, and password reset by email.

Each use case takes the acting user (or a signed token standing for one), checks the rules,
queues the emails it causes (when ``links`` is given, i.e. mail is configured) and commits
once. The emails are returned so the caller can try to deliver them at once."""

from datetime import datetime

from sqlalchemy import func, select, update

from forum.extensions import db, passwords
from forum.models import EmailPreference, Notification, OutgoingEmail, User
from forum.models.users import new_session_token
from forum.services import mail_compose, tokens
from forum.services.accounts import normalize_address, password_problem
from forum.services.errors import Conflict, NotAllowed
from forum.services.locking import lock
from forum.services.tokens import InvalidToken, Purpose, TokenSettings
from forum.services.words import _l


def _user_from(payload: dict) -> User:
    user = db.session.get(User, payload["u"])
    if user is None or user.deleted_at is not None:
        raise InvalidToken(_l("This link belongs to an account that no longer exists."))
    return user


# --- the address -------------------------------------------------------------------------


def change_email(
    user: User, new_address: str | None, current_password: str, links: mail_compose.Links | None
) -> list[OutgoingEmail]:
    """Set (or, with an empty address, remove) the account's address; it is used only once
    confirmed. The old confirmed address is told, in case the change wasn't its owner's."""
    if not passwords.verify(user.password_hash, current_password):
        raise NotAllowed(_l("That isn't your current password."), field="current_password")
    new = normalize_address(new_address) if (new_address or "").strip() else None
    if new == user.email:
        raise NotAllowed(_l("That is already the address on your account."), field="email")
    previous = user.email if user.email_confirmed else None
    user.email, user.email_confirmed = new, False
    queued = []
    if links is not None:
        if new:
            queued.append(mail_compose.queue_confirmation(user, links))
        if previous:
            queued.append(mail_compose.queue_email_changed(user, previous, links))
    db.session.commit()
    return queued


def send_confirmation(user: User, links: mail_compose.Links) -> OutgoingEmail:
    """Send the confirmation link (again)."""
    if not user.email:
        raise Conflict(_l("There is no email address on your account."))
    if user.email_confirmed:
        raise Conflict(_l("Your email address is already confirmed."))
    # Registration stores the address as typed; don't queue mail no server would take.
    normalize_address(user.email)
    email = mail_compose.queue_confirmation(user, links)
    db.session.commit()
    return email


def user_to_confirm(token: str, settings: TokenSettings, *, now: datetime | None = None) -> User:
    """The account a confirmation link is for, if the link is genuine, fresh, and for the
    address the account has now."""
    payload = tokens.read(settings, Purpose.CONFIRM_EMAIL, token, now=now)
    user = _user_from(payload)
    if not user.email or user.email != payload.get("e"):
        raise InvalidToken(_l("This link is for an address that is no longer on the account."))
    return user


def confirm_email(token: str, settings: TokenSettings, *, now: datetime | None = None) -> User:
    """Mark the address confirmed (again is harmless)."""
    user = user_to_confirm(token, settings, now=now)
    user.email_confirmed = True
    db.session.commit()
    return user


# --- what we send ------------------------------------------------------------------------------


def set_preference(user: User, preference: EmailPreference) -> None:
    """Choose none, immediate or daily. 'None' also cancels emails not yet composed."""
    user.email_preference = preference
    if preference is EmailPreference.NONE:
        db.session.execute(
            update(Notification)
            .where(
                Notification.user_id == user.id,
                Notification.email_due.is_(True),
                Notification.emailed_at.is_(None),
            )
            .values(email_due=False)
        )
    db.session.commit()


def user_to_unsubscribe(
    token: str, settings: TokenSettings, *, now: datetime | None = None
) -> User:
    """The account an unsubscribe link is for, if the link is genuine and fresh."""
    payload = tokens.read(settings, Purpose.UNSUBSCRIBE, token, now=now)
    user = db.session.get(User, payload["u"])
    if user is None:
        raise InvalidToken()
    return user


def unsubscribe(token: str, settings: TokenSettings, *, now: datetime | None = None) -> User:
    """Stop notification emails, authenticated by the signed link alone."""
    user = user_to_unsubscribe(token, settings, now=now)
    set_preference(user, EmailPreference.NONE)
    return user


def notify_password_changed(user: User, links: mail_compose.Links) -> OutgoingEmail | None:
    """Tell the owner of a confirmed address that the password was just changed."""
    notice = mail_compose.queue_password_changed(user, links)
    if notice is not None:
        db.session.commit()
    return notice


# --- password reset ----------------------------------------------------------------------------


def request_password_reset(address: str, links: mail_compose.Links) -> list[OutgoingEmail]:
    """Email a reset link to every account whose confirmed address this is. The caller
    answers the same whether or not any account matched."""
    try:
        address = normalize_address(address)
    except NotAllowed:
        return []
    users = (
        db.session.execute(
            select(User).where(
                func.lower(User.email) == address.lower(),
                User.email_confirmed.is_(True),
                User.deleted_at.is_(None),
                User.password_hash.is_not(None),
            )
        )
        .scalars()
        .all()
    )
    queued = [mail_compose.queue_password_reset(user, links) for user in users]
    db.session.commit()
    return queued


def user_to_reset(token: str, settings: TokenSettings, *, now: datetime | None = None) -> User:
    """The account a reset link is for, if the link is genuine, fresh and unused: it carries
    a fingerprint of the password hash, which the reset itself changes."""
    payload = tokens.read(settings, Purpose.RESET, token, now=now)
    user = _user_from(payload)
    if payload.get("p") != tokens.password_fingerprint(user):
        raise InvalidToken(
            _l(
                "This link has already been used, or the password was changed since it was "
                "sent. Ask for a new one if you need it."
            )
        )
    return user


def reset_password(
    token: str,
    new_password: str,
    settings: TokenSettings,
    links: mail_compose.Links | None,
    *,
    min_length: int = 10,
    max_length: int = 1024,
    now: datetime | None = None,
) -> list[OutgoingEmail]:
    """Set a new password through a reset link; every session of the account ends, and the
    owner is told by email."""
    user = user_to_reset(token, settings, now=now)
    if problem := password_problem(new_password, user.username, min_length, max_length):
        raise NotAllowed(problem, field="password")
    new_hash = passwords.hash(new_password)
    # The link is good once: read the account again, locked, and check it is still unused
    # (two requests with the same link at once: the second waits, then finds it used).
    lock(user)
    user = user_to_reset(token, settings, now=now)
    user.password_hash = new_hash
    user.session_token = new_session_token()
    notice = mail_compose.queue_password_changed(user, links) if links is not None else None
    db.session.commit()
    return [notice] if notice else []
