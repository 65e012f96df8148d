"""Synthetic discussions for benchmarks and load tests.

``plan_discussion`` decides the shape (who replies to whom, when, with what text) without
touching the database, so the benchmark can post the same plan through the real posting
path. ``populate_article`` writes a plan in bulk: synthetic accounts with an unusable
password, then comments by ``INSERT ... VALUES`` in batches with ids computed here, so
100,000 comments take seconds rather than the hours the ORM unit of work would need.

Everything is drawn from one ``random.Random(seed)``: the same seed gives the same
discussion (ids aside, which follow whatever the table already holds)."""

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal, NamedTuple

from sqlalchemy import func, insert, select, text

from forum.extensions import db
from forum.models import Article, Comment, CommentStatus, Role, User, Vote, utcnow
from forum.services import discussion_state
from forum.services.sanitize import render_markdown

Shape = Literal["populate", "realistic"]
SHAPES: tuple[str, ...] = ("populate", "realistic")

# Not an argon2 hash: verification fails with InvalidHash, so nobody can log in as these.
UNUSABLE_PASSWORD = "!synthetic"  # noqa: S105 (a marker, not a secret)
SYNTH_PREFIX = "synth-"
BATCH_SIZE = 5_000


class PlannedComment(NamedTuple):
    index: int  # position in posting order, 0-based
    parent_index: int | None  # an earlier index, or None for a top-level comment
    offset_seconds: float  # after the discussion's start; increases along every reply chain
    body: str  # Markdown


# --- bodies ----------------------------------------------------------------------------------

_VOCABULARY = (
    "the this that a an it we you they I some most each every other any no more less "
    "page thread reply comment article point idea example reason question answer case "
    "version test cache query index table server client request result number error "
    "problem change detail part way time day week word line draft note list link "
    "think agree disagree wonder suspect doubt mean read wrote tried measured found "
    "changed fixed broke missed expected saw liked quoted asked answered "
    "good bad slow fast small large simple clear odd useful wrong right careful "
    "here there again still also only really probably perhaps maybe later today "
    "and but or so because if when while although since"
)
_WORDS = _VOCABULARY.split()
_OPENERS = ("I think", "Good point:", "Not sure", "Thanks,", "Agreed,", "Well,", "Hmm,", "Yes,")
_CODE = ("select 1", "x = x + 1", "git log --oneline", "len(items)", "make test", "ls -l")


def _sentence(rng: random.Random) -> str:
    words = [rng.choice(_WORDS) for _ in range(rng.randint(4, 16))]
    roll = rng.random()
    if roll < 0.06:
        i = rng.randrange(len(words))
        words[i] = f"*{words[i]}*"
    elif roll < 0.09:
        words.insert(rng.randrange(len(words)), f"`{rng.choice(_CODE)}`")
    elif roll < 0.11:
        word = rng.choice(_WORDS)
        words.append(f"[{word}](https://example.org/{word}/{rng.randrange(1000)})")
    text = " ".join(words)
    if rng.random() < 0.3:
        text = f"{rng.choice(_OPENERS)} {text}"
    return text[0].upper() + text[1:] + rng.choice(".....?!")


def _body(rng: random.Random) -> str:
    """A body of 1 to ~20 sentences in 1 to 4 paragraphs; short ones are the most common."""
    paragraphs = 1 if rng.random() < 0.7 else rng.randint(2, 4)
    return "\n\n".join(
        " ".join(_sentence(rng) for _ in range(min(8, int(rng.paretovariate(1.3)))))
        for _ in range(paragraphs)
    )


def body_pool(rng: random.Random, size: int) -> list[str]:
    """``size`` distinct-ish bodies; comments pick from these so rendering stays bounded."""
    return [_body(rng) for _ in range(size)]


# --- shapes ----------------------------------------------------------------------------------


