"""Error pages in the site's layout, or JSON errors for clients that ask for JSON.

Nothing from the exception (no traceback, no class name, no version) reaches the response.

A database outage (the server gone, a connection cut, SQLite's write lock not granted within
its budget) is not a bug: it answers 503 with Retry-After, and its page is rendered without
the database. The failed session is rolled back and removed first, and ``g.database_down``
tells the template helpers (unread counts, the moderation queue, the logged-in user) not to
query; the next request starts on a fresh connection (pool pre-ping), so the site heals
by itself when the database is back."""

import contextlib
import time

from flask import Flask, current_app, g, jsonify, make_response, render_template, request
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from sqlalchemy import exc as sa_exc
from werkzeug.exceptions import (
    HTTPException,
    InternalServerError,
    ServiceUnavailable,
    default_exceptions,
)

from forum import kept_forms
from forum.extensions import db, limiter
from forum.services.errors import DomainError

FRIENDLY_TITLES = {
    400: _l("That request didn't make sense"),
    403: _l("You can't do that"),
    404: _l("Page not found"),
    405: _l("Method not allowed"),
    409: _l("That conflicts with the current state"),
    413: _l("That was too large"),
    429: _l("Too many requests"),
    500: _l("Something went wrong on our side"),
    503: _l("The site is busy or down for a moment"),
}

# Seconds a client should wait before trying again after a 503.
RETRY_AFTER_SECONDS = 5

UNAVAILABLE_DESCRIPTION = _l(
    "We can't reach our database just now. Nothing you sent was lost on our side: "
    "please try again in a few seconds."
)


def is_database_outage(error: BaseException) -> bool:
    """Whether ``error`` means the database can't be used right now (rather than a bug):
    connection refused or cut, a lock not granted in time, a session left unusable by one."""
    if isinstance(error, sa_exc.PendingRollbackError | sa_exc.TimeoutError):
        return True  # a failed flush earlier in the request; a pool with no connection free
    if isinstance(error, sa_exc.OperationalError | sa_exc.InterfaceError):
        return True  # the server is gone, the connection broke, "database is locked"
    return isinstance(error, sa_exc.DBAPIError) and error.connection_invalidated


def forget_failed_session() -> None:
    """Roll back and drop the request's session, whatever state the failure left it in, and
    mark the request so nothing rendered after this queries the database again."""
    g.database_down = True
    # The connection may be gone already, with nothing left to roll back: that is fine.
    with contextlib.suppress(sa_exc.SQLAlchemyError):
        db.session.rollback()
    with contextlib.suppress(sa_exc.SQLAlchemyError):
        db.session.remove()
    # The logged-in user is an expired ORM object now: loading any attribute would query.
    # The outage page is rendered as for a visitor (nothing personal, nothing to load).
    g._login_user = current_app.login_manager.anonymous_user()


def database_down() -> bool:
    """True while rendering the answer to a database outage: template helpers don't query."""
    return bool(g.get("database_down"))


def wants_json() -> bool:
    """Whether the client prefers JSON to HTML (fetch/XHR callers and API clients)."""
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return (
        best == "application/json"
        and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]
    )


# Every answer under this prefix is JSON; its errors are RFC 9457 problem details.
API_PREFIX = "/api/"
PROBLEM_TYPE = "application/problem+json"


def answers_with_problems() -> bool:
    """Whether this request's errors are problem details: the versioned JSON API's paths,
    unknown ones included (an unknown path matches no blueprint, so it is the path that
    tells)."""
    return request.path.startswith(API_PREFIX)


def problem_response(
    status: int,
    detail: str,
    *,
    title: str | None = None,
    errors: dict[str, list[str]] | None = None,
    headers: dict[str, str] | None = None,
):
    """An RFC 9457 problem: ``type`` (about:blank: the status says it all), ``title``,
    ``status``, ``detail``, and ``errors`` per field for input that failed validation."""
    body: dict = {
        "type": "about:blank",
        "title": title or FRIENDLY_TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
    }
    if errors:
        body["errors"] = errors
    response = jsonify(body)
    response.status_code = status
    response.content_type = PROBLEM_TYPE
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def render_error(error: HTTPException):
    """Render ``error`` as a page or JSON, keeping headers such as Allow and Retry-After."""
    code = error.code or 500
    # Descriptions may be lazy strings (a service's refusal): made text here, in the
    # reader's language, so JSON and the page both get plain words.
    description = str(error.description or "")
    if code == 500:
        description = gettext("The error has been logged. Please try again in a moment.")
    elif code == 429 and answers_with_problems():
        description = gettext(
            "The limit here is %(limit)s; try again after Retry-After seconds.", limit=description
        )
    elif code == 429:
        return answer_rate_limited(error)
    title = str(FRIENDLY_TITLES.get(code, error.name))
    headers = dict(error.get_headers()) if code != 500 else {}
    headers.pop("Content-Type", None)
    if answers_with_problems():
        return problem_response(code, description, headers=headers)
    if wants_json():
        body = jsonify(error=title, message=description, status=code)
        return body, code, headers
    page = render_template(
        "errors/error.html",
        code=code,
        title=title,
        description=description,
    )
    return page, code, headers


