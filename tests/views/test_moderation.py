"""Moderation through the browser: hiding and what each person sees of a hidden comment,
reports and the queue, pre-moderation and trust, spam defences, appeals, locks, suspensions,
roles, and the moderation log with its public view."""

import time
from contextlib import ExitStack
from datetime import timedelta
from types import SimpleNamespace
from urllib.parse import urlsplit

import lxml.html
import pytest
from flask import current_app
from sqlalchemy import func, select

from forum import create_app
from forum.extensions import db
from forum.models import (
    Appeal,
    Comment,
    CommentStatus,
    ModAction,
    ModerationAction,
    Notification,
    NotificationKind,
    Report,
    ReportStatus,
    Role,
    User,
    utcnow,
)
from forum.moderation.forms import DURATION_CHOICES, action_label
from forum.services import appeals, moderation, premoderation, sanctions, spam, threads
from tests.conftest import base_config, client_as, make_article, make_series, make_user, snapshot

PREMODERATE = threads.DiscussionSettings(premoderate_first=10)

# --- the world and helpers --------------------------------------------------------------------


def make_world() -> SimpleNamespace:
    """An article in a series, its writer, three readers, a moderator and an admin."""
    writer = make_user("writer", role=Role.AUTHOR, display_name="Wendy Writer")
    series = make_series("The Series", slug="the-series")
    return SimpleNamespace(
        writer=writer,
        article=make_article(writer, series=series, position=1, slug="the-article"),
        series=series,
        carl=make_user("carl", display_name="Carl Commenter"),
        rita=make_user("rita", display_name="Rita Reader"),
        # The reporter: names that appear nowhere else on any page.
        whistler=make_user("whistler42", display_name="Wesley Whistleblower"),
        mod=make_user("mod", role=Role.MODERATOR, display_name="Moe Moderator"),
        mod2=make_user("mod2", role=Role.MODERATOR),
        admin=make_user("admin", role=Role.ADMIN),
    )


@pytest.fixture
def w(app) -> SimpleNamespace:
    return make_world()


@pytest.fixture
def configured(app_factory):
    """Build an app with extra settings; its context stays open for the test."""
    with ExitStack() as stack:

        def build(**overrides):
            app = app_factory(**overrides)
            stack.enter_context(app.app_context())
            return app

        yield build


def say(author: User, article, body: str, parent: Comment | None = None, **settings) -> Comment:
    """A comment made through the service (what is under test here is the HTTP side)."""
    return threads.post_comment(
        author,
        article,
        body,
        parent_id=parent.id if parent else None,
        settings=threads.DiscussionSettings(**settings),
    )


def html(response) -> str:
    return response.get_data(as_text=True)


def card_text(page: str, comment_id: int) -> str:
    """The text of one comment's own card (without its replies), as a reader would read it."""
    tree = lxml.html.fromstring(page)
    [card] = tree.xpath(f'//li[@id="c{comment_id}"]/article[contains(@class, "comment-card")]')
    return " ".join(card.text_content().split())


def location(response) -> str:
    return urlsplit(response.headers.get("Location", "")).path


def log_actions() -> list[ModAction]:
    return list(
        db.session.execute(select(ModerationAction.action).order_by(ModerationAction.id)).scalars()
    )


def refused(client, url: str, data: dict, status: int) -> str:
    """POST expecting ``status``, and check the database didn't change; returns the page."""
    before = snapshot()
    response = client.post(url, data=data)
    assert response.status_code == status, html(response)[:500]
    assert snapshot() == before
    return html(response)


def reload(obj):
    db.session.rollback()
    db.session.refresh(obj)
    return obj


# --- hiding -----------------------------------------------------------------------------------


def test_a_moderator_hides_a_comment_with_a_reason_and_a_note(app, w):
    comment = say(w.carl, w.article, "Buy my miracle pills.")
    response = client_as(app, w.mod).post(
        f"/comments/{comment.id}/hide", data={"reason": "spam", "note": "Third advert."}
    )
    assert response.status_code == 302
    assert location(response) == f"/comments/{comment.id}"

    reload(comment)
    assert comment.status is CommentStatus.HIDDEN
    assert (comment.hidden_reason, comment.hidden_note) == ("spam", "Third advert.")
    assert comment.hidden_by_id == w.mod.id
    [entry] = db.session.execute(select(ModerationAction)).scalars().all()
    assert (entry.action, entry.reason, entry.note) == (ModAction.HIDE, "spam", "Third advert.")


@pytest.mark.parametrize("reason", ["", "because"])
def test_hiding_without_a_known_reason_is_400(app, w, reason):
    comment = say(w.carl, w.article, "Buy my miracle pills.")
    page = refused(client_as(app, w.mod), f"/comments/{comment.id}/hide", {"reason": reason}, 400)
    assert "Choose a reason" in page


def test_hiding_twice_is_409_and_logged_once(app, w):
    comment = say(w.carl, w.article, "Buy my miracle pills.")
    mod = client_as(app, w.mod)
    assert mod.post(f"/comments/{comment.id}/hide", data={"reason": "spam"}).status_code == 302
    page = refused(mod, f"/comments/{comment.id}/hide", {"reason": "abuse"}, 409)
    assert "already hidden" in page
    assert log_actions() == [ModAction.HIDE]


