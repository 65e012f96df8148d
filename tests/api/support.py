"""Helpers for the API tests: JSON calls as a given caller, and problem checks."""

from tests.conftest import client_as

PROBLEM = "application/problem+json"


def api_client(app, user=None):
    """A test client for ``app``, logged in (by session) as ``user`` when given."""
    return client_as(app, user)


def bearer(raw_token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {raw_token}"}


def assert_problem(response, status: int) -> dict:
    """``response`` is an RFC 9457 problem with ``status``; its body."""
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True))
    assert response.mimetype == PROBLEM, response.mimetype
    body = response.get_json()
    assert body["status"] == status
    assert body["type"] == "about:blank"
    assert body["title"] and isinstance(body["detail"], str)
    return body
