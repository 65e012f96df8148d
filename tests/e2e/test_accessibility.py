"""axe-core in the browser, on the pages people use most, in the light and the dark theme:
any serious or critical violation fails.

axe is injected as a script, which the site's CSP would block, so these contexts bypass the
CSP (the CSP has its own test, in contexts that don't). Each page is checked whole in the
light theme, then again in the dark one (``prefers-color-scheme: dark``) for what a theme
changes: colour contrast. The article is also checked with the script's additions showing:
an open inline reply with its preview, counter and error, a folded thread, comments marked
new, and the moderators' folded forms opened."""

import json

import pytest

from tests.e2e.conftest import VENDOR, sign_in
from tests.e2e.helpers import Page

AXE = VENDOR / "axe.min.js"
FAILING_IMPACTS = {"serious", "critical"}
# What differs between the themes: colours only.
THEME_RULES = ["color-contrast", "link-in-text-block", "non-text-contrast"]


def run_axe(page: Page, rules: list[str] | None = None) -> list[dict]:
    """The violations axe finds on the page as it is now (axe injected once per page)."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    return page.evaluate(
        """async (rules) => {
            const known = new Set(axe.getRules().map(r => r.ruleId));
            const options = {resultTypes: ['violations']};
            if (rules) {
                options.runOnly = {type: 'rule', values: rules.filter(r => known.has(r))};
            }
            const r = await axe.run(document, options);
            return r.violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.slice(0, 5).map(n => ({target: n.target.join(' '),
                                                      summary: n.failureSummary}))}));
        }""",
        rules,
    )


def serious(violations: list[dict]) -> list[dict]:
    return [v for v in violations if v["impact"] in FAILING_IMPACTS]


def assert_accessible(page: Page, what: str) -> None:
    """No serious or critical violation in the light theme, nor in the dark one."""
    page.emulate_media(color_scheme="light")
    failing = serious(run_axe(page))
    assert not failing, f"{what} (light): axe found\n{json.dumps(failing, indent=2)}"
    page.emulate_media(color_scheme="dark")
    failing = serious(run_axe(page, THEME_RULES))
    page.emulate_media(color_scheme="light")
    assert not failing, f"{what} (dark): axe found\n{json.dumps(failing, indent=2)}"


@pytest.fixture
def axe_page(contexts) -> Page:
    if not AXE.exists():
        pytest.skip(f"axe-core is not vendored at {AXE} (see tests/e2e/vendor/README.md)")
    return contexts(bypass_csp=True, color_scheme="light").new_page()


def test_axe_is_loaded_and_finds_a_planted_violation(axe_page, live):
    """The harness itself: a check that can't fail proves nothing."""
    axe_page.goto("/login")
    axe_page.evaluate(
        """() => {
            const input = document.createElement('input');
            document.querySelector('main').appendChild(input);  // no label
        }"""
    )
    found = {v["id"] for v in serious(run_axe(axe_page))}
    assert "label" in found


def test_public_pages(axe_page, live, scene):
    for path in ["/", f"/series/{scene.series_slug}", "/login", "/register", "/no/such/page"]:
        axe_page.goto(path)
        assert_accessible(axe_page, f"{path}, anonymous")


def test_a_readers_pages(axe_page, live, scene):
    page = axe_page
    sign_in(page, live, scene.reader)
    for path in ["/account", "/notifications", f"/comments/{scene.visible_id}/reply"]:
        page.goto(path)
        assert_accessible(page, f"{path}, reader")

    # The long discussion with everything the script adds showing.
    page.goto(f"/articles/{scene.slug}")
    page.evaluate(f"localStorage.setItem('forum:last-visit:{scene.slug}', '2000-01-01T00:00:00Z')")
    page.reload()
    assert page.locator("li.is-new").count() > 0
    page.locator(".thread-toggle").first.click()
    page.locator("ol.threads > li:nth-child(5) > article .action-reply").click()
    compose = page.locator(".inline-compose")
    compose.locator("textarea").fill("Some **bold** text for the preview.")
    compose.locator(".live-preview strong").wait_for()
    compose.locator("textarea").fill("Some **bold** text, too long. " + "x" * 10_050)
    compose.get_by_role("button", name="Post reply").click()  # too long: refused
    compose.locator(".js-error").first.wait_for()
    assert compose.locator(".char-count.over").is_visible()
    assert_accessible(page, "the article, reader, enhanced")


def test_the_moderators_pages(axe_page, live, scene):
    page = axe_page
    sign_in(page, live, scene.moderator)
    for path in ["/moderation", "/moderation/log", f"/articles/{scene.slug}"]:
        page.goto(path)
        # The folded moderation forms, opened: their controls must be labelled too.
        for summary in page.locator("details > summary").all()[:6]:
            summary.click()
        assert_accessible(page, f"{path}, moderator")
