"""The admin's webhook pages, used as an admin would (no JavaScript), and what a receiver
that is down does to a reader's page: nothing."""

import time

import lxml.html
import pytest
from sqlalchemy import select

from forum.extensions import db
from forum.models import DeliveryStatus, Role, Webhook, WebhookDelivery
from forum.services import webhooks
from tests.conftest import client_as, make_article, make_user
from tests.servers import free_port


@pytest.fixture
def admin(app):
    return make_user("boss", role=Role.ADMIN)


def page_of(response) -> lxml.html.HtmlElement:
    return lxml.html.fromstring(response.get_data(as_text=True))


def test_an_admin_registers_tests_pauses_rotates_and_deletes_a_hook(app, admin):
    client = client_as(app, admin)
    listing = client.get("/admin/webhooks")
    assert listing.status_code == 200
    assert listing.headers["Cache-Control"] == "no-store"
    assert "No webhooks are registered." in listing.get_data(as_text=True)
    boxes = page_of(listing).xpath('//input[@type="checkbox"][@name="events"]/@value')
    assert boxes == [
        "comment.posted",
        "comment.edited",
        "comment.hidden",
        "comment.reported",
        "appeal.filed",
    ]

    response = client.post(
        "/admin/webhooks",
        data={"url": "https://hooks.example.org/in", "events": ["comment.posted", "appeal.filed"]},
    )
    assert response.status_code == 302
    hook = db.session.execute(select(Webhook)).scalar_one()
    assert response.headers["Location"].endswith(f"/admin/webhooks/{hook.id}")
    assert [e.value for e in hook.events] == ["comment.posted", "appeal.filed"]

    detail = client.get(f"/admin/webhooks/{hook.id}")
    assert detail.status_code == 200
    assert page_of(detail).get_element_by_id("webhook-secret").get("value") == hook.secret
    assert "Nothing has been queued for this webhook yet." in detail.get_data(as_text=True)

    assert client.post(f"/admin/webhooks/{hook.id}/test").status_code == 302
    log = page_of(client.get(f"/admin/webhooks/{hook.id}"))
    cells = [c.text_content().strip() for c in log.xpath("//tbody/tr[1]/td")]
    assert cells[1] == "ping"
    assert cells[3] == "pending"
    assert cells[4] == "0"

    client.post(f"/admin/webhooks/{hook.id}/deactivate")
    db.session.expire_all()
    assert not hook.active
    assert "Activate" in client.get(f"/admin/webhooks/{hook.id}").get_data(as_text=True)
    client.post(f"/admin/webhooks/{hook.id}/activate")
    db.session.expire_all()
    assert hook.active

    old = hook.secret
    client.post(f"/admin/webhooks/{hook.id}/rotate-secret")
    db.session.expire_all()
    assert hook.secret != old

    response = client.post(f"/admin/webhooks/{hook.id}/delete")
    assert response.headers["Location"].endswith("/admin/webhooks")
    assert db.session.execute(select(Webhook)).first() is None
    assert client.get(f"/admin/webhooks/{hook.id}").status_code == 404


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"url": "ftp://example.org/in", "events": ["comment.posted"]}, "http:// or https://"),
        ({"url": "https://example.org/in"}, "Choose at least one event."),
        ({"url": "", "events": ["comment.posted"]}, "Enter an address."),
        ({"url": "https://example.org/in", "events": ["ping"]}, "is not a valid choice"),
    ],
)
def test_a_refused_hook_keeps_the_form(app, admin, data, message):
    response = client_as(app, admin).post("/admin/webhooks", data=data)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert message in page
    assert page_of(response).get_element_by_id("url").get("value") == data["url"]
    assert db.session.execute(select(Webhook)).first() is None


@pytest.mark.parametrize("role", [Role.READER, Role.MODERATOR])
def test_nobody_but_admins_sees_the_pages(app, admin, role):
    hook = webhooks.create_hook(admin, "https://example.org/in", ["comment.posted"])
    client = client_as(app, make_user(role=role))
    assert client.get("/admin/webhooks").status_code == 403
    assert client.get(f"/admin/webhooks/{hook.id}").status_code == 403
    assert hook.secret not in client.get(f"/admin/webhooks/{hook.id}").get_data(as_text=True)
    anonymous = app.test_client().get("/admin/webhooks")
    assert anonymous.status_code == 302
    assert "/login" in anonymous.headers["Location"]


def test_the_account_page_links_admins_to_the_webhooks(app, admin):
    assert "/admin/webhooks" in client_as(app, admin).get("/account").get_data(as_text=True)
    reader = client_as(app, make_user("rita"))
    assert "/admin/webhooks" not in reader.get("/account").get_data(as_text=True)


def test_a_receiver_that_is_down_never_slows_or_breaks_a_page(app, admin):
    down = f"http://127.0.0.1:{free_port()}/in"
    webhooks.create_hook(admin, down, ["comment.posted"])
    article = make_article(make_user("writer", role=Role.AUTHOR), slug="the-article")
    client = client_as(app, make_user("alice"))
    started = time.monotonic()
    response = client.post("/articles/the-article/comments", data={"body": "Hello there."})
    assert response.status_code == 302
    assert time.monotonic() - started < 2
    delivery = db.session.execute(select(WebhookDelivery)).scalar_one()
    assert delivery.status is DeliveryStatus.PENDING
    assert delivery.attempts == 0  # queued only: the page made no network call
    assert client.get(f"/articles/{article.slug}").status_code == 200