def test_unhiding_a_visible_comment_is_409_and_unhide_is_logged_once(app, w):
    comment = say(w.carl, w.article, "Buy my miracle pills.")
    mod = client_as(app, w.mod)
    refused(mod, f"/comments/{comment.id}/unhide", {}, 409)
    mod.post(f"/comments/{comment.id}/hide", data={"reason": "spam"})
    assert mod.post(f"/comments/{comment.id}/unhide").status_code == 302
    assert reload(comment).status is CommentStatus.VISIBLE
    refused(mod, f"/comments/{comment.id}/unhide", {}, 409)
    assert log_actions() == [ModAction.HIDE, ModAction.UNHIDE]


# --- what each person sees of a hidden comment ------------------------------------------------


@pytest.fixture
def hidden(w) -> SimpleNamespace:
    """Carl's hidden comment with a visible reply below it."""
    comment = say(w.carl, w.article, "Buy my miracle pills.")
    reply = say(w.rita, w.article, "Please stop advertising.", comment)
    moderation.hide_comment(w.mod, comment, "spam", "private-note-42")
    return SimpleNamespace(comment=comment, reply=reply)


@pytest.mark.parametrize("viewer", [None, "rita", "whistler"])
def test_readers_see_a_placeholder_and_the_replies_below_it(app, w, hidden, viewer):
    client = client_as(app, getattr(w, viewer) if viewer else None)
    page = html(client.get("/articles/the-article"))

    assert card_text(page, hidden.comment.id) == "Hidden by a moderator: spam"
    assert "miracle pills" not in page
    assert "private-note-42" not in page
    assert f"/comments/{hidden.comment.id}/unhide" not in page
    assert "Please stop advertising." in card_text(page, hidden.reply.id)


def test_its_author_sees_their_text_with_the_reason_and_can_appeal(app, w, hidden):
    page = html(client_as(app, w.carl).get("/articles/the-article"))
    card = card_text(page, hidden.comment.id)

    assert "Buy my miracle pills." in card
    assert "Hidden by a moderator: spam." in card
    assert "Only you and the moderators can see this text." in card
    assert "private-note-42" not in page
    assert f'action="/comments/{hidden.comment.id}/appeal"' in page
    assert f"/comments/{hidden.comment.id}/unhide" not in page


@pytest.mark.parametrize("staff", ["mod", "admin"])
def test_moderators_see_the_full_text_marked_hidden_with_an_unhide_button(app, w, hidden, staff):
    page = html(client_as(app, getattr(w, staff)).get("/articles/the-article"))
    card = card_text(page, hidden.comment.id)

    assert "Buy my miracle pills." in card
    assert "Hidden by a moderator: spam (private-note-42)." in card
    assert f'id="c{hidden.comment.id}" class="comment level-1 is-mod-hidden"' in page
    assert f'action="/comments/{hidden.comment.id}/unhide"' in page


def test_a_permalink_to_a_hidden_comment_shows_the_placeholder_in_context(app, w, hidden):
    reader = client_as(app, w.rita)
    response = reader.get(f"/comments/{hidden.comment.id}")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/articles/the-article#c{hidden.comment.id}")

    page = html(reader.get(f"/comments/{hidden.comment.id}", follow_redirects=True))
    assert card_text(page, hidden.comment.id) == "Hidden by a moderator: spam"
    assert "miracle pills" not in page


def test_hidden_pending_rejected_and_deleted_comments_stay_out_of_counts_and_profiles(app, w):
    say(w.rita, w.article, "Visible one.")
    say(w.carl, w.article, "Visible two.")
    moderation.hide_comment(w.mod, say(w.carl, w.article, "HIDDEN-TEXT"), "abuse")
    say(w.carl, w.article, "PENDING-TEXT", premoderate_first=10)
    rejected = say(w.carl, w.article, "REJECTED-TEXT", premoderate_first=10)
    premoderation.reject_comment(w.mod, rejected, "spam")
    threads.delete_comment(w.carl, say(w.carl, w.article, "DELETED-TEXT"))

    for client in (client_as(app), client_as(app, w.rita)):
        home = html(client.get("/"))
        assert ">2 comments</a>" in home
        assert "2 comments" in html(client.get("/series/the-series"))
        article = html(client.get("/articles/the-article"))
        assert "Discussion (2 comments)" in article
        profile = html(client.get("/users/carl"))
        for secret in ("HIDDEN-TEXT", "PENDING-TEXT", "REJECTED-TEXT", "DELETED-TEXT"):
            assert secret not in article
            assert secret not in profile
            assert secret not in home


# --- reports and the queue --------------------------------------------------------------------


def test_a_reader_reports_a_comment_once(app, w):
    comment = say(w.carl, w.article, "Buy my miracle pills.")
    reader = client_as(app, w.rita)
    response = reader.post(f"/comments/{comment.id}/flag", data={"category": "spam"})
    assert response.status_code == 302
    assert location(response) == "/articles/the-article"
    # A second report (another tab, an old page) is told so on the report page, not a 409.
    page = refused(reader, f"/comments/{comment.id}/flag", {"category": "abuse"}, 200)
    assert "You have already reported this comment" in page
    assert "Send report" not in page
    assert db.session.execute(select(func.count(Report.id))).scalar_one() == 1


def test_nobody_reports_their_own_comment(app, w):
    comment = say(w.carl, w.article, "Buy my miracle pills.")
    refused(client_as(app, w.carl), f"/comments/{comment.id}/flag", {"category": "spam"}, 403)


@pytest.mark.parametrize("category", ["", "boring"])
def test_a_report_needs_a_known_category(app, w, category):
    comment = say(w.carl, w.article, "Buy my miracle pills.")
    refused(client_as(app, w.rita), f"/comments/{comment.id}/flag", {"category": category}, 400)


