"""What the Atom feeds list: the newest visible comments (never hidden, pending or deleted)."""

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from forum.extensions import db
from forum.models import Article, Comment, User

FEED_SIZE = 50


def newest_comments(
    *, article: Article | None = None, author: User | None = None, limit: int = FEED_SIZE
) -> list[Comment]:
    """The newest visible comments, of one article or one author or the whole site, with
    their authors and articles (one query)."""
    query = (
        select(Comment)
        .options(joinedload(Comment.author), joinedload(Comment.article))
        .where(Comment.is_visible)
        .order_by(Comment.created_at.desc(), Comment.id.desc())
        .limit(limit)
    )
    if article is not None:
        query = query.where(Comment.article_id == article.id)
    if author is not None:
        query = query.where(Comment.author_id == author.id)
    return list(db.session.execute(query).scalars())
