"""A rendered comment whose ``@name`` mentions are decided after rendering.

:func:`forum.services.sanitize.render_comment` renders once and leaves each mention as a
:class:`Mention` slot; once the names are resolved to accounts (one query),
:meth:`Rendered.linked` fills the slots with profile links, without rendering again."""

import html
from collections.abc import Mapping
from dataclasses import dataclass

from forum.services.usernames import is_valid_username

# On every link the renderer writes, Markdown links and mention links alike.
LINK_REL = "nofollow ugc noopener"


@dataclass(frozen=True)
class Mention:
    """A place in the output where ``@name`` was written (as written, before lower-casing)."""

    name: str

    def as_text(self) -> str:
        return html.escape(f"@{self.name}", quote=False)


class Rendered:
    """Sanitized HTML whose ``@name`` mentions are not yet decided: each is a slot that
    :meth:`linked` fills with a profile link or leaves as text."""

    __slots__ = ("_pieces", "html", "mentions")

    def __init__(self, pieces: list[str | Mention], mentions: frozenset[str]) -> None:
        self._pieces = pieces
        self.mentions = mentions
        # The HTML with every mention as plain text: what a body with no known names shows.
        self.html = "".join(p if isinstance(p, str) else p.as_text() for p in pieces)

    def linked(self, spellings: Mapping[str, str]) -> str:
        """The HTML with each mention whose lower-cased name is in ``spellings`` linked to
        ``/users/<spelling>``; other mentions stay text. A spelling outside the username
        characters is refused, so the inserted markup can't carry anything else."""
        if not spellings or not self.mentions:
            return self.html
        parts = []
        for piece in self._pieces:
            if isinstance(piece, str):
                parts.append(piece)
                continue
            username = spellings.get(piece.name.lower())
            if username is None or not is_valid_username(username):
                parts.append(piece.as_text())
            else:
                parts.append(
                    f'<a href="/users/{username}" rel="{LINK_REL}">@{html.escape(piece.name)}</a>'
                )
        return "".join(parts)