def report(reporter: User, comment: Comment, category: str, note: str = "", minutes_ago=0):
    item = moderation.report_comment(reporter, comment, category, note)
    item.created_at = utcnow() - timedelta(minutes=minutes_ago)
    db.session.commit()
    return item


def test_the_queue_groups_reports_by_comment_newest_first_in_pages(configured):
    app = configured(MODERATION_PAGE_SIZE=2)
    w = make_world()
    double = say(w.carl, w.article, "Reported twice.")
    oldest = say(w.carl, w.article, "Reported long ago.")
    middle = say(w.rita, w.article, "Reported a while ago.")
    report(w.rita, double, "spam", "Selling pills", minutes_ago=8)
    report(w.whistler, double, "abuse", "Rude as well", minutes_ago=2)
    report(w.rita, oldest, "off-topic", minutes_ago=60)
    report(w.whistler, middle, "other", minutes_ago=20)

    mod = client_as(app, w.mod)
    page = html(mod.get("/moderation"))
    assert "Reported comments (3)" in page
    assert page.index(f'id="q{double.id}"') < page.index(f'id="q{middle.id}"')
    assert f'id="q{oldest.id}"' not in page
    assert "Page 1 of 2" in page
    item = " ".join(
        lxml.html.fromstring(page).get_element_by_id(f"q{double.id}").text_content().split()
    )
    assert "2 reports" in item
    assert "Abuse \N{MULTIPLICATION SIGN}1" in item
    assert "Spam \N{MULTIPLICATION SIGN}1" in item
    assert "“Selling pills”" in item
    assert "“Rude as well”" in item
    assert "Reported twice." in item
    assert f'href="/comments/{double.id}"' in page  # the comment in context

    page = html(mod.get("/moderation?page=2"))
    assert f'id="q{oldest.id}"' in page
    assert f'id="q{double.id}"' not in page
    assert "Page 2 of 2" in page
    # Like every paged list: a page that isn't there is a 404.
    for query in ("?page=3", "?page=0", "?page=two", "?page=2147483648"):
        assert mod.get(f"/moderation{query}").status_code == 404


def test_the_log_pages_404_past_the_end_and_an_empty_log_has_page_one(app, w):
    reader = client_as(app, None)
    assert "No moderation actions" in html(reader.get("/moderation/log?page=1"))
    for query in ("?page=2", "?page=x", "?action=hide&page=2"):
        assert reader.get(f"/moderation/log{query}").status_code == 404


def test_hiding_from_the_queue_actions_the_reports(app, w):
    comment = say(w.carl, w.article, "Buy my miracle pills.")
    report(w.rita, comment, "spam")
    mod = client_as(app, w.mod)
    assert f'id="q{comment.id}"' in html(mod.get("/moderation"))

    response = mod.post(
        f"/comments/{comment.id}/hide", data={"reason": "spam", "next": "/moderation"}
    )
    assert location(response) == "/moderation"
    assert reload(comment).status is CommentStatus.HIDDEN
    assert db.session.execute(select(Report.status)).scalars().all() == [ReportStatus.ACTIONED]
    assert f'id="q{comment.id}"' not in html(mod.get("/moderation"))


def test_dismissing_reports_leaves_the_comment_and_empties_the_queue(app, w):
    comment = say(w.carl, w.article, "A fine comment.")
    report(w.rita, comment, "abuse")
    report(w.whistler, comment, "abuse")
    mod = client_as(app, w.mod)

    response = mod.post(f"/comments/{comment.id}/dismiss", data={"next": "/moderation"})
    assert location(response) == "/moderation"
    assert reload(comment).status is CommentStatus.VISIBLE
    statuses = db.session.execute(select(Report.status)).scalars().all()
    assert statuses == [ReportStatus.DISMISSED] * 2
    assert "No open reports" in html(mod.get("/moderation"))
    refused(mod, f"/comments/{comment.id}/dismiss", {}, 409)
    assert log_actions() == [ModAction.DISMISS]


def nav_links(page: str) -> dict[str, str]:
    """The account navigation: href → link text."""
    tree = lxml.html.fromstring(page)
    return {
        a.get("href"): " ".join(a.text_content().split())
        for a in tree.xpath('//nav[@aria-label="Account"]//a')
    }


def test_the_open_reports_count_shows_in_moderators_navigation_only(app, w):
    for comment in (say(w.carl, w.article, "One."), say(w.carl, w.article, "Two.")):
        report(w.rita, comment, "spam")
        report(w.whistler, comment, "spam")

    for staff in (w.mod, w.admin):
        links = nav_links(html(client_as(app, staff).get("/")))
        assert links["/moderation"] == "Moderation 2 open reports"
    for someone in (w.rita, w.carl, w.writer):
        page = html(client_as(app, someone).get("/"))
        assert "/moderation" not in nav_links(page)
        assert "open reports" not in page
    assert "/moderation" not in nav_links(html(client_as(app).get("/")))


def test_the_reported_person_never_learns_who_reported_them(app, w):
    comment = say(w.carl, w.article, "Buy my miracle pills.")
    report(w.whistler, comment, "spam", "reporter-secret-note")
    # The moderators do see it (so its absence below means something).
    queue = html(client_as(app, w.mod).get("/moderation"))
    assert "whistler42" in queue
    assert "reporter-secret-note" in queue

    client_as(app, w.mod).post(f"/comments/{comment.id}/hide", data={"reason": "spam"})
    carl = client_as(app, w.carl)
    for url in ("/articles/the-article", "/users/carl", "/notifications", "/moderation/log"):
        response = carl.get(url)
        assert response.status_code == 200, url
        for secret in ("whistler42", "Whistleblower", "reporter-secret-note"):
            assert secret not in html(response), (url, secret)


