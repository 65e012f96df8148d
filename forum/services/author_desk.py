"""The author's desk: their articles with comment counts, and the comments waiting for them.

"Waiting" means either a visible top-level comment on one of their articles that nobody has
answered yet, or a visible comment anywhere in their discussions that addresses them by
``@username`` and that they haven't replied to. The whole desk costs three queries (the
articles, the counts, the waiting comments), however many comments there are."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, case, exists, func, or_, select
from sqlalchemy.orm import aliased, joinedload

from forum.extensions import db
from forum.models import Article, Comment, User, utcnow
from forum.services import mentions

WAITING_LIMIT = 100


@dataclass(frozen=True)
class DeskArticle:
    article: Article
    comments: int  # visible comments
    new: int  # visible comments by others since the desk was last marked as seen


@dataclass(frozen=True)
class Waiting:
    """A comment that waits for the author, and why."""

    comment: Comment
    unanswered: bool  # a top-level comment no one else has replied to
    addressed: bool  # mentions the author, who hasn't replied to it
    is_new: bool  # written since the desk was last marked as seen


@dataclass(frozen=True)
class Desk:
    articles: list[DeskArticle]
    waiting: list[Waiting]  # oldest first, at most ``limit``
    more_waiting: bool  # more than ``limit`` comments are waiting
    seen_at: datetime | None
    loaded_at: datetime  # the "mark all as seen" button marks up to here, not beyond

    @property
    def total_new(self) -> int:
        return sum(item.new for item in self.articles)

    @property
    def total_comments(self) -> int:
        return sum(item.comments for item in self.articles)


def _is_new(created_at: datetime, seen_at: datetime | None) -> bool:
    return seen_at is None or created_at > seen_at


def load_desk(user: User, *, limit: int | None = None, now: datetime | None = None) -> Desk:
    """Everything on ``user``'s desk, in three queries; at most ``limit`` waiting comments
    (the oldest), WAITING_LIMIT by default."""
    limit = limit or WAITING_LIMIT
    loaded_at = now or utcnow()
    seen_at = user.desk_seen_at
    own_articles = list(
        db.session.execute(
            select(Article)
            .options(joinedload(Article.series))
            .where(Article.author_id == user.id)
            .order_by(Article.published_at.desc(), Article.id.desc())
        ).scalars()
    )
    if not own_articles:
        return Desk([], [], False, seen_at, loaded_at)
    ids = [article.id for article in own_articles]

    is_new = Comment.author_id != user.id
    if seen_at is not None:
        is_new = and_(is_new, Comment.created_at > seen_at)
    counts = {
        row.article_id: row
        for row in db.session.execute(
            select(
                Comment.article_id,
                func.count(Comment.id).label("comments"),
                func.coalesce(func.sum(case((is_new, 1), else_=0)), 0).label("new"),
            )
            .where(Comment.article_id.in_(ids), Comment.is_visible)
            .group_by(Comment.article_id)
        )
    }
    desk_articles = [
        DeskArticle(
            article,
            counts[article.id].comments if article.id in counts else 0,
            counts[article.id].new if article.id in counts else 0,
        )
        for article in own_articles
    ]

    rows = db.session.execute(_waiting_query(user, ids).limit(limit + 1)).all()
    waiting = []
    handle = f"@{user.username_key}"
    for row in rows[:limit]:
        comment = row.Comment
        unanswered = comment.parent_id is None and not row.answered
        # The text match is a cheap filter ("@ann" also matches "@anna" and code); the
        # mention parser, which renders the Markdown, decides.
        addressed = (
            not row.author_replied
            and handle in comment.body_md.lower()
            and user.username_key in mentions.mentioned_names(comment.body_md)
        )
        if unanswered or addressed:
            waiting.append(
                Waiting(comment, unanswered, addressed, _is_new(comment.created_at, seen_at))
            )
    return Desk(desk_articles, waiting, len(rows) > limit, seen_at, loaded_at)


def _waiting_query(user: User, article_ids: list[int]):
    """Visible comments by others on the author's articles that are top-level and answered
    by no one but their own writer, or that name the author and have no reply from them."""
    answer = aliased(Comment)
    answered = exists().where(
        answer.parent_id == Comment.id,
        answer.is_visible,
        # Adding to one's own comment ("edit: also...") is not an answer.
        answer.author_id != Comment.author_id,
    )
    own_reply = aliased(Comment)
    author_replied = exists().where(
        own_reply.parent_id == Comment.id,
        own_reply.is_visible,
        own_reply.author_id == user.id,
    )
    names_author = func.lower(Comment.body_md).contains(f"@{user.username_key}", autoescape=True)
    return (
        select(Comment, answered.label("answered"), author_replied.label("author_replied"))
        .options(joinedload(Comment.author), joinedload(Comment.article))
        .where(
            Comment.article_id.in_(article_ids),
            Comment.is_visible,
            Comment.author_id != user.id,
            or_(
                and_(Comment.parent_id.is_(None), ~answered),
                and_(names_author, ~author_replied),
            ),
        )
        .order_by(Comment.created_at, Comment.id)
    )


def mark_seen(user: User, until: datetime | None = None, *, now: datetime | None = None) -> None:
    """Count the desk's comments up to ``until`` (when the desk was shown) as seen.

    Marking up to when the page was loaded, not to the click, keeps a comment that arrived
    in between counted as new. The mark never moves backwards."""
    now = now or utcnow()
    moment = min(until, now) if until is not None else now
    if user.desk_seen_at is None or moment > user.desk_seen_at:
        user.desk_seen_at = moment
    db.session.commit()
