"""Names that can't impersonate: confusable skeletons and the check every new name passes.

A display name may be written in any script, which also lets "ṭheo", "th\u0435\u043e" (with
Cyrillic letters), "the0" or "T h e o" pass for @theo. Each name is reduced to a *skeleton*, after
Unicode's Technical Standard #39 (Security Mechanisms): characters that look alike map to one
representative, using the confusables table (``confusables.txt``) as the
``confusable-homoglyphs`` package ships it. We go further than the standard's skeleton, on
purpose, because the question here is "could a reader take one for the other", not "are the
strings identical after mapping":

- letter case is folded (NFKC then ``casefold``), and the mapping applied again after
  folding, so "THEO", "Theo" and "theo" agree and "0" (which looks like "O") ~ "o"; a new
  name is also compared mapped before folding, where a capital "I" ~ "l" (which it looks
  like) rather than "i";
- accents and other combining marks are dropped ("Théo" ~ "Theo");
- spaces, punctuation and invisible characters are dropped ("T.h e-o" ~ "theo");
- look-alikes are joined transitively (if a ~ b and b ~ c then a ~ c), and each group is
  represented by an ASCII letter when it has one.

Two names whose skeletons are equal are confusable. A staff member's name is guarded more
widely: "Theo (mod)", "theo_admin" or "Official Theo" are refused too, by taking staff words
off either end of the skeleton before comparing."""

import hashlib
import json
import string
import unicodedata
from functools import cache
from importlib import resources

from sqlalchemy import or_, select, text

from forum.extensions import db
from forum.models import Role, User
from forum.services.errors import NotAllowed
from forum.services.words import _l

SKELETON_MAX = 255  # the column's length: a few rare characters expand under NFKC
STAFF_ROLES = (Role.MODERATOR, Role.ADMIN)
# Words that, added to a staff member's name, make it look official.
STAFF_WORDS = (
    "administrator",
    "moderator",
    "official",
    "admin",
    "staff",
    "team",
    "mod",
    "the",
    "real",
)


@cache
def _representatives() -> dict[str, str]:
    """Each confusable character's group representative (built once, about 10,000 pairs)."""
    table = json.loads(
        resources.files("confusable_homoglyphs").joinpath("confusables.json").read_text("utf-8")
    )
    parent: dict[str, str] = {}

    def find(ch: str) -> str:
        root = ch
        while parent.get(root, root) != root:
            root = parent[root]
        while parent.get(ch, ch) != root:  # path compression
            parent[ch], ch = root, parent[ch]
        return root

    def join(a: str, b: str) -> None:
        root_a, root_b = find(a), find(b)
        if root_a != root_b:
            parent[root_a] = root_b

    for source, glyphs in table.items():
        source = _strip_invisible(source)
        for glyph in glyphs:
            target = _strip_invisible(glyph["c"])
            # Only one-to-one look-alikes: "rn" for "m" is a pair of letters, not a glyph.
            if len(source) == 1 and len(target) == 1:
                join(source, target)

    groups: dict[str, list[str]] = {}
    for ch in parent:
        groups.setdefault(find(ch), []).append(ch)
    representative = {}
    for members in groups.values():
        best = min(members, key=_preference)
        for ch in members:
            representative[ch] = best
    return representative


def _preference(ch: str) -> tuple[int, int]:
    """Which member stands for a group: an ASCII letter (lower case first: "0" and "O" are
    one group, represented by "O", which then folds to "o"), then a digit, then any."""
    if ch in string.ascii_lowercase:
        return (0, ord(ch))
    if ch in string.ascii_uppercase:
        return (1, ord(ch))
    if ch in string.digits:
        return (2, ord(ch))
    return (3 if ch.isascii() else 4, ord(ch))


def _strip_invisible(text: str) -> str:
    """Without format characters (bidi marks, zero-width joiners): they draw nothing."""
    return "".join(ch for ch in text if unicodedata.category(ch) != "Cf")


def skeleton(name: str) -> str:
    """The form two look-alike names share (see the module docstring), as stored for each
    account: case folded first. Empty for a name made only of spaces and punctuation."""
    return _skeleton(name, fold_first=True)


def candidate_skeletons(name: str) -> set[str]:
    """The skeletons a new name is compared by: case folded first ("ALICE" ~ "alice") and
    mapped first (a capital "I" looks like "l": "aIice" ~ "alice")."""
    return {_skeleton(name, fold_first=True), _skeleton(name, fold_first=False)} - {""}


