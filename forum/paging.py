"""Integers from the URL, read the same way everywhere: page numbers and ids.

A page number or an id is a positive integer the database can hold (PostgreSQL's INTEGER
ends at 2**31 - 1; a bigger one is an error there, not a row, while SQLite quietly accepts
it). Anything else names nothing: 404, like a page past the last one."""

from flask import abort, request
from werkzeug.routing import IntegerConverter

MAX_DB_INT = 2**31 - 1


def page_arg(name: str = "page") -> int:
    """The requested page number (1 when absent); 404 when it isn't one."""
    raw = request.args.get(name)
    if raw is None:
        return 1
    # isdigit() alone accepts "²" and other digits int() can't read; checking the length
    # first spares int() numbers of thousands of digits (which it refuses anyway).
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 10) or not 1 <= int(raw) <= MAX_DB_INT:
        abort(404, "There is no such page.")
    return int(raw)


class DatabaseIntConverter(IntegerConverter):
    """``<int:...>`` in every route: 1 to 2**31 - 1, so an id no row can have matches no
    route (a 404) instead of reaching the database."""

    def __init__(self, map, *args, **kwargs) -> None:
        kwargs.setdefault("min", 1)
        kwargs.setdefault("max", MAX_DB_INT)
        super().__init__(map, *args, **kwargs)
