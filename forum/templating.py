"""Jinja filters and globals used across templates."""

from datetime import UTC, datetime

from flask import Flask

from forum.models import utcnow
from forum.moderation.forms import REASON_CHOICES
from forum.services import permissions

_UNITS = [
    (365 * 24 * 3600, "year"),
    (30 * 24 * 3600, "month"),
    (7 * 24 * 3600, "week"),
    (24 * 3600, "day"),
    (3600, "hour"),
    (60, "minute"),
]


def relative_time(moment: datetime, now: datetime | None = None) -> str:
    """'3 hours ago', 'just now', '2 years ago'."""
    now = now or utcnow()
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    seconds = int((now - moment).total_seconds())
    if seconds < 45:
        return "just now"
    for size, unit in _UNITS:
        if seconds >= size:
            count = seconds // size
            return f"{count} {unit}{'s' if count != 1 else ''} ago"
    return "1 minute ago"


def iso_time(moment: datetime) -> str:
    """Machine-readable timestamp for ``<time datetime=...>``."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def long_date(moment: datetime) -> str:
    """'27 November 2026'."""
    return f"{moment.day} {moment:%B %Y}"


def register(app: Flask) -> None:
    """Make the filters and the permission predicates available to every template."""
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
    app.add_template_filter(relative_time, "reltime")
    app.add_template_filter(iso_time, "isotime")
    app.add_template_filter(long_date, "longdate")
    app.add_template_global(permissions, "can")
    app.add_template_global(REASON_CHOICES, "reason_choices")