def _thread_sizes(count: int, rng: random.Random, shape: Shape) -> list[int]:
    """How many comments (root included) each top-level thread holds, in posting order."""
    if count <= 0:
        return []
    if shape == "realistic":
        # ~40 threads for 1,000 comments, sized like Zipf (1/rank) with jitter, shuffled:
        # most comments are replies and the first page of 50 threads holds all of them.
        threads = max(1, min(count, round(count / 25)))
        weights = [rng.uniform(0.6, 1.4) / (rank + 1) for rank in range(threads)]
        total = sum(weights)
        sizes = [1 + int((count - threads) * w / total) for w in weights]
        for i in range(count - sum(sizes)):  # rounding leftovers go to the biggest threads
            sizes[i % threads] += 1
        rng.shuffle(sizes)
        return sizes
    # "populate": most threads are a lone comment (Pareto, alpha 2), plus a few hot threads
    # with thousands of replies at 100,000 (5 %, 3 %, 2 % of the discussion).
    hot = [max(2, int(count * share)) for share in (0.05, 0.03, 0.02)] if count >= 200 else []
    sizes: list[int] = []
    left = count - sum(hot)
    while left > 0:
        size = min(left, int(rng.paretovariate(2.0)), 300)
        sizes.append(size)
        left -= size
    # One hot thread among the first 50 (the first page, oldest first), the others anywhere,
    # so the first page of a big discussion has a thread with thousands of replies in it.
    for n, size in enumerate(hot):
        at = rng.randrange(min(len(sizes), 50)) if n == 0 else rng.randrange(len(sizes) + 1)
        sizes.insert(at, size)
    return sizes


def _pick_parent(rng: random.Random, depths: list[int], max_depth: int) -> int:
    """The position (within its thread) of the comment a new reply answers.

    Conversations: often the latest comment or one of the few before it, sometimes the root,
    sometimes anything earlier; never one already at ``max_depth``."""
    n = len(depths)
    roll = rng.random()
    if roll < 0.25:
        choice = 0
    elif roll < 0.75:
        choice = max(0, n - 1 - int(rng.expovariate(0.7)))
    else:
        choice = rng.randrange(n)
    while depths[choice] >= max_depth:
        choice = rng.randrange(choice + 1) if choice else 0
    return choice


