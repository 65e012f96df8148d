"""Default configuration. Every key can be overridden by an environment variable with the
``FORUM_`` prefix (``FORUM_EDIT_WINDOW_MINUTES=30``), values parsed as JSON where they can be."""

from datetime import timedelta


class DefaultConfig:
    """Defaults only; the factory layers instance config, the environment and tests on top."""

    # None means "an SQLite file in the instance folder", resolved by the factory.
    DATABASE_URL: str | None = None
    REDIS_URL: str | None = None
    # SQLite only: how long a write waits for the database's one write lock before the
    # request answers 503 (Retry-After) instead.
    SQLITE_BUSY_TIMEOUT_MS = 5000
    # Rendered discussion pages: in Redis when REDIS_URL is set (shared by every worker and
    # machine; each process keeps those it used in front of it), else in each process; in a
    # process, up to this many megabytes.
    PAGE_CACHE_MAX_MB = 64
    PAGE_CACHE_SECONDS = 6 * 3600

    # How many reverse proxies sit in front (nginx = 1): their X-Forwarded-For/-Proto are
    # trusted for the client address (rate limits) and HTTPS (secure cookies, HSTS).
    TRUSTED_PROXIES = 0

    # Requests larger than this get 413 before any view runs.
    MAX_CONTENT_LENGTH = 64 * 1024
    # Uploaded avatars (the one route allowed larger requests): the file's size, and its
    # pixel count, checked from the header before decoding (decompression bombs).
    AVATAR_MAX_BYTES = 2 * 1024 * 1024
    AVATAR_MAX_PIXELS = 20_000_000

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False
    # Absolute lifetime of a login; the idle limit is checked on every request.
    SESSION_LIFETIME_HOURS = 24 * 30
    SESSION_IDLE_MINUTES = 60 * 24 * 7
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"

    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session

    # argon2id parameters (argon2-cffi defaults, RFC 9106 low-memory profile).
    PASSWORD_TIME_COST = 3
    PASSWORD_MEMORY_COST = 65536  # KiB
    PASSWORD_PARALLELISM = 4
    PASSWORD_MIN_LENGTH = 10
    PASSWORD_MAX_LENGTH = 1024

    # The site's identity (forum/theme.py): the name in the header and titles, an optional
    # logo (a path here or an https:// address) and an accent colour (#rrggbb).
    SITE_NAME = "Forum"
    LOGO_URL: str | None = None
    ACCENT_COLOR: str | None = None

    # Discussion
    SANITIZER = "bleach"
    COMMENT_MAX_LENGTH = 10_000
    ARTICLE_MAX_LENGTH = 100_000
    EDIT_WINDOW_MINUTES = 60
    THREADS_PER_PAGE = 50
    MAX_DISPLAY_DEPTH = 6
    # How deep a reply chain is stored: a reply to a comment this deep is stored beside it
    # (under its parent), starting with an @mention of whom it answers.
    MAX_REPLY_DEPTH = 50
    # Tell repliers, the mentioned and followers about a new comment in a thread after the
    # response (false: before it, in the posting request).
    NOTIFY_IN_BACKGROUND = True
    # A long thread shows its first replies, then "Show N more replies".
    REPLIES_PER_THREAD = 100
    # How often an open article page asks whether its discussion changed (seconds, while
    # the tab is visible): one conditional request, answered 304 when nothing changed.
    LIVE_POLL_SECONDS = 30

    # Moderation, spam and rate limits
    PREMODERATE_FIRST_COMMENTS = 0
    TRUSTED_AFTER_APPROVED_COMMENTS = 3
    NEW_ACCOUNT_DAYS = 3
    NEW_ACCOUNT_MAX_LINKS = 2
    SPAM_CHECKS_ENABLED = True
    SPAM_MIN_SUBMIT_SECONDS = 3
    RATELIMIT_ENABLED = True
    RATELIMIT_HEADERS_ENABLED = True
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    RATELIMIT_LOGIN = "10 per minute;50 per hour"
    RATELIMIT_LOGIN_ACCOUNT = "5 per minute;30 per hour"
    # Attempts from a known device (a cookie set by an earlier login to that account), which
    # are exempt from the two limits above: an attacker can't lock the owner out.
    RATELIMIT_LOGIN_DEVICE = "5 per minute;30 per hour"
    KNOWN_DEVICE_DAYS = 365
    RATELIMIT_REGISTER = "5 per hour"
    RATELIMIT_POST = "6 per minute;60 per hour"
    RATELIMIT_POST_NEW_ACCOUNT = "2 per minute;20 per hour"
    RATELIMIT_REPORT = "10 per minute;60 per hour"
    # Edits per account (each one stores a revision and may mention people): a budget of
    # their own, so fixing a typo right after posting isn't refused.
    RATELIMIT_EDIT = "10 per minute;60 per hour"

    # Embedding the discussion in the publisher's own pages (README "Embedding on your site").
    # Origins whose pages may frame the discussion and start discussions of their pages:
    # "https://www.example.com,https://blog.example.com".
    EMBED_ORIGINS = ""
    # Who new discussions started by an embed belong to when the page names no author
    # (data-author): a username; the first admin when unset.
    EMBED_AUTHOR: str | None = None
    # The forum on another site than the publisher's pages: session cookies SameSite=None;
    # Secure, so they are sent inside the iframe (HTTPS only).
    EMBED_CROSS_SITE = False
    # The iframe's accent colour and font stack (CSS values); unset: the site's own.
    EMBED_ACCENT_COLOR: str | None = None
    EMBED_FONT_FAMILY: str | None = None
    # New discussions started by embeds, per address.
    RATELIMIT_EMBED_CREATE = "30 per hour"
    ADMIN_PAGE_SIZE = 50

    MODERATION_PAGE_SIZE = 25
    PROFILE_PAGE_SIZE = 20
    NOTIFICATIONS_PAGE_SIZE = 30

    # Email. Nothing is sent unless MAIL_SERVER is set. Links in emails are built from
    # BASE_URL (never from a request's Host header), also by CLI commands.
    BASE_URL = "http://127.0.0.1:5000"
    MAIL_SERVER: str | None = None
    MAIL_PORT = 25
    MAIL_USERNAME: str | None = None
    MAIL_PASSWORD: str | None = None
    MAIL_USE_TLS = False  # STARTTLS (usually port 587)
    MAIL_USE_SSL = False  # TLS from the start (usually port 465)
    MAIL_SENDER = "Forum <forum@localhost>"
    MAIL_TIMEOUT = 10  # seconds
    MAIL_MAX_ATTEMPTS = 5  # then the email is given up (retries at 1, 5, 25, 125 minutes)
    # Also try to send a page's emails (confirmations, resets) in a thread after the response.
    MAIL_SEND_IN_BACKGROUND = True
    EMAIL_CONFIRM_HOURS = 48
    UNSUBSCRIBE_LINK_DAYS = 90
    PASSWORD_RESET_MINUTES = 60
    RATELIMIT_RESET_REQUEST = "5 per minute;20 per hour"
    RATELIMIT_RESET_REQUEST_ADDRESS = "3 per hour"
    RATELIMIT_EMAIL_CHANGE = "5 per hour"  # address changes and confirmation links, per account


def session_lifetime(hours: int) -> timedelta:
    """The cookie lifetime Flask should use for a configured absolute session limit."""
    return timedelta(hours=hours)
