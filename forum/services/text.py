"""Cleaning of user-written text before it is stored."""

import re
import unicodedata

# Bidirectional embedding, override and isolate controls, and the implicit marks: harmless
# in a comment body but used to spoof names (an RTL override turns "evil‮gnp.exe" around).
_BIDI_CONTROLS = dict.fromkeys(
    map(ord, "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
)


def strip_control_characters(text: str) -> str:
    """Normalise newlines and drop C0/C1 control characters except newline and tab.

    Everything else (emoji, right-to-left text, combining marks, zero-width joiners) is
    kept exactly as written."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch) != "Cc")


def clean_display_name(name: str | None) -> str | None:
    """A display name in any script, minus control and bidirectional control characters."""
    if name is None:
        return None
    cleaned = strip_control_characters(name).translate(_BIDI_CONTROLS)
    cleaned = re.sub(r"\s+", " ", cleaned).strip()
    return cleaned or None


def is_blank(text: str) -> bool:
    """True for empty text or text made only of white space (Unicode spaces included)."""
    return not text.strip() and not any(
        unicodedata.category(ch) not in ("Zs", "Cc", "Cf", "Zl", "Zp") for ch in text
    )
