"""Who may call which API operation: every operation of the document, for every kind of
actor, with the session (and, in ``test_tokens_api.py``, with tokens).

Same world and same actors as the pages' table (tests/views/test_authorization.py). A
refused call leaves every table as it was; an accepted write changes something.
``test_every_operation_is_in_the_table`` fails for any operation of the OpenAPI document
missing here: add a row for it."""

import re
from dataclasses import dataclass, field

import pytest

from forum.api.docs import openapi_document
from forum.extensions import db
from forum.models import User
from tests.api.support import PROBLEM
from tests.conftest import client_as, seeded_template, snapshot
from tests.views.test_authorization import (
    ACTORS,
    ANON,
    World,
    build_world,
    changed_tables,
)


def E(**expected: int) -> dict[str, int]:
    """The status each actor gets."""
    assert set(expected) == set(ACTORS), f"give all of {ACTORS}"
    return expected


def ALL(status: int) -> dict[str, int]:
    return dict.fromkeys(ACTORS, status)


# Moderators' work: moderators and admins in good standing only, as on the pages.
STAFF = E(anon=401, reader=403, author=403, writer=403, mod=200, admin=200, suspended=403)
STAFF_REFUSED = E(anon=401, reader=403, author=403, writer=403, mod=403, admin=403, suspended=403)


def MEMBERS(status: int) -> dict[str, int]:
    """``status`` for every member, 401 for an anonymous caller."""
    return {**ALL(status), ANON: 401}


@dataclass(frozen=True)
class Op:
    method: str
    path: str  # below /api/v1; placeholders from World.values
    expect: dict
    json: dict | None = None
    changes: bool = True  # whether an accepted write must change the database
    query: dict = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


# fmt: off
OPERATIONS = [
    # --- reading: anyone; what they see differs (tests/api/test_same_answers.py) ------------
    Op("GET", "/articles", ALL(200)),
    Op("GET", "/articles/{article}", ALL(200)),
    # No external articles yet: nothing is found at any address.
    Op("GET", "/articles/by-url", ALL(404), query={"url": "https://example.com/a"}),
    Op("GET", "/articles/{article}/comments", ALL(200)),
    Op("GET", "/articles/{article}/comments/latest", ALL(200)),
    Op("GET", "/comments/{visible}", ALL(200)),
    # A pending comment: its author and the moderators only, as on the page.
    Op("GET", "/comments/{pending}",
       E(anon=404, reader=404, author=200, writer=404, mod=200, admin=200, suspended=404)),
    # A hidden comment's words: its author and the moderators (the history page's rule).
    Op("GET", "/comments/{hidden}/revisions",
       E(anon=404, reader=404, author=200, writer=404, mod=200, admin=200, suspended=404)),
    Op("GET", "/notifications", MEMBERS(200)),
    # --- taking part (the page's statuses: tests/views/test_authorization.py) ---------------
    Op("POST", "/articles/{article}/comments",
       E(anon=401, reader=201, author=201, writer=201, mod=201, admin=201, suspended=403),
       json={"body": "A new comment."}),
    Op("PATCH", "/comments/{visible}",
       E(anon=401, reader=403, author=200, writer=403, mod=403, admin=403, suspended=403),
       json={"body": "Changed text."}),
    Op("DELETE", "/comments/{visible}",
       E(anon=401, reader=403, author=204, writer=403, mod=403, admin=403, suspended=403)),
    Op("POST", "/comments/{visible}/reports",
       E(anon=401, reader=201, author=403, writer=201, mod=201, admin=201, suspended=403),
       json={"category": "abuse", "note": "Rude."}),
    # The reader has voted for {liked} and follows {article}.
    Op("POST", "/comments/{visible}/vote",
       E(anon=401, reader=200, author=403, writer=200, mod=200, admin=200, suspended=403)),
    Op("DELETE", "/comments/{liked}/vote",
       E(anon=401, reader=200, author=409, writer=409, mod=409, admin=409, suspended=403)),
    Op("POST", "/articles/{article}/follow",
       E(anon=401, reader=409, author=200, writer=200, mod=200, admin=200, suspended=403)),
    Op("DELETE", "/articles/{article}/follow",
       E(anon=401, reader=200, author=409, writer=409, mod=409, admin=409, suspended=409)),
    # {notification} is the comment author's: nobody else may even learn it exists.
    Op("POST", "/notifications/read",
       E(anon=401, reader=404, author=200, writer=404, mod=404, admin=404, suspended=404),
       json={"ids": ["{notification}"]}),
    # Marking all read succeeds even for someone with nothing unread.
    Op("POST", "/notifications/read", MEMBERS(200), json={}, changes=False),
    # --- moderating (forum/api/moderation.py; the pages' rows in tests/views/...) ----------
    Op("GET", "/moderation/queue", STAFF),
    Op("GET", "/moderation/queue/pending", STAFF),
    Op("GET", "/moderation/queue/appeals", STAFF),
    Op("GET", "/moderation/log", ALL(200)),  # public, as the page (notes for moderators)
    Op("POST", "/comments/{visible}/hide", STAFF, json={"reason": "spam", "note": "An ad."}),
    Op("POST", "/comments/{hidden}/unhide", STAFF),
    Op("POST", "/comments/{pending}/approve", STAFF),
    Op("POST", "/comments/{pending}/reject", STAFF, json={"reason": "spam"}),
    Op("POST", "/comments/{visible}/dismiss", STAFF, json={}),
    Op("POST", "/appeals/{appeal}/grant", STAFF, json={}),
    Op("POST", "/appeals/{appeal}/deny", STAFF, json={"reason": "Stays hidden."}),
    Op("POST", "/articles/{article}/lock", STAFF, json={"reason": "Too heated."}),
    Op("POST", "/articles/{locked}/unlock", STAFF, json={}),
    Op("POST", "/users/{comment_author}/suspend", STAFF, json={"days": 7, "reason": "Spam."}),
    Op("POST", "/users/{other_mod}/suspend",
       E(anon=401, reader=403, author=403, writer=403, mod=403, admin=200, suspended=403),
       json={"days": 7, "reason": "Overreach."}),
    Op("POST", "/users/{admin}/suspend", STAFF_REFUSED, json={"days": None, "reason": "Coup."}),
    Op("POST", "/users/{suspended}/unsuspend", STAFF, json={}),
]
# fmt: on

