"""Webhook events: each event queues one delivery per active, subscribed hook, in the
transaction of the change (a refused change queues nothing), with a payload that carries
nothing private; and the admin service's rules."""

import json

import pytest
from sqlalchemy import func, select

from forum.extensions import db
from forum.models import (
    SUBSCRIBABLE_EVENTS,
    DeliveryStatus,
    Role,
    Webhook,
    WebhookDelivery,
    WebhookEvent,
)
from forum.services import appeals, moderation, threads, webhooks
from forum.services.errors import Conflict, Forbidden, NotAllowed, NotFound
from tests.conftest import make_article, make_user


@pytest.fixture
def people(app):
    return {
        "admin": make_user("boss", role=Role.ADMIN),
        "mod": make_user("mona", role=Role.MODERATOR),
        "alice": make_user("alice", email="alice@example.org"),
        "bob": make_user("bob", email="bob@example.org"),
    }


@pytest.fixture
def article(people):
    return make_article(make_user("writer", role=Role.AUTHOR), slug="the-article")


def hook_for(admin, events=SUBSCRIBABLE_EVENTS, url="https://hooks.example.org/forum"):
    return webhooks.create_hook(admin, url, [event.value for event in events])


def deliveries(hook=None) -> list[WebhookDelivery]:
    query = select(WebhookDelivery).order_by(WebhookDelivery.id)
    if hook is not None:
        query = query.where(WebhookDelivery.webhook_id == hook.id)
    return list(db.session.execute(query).scalars())


def payloads(event: str) -> list[dict]:
    return [json.loads(d.payload) for d in deliveries() if d.event == event]


def test_each_event_queues_a_delivery_with_its_payload(people, article):
    hook = hook_for(people["admin"])
    alice, bob, mod = people["alice"], people["bob"], people["mod"]

    comment = threads.post_comment(alice, article, "Hello **world**.")
    threads.edit_comment(alice, comment, "Hello **world**, edited.")
    moderation.report_comment(bob, comment, "spam", "BOB-PRIVATE-NOTE")
    moderation.hide_comment(mod, comment, "spam", "MOD-PRIVATE-NOTE")
    appeals.appeal(alice, comment, "APPEAL-PRIVATE-MESSAGE")

    assert [d.event for d in deliveries(hook)] == [
        "comment.posted",
        "comment.edited",
        "comment.reported",
        "comment.hidden",
        "appeal.filed",
    ]
    assert all(d.status is DeliveryStatus.PENDING and d.attempts == 0 for d in deliveries())

    (posted,) = payloads("comment.posted")
    assert posted["event"] == "comment.posted"
    assert posted["occurred_at"]
    assert posted["comment"]["id"] == comment.id
    assert posted["comment"]["author"]["username"] == "alice"
    assert posted["comment"]["body_html"] == "<p>Hello <strong>world</strong>.</p>\n"
    assert posted["article"] == {
        "id": article.id,
        "slug": "the-article",
        "title": article.title,
        "external_url": None,
    }
    (edited,) = payloads("comment.edited")
    assert "edited" in edited["comment"]["body_html"]
    assert edited["comment"]["edited_at"]
    (reported,) = payloads("comment.reported")
    assert reported["report"] == {"reason": "spam"}
    (hidden,) = payloads("comment.hidden")
    assert hidden["reason"] == "spam"
    assert hidden["comment"]["status"] == "hidden"
    (appealed,) = payloads("appeal.filed")
    assert appealed["comment"]["id"] == comment.id


def test_payloads_carry_nothing_private(people, article):
    hook_for(people["admin"])
    alice, bob, mod = people["alice"], people["bob"], people["mod"]
    comment = threads.post_comment(alice, article, "A comment.")
    moderation.report_comment(bob, comment, "abuse", "BOB-PRIVATE-NOTE")
    moderation.hide_comment(mod, comment, "abuse", "MOD-PRIVATE-NOTE")
    appeals.appeal(alice, comment, "APPEAL-PRIVATE-MESSAGE")
    everything = " ".join(d.payload for d in deliveries())
    for private in (
        "example.org",
        "BOB-PRIVATE-NOTE",
        "MOD-PRIVATE-NOTE",
        "APPEAL-PRIVATE-MESSAGE",
        "bob",
        "mona",
    ):
        assert private not in everything


def test_only_active_hooks_subscribed_to_the_event_get_it(people, article):
    admin = people["admin"]
    posted_only = hook_for(admin, [WebhookEvent.COMMENT_POSTED])
    hidden_only = hook_for(admin, [WebhookEvent.COMMENT_HIDDEN])
    paused = hook_for(admin)
    webhooks.set_active(admin, paused, False)

    threads.post_comment(people["alice"], article, "A comment.")

    assert [d.event for d in deliveries(posted_only)] == ["comment.posted"]
    assert deliveries(hidden_only) == []
    assert deliveries(paused) == []


