"""A reader's preferences that are theirs alone (their language)."""

from forum.extensions import db
from forum.i18n import LOCALES
from forum.models import User
from forum.services.errors import NotAllowed
from forum.services.words import _l


def set_language(user: User, locale: str | None) -> User:
    """``locale`` one of forum.i18n.LOCALES, or None to follow the browser."""
    if locale is not None and locale not in LOCALES:
        raise NotAllowed(_l("Choose one of the languages offered."), field="language")
    user.locale = locale
    db.session.commit()
    return user
