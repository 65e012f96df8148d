"""Error pages in the site's layout, or JSON errors for clients that ask for JSON.

Nothing from the exception (no traceback, no class name, no version) reaches the response."""

from flask import Flask, jsonify, render_template, request
from werkzeug.exceptions import HTTPException, InternalServerError, default_exceptions

from forum.services.errors import DomainError

FRIENDLY_TITLES = {
    400: "That request didn't make sense",
    403: "You can't do that",
    404: "Page not found",
    405: "Method not allowed",
    409: "That conflicts with the current state",
    413: "That was too large",
    429: "Too many requests",
    500: "Something went wrong on our side",
}


def wants_json() -> bool:
    """Whether the client prefers JSON to HTML (fetch/XHR callers and API clients)."""
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return (
        best == "application/json"
        and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]
    )


def render_error(error: HTTPException):
    """Render ``error`` as a page or JSON, keeping headers such as Allow and Retry-After."""
    code = error.code or 500
    description = error.description or ""
    if code == 500:
        description = "The error has been logged. Please try again in a moment."
    elif code == 429:
        description = (
            f"Slow down a little: the limit here is {description}. Your draft is safe if you "
            "go back; please wait a moment and try again."
        )
    headers = dict(error.get_headers()) if code != 500 else {}
    headers.pop("Content-Type", None)
    if wants_json():
        body = jsonify(
            error=FRIENDLY_TITLES.get(code, error.name), message=description, status=code
        )
        return body, code, headers
    page = render_template(
        "errors/error.html",
        code=code,
        title=FRIENDLY_TITLES.get(code, error.name),
        description=description,
    )
    return page, code, headers


def render_refusal(error: DomainError):
    """A service's refusal as the error page (or JSON) for its status, with its words."""
    return render_error(default_exceptions[error.status](description=error.message))


def register(app: Flask) -> None:
    """Install the handlers for every HTTP error and for unexpected exceptions."""
    app.register_error_handler(HTTPException, render_error)

    # A service's refusal that no view turned into a form error: its status and its words.
    app.register_error_handler(DomainError, render_refusal)

    @app.errorhandler(Exception)
    def _unexpected(error: Exception):
        app.logger.exception("Unhandled error on %s %s", request.method, request.path)
        return render_error(InternalServerError())
