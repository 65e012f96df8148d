"""The layout holds from a 375-pixel phone to a wide screen: nothing forces sideways
scrolling, the deepest replies keep a readable width, and the dark theme follows the
system's setting."""

import pytest

from tests.e2e.conftest import sign_in

PHONE = {"width": 375, "height": 800}
WIDE = {"width": 1440, "height": 900}


@pytest.mark.parametrize("viewport", [PHONE, WIDE], ids=["phone", "wide"])
def test_no_page_scrolls_sideways(contexts, live, scene, viewport):
    page = contexts(viewport=viewport).new_page()
    sign_in(page, live, scene.moderator)
    for path in [f"/articles/{scene.slug}", "/moderation", "/moderation/log", "/"]:
        page.goto(path)
        for summary in page.locator("details > summary").all()[:4]:
            summary.click()
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"{path} at {viewport['width']} px is {overflow} px too wide"


def test_the_deepest_replies_stay_readable_on_a_phone(contexts, live, scene):
    page = contexts(viewport=PHONE).new_page()
    page.goto(f"/articles/{scene.slug}")
    narrowest = page.evaluate(
        """() => Math.min(...[...document.querySelectorAll('.comment-body')]
                           .map(b => b.getBoundingClientRect().width))"""
    )
    assert narrowest >= 200, f"a reply is squeezed to {narrowest} px"


def test_the_dark_theme_follows_the_system(contexts, live, scene):
    def background(scheme: str) -> str:
        page = contexts(color_scheme=scheme).new_page()
        page.goto("/")
        return page.evaluate("getComputedStyle(document.body).backgroundColor")

    light, dark = background("light"), background("dark")
    assert light != dark
    assert dark == "rgb(19, 20, 22)"


def test_the_header_fits_one_line_on_a_phone(contexts, live, scene):
    """A moderator's header has the most links; on a phone they scroll sideways inside the
    header, which stays one line high, instead of wrapping."""
    page = contexts(viewport=PHONE).new_page()
    sign_in(page, live, scene.moderator)
    page.goto(f"/articles/{scene.slug}")
    brand = page.locator(".brand").bounding_box()
    links = page.locator(".nav-list > li").all()
    tops = {round(link.bounding_box()["y"]) for link in links}
    assert len(tops) == 1, f"the navigation wraps onto {len(tops)} lines"
    assert abs(next(iter(tops)) - brand["y"]) < brand["height"]
    assert page.locator(".site-header").bounding_box()["height"] < 70


def test_comment_actions_are_quiet_buttons(contexts, live, scene):
    page = contexts().new_page()
    sign_in(page, live, scene.moderator)
    page.goto(f"/articles/{scene.slug}")
    style = page.evaluate(
        """() => { const a = document.querySelector('.comment-actions .action-permalink');
                   const s = getComputedStyle(a);
                   return [s.textDecorationLine, s.display, a.getBoundingClientRect().height]; }"""
    )
    assert style[0] == "none"
    assert style[1] in ("flex", "inline-flex")  # a flex item is blockified
    assert style[2] >= 24  # a comfortable target


def test_the_embedding_page_can_choose_the_theme(contexts, live, scene):
    """``data-theme`` on the root element wins over the system's setting (an embedding page
    passes its own)."""
    page = contexts(color_scheme="light").new_page()
    page.goto("/")
    page.evaluate("document.documentElement.dataset.theme = 'dark'")
    assert page.evaluate("getComputedStyle(document.body).backgroundColor") == "rgb(19, 20, 22)"
