"""Markdown to safe HTML: the only module that touches the Markdown parser and the sanitizers.

Everything a user writes goes through :func:`render_markdown` (or :func:`render_comment`, the
same pipeline that also reports ``@mentions``) and nowhere else, so that this one file can be
audited on its own and the sanitizer swapped without touching any caller.
No other module may import ``bleach``, ``nh3`` or ``markdown_it``.

The pipeline, in order:

1. **markdown-it-py** renders CommonMark with ``html=False``: raw HTML in the input comes out
   as escaped text, and the parser itself refuses ``javascript:``, ``vbscript:``, ``file:``
   and ``data:`` link targets. Strikethrough (``~~x~~``, rendered as ``<del>``) and
   linkification are on. Images, headings and setext headings are switched off because
   their tags are not in the allowlist (``![x](u)`` becomes ``!`` plus a link, ``# x`` stays
   a paragraph). Bare ``http://``, ``https://``, ``www.`` and ``mailto:`` addresses become
   links through linkify-it-py, which works on the parser's text tokens and therefore never
   inside code spans, code blocks or existing links. Fuzzy host names without ``www.``
   (``setup.py``, ``node.js``) and bare e-mail addresses are deliberately *not* linked.
2. **bleach** (the default, the client's choice) or **nh3** cleans that HTML to the allowlist
   ``p br em strong code pre blockquote ul ol li a hr del s``; attributes ``href``/``title``
   on ``a`` and ``start`` on ``ol``; link schemes ``http``, ``https``, ``mailto``.
   bleach 6.4.0 is its final release: upstream declared it unmaintained, with no further
   releases even for security fixes. nh3 (Rust's ammonia, maintained and roughly an order of
   magnitude faster) is the drop-in replacement. The backend is chosen once per process
   with :func:`configure` (the app factory calls it with ``FORUM_SANITIZER``); tests that
   compare backends pass one explicitly: ``render_markdown(text, "nh3")``.
3. **A final pass of our own** re-parses the cleaned HTML with the standard library's
   ``html.parser`` and writes it out again from scratch: only allowlisted tags and attributes
   survive, every text node and attribute is re-escaped, every link's ``href`` is checked
   again and every link gets ``rel="nofollow ugc noopener"``. This pass exists because
   bleach 6.4.0 keeps ``href="javascript:123"`` (its URL parser reads ``javascript:`` plus
   digits as host and port; ``vbscript:`` and ``data:`` likewise), and because it makes both
   backends produce byte-identical output for ordinary Markdown.

The final pass also finds ``@name`` mentions in text outside links and code, in the same
pass, so a comment is rendered once: :func:`render_comment` returns the HTML with each
mention left as a slot, and the names; the caller resolves the names to accounts (one
query) and :meth:`Rendered.linked` fills the slots, cheaply, with profile links.

Link policy of the final pass: an ``href`` is kept only when, after decoding HTML entities
(repeatedly) and removing every white-space, control and invisible formatting character
anywhere in it, it is either

* an absolute URL whose scheme, compared case-insensitively, is ``http``, ``https`` or
  ``mailto``; or
* a same-site reference starting with ``/`` (a path, or a protocol-relative ``//host`` link,
  which resolves to http or https) or ``#`` (a fragment).

Every other target, including scheme-less relative paths such as ``page.html`` or
``?q=1``, is dropped, and the ``<a>`` is unwrapped so that only its text remains.

The parser (with its linkifier) and bleach's ``Cleaner`` carry internal state while they
work and bleach documents its ``Cleaner`` as not thread-safe, so both are built once per
thread and cached in a ``threading.local``; nh3's ``Cleaner`` is immutable and shared.

Render at write time and store the HTML: control characters are stripped before this
function is called (``forum.services.text``), and bodies are capped in length upstream.
"""

from __future__ import annotations

import html
import re
import threading
from html.parser import HTMLParser

import bleach
import nh3
from linkify_it import LinkifyIt
from linkify_it.main import Match
from markdown_it import MarkdownIt
from markdown_it.renderer import RendererHTML
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict

