"""Spam heuristics that need no third party: a honeypot field and a minimum fill-in time."""

import time

from itsdangerous import BadSignature, Signer

from forum.services.errors import NotAllowed
from forum.services.words import _l

BOT_MESSAGE = _l("That submission looked automated. Please wait a moment and try again.")

# Keeps these signatures apart from every other use of the secret key.
_SALT = "forum.spam.form-started"


def _signer(secret_key: str | bytes) -> Signer:
    return Signer(secret_key, salt=_SALT)


def form_token(secret_key: str | bytes, now: float | None = None) -> str:
    """The value for a form's hidden ``form_started`` field: when the form was shown,
    signed with the app's secret key, so a bot can't post ``0`` (or any earlier time) to
    look like a slow typist."""
    shown = str(int(now if now is not None else time.time()))
    return _signer(secret_key).sign(shown).decode()


def check_form(
    *,
    honeypot: str | None,
    started: str | None,
    enabled: bool,
    min_seconds: int,
    secret_key: str | bytes,
    now: float | None = None,
) -> None:
    """Refuse submissions that filled the invisible field or came back too fast; a
    missing, unsigned or forged time counts as too fast."""
    if not enabled:
        return
    if honeypot:
        raise NotAllowed(BOT_MESSAGE)
    try:
        shown = int(_signer(secret_key).unsign(started or "").decode())
    except (BadSignature, ValueError):  # UnicodeError is a ValueError
        raise NotAllowed(BOT_MESSAGE) from None
    if (now if now is not None else time.time()) - shown < min_seconds:
        raise NotAllowed(BOT_MESSAGE)
