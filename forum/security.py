"""Security headers, set in one place for every response."""

from flask import Flask, g, request

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


def content_security_policy(app: Flask, frame_ancestors: tuple[str, ...] = ()) -> str:
    """The site's policy: the logo's origin allowed when FORUM_LOGO_URL is on another site,
    and framed by exactly ``frame_ancestors`` (none: by nobody)."""
    logo_origin = app.extensions["forum_theme"].logo_origin
    images = f"img-src 'self' {logo_origin}" if logo_origin else "img-src 'self'"
    policy = [images if part == "img-src 'self'" else part for part in _POLICY]
    ancestors = " ".join(frame_ancestors) or "'none'"
    return "; ".join([*policy, f"frame-ancestors {ancestors}"])


def register(app: Flask) -> None:
    """Add the headers to every response, error pages and static files included."""
    site_policy = content_security_policy(app)
    origins = tuple(app.config["EMBED_ORIGINS"])
    embed_policy = content_security_policy(app, origins) if origins else None

    @app.after_request
    def _security_headers(response):
        headers = response.headers
        if embed_policy is not None and g.get("embed_framing"):
            headers.setdefault("Content-Security-Policy", embed_policy)
        else:
            headers.setdefault("Content-Security-Policy", site_policy)
            headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
        if request.is_secure:
            headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        return response
