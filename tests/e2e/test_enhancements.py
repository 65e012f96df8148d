"""What the page's script adds, each on its own: the live preview (rendered by the server's
sanitizer), the character counter, drafts, folding threads, "new since your last visit",
and errors tied to their field when posting without a reload."""

from datetime import timedelta

from forum.models import utcnow
from tests.e2e.conftest import sign_in
from tests.e2e.helpers import Page, card, expect, item_of, say


def open_article(page: Page, live, person, slug: str) -> str:
    username = person("js")
    sign_in(page, live, username)
    page.goto(f"/articles/{slug}")
    return username


def main_form(page: Page):
    return page.locator("#discussion > form.comment-form")


def test_the_preview_is_rendered_live_by_the_server_sanitizer(page, live, person, article):
    open_article(page, live, person, article[0])
    form = main_form(page)
    preview = form.locator(".live-preview")
    expect(preview).to_be_hidden()
    form.get_by_label("Your comment").fill(
        "Some **bold** words <script>alert(1)</script> [a link](javascript:alert(1))"
    )
    expect(preview.locator("strong")).to_have_text("bold")
    expect(preview).to_contain_text("<script>alert(1)</script>")  # shown as text
    assert preview.locator("script").count() == 0
    assert preview.locator("a[href^='javascript']").count() == 0
    # Emptied, the preview goes away; the Preview button refreshes it without a reload.
    form.get_by_label("Your comment").fill("")
    expect(preview).to_be_hidden()
    form.get_by_label("Your comment").fill("*again*")
    page.evaluate("window.__sameDocument = true")
    form.get_by_role("button", name="Preview").click()
    expect(preview.locator("em")).to_have_text("again")
    assert page.evaluate("window.__sameDocument === true")


def test_the_counter_appears_near_the_limit_and_errors_are_tied_to_the_field(
    page, live, person, article
):
    open_article(page, live, person, article[0])
    form = main_form(page)
    textarea = form.get_by_label("Your comment")
    counter = form.locator(".char-count")
    textarea.fill("a" * 100)
    expect(counter).to_be_hidden()
    textarea.fill("a" * 8_500)
    expect(counter).to_have_text("1,500 characters left")
    textarea.fill("a" * 10_005)
    expect(counter).to_have_text("5 characters over the limit of 10,000")
    expect(counter).to_have_class("char-count over")
    assert "body-count" in textarea.get_attribute("aria-describedby")

    # The server refuses it; the message is announced with the field, without a reload.
    page.evaluate("window.__sameDocument = true")
    form.get_by_role("button", name="Post comment").click()
    error = form.locator("#body-error")
    expect(error).to_contain_text("Comments can be at most 10,000 characters")
    expect(textarea).to_have_attribute("aria-invalid", "true")
    assert "body-error" in textarea.get_attribute("aria-describedby").split()
    expect(textarea).to_be_focused()
    assert page.evaluate("window.__sameDocument === true")
    expect(textarea).to_have_value("a" * 10_005)  # nothing lost

    textarea.fill("Short enough now.")
    form.get_by_role("button", name="Post comment").click()
    expect(card(page, "Short enough now.")).to_be_visible()
    expect(error).to_have_count(0)
    expect(textarea).not_to_have_attribute("aria-invalid", "true")


def test_an_empty_inline_reply_shows_the_error_in_the_inline_form(page, live, person, article):
    slug, writer = article
    say(live, writer, slug, "Reply to me with nothing.")
    open_article(page, live, person, slug)
    card(page, "Reply to me with nothing.").get_by_role("link", name="Reply").click()
    form = item_of(page, "Reply to me with nothing.").locator(".inline-compose form")
    form.get_by_role("button", name="Post reply").click()
    expect(form.locator(".error")).to_have_text("Write something before posting.")
    textarea = form.locator("textarea")
    assert textarea.get_attribute("id") != "body"  # unique beside the main form's
    assert f"{textarea.get_attribute('id')}-error" in textarea.get_attribute("aria-describedby")
    # Cancel closes it and gives the focus back to the Reply link.
    form.get_by_role("button", name="Cancel").click()
    expect(item_of(page, "Reply to me with nothing.").locator(".inline-compose")).to_have_count(0)
    reply_link = card(page, "Reply to me with nothing.").get_by_role("link", name="Reply")
    expect(reply_link).to_be_focused()


