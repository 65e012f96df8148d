"""Threads as trees: arranging a page's comments, without recursion.

A reader can post a reply chain thousands deep, and Python's stack ends near a thousand
frames: every walk here uses an explicit stack."""

import enum
from dataclasses import dataclass, field

from forum.models import Comment, CommentStatus, User
from forum.services import permissions


class Shown(enum.StrEnum):
    """How one comment appears to one viewer."""

    TEXT = "text"  # the comment, as anyone sees it
    OWN_HIDDEN = "own-hidden"  # its author: text plus "hidden by a moderator because..."
    OWN_PENDING = "own-pending"  # its author: text plus "awaiting review"
    OWN_REJECTED = "own-rejected"
    MOD_HIDDEN = "mod-hidden"  # a moderator: text marked hidden, with unhide
    MOD_PENDING = "mod-pending"
    MOD_REJECTED = "mod-rejected"
    HIDDEN_PLACEHOLDER = "hidden-placeholder"  # "Hidden by a moderator: spam"
    DELETED_PLACEHOLDER = "deleted-placeholder"  # "[deleted]", only while replies stand


def shown_as(comment: Comment, viewer: User | None) -> Shown | None:
    """What ``viewer`` sees of ``comment`` on its own (None: nothing, unless replies need it)."""
    status = comment.status
    if status is CommentStatus.VISIBLE:
        return Shown.TEXT
    if status is CommentStatus.DELETED:
        return None
    is_author = viewer is not None and getattr(viewer, "id", None) == comment.author_id
    is_mod = permissions.is_moderator(viewer)
    if status is CommentStatus.HIDDEN:
        if is_mod:
            return Shown.MOD_HIDDEN
        return Shown.OWN_HIDDEN if is_author else Shown.HIDDEN_PLACEHOLDER
    if status is CommentStatus.PENDING:
        if is_mod:
            return Shown.MOD_PENDING
        return Shown.OWN_PENDING if is_author else None
    if status is CommentStatus.REJECTED:
        if is_mod:
            return Shown.MOD_REJECTED
        return Shown.OWN_REJECTED if is_author else None
    return None


@dataclass
class Node:
    comment: Comment
    shown: Shown
    level: int  # display nesting level, 1 for top-level, at most the cap
    children: list["Node"] = field(default_factory=list)
    replying_to: User | None = None  # set when the reply is shown flattened at the cap
    # What the viewer sees of this comment by itself, before its replies are considered.
    own: Shown | None = None
    # On a thread's root, when the page shows only its first replies: how many more
    # readers can see, and the last one shown (where "Show more" carries on).
    more_replies: int = 0
    last_shown_id: int | None = None

    @property
    def reply_count(self) -> int:
        """Every reply below this node (counted without recursion: chains can be deep)."""
        total, stack = 0, list(self.children)
        while stack:
            node = stack.pop()
            total += 1
            stack.extend(node.children)
        return total


def build_tree(
    comments: list[Comment], root_order: list[int], viewer: User | None, max_depth: int
) -> list[Node]:
    """Arrange ``comments`` (parents before children) into threads, in linear time and
    without recursion (a reader can post a reply chain thousands deep).

    Comments the viewer can't see are dropped, unless a reply below them still stands, in
    which case they keep the thread's shape as a placeholder. Nesting deeper than
    ``max_depth`` levels is shown flat at the last level, each reply naming whom it answers."""
    by_id: dict[int, Node] = {}
    children: dict[int, list[Node]] = {}
    for comment in comments:
        own = shown_as(comment, viewer)
        node = Node(comment=comment, shown=own or Shown.DELETED_PLACEHOLDER, level=0, own=own)
        by_id[comment.id] = node
        if comment.parent_id is not None:
            children.setdefault(comment.parent_id, []).append(node)

    roots = []
    for root_id in root_order:
        root = by_id.get(root_id)
        if root is not None and _prune(root, children):
            roots.append(root)
    cap = max(max_depth, 1)
    for root in roots:
        _assign_levels(root, cap)
    return roots


def _prune(root: Node, children: dict[int, list[Node]]) -> bool:
    """Keep a node if the viewer sees it or any reply below it stays (post-order, iterative);
    whether the root stays is returned."""
    order: list[Node] = []
    stack = [root]
    while stack:
        node = stack.pop()
        order.append(node)
        stack.extend(children.get(node.comment.id, []))
    kept: dict[int, bool] = {}
    for node in reversed(order):  # every child before its parent
        node.children = [c for c in children.get(node.comment.id, []) if kept[c.comment.id]]
        stays = node.own is not None or bool(node.children)
        if node.own is None and node.children:
            node.shown = (
                Shown.HIDDEN_PLACEHOLDER
                if node.comment.status is CommentStatus.HIDDEN
                else Shown.DELETED_PLACEHOLDER
            )
        kept[node.comment.id] = stays
    return kept[root.comment.id]


def _assign_levels(root: Node, cap: int) -> None:
    """Set display levels; at the cap, hoist all descendants into one flat list in reading
    order, each naming whom it answers."""
    stack = [(root, 1)]
    while stack:
        node, level = stack.pop()
        node.level = level
        if level < cap:
            stack.extend((child, level + 1) for child in node.children)
            continue
        flat: list[Node] = []
        walk = [(child, node) for child in reversed(node.children)]
        while walk:
            child, parent = walk.pop()
            child.level = cap
            child.replying_to = parent.comment.author
            flat.append(child)
            walk.extend((grandchild, child) for grandchild in reversed(child.children))
            child.children = []
        node.children = flat
