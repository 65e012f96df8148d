"""Discussion pages rendered once per version and per kind of viewer, then reused.

Three kinds of viewer share a rendering of a discussion page:

- **anonymous readers** get the whole page from the cache, with an ``ETag`` that a proxy or
  the browser revalidates (``304 Not Modified`` costs one small query and no rendering), and
  no cookie, so any proxy may keep it;
- **logged-in readers** and **moderators** share the rendering of the threads made for a
  reader (or a moderator) who wrote none of them and voted for none; each request then puts
  that person's own comments and voted comments in place of the generic cards (a handful,
  rendered fresh), and their CSRF token in place of a placeholder; the page around the
  threads comes from a cached frame too (``forum.discussion.frame``), and the threads stay
  bytes from the cache to the response;
- the article's **author** (who may pin) gets a rendering of their own, also cached.

Anyone else (a suspended account, a reader with comments awaiting review or hidden in this
discussion, whose threads differ in shape) gets the page rendered in full, as before.

Keys carry the discussion's version (``forum.services.discussion_state``) and the page cache
carries the code's fingerprint, so an entry is never stale: a change makes a new key."""

import re
from dataclasses import dataclass

from flask import current_app, g, render_template, request, session
from markupsafe import Markup

from forum.i18n import current_locale, language_key, tagged_etag
from forum.models import Article, Comment, CommentStatus, Role, User
from forum.models.users import RoleQuestions
from forum.page_cache import page_cache
from forum.services import community, discussion_pages, permissions, threads, trees

# Stands in for the CSRF token while a page is rendered for the cache; never a valid token.
TOKEN_PLACEHOLDER = "\x00forum-csrf\x00"  # noqa: S105 - a marker, not a secret


@dataclass(frozen=True)
class TypicalViewer(RoleQuestions):
    """A logged-in member who wrote none of the comments and voted for none: the viewer a
    shared rendering is made for. Answers the questions the permission predicates ask."""

    role: Role
    id: int = 0
    is_authenticated: bool = True
    suspended_indefinitely: bool = False

    def is_suspended(self, now=None) -> bool:
        return False


READER = TypicalViewer(Role.READER)
MODERATOR = TypicalViewer(Role.MODERATOR)


def viewer_kind(user: User | None, article: Article) -> str | None:
    """Which shared rendering ``user`` may be served (None: render the page for them)."""
    if user is None:
        return "anonymous"
    if user.is_suspended():
        return None
    if user.id == article.author_id:
        return f"author-{user.id}"
    return "moderator" if permissions.is_moderator(user) else "reader"


def typical_viewer(kind: str, user: User | None):
    if kind == "anonymous":
        return None
    if kind == "reader":
        return READER
    if kind == "moderator":
        return MODERATOR
    return user  # the article's author: a rendering of their own


def cache_key(
    article_id: int, version: int, kind: str, sort: discussion_pages.Sort, page: int
) -> str:
    # The language is part of every rendering: the same threads, other words.
    return page_cache().key(
        "discussion", article_id, version, kind, sort.value, page, language_key(current_locale())
    )


def anonymous_etag(article_id: int, version: int, sort: discussion_pages.Sort, page: int) -> str:
    """The anonymous page's entity tag (unquoted): what changes its bytes."""
    return tagged_etag(page_cache().etag(article_id, version, sort.value, page), current_locale())


def anonymous_cacheable(allowed_args: set[str] | frozenset[str] = frozenset({"sort", "page"})):
    """Only a plain anonymous GET may be served from (or stored in) the cache: a flashed
    message or an unusual query string makes the page differ from the shared one."""
    return (
        request.method == "GET" and "_flashes" not in session and set(request.args) <= allowed_args
    )


def render_threads_block(
    article: Article,
    viewer,
    sort: discussion_pages.Sort,
    page: int,
    settings,
    marks: "ReaderMarks | None" = None,
):
    """The threads of one page rendered for ``viewer`` (a real user, with ``marks``, or a
    typical one)."""
    discussion = discussion_pages.load_page(
        article,
        viewer,
        sort=sort,
        page=page,
        settings=settings,
        extra_threads=marks.unlisted_roots if marks is not None else None,
    )
    html = render_template(
        "discussion/_threads_block.html",
        article=article,
        discussion=discussion,
        sorts=list(discussion_pages.Sort),  # the sort links, from the one list the service accepts
        viewer=viewer,
        voted=marks.voted if marks is not None else set(),
        reported=marks.reported if marks is not None else set(),
        can_pin=community.can_pin(viewer, article),
        settings=settings,
    )
    return discussion, html


@dataclass(frozen=True)
class SharedBlock:
    """A shared rendering as stored (UTF-8 bytes), with where its CSRF placeholders and its
    comment cards start: found once per process, so a request neither decodes, searches
    nor re-encodes the whole block (about 1 ms each for a page of 1,000 comments)."""

    data: bytes
    tokens: tuple[int, ...]
    # Comment id -> where its first card starts.
    cards: dict[int, int]

    @classmethod
    def of(cls, data: bytes) -> "SharedBlock":
        tokens, at = [], data.find(_TOKEN_BYTES)
        while at != -1:
            tokens.append(at)
            at = data.find(_TOKEN_BYTES, at + len(_TOKEN_BYTES))
        cards: dict[int, int] = {}
        for match in _CARD.finditer(data):
            cards.setdefault(int(match[1]), match.start())
        return cls(data, tuple(tokens), cards)


_TOKEN_BYTES = TOKEN_PLACEHOLDER.encode()
_CARD = re.compile(rb'<article data-card="(\d+)"')
_CARD_END = b"</article>"