# --- pre-moderation and trust -----------------------------------------------------------------


def test_first_comments_wait_for_review_visible_only_to_author_and_moderators(configured):
    app = configured(PREMODERATE_FIRST_COMMENTS=2)
    w = make_world()
    newcomer = client_as(app, w.rita)
    response = newcomer.post(
        "/articles/the-article/comments", data={"body": "My first words."}, follow_redirects=True
    )
    assert "Your comment is waiting for review." in html(response)
    [comment] = db.session.execute(select(Comment)).scalars().all()
    assert comment.status is CommentStatus.PENDING

    card = card_text(html(newcomer.get("/articles/the-article")), comment.id)
    assert "My first words." in card
    assert "Awaiting review" in card
    for other in (client_as(app), client_as(app, w.carl)):
        page = html(other.get("/articles/the-article"))
        assert "My first words." not in page
        assert "Discussion (0 comments)" in page
    page = html(client_as(app, w.mod).get("/articles/the-article"))
    assert "My first words." in card_text(page, comment.id)
    assert f'action="/comments/{comment.id}/approve"' in page
    assert f'action="/comments/{comment.id}/reject"' in page
    queue = html(client_as(app, w.mod).get("/moderation"))
    assert "Awaiting review (1)" in queue
    assert "My first words." in queue


def test_approve_shows_the_comment_and_reject_keeps_it_out(configured):
    app = configured(PREMODERATE_FIRST_COMMENTS=2)
    w = make_world()
    approved = say(w.rita, w.article, "Worth approving.", premoderate_first=2)
    rejected = say(w.rita, w.article, "Not worth it.", premoderate_first=2)
    mod = client_as(app, w.mod)

    assert location(mod.post(f"/comments/{approved.id}/approve")) == "/moderation"
    refused(mod, f"/comments/{rejected.id}/reject", {"reason": ""}, 400)
    response = mod.post(f"/comments/{rejected.id}/reject", data={"reason": "off-topic"})
    assert location(response) == "/moderation"
    refused(mod, f"/comments/{approved.id}/approve", {}, 409)

    assert reload(approved).status is CommentStatus.VISIBLE
    assert reload(rejected).status is CommentStatus.REJECTED
    page = html(client_as(app, w.carl).get("/articles/the-article"))
    assert "Worth approving." in page
    assert "Not worth it." not in page
    own = card_text(html(client_as(app, w.rita).get("/articles/the-article")), rejected.id)
    assert "Not approved by a moderator" in own
    assert log_actions() == [ModAction.APPROVE, ModAction.REJECT]


def test_after_enough_approved_comments_new_ones_appear_at_once(configured):
    app = configured(PREMODERATE_FIRST_COMMENTS=2)
    w = make_world()
    newcomer = client_as(app, w.rita)
    mod = client_as(app, w.mod)
    for n in range(2):
        newcomer.post("/articles/the-article/comments", data={"body": f"Comment {n}."})
    for comment in db.session.execute(select(Comment)).scalars().all():
        assert comment.status is CommentStatus.PENDING
        mod.post(f"/comments/{comment.id}/approve")

    newcomer.post("/articles/the-article/comments", data={"body": "Now I'm known."})
    latest = db.session.execute(select(Comment).order_by(Comment.id.desc())).scalars().first()
    assert (latest.body_md, latest.status) == ("Now I'm known.", CommentStatus.VISIBLE)


SPAM_ON = {"SPAM_CHECKS_ENABLED": True, "SPAM_MIN_SUBMIT_SECONDS": 0}


def signed_time(seconds_ago: float = 0) -> str:
    """A ``form_started`` value as the app signs it, shown ``seconds_ago``."""
    return spam.form_token(current_app.secret_key, now=time.time() - seconds_ago)


def comment_form(body: str, **extra) -> dict:
    return {"body": body, "form_started": signed_time(), **extra}


TWO_LINKS = "See https://a.example and https://b.example"
THREE_LINKS = TWO_LINKS + " and https://c.example"


def test_new_account_limits_lift_after_enough_approved_comments(configured):
    app = configured(
        PREMODERATE_FIRST_COMMENTS=5,
        TRUSTED_AFTER_APPROVED_COMMENTS=2,
        NEW_ACCOUNT_MAX_LINKS=1,
        **SPAM_ON,
    )
    w = make_world()
    newcomer = client_as(app, w.rita)
    refused(newcomer, "/articles/the-article/comments", comment_form(TWO_LINKS), 400)
    for n in range(2):
        premoderation.approve_comment(
            w.mod, say(w.rita, w.article, f"Fine {n}.", premoderate_first=5)
        )

    response = newcomer.post("/articles/the-article/comments", data=comment_form(TWO_LINKS))
    assert response.status_code == 302
    latest = db.session.execute(select(Comment).order_by(Comment.id.desc())).scalars().first()
    assert (latest.body_md, latest.status) == (TWO_LINKS, CommentStatus.VISIBLE)


def test_a_moderator_grants_trust_by_hand(configured):
    app = configured(PREMODERATE_FIRST_COMMENTS=2, NEW_ACCOUNT_MAX_LINKS=1, **SPAM_ON)
    w = make_world()
    mod = client_as(app, w.mod)
    assert 'action="/users/rita/trust"' in html(mod.get("/users/rita"))

    response = mod.post("/users/rita/trust")
    assert location(response) == "/users/rita"
    assert reload(w.rita).trusted
    assert 'action="/users/rita/trust"' not in html(mod.get("/users/rita"))
    refused(mod, "/users/rita/trust", {}, 409)
    assert log_actions() == [ModAction.TRUST]

    response = client_as(app, w.rita).post(
        "/articles/the-article/comments", data=comment_form(THREE_LINKS)
    )
    assert response.status_code == 302
    [comment] = db.session.execute(select(Comment)).scalars().all()
    assert comment.status is CommentStatus.VISIBLE  # neither held back nor link-capped


