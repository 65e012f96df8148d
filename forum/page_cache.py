"""A cache of rendered discussion pages, shared through Redis when the site has one.

Keys never go stale: each holds the discussion's version (see
``forum.services.discussion_state``) and the fingerprint of the code that rendered it
(templates, stylesheets, scripts and the settings that shape a page), so a change makes new
keys and old entries simply age out. That is why there is no invalidation anywhere.

With ``FORUM_REDIS_URL`` every worker on every machine shares one cache, and each process
also keeps the entries it used in its own memory in front of it (bounded in bytes: a large
page read from Redis costs a millisecond or more, and an entry never goes stale, so the copy
is as good); without it each process keeps its own. Redis being down is never an error: the lookup
misses, the page is rendered, and Redis is left alone for a few seconds before it is tried
again, so an outage costs no timeouts on every request."""

import hashlib
import logging
import threading
import time
from collections import OrderedDict
from pathlib import Path

import redis
from flask import Flask, current_app

log = logging.getLogger(__name__)

# Settings that change the bytes of a discussion page.
_SHAPING_SETTINGS = (
    "THREADS_PER_PAGE",
    "MAX_DISPLAY_DEPTH",
    "REPLIES_PER_THREAD",
    "COMMENT_MAX_LENGTH",
    "EDIT_WINDOW_MINUTES",
    "SITE_NAME",
    "LOGO_URL",
    "ACCENT_COLOR",
)


class LocalStore:
    """A least-recently-used dict of bytes, bounded by their total size; thread-safe."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._items: OrderedDict[str, bytes] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()

    def get(self, key: str) -> bytes | None:
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
            return value

    def set(self, key: str, value: bytes, ttl: int) -> None:
        if len(value) > self.max_bytes:
            return
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self._size -= len(old)
            self._items[key] = value
            self._size += len(value)
            while self._size > self.max_bytes:
                _, dropped = self._items.popitem(last=False)
                self._size -= len(dropped)


class RedisStore:
    """Redis with short timeouts; after an error it is skipped for ``retry_after`` seconds."""

    def __init__(self, url: str, retry_after: float = 5.0) -> None:
        self.client = redis.Redis.from_url(
            url, socket_timeout=0.25, socket_connect_timeout=0.25, health_check_interval=30
        )
        self.retry_after = retry_after
        self._down_until = 0.0

    def _usable(self) -> bool:
        return time.monotonic() >= self._down_until

    def _failed(self, error: Exception) -> None:
        if self._usable():
            log.warning("Page cache: Redis unavailable (%s); rendering pages meanwhile", error)
        self._down_until = time.monotonic() + self.retry_after

    def get(self, key: str) -> bytes | None:
        if not self._usable():
            return None
        try:
            return self.client.get(key)
        except redis.RedisError as error:
            self._failed(error)
            return None

    def set(self, key: str, value: bytes, ttl: int) -> None:
        if not self._usable():
            return
        try:
            self.client.set(key, value, ex=ttl)
        except redis.RedisError as error:
            self._failed(error)


class Memo:
    """This process's own objects made from cache entries (parsed, split), by the entry's
    key. Keys never go stale, so neither does a memo; each is dropped when its entry's time
    to live is over, like the entry, so what a key doesn't capture is never kept longer.
    Bounded by count; thread-safe."""

    def __init__(self, max_items: int, ttl: float) -> None:
        self.max_items = max_items
        self.ttl = ttl
        self._items: OrderedDict[str, tuple[float, object]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str):
        with self._lock:
            item = self._items.get(key)
            if item is None:
                return None
            if item[0] <= time.monotonic():
                del self._items[key]
                return None
            self._items.move_to_end(key)
            return item[1]

    def set(self, key: str, value: object) -> None:
        with self._lock:
            self._items[key] = (time.monotonic() + self.ttl, value)
            self._items.move_to_end(key)
            while len(self._items) > self.max_items:
                self._items.popitem(last=False)

    def __iter__(self):
        """The keys held now."""
        with self._lock:
            return iter(list(self._items))


class PageCache:
    """Rendered pages by key, plus the fingerprint that every key carries; ``near``, when
    given, is this process's memory in front of a shared ``store``."""

    def __init__(
        self,
        store,
        fingerprint: str,
        ttl: int,
        near: LocalStore | None = None,
        memo_items: int = 24,
    ) -> None:
        self.near = near
        self.fingerprint = fingerprint
        self.ttl = ttl
        self.memo_items = memo_items
        self.store = store

    @property
    def store(self):
        return self._store

    @store.setter
    def store(self, store) -> None:
        # A new store (tests start one afresh) comes with a new memo of its entries. Per
        # app, not per module: tests build many apps whose keys may coincide.
        self._store = store
        self.memo = Memo(self.memo_items, self.ttl)
        if getattr(self, "near", None) is not None:
            self.near = LocalStore(self.near.max_bytes)

    def etag(self, article_id: int, version: int, sort: str, page: int) -> str:
        """The entity tag (unquoted) of an anonymous reader's article page: what changes
        its bytes."""
        return f"d{article_id}-{version}-{sort}-{page}-{self.fingerprint}"

    def key(self, *parts: object) -> str:
        return "forum:page:" + ":".join(str(part) for part in (*parts, self.fingerprint))

    def get(self, key: str) -> bytes | None:
        if self.near is None:
            return self.store.get(key)
        value = self.near.get(key)
        if value is None:
            value = self.store.get(key)
            if value is not None:
                self.near.set(key, value, self.ttl)
        return value

    def set(self, key: str, value: bytes) -> None:
        if self.near is not None:
            self.near.set(key, value, self.ttl)
        self.store.set(key, value, self.ttl)


