"""forum.services.sanitize.render_markdown: hostile input, ordinary Markdown, both backends.

Pure-function tests: no app, no database, no fixture from conftest.py.
"""

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from forum.services import sanitize
from forum.services.sanitize import render_markdown
from tests.sanitizer_checks import assert_html_is_safe, html_problems, load_vectors

BACKENDS = ("bleach", "nh3")
VECTORS = load_vectors()
VECTOR_IDS = [f"v{number:03d}" for number in range(1, len(VECTORS) + 1)]
REL = 'rel="nofollow ugc noopener"'


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


class _RawHTML:
    """Stands in for the Markdown parser: hands the input to the sanitizer unchanged."""

    def render(self, text: str) -> str:
        return text


@pytest.fixture
def markdown_bypassed(monkeypatch: pytest.MonkeyPatch) -> None:
    """Feed raw HTML straight to the sanitizer stage, as if the Markdown parser had let it
    through (a parser bug, or html=True by mistake): the layers after it must still hold."""
    monkeypatch.setattr(sanitize, "_markdown", lambda profile="comment": _RawHTML())


# --- Hostile input -------------------------------------------------------------------------


def test_the_vector_file_has_at_least_170_vectors() -> None:
    assert len(VECTORS) >= 170
    assert len(set(VECTORS)) == len(VECTORS), "duplicate vectors"


@pytest.mark.parametrize("vector", VECTORS, ids=VECTOR_IDS)
def test_every_vector_renders_to_safe_html(vector: str, backend: str) -> None:
    assert_html_is_safe(render_markdown(vector, backend))


@pytest.mark.parametrize("vector", VECTORS, ids=VECTOR_IDS)
def test_every_vector_is_safe_even_as_raw_html_past_the_parser(
    vector: str, backend: str, markdown_bypassed: None
) -> None:
    assert_html_is_safe(render_markdown(vector, backend))


@pytest.mark.parametrize(
    "href",
    [
        "javascript:123",  # kept by bleach 6.4.0: read as host "javascript" and port 123
        "JaVaScRiPt:123",
        "vbscript:123",
        "data:123",
        "java&#x09;script:123",  # kept by bleach 6.4.0 too; a browser drops the tab
        "java&Tab;script:alert(1)",
        " \tjavascript:alert(1)",
        "&#106;avascript:123",
        "&amp;#106;avascript:123",
        "\u200bjavascript:123",
        "javascript&colon;123",
        "page.html",  # scheme-less relative paths are not kept (see the module docstring)
        "",
    ],
)
def test_final_pass_drops_links_the_sanitizers_let_through(
    href: str, backend: str, markdown_bypassed: None
) -> None:
    assert render_markdown(f'<p><a href="{href}" title="t">x</a></p>', backend) == "<p>x</p>"


def test_markdown_link_with_javascript_123_has_no_href(backend: str) -> None:
    for text in ("[x](javascript:123)", "[x]: javascript:123\n\n[x]", "<javascript:123>"):
        html = render_markdown(text, backend)
        assert "href" not in html
        assert "javascript:123" in html  # shown as text


@pytest.mark.parametrize(
    "raw",
    [
        '<a href="https://e.com" id="x" name="y" class="z" target="_blank" rel="opener">a</a>',
        '<ol start="2" type="a" reversed><li>a</li></ol>',
        '<p style="color:red" onclick="x()" hx-get="/logout" data-x="1">a</p>',
        "<em><strong>unclosed",
        "</p></a>stray end tags<br/><hr/>",
        "<!-- comment --><!DOCTYPE html><?pi x?><![CDATA[x]]>text",
    ],
)
def test_final_pass_output_is_allowlisted_and_well_formed(
    raw: str, backend: str, markdown_bypassed: None
) -> None:
    html = render_markdown(raw, backend)
    assert html_problems(html) == []
    assert html.count("<a ") == html.count("</a>")


def test_final_pass_keeps_only_the_allowed_link_and_list_attributes(
    backend: str, markdown_bypassed: None
) -> None:
    html = render_markdown(
        '<a href="https://e.com" id="x" title="T" rel="opener" target="_blank">a</a>'
        '<ol start="2" type="a"><li>b</li></ol><ol start="1e9"><li>c</li></ol>',
        backend,
    )
    assert html == (
        f'<a href="https://e.com" title="T" {REL}>a</a>'
        '<ol start="2"><li>b</li></ol><ol><li>c</li></ol>'
    )


# --- Ordinary Markdown ---------------------------------------------------------------------

