"""Cleaning of user-written text before it is stored."""

import re
import unicodedata

# Bidirectional embedding, override and isolate controls, and the implicit marks: harmless
# in a comment body but used to spoof names (an RTL override turns "evil‮gnp.exe" around).
_BIDI_CONTROLS = dict.fromkeys(
    map(ord, "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
)


# What no stored text keeps: C0 controls but tab and newline, DEL and the C1 controls, lone
# surrogates (UTF-16 halves, which no encoder accepts), and the 66 noncharacters
# (U+FDD0-U+FDEF and the last two code points of every plane). They are valid in a Python
# string and in the database, but XML refuses them: one U+FFFF in a comment made every Atom
# feed that listed it fail (lxml raises), and PostgreSQL refuses NUL outright.
_NONCHARACTERS = "".join(
    f"{chr(plane | 0xFFFE)}-{chr(plane | 0xFFFF)}" for plane in range(0, 0x110000, 0x10000)
)
_UNWANTED = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufdd0-\ufdef" + _NONCHARACTERS + "]"
)


def clean_text(text: str | None) -> str:
    """User-written text as it is stored: newlines normalised to ``\\n``, the characters
    above dropped, then NFC (so the same words typed on two systems compare equal).

    Everything else (emoji, right-to-left text, combining marks, zero-width joiners) is
    kept as written. The one normaliser for every field a person types."""
    if not text:
        return ""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return unicodedata.normalize("NFC", _UNWANTED.sub("", text))


def clean_optional(text: str | None) -> str | None:
    """``clean_text`` for a field that may be absent (None stays None)."""
    return None if text is None else clean_text(text)


def strip_control_characters(text: str) -> str:
    """The old name of ``clean_text``, kept for its callers."""
    return clean_text(text)


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


def xml_safe(text: str | None) -> str:
    """``text`` without the characters XML can't hold, for output built with lxml (the
    feeds): rows stored before the normaliser existed may still contain them, and one
    such character must not take a whole feed down."""
    return _UNWANTED.sub("", text or "")


def count_of(number: int, singular: str, plural: str | None = None) -> str:
    """'1 report', '2 reports', '0 links': a number with its noun in the right form.

    Whole phrases stay in one string, so they can be translated later."""
    noun = singular if number == 1 else (plural or f"{singular}s")
    return f"{number:,} {noun}"
