"""The one page type, the named queries on the models, and the lookups by name."""

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from forum.extensions import db
from forum.models import Comment, CommentStatus, Role, User, utcnow
from forum.services import accounts, permissions, threads
from forum.services.errors import NotFound
from forum.services.pages import Page, paginate, slice_page
from tests.conftest import make_article, make_user


@pytest.mark.parametrize(
    ("page", "total", "per_page", "pages", "has_prev", "has_next"),
    [
        (1, 0, 10, 1, False, False),  # an empty list has its empty first page
        (1, 10, 10, 1, False, False),
        (1, 11, 10, 2, False, True),
        (2, 11, 10, 2, True, False),
        (2, 30, 10, 3, True, True),
    ],
)
def test_a_page_knows_its_neighbours(page, total, per_page, pages, has_prev, has_next):
    p = Page([], page, per_page, total)
    assert (p.pages, p.has_prev, p.has_next) == (pages, has_prev, has_next)
    assert p.prev_num == (page - 1 if has_prev else None)
    assert p.next_num == (page + 1 if has_next else None)


@pytest.mark.parametrize(("page", "total"), [(0, 5), (-1, 5), (2, 5), (2, 0), (10**12, 5)])
def test_a_page_that_is_not_there_is_not_found(page, total):
    with pytest.raises(NotFound):
        slice_page(list(range(total)), page, 5)


def test_slice_page_takes_the_pages_items():
    assert slice_page(list(range(12)), 3, 5) == Page([10, 11], 3, 5, 12)


def test_paginate_counts_then_pages_a_query(app):
    for name in ("ann", "bea", "cal", "dan", "eve"):
        make_user(name)
    query = select(User).order_by(User.username)
    second = paginate(query, 2, 2)
    assert [u.username for u in second.items] == ["cal", "dan"]
    assert (second.total, second.pages) == (5, 3)
    with pytest.raises(NotFound):
        paginate(query, 4, 2)
    assert paginate(select(User).where(User.id < 0), 1, 2) == Page([], 1, 2, 0)


def test_comment_is_visible_is_one_name_for_the_check_and_the_clause(app):
    author = make_user("alice")
    article = make_article()
    shown = threads.post_comment(author, article, "Shown.")
    gone = threads.post_comment(author, article, "Gone.")
    threads.delete_comment(author, gone)
    assert (shown.is_visible, gone.is_visible) == (True, False)
    listed = db.session.execute(select(Comment.id).where(Comment.is_visible)).scalars().all()
    assert listed == [shown.id]
    other = aliased(Comment)  # the clause follows an alias too
    count = select(func.count(other.id)).where(other.is_visible, other.status.is_not(None))
    assert db.session.execute(count).scalar_one() == 1
    assert gone.status is CommentStatus.DELETED


def test_one_lookup_by_name_whatever_the_case_and_deleted_accounts_on_request(app):
    alice = make_user("Alice")
    assert accounts.find_user(" ALICE ") is alice
    assert accounts.get_by_username("alice") is alice
    alice.deleted_at = utcnow()
    db.session.commit()
    assert accounts.get_by_username("alice") is alice
    assert accounts.find_user("alice", include_deleted=False) is None
    with pytest.raises(NotFound):
        accounts.get_by_username("alice", include_deleted=False)
    with pytest.raises(NotFound):
        accounts.get_by_username("nobody")


@pytest.mark.parametrize(
    ("role", "moderator"),
    [(Role.READER, False), (Role.AUTHOR, False), (Role.MODERATOR, True), (Role.ADMIN, True)],
)
def test_is_moderator_has_one_definition(role, moderator):
    user = User(username="x", username_key="x", role=role)
    assert user.is_moderator is moderator
    assert permissions.is_moderator(user) is moderator
    assert permissions.is_moderator(None) is False


@pytest.mark.parametrize(
    ("actor_role", "target_role", "trusted", "allowed"),
    [
        (Role.MODERATOR, Role.READER, False, True),
        (Role.ADMIN, Role.READER, False, True),
        (Role.MODERATOR, Role.READER, True, False),  # already trusted
        (Role.MODERATOR, Role.AUTHOR, False, False),  # staff roles are trusted by role
        (Role.READER, Role.READER, False, False),
    ],
)
def test_who_may_grant_trust(actor_role, target_role, trusted, allowed):
    actor = User(id=1, username="a", username_key="a", role=actor_role)
    target = User(id=2, username="b", username_key="b", role=target_role, trusted=trusted)
    assert permissions.can_grant_trust(actor, target) is allowed


@pytest.mark.parametrize(
    ("page", "pages", "numbers"),
    [
        (1, 1, [1]),
        (1, 5, [1, 2, 3, 4, 5]),
        (1, 2000, [1, 2, 3, None, 2000]),
        (50, 2000, [1, None, 48, 49, 50, 51, 52, None, 2000]),
        (4, 2000, [1, 2, 3, 4, 5, 6, None, 2000]),
        (2000, 2000, [1, None, 1998, 1999, 2000]),
    ],
)
def test_the_pager_links_a_bounded_number_of_pages(page, pages, numbers):
    assert Page([], page, 10, pages * 10).numbers() == numbers
