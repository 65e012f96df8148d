"""The discussion in a real browser, with JavaScript and without: a reader registers, posts,
replies three levels deep, edits and deletes; a second reader reports a comment; a
moderator hides it, and each of them sees what they should; the article's author replies
with the "Author" badge. Then the keyboard-only paths: reading, replying, voting and
moderating without a mouse."""

import re

from forum.models import Role
from tests.conftest import PASSWORD
from tests.e2e.conftest import sign_in, unique
from tests.e2e.helpers import (
    Page,
    card,
    comment_id,
    expect,
    focused,
    item_of,
    keep_marker,
    same_document,
    say,
    tab_until,
)

# --- helpers --------------------------------------------------------------------------------


def register(page: Page, username: str, password: str = PASSWORD) -> None:
    """Create an account through the registration form."""
    page.goto("/register")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_label("Repeat password").fill(password)
    page.get_by_role("button", name="Register").click()
    expect(page.locator(".flash-success")).to_contain_text("Your account is ready")


def post_comment(page: Page, body: str, js: bool) -> None:
    """Post a top-level comment from the form under the discussion."""
    form = page.locator("form.comment-form").last
    form.get_by_label("Your comment").fill(body)
    if js:
        keep_marker(page)
    form.get_by_role("button", name="Post comment").click()
    expect(card(page, body)).to_be_visible()
    if js:
        assert same_document(page), "posting reloaded the page"


def reply_to(page: Page, parent_text: str, body: str, js: bool) -> None:
    """Reply to the comment containing ``parent_text``: inline with JavaScript, on the reply
    page without it."""
    if js:
        keep_marker(page)
    card(page, parent_text).get_by_role("link", name="Reply").click()
    if js:
        form = item_of(page, parent_text).locator(".inline-compose form")
        expect(form).to_be_visible()
        expect(form.locator("textarea")).to_be_focused()
    else:
        page.wait_for_url(re.compile(r"/comments/\d+/reply$"))
        form = page.locator("form.comment-form")
    form.get_by_label("Your comment").fill(body)
    form.get_by_role("button", name="Post reply").click()
    reply = (
        item_of(page, parent_text)
        .locator("ol.replies")
        .locator("article.comment-card", has_text=body)
    )
    expect(reply).to_be_visible()
    if js:
        assert same_document(page), "replying reloaded the page"
        expect(item_of(page, parent_text).locator(".inline-compose")).to_have_count(0)
        expect(reply).to_be_focused()


def edit_comment(page: Page, old: str, new: str, js: bool) -> None:
    if js:
        keep_marker(page)
    card(page, old).get_by_role("link", name="Edit").click()
    if js:
        form = item_of(page, old).locator(".inline-compose form")
        expect(form.locator("textarea")).to_have_value(old)
    else:
        page.wait_for_url(re.compile(r"/comments/\d+/edit$"))
        form = page.locator("form.comment-form")
    form.get_by_label("Your comment").fill(new)
    form.get_by_role("button", name="Save changes").click()
    edited = card(page, new)
    expect(edited).to_be_visible()
    expect(edited.get_by_role("link", name="edited")).to_be_visible()
    expect(card(page, old)).to_have_count(0)
    if js:
        assert same_document(page), "editing reloaded the page"


def core_flow(contexts, live, article, person, *, js: bool) -> None:
    """The whole story, in the browser, with or without JavaScript."""
    slug, writer = article
    ctx = {"java_script_enabled": js}
    first = contexts(**ctx).new_page()
    reader = unique("reg")
    register(first, reader)

    # Post, then reply three levels deep: comment → reply → reply → reply (depth 3).
    first.goto(f"/articles/{slug}")
    top = f"Top comment by {reader}."
    post_comment(first, top, js)
    chain = [top]
    for depth in (1, 2, 3):
        body = f"Reply at depth {depth} by {reader}."
        reply_to(first, chain[-1], body, js)
        chain.append(body)
    first.goto(f"/articles/{slug}")
    ids = [comment_id(first, text) for text in chain]
    nested = " > ol.replies > ".join(f"li#{i}" for i in ids)
    expect(first.locator(f"ol.threads > {nested}")).to_have_count(1)

    # Edit the deepest reply; post one more and delete it.
    changed = f"Changed my mind, says {reader}."
    edit_comment(first, chain[3], changed, js)
    chain[3] = changed
    doomed = f"A comment to delete by {reader}."
    post_comment(first, doomed, js)
    card(first, doomed).get_by_role("button", name="Delete").click()
    expect(first.locator(".flash-success")).to_contain_text("Your comment is deleted")
    expect(card(first, doomed)).to_have_count(0)

    # A second reader reports the depth-1 reply.
    target = chain[1]
    second = contexts(**ctx).new_page()
    sign_in(second, live, person("witness"))
    second.goto(f"/articles/{slug}")
    report = card(second, target)
    report.get_by_role("link", name="Report").click()
    # With the script the page's one report form opens under the comment; without, the
    # link is the report page.
    form = report if js else second.locator("form", has_text="Send report")
    form.get_by_label("What's wrong?").select_option("abuse")
    form.get_by_label("Details (optional)").fill("Rude.")
    form.get_by_role("button", name="Send report").click()
    done = report.locator(".report-sent") if js else second.locator(".flash-success")
    expect(done).to_contain_text("The moderators will take a look")

    # The moderator hides it from the queue.
    mod_page = contexts(**ctx).new_page()
    sign_in(mod_page, live, person("mod", role=Role.MODERATOR))
    mod_page.goto("/moderation")
    queued = mod_page.locator(".queue-item", has_text=target)
    expect(queued).to_contain_text("Abuse")
    queued.locator("summary", has_text="Hide").click()
    queued.get_by_label("Reason").select_option("abuse")
    queued.get_by_label("Note (optional, moderators only)").fill("Name-calling.")
    queued.get_by_role("button", name="Hide comment").click()
    expect(mod_page.locator(".flash-success")).to_contain_text("The comment is hidden")

    # The reporter sees the placeholder; the author sees their text with the notice.
    target_id = ids[1]
    second.goto(f"/articles/{slug}")
    hidden_for_reader = second.locator(f"li#{target_id} > article")
    expect(hidden_for_reader).to_have_text("Hidden by a moderator: abuse")
    expect(second.locator(f"li#{target_id} > article .comment-body")).to_have_count(0)
    expect(card(second, chain[2])).to_be_visible()  # the replies below still stand

    first.goto(f"/articles/{slug}")
    own = first.locator(f"li#{target_id} > article")
    expect(own.locator(".comment-body")).to_have_text(target)
    expect(own.locator(".notice-hidden")).to_contain_text(
        "Hidden by a moderator: abuse. Only you and the moderators can see this text."
    )

    # The article's author replies to the top comment, with the badge.
    author_page = contexts(**ctx).new_page()
    sign_in(author_page, live, writer)
    author_page.goto(f"/articles/{slug}")
    answer = f"Thanks, {reader}: the author answers."
    reply_to(author_page, top, answer, js)
    author_card = card(author_page, answer)
    expect(author_card.locator(".badge-author")).to_have_text("Author")
    first.goto(f"/articles/{slug}")
    expect(card(first, answer).locator(".badge-author")).to_have_text("Author")
    expect(card(first, top).locator(".badge-author")).to_have_count(0)