def seconds_until_reset() -> int:
    """Seconds until the rate limit this request broke lets the reader in again."""
    limit = limiter.current_limit
    if limit is None or not limit.reset_at:
        return 60
    return max(1, int(limit.reset_at - time.time()) + 1)


def answer_rate_limited(error: HTTPException):
    """A 429 that says how long to wait, with the reader's draft in its form: the form's own
    page when it registered a keeper (``forum.kept_forms``), inline for the page's script."""
    wait = seconds_until_reset()
    message = kept_forms.wait_message(wait, request.endpoint)
    headers = {"Retry-After": str(wait)}
    if wants_json():
        body = jsonify(
            error=FRIENDLY_TITLES[429], message=message, errors={"form": [message]}, status=429
        )
        return body, 429, headers
    if request.method == "POST" and kept_forms.keeper_for(request.endpoint) is not None:
        response = make_response(kept_forms.answer_refused(kept_forms.Refusal(message, 429)))
    else:
        page = render_template(
            "errors/error.html", code=429, title=FRIENDLY_TITLES[429], description=message
        )
        response = make_response(page, 429)
    response.headers.update(headers)
    return response


def answer_csrf_error(error: CSRFError):
    """A form whose CSRF token is missing, expired or not this session's (the session ended,
    or another tab logged in again): never the library's words; the text comes back. The
    JSON API has no form to give back: it answers a problem saying what to send."""
    if answers_with_problems():
        return problem_response(
            400,
            "A write with the browser session needs the session's CSRF token in the "
            "X-CSRFToken header (or use a personal API token).",
        )
    return kept_forms.answer_session_ended(400, wants_json())


def render_refusal(error: DomainError):
    """A service's refusal as the error page (or JSON) for its status, with its words."""
    return render_error(default_exceptions[error.status](description=error.message))


def register(app: Flask) -> None:
    """Install the handlers for every HTTP error and for unexpected exceptions."""
    app.register_error_handler(HTTPException, render_error)
    app.register_error_handler(CSRFError, answer_csrf_error)

    # A service's refusal that no view turned into a form error: its status and its words.
    app.register_error_handler(DomainError, render_refusal)

    @app.errorhandler(Exception)
    def _unexpected(error: Exception):
        if is_database_outage(error):
            return database_unavailable(error)
        app.logger.exception("Unhandled error on %s %s", request.method, request.path)
        return render_error(InternalServerError())

    def database_unavailable(error: Exception):
        app.logger.warning(
            "Database unavailable on %s %s: %s", request.method, request.path, type(error).__name__
        )
        return unavailable_response()


def unavailable_response():
    """The 503 answer to a database outage, as a page or JSON, without the database."""
    forget_failed_session()
    if answers_with_problems():
        return problem_response(
            503, UNAVAILABLE_DESCRIPTION, headers={"Retry-After": str(RETRY_AFTER_SECONDS)}
        )
    accept = request.accept_mimetypes
    wants_problem = accept["application/problem+json"] > accept["text/html"]
    if wants_problem or wants_json():
        # RFC 9457 problem details, with the keys of the app's other JSON errors beside them.
        title = str(FRIENDLY_TITLES[503])
        detail = str(UNAVAILABLE_DESCRIPTION)
        body = jsonify(
            type="about:blank",
            title=title,
            status=503,
            detail=detail,
            error=title,
            message=detail,
        )
        # Served as problem+json to clients that ask for it; as plain JSON (same body) to
        # those that ask for application/json only, such as the page's script.
        if wants_problem:
            body.content_type = "application/problem+json"
        body.status_code = 503
        body.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return body
    if request.method == "POST" and (words := _posted_words()):
        # The database went away under a form with the reader's words in it (a comment, a
        # report's note): they come back in a form to send again, and nothing is lost. The
        # form's own page needs the database; this one doesn't.
        refusal = kept_forms.Refusal(str(UNAVAILABLE_DESCRIPTION), 503)
        response = make_response(kept_forms.resend_page(request.path, words, refusal))
        response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
    return render_error(
        ServiceUnavailable(UNAVAILABLE_DESCRIPTION, retry_after=RETRY_AFTER_SECONDS)
    )


def _posted_words() -> dict[str, str] | None:
    """The posted form's fields when one of them holds words the reader wrote, else None (a
    button's form is simply pressed again)."""
    fields = kept_forms.posted_fields()
    if any(fields.get(name, "").strip() for name in kept_forms.WORDS_FIELDS):
        return fields
    return None


BUSY_MESSAGE = _l(
    "The site is very busy and your text wasn't saved yet. It is below: please send it "
    "again in a few seconds."
)


def answer_busy(again, form):
    """A form's write found the database busy or away (SQLite's write lock not granted within
    the busy timeout): 503 with Retry-After, and ``again(503)`` shows the form with the
    reader's text and this error, so nothing they wrote is lost (a comment form keeps its
    idempotency key, so sending it again can't store it twice)."""
    try:
        db.session.rollback()
    except sa_exc.DBAPIError:
        forget_failed_session()
    form.form_errors.append(str(BUSY_MESSAGE))
    response = make_response(again(503))
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response
