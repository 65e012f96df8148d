"""Known devices: OWASP's device cookies, so that login throttling can't lock owners out.

After a successful login the browser gets a signed cookie naming the account and a random
nonce. Login attempts from a browser holding a valid cookie for the account it logs in to
are exempt from the per-address and per-account limits (an attacker guessing passwords from
the same address, or against the same account, doesn't lock the owner out); they are
limited per device cookie instead, so a stolen cookie buys a handful of guesses, not more.
A cookie that is forged, expired or for another account counts for nothing: the attempt is
throttled like any stranger's."""

import secrets

from flask import Response, current_app, request
from itsdangerous import BadSignature, URLSafeTimedSerializer

COOKIE_NAME = "forum_device"
# Sent with the login form's requests only: nothing else reads it.
COOKIE_PATH = "/login"
_SALT = "forum.known-device"


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt=_SALT)


def _max_age() -> int:
    return int(current_app.config["KNOWN_DEVICE_DAYS"]) * 24 * 3600


def account_key(username: str | None) -> str:
    """How a username names an account for throttling: trimmed, case folded."""
    return (username or "").strip().lower()


def remember(response: Response, username: str) -> None:
    """Mark this browser as a known device of ``username`` (after a successful login)."""
    value = _serializer().dumps([account_key(username), secrets.token_urlsafe(16)])
    response.set_cookie(
        COOKIE_NAME,
        value,
        max_age=_max_age(),
        path=COOKIE_PATH,
        secure=current_app.config["SESSION_COOKIE_SECURE"],
        httponly=True,
        samesite="Lax",
    )


def known_device_nonce(username: str | None) -> str | None:
    """The nonce of this request's device cookie if it is valid for ``username``, else None
    (no cookie, a bad signature, too old, or another account's)."""
    raw = request.cookies.get(COOKIE_NAME)
    if not raw:
        return None
    try:
        loaded = _serializer().loads(raw, max_age=_max_age())
    except BadSignature:  # SignatureExpired is one too
        return None
    if not (
        isinstance(loaded, list) and len(loaded) == 2 and all(isinstance(x, str) for x in loaded)
    ):
        return None
    owner, nonce = loaded
    if not owner or owner != account_key(username):
        return None
    return nonce


def login_device_nonce() -> str | None:
    """``known_device_nonce`` for the username of this login attempt, worked out once."""
    # Kept on the request itself: the three login limits ask in turn.
    cache = request.environ.setdefault("forum.login_device", {})
    username = request.form.get("username")
    if username not in cache:
        cache[username] = known_device_nonce(username)
    return cache[username]


def is_known_device() -> bool:
    """Whether this login attempt comes from a known device of the account it names."""
    return login_device_nonce() is not None
