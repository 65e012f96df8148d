"""A German reader in a real browser: the pages in German (from the browser's language),
and the script's own words too (the strings block in each page), with JavaScript on."""

from tests.e2e.conftest import sign_in
from tests.e2e.helpers import card, expect, item_of, keep_marker, same_document


def test_a_german_browser_posts_and_replies_in_german(contexts, live, article, person):
    slug, _ = article
    page = contexts(locale="de-DE").new_page()
    sign_in(page, live, person("leserin"))
    page.goto(f"/articles/{slug}")
    expect(page.locator("html")).to_have_attribute("lang", "de")
    expect(page.locator("#discussion-heading")).to_have_text("Diskussion (0 Kommentare)")

    # Post: the German labels, and the script's count in German afterwards.
    form = page.locator("form.comment-form").last
    keep_marker(page)
    form.get_by_label("Ihr Kommentar").fill("Ein erster Gedanke.")
    form.get_by_role("button", name="Kommentar veröffentlichen").click()
    posted = card(page, "Ein erster Gedanke.")
    expect(posted).to_be_visible()
    assert same_document(page), "posting reloaded the page"
    expect(page.locator("#discussion-heading")).to_have_text("Diskussion (1 Kommentar)")
    expect(posted.locator(".comment-time time")).to_have_text("gerade eben")

    # Reply inline: the script's Cancel button and the fold toggle speak German.
    posted.get_by_role("link", name="Antworten").click()
    inline = item_of(page, "Ein erster Gedanke.").locator(".inline-compose form")
    expect(inline).to_be_visible()
    expect(inline.get_by_role("button", name="Abbrechen")).to_be_visible()
    inline.get_by_label("Ihr Kommentar").fill("Eine Antwort darauf.")
    inline.get_by_role("button", name="Antwort veröffentlichen").click()
    expect(card(page, "Eine Antwort darauf.")).to_be_visible()
    assert same_document(page), "replying reloaded the page"
    toggle = item_of(page, "Ein erster Gedanke.").locator(":scope > .thread-toggle")
    expect(toggle).to_have_text("1 Antwort ausblenden")
    toggle.click()
    expect(toggle).to_have_text("1 Antwort anzeigen (eingeklappt)")
    expect(page.locator("#discussion-heading")).to_have_text("Diskussion (2 Kommentare)")
