"""The HTML pages and the API give the same answers for the same caller on the same data:
the same comments, in the same order, each with its words or as the same placeholder; the
same comments found or not found, the same histories readable or not."""

import pytest
from lxml import html as lxml_html

from forum.extensions import db
from forum.models import Comment, User
from forum.services import premoderation, threads
from tests.conftest import client_as, make_user

# How a card on the page shows a comment, named after the API's ``shown``.
SHOWN_KIND = {
    "text": "text",
    "own-hidden": "hidden-notice",
    "mod-hidden": "hidden-notice",
    "own-pending": "pending-notice",
    "mod-pending": "pending-notice",
    "own-rejected": "rejected-notice",
    "mod-rejected": "rejected-notice",
    "hidden-placeholder": "hidden-placeholder",
    "deleted-placeholder": "deleted-placeholder",
}
CALLERS = ("anonymous", "reader", "author", "moderator")


@pytest.fixture
def people(scene):
    rejected = threads.post_comment(
        scene["carl"],
        scene["article"],
        "Turned down.",
        settings=threads.DiscussionSettings(premoderate_first=10),
    )
    premoderation.reject_comment(scene["mod"], rejected, "spam")
    return {
        "anonymous": None,
        "reader": make_user(),
        "author": scene["carl"],
        "moderator": scene["mod"],
    }


def page_cards(client, slug: str) -> list[tuple[int, str]]:
    """(comment id, how it is shown) for every card of the article page, in page order."""
    response = client.get(f"/articles/{slug}")
    assert response.status_code == 200
    tree = lxml_html.fromstring(response.get_data(as_text=True))
    cards = []
    for card in tree.xpath("//article[@data-card]"):
        placeholder = card.xpath("./p[contains(@class, 'placeholder')]")
        if placeholder:
            text = placeholder[0].text_content()
            kind = "deleted-placeholder" if text == "[deleted]" else "hidden-placeholder"
        elif card.xpath("./p[contains(@class, 'notice-pending')]"):
            kind = "pending-notice"
        elif card.xpath("./p[contains(@class, 'notice-hidden')]"):
            notice = card.xpath("./p[contains(@class, 'notice-hidden')]")[0].text_content()
            kind = "rejected-notice" if notice.startswith("Not approved") else "hidden-notice"
        else:
            kind = "text"
        cards.append((int(card.get("data-card")), kind))
    return cards


def api_cards(client, slug: str) -> list[tuple[int, str]]:
    body = client.get(f"/api/v1/articles/{slug}/comments").get_json()
    cards = []
    for thread in body["threads"]:
        for comment in [thread, *thread["replies"]]:
            cards.append((comment["id"], SHOWN_KIND[comment["shown"]]))
    return cards


def as_user(people: dict, caller: str) -> User | None:
    user = people[caller]
    return db.session.get(User, user.id) if user is not None else None


@pytest.mark.parametrize("caller", CALLERS)
def test_the_same_comments_shown_the_same_way(app, scene, people, caller):
    client = client_as(app, as_user(people, caller))
    slug = scene["article"].slug
    assert api_cards(client, slug) == page_cards(client, slug)


@pytest.mark.parametrize("caller", CALLERS)
def test_the_same_comments_found_and_the_same_histories_readable(app, scene, people, caller):
    client = client_as(app, as_user(people, caller))
    ids = list(db.session.scalars(db.select(Comment.id).order_by(Comment.id)))
    for comment_id in ids:
        page = client.get(f"/comments/{comment_id}").status_code  # permalink: 302 or 404
        api = client.get(f"/api/v1/comments/{comment_id}").status_code
        assert (page, api) in ((302, 200), (404, 404)), (caller, comment_id, page, api)
        page = client.get(f"/comments/{comment_id}/history").status_code
        api = client.get(f"/api/v1/comments/{comment_id}/revisions").status_code
        assert page == api, (caller, comment_id, page, api)


def test_the_comparison_sees_every_kind_of_card(app, scene, people):
    """The scene holds text, notices and placeholders, so the comparisons above compare
    something."""
    kinds = set()
    for caller in CALLERS:
        client = client_as(app, as_user(people, caller))
        kinds |= {kind for _, kind in page_cards(client, scene["article"].slug)}
    assert kinds == {
        "text",
        "hidden-notice",
        "pending-notice",
        "rejected-notice",
        "hidden-placeholder",
        "deleted-placeholder",
    }