from forum.services.rendered import LINK_REL, Mention, Rendered
from forum.services.usernames import MENTION_PATTERN

__all__ = ["BACKENDS", "Rendered", "configure", "configured_backend", "render_comment"]
__all__ += ["render_markdown"]

_ALLOWED_TAGS = frozenset(
    {"p", "br", "em", "strong", "code", "pre", "blockquote", "ul", "ol", "li", "a", "hr"}
    | {"del", "s"}
)
# Articles are written by staff, not readers, but go through the same pipeline; they may
# also use headings and tables. Readers' comments get the smaller set above.
_ARTICLE_TAGS = _ALLOWED_TAGS | {
    "h1",
    "h2",
    "h3",
    "h4",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
}
# Bios on profiles: a comment's tags, without links for accounts not trusted yet.
_PROFILE_TAGS = {
    "comment": _ALLOWED_TAGS,
    "article": _ARTICLE_TAGS,
    "bio": _ALLOWED_TAGS,
    "bio_without_links": _ALLOWED_TAGS - {"a"},
}
_VOID_TAGS = frozenset({"br", "hr"})
_ALLOWED_SCHEMES = frozenset({"http", "https", "mailto"})

# Text that linkify may turn into a link: explicit web and mailto addresses and "www." hosts.
_LINKIFY_PREFIXES = ("http://", "https://", "www.", "mailto:")
_LINKIFY_HINT = re.compile(r"https?://|www\.|mailto:", re.IGNORECASE)

# Characters a browser ignores in a URL, or that hide a scheme from a human reader: all
# white space (ASCII and Unicode), C0 and C1 controls, DEL, soft hyphen, and the invisible
# formatting characters (zero-width space/joiners, bidi marks and overrides, word joiner,
# invisible operators, BOM).
_URL_INVISIBLE = re.compile(
    "[\\s\x00-\x20\x7f-\xa0\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f"
    "\u1680\u2000-\u200f\u2028-\u202f\u205f-\u206f\u3000\u3164\ufe00-\ufe0f\ufeff\uffa0"
    "\ufff0-\ufff8]"
)
_URL_SCHEME = re.compile(r"([a-z][a-z0-9+.\-]*):")
_START_DIGITS = re.compile(r"[0-9]{1,9}")

_BLEACH_ATTRIBUTES = {"a": ["href", "title"], "ol": ["start"]}
_NH3_ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}}

_NH3_CLEANERS = {
    profile: nh3.Cleaner(
        tags=set(tags),
        attributes=_NH3_ATTRIBUTES,
        url_schemes=set(_ALLOWED_SCHEMES),
        link_rel=None,  # the final pass sets rel on every link, for both backends
        strip_comments=True,
    )
    for profile, tags in _PROFILE_TAGS.items()
}

_per_thread = threading.local()


BACKENDS = ("bleach", "nh3")
# The backend used when a caller names none: set once per process by configure(). One
# process serves one app in production; tests that build apps with another backend call
# the factory, which calls configure() again.
_configured_backend = "bleach"


def configure(backend: str) -> None:
    """Choose the sanitizer every render uses from now on: ``"bleach"`` or ``"nh3"``.

    Called once by the app factory with ``FORUM_SANITIZER``; raises :class:`ValueError` for
    any other name, so a misspelt setting stops the app at start rather than at first post."""
    global _configured_backend
    _configured_backend = _check_backend(backend)


def configured_backend() -> str:
    """The sanitizer chosen with :func:`configure` (``"bleach"`` until then)."""
    return _configured_backend


def _check_backend(backend: str) -> str:
    if backend not in BACKENDS:
        raise ValueError(f"unknown sanitizer {backend!r}: expected 'bleach' or 'nh3'")
    return backend


