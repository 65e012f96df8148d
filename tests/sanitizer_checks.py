"""Test oracles for user-content HTML: is a rendered fragment safe to put into a page?

Plain module, no fixtures: import it from any test.

``assert_html_is_safe(fragment)`` checks the HTML of one rendered comment body (not a whole
page: a page legitimately has ``<form>``, ``<script>`` and ``<meta>``). It deliberately does
not import ``forum.services.sanitize``: it is an independent second opinion, with its own
copy of the allowlist, so a mistake in the module's constants cannot also hide the mistake
from the tests.

``load_vectors()`` returns the hostile inputs of ``tests/data/xss_vectors.txt`` (format in
that file's header).
"""

from __future__ import annotations

import html
import re
import unicodedata
from html.parser import HTMLParser
from pathlib import Path

VECTORS_PATH = Path(__file__).parent / "data" / "xss_vectors.txt"

ALLOWED_TAGS = frozenset(
    {"p", "br", "em", "strong", "code", "pre", "blockquote", "ul", "ol", "li", "a", "hr"}
    | {"del", "s"}
)
ARTICLE_TAGS = ALLOWED_TAGS | {"h1", "h2", "h3", "h4", "table", "thead", "tbody", "tr", "th", "td"}
ALLOWED_ATTRIBUTES: dict[str, frozenset[str]] = {
    "a": frozenset({"href", "title", "rel"}),
    "ol": frozenset({"start"}),
}
SAFE_SCHEMES = frozenset({"http", "https", "mailto"})

# Attributes that hold a URL somewhere in HTML, SVG or MathML (checked whatever the element,
# in case the allowlist above is ever widened).
URL_ATTRIBUTES = frozenset(
    {
        "href",
        "src",
        "action",
        "formaction",
        "xlink:href",
        "data",
        "poster",
        "background",
        "codebase",
        "cite",
        "longdesc",
        "lowsrc",
        "dynsrc",
        "ping",
        "manifest",
        "icon",
        "usemap",
        "profile",
        "classid",
        "archive",
        "srcdoc",
        "to",
        "values",
        "from",
        "by",
    }
)

_SCHEME = re.compile(r"([a-z][a-z0-9+.\-]*):")
# A tag as the renderer writes it: lower-case name, double-quoted attribute values without
# raw "<", ">" or '"'. Used for a lexical check that does not depend on any HTML parser.
_WELL_FORMED_TAG = re.compile(r'</?[a-z][a-z0-9]*(?:\s+[a-z][a-z0-9:_-]*="[^"<>]*")*\s*/?>')
_ESCAPE = re.compile(r"\\(?:([ntr\\])|x([0-9A-Fa-f]{2})|u([0-9A-Fa-f]{4})|U([0-9A-Fa-f]{8}))")
_SIMPLE_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\"}


def _invisible(ch: str) -> bool:
    return ch.isspace() or unicodedata.category(ch) in {"Cc", "Cf", "Zs", "Zl", "Zp"}


def url_is_safe(value: str) -> bool:
    """True if ``value`` (an attribute value as a parser returns it, entities decoded once)
    is a relative URL or an absolute one with an http, https or mailto scheme.

    Stricter than a browser on purpose: white space, control and invisible formatting
    characters are removed *anywhere* before looking for a scheme (browsers strip only some),
    and the value is entity-decoded again until it stops changing, each stage being checked.
    """
    current = value
    for _ in range(5):
        normalized = "".join(ch for ch in current if not _invisible(ch)).lower()
        scheme = _SCHEME.match(normalized)
        if scheme is not None and scheme.group(1) not in SAFE_SCHEMES:
            return False
        decoded = html.unescape(current)
        if decoded == current:
            return True
        current = decoded
    return False


