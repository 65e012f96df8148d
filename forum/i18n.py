"""Languages: which one a page is written in, and the catalogues that hold them.

A reader's language is their account setting (``User.locale``), else the best match for
their browser's ``Accept-Language``, else English. :func:`negotiate` is a pure function of
that header, so code that answers before Flask runs (the anonymous page cache) picks the same
language the page would. Catalogues live in ``forum/translations``; README ("Languages")
says how to extract, update and compile them."""

import hashlib
from pathlib import Path

from flask import Flask, has_request_context, request
from flask_babel import Babel, get_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from werkzeug.datastructures import LanguageAccept
from werkzeug.http import parse_accept_header

from forum.script_strings import script_strings

DEFAULT_LOCALE = "en"
# The languages every string is translated into, with their names in themselves.
LOCALES = {"en": "English", "de": "Deutsch"}
TRANSLATIONS = Path(__file__).resolve().parent / "translations"


def negotiate(accept_language: str | None) -> str:
    """The supported language the browser prefers most ("de-AT,de;q=0.9,en;q=0.5" → "de")."""
    if not accept_language:
        return DEFAULT_LOCALE
    offered = parse_accept_header(accept_language, LanguageAccept)
    # best_match compares language tags loosely: "de-AT" matches "de".
    return offered.best_match(LOCALES, default=DEFAULT_LOCALE) or DEFAULT_LOCALE


def _catalogues_digest() -> str:
    digest = hashlib.sha256()
    for path in sorted(TRANSLATIONS.rglob("*.mo")):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:8]


# The compiled catalogues' fingerprint: a release that changes only words (no template)
# still makes new cache keys and ETags, as the code fingerprint does for templates.
CATALOGUES = _catalogues_digest()


def language_key(locale: str) -> str:
    """What a cached page's key and ETag carry for its language ("de.1a2b3c4d")."""
    return f"{locale}.{CATALOGUES}"


def tagged_etag(etag: str, locale: str) -> str:
    """A page's entity tag for one language: the same page in another language is another
    entity, so a ``304`` for the English bytes never answers a German reader."""
    return f"{etag}-{language_key(locale)}"


def account_locale(user) -> str | None:
    locale = getattr(user, "locale", None)
    return locale if locale in LOCALES else None


def select_locale() -> str:
    """Flask-Babel's locale selector: the account's setting, else the browser's."""
    if not has_request_context():
        return DEFAULT_LOCALE  # the command line; emails choose theirs with force_locale
    if current_user and current_user.is_authenticated:
        chosen = account_locale(current_user)
        if chosen:
            return chosen
    return negotiate(request.headers.get("Accept-Language"))


def current_locale() -> str:
    """The language of the page being rendered, as a tag for ``<html lang>``."""
    return str(get_locale() or DEFAULT_LOCALE)


# Account roles as readers see them (the stored values are code, not words).
ROLE_LABELS = {
    "reader": _l("Reader"),
    "author": _l("Author"),
    "moderator": _l("Moderator"),
    "admin": _l("Administrator"),
}


def role_label(role) -> str:
    value = getattr(role, "value", role)
    return str(ROLE_LABELS.get(value, value))


def init_app(app: Flask) -> None:
    Babel(
        app,
        locale_selector=select_locale,
        timezone_selector=lambda: "UTC",
        default_translation_directories=str(TRANSLATIONS),
    )
    app.add_template_global(current_locale, "current_locale")
    app.add_template_global(LOCALES, "locales")
    app.add_template_global(role_label, "role_label")
    app.add_template_global(script_strings, "script_strings")
