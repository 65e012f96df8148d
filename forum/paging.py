"""Reading the page number of a paged list from the query string, the same way everywhere.

A page number is a positive integer the database can hold (PostgreSQL's INTEGER ends at
2**31 - 1; an OFFSET computed from a bigger one would be an error there, not a page).
Anything else names no page: 404, like a page past the last one."""

from flask import abort, request

MAX_PAGE = 2**31 - 1


def page_arg(name: str = "page") -> int:
    """The requested page number (1 when absent); 404 when it isn't one."""
    raw = request.args.get(name)
    if raw is None:
        return 1
    # isdigit() alone accepts "²" and other digits int() can't read; isascii() rules them out.
    # Check the length before int(): Python refuses to read numbers of over 4,300 digits.
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 10) or not 1 <= int(raw) <= MAX_PAGE:
        abort(404, "There is no such page.")
    return int(raw)
