"""forum: threaded discussions under the articles of a publisher's site."""

import gc
import os
import secrets
import sys
import time
from pathlib import Path

from flask import Flask, request
from werkzeug.middleware.proxy_fix import ProxyFix

from forum import (
    anonymous_pages,
    cli,
    errors,
    i18n,
    input_guard,
    page_cache,
    published_versions,
    security,
    templating,
    theme,
)
from forum.admin.views import bp as admin_bp
from forum.api import bp as api_bp
from forum.api_tokens.views import bp as api_tokens_bp
from forum.auth.views import bp as auth_bp
from forum.authoring.views import bp as authoring_bp
from forum.community.views import bp as community_bp
from forum.config import DefaultConfig, session_lifetime
from forum.discussion.views import bp as discussion_bp
from forum.embed import settings as embed_settings
from forum.embed.admin import bp as embed_admin_bp
from forum.embed.views import bp as embed_bp
from forum.extensions import csrf, db, limiter, login_manager, migrate, passwords
from forum.feeds.views import bp as feeds_bp
from forum.identity import views as identity
from forum.mailing.views import bp as mailing_bp
from forum.moderation.views import bp as moderation_bp
from forum.paging import DatabaseIntConverter
from forum.preferences.views import bp as preferences_bp
from forum.services import discussion_state, sanitize
from forum.site.views import bp as site_bp
from forum.sqlite import configure_sqlite_engine, mark_request_intent
from forum.your_data.views import bp as your_data_bp

BLUEPRINTS = (
    site_bp,
    auth_bp,
    discussion_bp,
    moderation_bp,
    community_bp,
    feeds_bp,
    mailing_bp,
    authoring_bp,
    your_data_bp,
    embed_bp,
    embed_admin_bp,
    api_tokens_bp,
    api_bp,
    admin_bp,
    identity.bp,
    preferences_bp,
)

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def create_app(test_config: dict | None = None) -> Flask:
    """Build the application: defaults, instance config, ``FORUM_*`` environment, test overrides."""
    app = Flask(
        __name__,
        instance_relative_config=True,
        # Tests keep their secret key and database out of the real instance folder.
        instance_path=(test_config or {}).get("INSTANCE_PATH"),
        template_folder=str(PROJECT_ROOT / "templates"),
    )
    app.config.from_object(DefaultConfig)
    app.config.from_pyfile("config.py", silent=True)
    app.config.from_prefixed_env("FORUM")
    if test_config:
        app.config.from_mapping(test_config)
    _resolve_config(app)

    # Anonymous article pages are answered from the page cache before Flask runs.
    anonymous_pages.install(app)
    if app.config["TRUSTED_PROXIES"]:
        hops = int(app.config["TRUSTED_PROXIES"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    _init_extensions(app)
    # Before the routes: every <int:...> in them is an id the database can hold.
    app.url_map.converters["int"] = DatabaseIntConverter
    for blueprint in BLUEPRINTS:
        app.register_blueprint(blueprint)
    errors.register(app)
    input_guard.register(app)
    identity.register(app)  # after the NUL guard: its hook must run before that one
    security.register(app)
    templating.register(app)
    cli.register(app)
    _warn_about_python_311(app)
    _freeze_startup_objects(app)
    return app


def _freeze_startup_objects(app: Flask) -> None:
    """Move what building the app made (modules, mappers, templates' code: some 150,000
    objects) out of the garbage collector's sight in a gunicorn process. A full collection
    walked all of them, 40-75 ms of one core, twice in 5 s of posting; run inside a request
    holding SQLite's write lock, it made the posting p99 (every other writer waited). After
    this a full collection takes 1-2 ms. Tests and commands keep the collector as it is."""
    if app.testing or "gunicorn" not in sys.modules:
        return
    gc.collect()  # garbage made so far is freed, not kept forever
    gc.freeze()


def _warn_about_python_311(app: Flask) -> None:
    """CPython 3.11 corrupts memory now and then in workers rendering large pages under load
    (README, "Running on PostgreSQL with Redis and gunicorn"); say so where it matters."""
    if sys.version_info < (3, 12) and "gunicorn" in sys.modules and not app.testing:
        app.logger.warning(
            "Python %d.%d: workers may crash under load; serve the forum with Python 3.12 "
            "or newer (see README).",
            *sys.version_info[:2],
        )


def _resolve_config(app: Flask) -> None:
    """Turn the user-facing settings into the keys Flask and its extensions read."""
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _instance_secret_key(Path(app.instance_path))
    url = app.config.get("DATABASE_URL") or (
        f"sqlite:///{Path(app.instance_path) / 'forum.sqlite3'}"
    )
    app.config.setdefault("SQLALCHEMY_DATABASE_URI", url)
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        # Pre-ping: a connection cut while the database was away is replaced at checkout,
        # so the site heals by itself when it is back. Kept when other options are set.
        options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
        options.setdefault("pool_pre_ping", True)
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options
    app.config["PERMANENT_SESSION_LIFETIME"] = session_lifetime(
        app.config["SESSION_LIFETIME_HOURS"]
    )
    app.config.setdefault("RATELIMIT_STORAGE_URI", app.config.get("REDIS_URL") or "memory://")
    # The one place the sanitizer setting is read: every render uses the configured backend.
    if app.config["SANITIZER"] not in sanitize.BACKENDS:
        raise ValueError(
            f"FORUM_SANITIZER must be 'bleach' or 'nh3', not {app.config['SANITIZER']!r}"
        )
    sanitize.configure(app.config["SANITIZER"])
    # Checked now, so a bad name, logo or colour stops the app at start with a clear message.
    app.extensions["forum_theme"] = theme.SiteTheme.from_config(app.config)
    embed_settings.resolve(app)


def _instance_secret_key(instance: Path) -> str:
    """The secret key kept in the instance folder, generated on first use.

    Created with O_EXCL, so two workers starting at once can't both write one; the loser
    waits for the winner's key rather than ever using an empty one."""
    key_file = instance / "secret_key"
    try:
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        for _ in range(50):
            key = key_file.read_text().strip()
            if key:
                return key
            time.sleep(0.1)
        raise RuntimeError(f"{key_file} is empty; delete it to have a new key made") from None
    key = secrets.token_hex(32)
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key


def _init_extensions(app: Flask) -> None:
    db.init_app(app)
    with app.app_context():
        # No connection is made here.
        configure_sqlite_engine(db.engine, app.config["SQLITE_BUSY_TIMEOUT_MS"])
        published_versions.init_app(app, db.engine)
    # Registered before any blueprint hook, so it runs before the first query of a request.
    app.before_request(
        lambda: mark_request_intent(request.method, app.view_functions.get(request.endpoint))
    )
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"), render_as_batch=True)
    login_manager.init_app(app)
    csrf.init_app(app)
    limiter.init_app(app)
    passwords.init_app(app)
    i18n.init_app(app)
    discussion_state.install()
    page_cache.init_app(app, [PROJECT_ROOT / "templates", PROJECT_ROOT / "forum" / "static"])