# --- spam defences ----------------------------------------------------------------------------


def test_young_accounts_may_include_only_a_few_links_and_keep_their_draft(configured):
    app = configured(NEW_ACCOUNT_MAX_LINKS=2, **SPAM_ON)
    w = make_world()
    reader = client_as(app, w.rita)
    page = refused(reader, "/articles/the-article/comments", comment_form(THREE_LINKS), 400)
    assert "New accounts can include at most 2 links in a comment; this one has 3." in page
    [textarea] = lxml.html.fromstring(page).xpath('//textarea[@name="body"]')
    assert textarea.text_content().strip() == THREE_LINKS

    response = reader.post("/articles/the-article/comments", data=comment_form(TWO_LINKS))
    assert response.status_code == 302


def test_the_forms_carry_a_honeypot_and_the_time_they_were_shown(configured):
    app = configured(**SPAM_ON)
    w = make_world()
    for client, url in (
        (client_as(app, w.rita), "/articles/the-article"),
        (client_as(app), "/register"),
    ):
        tree = lxml.html.fromstring(html(client.get(url)))
        [honeypot] = tree.xpath('//input[@name="website"]')
        assert honeypot.get("tabindex") == "-1"
        [started] = tree.xpath('//input[@name="form_started"]')
        shown, signature = started.get("value").split(".")
        assert abs(int(shown) - time.time()) < 60
        assert signature  # signed: see test_an_unsigned_or_forged_timer_is_refused


def registration(**extra) -> dict:
    return {
        "username": "newbie",
        "password": "a long enough password",
        "confirm": "a long enough password",
        "form_started": signed_time(60),
        **extra,
    }


def test_a_filled_honeypot_is_refused_and_nothing_is_written(configured):
    app = configured(**SPAM_ON)
    w = make_world()
    bot = {"website": "https://spam.example"}
    refused(client_as(app), "/register", registration(**bot), 400)
    refused(
        client_as(app, w.rita), "/articles/the-article/comments", comment_form("Hi.", **bot), 400
    )


def test_a_submit_faster_than_a_person_types_is_refused(configured):
    # 30 seconds, not 3: on a loaded machine the test's own steps can take several seconds,
    # and "now" must still be too fast when the last refused form is sent.
    app = configured(SPAM_CHECKS_ENABLED=True, SPAM_MIN_SUBMIT_SECONDS=30)
    w = make_world()
    now = signed_time()
    refused(client_as(app), "/register", registration(form_started=now), 400)
    reader = client_as(app, w.rita)
    refused(reader, "/articles/the-article/comments", comment_form("Hi.", form_started=now), 400)
    page = refused(reader, "/articles/the-article/comments", {"body": "No timer."}, 400)
    assert "looked automated" in page

    earlier = signed_time(45)
    assert client_as(app).post("/register", data=registration()).status_code == 302
    response = reader.post(
        "/articles/the-article/comments", data=comment_form("Hi.", form_started=earlier)
    )
    assert response.status_code == 302


@pytest.mark.parametrize(
    "forged",
    [
        "0",  # the unsigned timer once passed: "shown" in 1970
        "a minute ago",  # unsigned, plausible (made in the test: ids must not hold the time,
        # or two xdist workers collecting a second apart disagree on the test's name)
        "0." + "A" * 27,  # a made-up signature
        "{}.{}".format(0, "x"),
    ],
)
def test_an_unsigned_or_forged_timer_is_refused(configured, forged):
    if forged == "a minute ago":
        forged = str(int(time.time()) - 60)
    app = configured(SPAM_CHECKS_ENABLED=True, SPAM_MIN_SUBMIT_SECONDS=3)
    w = make_world()
    page = refused(client_as(app), "/register", registration(form_started=forged), 400)
    assert "looked automated" in page
    reader = client_as(app, w.rita)
    page = refused(
        reader, "/articles/the-article/comments", comment_form("Hi.", form_started=forged), 400
    )
    assert "looked automated" in page
    # A signature for another time doesn't fit this one.
    value, signature = signed_time(60).split(".")
    tampered = f"{int(value) - 3600}.{signature}"
    refused(
        reader, "/articles/the-article/comments", comment_form("Hi.", form_started=tampered), 400
    )


def test_spam_checks_switch_off_with_the_environment(app_factory, tmp_path, monkeypatch):
    app_factory()  # the fresh database
    monkeypatch.setenv("FORUM_SPAM_CHECKS_ENABLED", "false")
    config = base_config(tmp_path)
    del config["SPAM_CHECKS_ENABLED"]
    config["SPAM_MIN_SUBMIT_SECONDS"] = 60
    app = create_app(config)
    assert app.config["SPAM_CHECKS_ENABLED"] is False
    with app.app_context():
        try:
            w = make_world()
            bot = {"website": "https://spam.example", "form_started": str(int(time.time()))}
            assert client_as(app).post("/register", data=registration(**bot)).status_code == 302
            response = client_as(app, w.rita).post(
                "/articles/the-article/comments", data={"body": THREE_LINKS, **bot}
            )
            assert response.status_code == 302
        finally:
            db.session.remove()
            db.engine.dispose()


# --- appeals ----------------------------------------------------------------------------------


