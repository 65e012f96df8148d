"""``@username`` mentions: finding them in a comment's source and resolving them to people."""

import re

from sqlalchemy import select

from forum.extensions import db
from forum.models import User

# The same characters usernames are made of; "@" must not follow a word character, so
# e-mail addresses (ada@example.com) are not mentions.
MENTION = re.compile(r"(?<![\w@/])@([A-Za-z0-9_-]{3,30})\b")
_CODE = re.compile(r"```.*?```|`[^`\n]*`", re.DOTALL)


def mentioned_names(body: str) -> set[str]:
    """Lower-cased names written as @name outside code."""
    text = _CODE.sub(" ", body)
    return {match.group(1).lower() for match in MENTION.finditer(text)}


def resolve(names: set[str]) -> dict[str, User]:
    """The existing accounts among ``names`` (one query), keyed by lower-cased name."""
    if not names:
        return {}
    users = db.session.execute(
        select(User).where(User.username_key.in_(names), User.deleted_at.is_(None))
    ).scalars()
    return {user.username_key: user for user in users}
