"""Security headers, set in one place for every response."""

from flask import Flask, request

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self'",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


def content_security_policy(app: Flask) -> str:
    """The policy, with the site's logo allowed when FORUM_LOGO_URL is on another site."""
    logo_origin = app.extensions["forum_theme"].logo_origin
    if logo_origin is None:
        return CONTENT_SECURITY_POLICY
    return CONTENT_SECURITY_POLICY.replace("img-src 'self'", f"img-src 'self' {logo_origin}")


def register(app: Flask) -> None:
    """Add the headers to every response, error pages and static files included."""
    policy = content_security_policy(app)

    @app.after_request
    def _security_headers(response):
        headers = response.headers
        headers.setdefault("Content-Security-Policy", policy)
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
        headers.setdefault("X-Frame-Options", "DENY")
        if request.is_secure:
            headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        return response
