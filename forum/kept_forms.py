"""A form refused for a reason that isn't the reader's text comes back with that text.

Two such reasons: the reader's session ended while they wrote (or the form's CSRF token no
longer matches their session), and a rate limit. Neither may lose a word or show a library's
message. Views that render a form register a *keeper* for their endpoint: a function that
renders the form's page again from the posted fields with a ``Refusal`` above the form.
Forms without a keeper get a page that shows their fields in a form to send again.

When the session has ended, the fields are also kept on the server (``kept_drafts``), under a
token in the new session: logging in again leads to ``auth.resume_draft``, which brings the
reader back to the form with the fields in it (nothing is posted without a valid token)."""

from collections.abc import Callable
from dataclasses import dataclass
from math import ceil
from urllib.parse import urlsplit

from flask import current_app, jsonify, render_template, request, session, url_for
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from werkzeug.exceptions import HTTPException
from werkzeug.routing import RequestRedirect

from forum.auth.redirects import safe_next
from forum.services import kept_drafts
from forum.services.errors import DomainError

SESSION_ENDED = _l("Your session ended. Log in to post; your text is kept.")
FORM_EXPIRED = _l(
    "This form had expired, so nothing was sent. Your text is kept: please send it again."
)

# The session key holding the token of the reader's kept draft (survives logging in).
KEPT_DRAFT_KEY = "kept_draft"

# Blueprints whose forms are for visitors: an expired form there needs no login.
FORMS_FOR_VISITORS = {"auth", "mailing"}

# Fields that are the form's machinery, not the reader's words: never kept or shown.
NOT_KEPT = {"csrf_token", "password", "current_password", "new_password", "confirm"}
# The fields that hold what a reader wrote (the resend page shows them as text areas).
WORDS_FIELDS = ("reason", "note", "message", "body")


@dataclass(frozen=True)
class Refusal:
    """Why a form is shown again: the message above it, and where to log in if needed."""

    message: str
    status: int
    login_url: str | None = None


Keeper = Callable[[Refusal], object]
Home = Callable[..., str]


@dataclass(frozen=True)
class _Registered:
    keeper: Keeper
    home: Home | None


_registry: dict[str, _Registered] = {}


def keeps_drafts(endpoint: str, home: Home | None = None):
    """Register the decorated function as ``endpoint``'s keeper. ``home(**view_args)`` is
    the page where the form lives, where a reader who logged in again finds their text."""

    def register(keeper: Keeper) -> Keeper:
        _registry[endpoint] = _Registered(keeper, home)
        return keeper

    return register


def posted_fields() -> dict[str, str]:
    """The request's form fields worth keeping (the last value of each)."""
    return {
        name: values[-1] for name, values in request.form.lists() if name not in NOT_KEPT and values
    }


def _seconds_word(seconds: int) -> str:
    if seconds < 120:
        return ngettext("%(num)s second", "%(num)s seconds", seconds)
    minutes = ceil(seconds / 60)
    if minutes < 120:
        return ngettext("%(num)s minute", "%(num)s minutes", minutes)
    hours = ceil(minutes / 60)
    return ngettext("%(num)s hour", "%(num)s hours", hours)


# What a reader can do again after a rate limit, by endpoint (whole sentences).
_WAIT_SENTENCES = {
    "discussion.post": _l("You can post again in %(wait)s."),
    "discussion.reply": _l("You can post again in %(wait)s."),
    "discussion.edit": _l("You can save changes again in %(wait)s."),
    "discussion.flag": _l("You can send a report again in %(wait)s."),
    "discussion.preview": _l("The preview works again in %(wait)s."),
    "auth.login": _l("Too many login attempts. You can try again in %(wait)s."),
}
_WAIT_DEFAULT = _l("You can try again in %(wait)s.")


def wait_message(seconds: int, endpoint: str | None = None) -> str:
    """ "You can post again in 40 seconds." for a rate limit that ends in ``seconds``."""
    sentence = _WAIT_SENTENCES.get(endpoint or "", _WAIT_DEFAULT)
    return str(sentence) % {"wait": _seconds_word(max(1, seconds))}


def keeper_for(endpoint: str | None) -> Keeper | None:
    found = _registry.get(endpoint or "")
    return found.keeper if found else None


def home_of(action: str) -> str | None:
    """The page of the form that posts to ``action``, if its endpoint has one."""
    try:
        endpoint, view_args = current_app.url_map.bind("localhost").match(action, method="POST")
    except (HTTPException, RequestRedirect):
        return None
    found = _registry.get(endpoint)
    if found is None or found.home is None:
        return None
    return found.home(**view_args)


def restore(action: str) -> dict[str, str] | None:
    """The fields kept for the form posted to ``action`` in this session, given back once."""
    token = session.get(KEPT_DRAFT_KEY)
    if not token:
        return None
    fields = kept_drafts.take(token, action)
    if fields is not None:
        session.pop(KEPT_DRAFT_KEY, None)
    return fields


def answer_session_ended(status: int, wants_json: bool):
    """The answer to a form sent without a valid session: its page again with the text,
    or, for the page's script, a JSON error with a link to log in (its draft is its own)."""
    logged_in = current_user.is_authenticated
    # Forms for visitors (logging in, registering, a password reset) just expired.
    needs_login = not logged_in and request.blueprint not in FORMS_FOR_VISITORS
    fields = posted_fields()
    login_url = None
    if needs_login:
        # A form with something in it comes back after the login; a bare button (a vote,
        # a follow) just returns to the page it was on.
        back = url_for("auth.resume_draft") if fields else referring_page()
        login_url = url_for("auth.login", next=back)
    message = str(SESSION_ENDED if needs_login else FORM_EXPIRED)
    if wants_json:
        body = {"errors": {"form": [message]}, "status": status}
        if not needs_login:
            body["csrf_token"] = generate_csrf()  # the script can send again at once
        else:
            # Back to this page after logging in; the script's draft is kept in the browser.
            body["login_url"] = url_for("auth.login", next=referring_page("#discussion"))
        return jsonify(body), status
    if needs_login and fields:
        session[KEPT_DRAFT_KEY] = kept_drafts.keep(request.path, fields)
    return answer_refused(Refusal(message, status, login_url))


def referring_page(anchor: str = "") -> str | None:
    """The page of this site the request came from (the script's page), or None."""
    referrer = urlsplit(request.referrer or "")
    if referrer.netloc != request.host:
        return None
    page = referrer.path + (f"?{referrer.query}" if referrer.query else "")
    return safe_next(page + anchor)


def answer_refused(refusal: Refusal):
    """The form's page again with its text and ``refusal`` above it."""
    keeper = keeper_for(request.endpoint)
    if keeper is not None:
        try:
            return keeper(refusal)
        except (DomainError, HTTPException):
            # The form's page can't be shown (its comment is gone, say): an error handler
            # must not fail, so the text comes back on the plain page instead.
            pass
    return resend_page(request.path, posted_fields(), refusal)


def resend_page(action: str, fields: dict[str, str], refusal: Refusal | None):
    """A form without a page of its own (a moderator's reason, say): its fields, to send
    again once the reader has a valid session."""
    return (
        render_template(
            "errors/resend.html",
            action=action,
            fields=fields,
            refusal=refusal,
        ),
        refusal.status if refusal else 200,
    )
