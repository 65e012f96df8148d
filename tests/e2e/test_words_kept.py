"""Words are never lost, in a real browser, with JavaScript and without: a session that ends
while the reader writes, two tabs editing one comment, and a comment reported twice.

The session "ends" by the browser losing its session cookie (closed, expired): the next
press of Post carries a token no session knows."""

import pytest

from forum.kept_forms import SESSION_ENDED
from tests.conftest import PASSWORD
from tests.e2e.conftest import sign_in, unique
from tests.e2e.helpers import Page, card, expect, item_of, keep_marker, same_document, say


def drop_session(page: Page, live) -> None:
    """The session cookie is gone; the device cookie and the page stay."""
    name = live.app.config["SESSION_COOKIE_NAME"]
    cookies = [c for c in page.context.cookies() if c["name"] != name]
    page.context.clear_cookies()
    if cookies:
        page.context.add_cookies(cookies)


def log_in_here(page: Page, username: str) -> None:
    """Fill the login form the page has navigated to."""
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


def stored_drafts(page: Page) -> list[str]:
    return page.evaluate(
        """() => Object.keys(localStorage)
            .filter((k) => k.startsWith('forum:draft:'))
            .map((k) => localStorage.getItem(k))"""
    )


@pytest.mark.parametrize("js", [False, True], ids=["no-js", "js"])
def test_a_comment_written_as_the_session_ends_is_posted_after_logging_in(
    contexts, live, article, person, js
):
    slug, _ = article
    reader = person("writer")
    page = contexts(java_script_enabled=js).new_page()
    sign_in(page, live, reader)
    page.goto(f"/articles/{slug}")
    text = f"Careful words by {reader}, written slowly."
    form = page.locator("form.comment-form").last
    form.get_by_label("Your comment").fill(text)
    page.wait_for_timeout(400)  # the script's draft is saved after a pause in typing
    drop_session(page, live)
    if js:
        keep_marker(page)
    form.get_by_role("button", name="Post comment").click()

    # The message, the text still in the form, and a way to log in; nothing raw.
    alert = page.locator(".form-errors").filter(has_text=str(SESSION_ENDED))
    expect(alert).to_be_visible()
    expect(page.locator("body")).not_to_contain_text("CSRF")
    expect(page.locator("form.comment-form").last.locator("textarea")).to_have_value(text)
    if js:
        assert same_document(page), "the inline form stays where it was"
        assert text in stored_drafts(page), "the draft is kept until the server takes it"
    expect(card(page, text)).to_have_count(0)

    alert.get_by_role("link", name="Log in").click()
    log_in_here(page, reader)
    page.wait_for_url(f"**/articles/{slug}*")
    form = page.locator("form.comment-form").last
    expect(form.locator("textarea")).to_have_value(text)  # back, at the form
    form.get_by_role("button", name="Post comment").click()
    expect(card(page, text)).to_be_visible()
    if js:
        page.wait_for_timeout(100)
        assert text not in stored_drafts(page), "acknowledged: the draft is gone"


def test_a_reply_page_keeps_its_draft_until_the_reply_is_posted(contexts, live, article, person):
    """The reply page posts as a plain form; the script used to forget the draft first."""
    slug, _ = article
    reader = person("replier")
    parent = say(live, person("author"), slug, "Answer me, please.")
    page = contexts().new_page()
    sign_in(page, live, reader)
    page.goto(f"/comments/{parent}/reply")
    text = f"A reply by {reader} that nearly got lost."
    page.get_by_label("Your comment").fill(text)
    page.wait_for_timeout(400)
    drop_session(page, live)
    page.get_by_role("button", name="Post reply").click()
    expect(page.locator(".form-errors")).to_contain_text(str(SESSION_ENDED))
    expect(page.get_by_label("Your comment")).to_have_value(text)
    assert text in stored_drafts(page)

    page.locator(".form-errors").get_by_role("link", name="Log in").click()
    log_in_here(page, reader)
    page.wait_for_url(f"**/comments/{parent}/reply")
    expect(page.get_by_label("Your comment")).to_have_value(text)
    page.get_by_role("button", name="Post reply").click()
    page.wait_for_url(f"**/articles/{slug}*")
    expect(card(page, text)).to_be_visible()
    assert text not in stored_drafts(page)