def test_the_author_appeals_once(app, w, hidden):
    author = client_as(app, w.carl)
    url = f"/comments/{hidden.comment.id}/appeal"
    response = author.post(url, data={"message": "It was a joke."}, follow_redirects=True)
    assert "Your appeal is with the moderators." in html(response)
    page = refused(author, url, {"message": "Again, please."}, 409)
    assert "already been appealed" in page
    assert db.session.execute(select(func.count(Appeal.id))).scalar_one() == 1


def test_only_the_author_appeals_and_only_hidden_comments(app, w, hidden):
    url = f"/comments/{hidden.comment.id}/appeal"
    for someone in (w.rita, w.mod, w.writer):
        refused(client_as(app, someone), url, {"message": "Let it be."}, 403)
    refused(client_as(app, w.carl), url, {"message": ""}, 400)
    visible = say(w.carl, w.article, "Nothing wrong here.")
    refused(client_as(app, w.carl), f"/comments/{visible.id}/appeal", {"message": "Hm?"}, 409)


def test_an_appeal_joins_the_queue_and_granting_it_shows_the_comment(app, w, hidden):
    client_as(app, w.carl).post(
        f"/comments/{hidden.comment.id}/appeal", data={"message": "It was a joke."}
    )
    mod = client_as(app, w.mod)
    queue = html(mod.get("/moderation"))
    assert "Appeals (1)" in queue
    assert "It was a joke." in queue
    [item] = db.session.execute(select(Appeal)).scalars().all()

    response = mod.post(f"/moderation/appeals/{item.id}/grant", data={"reason": "Fair."})
    assert location(response) == "/moderation"
    assert "No open appeals." in html(mod.get("/moderation"))
    page = html(client_as(app, w.rita).get("/articles/the-article"))
    assert "Buy my miracle pills." in card_text(page, hidden.comment.id)
    assert log_actions() == [ModAction.HIDE, ModAction.UNHIDE, ModAction.APPEAL_GRANTED]
    kinds = db.session.execute(
        select(Notification.kind).where(Notification.user_id == w.carl.id)
    ).scalars()
    assert NotificationKind.APPEAL_DECIDED in set(kinds)
    refused(mod, f"/moderation/appeals/{item.id}/deny", {}, 409)


def test_denying_an_appeal_is_logged_and_the_comment_stays_hidden(app, w, hidden):
    item = appeals.appeal(w.carl, hidden.comment, "It was a joke.")
    response = client_as(app, w.admin).post(f"/moderation/appeals/{item.id}/deny")
    assert response.status_code == 302
    assert reload(hidden.comment).status is CommentStatus.HIDDEN
    assert log_actions() == [ModAction.HIDE, ModAction.APPEAL_DENIED]
    page = html(client_as(app, w.rita).get("/articles/the-article"))
    assert card_text(page, hidden.comment.id) == "Hidden by a moderator: spam"


# --- locks ------------------------------------------------------------------------------------


def test_a_locked_discussion_shows_why_and_takes_no_comments_until_unlocked(app, w):
    parent = say(w.carl, w.article, "Before the lock.")
    mod = client_as(app, w.mod)
    reader = client_as(app, w.rita)
    response = mod.post("/articles/the-article/lock", data={"reason": "Things got heated."})
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/articles/the-article#discussion")

    page = html(reader.get("/articles/the-article"))
    assert "This discussion is locked." in page
    assert "Things got heated." in page
    assert 'action="/articles/the-article/comments"' not in page
    assert f'href="/comments/{parent.id}/reply"' not in page
    refused(reader, "/articles/the-article/comments", {"body": "Let me in."}, 403)
    refused(reader, f"/comments/{parent.id}/reply", {"body": "Let me in."}, 403)
    refused(mod, "/articles/the-article/lock", {"reason": "Again."}, 409)
    assert 'action="/articles/the-article/unlock"' in html(mod.get("/articles/the-article"))

    assert mod.post("/articles/the-article/unlock", data={"reason": "Calmer."}).status_code == 302
    page = html(reader.get("/articles/the-article"))
    assert "This discussion is locked." not in page
    assert 'action="/articles/the-article/comments"' in page
    assert reader.post("/articles/the-article/comments", data={"body": "Hi."}).status_code == 302
    refused(mod, "/articles/the-article/unlock", {}, 409)
    entries = db.session.execute(select(ModerationAction).order_by(ModerationAction.id)).scalars()
    assert [(e.action, e.reason) for e in entries] == [
        (ModAction.LOCK, "Things got heated."),
        (ModAction.UNLOCK, "Calmer."),
    ]


# --- suspensions and roles --------------------------------------------------------------------


def test_a_suspension_for_some_days_with_a_reason_then_lifted(app, w):
    mod = client_as(app, w.mod)
    reader = client_as(app, w.rita)
    response = mod.post("/users/rita/suspend", data={"days": "3", "reason": "Flame war."})
    assert location(response) == "/users/rita"
    until = reload(w.rita).suspended_until
    assert timedelta(days=2, hours=23) < until - utcnow() <= timedelta(days=3)

    refused(reader, "/articles/the-article/comments", {"body": "Hello?"}, 403)
    assert "Your account is suspended until" in html(reader.get("/articles/the-article"))
    profile = html(reader.get("/users/rita"))
    assert "Suspended until" in profile
    assert "Flame war." in profile
    assert 'action="/users/rita/unsuspend"' in html(mod.get("/users/rita"))

    assert location(mod.post("/users/rita/unsuspend", data={"reason": "Served."})) == "/users/rita"
    assert reader.post("/articles/the-article/comments", data={"body": "Hi."}).status_code == 302
    refused(mod, "/users/rita/unsuspend", {}, 409)
    reasons = db.session.execute(
        select(ModerationAction.reason).order_by(ModerationAction.id)
    ).scalars()
    assert list(reasons) == ["for 3 days: Flame war.", "Served."]