ORDINARY = {
    "emphasis": ("*one* _two_", "<p><em>one</em> <em>two</em></p>\n"),
    "strong": ("**one** __two__", "<p><strong>one</strong> <strong>two</strong></p>\n"),
    "inline code": ("use `x < y && z`", "<p>use <code>x &lt; y &amp;&amp; z</code></p>\n"),
    "fenced code keeps script as text": (
        '```html\n<script>alert("x")</script>\n```',
        '<pre><code>&lt;script&gt;alert("x")&lt;/script&gt;\n</code></pre>\n',
    ),
    "indented code": ("    <b>x</b>", "<pre><code>&lt;b&gt;x&lt;/b&gt;\n</code></pre>\n"),
    "block quote": ("> quoted\n> text", "<blockquote>\n<p>quoted\ntext</p>\n</blockquote>\n"),
    "unordered list": ("- a\n- b", "<ul>\n<li>a</li>\n<li>b</li>\n</ul>\n"),
    "ordered list": ("1. a\n2. b", "<ol>\n<li>a</li>\n<li>b</li>\n</ol>\n"),
    "ordered list with start": ("3. c\n4. d", '<ol start="3">\n<li>c</li>\n<li>d</li>\n</ol>\n'),
    "nested list": ("- a\n  - b", "<ul>\n<li>a\n<ul>\n<li>b</li>\n</ul>\n</li>\n</ul>\n"),
    "link": (
        "[docs](https://example.com/docs)",
        f'<p><a href="https://example.com/docs" {REL}>docs</a></p>\n',
    ),
    "link with title": (
        '[docs](https://example.com "The \\"docs\\"")',
        f'<p><a href="https://example.com" title="The &quot;docs&quot;" {REL}>docs</a></p>\n',
    ),
    "reference link": (
        "[docs][d]\n\n[d]: https://example.com/d",
        f'<p><a href="https://example.com/d" {REL}>docs</a></p>\n',
    ),
    "autolink": (
        "<https://example.com/a>",
        f'<p><a href="https://example.com/a" {REL}>https://example.com/a</a></p>\n',
    ),
    "mailto link": (
        "[mail us](mailto:team@example.com)",
        f'<p><a href="mailto:team@example.com" {REL}>mail us</a></p>\n',
    ),
    "same-site links": (
        "[a](/articles/1) [b](#comment-2)",
        f'<p><a href="/articles/1" {REL}>a</a> <a href="#comment-2" {REL}>b</a></p>\n',
    ),
    "scheme-less relative link is unwrapped": ("[a](page.html)", "<p>a</p>\n"),
    "bare URL": (
        "see https://example.com/a?b=1&c=2.",
        f'<p>see <a href="https://example.com/a?b=1&amp;c=2" {REL}>'
        "https://example.com/a?b=1&amp;c=2</a>.</p>\n",
    ),
    "bare URL in parentheses": (
        "(http://example.com/x)",
        f'<p>(<a href="http://example.com/x" {REL}>http://example.com/x</a>)</p>\n',
    ),
    "bare www host": (
        "at www.example.com/path, then",
        f'<p>at <a href="http://www.example.com/path" {REL}>www.example.com/path</a>, then</p>\n',
    ),
    "bare URL in emphasis": (
        "**https://example.com**",
        f'<p><strong><a href="https://example.com" {REL}>https://example.com</a></strong></p>\n',
    ),
    "file names are not links": ("edit setup.py and x.md", "<p>edit setup.py and x.md</p>\n"),
    "bare e-mail is not a link": ("write to a@example.com", "<p>write to a@example.com</p>\n"),
    "bare ftp URL is not a link": ("ftp://example.com/f", "<p>ftp://example.com/f</p>\n"),
    "URL in inline code is not linked": (
        "`https://example.com`",
        "<p><code>https://example.com</code></p>\n",
    ),
    "URL in code block is not linked": (
        "```\nsee https://example.com and www.example.com\n```",
        "<pre><code>see https://example.com and www.example.com\n</code></pre>\n",
    ),
    "URL as link text is not linked twice": (
        "[https://a.example](https://b.example)",
        f'<p><a href="https://b.example" {REL}>https://a.example</a></p>\n',
    ),
    "thematic break": ("a\n\n---\n\nb", "<p>a</p>\n<hr>\n<p>b</p>\n"),
    "thematic break with stars": ("***", "<hr>\n"),
    "strikethrough": ("~~gone~~ here", "<p><del>gone</del> here</p>\n"),
    "hard line break with spaces": ("one  \ntwo", "<p>one<br>\ntwo</p>\n"),
    "hard line break with backslash": ("one\\\ntwo", "<p>one<br>\ntwo</p>\n"),
    "soft line break stays a newline (CommonMark)": ("one\ntwo", "<p>one\ntwo</p>\n"),
    "paragraphs": ("one\n\ntwo", "<p>one</p>\n<p>two</p>\n"),
    "raw HTML is shown as text": (
        '<b onclick="x()">hi</b>',
        '<p>&lt;b onclick="x()"&gt;hi&lt;/b&gt;</p>\n',
    ),
    "entities": ("AT&T &copy; &amp; &lt;", "<p>AT&amp;T © &amp; &lt;</p>\n"),
    "heading syntax stays a paragraph": ("# Title", "<p># Title</p>\n"),
    "setext heading becomes paragraph and rule": ("Title\n---", "<p>Title</p>\n<hr>\n"),
    "image syntax becomes a link": (
        "![a cat](https://example.com/cat.png)",
        f'<p>!<a href="https://example.com/cat.png" {REL}>a cat</a></p>\n',
    ),
    "empty": ("", ""),
}


