"""The discussion while it is open, with JavaScript: new comments announced and inserted in
place (the reader's draft and what they are looking at stay put), a long thread's "Show N
more replies" and the report form opened in place; all without a console error or a CSP
violation.

The served app is shared by the session, so the settings these tests need (a poll every
half second, short threads) are set for the test and put back afterwards."""

import re

import pytest

from forum.extensions import db
from forum.models import Comment, CommentStatus, Report, Role
from forum.services import accounts, articles, premoderation, threads
from tests.e2e.conftest import sign_in
from tests.e2e.helpers import card, expect, item_of, keep_marker, same_document, say
from tests.e2e.test_console_and_csp import RECORD_VIOLATIONS, Watch


@pytest.fixture
def settings(live):
    """Change the served app's settings for one test."""
    saved = {}

    def change(**values):
        for name, value in values.items():
            saved.setdefault(name, live.app.config[name])
            live.app.config[name] = value

    yield change
    live.app.config.update(saved)


@pytest.fixture
def watched(contexts, live, person):
    """A signed-in reader's page that records console errors and CSP violations."""

    def open_page(username=None) -> Watch:
        context = contexts()
        context.add_init_script(RECORD_VIOLATIONS)
        watch = Watch(context.new_page())
        sign_in(watch.page, live, username or person("live"))
        return watch

    return open_page


def test_new_comments_are_announced_and_shown_in_place_keeping_the_draft_and_the_view(
    watched, live, person, article, settings
):
    settings(LIVE_POLL_SECONDS=0.5)
    slug, writer = article
    first = say(live, writer, slug, "The first comment, far above.")
    for n in range(12):
        say(live, writer, slug, f"Filler comment {n} to make the page long. " * 4)
    say(live, writer, slug, "The comment the reader answers.")
    watch = watched()
    page = watch.page
    polls = []
    page.on(
        "response",
        lambda r: polls.append(r) if r.url.endswith("/discussion/version") else None,
    )
    page.goto(f"/articles/{slug}")
    status = page.locator(".live-status")
    expect(status).to_have_attribute("role", "status")
    expect(status).to_have_text("")

    # The reader starts a reply far down the page, with the first comment out of view.
    answered = card(page, "The comment the reader answers.")
    answered.get_by_role("link", name="Reply").click()
    draft = item_of(page, "The comment the reader answers.").locator(".inline-compose textarea")
    draft.fill("Half-written thought")
    draft.evaluate("node => node.scrollIntoView({block: 'center'})")
    keep_marker(page)
    title = page.title()
    assert page.evaluate(f"document.getElementById('c{first}').getBoundingClientRect().bottom < 0")

    # Someone else answers the first comment meanwhile.
    someone = person("other")
    say(live, someone, slug, "A reply that arrives while the page is open.", parent=first)
    expect(status).to_have_text("1 new comment · Show")
    expect(page).to_have_title(f"(1) {title}")
    expect(card(page, "arrives while the page is open")).to_have_count(0)

    before = draft.bounding_box()["y"]
    scrolled = page.evaluate("window.scrollY")
    status.get_by_role("button", name="Show").click()
    arrived = page.locator(f"#c{first} > ol.replies > li.comment.is-new")
    expect(arrived.locator(".comment-body")).to_have_text(
        "A reply that arrives while the page is open."
    )
    expect(arrived.locator(".comment-time time")).to_have_text("just now")
    expect(status).to_have_text("")
    expect(page).to_have_title(title)
    # Inserted above the view: the page scrolled by as much, so the draft stayed in place.
    assert abs(draft.bounding_box()["y"] - before) < 2
    assert page.evaluate("window.scrollY") > scrolled
    expect(draft).to_have_value("Half-written thought")
    expect(draft).to_be_visible()
    assert same_document(page)

    # The reader's own reply is not announced as new.
    draft.fill("My finished thought.")
    item_of(page, "The comment the reader answers.").get_by_role(
        "button", name="Post reply"
    ).click()
    expect(card(page, "My finished thought.")).to_be_visible()
    page.wait_for_timeout(2_000)  # several polls
    expect(status).to_have_text("")
    assert same_document(page)
    # The polls revalidate what the browser has: an unchanged discussion answers 304.
    assert len(polls) >= 3
    assert any("if-none-match" in r.request.all_headers() for r in polls)
    watch.check("the article, after new comments were shown")


def test_new_threads_are_added_at_the_end_and_counted(watched, live, person, article, settings):
    settings(LIVE_POLL_SECONDS=0.5)
    slug, writer = article
    say(live, writer, slug, "The only thread so far.")
    other = person("other")
    waiting = say(live, other, slug, "Written earlier, approved while the page is open.")

    def set_pending():
        comment = db.session.get(Comment, waiting)
        comment.status = CommentStatus.PENDING
        db.session.commit()

    live.run(set_pending)
    watch = watched()
    page = watch.page
    page.goto(f"/articles/{slug}")
    expect(page.locator("#discussion-heading")).to_contain_text("(1 comment)")
    say(live, other, slug, "A second thread.")
    live.run(
        lambda: premoderation.approve_comment(
            accounts.find_user(person("mod", role=Role.MODERATOR)),
            db.session.get(Comment, waiting),
        )
    )
    status = page.locator(".live-status")
    expect(status).to_have_text("2 new comments · Show")
    status.get_by_role("button", name="Show").click()
    bodies = page.locator("ol.threads > li.comment > article .comment-body")
    expect(bodies).to_have_text(
        [
            "The only thread so far.",
            "Written earlier, approved while the page is open.",
            "A second thread.",
        ]
    )
    expect(page.locator("#discussion-heading")).to_contain_text("(3 comments)")
    watch.check("the article, after new threads were shown")