def test_the_profile_renders_the_suspension_and_role_forms_choices(app, w):
    """The moderator tools show the forms' own choices, not a copy of them in the template."""
    page = lxml.html.fromstring(html(client_as(app, w.admin).get("/users/rita")))
    [days] = page.xpath('//select[@id="suspend-days"]')
    assert [(o.get("value"), o.text) for o in days.xpath("option")] == list(DURATION_CHOICES)
    assert days.xpath("option[@selected]/@value") == ["7"]
    [role] = page.xpath('//select[@id="role-select"]')
    assert role.xpath("option/@value") == [r.value for r in Role]
    assert role.xpath("option[@selected]/@value") == ["reader"]
    assert page.xpath('//input[@id="suspend-reason"][@required][@maxlength="500"]')
    assert page.xpath('//label[@for="suspend-days"]')


def test_the_trust_button_shows_where_the_trust_predicate_allows_it(app, w):
    mod = client_as(app, w.mod)
    assert 'action="/users/rita/trust"' in html(mod.get("/users/rita"))
    assert location(mod.post("/users/rita/trust")) == "/users/rita"
    assert 'action="/users/rita/trust"' not in html(mod.get("/users/rita"))
    assert 'action="/users/mod2/trust"' not in html(mod.get("/users/mod2"))  # staff


def test_an_indefinite_suspension(app, w):
    mod = client_as(app, w.mod)
    mod.post("/users/rita/suspend", data={"days": "indefinite", "reason": "Spam bot."})
    assert reload(w.rita).suspended_indefinitely
    assert "Suspended indefinitely: Spam bot." in html(client_as(app, w.rita).get("/users/rita"))


def test_moderators_cannot_suspend_admins_themselves_or_other_moderators(app, w):
    mod = client_as(app, w.mod)
    data = {"days": "7", "reason": "Because."}
    for target in ("admin", "mod", "mod2"):
        refused(mod, f"/users/{target}/suspend", data, 403)
    refused(client_as(app, w.admin), "/users/admin/suspend", data, 403)
    assert client_as(app, w.admin).post("/users/mod2/suspend", data=data).status_code == 302
    assert reload(w.mod2).is_suspended()
    # Moderators don't get the form where they can't use it.
    assert 'action="/users/admin/suspend"' not in html(mod.get("/users/admin"))


@pytest.mark.parametrize(
    "data", [{"days": "7", "reason": ""}, {"days": "forever", "reason": "x"}, {"days": "0"}]
)
def test_a_suspension_needs_a_reason_and_a_length(app, w, data):
    refused(client_as(app, w.mod), "/users/rita/suspend", data, 400)


def test_admins_change_roles_in_the_browser(app, w):
    admin = client_as(app, w.admin)
    page = html(admin.get("/users/rita"))
    assert 'action="/users/rita/role"' in page
    response = admin.post("/users/rita/role", data={"role": "moderator"})
    assert location(response) == "/users/rita"
    assert reload(w.rita).role is Role.MODERATOR
    [entry] = db.session.execute(select(ModerationAction)).scalars().all()
    assert (entry.action, entry.reason) == (ModAction.ROLE_CHANGE, "reader → moderator")


def test_role_changes_refused(app, w):
    mod = client_as(app, w.mod)
    assert 'action="/users/rita/role"' not in html(mod.get("/users/rita"))
    refused(mod, "/users/rita/role", {"role": "author"}, 403)
    refused(mod, "/users/admin/role", {"role": "reader"}, 403)
    admin = client_as(app, w.admin)
    page = refused(admin, "/users/rita/role", {"role": "overlord"}, 400)
    assert "Unknown role" in page
    refused(admin, "/users/rita/role", {"role": "reader"}, 409)
    refused(admin, "/users/admin/role", {"role": "reader"}, 403)
    assert log_actions() == []


# --- the moderation log -----------------------------------------------------------------------


@pytest.fixture
def every_action(app, w) -> SimpleNamespace:
    """One of each moderator action, done through the browser."""
    mod, admin = client_as(app, w.mod), client_as(app, w.admin)
    first = say(w.carl, w.article, "First comment.")
    granted = say(w.carl, w.article, "Appealed and granted.")
    denied = say(w.carl, w.article, "Appealed and denied.")
    to_approve = say(w.rita, w.article, "Approve me.", premoderate_first=10)
    to_reject = say(w.rita, w.article, "Reject me.", premoderate_first=10)

    def ok(client, url, **data):
        response = client.post(url, data=data)
        assert response.status_code == 302, (url, html(response)[:300])

    ok(mod, f"/comments/{first.id}/hide", reason="spam", note="private-note-99")
    ok(mod, f"/comments/{first.id}/unhide")
    ok(mod, f"/comments/{to_approve.id}/approve")
    ok(mod, f"/comments/{to_reject.id}/reject", reason="off-topic", note="private-reject-note")
    ok(client_as(app, w.whistler), f"/comments/{first.id}/flag", category="abuse", note="x")
    ok(mod, f"/comments/{first.id}/dismiss", reason="Not abuse.")
    ok(mod, "/articles/the-article/lock", reason="Heated.")
    ok(mod, "/articles/the-article/unlock", reason="Calm.")
    ok(mod, "/users/rita/suspend", days="1", reason="Rude.")
    ok(mod, "/users/rita/unsuspend", reason="Apologised.")
    ok(admin, "/users/rita/role", role="author")
    ok(mod, "/users/carl/trust")
    for comment, decision in ((granted, "grant"), (denied, "deny")):
        ok(mod, f"/comments/{comment.id}/hide", reason="abuse")
        item = appeals.appeal(w.carl, comment, "Please.")
        ok(mod, f"/moderation/appeals/{item.id}/{decision}", reason=f"Appeal {decision}.")
    return SimpleNamespace(first=first)