def test_a_draft_survives_a_reload_and_is_cleared_once_posted(page, live, person, article):
    slug, _ = article
    open_article(page, live, person, slug)
    form = main_form(page)
    form.get_by_label("Your comment").fill("A draft I must not lose.")
    page.wait_for_function(
        "() => Object.keys(localStorage).some(k => k.startsWith('forum:draft:'))"
    )
    page.reload()
    form = main_form(page)
    expect(form.get_by_label("Your comment")).to_have_value("A draft I must not lose.")
    expect(form.locator(".draft-note")).to_contain_text("Your unsent draft is restored.")
    form.get_by_role("button", name="Post comment").click()
    expect(card(page, "A draft I must not lose.")).to_be_visible()
    assert (
        page.evaluate(
            "() => Object.keys(localStorage).filter(k => k.startsWith('forum:draft:')).length"
        )
        == 0
    )
    page.reload()
    expect(main_form(page).get_by_label("Your comment")).to_have_value("")


def test_inline_reply_drafts_are_kept_per_comment(page, live, person, article):
    slug, writer = article
    say(live, writer, slug, "A comment with a draft reply.")
    open_article(page, live, person, slug)
    card(page, "A comment with a draft reply.").get_by_role("link", name="Reply").click()
    textarea = item_of(page, "A comment with a draft reply.").locator(".inline-compose textarea")
    textarea.fill("Half a reply")
    page.wait_for_function("() => Object.keys(localStorage).some(k => k.endsWith('/reply'))")
    page.reload()
    card(page, "A comment with a draft reply.").get_by_role("link", name="Reply").click()
    expect(
        item_of(page, "A comment with a draft reply.").locator(".inline-compose textarea")
    ).to_have_value("Half a reply")
    expect(main_form(page).get_by_label("Your comment")).to_have_value("")


def test_threads_fold_and_unfold_and_say_how_many_replies_they_hide(page, live, article):
    slug, writer = article
    top = say(live, writer, slug, "A thread to fold.")
    first = say(live, writer, slug, "First reply.", top)
    say(live, writer, slug, "Reply to the reply.", first)
    page.goto(f"/articles/{slug}")
    toggle = page.locator(f"#c{top} > .thread-toggle")
    replies = page.locator(f"#c{top} > ol.replies")
    expect(toggle).to_have_text("Hide 2 replies")
    expect(toggle).to_have_attribute("aria-expanded", "true")
    expect(toggle).to_have_attribute("aria-controls", f"replies-{top}")
    toggle.click()
    expect(replies).to_be_hidden()
    expect(toggle).to_have_attribute("aria-expanded", "false")
    expect(toggle).to_have_text("Show 2 replies (folded)")
    # On paper the whole discussion prints, without buttons and forms.
    page.emulate_media(media="print")
    expect(replies).to_be_visible()
    expect(toggle).to_be_hidden()
    expect(page.locator("#discussion .comment-actions").first).to_be_hidden()
    page.emulate_media(media="screen")
    expect(replies).to_be_hidden()
    # A link to a folded reply unfolds its thread.
    page.goto(f"/articles/{slug}#c{first}")
    toggle.click()
    expect(replies).to_be_hidden()
    page.evaluate(f"location.hash = '#c{first + 1}'")
    expect(replies).to_be_visible()
    expect(toggle).to_have_attribute("aria-expanded", "true")


