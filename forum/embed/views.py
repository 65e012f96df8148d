"""The discussion embedded in the publisher's own pages.

- ``/embed.js`` (the one script tag a publisher adds) inserts an iframe on
  ``/embed/discussion?url=...``, which finds (or, for a page of ``EMBED_ORIGINS``, starts) the
  page's discussion and serves its discussion block; ``/embed/articles/<slug>`` is the same
  page by the discussion's own address, where the iframe's links and forms lead.
- ``/embed/count.js`` fills a list of links with their comment counts from one request to
  ``/embed/counts``.
- ``/embed/theme.css`` carries the colours and fonts set in the ``EMBED_*`` settings (a file,
  since the strict CSP allows no inline styles), ``/embed/done`` ends the login window.

Anonymous embed pages are cached like the article page, by their own key and ETag (an
embed page's bytes differ from the article page's), and carry no cookie."""

import hashlib

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    jsonify,
    make_response,
    render_template,
    request,
    send_from_directory,
)
from flask_babel import force_locale, format_number, gettext, ngettext

from forum import security
from forum.auth.current import current_actor
from forum.discussion import cached
from forum.discussion.page import render_article
from forum.embed import context as embed_context
from forum.extensions import limiter
from forum.i18n import current_locale, language_key, negotiate
from forum.models import Article
from forum.page_cache import page_cache
from forum.paging import page_arg
from forum.services import articles, discussion_pages, external_articles
from forum.theme import SiteTheme

bp = Blueprint("embed", __name__)

# How long browsers and proxies may keep the scripts and the stylesheet before asking again.
SCRIPT_MAX_AGE = 3600
# Counts change as people comment: a short freshness, then revalidation by ETag.
COUNTS_MAX_AGE = 60
MAX_COUNT_URLS = 100
# The arguments an embed page may carry and still be the page every anonymous reader gets.
_SHARED_ARGS = {"url", "title", "author", "theme", "origin", "sort", "page"}

bp.after_app_request(embed_context.keep_in_embed)


@bp.before_app_request
def _activate_storage_access():
    """A request from the iframe of a browser that keeps third-party cookies apart, after the
    reader granted this site storage access (``requestStorageAccess``), arrives without its
    cookie and says so (``Sec-Fetch-Storage-Access: inactive``): ask the browser to activate
    the grant and send it again with the cookie (Storage Access Headers), instead of
    answering as if the reader were signed out."""
    if request.headers.get("Sec-Fetch-Storage-Access") != "inactive":
        return None
    origin = request.headers.get("Origin", "")
    own = request.host_url.rstrip("/")
    if origin != own and origin not in current_app.config["EMBED_ORIGINS"]:
        return None
    response = Response(status=401)
    response.headers["Activate-Storage-Access"] = f'retry; allowed-origin="{origin}"'
    response.vary.add("Sec-Fetch-Storage-Access")
    return response


@bp.after_app_request
def _keep_storage_access(response: Response) -> Response:
    """A page loaded into the iframe with its cookie keeps access to it for what its script
    then sends (posting, voting) without a second permission call."""
    if request.headers.get("Sec-Fetch-Storage-Access") == "active" and (
        request.headers.get("Sec-Fetch-Dest") == "iframe"
    ):
        response.headers["Activate-Storage-Access"] = "load"
    if request.headers.get("Sec-Fetch-Storage-Access"):
        response.vary.add("Sec-Fetch-Storage-Access")
    return response


def _script(filename: str) -> Response:
    """A script of forum/static served at a fixed address (publishers can't follow our
    static file names), with a JavaScript type and a cache lifetime."""
    response = send_from_directory(
        current_app.static_folder, filename, mimetype="text/javascript", max_age=SCRIPT_MAX_AGE
    )
    response.cache_control.public = True
    # Loaded as a classic script by other sites' pages.
    response.headers["Cross-Origin-Resource-Policy"] = "cross-origin"
    return response


@bp.get("/embed.js")
def embed_script():
    return _script("js/embed.js")


@bp.get("/embed/count.js")
def count_script():
    return _script("js/count.js")


@bp.get("/embed/theme.css")
def theme_css():
    """The embed pages' colours and font, from the settings (checked when the app starts)."""
    accent = current_app.config["EMBED_ACCENT_COLOR"]
    css = render_template(
        "embed/theme.css",
        accent_css=SiteTheme(name="embed", logo_url=None, accent=accent).stylesheet
        if accent
        else "",
        font_family=current_app.config["EMBED_FONT_FAMILY"],
    )
    response = make_response(css)
    response.mimetype = "text/css"
    response.cache_control.public = True
    response.cache_control.max_age = SCRIPT_MAX_AGE
    response.set_etag(hashlib.sha256(css.encode()).hexdigest()[:16])
    return response.make_conditional(request)