def make_long_thread(live, writer: str, replier: str, slug: str, replies: int) -> int:
    """A thread with ``replies`` replies to its first comment; returns the root's id."""

    def build():
        author, other = accounts.find_user(writer), accounts.find_user(replier)
        article = articles.get_article(slug)
        root = threads.post_comment(author, article, "A thread everyone answers.")
        for n in range(1, replies + 1):
            threads.post_comment(other, article, f"Reply number {n}.", parent_id=root.id)
        return root.id

    return live.run(build)


def test_show_more_replies_loads_them_in_place(watched, live, person, article, settings):
    settings(REPLIES_PER_THREAD=50, LIVE_POLL_SECONDS=0.5)
    slug, writer = article
    fan = person("fan")
    root = make_long_thread(live, writer, fan, slug, 105)
    watch = watched()
    page = watch.page
    page.goto(f"/articles/{slug}")
    replies = page.locator(f"#c{root} > ol.replies > li.comment")
    expect(replies).to_have_count(50)
    more = page.locator(f"#c{root} > .more-replies a")
    expect(more).to_have_text("Show 55 more replies")
    keep_marker(page)

    # The thread's later replies are newer than the page's last comment, but not new.
    say(live, fan, slug, "A new thread meanwhile.")
    expect(page.locator(".live-status")).to_have_text("1 new comment · Show")

    more.click()
    expect(replies).to_have_count(100)
    expect(replies.nth(50).locator(".comment-body")).to_have_text("Reply number 51.")
    expect(replies.nth(50).locator(".comment-time time")).to_have_text("just now")
    expect(more).to_have_text("Show more replies")
    expect(more).to_have_attribute("href", re.compile(rf"/comments/{root}/replies\?after=\d+$"))
    more.click()
    expect(replies).to_have_count(105)
    expect(replies.last.locator(".comment-body")).to_have_text("Reply number 105.")
    expect(page.locator(f"#c{root} > .more-replies")).to_have_count(0)
    # The loaded replies work like the others: a reply form opens in place.
    replies.last.get_by_role("link", name="Reply").click()
    expect(replies.last.locator(".inline-compose textarea")).to_be_focused()
    assert same_document(page)
    watch.check("the article, after more replies were shown")


def test_the_report_form_opens_in_place_and_sends_the_report(watched, live, person, article):
    slug, writer = article
    target = say(live, writer, slug, "A comment someone finds rude.")
    say(live, writer, slug, "Another comment.")
    reader = person("witness")
    watch = watched(reader)
    page = watch.page
    page.goto(f"/articles/{slug}")
    form = page.locator("#report-form")
    expect(form).to_be_hidden()
    link = card(page, "someone finds rude").get_by_role("link", name="Report")
    expect(link).to_have_attribute("aria-expanded", "false")
    keep_marker(page)

    link.click()
    inside = card(page, "someone finds rude").locator("#report-form")
    expect(inside).to_be_visible()
    expect(link).to_have_attribute("aria-expanded", "true")
    expect(inside.get_by_label("What's wrong?")).to_be_focused()
    page.keyboard.press("Escape")
    expect(form).to_be_hidden()
    expect(link).to_have_attribute("aria-expanded", "false")
    expect(link).to_be_focused()

    # One form for the page: opening it under another comment moves it there.
    card(page, "Another comment.").get_by_role("link", name="Report").click()
    expect(card(page, "Another comment.").locator("#report-form")).to_be_visible()
    link.click()
    expect(inside).to_be_visible()
    expect(page.locator("#report-form")).to_have_count(1)
    inside.get_by_label("What's wrong?").select_option("abuse")
    inside.get_by_label("Details (optional)").fill("Name-calling.")
    inside.get_by_role("button", name="Send report").click()
    done = card(page, "someone finds rude").locator(".report-sent")
    expect(done).to_have_text("Thank you. The moderators will take a look.")
    expect(done).to_be_focused()
    expect(form).to_be_hidden()
    assert same_document(page)

    def reports():
        rows = db.session.execute(db.select(Report).where(Report.comment_id == target)).scalars()
        return [(r.reporter.username, r.category.value, r.note) for r in rows]

    assert live.run(reports) == [(reader, "abuse", "Name-calling.")]
    watch.check("the article, after a report in place")


def test_a_hidden_tab_stops_polling_and_asks_at_once_when_shown_again(
    watched, live, person, article, settings
):
    settings(LIVE_POLL_SECONDS=0.5)
    slug, writer = article
    say(live, writer, slug, "A comment.")
    watch = watched()
    page = watch.page
    polls = []
    page.on("request", lambda r: polls.append(r) if "/discussion/version" in r.url else None)
    page.goto(f"/articles/{slug}")
    page.wait_for_timeout(1_200)
    assert polls  # polling while visible

    page.evaluate(SET_HIDDEN, True)
    page.wait_for_timeout(300)  # a poll already on its way may land
    polls.clear()
    say(live, person("other"), slug, "Posted while the tab is hidden.")
    page.wait_for_timeout(2_000)
    assert polls == []
    expect(page.locator(".live-status")).to_have_text("")

    page.evaluate(SET_HIDDEN, False)
    expect(page.locator(".live-status")).to_have_text("1 new comment · Show")
    watch.check("the article, hidden and shown again")


# The browser's own visibility can't be switched from a test: stand in for it.
SET_HIDDEN = """(hidden) => {
    Object.defineProperty(document, 'hidden', {value: hidden, configurable: true});
    document.dispatchEvent(new Event('visibilitychange'));
}"""
