"""Who is calling the API, resolved in one place: a personal API token, the browser session,
or nobody.

- ``Authorization: Bearer <token>``: the token's holder with the token's scope (read, write,
  moderate; never more than the holder's role allows: ``api_tokens.authenticate`` lowers
  it). The session is ignored on such a request, and it needs no CSRF token: a browser never
  adds that header by itself, so no other site can make one send it.
- The session cookie: its user, with every scope (the role and the services decide, as on the
  pages); writes carry the CSRF token in ``X-CSRFToken``, as the page's script sends it.
- Neither: an anonymous reader, who may read.

Tokens work only here: no other blueprint looks at the header."""

from dataclasses import dataclass

from flask import abort, current_app, g, request

from forum.api.core import (
    MEMBER_ATTRIBUTE,
    MODERATE,
    READ,
    SCOPE_ATTRIBUTE,
    WRITE,
    bp,
    scope_allows,
)
from forum.auth.current import current_actor
from forum.discussion.views import _account_key, _posting_limit
from forum.errors import problem_response
from forum.extensions import csrf
from forum.models import User
from forum.services import api_tokens
from forum.services.errors import DomainError, ValidationFailed

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
BEARER = "bearer"


@dataclass(frozen=True)
class Caller:
    """The acting user (None: anonymous), the scope they act with, and their token if any."""

    user: User | None
    scope: str
    token_id: int | None = None

    @property
    def by_token(self) -> bool:
        return self.token_id is not None


ANONYMOUS = Caller(user=None, scope=READ)


def current_api_caller() -> Caller:
    """The caller of this API request (resolved once, before the view)."""
    caller = g.get("api_caller")
    if caller is None:
        caller = g.api_caller = _resolve()
    return caller


def _bearer_token() -> str | None:
    """The raw token of an ``Authorization: Bearer`` header; "" for a malformed one; None
    when the header names no bearer token."""
    header = request.headers.get("Authorization")
    if header is None:
        return None
    kind, _, raw = header.strip().partition(" ")
    if kind.lower() != BEARER:
        return None
    return raw.strip()


def _unauthorized(detail: str):
    abort(problem_response(401, detail, headers={"WWW-Authenticate": 'Bearer realm="api"'}))


def _resolve() -> Caller:
    raw = _bearer_token()
    if raw is not None:
        grant = api_tokens.authenticate(raw) if raw else None
        if grant is None:
            _unauthorized("That API token is unknown, expired or revoked.")
        # Whatever session cookie came along, this request acts for the token's holder: the
        # helpers that ask Flask-Login who is acting (rate-limit keys) see the same user.
        g._login_user = grant.user
        return Caller(user=grant.user, scope=str(grant.scope), token_id=grant.token_id)
    user = current_actor()
    if user is None:
        return ANONYMOUS
    return Caller(user=user, scope=MODERATE if user.is_moderator else WRITE)


@bp.before_request
def _authorize() -> None:
    """Resolve the caller, check the operation's scope, and CSRF for session writes."""
    view = current_app.view_functions.get(request.endpoint)
    needed = getattr(view, SCOPE_ATTRIBUTE, None)
    if needed is None or request.method == "OPTIONS":
        return  # the document, its reference page, and OPTIONS: no token is looked at
    caller = current_api_caller()
    if request.method not in SAFE_METHODS and needed == READ:
        needed = WRITE  # a write is never a read, whatever the declaration forgot
    if caller.user is None and (needed != READ or getattr(view, MEMBER_ATTRIBUTE, False)):
        _unauthorized("Log in, or send a personal API token, to do that.")
    if not scope_allows(caller.scope, needed):
        abort(
            problem_response(
                403, f"This token's scope is {caller.scope}; this operation needs {needed}."
            )
        )
    csrf_on = current_app.config["WTF_CSRF_ENABLED"]
    if csrf_on and request.method not in SAFE_METHODS and not caller.by_token:
        csrf.protect()  # the session's writes: X-CSRFToken, as the pages' script sends it


# The blueprint checks CSRF itself (above), so that requests carrying a token skip it.
csrf.exempt(bp)


@bp.errorhandler(DomainError)
def _refused(error: DomainError):
    """A service's refusal: its status and words, and the field it names (if any) under
    ``errors``, as a form would show it."""
    errors = None
    if isinstance(error, ValidationFailed):
        errors = {name: [message] for name, message in error.errors.items()}
    elif error.field:
        errors = {error.field: [error.message]}
    return problem_response(error.status, error.message, errors=errors)


# The pages' rate limits, keyed by the caller. Flask-Limiter checks limits before any
# blueprint hook runs, so these resolve the caller first: a token's holder is then the
# request's user, and their requests count against their own account (the same key as the
# pages', so a shared limit is one budget for both), not against one "anonymous" bucket.


def account_key() -> str:
    """The pages' per-account rate-limit key, for the API's caller."""
    current_api_caller()
    return _account_key()


def posting_limit() -> str:
    """The pages' posting limit (slower for new accounts), for the API's caller."""
    current_api_caller()
    return _posting_limit()
