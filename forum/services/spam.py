"""Spam heuristics that need no third party: a honeypot field and a minimum fill-in time."""

import time

from forum.services.errors import NotAllowed

BOT_MESSAGE = "That submission looked automated. Please wait a moment and try again."


def form_token(now: float | None = None) -> str:
    """The value for a form's hidden ``form_started`` field: when the form was shown."""
    return str(int(now if now is not None else time.time()))


def check_form(
    *,
    honeypot: str | None,
    started: str | None,
    enabled: bool,
    min_seconds: int,
    now: float | None = None,
) -> None:
    """Refuse submissions that filled the invisible field or came back too fast.

    The timestamp is in a form protected by the CSRF token, so a bot can't simply pick it."""
    if not enabled:
        return
    if honeypot:
        raise NotAllowed(BOT_MESSAGE)
    try:
        shown = int(started or "")
    except ValueError:
        raise NotAllowed(BOT_MESSAGE) from None
    if (now if now is not None else time.time()) - shown < min_seconds:
        raise NotAllowed(BOT_MESSAGE)
