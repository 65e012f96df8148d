"""The API's blueprint, its document generator and the one decorator every operation wears.

An operation is a view of ``bp`` decorated with ``operation(...)``: the pydantic models it
names validate the request (query, JSON body) and shape the response, and the same models
make the operation's entry in the OpenAPI 3.1 document (spectree reads them). The scope an
operation needs is declared there too, and checked in one place before the view runs
(``forum.api.callers``)."""

from collections.abc import Callable
from functools import wraps

from flask import Blueprint, abort, request
from pydantic import BaseModel, ConfigDict
from spectree import Response, SecurityScheme, SpecTree
from spectree.models import SecuritySchemeData

from forum.errors import problem_response

bp = Blueprint("api", __name__, url_prefix="/api/v1")

READ, WRITE, MODERATE = "read", "write", "moderate"
# What each scope allows, lowest first: a scope includes every scope before it.
SCOPES = (READ, WRITE, MODERATE)
# The attributes on a view function naming the scope its operation needs, and whether it
# needs a member even to read (their own notifications, say).
SCOPE_ATTRIBUTE = "api_scope"
MEMBER_ATTRIBUTE = "api_member_only"


class Problem(BaseModel):
    """An RFC 9457 problem detail, the body of every error under /api/v1."""

    model_config = ConfigDict(json_schema_extra={"additionalProperties": True})

    type: str
    title: str
    status: int
    detail: str
    errors: dict[str, list[str]] | None = None


def _validation_problem(request, response, error, instance, model_adapter) -> None:
    """Spectree's hook after validating a request: a refusal becomes a 400 problem with the
    messages per field (``errors``), never spectree's own 422 list."""
    if error is None:
        return
    errors: dict[str, list[str]] = {}
    for item in error.errors():
        field = ".".join(str(part) for part in item.get("loc", ())) or "request"
        errors.setdefault(field, []).append(item.get("msg", "Invalid value."))
    abort(problem_response(400, "Some fields are not valid.", errors=errors))


api_spec = SpecTree(
    "flask",
    # Only the operations decorated here: the HTML pages are not part of the document.
    mode="strict",
    title="forum API",
    version="1",
    openapi_version="3.1.0",
    path="api/v1/_spectree",  # spectree's own pages are never registered (see docs.py)
    annotations=True,
    # Schemas named as the models are (model names are unique across forum/api).
    naming_strategy=lambda model: model.__name__,
    nested_naming_strategy=lambda _parent, child: child,
    before=_validation_problem,
    validation_error_status=400,
    validation_error_model=Problem,
    security_schemes=[
        SecurityScheme(
            name="bearerToken",
            data=SecuritySchemeData(
                type="http", scheme="bearer", description="A personal API token"
            ),
        ),
        SecurityScheme(
            name="sessionCookie",
            data=SecuritySchemeData(
                type="apiKey",
                field_in="cookie",
                name="session",
                description="The browser session; writes also send X-CSRFToken.",
            ),
        ),
    ],
    # Anonymous callers may read: no credential is required by the document as a whole.
    security=[{}, {"bearerToken": []}, {"sessionCookie": []}],
)

# Statuses every operation may answer, whatever it does: the caller's credential refused
# (401), the scope or role short (403), a limit reached (429), the database away (503).
# 405 too: an id out of range matches no rule, and Werkzeug then names the methods of the
# path's other rules (``DELETE /comments/2147483648`` is a 405, not a 404).
COMMON_ERRORS = (401, 403, 404, 405, 429, 503)
# And those of operations that take a body: bad input (400), too large (413), not JSON (415),
# a rule that refuses the current state (409).
BODY_ERRORS = (400, 409, 413, 415)


def operation(
    *,
    scope: str,
    ok: type[BaseModel] | None,
    status: int = 200,
    query: type[BaseModel] | None = None,
    json: type[BaseModel] | None = None,
    headers: type[BaseModel] | None = None,
    tags: tuple[str, ...] = (),
    errors: tuple[int, ...] = (),
    member: bool = False,
) -> Callable:
    """Declare an API operation: the scope it needs, its request models and its answer.

    ``ok`` is the model of the success body (``status``: 200, 201; None for a 204 with no
    body). ``member``: a read that needs a logged-in caller (writes always do). Put it under
    the route decorator (and any rate limit):

        @bp.get("/articles")
        @operation(scope=READ, ok=ArticleList, query=ArticleQuery, tags=("articles",))
        def list_articles(query: ArticleQuery): ...
    """
    if scope not in SCOPES:
        raise ValueError(f"scope must be one of {SCOPES}")
    statuses = set(COMMON_ERRORS) | set(errors)
    if query is not None or headers is not None:
        statuses.add(400)
    if json is not None:
        statuses |= set(BODY_ERRORS)
    responses = {f"HTTP_{code}": Problem for code in sorted(statuses)}
    responses[f"HTTP_{status}"] = ok

    def decorate(view: Callable) -> Callable:
        validated = api_spec.validate(
            query=query,
            json=json,
            headers=headers,
            resp=Response(**responses),
            tags=tags,
            operation_id=view.__name__,
        )(view)

        @wraps(validated)
        def run(*args, **kwargs):
            # Spectree reads a body only when it is JSON; anything else would reach the view
            # as no body at all.
            if json is not None and not request.is_json:
                abort(problem_response(415, "Send the body as application/json."))
            return validated(*args, **kwargs)

        setattr(run, SCOPE_ATTRIBUTE, scope)
        setattr(run, MEMBER_ATTRIBUTE, member or scope != READ)
        return run

    return decorate


def scope_allows(granted: str, needed: str) -> bool:
    """Whether a caller holding ``granted`` may run an operation needing ``needed``."""
    return SCOPES.index(granted) >= SCOPES.index(needed)
