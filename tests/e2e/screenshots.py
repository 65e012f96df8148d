"""Screenshots for the README, from the demo content: ``python -m tests.e2e.screenshots``.

Builds the demo (``forum.demo.load``) in a temporary instance migrated to the latest
schema, serves it on 127.0.0.1 and photographs it with Debian's Chromium:

- forum/static/screenshots/article-desktop.png   the featured article and its discussion,
                                                 as a returning reader writing a reply
- forum/static/screenshots/article-phone.png     its discussion on a 375-pixel-wide phone
- forum/static/screenshots/moderation-queue.png  the moderators' queue, logged in as one

Nothing outside the temporary folder and those three files is touched."""

import argparse
import sys
import tempfile
from pathlib import Path

from forum import PROJECT_ROOT, create_app
from forum.demo import FEATURED_SLUG
from tests.e2e.server import CHROMIUM_ARGS, CHROMIUM_PATH, live_config, serve

OUT = PROJECT_ROOT / "forum" / "static" / "screenshots"
DESKTOP = {"width": 1100, "height": 900}
PHONE = {"width": 375, "height": 812}


def build_demo(directory: Path):
    """An app on a fresh, migrated SQLite database with the demo loaded; the accounts made."""
    import flask_migrate

    from forum import demo

    app = create_app(live_config(directory))
    with app.app_context():
        flask_migrate.upgrade()
        accounts = demo.load()
    return app, {username: password for username, _, password in accounts}


def log_in(page, username: str, password: str) -> None:
    page.goto("/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(lambda url: "/login" not in url)


def load_every_picture(page) -> None:
    """Lazy pictures (the avatars) below the first screen load before a whole-page shot."""
    page.evaluate(
        """() => Promise.all([...document.images].map(img => {
               img.loading = 'eager';
               if (img.complete) return null;
               return new Promise(done => { img.onload = img.onerror = done; });
           }))"""
    )


def shoot(base_url: str, passwords: dict[str, str], out: Path, chromium: str) -> list[Path]:
    from playwright.sync_api import sync_playwright

    out.mkdir(parents=True, exist_ok=True)
    written = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium, args=CHROMIUM_ARGS, headless=True
        )
        try:
            # The article on a wide screen, whole, as a reader back after a few hours sees
            # it: the newer comments marked, and a reply being written under an answer.
            desktop = browser.new_context(base_url=base_url, viewport=DESKTOP)
            page = desktop.new_page()
            log_in(page, "ben", passwords["ben"])
            page.goto(f"/articles/{FEATURED_SLUG}")
            page.evaluate(
                "slug => localStorage.setItem('forum:last-visit:' + slug, "
                "new Date(Date.now() - 3 * 3600 * 1000).toISOString())",
                FEATURED_SLUG,
            )
            page.reload()
            answer = page.locator("article.comment-card", has_text="what is on the surface")
            answer.get_by_role("link", name="Reply").click()
            page.locator(".inline-compose textarea").fill(
                "Thanks! So the **surface markers** decide it. Is there a test that works "
                "*without* antibodies?"
            )
            page.locator(".inline-compose .live-preview strong").wait_for()
            page.mouse.move(0, 0)
            page.evaluate("document.activeElement.blur()")
            target = out / "article-desktop.png"
            load_every_picture(page)
            page.screenshot(path=str(target), full_page=True)
            written.append(target)
            desktop.close()

            # Its discussion on a phone: from the discussion heading, a few screens long.
            phone = browser.new_context(
                base_url=base_url,
                viewport=PHONE,
                device_scale_factor=2,
                is_mobile=True,
                has_touch=True,
            )
            page = phone.new_page()
            page.goto(f"/articles/{FEATURED_SLUG}")
            top = page.evaluate(
                "document.getElementById('discussion').getBoundingClientRect().top + scrollY"
            )
            height = page.evaluate("document.documentElement.scrollHeight")
            clip_top = max(top - 16, 0)
            clip = {
                "x": 0,
                "y": clip_top,
                "width": PHONE["width"],
                "height": min(1900, height - clip_top),
            }
            target = out / "article-phone.png"
            load_every_picture(page)
            page.screenshot(path=str(target), full_page=True, clip=clip)
            written.append(target)
            phone.close()

            # The moderation queue, as the demo moderator.
            queue = browser.new_context(base_url=base_url, viewport=DESKTOP)
            page = queue.new_page()
            log_in(page, "theo", passwords["theo"])
            page.goto("/moderation")
            target = out / "moderation-queue.png"
            load_every_picture(page)
            page.screenshot(path=str(target), full_page=True)
            written.append(target)
            queue.close()
        finally:
            browser.close()
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT, help=f"folder (default {OUT})")
    parser.add_argument("--chromium", default=CHROMIUM_PATH, help="the Chromium binary")
    args = parser.parse_args(argv)
    if not Path(args.chromium).exists():
        print(f"Chromium not found at {args.chromium}; pass --chromium", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="forum-screenshots-") as tmp:
        app, passwords = build_demo(Path(tmp))
        server = serve(app)
        try:
            for path in shoot(server.url, passwords, args.out, args.chromium):
                print(f"wrote {path}")
        finally:
            server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