# --- the flows -------------------------------------------------------------------------------


def test_the_whole_discussion_works_with_javascript(contexts, live, article, person):
    core_flow(contexts, live, article, person, js=True)


def test_the_whole_discussion_works_without_javascript(contexts, live, article, person):
    core_flow(contexts, live, article, person, js=False)


# --- the keyboard ----------------------------------------------------------------------------


def keyboard_log_in(page: Page, username: str) -> None:
    page.goto("/login")
    tab_until(page, lambda f: f["label"] == "Username")
    page.keyboard.type(username)
    page.keyboard.press("Tab")
    assert focused(page)["label"] == "Password"
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(lambda url: "/login" not in url)


def test_the_first_tab_stop_is_the_skip_link(page, live, article):
    page.goto(f"/articles/{article[0]}")
    page.keyboard.press("Tab")
    assert focused(page)["text"] == "Skip to content"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"


def test_replying_and_voting_with_the_keyboard_alone(contexts, live, article, person):
    slug, _ = article
    say(live, person("other"), slug, "Keyboard test comment.")
    page = contexts().new_page()
    keyboard_log_in(page, person("keys"))
    page.goto(f"/articles/{slug}")
    keep_marker(page)

    # Reading: Tab reaches the comment's Reply link; Enter opens the form with the cursor in it.
    tab_until(page, lambda f: f["text"] == "Reply" and "Keyboard test comment." in f["inCard"])
    page.keyboard.press("Enter")
    compose = item_of(page, "Keyboard test comment.").locator(".inline-compose textarea")
    expect(compose).to_be_focused()
    page.keyboard.type("Typed without a mouse.")
    now = tab_until(page, lambda f: f["tag"] == "button", limit=5)
    assert now["text"] == "Post reply"
    page.keyboard.press("Enter")
    posted = card(page, "Typed without a mouse.")
    expect(posted).to_be_visible()
    expect(posted).to_be_focused()
    assert same_document(page)

    # Voting: Tab to the Helpful button of the other reader's comment, Enter.
    tab_until(
        page,
        lambda f: f["text"] == "Helpful" and "Keyboard test comment." in f["inCard"],
        key="Shift+Tab",
    )
    page.keyboard.press("Enter")
    expect(page.locator(".flash-success")).to_contain_text("Marked helpful")
    expect(card(page, "Keyboard test comment.")).to_contain_text("1 found this helpful")


def test_moderating_with_the_keyboard_alone(contexts, live, article, person):
    slug, _ = article
    say(live, person("rude"), slug, "Hide me by keyboard.")
    page = contexts().new_page()
    sign_in(page, live, person("kmod", role=Role.MODERATOR))
    page.goto(f"/articles/{slug}")
    tab_until(page, lambda f: f["text"] == "Hide" and "Hide me by keyboard." in f["inCard"])
    page.keyboard.press("Enter")  # opens the <details>
    now = tab_until(page, lambda f: f["tag"] == "select", limit=3)
    assert now["label"] == "Reason"
    page.keyboard.press("ArrowDown")  # "Spam"
    page.keyboard.press("Tab")
    assert focused(page)["label"] == "Note (optional, moderators only)"
    page.keyboard.type("Keyboard moderation.")
    page.keyboard.press("Tab")
    assert focused(page)["text"] == "Hide comment"
    page.keyboard.press("Enter")
    expect(page.locator(".flash-success")).to_contain_text("The comment is hidden")
    expect(card(page, "Hide me by keyboard.").locator(".notice-hidden")).to_contain_text(
        "Hidden by a moderator: spam"
    )
