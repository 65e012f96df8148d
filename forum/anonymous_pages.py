"""Anonymous readers' article pages answered before Flask runs, from the page cache.

Most requests for an article page come from readers who aren't logged in, and their page
is the same for all of them until the discussion's version changes. This WSGI middleware
answers such a request from the article's id and version (``forum.discussion_versions``:
remembered per process on SQLite while nothing commits; read from Redis on PostgreSQL with
Redis, ``forum.published_versions``; else one small query) and one cache
lookup: ``304 Not Modified`` when the reader's ``If-None-Match`` holds the current ETag (the
stored response's headers are kept parsed, so a revalidation reads no body),
else the whole response as the app last rendered it (status line, headers and body, so the
security headers and the ETag are exactly the app's). Everything else, and every miss, goes
to the app, whose response is then kept for the next reader.

Only requests that can't be personal take this path: a GET of ``/articles/<slug>`` with no
session or remember-me cookie and no query other than a valid ``sort`` and ``page``. Keys
carry the version (and the host and scheme), so an entry is never stale, and the language
(see ``_language``), so each language has its own bytes and ETag."""

import json
import re
import sqlite3
from collections.abc import Callable, Iterable
from http.cookies import CookieError, SimpleCookie
from urllib.parse import parse_qsl

from flask import Flask
from sqlalchemy.exc import SQLAlchemyError

from forum import discussion_versions
from forum.i18n import language_key, negotiate, tagged_etag

_PATH = re.compile(r"/articles/(?P<slug>[a-z0-9]+(?:-[a-z0-9]+)*)")
_SORTS = ("oldest", "newest", "top")
_PAGE_MAX = 2**31 - 1
# Parsed heads of stored responses, by key (keys never go stale); bounded, then started over.
_HEADS_LIMIT = 256
# Headers a 304 repeats from the full response (RFC 9110 §15.4.5), plus the site's own.
_NOT_MODIFIED_KEEPS = {
    "etag",
    "cache-control",
    "vary",
    "content-security-policy",
    "x-content-type-options",
    "referrer-policy",
    "x-frame-options",
    "strict-transport-security",
}


class AnonymousPages:
    """Wraps ``app.wsgi_app``; see the module docstring."""

    def __init__(self, app: Flask, wsgi_app: Callable) -> None:
        self.app = app
        self.wsgi_app = wsgi_app
        self._versions = None
        # key -> (status, headers, the headers a 304 repeats): a revalidation needs no body.
        self._heads: dict[str, tuple[str, list[tuple[str, str]], list[tuple[str, str]]]] = {}

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        request = self._shared_page_request(environ)
        if request is None:
            return self.wsgi_app(environ, start_response)
        slug, sort, page = request
        try:
            found = self._version(slug)
        except (SQLAlchemyError, sqlite3.Error, discussion_versions.VersionsUnavailable):
            # The database is in trouble: the app answers that (503, its own page, healing).
            return self.wsgi_app(environ, start_response)
        if found is None:
            return self.wsgi_app(environ, start_response)
        article_id, version = found
        cache = self.app.extensions["forum_page_cache"]
        language = _language(environ)
        etag = tagged_etag(cache.etag(article_id, version, sort, page), language)
        key = cache.key(
            "response",
            language_key(language),
            article_id,
            version,
            sort,
            page,
            environ.get("wsgi.url_scheme", "http"),
            environ.get("HTTP_HOST", ""),
        )
        head = self._heads.get(key)
        revalidating = _matches(environ.get("HTTP_IF_NONE_MATCH", ""), etag)
        if head is not None and revalidating:
            start_response("304 NOT MODIFIED", head[2])
            return [b""]
        stored = cache.get(key)
        if stored is None:
            return self._render_and_keep(environ, start_response, cache, key, etag)
        status, headers, body = _unpack(stored)
        kept = [(k, v) for k, v in headers if k.lower() in _NOT_MODIFIED_KEEPS]
        if len(self._heads) >= _HEADS_LIMIT:
            self._heads.clear()
        self._heads[key] = (status, headers, kept)
        if revalidating:
            start_response("304 NOT MODIFIED", kept)
            return [b""]
        start_response(status, [*headers, ("Content-Length", str(len(body)))])
        return [body]

    def _shared_page_request(self, environ: dict) -> tuple[str, str, int] | None:
        """(slug, sort, page) when the request can only be for the shared page."""
        if environ.get("REQUEST_METHOD") != "GET":
            return None
        match = _PATH.fullmatch(environ.get("PATH_INFO", ""))
        if match is None or self._has_personal_cookie(environ.get("HTTP_COOKIE", "")):
            return None
        sort, page = "oldest", 1
        for name, value in parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True):
            if name == "sort" and value in _SORTS:
                sort = value
            elif name == "page" and value.isascii() and value.isdigit() and len(value) <= 10:
                page = int(value)
                if not 1 <= page <= _PAGE_MAX:
                    return None
            else:
                return None  # anything else is the app's to answer (or refuse)
        return match["slug"], sort, page

    def _has_personal_cookie(self, header: str) -> bool:
        if not header:
            return False
        names = {
            self.app.config["SESSION_COOKIE_NAME"],
            self.app.config.get("REMEMBER_COOKIE_NAME", "remember_token"),
        }
        try:
            return bool(names & set(SimpleCookie(header)))
        except CookieError:
            return True  # unreadable: let the app decide

    def _version(self, slug: str) -> tuple[int, int] | None:
        if self._versions is None:
            # PostgreSQL with Redis: versions kept in Redis (forum/published_versions.py).
            self._versions = self.app.extensions.get("forum_published_versions")
        if self._versions is None:
            with self.app.app_context():
                from forum.extensions import db

                self._versions = discussion_versions.for_engine(db.engine)
        return self._versions.lookup(slug)

    def _render_and_keep(self, environ, start_response, cache, key: str, etag: str):
        """Let the app answer, and keep its answer when it is the shared page."""
        captured: dict = {}

        def capture(status, headers, exc_info=None):
            captured["status"], captured["headers"] = status, headers
            return start_response(status, headers, exc_info)

        result = self.wsgi_app(environ, capture)
        try:
            body = b"".join(result)
        finally:
            if hasattr(result, "close"):
                result.close()
        headers = [(k, v) for k, v in captured.get("headers", []) if k.lower() != "content-length"]
        names = {k.lower() for k, _ in headers}
        if (
            captured.get("status", "").startswith("200")
            and "set-cookie" not in names
            and (dict((k.lower(), v) for k, v in headers).get("etag") == f'"{etag}"')
        ):
            cache.set(key, _pack(captured["status"], headers, body))
        return [body]


def _language(environ: dict) -> str:
    """The page's language, as the app would choose it for a reader with no account: the
    best match for the browser's ``Accept-Language`` (forum/i18n.py)."""
    return negotiate(environ.get("HTTP_ACCEPT_LANGUAGE"))


def _matches(if_none_match: str, etag: str) -> bool:
    tags = {tag.strip().removeprefix("W/").strip('"') for tag in if_none_match.split(",")}
    return etag in tags or "*" in tags


def _pack(status: str, headers: list[tuple[str, str]], body: bytes) -> bytes:
    return json.dumps([status, headers]).encode() + b"\n" + body


def _unpack(stored: bytes) -> tuple[str, list[tuple[str, str]], bytes]:
    head, _, body = stored.partition(b"\n")
    status, headers = json.loads(head)
    return status, [(k, v) for k, v in headers], body


def install(app: Flask) -> None:
    """Put the middleware in front of the app (inside any ProxyFix, which must run first)."""
    app.wsgi_app = AnonymousPages(app, app.wsgi_app)