class _Inspector(HTMLParser):
    def __init__(self, allowed_tags: frozenset[str] = ALLOWED_TAGS) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self.allowed_tags = allowed_tags

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in self.allowed_tags:
            self.problems.append(f"element <{tag}> is not allowed")
        allowed = ALLOWED_ATTRIBUTES.get(tag, frozenset())
        for name, value in attrs:
            if name.startswith("on"):
                self.problems.append(f"event handler {name}= on <{tag}>")
            elif name == "style":
                self.problems.append(f"style= on <{tag}>")
            elif name not in allowed:
                self.problems.append(f"attribute {name}= is not allowed on <{tag}>")
            if (
                name in URL_ATTRIBUTES or name.endswith(("href", "src", "action"))
            ) and not url_is_safe(value or ""):
                self.problems.append(f"unsafe URL {name}={value!r} on <{tag}>")
        if tag == "a":
            rel = dict(attrs).get("rel") or ""
            missing = {"nofollow", "ugc", "noopener"} - set(rel.split())
            if missing:
                self.problems.append(f"<a> without rel {' '.join(sorted(missing))}")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)

    def handle_comment(self, data: str) -> None:
        self.problems.append(f"comment <!--{data}-->")

    def handle_decl(self, decl: str) -> None:
        self.problems.append(f"declaration <!{decl}>")

    def unknown_decl(self, data: str) -> None:
        self.problems.append(f"markup declaration <![{data}]>")

    def handle_pi(self, data: str) -> None:
        self.problems.append(f"processing instruction <?{data}>")


def html_problems(fragment: str, allowed_tags: frozenset[str] = ALLOWED_TAGS) -> list[str]:
    """Everything unsafe in ``fragment``; empty when it is safe. See assert_html_is_safe."""
    inspector = _Inspector(allowed_tags)
    inspector.feed(fragment)
    inspector.close()
    problems = inspector.problems
    # Lexical second opinion: once the well-formed tags are removed, no "<" may remain.
    # Catches markup a lenient parser would read as text but a browser might not.
    leftover = _WELL_FORMED_TAG.sub("", fragment)
    if "<" in leftover:
        at = leftover.index("<")
        problems.append(f"raw '<' outside a well-formed tag: {leftover[at : at + 40]!r}")
    return problems


def assert_html_is_safe(html: str, *, allow_article_tags: bool = False) -> None:
    """Fail unless ``html`` (one rendered comment body) is safe to insert into a page.

    Parsed with the standard library's ``html.parser``. Fails on: any element outside the
    allowlist (script, style, iframe, object, embed, svg, math, img, form, input, meta, base,
    link, template, noscript, ...); any attribute starting with ``on``; any ``style``
    attribute; any other attribute outside the allowlist (``href``, ``title``, ``rel`` on
    ``a``; ``start`` on ``ol``), which also rules out ``id``/``name`` clobbering and
    ``hx-*``/``data-*`` gadgets; a URL attribute (href, src, action, formaction, xlink:href,
    ...) that is not relative, http, https or mailto once entity-decoded and stripped of
    white-space, control and invisible characters; an ``<a>`` without
    ``rel="nofollow ugc noopener"``; comments, declarations, processing instructions; and
    any ``<`` not part of a well-formed tag.
    """
    problems = html_problems(html, ARTICLE_TAGS if allow_article_tags else ALLOWED_TAGS)
    assert not problems, "unsafe HTML:\n  " + "\n  ".join(problems) + f"\nin: {html!r}"


def _unescape_line(line: str) -> str:
    def replace(match: re.Match[str]) -> str:
        simple, *code_points = match.groups()
        if simple:
            return _SIMPLE_ESCAPES[simple]
        return chr(int(next(c for c in code_points if c), 16))

    return _ESCAPE.sub(replace, line)


def load_vectors(path: Path = VECTORS_PATH) -> list[str]:
    """The hostile inputs of ``tests/data/xss_vectors.txt``, escapes decoded, in file order."""
    vectors = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        vectors.append(_unescape_line(line))
    return vectors
