"""What keeps a fresh app per test cheap: work every app would repeat identically (URL rules,
templates, the page cache's code fingerprint) done once per test session, and PostgreSQL
commits that don't wait for the disk. Importing this module (conftest does) installs it;
nothing a test checks depends on it."""

from jinja2 import BytecodeCache
from sqlalchemy import event
from sqlalchemy.engine import Engine
from werkzeug.routing import Rule


class SharedTemplateCache(BytecodeCache):
    """Compiled templates kept in memory for the whole session and shared by every app:
    each test builds a fresh app, whose Jinja environment would otherwise parse and compile
    every template it renders again. Keyed by template name and source checksum."""

    def __init__(self) -> None:
        self._code: dict[str, bytes] = {}

    def load_bytecode(self, bucket) -> None:
        if bucket.key in self._code:
            bucket.bytecode_from_string(self._code[bucket.key])

    def dump_bytecode(self, bucket) -> None:
        self._code[bucket.key] = bucket.bytecode_to_string()


TEMPLATE_CACHE = SharedTemplateCache()


def _share_url_builders() -> None:
    """Compile each URL rule's builder once per session instead of once per app.

    Werkzeug turns every rule into two Python functions (``ast`` plus ``compile()``) when an
    app registers it: about 50 ms per app here, which a fresh app per test pays thousands of
    times over for the same rules. The function depends only on the rule's text, its
    defaults and its trace; it reads converters through the rule it is bound to."""
    compile_builder = Rule._compile_builder
    builders: dict[tuple, object] = {}

    def shared(self, append_unknown: bool = True):
        key = (
            self.rule,
            tuple(self._trace),
            repr(sorted((self.defaults or {}).items())),
            append_unknown,
        )
        if key not in builders:
            builders[key] = compile_builder(self, append_unknown)
        return builders[key]

    Rule._compile_builder = shared


_share_url_builders()


@event.listens_for(Engine, "connect")
def _no_waiting_for_the_disk(dbapi_connection, _record) -> None:
    """On PostgreSQL, commit without waiting for the WAL to reach the disk: a test database
    needs no durability, and the tests commit after nearly every step (measured here: about
    4 ms a commit waiting, 0.3 to 0.6 ms not). Session-level, so nothing persists."""
    if type(dbapi_connection).__module__.startswith("psycopg"):
        with dbapi_connection.cursor() as cursor:
            cursor.execute("SET synchronous_commit = off")
        dbapi_connection.commit()


def _share_page_cache_fingerprints() -> None:
    """Hash the templates and static files once per session, not once per app.

    Every app fingerprints the code that renders its cached pages by reading and hashing
    every template and static file (about 10 ms an app here). Within a test session those
    files don't change, so the fingerprint depends only on the folders and the settings
    that shape a page, which are the key here."""
    from forum import page_cache

    fingerprint = getattr(page_cache, "code_fingerprint", None)
    settings = getattr(page_cache, "_SHAPING_SETTINGS", None)
    if fingerprint is None or settings is None:
        return  # the page cache changed shape: nothing to share
    known: dict[tuple, str] = {}

    def shared(app, roots):
        key = (
            tuple(str(root) for root in roots),
            tuple(repr(app.config.get(name)) for name in settings),
        )
        if key not in known:
            known[key] = fingerprint(app, roots)
        return known[key]

    page_cache.code_fingerprint = shared


_share_page_cache_fingerprints()
