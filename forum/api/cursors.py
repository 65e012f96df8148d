"""Cursor pagination for lists that grow: an opaque ``next`` cursor that names the last row
seen, so a page never repeats or skips a row when new ones arrive between requests (page
numbers would shift under inserts).

A cursor is the keyset position of the last row (its sort key values), signed so clients
can't forge positions and can treat it as opaque; a cursor from another list is refused
(each list signs with its own salt)."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from flask import abort, current_app
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import Select, and_, or_
from sqlalchemy.orm import InstrumentedAttribute

from forum.errors import problem_response
from forum.extensions import db

T = TypeVar("T")

MAX_LIMIT = 100
DEFAULT_LIMIT = 20


def _serializer(list_name: str) -> URLSafeSerializer:
    return URLSafeSerializer(current_app.secret_key, salt=f"api-cursor:{list_name}")


def _encode_value(value: Any) -> Any:
    return {"t": value.isoformat()} if isinstance(value, datetime) else value


def _decode_value(value: Any) -> Any:
    return datetime.fromisoformat(value["t"]) if isinstance(value, dict) else value


def encode_cursor(list_name: str, position: Sequence[Any]) -> str:
    """The opaque cursor for ``position`` (the sort key values of the last row sent)."""
    return _serializer(list_name).dumps([_encode_value(v) for v in position])


def decode_cursor(list_name: str, cursor: str, width: int) -> list[Any]:
    """The position a cursor names; a 400 problem for a cursor this list didn't make."""
    try:
        values = _serializer(list_name).loads(cursor)
    except BadSignature:
        values = None
    if not isinstance(values, list) or len(values) != width:
        abort(
            problem_response(
                400, "That cursor is not valid here.", errors={"cursor": ["Not a valid cursor."]}
            )
        )
    return [_decode_value(v) for v in values]


@dataclass(frozen=True)
class CursorPage(Generic[T]):
    items: list[T]
    next: str | None


def _after(columns: Sequence[InstrumentedAttribute], values: Sequence[Any]):
    """Rows after ``values`` in descending order of ``columns`` (a row-value comparison
    spelled out, which every database can use with a composite index)."""
    conditions = []
    for index, column in enumerate(columns):
        equal_before = [columns[i] == values[i] for i in range(index)]
        conditions.append(and_(*equal_before, column < values[index]))
    return or_(*conditions)


def keyset_page(
    query: Select,
    list_name: str,
    columns: Sequence[InstrumentedAttribute],
    cursor: str | None,
    limit: int,
) -> CursorPage:
    """One page of ``query``'s rows (ORM entities), newest first by ``columns`` (the last
    column must be unique, such as the id), after the row the cursor names."""
    if cursor:
        query = query.where(_after(columns, decode_cursor(list_name, cursor, len(columns))))
    query = query.order_by(*(column.desc() for column in columns)).limit(limit + 1)
    rows = list(db.session.execute(query).unique().scalars())
    items, more = rows[:limit], len(rows) > limit
    next_cursor = None
    if more:
        last = items[-1]
        next_cursor = encode_cursor(list_name, [getattr(last, c.key) for c in columns])
    return CursorPage(items, next_cursor)
