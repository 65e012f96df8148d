"""The logged-in reader's article page put together from cached parts.

Rendering the page around the threads (the layout, the article, the discussion's tools and
the comment form) costs more than everything else a logged-in request does, and it is the
same for every reader of one role. So it is rendered once per article version, kind of
viewer, role, follow state, sort, page and language (a *frame*), with marks where the
threads and the few personal values go; each request then fills them in:

- the threads: the shared rendering with the reader's own marks (``cached.personalize``);
- the account's links in the navigation (their name, unread and open-report counts, the
  log-out form), rendered alone from ``_account_nav.html``, the template base.html includes;
- the CSRF token, the draft owner tag (``<body data-account>``), the comment form's
  ``form_started`` and ``idempotency_key``, and the server's clock (``data-rendered``).

The frame is rendered for a stand-in viewer (``FrameViewer``) that knows only its role: a
template that reads anything else about the viewer in the frame fails loudly instead of
baking one reader's data into everyone's page. Anything unusual (a flashed message, a kept
draft, a form with errors, a refusal, the embed, an unknown query argument) gets the page
rendered in full (``page.render_article``), as before."""

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from flask import current_app, render_template, request, session
from markupsafe import Markup, escape

from forum import kept_forms
from forum.discussion.cached import TOKEN_PLACEHOLDER, TypicalViewer, cache_key
from forum.models import Article, User, utcnow
from forum.page_cache import page_cache
from forum.services import discussion_pages, spam
from forum.templating import draft_owner, iso_time

# Marks in a frame; NUL never reaches a page otherwise (forum/input_guard.py refuses it).
THREADS_MARK = "\x00forum-threads\x00"
NAV_MARK = "\x00forum-account-nav\x00"
ACCOUNT_MARK = "\x00forum-account\x00"
STARTED_MARK = "\x00forum-form-started\x00"
IDEMPOTENCY_MARK = "\x00forum-idempotency\x00"
RENDERED_MARK = "\x00forum-rendered\x00"
# The marks that stand for HTML, as the templates take them.
THREADS_SLOT = Markup(THREADS_MARK)  # noqa: S704 - a constant of ours
NAV_SLOT = Markup(NAV_MARK)  # noqa: S704 - a constant of ours
_MARKS = re.compile(
    "|".join(
        re.escape(mark)
        for mark in (
            NAV_MARK,
            ACCOUNT_MARK,
            STARTED_MARK,
            IDEMPOTENCY_MARK,
            RENDERED_MARK,
            TOKEN_PLACEHOLDER,
        )
    )
)

# Kinds of viewer whose pages may be put together from a frame: besides these, the article's
# author ("author-<id>"), whose frame is their own.
FRAMED_KINDS = ("reader", "moderator")
_PLAIN_ARGS = frozenset({"sort", "page"})


class FrameLeak(RuntimeError):
    """A frame template asked for something personal about the viewer."""


@dataclass(frozen=True)
class FrameViewer(TypicalViewer):
    """The viewer a frame is rendered for: its role, and nothing personal."""

    def __getattr__(self, name: str):
        if name.startswith("_"):
            raise AttributeError(name)
        raise FrameLeak(
            f"the page's frame read current_user.{name}: render it per request "
            "(_account_nav.html) or give it a mark in forum/discussion/frame.py"
        )


class Personal:
    """Stands in, in a frame's context, for a per-reader value the frame must not hold (the
    counts in the navigation): using it fails loudly."""

    def __init__(self, name: str) -> None:
        self.name = name

    def _refuse(self, *args):
        raise FrameLeak(f"the page's frame used {self.name}: render it per request")

    __bool__ = __str__ = __html__ = __int__ = __index__ = _refuse


def context() -> dict:
    """What a frame is rendered with instead of the reader's own values (each wins over the
    context processors' and the globals' values of the same name)."""
    return {
        "account_nav": NAV_SLOT,
        "draft_owner": lambda: ACCOUNT_MARK,
        "csrf_token": lambda: TOKEN_PLACEHOLDER,
        "rendered_at": RENDERED_MARK,
        "unread_count": Personal("unread_count"),
        "open_report_count": Personal("open_report_count"),
    }


def viewer(kind: str, user: User) -> FrameViewer:
    """Whom the frame of ``kind`` is rendered for: the role, and for the article's author
    (a frame of their own) who they are, so that the page offers them their own tools."""
    return FrameViewer(user.role, id=user.id if kind.startswith("author-") else 0)


def applies(kind: str | None) -> bool:
    """Whether this request's page may be put together from a frame."""
    return (
        kind is not None
        and (kind in FRAMED_KINDS or kind.startswith("author-"))
        and request.method == "GET"
        and set(request.args) <= _PLAIN_ARGS
        and "_flashes" not in session
        and kept_forms.KEPT_DRAFT_KEY not in session
    )


def frame_key(
    article: Article,
    kind: str,
    user: User,
    following: bool,
    sort: discussion_pages.Sort,
    page: int,
) -> str:
    """What the frame's bytes depend on (cache_key adds the language and the code)."""
    shape = f"frame-{kind}-{user.role.value}-{'following' if following else 'not-following'}"
    return cache_key(article.id, article.discussion_version, shape, sort, page)


def frame_parts(key: str, render: Callable[[], str]) -> tuple[str, str]:
    """The frame before and after the threads, rendered by ``render`` when no worker has
    rendered it yet."""
    cache = page_cache()
    parts = cache.memo.get(key)
    if parts is not None:
        return parts
    stored = cache.get(key)
    if stored is None:
        html = render()
        if html.count(THREADS_MARK) != 1:
            raise FrameLeak("a frame must hold the threads' mark exactly once")
        cache.set(key, html.encode())
    else:
        html = stored.decode()
    before, after = html.split(THREADS_MARK)
    cache.memo.set(key, (before, after))
    return before, after


def personal_values(token: str) -> dict[str, str]:
    """What replaces each mark for this request's reader (HTML, escaped where it is text)."""
    return {
        NAV_MARK: render_template("_account_nav.html"),
        ACCOUNT_MARK: str(escape(draft_owner() or "")),
        STARTED_MARK: str(escape(spam.form_token(current_app.secret_key))),
        IDEMPOTENCY_MARK: str(uuid.uuid4()),
        RENDERED_MARK: iso_time(utcnow()),
        TOKEN_PLACEHOLDER: str(escape(token)),
    }


def assemble(before: str, threads: bytes, after: str, values: dict[str, str]) -> bytes:
    """The page's bytes: the frame with this reader's values, around their threads."""

    def fill(text: str) -> bytes:
        return _MARKS.sub(lambda match: values[match[0]], text).encode()

    return b"".join((fill(before), threads, fill(after)))
