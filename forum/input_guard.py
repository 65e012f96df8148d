"""One guard at the door: no NUL byte reaches a view, a form or the database.

PostgreSQL refuses NUL in text (SQLite stores it), so a ``%00`` in a path, a query or a
form field became a 500 there. Checking every field's validators, every path converter and
every ``request.args.get`` would be dozens of places that a new route could forget; one
``before_request`` that looks at the whole request is a few lines and covers routes not
written yet. No legitimate text contains NUL (the normaliser drops it anyway), so refusing
the request loses nothing a person typed."""

from flask import Flask, abort, request
from flask_babel import gettext


def _has_nul(values) -> bool:
    return any("\x00" in key or "\x00" in value for key, value in values)


def refuse_nul() -> None:
    """404 for a path with NUL (no slug or username holds one: it names nothing), 400 for
    a query parameter or form field with one (the request is malformed, not missing)."""
    if "\x00" in request.path:
        abort(404)
    if _has_nul(request.args.items(multi=True)):
        abort(400, gettext("The address contains a NUL character, which no field accepts."))
    # request.form parses only form bodies; reading it here costs nothing extra because
    # the view would parse the same body.
    if request.method in ("POST", "PUT", "PATCH") and _has_nul(request.form.items(multi=True)):
        abort(400, gettext("The form contains a NUL character, which no field accepts."))


def register(app: Flask) -> None:
    """Run the guard before every other request hook (it touches no database)."""
    app.before_request_funcs.setdefault(None, []).insert(0, refuse_nul)
