"""The services' words in the reader's language.

Services raise messages marked with ``_l`` (``lazy_gettext``): the text is looked up when it
is shown, so a refusal made while handling a German request reads in German, and the same
service called from the command line reads in English. Numbers and dates inside a message
are lazy too, written the way the reader's language writes them ("10,000" / "10.000")."""

from datetime import datetime

from babel.dates import format_datetime
from babel.numbers import format_decimal
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString

__all__ = ["_l", "lazy_datetime", "lazy_number"]


def _locale() -> str:
    return str(get_locale() or "en")  # no request (the command line): English


def lazy_number(value: int) -> LazyString:
    return LazyString(lambda: format_decimal(value, locale=_locale()))


def lazy_datetime(moment: datetime) -> LazyString:
    """'04 December 2026, 14:03 UTC' ('4. Dezember 2026, 14:03 UTC')."""
    pattern = {"de": "d. MMMM y, HH:mm 'UTC'"}

    def written() -> str:
        locale = _locale()
        return format_datetime(
            moment, pattern.get(locale, "dd MMMM y, HH:mm 'UTC'"), tzinfo=None, locale=locale
        )

    return LazyString(written)