SUCCESS = (200, 201, 204)

# The world the module's template holds (SQLite), set once by ``database_template``.
_seeded: dict[str, World] = {}


@pytest.fixture(scope="module")
def database_template(database_template, tmp_path_factory):
    """The pages' authorization world, built once into a template every case copies."""
    if database_template is None:
        return None
    directory = tmp_path_factory.mktemp("api-authorization")
    path, _seeded["world"] = seeded_template(database_template, directory, build_world)
    return path


@pytest.fixture
def world(app) -> World:
    return _seeded.get("world") or build_world()


def fill(value, values: dict):
    """``value`` (a path, or a JSON body) with its placeholders filled from the world."""
    if isinstance(value, str):
        filled = value.format_map(values)
        return int(filled) if value.startswith("{") and filled.isdigit() else filled
    if isinstance(value, list):
        return [fill(item, values) for item in value]
    if isinstance(value, dict):
        return {key: fill(item, values) for key, item in value.items()}
    return value


def call(client, op: Op, values: dict, headers: dict | None = None):
    path = "/api/v1" + op.path.format_map(values)
    return client.open(
        path,
        method=op.method,
        json=fill(op.json, values) if op.json is not None else None,
        query_string=op.query,
        headers=headers or {},
    )


def check(response, op: Op, expected: int, before: dict, after: dict) -> None:
    text = response.get_data(as_text=True)[:600]
    assert response.status_code == expected, f"{op}: {text}"
    if expected >= 400:
        assert response.mimetype == PROBLEM, f"{op}: an error that isn't a problem"
    if op.method == "GET" or expected not in SUCCESS:
        assert changed_tables(before, after) == [], f"{op} changed the database"
    elif op.changes:
        assert changed_tables(before, after), f"{op} succeeded but changed nothing"


CASES = [pytest.param(op, actor, id=f"{op}-{actor}") for op in OPERATIONS for actor in ACTORS]


@pytest.mark.parametrize(("op", "actor"), CASES)
def test_operation_answers_each_actor_by_session(app, world, op, actor):
    """The expected status; a refused call (or a read) leaves the database as it was."""
    user = db.session.get(User, world.users[actor]) if actor in world.users else None
    client = client_as(app, user)
    before = snapshot()
    response = call(client, op, world.values)
    after = snapshot()
    check(response, op, op.expect[actor], before, after)


def document_operations(app) -> set[tuple[str, str]]:
    """(METHOD, path below /api/v1 with {placeholders}) for every operation documented."""
    with app.test_request_context():
        paths = openapi_document()["paths"]
    return {
        (method.upper(), path.removeprefix("/api/v1"))
        for path, operations in paths.items()
        for method in operations
    }


def test_every_operation_is_in_the_table(app):
    """An operation added later without a row here fails this test: add it to OPERATIONS."""
    adapter = app.url_map.bind("localhost")
    covered = set()
    for op in OPERATIONS:
        sample = "/api/v1" + op.path.format_map(_Ones())
        rule = adapter.match(sample, method=op.method, return_rule=True)[0]
        covered.add((op.method, _as_document_path(rule.rule)))
    missing = document_operations(app) - covered
    assert not missing, f"add these operations to OPERATIONS in {__name__}: {sorted(missing)}"


class _Ones(dict):
    """Fills every placeholder with a plausible value (a slug or an id alike)."""

    def __missing__(self, key):
        return "1"


def _as_document_path(rule: str) -> str:
    """A Flask rule as the document writes it: ``/comments/<int:comment_id>`` →
    ``/comments/{comment_id}``."""
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule).removeprefix("/api/v1")
