"""Integers from the URL, read the same way everywhere: page numbers and ids.

A page number or an id is a positive integer the database can hold (PostgreSQL's INTEGER
ends at 2**31 - 1; a bigger one is an error there, not a row, while SQLite quietly accepts
it). Anything else names nothing: 404, like a page past the last one."""

from flask import abort, request
from flask_babel import gettext
from werkzeug.routing import IntegerConverter

MAX_DB_INT = 2**31 - 1


def parse_id(raw: str | None) -> int | None:
    """An id sent as text (a form field, a query parameter): ASCII digits naming a number
    from 1 to ``MAX_DB_INT``, else None. ``int()`` alone accepts "²", "1_0", " 7" and
    numbers PostgreSQL can't compare with an INTEGER column."""
    text = (raw or "").strip()
    if not (text.isascii() and text.isdigit() and len(text) <= 10):
        return None
    number = int(text)
    return number if 1 <= number <= MAX_DB_INT else None


def id_arg(name: str) -> int | None:
    """The id in query parameter ``name`` (None when absent); 404 when it can't be one."""
    raw = request.args.get(name)
    if raw is None:
        return None
    number = parse_id(raw)
    if number is None:
        abort(404, gettext("Nothing has that number."))
    return number


def page_arg(name: str = "page") -> int:
    """The requested page number (1 when absent); 404 when it isn't one."""
    raw = request.args.get(name)
    if raw is None:
        return 1
    # isdigit() alone accepts "²" and other digits int() can't read; checking the length
    # first spares int() numbers of thousands of digits (which it refuses anyway).
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 10) or not 1 <= int(raw) <= MAX_DB_INT:
        abort(404, gettext("There is no such page."))
    return int(raw)


class DatabaseIntConverter(IntegerConverter):
    """``<int:...>`` in every route: 1 to 2**31 - 1, so an id no row can have matches no
    route (a 404) instead of reaching the database."""

    def __init__(self, map, *args, **kwargs) -> None:
        kwargs.setdefault("min", 1)
        kwargs.setdefault("max", MAX_DB_INT)
        super().__init__(map, *args, **kwargs)
