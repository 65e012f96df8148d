"""The OpenAPI 3.1 document, generated from the operations' models, and a reference page
drawn from it on the server (no script, no CDN: it works under the site's CSP)."""

import copy
import json

from flask import current_app, jsonify, render_template

from forum.api.core import api_spec, bp
from forum.paging import MAX_DB_INT

PROBLEM_JSON = "application/problem+json"
DOCUMENT_KEY = "forum_api_document"


def openapi_document() -> dict:
    """The document, built once per app (the operations are fixed at import time)."""
    cached = current_app.extensions.get(DOCUMENT_KEY)
    if cached is None:
        cached = current_app.extensions[DOCUMENT_KEY] = _finish(copy.deepcopy(api_spec.spec))
    return cached


def _finish(document: dict) -> dict:
    """What spectree can't say by itself: errors are served as problem details, the server
    prefix, and how to page."""
    for operations in document["paths"].values():
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                if parameter["in"] == "path" and parameter["schema"].get("type") == "integer":
                    # The app's <int:...> converter: ids the database can hold, nothing else.
                    parameter["schema"].update(minimum=1, maximum=MAX_DB_INT)
            for status, response in operation.get("responses", {}).items():
                content = response.get("content") or {}
                if int(status) >= 400 and "application/json" in content:
                    response["content"] = {PROBLEM_JSON: content.pop("application/json")}
    document["info"]["description"] = (
        "The forum's versioned JSON API. Anonymous callers read; members authenticate with "
        "a personal API token (`Authorization: Bearer ...`) or the browser session (writes "
        "then send `X-CSRFToken`). Errors are RFC 9457 problem details. Lists that grow are "
        "paged with an opaque `next` cursor: pass it back as `cursor`."
    )
    return document


@bp.get("/openapi.json")
def openapi_json():
    """The OpenAPI 3.1 document of every operation below /api/v1."""
    return jsonify(openapi_document())


@bp.get("/docs")
def reference():
    """The reference page: every operation with its parameters, body and answers."""
    document = openapi_document()
    return render_template(
        "api/reference.html",
        document=document,
        schemas=document["components"]["schemas"],
        as_json=lambda value: json.dumps(value, indent=2, sort_keys=True),
    )