@pytest.mark.parametrize(("text", "expected"), ORDINARY.values(), ids=ORDINARY.keys())
def test_ordinary_markdown(text: str, expected: str, backend: str) -> None:
    html = render_markdown(text, backend)
    assert html == expected
    assert_html_is_safe(html)


UNICODE = {
    "emoji": "emoji 😀 👍🏽 family 👨\u200d👩\u200d👧 flag 🏳️\u200d🌈",
    "right to left": "RTL: مرحبا بالعالم — שלום עולם",
    "bidi marks and isolates": "mark\u200f! \u200e iso\u2067x\u2069 over\u202eabc\u202c",
    "combining marks": "e\u0301 n\u0303 a\u030a Z\u0324\u0354\u0367\u0311\u0313",
    "zero width": "a\u200bb\u200cc\u200dd\u2060e\ufefff",
    "non-breaking and other spaces": "a\u00a0b\u2009c\u3000d",
    "astral and CJK": "\U0001d573\U0001d58a\U0001d591\U0001d591\U0001d594 漢字 かな 한글",
}


@pytest.mark.parametrize("text", UNICODE.values(), ids=UNICODE.keys())
def test_unicode_is_preserved_exactly(text: str, backend: str) -> None:
    assert render_markdown(text, backend) == f"<p>{text}</p>\n"


def test_backends_agree_on_ordinary_markdown() -> None:
    samples = [text for text, _ in ORDINARY.values()] + list(UNICODE.values())
    samples.append(
        "Thanks for the **write-up**! I tried `--fast` on https://example.com/docs.\n\n"
        "> Cache rebuilt on deploy.\n\n1. See www.example.org/issues/42 for the ~~old~~ bug.\n"
        '2. The [notes](https://example.com/notes "Notes") say otherwise.\n\n'
        "```\npip install forum\n```\nCheers 😀"
    )
    for text in samples:
        assert render_markdown(text, "bleach") == render_markdown(text, "nh3"), text


@pytest.mark.parametrize("name", ["", "Bleach", "NH3", "ammonia", "html5lib", "none"])
def test_unknown_sanitizer_is_rejected(name: str) -> None:
    with pytest.raises(ValueError, match="sanitizer"):
        render_markdown("hello", name)