def render_markdown(text: str, backend: str | None = None, *, profile: str = "comment") -> str:
    """Render user-written Markdown to HTML that is safe to insert into a page.

    ``backend`` overrides the configured sanitizer (:func:`configure`): ``"bleach"`` or
    ``"nh3"``; any other value raises :class:`ValueError`. Both produce the same HTML for
    ordinary Markdown. The result uses only the tags and attributes listed in the module
    docstring, and every link has an http, https, mailto, ``/`` or ``#`` target and
    ``rel="nofollow ugc noopener"``. ``@name`` mentions stay plain text here.

    ``profile`` is ``"comment"`` (default) or ``"article"``, which also allows headings and
    tables (for the publisher's articles; everything else is the same); ``"bio"`` is a
    comment's, and ``"bio_without_links"`` the same with every link reduced to its text.
    """
    return _render(text, backend, profile).html


def render_comment(text: str, backend: str | None = None) -> Rendered:
    """Render a comment once: its HTML with mention slots, and the names it mentions.

    ``Rendered.mentions`` holds the lower-cased names written as ``@name`` outside code
    and links, found in the rendered output rather than the source, so a name counts
    exactly where the reader sees plain text. Link the existing ones with
    :meth:`Rendered.linked`."""
    return _render(text, backend, "comment")


def _render(text: str, backend: str | None, profile: str) -> Rendered:
    if profile not in _PROFILE_TAGS:
        raise ValueError(f"unknown profile {profile!r}: expected one of {sorted(_PROFILE_TAGS)}")
    backend = _configured_backend if backend is None else _check_backend(backend)
    clean = _bleach_cleaner(profile).clean if backend == "bleach" else _NH3_CLEANERS[profile].clean
    finisher = _Finisher(_PROFILE_TAGS[profile])
    finisher.feed(clean(_markdown(profile).render(text)))
    return finisher.result()


# --- Stage 1: Markdown ---------------------------------------------------------------------


class _ExplicitLinkify(LinkifyIt):
    """A ``LinkifyIt`` that keeps only matches written as a full address or ``www.`` host.

    Fuzzy host names (``setup.py``, ``x.md``) are left as text: in a technical discussion
    they are far more often file names than links.

    Because only those matches are kept, a cheap substring test stands in front of
    linkify-it's large Unicode regular expressions, which otherwise cost more than the whole
    rest of the Markdown parse.
    """

    def pretest(self, text: str) -> bool:
        return _LINKIFY_HINT.search(text) is not None

    def test(self, text: str) -> bool:
        return _LINKIFY_HINT.search(text) is not None and bool(super().test(text))

    def match(self, text: str) -> list[Match] | None:
        kept = [m for m in super().match(text) or () if _explicit(m)]
        return kept or None

    def match_at_start(self, text: str) -> Match | None:
        found = super().match_at_start(text)
        return found if found is not None and _explicit(found) else None


def _explicit(match: Match) -> bool:
    return match.raw.lower().startswith(_LINKIFY_PREFIXES)


def _render_del(
    self: RendererHTML, tokens: list[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    """Strikethrough as ``<del>`` (markdown-it-py emits ``<s>``; GitHub and CommonMark
    extensions use ``<del>``)."""
    return "<del>" if tokens[idx].nesting == 1 else "</del>"


def _build_markdown(profile: str) -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "linkify": True})
    md.enable(["strikethrough", "linkify"])
    if profile == "article":
        md.enable(["table"])
        md.disable(["image"])
    else:
        md.disable(["image", "heading", "lheading"])
    md.linkify = _ExplicitLinkify(options={"fuzzy_email": False})
    md.linkify.add("ftp:", None).add("//", None)
    md.add_render_rule("s_open", _render_del)
    md.add_render_rule("s_close", _render_del)
    return md


def _markdown(profile: str = "comment") -> MarkdownIt:
    attr = f"markdown_{profile}"
    md: MarkdownIt | None = getattr(_per_thread, attr, None)
    if md is None:
        md = _build_markdown(profile)
        setattr(_per_thread, attr, md)
    return md


# --- Stage 2: bleach (nh3's cleaner is built above) ---------------------------------------