def code_fingerprint(app: Flask, roots: list[Path]) -> str:
    """A short hash of every template and static file and of the settings shaping a page:
    the same on every worker and machine running the same release."""
    digest = hashlib.sha256()
    for root in roots:
        for path in sorted(root.rglob("*")):
            if path.is_file() and path.suffix in (".html", ".txt", ".css", ".js", ".svg"):
                digest.update(str(path.relative_to(root)).encode())
                digest.update(path.read_bytes())
    for name in _SHAPING_SETTINGS:
        digest.update(f"{name}={app.config.get(name)!r}".encode())
    return digest.hexdigest()[:12]


def init_app(app: Flask, roots: list[Path]) -> None:
    """Choose the store: Redis when ``REDIS_URL`` is set, else this process's memory."""
    url = app.config.get("PAGE_CACHE_REDIS_URL") or app.config.get("REDIS_URL")
    local = LocalStore(int(app.config["PAGE_CACHE_MAX_MB"]) * 1024 * 1024)
    store, near = (RedisStore(url), local) if url else (local, None)
    app.extensions["forum_page_cache"] = PageCache(
        store, code_fingerprint(app, roots), int(app.config["PAGE_CACHE_SECONDS"]), near
    )


# What the app keeps in Redis that a database restore makes wrong: rendered pages (keyed by
# article and version numbers, which a restored database reuses for other content) and the
# published discussion versions (forum/published_versions.py).
DERIVED_KEY_PATTERNS = ("forum:page:*", "forum:version:*")


def forget_derived(app: Flask) -> int | None:
    """Delete the pages and versions kept in Redis (after a restore); returns how many keys
    went, or None when the app keeps them in its own processes only. Redis errors raise."""
    store = app.extensions["forum_page_cache"].store
    if not isinstance(store, RedisStore):
        return None
    deleted = 0
    for pattern in DERIVED_KEY_PATTERNS:
        batch = []
        for key in store.client.scan_iter(match=pattern, count=1000):
            batch.append(key)
            if len(batch) == 1000:
                deleted += store.client.unlink(*batch)
                batch = []
        if batch:
            deleted += store.client.unlink(*batch)
    return deleted


def page_cache() -> PageCache:
    return current_app.extensions["forum_page_cache"]