# --- Robustness ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "unit", ["[", "![", "[a](", "*a", "_", "`", "<", "> ", "- ", "~~", "http://a.example/("]
)
def test_pathological_10000_character_bodies_render_quickly(unit: str, backend: str) -> None:
    body = (unit * (10_000 // len(unit) + 1))[:10_000]
    # This thread's CPU time, not the wall clock: on a shared machine (or beside another
    # pytest-xdist worker) waiting for a core is not the renderer being slow.
    started = time.thread_time()
    html = render_markdown(body, backend)
    elapsed = time.thread_time() - started
    assert elapsed < 2.0, f"{elapsed:.2f} s for 10,000 x {unit!r}"  # a guard, not a benchmark
    assert_html_is_safe(html)


def test_concurrent_renders_do_not_mix_up_comments(backend: str) -> None:
    """The parser's linkifier and bleach's Cleaner keep state while they work; they are
    per thread, so parallel requests must each get their own comment back."""
    bodies = [
        f"comment {n}: see https://example.com/{n} and www.example.org/{n} *{n}*" for n in range(40)
    ]
    expected = [render_markdown(body, backend) for body in bodies]
    barrier = threading.Barrier(8)

    def render_all(offset: int) -> list[str]:
        barrier.wait()
        order = bodies[offset:] + bodies[:offset]
        return [render_markdown(body, backend) for body in order * 5]

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(render_all, range(8)))
    for offset, rendered in enumerate(results):
        order = expected[offset:] + expected[:offset]
        assert rendered == order * 5


# --- The oracle itself -----------------------------------------------------------------------

_LINK = 'rel="nofollow ugc noopener"'


@pytest.mark.parametrize(
    "fragment",
    [
        "<script>alert(1)</script>",
        "<img src=x>",
        "<svg></svg>",
        "<math></math>",
        "<iframe></iframe>",
        "<style></style>",
        "<template></template>",
        "<noscript></noscript>",
        "<p onclick=x>a</p>",
        '<p style="color:red">a</p>',
        '<p id="location">a</p>',
        f'<a href="javascript:1" {_LINK}>a</a>',
        f'<a href="JaVa&#x09;Script:1" {_LINK}>a</a>',
        f'<a href="&amp;#106;avascript:1" {_LINK}>a</a>',
        f'<a href="\u200bjavascript:1" {_LINK}>a</a>',
        f'<a href="data:text/html,x" {_LINK}>a</a>',
        '<a href="https://example.com">no rel</a>',
        "<!-- comment -->",
        '<a title="<img src=x>" href="/" rel="nofollow ugc noopener">a</a>',
    ],
)
def test_the_oracle_rejects_unsafe_html(fragment: str) -> None:
    with pytest.raises(AssertionError):
        assert_html_is_safe(fragment)


@pytest.mark.parametrize(
    "fragment",
    [
        "",
        "plain &lt;script&gt; text &amp; more",
        f'<p><a href="https://example.com/?a=1&amp;b=2" title="t" {_LINK}>a</a></p>',
        f'<a href="mailto:a@example.com" {_LINK}>a</a><a href="/x" {_LINK}>b</a>',
        f'<a href="#c1" {_LINK}>a</a><a href="page.html" {_LINK}>b</a>',
        '<ol start="3"><li><del>x</del><s>y</s></li></ol><hr><br><pre><code>c</code></pre>',
    ],
)
def test_the_oracle_accepts_safe_html(fragment: str) -> None:
    assert_html_is_safe(fragment)


# --- The article profile ---------------------------------------------------------------------


@pytest.mark.parametrize("backend", BACKENDS)
def test_article_profile_keeps_headings_and_tables(backend: str) -> None:
    html = render_markdown(
        "## Basics\n\n| a | b |\n|---|---|\n| 1 | 2 |", backend, profile="article"
    )
    assert "<h2>Basics</h2>" in html
    assert "<table>" in html and "<td>1</td>" in html


@pytest.mark.parametrize("backend", BACKENDS)
def test_comment_profile_keeps_headings_as_text(backend: str) -> None:
    html = render_markdown("## Basics", backend)
    assert "<h2>" not in html and "Basics" in html


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("vector", VECTORS, ids=VECTOR_IDS)
def test_every_vector_is_safe_in_the_article_profile(vector: str, backend: str) -> None:
    assert_html_is_safe(
        render_markdown(vector, backend, profile="article"), allow_article_tags=True
    )


def test_unknown_profile_is_refused() -> None:
    with pytest.raises(ValueError):
        render_markdown("x", profile="page")


# --- One render: mentions found in the same pass --------------------------------------------


def test_render_comment_finds_mentions_outside_code_and_links_in_one_pass(backend: str) -> None:
    text = "hi @Ada, `@bob` [x @carol](https://a.example) ada@example.com @dan_1"
    rendered = sanitize.render_comment(text, backend)
    assert rendered.mentions == {"ada", "dan_1"}
    # Unlinked, it is exactly the plain render: mentions stay text until resolved.
    assert rendered.html == render_markdown(text, backend)
    assert "/users/" not in rendered.html
    linked = rendered.linked({"ada": "Ada"})
    assert '<a href="/users/Ada" rel="nofollow ugc noopener">@Ada</a>' in linked
    assert "@dan_1" in linked and "/users/dan_1" not in linked


def test_linked_refuses_a_spelling_outside_the_username_characters() -> None:
    rendered = sanitize.render_comment("hello @ada")
    assert rendered.linked({"ada": 'x"><script>'}) == rendered.html


def test_configure_chooses_the_default_backend_and_refuses_unknown_names(monkeypatch) -> None:
    monkeypatch.setattr(sanitize, "_configured_backend", sanitize.configured_backend())
    sanitize.configure("nh3")
    assert sanitize.configured_backend() == "nh3"
    with pytest.raises(ValueError, match="sanitizer"):
        sanitize.configure("html5lib")
    assert sanitize.configured_backend() == "nh3"