def plan_discussion(
    count: int, seed: int = 0, max_depth: int = 10, shape: Shape = "populate"
) -> Iterator[PlannedComment]:
    """Plan ``count`` comments of one discussion, in posting order (parents first).

    ``shape`` is ``"populate"`` (most comments top-level, a few hot threads with thousands of
    replies) or ``"realistic"`` (most comments are replies; about 40 threads per 1,000
    comments, of very different sizes). Depth never exceeds ``max_depth``; times spread over
    about two weeks and strictly increase from each comment to its replies."""
    if shape not in SHAPES:
        raise ValueError(f"unknown shape {shape!r}: expected one of {SHAPES}")
    rng = random.Random(seed)
    bodies = body_pool(rng, max(20, min(2_000, count // 2)))
    span = 14 * 24 * 3600.0
    sizes = _thread_sizes(count, rng, shape)
    # (time, thread, position in thread, parent position in thread) for every comment.
    timeline: list[tuple[float, int, int, int | None]] = []
    for thread, size in enumerate(sizes):
        start = span * (thread + rng.random()) / len(sizes)
        length = min(span - start, 3600.0 * rng.uniform(1, 96))
        times = sorted(start + length * rng.random() for _ in range(size - 1))
        timeline.append((start, thread, 0, None))
        depths = [0]
        previous = start
        for position, moment in enumerate(times, start=1):
            moment = max(moment, previous + 1.0)  # a reply is at least a second newer
            previous = moment
            parent = _pick_parent(rng, depths, max_depth) if max_depth > 0 else 0
            depths.append(depths[parent] + 1)
            timeline.append((moment, thread, position, parent))
    timeline.sort()
    index_of: dict[tuple[int, int], int] = {}
    for index, (moment, thread, position, parent) in enumerate(timeline):
        index_of[(thread, position)] = index
        parent_index = None if parent is None else index_of[(thread, parent)]
        yield PlannedComment(index, parent_index, moment, rng.choice(bodies))


# --- writing ---------------------------------------------------------------------------------


@dataclass
class PopulateResult:
    comments: int
    accounts: int
    votes: int
    renders: int  # distinct bodies rendered through the sanitizer


def comment_row(
    comment_id: int,
    article_id: int,
    author_id: int,
    parent: dict | None,
    body_md: str,
    body_html: str,
    created_at: datetime,
    helpful_count: int,
) -> dict:
    """One ``comments`` row as inserted in bulk: add a stored column here, in one place."""
    return {
        "id": comment_id,
        "article_id": article_id,
        "author_id": author_id,
        "parent_id": parent["id"] if parent else None,
        "root_id": (parent["root_id"] or parent["id"]) if parent else None,
        "depth": parent["depth"] + 1 if parent else 0,
        "body_md": body_md,
        "body_html": body_html,
        "status": CommentStatus.VISIBLE,
        "created_at": created_at,
        "helpful_count": helpful_count,
        # Nobody is told about synthetic comments (notifications send would catch them up).
        "notified_at": created_at,
    }


def synthetic_accounts(count: int) -> list[int]:
    """Ids of ``count`` synthetic readers (``synth-000000``...), creating those missing."""
    names = [f"{SYNTH_PREFIX}{n:06d}" for n in range(count)]
    existing = dict(
        db.session.execute(
            select(User.username_key, User.id).where(User.username_key.startswith(SYNTH_PREFIX))
        ).all()
    )
    missing = [name for name in names if name not in existing]
    now = utcnow()
    for start in range(0, len(missing), BATCH_SIZE):
        db.session.execute(
            insert(User),
            [
                {
                    "username": name,
                    "username_key": name,
                    "password_hash": UNUSABLE_PASSWORD,
                    "role": Role.READER,
                    "created_at": now - timedelta(days=30),
                    "session_token": f"synthetic-{name}",
                }
                for name in missing[start : start + BATCH_SIZE]
            ],
        )
    if missing:
        existing = dict(
            db.session.execute(
                select(User.username_key, User.id).where(User.username_key.in_(names))
            ).all()
        )
    return [existing[name] for name in names]


def populate_article(
    article: Article,
    count: int,
    *,
    seed: int = 0,
    max_depth: int = 10,
    shape: Shape = "populate",
    progress: Callable[[int], None] | None = None,
) -> PopulateResult:
    """Add ``count`` synthetic comments to ``article`` in bulk and commit once at the end.

    ``progress`` is called with the number of comments inserted by each batch."""
    rng = random.Random(seed ^ 0x5EED)
    author_ids = synthetic_accounts(max(2, min(count // 20, 2_000)))
    next_id = (db.session.execute(select(func.max(Comment.id))).scalar() or 0) + 1
    plan = list(plan_discussion(count, seed, max_depth, shape))
    start = utcnow() - timedelta(seconds=(plan[-1].offset_seconds if plan else 0) + 60)
    rendered: dict[str, str] = {}
    rows: list[dict] = []  # by plan index
    votes: list[dict] = []
    batch: list[dict] = []
    for planned in plan:
        html = rendered.get(planned.body)
        if html is None:
            html = rendered[planned.body] = render_markdown(planned.body)
        author_id = rng.choice(author_ids)
        created = start + timedelta(seconds=planned.offset_seconds)
        voters = _voters(rng, author_ids, author_id)
        parent = rows[planned.parent_index] if planned.parent_index is not None else None
        row = comment_row(
            next_id + planned.index,
            article.id,
            author_id,
            parent,
            planned.body,
            html,
            created,
            len(voters),
        )
        rows.append(row)
        batch.append(row)
        votes.extend(
            {"comment_id": row["id"], "user_id": voter, "created_at": created} for voter in voters
        )
        if len(batch) >= BATCH_SIZE:
            _flush(batch, votes, progress)
    _flush(batch, votes, progress)
    _advance_id_sequence()
    # Bulk inserts bypass the ORM's flush hook: count the threads and bump the version here.
    discussion_state.recount([article.id])
    db.session.commit()
    _refresh_planner_statistics()
    return PopulateResult(
        len(rows), len(author_ids), sum(r["helpful_count"] for r in rows), len(rendered)
    )


def _voters(rng: random.Random, author_ids: list[int], author_id: int) -> set[int]:
    """A few helpful votes: most comments none, some one to a handful, never the author's."""
    if rng.random() >= 0.08:
        return set()
    wanted = min(len(author_ids) - 1, int(rng.paretovariate(1.5)))
    voters: set[int] = set()
    while len(voters) < wanted:
        voter = rng.choice(author_ids)
        if voter != author_id:
            voters.add(voter)
    return voters


def _advance_id_sequence() -> None:
    """PostgreSQL's id sequence didn't see the ids given here: move it past them, or the
    next comment posted normally would collide."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(
            text(
                "SELECT setval(pg_get_serial_sequence('comments', 'id'), "
                "(SELECT COALESCE(MAX(id), 1) FROM comments))"
            )
        )


def _refresh_planner_statistics() -> None:
    """PostgreSQL plans from table statistics that autovacuum refreshes only some time after a
    bulk load; until then a page of a 100,000-comment discussion can be planned as if the
    table were empty (minutes instead of milliseconds). A real site's tables have fresh
    statistics, so a benchmark right after populating should too."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("ANALYZE users, comments, votes"))
        db.session.commit()


def _flush(batch: list[dict], votes: list[dict], progress: Callable[[int], None] | None) -> None:
    if batch:
        db.session.execute(insert(Comment), batch)
    if votes:
        db.session.execute(insert(Vote), votes)
    if progress is not None and batch:
        progress(len(batch))
    batch.clear()
    votes.clear()
