"""Writing and changing articles in the browser (/articles/new, /articles/<slug>/edit).

The rules are :func:`forum.services.article_rules.check_article`, shared with the importer;
this module adds who may write, the author's follow, and what a lost race looks like."""

from sqlalchemy.exc import IntegrityError

from forum.extensions import db
from forum.models import Article, User, utcnow
from forum.services import article_rules, community, permissions
from forum.services.article_rules import ArticleDraft
from forum.services.errors import Forbidden, ValidationFailed
from forum.services.wording import _l


def _explain_race(draft: ArticleDraft, article: Article | None, body_max: int) -> None:
    """After a unique constraint caught what the checks missed (someone saved at the same
    moment), say which field: the checks, run again, now see the other article."""
    article_rules.check_article(draft, article, body_max)
    raise ValidationFailed(
        {"slug": _l("Someone saved an article with this slug or position a moment ago.")}
    )


def create_article(user: User, draft: ArticleDraft, *, body_max: int = 100_000) -> Article:
    """Publish a new article by ``user``, who then follows its discussion."""
    if not permissions.can_write_articles(user):
        raise Forbidden(_l("Only authors, moderators and admins can write articles."))
    checked = article_rules.check_article(draft, None, body_max)
    article = Article(author=user, published_at=utcnow())
    try:
        article_rules.apply(article, checked)
        db.session.add(article)
        db.session.flush()
        community.add_follow(user, article)  # authors hear about their readers
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        _explain_race(draft, None, body_max)
    return article


def update_article(
    user: User,
    article: Article,
    draft: ArticleDraft,
    *,
    body_max: int = 100_000,
) -> Article:
    """Change an article: its author, or any moderator or admin. The author stays the same."""
    if not permissions.can_edit_article(user, article):
        raise Forbidden(_l("You can only edit your own articles."))
    checked = article_rules.check_article(draft, article, body_max)
    try:
        article_rules.apply(article, checked)
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        _explain_race(draft, article, body_max)
    return article


def draft_of(article: Article) -> ArticleDraft:
    """The form's starting values for editing ``article``."""
    return ArticleDraft(
        title=article.title,
        slug=article.slug,
        summary=article.summary,
        body=article.body_md,
        series_id=article.series_id,
        position=article.position,
    )
