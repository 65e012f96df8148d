"""Property-based tests of every operation against the generated OpenAPI document
(schemathesis, in process over WSGI): as an anonymous caller and with a reader's and a
moderator's token, no answer is a 500, and every answer has a documented status, content
type and a body that conforms to its schema.

Half of the generated path values are swapped for things that exist (the scene's article
and comments), so operations are exercised on real data as well as on 404s. Examples are
few per operation (the whole run stays well under a minute)."""

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from forum.models import TokenScope
from forum.services import api_tokens
from tests.api.support import bearer
from tests.conftest import make_user

CHECKS = (
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
)
EXAMPLES_PER_OPERATION = 20


@pytest.fixture
def api_schema(app, scene):
    """The app's own document, loaded as schemathesis sees it, calling the app in process."""
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)


@pytest.fixture
def callers(scene) -> dict[str, dict[str, str]]:
    reader = make_user()
    _, reader_token = api_tokens.create_token(reader, "fuzz", TokenScope.WRITE, 30)
    _, mod_token = api_tokens.create_token(scene["mod"], "fuzz", TokenScope.MODERATE, 30)
    return {"anonymous": {}, "reader": bearer(reader_token), "moderator": bearer(mod_token)}


def with_real_targets(case, scene) -> None:
    """Point some generated cases at rows that exist: deterministic per case (the length of
    the generated value decides), so Hypothesis can replay and shrink."""
    parameters = case.path_parameters or {}
    if "slug" in parameters and len(str(parameters["slug"])) % 2 == 0:
        parameters["slug"] = scene["article"].slug
    if "username" in parameters and len(str(parameters["username"])) % 2 == 0:
        parameters["username"] = scene["carl"].username  # suspend, unsuspend
    number = parameters.get("comment_id")
    if isinstance(number, int) and number % 2 == 0:
        targets = [scene[name].id for name in ("first", "reply", "hidden", "pending", "gone")]
        parameters["comment_id"] = targets[number // 2 % len(targets)]


schema = schemathesis.pytest.from_fixture("api_schema")


@pytest.mark.slow
@schema.parametrize()
@settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_every_operation_conforms_to_the_document(case, callers, scene):
    with_real_targets(case, scene)
    for headers in callers.values():
        case.call_and_validate(headers=headers, checks=CHECKS)
