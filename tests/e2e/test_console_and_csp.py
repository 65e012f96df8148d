"""Every page type loads, under the real Content-Security-Policy, without a console error,
an uncaught exception or a CSP violation, and so does the script's work on the article
(inline forms, the live preview, posting without a reload, folding threads)."""

import pytest

from tests.e2e.conftest import sign_in
from tests.e2e.helpers import Page

# An init script runs before any of the page's own, and even under the CSP: it records
# violations as they happen (the browser also logs them to the console, as errors).
RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', (e) => {
    window.__cspViolations.push(`${e.violatedDirective} blocked ${e.blockedURI || 'inline'}`
                                + ` at ${e.sourceFile}:${e.lineNumber}`);
});
"""


class Watch:
    """Console errors, page errors and CSP violations seen by one page."""

    def __init__(self, page: Page):
        self.page = page
        self.problems: list[str] = []
        self.expected_statuses: set[int] = set()
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.problems.append(f"page error: {error}"))

    def _console(self, message) -> None:
        if message.type not in ("error", "warning"):
            return
        text = message.text
        # Chromium logs the document's own error status; that is the page under test.
        if any(f"status of {code}" in text for code in self.expected_statuses):
            return
        if message.type == "warning" and "Content Security Policy" not in text:
            return
        self.problems.append(f"console {message.type}: {text} ({message.location})")

    def visit(self, path: str, status: int = 200) -> None:
        self.expected_statuses = {status} if status >= 400 else set()
        response = self.page.goto(path)
        assert response.status == status, f"{path}: {response.status}"
        self.page.wait_for_load_state("load")
        self.check(path)

    def check(self, where: str) -> None:
        violations = self.page.evaluate("window.__cspViolations || []")
        problems = self.problems + [f"CSP violation: {v}" for v in violations]
        self.problems = []
        self.page.evaluate("window.__cspViolations = []")
        assert not problems, f"{where}:\n" + "\n".join(problems)


@pytest.fixture
def watched(contexts):
    def open_page(**options) -> Watch:
        context = contexts(**options)
        context.add_init_script(RECORD_VIOLATIONS)
        return Watch(context.new_page())

    return open_page


def test_the_csp_recorder_sees_a_violation(watched, live):
    """The harness: an inline script injected into a page is blocked, and reported."""
    watch = watched()
    watch.page.goto("/login")
    watch.page.evaluate(
        """() => { const s = document.createElement('script');
                   s.textContent = 'window.__ran = true'; document.body.appendChild(s); }"""
    )
    watch.page.wait_for_function("window.__cspViolations.length > 0")
    assert watch.page.evaluate("window.__ran === undefined")
    with pytest.raises(AssertionError, match="script-src"):
        watch.check("login with an injected inline script")


def test_anonymous_page_types(watched, live, scene):
    watch = watched()
    for path, status in [
        ("/", 200),
        (f"/series/{scene.series_slug}", 200),
        (f"/articles/{scene.slug}", 200),
        (f"/comments/{scene.edited_id}/history", 200),
        (f"/users/{scene.other}", 200),
        ("/login", 200),
        ("/register", 200),
        ("/moderation/log", 200),
        ("/no/such/page", 404),
    ]:
        watch.visit(path, status)


def test_a_readers_page_types_and_the_script_at_work(watched, live, scene):
    watch = watched()
    sign_in(watch.page, live, scene.reader)
    for path in [
        "/",
        f"/comments/{scene.visible_id}/reply",
        f"/comments/{scene.own_id}/edit",
        f"/users/{scene.reader}",
        "/account",
        "/notifications",
    ]:
        watch.visit(path)

    page = watch.page
    watch.visit(f"/articles/{scene.slug}")
    page.locator(".thread-toggle").first.click()
    page.locator(f"#c{scene.own_id} .action-edit").click()
    edit = page.locator(f"#c{scene.own_id} .inline-compose")
    edit.locator("textarea").fill("My recent comment, **edited** in place.")
    edit.locator(".live-preview strong").wait_for()
    edit.get_by_role("button", name="Save changes").click()
    page.locator(f"#c{scene.own_id} .comment-body", has_text="edited in place").wait_for()
    page.locator(f"#c{scene.visible_id} > article .action-reply").click()
    reply = page.locator(f"#c{scene.visible_id} .inline-compose")
    reply.locator("textarea").fill(
        "A reply posted without a reload, [a link](https://example.org)."
    )
    reply.get_by_role("button", name="Post reply").click()
    page.locator("article.comment-card", has_text="posted without a reload").wait_for()
    watch.check("the article, after the script's work")


def test_a_moderators_page_types(watched, live, scene):
    watch = watched()
    sign_in(watch.page, live, scene.moderator)
    for path in ["/moderation", "/moderation/log", f"/articles/{scene.slug}"]:
        watch.visit(path)
