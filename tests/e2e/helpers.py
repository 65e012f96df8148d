"""Helpers for the browser tests: finding comments on a page, the keyboard, test data.

Playwright is imported here, once: where it isn't installed the names below are stand-ins,
the modules still import, and the ``live`` fixture skips every test saying why."""

from datetime import timedelta

from forum.extensions import db
from forum.models import utcnow
from forum.services import accounts, articles, threads

try:
    from playwright.sync_api import Page, expect
except ImportError:  # pragma: no cover - the tests skip before using them
    Page = object

    def expect(*_args, **_kwargs):
        raise RuntimeError("Playwright is not installed")


__all__ = [
    "Page",
    "card",
    "comment_id",
    "expect",
    "focused",
    "item_of",
    "keep_marker",
    "same_document",
    "say",
    "tab_until",
]


def card(page: Page, text: str):
    """The card of the comment whose own body contains ``text`` (not its replies')."""
    return page.locator("article.comment-card").filter(
        has=page.locator(".comment-body", has_text=text)
    )


def item_of(page: Page, text: str):
    """The comment's ``<li>`` (its card and its replies)."""
    return card(page, text).locator("xpath=..")


def comment_id(page: Page, text: str) -> str:
    return item_of(page, text).get_attribute("id")


def keep_marker(page: Page) -> None:
    """Set a value that survives only as long as the page is not reloaded."""
    page.evaluate("window.__sameDocument = true")


def same_document(page: Page) -> bool:
    """Whether the page is still the one ``keep_marker`` marked (no reload in between)."""
    return page.evaluate("window.__sameDocument === true")


def focused(page: Page) -> dict:
    """What has the keyboard focus: its tag, text, label and the comment card around it."""
    return page.evaluate(
        """() => {
            const el = document.activeElement;
            const card = el.closest('article.comment-card');
            return {tag: el.tagName.toLowerCase(), text: (el.innerText || el.value || '').trim(),
                    label: el.labels && el.labels[0] ? el.labels[0].innerText.trim() : '',
                    inCard: card ? card.innerText : ''};
        }"""
    )


def tab_until(page: Page, wanted, limit: int = 300, key: str = "Tab") -> dict:
    """Press ``key`` until ``wanted(focused(page))`` holds; fail after ``limit`` presses."""
    now = focused(page)
    for _ in range(limit):
        page.keyboard.press(key)
        now = focused(page)
        if wanted(now):
            return now
    raise AssertionError(f"never reached the wanted control with {key}; last focus: {now}")


def say(live, username: str, slug: str, body: str, parent: int | None = None, hours_ago=None):
    """A comment made through the service on the live server's database; returns its id."""

    def make():
        comment = threads.post_comment(
            accounts.find_user(username), articles.get_article(slug), body, parent_id=parent
        )
        if hours_ago is not None:
            comment.created_at = utcnow() - timedelta(hours=hours_ago)
            db.session.commit()
        return comment.id

    return live.run(make)
