"""The open-redirect guard for ``?next=``."""

from urllib.parse import urlsplit


def safe_next(target: str | None) -> str | None:
    """``target`` if it is a path on this site, else None.

    Only a path starting with a single "/" is accepted: "//evil.example", "/\\evil.example",
    "https://evil.example" and anything with a control character are refused, because
    browsers read them as other hosts."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return None
    if any(ord(ch) < 0x20 or ch == "\\" for ch in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target