def test_comments_new_since_the_last_visit_are_marked_with_a_jump_link(page, live, person, article):
    slug, writer = article
    reader = person("back")
    old = say(live, writer, slug, "Old comment.", hours_ago=3)
    sign_in(page, live, reader)
    page.goto(f"/articles/{slug}")
    # A first visit marks nothing, and remembers the server's time of this page.
    expect(page.locator(".is-new")).to_have_count(0)
    rendered = page.locator("#discussion").get_attribute("data-rendered")
    assert page.evaluate(f"localStorage.getItem('forum:last-visit:{slug}')") == rendered

    # The reader was last here two hours ago; since then two comments came, and their own.
    two_hours_ago = (utcnow() - timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    page.evaluate(f"localStorage.setItem('forum:last-visit:{slug}', '{two_hours_ago}')")
    first_new = say(live, writer, slug, "New since then.", old, hours_ago=1)
    second_new = say(live, writer, slug, "Newer still.", hours_ago=0.5)
    say(live, reader, slug, "My own comment is not news to me.", hours_ago=0.2)
    page.reload()
    expect(page.locator("li.is-new")).to_have_count(2)
    expect(page.locator(f"#c{first_new}.is-new .badge-new")).to_have_text("New")
    jump = page.locator(".new-jump")
    expect(jump).to_have_text("2 new since your last visit — go to 1 of 2")
    jump.click()
    expect(page).to_have_url(f"{live.url}/articles/{slug}#c{first_new}")
    expect(page.locator(f"#c{first_new} > .comment-card")).to_be_focused()
    jump.click()
    expect(page).to_have_url(f"{live.url}/articles/{slug}#c{second_new}")
    # Reading them counts as a visit: the next load shows nothing new.
    page.reload()
    expect(page.locator("li.is-new")).to_have_count(0)
    expect(page.locator(".new-jump")).to_have_count(0)


def test_the_reply_and_edit_pages_get_the_counter_and_preview_too(page, live, person, article):
    slug, writer = article
    target = say(live, writer, slug, "Reply to me on the reply page.")
    open_article(page, live, person, slug)
    page.goto(f"/comments/{target}/reply")
    form = page.locator("form.comment-form")
    form.get_by_label("Your comment").fill("_on the page_")
    expect(form.locator(".live-preview em")).to_have_text("on the page")
    form.get_by_role("button", name="Post reply").click()  # a plain post, then a redirect
    expect(page.locator(".flash-success")).to_contain_text("Your comment is posted")
    mine = page.locator("article.comment-card", has_text="on the page")
    page.goto(mine.get_by_role("link", name="Edit").get_attribute("href"))
    edit = page.locator("form.comment-form")
    edit.get_by_label("Your comment").fill("**changed** on the edit page")
    expect(edit.locator(".live-preview strong")).to_have_text("changed")
    edit.get_by_role("button", name="Save changes").click()
    expect(page.locator(".flash-success")).to_contain_text("Your changes are saved")


DRAFT_KEYS = "() => Object.keys(localStorage).filter(k => k.startsWith('forum:draft:'))"


def test_drafts_are_the_accounts_and_are_cleared_on_logout(page, live, person, article):
    """Drafts were keyed by page only and survived logout: the next person to log in on
    the browser saw the previous one's unsent text."""
    slug, _ = article
    open_article(page, live, person, slug)
    main_form(page).get_by_label("Your comment").fill("My unsent secret.")
    page.wait_for_function(f"() => ({DRAFT_KEYS})().length === 1")

    # Another account on the same browser (a shared machine, a session that ran out).
    sign_in(page, live, person("next"))
    page.goto(f"/articles/{slug}")
    expect(main_form(page).get_by_label("Your comment")).to_have_value("")
    assert page.locator(".draft-note").count() == 0

    # Logging out forgets this account's drafts.
    main_form(page).get_by_label("Your comment").fill("Theirs, for a moment.")
    page.wait_for_function(f"() => ({DRAFT_KEYS})().length === 2")
    page.get_by_role("button", name="Log out").click()
    page.wait_for_load_state()
    assert len(page.evaluate(DRAFT_KEYS)) == 1  # the first account's, not this one's

    # Anonymous readers keep no drafts (they have no comment form to keep one for, either).
    page.goto(f"/articles/{slug}")
    assert page.evaluate("() => document.body.hasAttribute('data-account')") is False
