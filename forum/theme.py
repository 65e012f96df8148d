"""The site's identity from settings: its name, logo and accent colour.

The accent colour becomes a small stylesheet (``/theme.css``) because the Content-Security-
Policy allows no inline styles. One colour is not enough on its own: links and buttons must
stay readable on the light and the dark background, so the stylesheet carries a shade of the
accent for each, darkened or lightened until it meets WCAG's 4.5:1 contrast, and picks black
or white text for buttons filled with it."""

import hashlib
import re
from dataclasses import dataclass
from functools import cached_property
from urllib.parse import urlsplit

HEX_COLOR = re.compile(r"#?([0-9a-fA-F]{6}|[0-9a-fA-F]{3})")
# The page backgrounds the accent is drawn on (site.css: --bg in light and dark).
LIGHT_BACKGROUND = "#fbfbf9"
DARK_BACKGROUND = "#131416"
MIN_CONTRAST = 4.5


class ThemeSettingError(ValueError):
    """A FORUM_SITE_NAME, FORUM_LOGO_URL or FORUM_ACCENT_COLOR the site can't use."""


def _rgb(color: str) -> tuple[int, int, int]:
    digits = HEX_COLOR.fullmatch(color.strip())
    if digits is None:
        raise ThemeSettingError(
            f"FORUM_ACCENT_COLOR must be a hex colour like #1f5fbf, not {color!r}."
        )
    value = digits.group(1)
    if len(value) == 3:
        value = "".join(ch * 2 for ch in value)
    return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)


def _hex(rgb: tuple[float, float, float]) -> str:
    return "#" + "".join(f"{round(min(255, max(0, c))):02x}" for c in rgb)


def _luminance(rgb: tuple[float, float, float]) -> float:
    """WCAG relative luminance."""

    def channel(c: float) -> float:
        c = c / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: tuple[float, float, float], b: tuple[float, float, float]) -> float:
    light, dark = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def readable_on(color: tuple[int, int, int], background: str) -> str:
    """``color``, mixed toward black (on a light background) or white (on a dark one) in
    small steps until it reaches MIN_CONTRAST against ``background``."""
    bg = _rgb(background)
    target = (0, 0, 0) if _luminance(bg) > 0.5 else (255, 255, 255)
    for step in range(21):
        share = step / 20
        mixed = tuple(c + (t - c) * share for c, t in zip(color, target, strict=True))
        if contrast(mixed, bg) >= MIN_CONTRAST:
            return _hex(mixed)
    return _hex(target)


def text_on(fill: str) -> str:
    """Black or white, whichever reads better on ``fill``."""
    rgb = _rgb(fill)
    return "#000000" if contrast(rgb, (0, 0, 0)) >= contrast(rgb, (255, 255, 255)) else "#ffffff"


@dataclass(frozen=True)
class SiteTheme:
    name: str
    logo_url: str | None
    accent: str | None

    @classmethod
    def from_config(cls, config) -> "SiteTheme":
        name = str(config.get("SITE_NAME") or "Forum").strip()
        if not name or len(name) > 60:
            raise ThemeSettingError("FORUM_SITE_NAME must be 1 to 60 characters.")
        logo = (config.get("LOGO_URL") or "").strip() or None
        if logo is not None:
            parts = urlsplit(logo)
            is_local_path = not parts.scheme and not parts.netloc and logo.startswith("/")
            if not (is_local_path or (parts.scheme == "https" and parts.netloc)):
                raise ThemeSettingError(
                    "FORUM_LOGO_URL must be a path on this site (/static/logo.svg) or an "
                    f"https:// address, not {logo!r}."
                )
        accent = (config.get("ACCENT_COLOR") or "").strip() or None
        if accent is not None:
            _rgb(accent)  # refuse a bad colour when the app starts, not on the first page
        return cls(name=name, logo_url=logo, accent=accent)

    @property
    def logo_origin(self) -> str | None:
        """The logo's origin when it lives on another site (the CSP must allow it)."""
        if self.logo_url is None:
            return None
        parts = urlsplit(self.logo_url)
        return f"https://{parts.netloc}" if parts.scheme == "https" else None

    @cached_property
    def stylesheet(self) -> str:
        if self.accent is None:
            return "/* No FORUM_ACCENT_COLOR: site.css's own accent applies. */\n"
        rgb = _rgb(self.accent)
        light = readable_on(rgb, LIGHT_BACKGROUND)
        dark = readable_on(rgb, DARK_BACKGROUND)
        # light-dark() follows the page's color-scheme, as site.css's own colours do.
        return (
            "/* From FORUM_ACCENT_COLOR, shaded for contrast on each background. */\n"
            f":root {{ --accent: light-dark({light}, {dark}); "
            f"--accent-fg: light-dark({text_on(light)}, {text_on(dark)}); }}\n"
        )

    @cached_property
    def stylesheet_version(self) -> str:
        return hashlib.sha256(self.stylesheet.encode()).hexdigest()[:12]