def test_a_refused_change_queues_nothing(people, article):
    hook_for(people["admin"])
    comment = threads.post_comment(people["alice"], article, "A comment.")
    moderation.report_comment(people["bob"], comment, "spam")
    before = len(deliveries())
    with pytest.raises(Conflict):
        moderation.report_comment(people["bob"], comment, "spam")  # reported twice
    with pytest.raises(Forbidden):
        moderation.hide_comment(people["alice"], comment, "spam")  # not a moderator
    db.session.rollback()
    assert len(deliveries()) == before


def test_without_hooks_nothing_is_queued(people, article):
    threads.post_comment(people["alice"], article, "A comment.")
    assert db.session.execute(select(func.count(WebhookDelivery.id))).scalar() == 0


def test_a_premoderated_comment_is_posted_as_pending(people, article):
    hook_for(people["admin"])
    threads.post_comment(
        people["alice"],
        article,
        "Waiting.",
        settings=threads.DiscussionSettings(premoderate_first=5),
    )
    (posted,) = payloads("comment.posted")
    assert posted["comment"]["status"] == "pending"


@pytest.mark.parametrize(
    "url",
    [
        "",
        "ftp://example.org/hook",
        "file:///etc/passwd",
        "javascript:alert(1)",
        "/relative/path",
        "https://",
        "https://example.org:notaport/",
        "https://exa mple.org/",
        "https://example.org/" + "x" * 2000,
    ],
)
def test_hook_urls_must_be_absolute_http(people, url):
    with pytest.raises(NotAllowed) as refused:
        webhooks.create_hook(people["admin"], url, ["comment.posted"])
    assert refused.value.field == "url"
    assert webhooks.all_hooks() == []


@pytest.mark.parametrize("events", [[], ["ping"], ["comment.deleted"], ["comment.posted", "x"]])
def test_hooks_subscribe_to_listed_events_only(people, events):
    with pytest.raises(NotAllowed) as refused:
        webhooks.create_hook(people["admin"], "https://example.org/hook", events)
    assert refused.value.field == "events"


@pytest.mark.parametrize("who", ["mod", "alice"])
def test_only_admins_manage_hooks(people, who):
    actor = people[who]
    with pytest.raises(Forbidden):
        webhooks.create_hook(actor, "https://example.org/hook", ["comment.posted"])
    hook = hook_for(people["admin"])
    for action in (
        lambda: webhooks.set_active(actor, hook, False),
        lambda: webhooks.rotate_secret(actor, hook),
        lambda: webhooks.send_test_event(actor, hook),
        lambda: webhooks.delete_hook(actor, hook),
    ):
        with pytest.raises(Forbidden):
            action()
    db.session.expire_all()
    assert hook.active
    assert deliveries() == []


def test_rotating_gives_a_new_secret(people):
    hook = hook_for(people["admin"])
    old = hook.secret
    assert len(old) >= 43
    webhooks.rotate_secret(people["admin"], hook)
    assert hook.secret != old


def test_a_test_event_goes_to_that_hook_only_even_when_paused(people):
    admin = people["admin"]
    hook, other = hook_for(admin), hook_for(admin)
    webhooks.set_active(admin, hook, False)
    webhooks.send_test_event(admin, hook)
    (ping,) = deliveries()
    assert ping.webhook_id == hook.id
    assert ping.event == "ping"
    assert json.loads(ping.payload)["webhook_id"] == hook.id
    assert deliveries(other) == []


def test_deleting_a_hook_deletes_its_log(people, article):
    admin = people["admin"]
    hook, kept = hook_for(admin), hook_for(admin)
    threads.post_comment(people["alice"], article, "A comment.")
    webhooks.delete_hook(admin, hook)
    assert db.session.get(Webhook, kept.id) is not None
    assert [d.webhook_id for d in deliveries()] == [kept.id]
    with pytest.raises(NotFound):
        webhooks.get_hook(hook.id)


def test_the_log_shows_the_latest_fifty(people, article):
    hook = hook_for(people["admin"], [WebhookEvent.COMMENT_POSTED])
    for number in range(52):
        threads.post_comment(people["alice"], article, f"Comment {number}.")
    log = webhooks.deliveries_of(hook)
    assert len(log) == 50
    assert json.loads(log[0].payload)["comment"]["body_html"].startswith("<p>Comment 51.</p>")
