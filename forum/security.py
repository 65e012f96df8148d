"""Security headers, set in one place for every response."""

from flask import Flask, current_app, g, request

_POLICY = [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self'",
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
]
CONTENT_SECURITY_POLICY = "; ".join([*_POLICY, "frame-ancestors 'none'"])


def allow_embed_framing() -> None:
    """Let the publisher's pages (``EMBED_ORIGINS``) frame this response: the embed pages
    only. Every other page keeps ``frame-ancestors 'none'`` and ``X-Frame-Options: DENY``."""
    g.embed_framing = True


def embed_policy(origins: tuple[str, ...]) -> str:
    """The policy of an embed page: the site's, framed by exactly ``origins``."""
    ancestors = " ".join(origins) or "'none'"
    return "; ".join([*_POLICY, f"frame-ancestors {ancestors}"])


def register(app: Flask) -> None:
    """Add the headers to every response, error pages and static files included."""

    @app.after_request
    def _security_headers(response):
        headers = response.headers
        origins = current_app.config["EMBED_ORIGINS"]
        if g.get("embed_framing") and origins:
            headers.setdefault("Content-Security-Policy", embed_policy(origins))
        else:
            headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
            headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
        if request.is_secure:
            headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        return response