def log_rows(page: str) -> list[dict[str, str]]:
    """The log table as a list of {column heading: cell text}."""
    tree = lxml.html.fromstring(page)
    headings = [th.text_content().strip() for th in tree.xpath("//table//thead//th")]
    return [
        dict(
            zip(
                headings,
                (" ".join(td.text_content().split()) for td in tr.xpath("td")),
                strict=True,
            )
        )
        for tr in tree.xpath("//table//tbody/tr")
    ]


def test_the_log_has_who_when_what_and_why_for_every_kind_of_action(app, w, every_action):
    page = html(client_as(app, w.mod).get("/moderation/log"))
    rows = log_rows(page)
    # Each action in words (the stored names are code), one label per action.
    assert {row["Action"] for row in rows} == {action_label(action) for action in ModAction}
    assert len({action_label(action) for action in ModAction}) == len(ModAction)
    assert len(rows) == 16  # three hides, and an unhide for the granted appeal
    assert rows[0]["Action"] == "Appeal denied"  # newest first
    value_of = {action_label(action): action.value for action in ModAction}
    by_action = {}
    for row in rows:
        by_action[value_of[row["Action"]]] = row  # the oldest of each kind
    assert by_action["role-change"]["Who"] == "admin"
    assert by_action["role-change"]["Why"] == "reader → author"
    assert by_action["suspend"]["Concerning"] == "rita"
    assert by_action["suspend"]["Why"] == "for 1 day: Rude."
    assert by_action["lock"]["Concerning"] == "An Article"
    assert by_action["unhide"]["Concerning"] == f"comment #{every_action.first.id} by carl"
    assert by_action["dismiss"]["Why"].startswith("1 report dismissed")
    assert by_action["dismiss"]["Why"].endswith("Note: Not abuse.")
    for row in rows:
        assert row["When"].startswith(str(utcnow().year))
        if row["Action"] != "Role changed":
            assert row["Who"] == "mod"


def test_the_log_filters_by_action_and_by_moderator(app, w, every_action):
    mod = client_as(app, w.mod)
    rows = log_rows(html(mod.get("/moderation/log?action=hide")))
    assert [row["Action"] for row in rows] == ["Hidden"] * 3
    rows = log_rows(html(mod.get("/moderation/log?moderator=ADMIN")))
    assert [row["Action"] for row in rows] == ["Role changed"]
    rows = log_rows(html(mod.get("/moderation/log?moderator=mod&action=role-change")))
    assert rows == []
    assert mod.get("/moderation/log?action=delete-everything").status_code == 400


@pytest.mark.parametrize("viewer", [None, "rita", "carl"])
def test_the_public_log_leaves_out_private_notes_and_reporters(app, w, every_action, viewer):
    page = html(client_as(app, getattr(w, viewer) if viewer else None).get("/moderation/log"))
    rows = log_rows(page)
    # Each action in words (the stored names are code), one label per action.
    assert {row["Action"] for row in rows} == {action_label(action) for action in ModAction}
    assert len({action_label(action) for action in ModAction}) == len(ModAction)
    assert "Private notes are left out of this public view." in page
    assert "Heated." in page  # public reasons stay
    for secret in (
        "private-note-99",
        "private-reject-note",
        "Note:",
        "whistler42",
        "Whistleblower",
    ):
        assert secret not in page


def test_moderators_see_the_private_notes_in_the_log(app, w, every_action):
    page = html(client_as(app, w.mod).get("/moderation/log"))
    assert "Note: private-note-99" in page
    assert "Note: private-reject-note" in page
    assert "whistler42" not in page  # reports are not moderator actions


def test_a_suspended_moderator_cannot_moderate_until_the_suspension_ends(app, w):
    """Only admins suspend moderators; that would mean nothing if they kept their powers."""
    comment = say(w.carl, w.article, "Buy my miracle pills.")
    moderation.report_comment(w.rita, comment, "spam")
    sanctions.suspend_user(w.admin, w.mod2, 7, "Overreach.")
    suspended = client_as(app, w.mod2)

    assert suspended.get("/moderation").status_code == 403
    for url, data in [
        (f"/comments/{comment.id}/hide", {"reason": "spam"}),
        (f"/comments/{comment.id}/dismiss", {}),
        ("/articles/the-article/lock", {"reason": "Mine now."}),
        ("/users/rita/suspend", {"days": "7", "reason": "Revenge."}),
        ("/users/rita/trust", {}),
    ]:
        refused(suspended, url, data, 403)
    assert "/moderation" not in nav_links(html(suspended.get("/")))

    sanctions.unsuspend_user(w.admin, w.mod2)
    response = suspended.post(f"/comments/{comment.id}/hide", data={"reason": "spam"})
    assert response.status_code == 302


def test_the_way_back_after_an_action_never_leaves_the_site(app, w):
    comment = say(w.carl, w.article, "Buy my miracle pills.")
    response = client_as(app, w.mod).post(
        f"/comments/{comment.id}/hide", data={"reason": "spam", "next": "https://evil.example/"}
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/comments/{comment.id}")
