"""Messages the services give people, in the reader's language.

Services refuse with ``DomainError(message)`` long before anything is shown, and some
messages are shown later (a flash on the next page, a line of a CLI report): so messages
are lazy strings, translated when they are turned into text, in the language of whoever
reads them then (English outside a request). Keep request imports out of here."""

from babel.numbers import format_decimal
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_ngettext as _ln
from flask_babel.speaklater import LazyString

__all__ = ["_l", "_ln", "number"]


def _formatted(value: int) -> str:
    return format_decimal(value, locale=get_locale() or "en")


def number(value: int) -> LazyString:
    """``value`` written for the reader's language when shown: "10,000", "10.000"."""
    return LazyString(_formatted, value)
