"""Jinja filters and globals used across templates."""

import hashlib
import hmac
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import flask_babel
from babel import Locale
from babel.dates import format_date, format_datetime, format_timedelta
from babel.numbers import format_decimal
from flask import Flask, current_app, g
from flask_babel import gettext
from flask_login import current_user
from flask_wtf.csrf import generate_csrf

from forum.i18n import DEFAULT_LOCALE
from forum.models import utcnow
from forum.moderation.forms import (
    REASON_CHOICES,
    action_label,
    appeal_outcome_label,
    reason_label,
    status_label,
)
from forum.services import permissions

_UNITS = [
    (365 * 24 * 3600, "year"),
    (30 * 24 * 3600, "month"),
    (7 * 24 * 3600, "week"),
    (24 * 3600, "day"),
    (3600, "hour"),
    (60, "minute"),
]

# Fixed date patterns per language (CLDR's own "long" is "December 1, 2026" in English,
# and the site has always written "1 December 2026"); other languages get CLDR's formats.
LONG_DATE = {"en": "d MMMM y", "de": "d. MMMM y"}
SHORT_TIME = {"en": "d MMM y, HH:mm", "de": "d. MMM y, HH:mm"}


def page_locale() -> Locale:
    """The language of the page being rendered; English outside a request or app."""
    return flask_babel.get_locale() or Locale.parse(DEFAULT_LOCALE)


def relative_time(moment: datetime, now: datetime | None = None) -> str:
    """'3 hours ago', 'just now', '2 years ago' ('vor 3 Stunden' in German).

    The count is the whole number of the largest unit that fits (90 minutes: "1 hour
    ago"); Babel words it for the page's language."""
    now = now or utcnow()
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    seconds = int((now - moment).total_seconds())
    if seconds < 45:
        return gettext("just now")
    count, size = 1, 60
    for unit_size, _unit in _UNITS:
        if seconds >= unit_size:
            count, size = seconds // unit_size, unit_size
            break
    # threshold=1 with an exact multiple of the unit makes Babel keep the unit and count.
    return format_timedelta(
        timedelta(seconds=-count * size),
        threshold=1,
        add_direction=True,
        locale=page_locale(),
    )


def iso_time(moment: datetime) -> str:
    """Machine-readable timestamp for ``<time datetime=...>``."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def short_time(moment: datetime) -> str:
    """'27 Nov 2026, 14:03': a fixed text (a cached page can't say "3 hours ago"; the
    script turns it into one in the reader's browser)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    locale = page_locale()
    pattern = SHORT_TIME.get(locale.language, "medium")
    return format_datetime(moment.astimezone(UTC), pattern, tzinfo=UTC, locale=locale)


def tree_steps(roots: Iterable) -> Iterator[tuple[str, object]]:
    """("open", node) and ("close", node) for every node under ``roots`` in document order,
    from an explicit stack: templates render trees of any depth without recursion."""
    stack: list[tuple[str, object]] = [("open", node) for node in reversed(list(roots))]
    while stack:
        step, node = stack.pop()
        yield step, node
        if step == "open":
            stack.append(("close", node))
            stack.extend(("open", child) for child in reversed(node.children))


def form_token() -> str:
    """The CSRF token for a form, or a placeholder while a page is rendered for a cache
    (each reader's own token replaces it when the cached page is served)."""
    return g.get("form_token_placeholder") or generate_csrf()


def draft_owner() -> str | None:
    """Whose unsent drafts the browser may show: an opaque tag of the logged-in account
    (``<body data-account>``), so the script keys drafts by account and the next person to
    log in on a shared browser never sees them. None for anonymous readers (no drafts)."""
    if not current_user.is_authenticated:
        return None
    key = current_app.secret_key
    key = key.encode() if isinstance(key, str) else key
    digest = hmac.new(key, f"drafts:{current_user.id}".encode(), hashlib.sha256)
    return digest.hexdigest()[:20]


def url_host(url: str) -> str:
    """'example.com' of 'https://example.com/2014/test/': how a link names another site."""
    return urlsplit(url).netloc


def long_date(moment: datetime) -> str:
    """'27 November 2026' ('27. November 2026' in German)."""
    locale = page_locale()
    return format_date(moment, LONG_DATE.get(locale.language, "long"), locale=locale)


def number(value: int | float) -> str:
    """'1,234' ('1.234' in German)."""
    return format_decimal(value, locale=page_locale())


def register(app: Flask) -> None:
    """Make the filters and the permission predicates available to every template."""
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
    app.add_template_filter(relative_time, "reltime")
    app.add_template_filter(iso_time, "isotime")
    app.add_template_filter(long_date, "longdate")
    app.add_template_filter(url_host, "host")
    app.add_template_filter(short_time, "shorttime")
    app.add_template_filter(number, "number")
    app.add_template_global(tree_steps, "tree_steps")
    app.add_template_global(form_token, "form_token")
    app.add_template_global(draft_owner, "draft_owner")
    app.add_template_global(permissions, "can")
    app.add_template_global(app.extensions["forum_theme"], "site_theme")
    app.add_template_global(REASON_CHOICES, "reason_choices")
    app.add_template_global(reason_label, "reason_label")
    app.add_template_global(action_label, "action_label")
    app.add_template_global(status_label, "status_label")
    app.add_template_global(appeal_outcome_label, "appeal_outcome_label")
