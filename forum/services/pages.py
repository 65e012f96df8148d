"""One page type for every paged list (discussion, profile comments, moderation queue and
log, notifications), so one pager macro can draw them all.

A page past the last one is refused with NotFound (a 404 page): a stale or made-up link
must not quietly show another page under its address. Page 1 of an empty list exists."""

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from sqlalchemy import Select, func, select

from forum.extensions import db
from forum.services.errors import NotFound
from forum.services.words import _l

T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    """``items`` of page ``page`` (from 1) of a list of ``total`` items, ``per_page`` a page."""

    items: list[T]
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        """How many pages there are; at least 1, so an empty list has its (empty) page 1."""
        return page_count(self.total, self.per_page)

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    def numbers(self, around: int = 2) -> list[int | None]:
        """The page numbers a pager links to: the first, the last, and ``around`` on each
        side of this one; ``None`` marks a gap. Bounded, however many pages there are (a
        link per page made the first page of a 100,000-comment discussion draw ~1,000)."""
        shown = {1, self.pages, *range(self.page - around, self.page + around + 1)}
        numbers: list[int | None] = []
        for number in sorted(n for n in shown if 1 <= n <= self.pages):
            if numbers and number - numbers[-1] == 2:
                numbers.append(number - 1)  # a gap of one page shows that page
            elif numbers and number - numbers[-1] > 2:
                numbers.append(None)
            numbers.append(number)
        return numbers

    @property
    def prev_num(self) -> int | None:
        return self.page - 1 if self.has_prev else None

    @property
    def next_num(self) -> int | None:
        return self.page + 1 if self.has_next else None


def page_count(total: int, per_page: int) -> int:
    return max(math.ceil(total / max(per_page, 1)), 1)


def check_page(page: int, total: int, per_page: int) -> None:
    """Refuse a page number that names no page of ``total`` items."""
    if page < 1 or page > page_count(total, per_page):
        raise NotFound(_l("There is no such page."))


def paginate(query: Select, page: int, per_page: int) -> Page:
    """Page ``page`` of the rows ``query`` selects (first entity, as ORM objects).

    Two queries, the count then the page; an empty list skips the second."""
    per_page = max(per_page, 1)
    total = db.session.execute(
        select(func.count()).select_from(query.order_by(None).subquery())
    ).scalar_one()
    check_page(page, total, per_page)
    items: list = []
    if total:
        items = list(
            db.session.execute(query.limit(per_page).offset((page - 1) * per_page))
            .unique()
            .scalars()
        )
    return Page(items, page, per_page, total)


def slice_page(items: Sequence[T], page: int, per_page: int) -> Page[T]:
    """Page ``page`` of a list already in memory (the discussion's ordered thread ids)."""
    per_page = max(per_page, 1)
    check_page(page, len(items), per_page)
    return Page(list(items[(page - 1) * per_page : page * per_page]), page, per_page, len(items))
