"""``@username`` mentions: finding them in a comment and resolving them to people.

The names are found by the renderer itself (:func:`forum.services.sanitize.render_comment`),
in the same pass that produces the HTML, so every mention that notifies is one the reader
sees as a profile link, and a comment is rendered once."""

from dataclasses import dataclass

from sqlalchemy import select

from forum.extensions import db
from forum.models import User
from forum.services.sanitize import render_comment

# At most this many people are linked and notified from one comment, so a comment can't be
# used to ping the whole membership.
MAX_MENTIONS = 10


@dataclass(frozen=True)
class RenderedComment:
    """A comment body's HTML with its mentions of existing accounts linked, and those
    accounts keyed by lower-cased name (the people to notify)."""

    html: str
    mentioned: dict[str, User]


def render_with_mentions(body: str) -> RenderedComment:
    """Render ``body`` once, look its @names up with one query (none when there are no
    mentions), and link the accounts that exist."""
    rendered = render_comment(body)
    users = resolve(set(rendered.mentions))
    spellings = {key: user.username for key, user in users.items()}
    return RenderedComment(rendered.linked(spellings), users)


def mentioned_names(body: str) -> set[str]:
    """Lower-cased names written as @name outside code and links.

    Found in the rendered Markdown, not the source: code comes in too many forms (fences of
    backticks or tildes, indented blocks, spans of one or more backticks, escaped backticks
    that aren't code at all) for a pattern over the source to agree with the renderer."""
    if "@" not in body and "&" not in body:  # no "@", nor an entity that could write one
        return set()
    return set(render_comment(body).mentions)


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