def _skeleton(name: str, *, fold_first: bool) -> str:
    representative = _representatives()
    text = unicodedata.normalize("NFKC", name)
    if fold_first:
        text = text.casefold()
    for _ in range(4):  # until nothing changes: a representative may fold further
        mapped = "".join(representative.get(ch, ch) for ch in text)
        mapped = unicodedata.normalize("NFKC", mapped).casefold()
        if mapped == text:
            break
        text = mapped
    decomposed = unicodedata.normalize("NFD", text)
    kept = "".join(
        representative.get(ch, ch)
        for ch in decomposed
        if unicodedata.category(ch)[0] in "LN"  # letters and digits; marks, spaces, dots go
    )
    return kept[:SKELETON_MAX]


@cache
def _staff_word_skeletons() -> tuple[str, ...]:
    return tuple(sorted({skeleton(word) for word in STAFF_WORDS}, key=len, reverse=True))


def staff_variants(name_skeleton: str) -> set[str]:
    """The skeleton and what is left of it with staff words taken off either end: the
    names a staff member's would have to equal for ``name`` to pose as them."""
    found = {name_skeleton}
    todo = [name_skeleton]
    while todo:
        current = todo.pop()
        for word in _staff_word_skeletons():
            for rest in (
                current.removeprefix(word) if current.startswith(word) else None,
                current.removesuffix(word) if current.endswith(word) else None,
            ):
                if rest and rest not in found:
                    found.add(rest)
                    todo.append(rest)
    return found


# The first key of the advisory locks taken for name checks ("NAME" in ASCII): keeps them
# apart from any other use of PostgreSQL's advisory locks.
_LOCK_CLASS = 0x4E414D45


def _take_turns(skeletons: set[str]) -> None:
    """On PostgreSQL, two transactions checking look-alike names at once would each miss
    the other's name, not committed yet: a transaction-scoped advisory lock per skeleton
    makes them take turns (in a fixed order: no deadlock). SQLite serializes writers."""
    if db.session.get_bind().dialect.name != "postgresql":
        return
    keys = {
        int.from_bytes(hashlib.sha256(each.encode()).digest()[:4], "big", signed=True)
        for each in skeletons
    }
    for key in sorted(keys):
        db.session.execute(
            text("SELECT pg_advisory_xact_lock(:lock_class, :key)"),
            {"lock_class": _LOCK_CLASS, "key": key},
        )


def look_alike_owner(name: str, *, exclude: User | None = None) -> User | None:
    """The account whose username or display name ``name`` could be taken for, or None.

    Compared with every other account's username and display name (deleted accounts' names
    are gone, their usernames stay reserved), and, more widely, with staff members' names
    (see :func:`staff_variants`). One query on the indexed skeleton columns; on PostgreSQL
    the checks of look-alike names take turns until the transaction ends."""
    skeletons = candidate_skeletons(name)
    if not skeletons:
        return None
    variants = set().union(*(staff_variants(each) for each in skeletons))
    _take_turns(skeletons | variants)
    staff = User.role.in_(STAFF_ROLES)
    query = select(User).where(
        or_(
            User.username_skeleton.in_(skeletons),
            User.display_name_skeleton.in_(skeletons) & User.deleted_at.is_(None),
            staff & User.username_skeleton.in_(variants),
            staff & User.display_name_skeleton.in_(variants) & User.deleted_at.is_(None),
        )
    )
    if exclude is not None and exclude.id is not None:
        query = query.where(User.id != exclude.id)
    # Staff first: the message should name the one a reader would most want to tell apart.
    candidates = db.session.execute(query.limit(10)).scalars().all()
    candidates.sort(key=lambda user: (user.role not in STAFF_ROLES, user.id))
    return candidates[0] if candidates else None


def look_alike_problem(name: str, *, exclude: User | None = None) -> str | None:
    """Why ``name`` can't be used because it impersonates someone, or None."""
    owner = look_alike_owner(name, exclude=exclude)
    if owner is None:
        return None
    return _l(
        "That name looks too much like @%(username)s's. Please choose another.",
        username=owner.username,
    )


def check_name(name: str, field: str, *, exclude: User | None = None) -> None:
    """Refuse ``name`` (NotAllowed on ``field``) when it could pass for someone else's."""
    if problem := look_alike_problem(name, exclude=exclude):
        raise NotAllowed(problem, field=field)


def set_skeletons(user: User) -> None:
    """Store the skeletons of the user's current names (after any change to them)."""
    user.username_skeleton = skeleton(user.username)
    user.display_name_skeleton = skeleton(user.display_name) if user.display_name else None
