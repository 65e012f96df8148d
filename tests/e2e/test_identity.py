"""Identity in the browser: Arabic and Hebrew comments read right to left beside English
ones; a member uploads a picture on their profile page and it appears on their comments;
and no page asks another site for anything, avatars included."""

from urllib.parse import urlsplit

from tests.avatar_support import jpeg_with_exif
from tests.e2e.conftest import sign_in
from tests.e2e.helpers import Page, card, expect, say

ARABIC = "مرحبا بكم في النقاش، هذا تعليق باللغة العربية."
HEBREW = "שלום לכולם, זו תגובה בעברית."
ENGLISH = "Hello everyone, this comment is in English."


def post(page: Page, body: str) -> None:
    form = page.locator("form.comment-form").last
    form.get_by_label("Your comment").fill(body)
    form.get_by_role("button", name="Post comment").click()
    expect(card(page, body)).to_be_visible()


def direction(page: Page, body: str) -> str:
    return (
        card(page, body)
        .locator(".comment-body")
        .evaluate("element => getComputedStyle(element).direction")
    )


def test_arabic_and_hebrew_comments_read_right_to_left_and_english_left_to_right(
    page, live, person, article
):
    slug, _ = article
    writer = person("writer", display_name="كاتب")
    sign_in(page, live, writer)
    page.goto(f"/articles/{slug}")
    for body in (ARABIC, ENGLISH, HEBREW):
        post(page, body)
    assert direction(page, ARABIC) == "rtl"
    assert direction(page, HEBREW) == "rtl"
    assert direction(page, ENGLISH) == "ltr"
    # The author's Arabic display name is isolated and right to left too; the page is not.
    name = card(page, ARABIC).locator(".comment-author bdi")
    assert name.evaluate("element => getComputedStyle(element).direction") == "rtl"
    assert page.evaluate("getComputedStyle(document.body).direction") == "ltr"


def test_an_uploaded_picture_appears_on_the_comments_and_nothing_is_fetched_elsewhere(
    page, live, person, article, tmp_path
):
    slug, _ = article
    ada = person("ada", display_name="Ada Photo")
    say(live, ada, slug, "A comment with a face.")
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    sign_in(page, live, ada)

    page.goto("/account")
    page.get_by_role("link", name="Edit your profile").click()
    picture = tmp_path / "holiday.jpg"
    picture.write_bytes(jpeg_with_exif())
    page.get_by_label("New picture").set_input_files(str(picture))
    page.get_by_role("button", name="Upload picture").click()
    expect(page.locator(".flash-success")).to_contain_text("Your new picture is in place")

    page.goto(f"/articles/{slug}")
    avatar = card(page, "A comment with a face.").locator("img.avatar")
    expect(avatar).to_be_visible()
    src = avatar.get_attribute("src")
    assert src.startswith(f"/avatars/{ada}/") and src.endswith(".webp")
    assert avatar.get_attribute("alt") == ""
    assert avatar.evaluate("image => image.complete && image.naturalWidth > 0")

    # The @username shows when the card is hovered.
    username = card(page, "A comment with a face.").locator(".comment-username")
    card(page, "A comment with a face.").hover()
    expect(username).to_have_css("opacity", "1")
    expect(username).to_have_text(f"@{ada}")

    page.goto(f"/users/{ada}")
    expect(page.locator(".profile-head img.avatar")).to_have_attribute("src", src)

    own = urlsplit(live.url).netloc
    strangers = [url for url in requests if urlsplit(url).netloc not in (own, "")]
    assert strangers == [], strangers