def test_two_tabs_editing_one_comment_overwrite_nothing(contexts, live, article, person):
    slug, _ = article
    writer = person("ed")
    first_text = f"First version by {writer}."
    say(live, writer, slug, first_text)
    context = contexts()
    tabs = [context.new_page(), context.new_page()]
    sign_in(tabs[0], live, writer)
    for tab in tabs:
        tab.goto(f"/articles/{slug}")
        card(tab, first_text).get_by_role("link", name="Edit", exact=True).click()
        expect(item_of(tab, first_text).locator(".inline-compose textarea")).to_be_visible()
    second = item_of(tabs[1], first_text).locator(".inline-compose form")
    second.locator("textarea").fill("The second tab saved first.")
    second.get_by_role("button", name="Save changes").click()
    expect(card(tabs[1], "The second tab saved first.")).to_be_visible()

    first = item_of(tabs[0], first_text).locator(".inline-compose form")
    first.locator("textarea").fill("The first tab, late.")
    first.get_by_role("button", name="Save changes").click()
    expect(first.locator(".form-errors")).to_contain_text("changed elsewhere")
    expect(first.locator(".current-text")).to_have_text("The second tab saved first.")
    expect(first.locator("textarea")).to_have_value("The first tab, late.")
    tabs[0].goto(f"/articles/{slug}")
    expect(card(tabs[0], "The second tab saved first.")).to_be_visible()


def test_two_tabs_editing_without_javascript_get_both_texts(contexts, live, article, person):
    slug, _ = article
    writer = person("ed")
    comment = say(live, writer, slug, f"Plain version by {writer}.")
    context = contexts(java_script_enabled=False)
    tabs = [context.new_page(), context.new_page()]
    sign_in(tabs[0], live, writer)
    for tab in tabs:
        tab.goto(f"/comments/{comment}/edit")
    tabs[1].get_by_role("textbox", name="Your comment").fill("Saved in the second tab.")
    tabs[1].get_by_role("button", name="Save changes").click()
    tabs[0].get_by_role("textbox", name="Your comment").fill("Written in the first tab.")
    tabs[0].get_by_role("button", name="Save changes").click()
    expect(tabs[0].locator(".form-errors")).to_contain_text("changed elsewhere")
    expect(tabs[0].locator(".current-text")).to_have_text("Saved in the second tab.")
    yours = tabs[0].get_by_role("textbox", name="Your comment")
    expect(yours).to_have_value("Written in the first tab.")


@pytest.mark.parametrize("js", [False, True], ids=["no-js", "js"])
def test_a_reported_comment_says_reported(contexts, live, article, person, js):
    slug, _ = article
    text = f"Something {unique('odd')} to report."
    say(live, person("author"), slug, text)
    page = contexts(java_script_enabled=js).new_page()
    sign_in(page, live, person("reporter"))
    page.goto(f"/articles/{slug}")
    card(page, text).get_by_role("link", name="Report", exact=True).click()
    page.locator('select[name="category"]').select_option("spam")
    if js:
        page.locator("#report-form").get_by_role("button", name="Send report").click()
        expect(card(page, text).locator(".report-sent")).to_be_visible()
    else:
        page.get_by_role("button", name="Send report").click()
        page.wait_for_url(f"**/articles/{slug}*")
    expect(card(page, text).locator(".action-reported")).to_have_text("Reported")
    page.goto(f"/articles/{slug}")
    expect(card(page, text).locator(".action-reported")).to_have_text("Reported")
    expect(card(page, text).get_by_role("link", name="Report", exact=True)).to_have_count(0)


def test_reporting_again_from_an_old_tab_answers_in_place(contexts, live, article, person):
    slug, _ = article
    text = f"Reported from {unique('two')} tabs."
    say(live, person("author"), slug, text)
    context = contexts()
    tabs = [context.new_page(), context.new_page()]
    sign_in(tabs[0], live, person("reporter"))
    for tab in tabs:
        tab.goto(f"/articles/{slug}")
    for tab in tabs:
        card(tab, text).get_by_role("link", name="Report", exact=True).click()
        tab.locator('select[name="category"]').select_option("spam")
        keep_marker(tab)
        tab.locator("#report-form").get_by_role("button", name="Send report").click()
    notice = card(tabs[1], text).locator(".report-sent")
    expect(notice).to_have_text("You have already reported this comment.")
    expect(card(tabs[1], text).locator(".action-reported")).to_have_text("Reported")
    assert same_document(tabs[1]), "answered in place, not with an error page"
