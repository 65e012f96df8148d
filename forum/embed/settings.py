"""The embedding settings (``FORUM_EMBED_*``), checked once when the app starts.

A typo in an origin or a colour should stop the app with a message naming the setting, not
quietly let no page be framed or emit a stylesheet a browser throws away."""

import re
from urllib.parse import urlsplit

from flask import Flask

from forum.theme import HEX_COLOR

# What a browser writes in an Origin header: scheme, host, and a port only when it isn't the
# scheme's default.
_DEFAULT_PORTS = {"http": 80, "https": 443}
# A font stack: names, quoted or not, separated by commas. No semicolons, braces,
# backslashes or parentheses, so the value can't leave its declaration.
_FONT_NAME = r"""\s*(?:"[\w \-]{1,60}"|'[\w \-]{1,60}'|[\w\-][\w \-]{0,60})\s*"""
_FONT_STACK = re.compile(rf"{_FONT_NAME}(?:,{_FONT_NAME}){{0,15}}")


def parse_origin(text: str) -> str:
    """``text`` as the origin a browser sends (lower case, no default port, no path), or
    ValueError."""
    parts = urlsplit(text.strip())
    scheme = parts.scheme.lower()
    try:
        port = parts.port
    except ValueError as error:
        raise ValueError(f"{text!r} is not an origin ({error})") from None
    if scheme not in _DEFAULT_PORTS or not parts.hostname:
        raise ValueError(f"{text!r} is not an origin: use https://host[:port]")
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username:
        raise ValueError(f"{text!r} is not an origin: no path, query or user name")
    host = parts.hostname.lower()
    if ":" in host:  # an IPv6 address keeps its brackets
        host = f"[{host}]"
    return (
        f"{scheme}://{host}"
        if port in (None, _DEFAULT_PORTS[scheme])
        else (f"{scheme}://{host}:{port}")
    )


def parse_origins(value: object) -> tuple[str, ...]:
    """The comma-separated (or JSON list) setting as a tuple of origins, in order."""
    if value is None or value == "":
        return ()
    items = value if isinstance(value, (list, tuple)) else str(value).split(",")
    origins: list[str] = []
    for item in items:
        if str(item).strip():
            origin = parse_origin(str(item))
            if origin not in origins:
                origins.append(origin)
    return tuple(origins)


def check_colour(value: str | None) -> str | None:
    """A hex colour (#rgb or #rrggbb), which /embed/theme.css shades for each theme."""
    if value in (None, ""):
        return None
    if not HEX_COLOR.fullmatch(str(value).strip()):
        raise ValueError(
            f"FORUM_EMBED_ACCENT_COLOR must be a hex colour such as #1f5fbf, not {value!r}"
        )
    return str(value).strip()


def check_font_family(value: str | None) -> str | None:
    if value in (None, ""):
        return None
    if not _FONT_STACK.fullmatch(str(value)):
        raise ValueError(
            "FORUM_EMBED_FONT_FAMILY must be a font stack such as "
            f"'Georgia, \"Times New Roman\", serif', not {value!r}"
        )
    return str(value).strip()


def resolve(app: Flask) -> None:
    """Check the embedding settings and turn them into what the app reads."""
    config = app.config
    try:
        config["EMBED_ORIGINS"] = parse_origins(config.get("EMBED_ORIGINS"))
    except ValueError as error:
        raise ValueError(f"FORUM_EMBED_ORIGINS: {error}") from None
    config["EMBED_ACCENT_COLOR"] = check_colour(config.get("EMBED_ACCENT_COLOR"))
    config["EMBED_FONT_FAMILY"] = check_font_family(config.get("EMBED_FONT_FAMILY"))
    if config.get("EMBED_CROSS_SITE"):
        # The iframe is a third party on the publisher's page: its session cookie is sent
        # there only when marked SameSite=None, which browsers accept only with Secure.
        for name in ("SESSION_COOKIE", "REMEMBER_COOKIE"):
            config[f"{name}_SAMESITE"] = "None"
            config[f"{name}_SECURE"] = True
