"""Tokens and webhooks in a browser without JavaScript: a member makes a token, sees it
once, revokes it; an admin registers a webhook. Neither page scrolls sideways on a phone."""

import pytest

from forum.models import Role
from tests.e2e.conftest import sign_in
from tests.e2e.helpers import expect

PHONE = {"width": 375, "height": 800}
WIDE = {"width": 1280, "height": 900}


@pytest.mark.parametrize("viewport", [PHONE, WIDE], ids=["phone", "wide"])
def test_a_token_made_shown_once_and_revoked_without_javascript(contexts, live, person, viewport):
    username = person("tokens")
    page = contexts(java_script_enabled=False, viewport=viewport).new_page()
    sign_in(page, live, username)
    page.goto("/account")
    page.get_by_label("Name").fill("Newsroom dashboard")
    page.get_by_label("Scope").select_option("write")
    page.get_by_label("Expires after").select_option("30")
    page.get_by_role("button", name="Make a token").click()

    shown = page.locator("#new-token")
    raw = shown.input_value()
    assert raw.startswith("forum_")
    page.get_by_role("link", name="Done").click()

    row = page.locator(".api-tokens tbody tr").first
    expect(row).to_contain_text("Newsroom dashboard")
    expect(row).to_contain_text("write")
    assert raw not in page.content()
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"the account page is {overflow} px too wide"

    row.get_by_role("button", name="Revoke").click()
    expect(page.locator(".flash")).to_contain_text("is revoked")
    expect(page.locator(".api-tokens tbody tr").first).to_contain_text("revoked")


def test_an_admin_registers_a_webhook_without_javascript(contexts, live, person):
    admin = person("admin", role=Role.ADMIN)
    page = contexts(java_script_enabled=False, viewport=PHONE).new_page()
    sign_in(page, live, admin)
    page.goto("/account")
    page.get_by_role("link", name="manage the site's webhooks").click()
    page.get_by_label("Receiving address").fill("https://hooks.example.org/forum")
    page.get_by_label("comment.reported", exact=False).check()
    page.get_by_role("button", name="Add webhook").click()
    expect(page.locator("h1")).to_contain_text("https://hooks.example.org/forum")
    page.get_by_text("Show the signing secret").click()
    assert len(page.locator("#webhook-secret").input_value()) >= 43
    page.get_by_role("button", name="Send test event").click()
    expect(page.locator("tbody tr").first).to_contain_text("ping")
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"the webhook page is {overflow} px too wide"


def test_the_token_and_webhook_pages_pass_axe(contexts, live, person):
    """The new token's page, the account page with a token listed, and the admin's
    webhook pages with a delivery logged: no serious or critical axe violation."""
    from tests.e2e.test_accessibility import AXE, assert_accessible

    if not AXE.exists():
        pytest.skip(f"axe-core is not vendored at {AXE}")
    page = contexts(bypass_csp=True, color_scheme="light").new_page()
    sign_in(page, live, person("axeadmin", role=Role.ADMIN))
    page.goto("/account")
    page.get_by_label("Name").fill("Checked script")
    page.get_by_role("button", name="Make a token").click()
    assert_accessible(page, "the new token's page")
    page.goto("/account")
    assert_accessible(page, "/account with a token")
    page.goto("/admin/webhooks")
    page.get_by_label("Receiving address").fill("https://hooks.example.org/axe")
    page.get_by_label("comment.posted", exact=False).check()
    page.get_by_role("button", name="Add webhook").click()
    page.get_by_role("button", name="Send test event").click()
    page.get_by_text("Show the signing secret").click()
    assert_accessible(page, "a webhook's page")
    page.goto("/admin/webhooks")
    assert_accessible(page, "/admin/webhooks")
