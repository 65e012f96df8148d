"""The embed context: what an iframe page on the publisher's site carries from one request to
the next (its theme, and the publisher page's origin it reports its height to), and how a
page of the discussion is turned into its embedded form.

Embed pages live under ``/embed/``. Their forms post to the ordinary routes (the same
rules, the same CSRF) with ``embed=1`` in their address, and those routes' redirects are
sent back under ``/embed/``, so a reader without JavaScript stays inside the iframe. The
discussion views know nothing of this except ``render_article``'s choice of template and
``comment_url``'s choice of page."""

import re
from dataclasses import dataclass
from html import escape, unescape
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from flask import Response, current_app, request, url_for

THEMES = ("light", "dark")
EMBED_PREFIX = "/embed/"
# An <a> tag's href, written by our templates (always double-quoted, always escaped). User
# text is escaped, so "<a" inside a comment's words is "&lt;a" and never matches.
_LINK = re.compile(r'<a\b(?P<before>[^>]*?)\shref="(?P<href>[^"]*)"')
# A form's action, or a button's formaction, written by our templates.
_ACTION = re.compile(r'\s(?P<name>action|formaction)="(?P<url>[^"]*)"')
# The ordinary page of an article, to which the discussion's forms redirect.
_ARTICLE_PATH = re.compile(r"/articles/(?P<slug>[a-z0-9]+(?:-[a-z0-9]+)*)")


@dataclass(frozen=True)
class EmbedContext:
    """``theme``: "light", "dark" or None (follow the reader's system). ``parent_origin``:
    the publisher page's origin, only when it is one of ``EMBED_ORIGINS``."""

    theme: str | None = None
    parent_origin: str | None = None

    @classmethod
    def from_args(cls, args) -> "EmbedContext":
        theme = args.get("theme")
        origin = args.get("origin")
        allowed = current_app.config["EMBED_ORIGINS"]
        return cls(
            theme=theme if theme in THEMES else None,
            parent_origin=origin if origin in allowed else None,
        )

    def query(self) -> dict[str, str]:
        """The arguments that carry this context on a link."""
        found = {}
        if self.theme:
            found["theme"] = self.theme
        if self.parent_origin:
            found["origin"] = self.parent_origin
        return found

    def cache_part(self) -> str:
        """What of this context changes a page's bytes, for its cache key and ETag."""
        return f"{self.theme or 'auto'}~{self.parent_origin or ''}"


def of_request() -> EmbedContext | None:
    """The embed context of this request: an embed page's own arguments, or those a form
    of an embed page carries in its action (``embed=1``, see :func:`finish_page`); None for
    the rest of the site."""
    if request.path.startswith(EMBED_PREFIX):
        return EmbedContext.from_args(request.args)
    if request.method == "POST" and request.args.get("embed") == "1":
        return EmbedContext.from_args(request.args)
    return None


def embed_article_url(slug: str, context: EmbedContext, query: str = "", fragment: str = ""):
    """The embed page of ``slug``, keeping the page's own arguments (sort, page) and the
    embed context."""
    args = dict(parse_qsl(query, keep_blank_values=True))
    args.update(context.query())
    path = url_for("embed.article", slug=slug)
    return urlunsplit(("", "", path, urlencode(args), fragment))


def finish_page(html: str, context: EmbedContext) -> str:
    """A discussion page made fit for the iframe.

    Links to the article's own page (sorts, pages) become links to its embed page; every
    other link that would leave the embed (profiles, permalinks, reply and edit pages, links
    in comments) opens in a new tab, since only embed pages may be framed. Forms post where
    they always do, with ``embed=1`` and the context added to their address, so the answer
    comes back into the iframe (:func:`keep_in_embed`, ``comment_url``)."""
    root = request.script_root

    def rewrite_link(match: re.Match) -> str:
        before, href = match["before"], match["href"]
        if "target=" in before:  # chosen by the template
            return match.group(0)
        target = urlsplit(unescape(href))
        found = _ARTICLE_PATH.fullmatch(target.path.removeprefix(root))
        if found and not target.scheme and not target.netloc:
            url = embed_article_url(found["slug"], context, target.query, target.fragment)
            return f'<a{before} href="{escape(url)}"'
        if href.startswith("#") or target.path.startswith(EMBED_PREFIX):
            return match.group(0)
        return f'<a{before} target="_blank" href="{href}"'

    def rewrite_action(match: re.Match) -> str:
        target = urlsplit(unescape(match["url"]))
        if target.scheme or target.netloc or not target.path.startswith("/"):
            return match.group(0)
        args = [*parse_qsl(target.query, keep_blank_values=True), ("embed", "1")]
        args += list(context.query().items())
        url = urlunsplit(("", "", target.path, urlencode(args), target.fragment))
        return f' {match["name"]}="{escape(url)}"'

    return _ACTION.sub(rewrite_action, _LINK.sub(rewrite_link, html))


def keep_in_embed(response: Response) -> Response:
    """A redirect answering a form posted from an embed page goes to the embed page of the
    same discussion (same sort, page and anchor) instead of the article page, which may not
    be framed."""
    if not 300 <= response.status_code < 400 or request.method != "POST":
        return response
    context = of_request()
    if context is None or request.path.startswith(EMBED_PREFIX):
        return response
    target = urlsplit(response.location or "")
    found = _ARTICLE_PATH.fullmatch(target.path.removeprefix(request.script_root))
    if found is None or (target.netloc and target.netloc != request.host):
        return response
    response.location = embed_article_url(found["slug"], context, target.query, target.fragment)
    return response