def _bleach_cleaner(profile: str = "comment") -> bleach.Cleaner:
    attr = f"bleach_cleaner_{profile}"
    cleaner: bleach.Cleaner | None = getattr(_per_thread, attr, None)
    if cleaner is None:
        cleaner = bleach.Cleaner(
            tags=_PROFILE_TAGS[profile],
            attributes=_BLEACH_ATTRIBUTES,
            protocols=_ALLOWED_SCHEMES,
            strip=True,
            strip_comments=True,
        )
        setattr(_per_thread, attr, cleaner)
    return cleaner


# --- Stage 3: our own final pass -----------------------------------------------------------


def _is_safe_href(value: str) -> bool:
    """True if ``value`` (an already entity-decoded attribute value) is a link we keep.

    The value and each further entity-decoding of it must pass: a browser decodes only
    once, but a target that turns dangerous after a second decoding is not one we want.
    """
    for _ in range(4):
        if not _is_safe_decoded_href(value):
            return False
        decoded = html.unescape(value)
        if decoded == value:
            return True
        value = decoded
    return False  # still changing after four decodings: refuse


def _is_safe_decoded_href(value: str) -> bool:
    normalized = _URL_INVISIBLE.sub("", value).lower()
    if normalized.startswith(("/", "#")):
        return True
    scheme = _URL_SCHEME.match(normalized)
    return scheme is not None and scheme.group(1) in _ALLOWED_SCHEMES


class _Finisher(HTMLParser):
    """Re-serialises sanitizer output: allowlist, link policy, rel, and fresh escaping.

    It also keeps its own stack of open elements, so that whatever it is fed, the output
    is well formed: stray end tags are ignored and unclosed elements are closed at the end.
    """

    def __init__(self, allowed_tags: frozenset[str] = _ALLOWED_TAGS) -> None:
        super().__init__(convert_charrefs=True)
        self._allowed = allowed_tags
        self._parts: list[str | Mention] = []
        self._mentions: set[str] = set()
        self._open: list[tuple[str, bool]] = []  # (tag, was its start tag written?)

    def result(self) -> Rendered:
        self.close()
        while self._open:
            self._close_top()
        return Rendered(self._parts, frozenset(self._mentions))

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in self._allowed:
            return
        values: dict[str, str] = {}
        for name, value in attrs:
            values.setdefault(name, value or "")  # browsers keep the first duplicate
        if tag == "a":
            href = values.get("href")
            if href is None or not _is_safe_href(href):
                self._open.append(("a", False))  # unwrap: keep the text, drop the link
                return
            title = values.get("title")
            title_attr = f' title="{_escape_attr(title)}"' if title else ""
            self._parts.append(f'<a href="{_escape_attr(href)}"{title_attr} rel="{LINK_REL}">')
        elif tag == "ol" and _START_DIGITS.fullmatch(values.get("start", "")):
            self._parts.append(f'<ol start="{values["start"]}">')
        else:
            self._parts.append(f"<{tag}>")
        if tag not in _VOID_TAGS:
            self._open.append((tag, True))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        # HTML ignores the "/" of a non-void "<x/>": it is a start tag only.
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if not any(open_tag == tag for open_tag, _ in self._open):
            return
        while self._open[-1][0] != tag:
            self._close_top()
        self._close_top()

    def handle_data(self, data: str) -> None:
        if "@" not in data or any(tag in ("a", "code", "pre") for tag, _ in self._open):
            self._parts.append(html.escape(data, quote=False))
            return
        # Escape the text between mentions; each mention becomes a slot for Rendered.linked.
        position = 0
        for match in MENTION_PATTERN.finditer(data):
            self._parts.append(html.escape(data[position : match.start()], quote=False))
            self._parts.append(Mention(match.group(1)))
            self._mentions.add(match.group(1).lower())
            position = match.end()
        self._parts.append(html.escape(data[position:], quote=False))

    # Comments, doctypes, processing instructions and CDATA sections are dropped: the
    # inherited handle_comment, handle_decl, handle_pi and unknown_decl do nothing.

    def _close_top(self) -> None:
        tag, written = self._open.pop()
        if written:
            self._parts.append(f"</{tag}>")


def _escape_attr(value: str) -> str:
    return html.escape(value, quote=True)