@bp.get("/embed/counts")
def counts():
    """``{"counts": {URL: N}, "labels": {URL: "N comments"}, "lang": "en"}``: the comments an
    anonymous reader sees under each page given as ``?url=...&url=...`` (0 for a page with no
    discussion), keyed by the URLs as given, with the words for each count in the publisher's
    page language (``?lang=``, from its ``<html lang>``), else the browser's. Public data: any
    site may read it (CORS), any proxy may keep it for a minute."""
    urls = request.args.getlist("url")
    if len(urls) > MAX_COUNT_URLS:
        abort(400, gettext("Ask for at most %(count)s pages at a time.", count=MAX_COUNT_URLS))
    locale = negotiate(request.args.get("lang", "")[:35] or request.headers.get("Accept-Language"))
    found = external_articles.comment_counts(urls)
    with force_locale(locale):
        labels = {
            url: ngettext("%(count)s comment", "%(count)s comments", n, count=format_number(n))
            for url, n in found.items()
        }
    response = jsonify(counts=found, labels=labels, lang=locale)
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.vary.add("Accept-Language")
    response.cache_control.public = True
    response.cache_control.max_age = COUNTS_MAX_AGE
    response.add_etag()
    return response.make_conditional(request)


def _creation_budget() -> None:
    """Starting discussions from embeds is limited per address (``RATELIMIT_EMBED_CREATE``):
    only requests that would create one spend it, so reading is never limited. (Flask-Limiter
    as a context manager: its storage, its fallback and its 429.)"""
    with limiter.limit(lambda: current_app.config["RATELIMIT_EMBED_CREATE"], scope="embed-create"):
        pass


@bp.get("/embed/discussion")
def discussion():
    """The discussion of the page at ``?url=`` (``title`` and ``author`` name a page that has
    none yet; ``theme`` and ``origin`` are the embed context)."""
    article, _ = external_articles.open_for_embed(
        request.args.get("url", ""),
        request.args.get("title", ""),
        allowed_origins=current_app.config["EMBED_ORIGINS"],
        requested_author=request.args.get("author"),
        fallback_author=current_app.config["EMBED_AUTHOR"],
        before_create=_creation_budget,
    )
    return _serve(article.slug)


@bp.get("/embed/articles/<slug>")
def article(slug: str):
    """The embed page of a discussion by its own address: where the iframe's sort and page
    links, and the forms posted from it, lead."""
    return _serve(slug)


def _serve(slug: str) -> Response:
    """The embed page: rendered for a logged-in reader; for anonymous readers, from the page
    cache under the embed page's own key, with its own ETag."""
    security.allow_embed_framing()
    context = embed_context.of_request()
    if current_actor() is not None or not _anonymous_cacheable():
        body, status = render_article(articles.get_article(slug))
        response = make_response(body, status)
        response.headers["Cache-Control"] = "private, no-cache"
        return response
    sort = discussion_pages.Sort.parse(request.args.get("sort"))
    page_number = page_arg()
    cache = page_cache()
    article = articles.get_article(slug)
    key, etag = _cache_names(article, context, sort, page_number)
    if request.if_none_match.contains(etag):
        return Response(status=304, headers=_public(etag))
    body = cache.get(key)
    if body is None:
        body = render_article(article)[0].encode()
        cache.set(key, body)
    return Response(body, mimetype="text/html", headers=_public(etag))


def _anonymous_cacheable() -> bool:
    return cached.anonymous_cacheable(allowed_args=_SHARED_ARGS)


def _cache_names(
    article: Article, context: embed_context.EmbedContext, sort, page: int
) -> tuple[str, str]:
    """The page cache key and the ETag of an anonymous embed page: the article page's, with
    "embed" and the context (theme, parent origin) added, so neither page is ever served for
    the other."""
    part = context.cache_part()
    # The page's language too: its words and dates follow the reader's Accept-Language.
    language = language_key(current_locale())
    key = page_cache().key(
        "embed-page", article.id, article.discussion_version, sort.value, page, part, language
    )
    digest = hashlib.sha256(part.encode()).hexdigest()[:8]
    etag = "e" + cached.anonymous_etag(article.id, article.discussion_version, sort, page) + digest
    return key, etag


def _public(etag: str) -> dict[str, str]:
    return {
        "ETag": f'"{etag}"',
        "Cache-Control": "public, no-cache",
        "Vary": "Accept-Language, Cookie",
    }


@bp.get("/embed/done")
def done():
    """Where the login window lands: it tells the iframe that opened it and closes itself."""
    response = make_response(render_template("embed/done.html"))
    response.headers["Cache-Control"] = "private, no-store"
    return response
