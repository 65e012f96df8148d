"""What a username is made of, and how an ``@name`` mention is written: one definition.

Account validation, mention detection and the renderer that links mentions all read these,
so a name that can be registered is exactly a name that can be mentioned and linked."""

import re

from forum.services.words import _l

# ASCII only: no look-alike letters from other scripts, no right-to-left tricks. The
# renderer relies on this set too: a linked name goes into an href unescaped-safe.
USERNAME_CHARS = "A-Za-z0-9_-"
USERNAME_MIN, USERNAME_MAX = 3, 30
USERNAME_PATTERN = re.compile(f"[{USERNAME_CHARS}]{{{USERNAME_MIN},{USERNAME_MAX}}}")
USERNAME_RULE = _l(
    "%(min)s to %(max)s characters: ASCII letters, digits, _ and -",
    min=USERNAME_MIN,
    max=USERNAME_MAX,
)

# "@name" not preceded by a word character, "@" or "/", so e-mail addresses
# (ada@example.com) and paths are not mentions. Group 1 is the name as written.
MENTION_PATTERN = re.compile(
    f"(?<![\\w@/])@([{USERNAME_CHARS}]{{{USERNAME_MIN},{USERNAME_MAX}}})\\b"
)


def is_valid_username(name: str) -> bool:
    """True if ``name`` is made only of the username characters, in the allowed length."""
    return USERNAME_PATTERN.fullmatch(name) is not None
