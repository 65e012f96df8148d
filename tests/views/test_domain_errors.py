"""A service's refusal that reaches the app unhandled becomes its HTTP status and message."""

from tests.conftest import login, make_user


def test_an_unknown_article_in_a_service_call_is_a_404_page_with_the_reason(client):
    login(client, make_user("reader"))
    response = client.post("/articles/no-such-article/follow")
    assert response.status_code == 404
    assert b"No article has that address." in response.data
    assert b"Skip to content" in response.data  # the site's layout, not a bare error


def test_the_same_refusal_is_json_for_clients_that_ask_for_json(client):
    login(client, make_user("reader"))
    response = client.post(
        "/articles/no-such-article/follow", headers={"Accept": "application/json"}
    )
    assert response.status_code == 404
    assert response.get_json()["message"] == "No article has that address."
