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
    assert dark == "rgb(20, 21, 24)"
