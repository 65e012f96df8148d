"""``@username`` mentions: finding them in a comment and resolving them to people."""

import re
from html.parser import HTMLParser

from sqlalchemy import select

from forum.extensions import db
from forum.models import User
from forum.services.sanitize import render_markdown

# The same characters usernames are made of; "@" must not follow a word character, so
# e-mail addresses (ada@example.com) are not mentions.
MENTION = re.compile(r"(?<![\w@/])@([A-Za-z0-9_-]{3,30})\b")


class _MentionFinder(HTMLParser):
    """Collects @names from rendered text outside links and code, where the renderer links
    them too; so every mention that notifies is one the reader sees as a profile link."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.names: set[str] = set()
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs) -> None:
        if tag in ("a", "code", "pre"):
            self._skipping += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in ("a", "code", "pre") and self._skipping:
            self._skipping -= 1

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self.names.update(match.group(1).lower() for match in MENTION.finditer(data))


def mentioned_names(body: str) -> set[str]:
    """Lower-cased names written as @name outside code and links.

    Found in the rendered Markdown, not the source: code comes in too many forms (fences of
    backticks or tildes, indented blocks, spans of one or more backticks, escaped backticks
    that aren't code at all) for a pattern over the source to agree with the renderer."""
    if "@" not in body and "&" not in body:  # no "@", nor an entity that could write one
        return set()
    finder = _MentionFinder()
    finder.feed(render_markdown(body))
    finder.close()
    return finder.names


# At most this many people are linked and notified from one comment, so a comment can't be
# used to ping the whole membership.
MAX_MENTIONS = 10


def resolve(names: set[str]) -> dict[str, User]:
    """The existing accounts among ``names`` (one query), keyed by lower-cased name; the
    first MAX_MENTIONS names in alphabetical order count, the rest stay plain text."""
    if not names:
        return {}
    names = set(sorted(names)[:MAX_MENTIONS])
    users = db.session.execute(
        select(User).where(User.username_key.in_(names), User.deleted_at.is_(None))
    ).scalars()
    return {user.username_key: user for user in users}
