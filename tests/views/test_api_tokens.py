"""The account page's API tokens: made with a form, shown once, listed, revoked; all of
it without JavaScript."""

import lxml.html
import pytest
from sqlalchemy import select

from forum.extensions import db
from forum.models import ApiToken, Role
from forum.services import api_tokens
from tests.conftest import client_as, csrf_token_from, make_user


def options(html: str, name: str) -> list[str]:
    return lxml.html.fromstring(html).xpath(f'//select[@name="{name}"]/option/@value')


def shown_token(html: str) -> str:
    return lxml.html.fromstring(html).get_element_by_id("new-token").get("value")


@pytest.mark.parametrize(
    ("role", "scopes"),
    [(Role.READER, ["read", "write"]), (Role.MODERATOR, ["read", "write", "moderate"])],
)
def test_the_account_page_offers_the_scopes_of_the_role(app, role, scopes):
    user = make_user(role=role)
    page = client_as(app, user).get("/account").get_data(as_text=True)
    assert "API tokens" in page
    assert options(page, "scope") == scopes
    assert options(page, "expires_in_days") == ["7", "30", "90", "365"]
    selected = lxml.html.fromstring(page).xpath(
        '//select[@name="expires_in_days"]/option[@selected]/@value'
    )
    assert selected == ["90"]
    assert "You have no API tokens." in page


def test_a_token_is_shown_once_then_listed_by_its_prefix(app):
    alice = make_user("alice")
    client = client_as(app, alice)
    response = client.post(
        "/account/tokens", data={"name": "Dashboard", "scope": "write", "expires_in_days": "30"}
    )
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    raw = shown_token(response.get_data(as_text=True))
    grant = api_tokens.authenticate(raw)
    assert grant.user.id == alice.id
    assert grant.scope.value == "write"

    account = client.get("/account").get_data(as_text=True)
    assert raw not in account
    token = db.session.execute(select(ApiToken)).scalar_one()
    assert f"forum_{token.prefix}_" in account
    row = lxml.html.fromstring(account).xpath('//section[@class="api-tokens"]//tbody/tr')[0]
    cells = [cell.text_content().strip() for cell in row.xpath("td")]
    assert cells[0] == "Dashboard"
    assert cells[2] == "write"


def test_the_token_form_works_with_csrf_switched_on(app_factory):
    app = app_factory(WTF_CSRF_ENABLED=True)
    with app.app_context():
        client = client_as(app, make_user("alice"))
        page = client.get("/account").get_data(as_text=True)
        data = {"name": "Script", "scope": "read", "expires_in_days": "7"}
        assert client.post("/account/tokens", data=data).status_code == 400
        data["csrf_token"] = csrf_token_from(page)
        response = client.post("/account/tokens", data=data)
        assert response.status_code == 200
        assert shown_token(response.get_data(as_text=True)).startswith("forum_")


def test_a_refused_form_keeps_what_was_typed(app):
    alice = make_user("alice")
    client = client_as(app, alice)
    data = {"name": "Dashboard", "scope": "read", "expires_in_days": "7"}
    client.post("/account/tokens", data=data)
    response = client.post("/account/tokens", data={**data, "expires_in_days": "365"})
    assert response.status_code == 400
    page = lxml.html.fromstring(response.get_data(as_text=True))
    assert page.get_element_by_id("name").get("value") == "Dashboard"
    assert "You already have a token with this name." in page.text_content()
    assert page.xpath('//select[@name="expires_in_days"]/option[@selected]/@value') == ["365"]
    assert len(api_tokens.tokens_of(alice)) == 1


@pytest.mark.parametrize(
    ("data", "status"),
    [
        ({"name": "", "scope": "read", "expires_in_days": "7"}, 400),
        ({"name": "X", "scope": "moderate", "expires_in_days": "7"}, 400),  # not offered
        ({"name": "X", "scope": "read", "expires_in_days": "10000"}, 400),
        ({"name": "X", "scope": "read", "expires_in_days": "soon"}, 400),
        ({"name": "X" * 61, "scope": "read", "expires_in_days": "7"}, 400),
    ],
)
def test_bad_input_answers_a_form_with_its_error_never_a_500(app, data, status):
    alice = make_user("alice")
    response = client_as(app, alice).post("/account/tokens", data=data)
    assert response.status_code == status
    assert 'class="error"' in response.get_data(as_text=True)
    assert api_tokens.tokens_of(alice) == []


def test_revoking_from_the_list(app):
    alice = make_user("alice")
    token, raw = api_tokens.create_token(alice, "Old script", "read", 30)
    client = client_as(app, alice)
    page = client.get("/account").get_data(as_text=True)
    action = f"/account/tokens/{token.id}/revoke"
    assert f'action="{action}"' in page
    response = client.post(action)
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/account#api-tokens")
    assert api_tokens.authenticate(raw) is None
    page = client.get("/account").get_data(as_text=True)
    assert "is revoked" in page
    assert f'action="{action}"' not in page


def test_last_use_shows_on_the_list(app):
    alice = make_user("alice")
    _, raw = api_tokens.create_token(alice, "Busy script", "read", 30)
    api_tokens.authenticate(raw)
    page = client_as(app, alice).get("/account").get_data(as_text=True)
    row = lxml.html.fromstring(page).xpath('//section[@class="api-tokens"]//tbody/tr')[0]
    assert row.xpath("td")[5].text_content().strip() != "never"


def test_a_token_never_logs_anyone_in_on_the_pages(app):
    alice = make_user("alice")
    _, raw = api_tokens.create_token(alice, "Script", "write", 30)
    response = app.test_client().get("/account", headers={"Authorization": f"Bearer {raw}"})
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]