def shared_threads_block(article: Article, kind: str, user, sort, page, settings) -> SharedBlock:
    """The cached rendering for ``kind``, made now if no worker has made it yet; its CSRF
    token is a placeholder."""
    cache = page_cache()
    key = cache_key(article.id, article.discussion_version, kind, sort, page)
    block = cache.memo.get(key)
    if block is not None:
        return block
    data = cache.get(key)
    if data is None:
        g.form_token_placeholder = TOKEN_PLACEHOLDER
        try:
            _, html = render_threads_block(
                article, typical_viewer(kind, user), sort, page, settings
            )
        finally:
            g.pop("form_token_placeholder", None)
        data = html.encode()
        cache.set(key, data)
    block = SharedBlock.of(data)
    cache.memo.set(key, block)
    return block


@dataclass(frozen=True)
class ReaderMarks:
    """What makes one logged-in reader's page differ from the shared one: the comments they
    wrote, voted for or reported here (one query, ``community.own_and_voted_comments``)."""

    comments: list[Comment]
    voted: set[int]
    # Comments this reader reported: their cards say "Reported" instead of the Report link.
    reported: set[int]
    # Own comments readers don't see as text (awaiting review, hidden, rejected): the threads
    # are then shaped differently, and the page is rendered for this reader alone.
    unshared: bool
    # Own top-level comments that readers don't see listed: extra threads for this reader.
    unlisted_roots: int

    @classmethod
    def of(cls, user: User | None, article: Article) -> "ReaderMarks":
        if user is None:
            return cls([], set(), set(), False, 0)
        rows = community.own_and_voted_comments(user, article)
        own = [comment for comment, _, _ in rows if comment.author_id == user.id]
        return cls(
            comments=[comment for comment, _, _ in rows],
            voted={comment.id for comment, has_vote, _ in rows if has_vote},
            reported={comment.id for comment, _, has_report in rows if has_report},
            unshared=any(comment.status in _UNSHARED for comment in own),
            unlisted_roots=sum(
                1
                for comment in own
                if comment.parent_id is None
                and not comment.listed
                and comment.status is not CommentStatus.DELETED
            ),
        )


_UNSHARED = (CommentStatus.PENDING, CommentStatus.HIDDEN, CommentStatus.REJECTED)


def personalize(
    block: SharedBlock, user: User, article: Article, marks: ReaderMarks, settings, token: str
) -> bytes:
    """Put ``user``'s own and voted comments in place of the typical viewer's cards, and
    their CSRF token in place of the placeholder; the block's bytes are copied once."""
    found = []
    for comment in marks.comments:
        if comment.author_id == user.id and comment.status is CommentStatus.DELETED:
            continue  # a "[deleted]" placeholder looks the same to everyone
        start = block.cards.get(comment.id)
        if start is not None:
            found.append((start, comment))
    found.sort(key=lambda item: item[0])
    cap = max(settings.max_display_depth, 1)
    answered = threads.authors_of(
        [comment.parent_id for _, comment in found if comment.depth + 1 > cap]
    )
    data = block.data
    cuts = []  # (start, end, what goes there instead)
    if found:
        card = card_renderer(user, article, marks.voted, settings, marks.reported)
        for start, comment in found:
            end = data.index(_CARD_END, start) + len(_CARD_END)
            fresh = str(card(comment_node(comment, user, settings, answered))).strip()
            cuts.append((start, end, fresh.encode()))
    token_bytes = token.encode()
    cuts.extend((at, at + len(_TOKEN_BYTES), token_bytes) for at in block.tokens)
    cuts.sort(key=lambda cut: cut[0])
    view, pieces, position = memoryview(data), [], 0
    for start, end, replacement in cuts:
        if start < position:
            continue  # a placeholder inside a card rendered afresh, with the real token
        pieces.append(view[position:start])
        pieces.append(replacement)
        position = end
    pieces.append(view[position:])
    return b"".join(pieces)


def card_renderer(
    user: User, article: Article, voted: set[int], settings, reported: set[int] = frozenset()
):
    """The ``comment_card`` macro bound to one viewer's context: each call renders one card
    without the page's context processors (which would query the database per card)."""
    template = current_app.jinja_env.get_template("discussion/_comment.html")
    module = template.make_module(
        {
            "viewer": user,
            "article": article,
            "voted": voted,
            "reported": reported,
            "can_pin": community.can_pin(user, article),
            "settings": settings,
        }
    )
    return module.comment_card


def comment_node(
    comment: Comment, viewer, settings, answered: dict[int, User] | None = None
) -> trees.Node:
    """``comment`` alone (no replies) as it appears to ``viewer`` at its place in the tree.

    The display level and the "replying to" name follow the same cap as a whole page;
    ``answered`` maps parent ids to their authors when the caller loaded them at once."""
    cap = max(settings.max_display_depth, 1)
    level = min(comment.depth + 1, cap)
    replying_to = None
    if comment.depth + 1 > cap and comment.parent_id is not None:
        if answered is None:
            answered = threads.authors_of([comment.parent_id])
        replying_to = answered.get(comment.parent_id)
    shown = trees.shown_as(comment, viewer) or trees.Shown.DELETED_PLACEHOLDER
    return trees.Node(comment=comment, shown=shown, level=level, replying_to=replying_to)


def threads_markup(html: str) -> Markup:
    """The threads' HTML for the page template: made by our templates from sanitized text."""
    return Markup(html)  # noqa: S704 - rendered by autoescaping templates
