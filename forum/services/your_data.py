"""Your data: everything a member wrote, as one JSON document, and deleting an account.

The export holds the member's own words and acts, never other people's private data: not
who reported their comments, not the moderators' private notes, not who hid a comment.

A deleted account keeps its row, so threads keep their shape and the username stays
reserved; what identifies the person (email, display name, password) is cleared, and every
session ends. Their comments either stay, signed "[deleted user]", or are withdrawn as if
they had deleted each one (placeholders then appear only while replies stand)."""

from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import joinedload

from forum.extensions import db, passwords
from forum.models import (
    Appeal,
    Article,
    Comment,
    CommentRevision,
    CommentStatus,
    DisplayNameChange,
    EmailPreference,
    Follow,
    Notification,
    OutgoingEmail,
    Report,
    Role,
    User,
    Vote,
    utcnow,
)
from forum.models.users import new_session_token
from forum.services import avatars, discussion_state
from forum.services.errors import Conflict, NotAllowed
from forum.services.wording import _l

EXPORT_FORMAT = 1


def _time(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def export_data(user: User, *, now: datetime | None = None) -> dict[str, Any]:
    """Everything ``user`` wrote and chose, in plain JSON types (a fixed number of queries)."""
    comments = list(
        db.session.execute(
            select(Comment)
            .options(joinedload(Comment.article))
            .where(Comment.author_id == user.id)
            .order_by(Comment.created_at, Comment.id)
        ).scalars()
    )
    revisions = db.session.execute(
        select(CommentRevision)
        .join(Comment, CommentRevision.comment_id == Comment.id)
        .where(Comment.author_id == user.id)
        .order_by(CommentRevision.comment_id, CommentRevision.id)
    ).scalars()
    reports = db.session.execute(
        select(Report).where(Report.reporter_id == user.id).order_by(Report.created_at, Report.id)
    ).scalars()
    appeals = db.session.execute(
        select(Appeal).where(Appeal.author_id == user.id).order_by(Appeal.created_at, Appeal.id)
    ).scalars()
    votes = db.session.execute(
        select(Vote).where(Vote.user_id == user.id).order_by(Vote.created_at, Vote.id)
    ).scalars()
    follows = db.session.execute(
        select(Follow.created_at, Article.slug)
        .join(Article, Follow.article_id == Article.id)
        .where(Follow.user_id == user.id)
        .order_by(Follow.created_at, Follow.id)
    ).all()
    articles = db.session.execute(
        select(Article)
        .options(joinedload(Article.series))
        .where(Article.author_id == user.id)
        .order_by(Article.published_at, Article.id)
    ).scalars()
    return {
        "format": EXPORT_FORMAT,
        "exported_at": _time(now or utcnow()),
        "account": {
            "username": user.username,
            "display_name": user.display_name,
            "display_name_history": [
                {"old": change.old_name, "new": change.new_name, "at": _time(change.changed_at)}
                for change in db.session.execute(
                    select(DisplayNameChange)
                    .where(DisplayNameChange.user_id == user.id)
                    .order_by(DisplayNameChange.changed_at, DisplayNameChange.id)
                ).scalars()
            ],
            "bio": user.bio_md,
            "email": user.email,
            "email_confirmed": user.email_confirmed,
            "role": user.role.value,
            "created_at": _time(user.created_at),
            "suspended_until": _time(user.suspended_until),
            "suspension_reason": user.suspension_reason,
        },
        "notification_settings": {
            "email": user.email,
            "email_preference": user.email_preference.value,
        },
        "comments": [
            {
                "id": comment.id,
                "article": comment.article.slug,
                "parent_id": comment.parent_id,
                "status": comment.status.value,
                "created_at": _time(comment.created_at),
                "edited_at": _time(comment.edited_at),
                "deleted_at": _time(comment.deleted_at),
                "body_markdown": comment.body_md,
                "body_html": comment.body_html,
                "helpful_votes": comment.helpful_count,
                # The public reason a moderator gave, as shown to the author; never who hid
                # it or their private note.
                "hidden_reason": comment.hidden_reason
                if comment.status is CommentStatus.HIDDEN
                else None,
            }
            for comment in comments
        ],
        "comment_revisions": [
            {
                "comment_id": revision.comment_id,
                "body_markdown": revision.body_md,
                "body_html": revision.body_html,
                "written_at": _time(revision.written_at),
                "replaced_at": _time(revision.replaced_at),
            }
            for revision in revisions
        ],
        "reports_filed": [
            {
                "comment_id": report.comment_id,
                "category": report.category.value,
                "note": report.note,
                "created_at": _time(report.created_at),
                "status": report.status.value,
            }
            for report in reports
        ],
        "appeals": [
            {
                "comment_id": appeal.comment_id,
                "message": appeal.message,
                "status": appeal.status.value,
                "created_at": _time(appeal.created_at),
                "resolved_at": _time(appeal.resolved_at),
            }
            for appeal in appeals
        ],
        "votes": [
            {"comment_id": vote.comment_id, "created_at": _time(vote.created_at)} for vote in votes
        ],
        "follows": [{"article": row.slug, "created_at": _time(row.created_at)} for row in follows],
        "articles": [
            {
                "slug": article.slug,
                "title": article.title,
                "summary": article.summary,
                "series": article.series.title if article.series else None,
                "position": article.position,
                "published_at": _time(article.published_at),
                "body_markdown": article.body_md,
                "body_html": article.body_html,
            }
            for article in articles
        ],
    }


def _other_admins(user: User) -> int:
    return db.session.execute(
        select(func.count(User.id)).where(
            User.role == Role.ADMIN, User.id != user.id, User.deleted_at.is_(None)
        )
    ).scalar_one()


def delete_account(
    user: User, password: str, *, remove_comments: bool, now: datetime | None = None
) -> User:
    """Delete ``user``'s account after checking their password; see the module docstring.

    The last administrator can't leave this way: the site would have no one to run it."""
    if user.deleted_at is not None:
        raise Conflict(_l("This account is already deleted."))
    if not passwords.verify(user.password_hash, password or ""):
        raise NotAllowed(_l("That isn't your password."), field="password")
    if user.role is Role.ADMIN and _other_admins(user) == 0:
        raise Conflict(
            _l(
                "You are the only administrator. Make someone else an administrator before "
                "deleting your account."
            )
        )
    now = now or utcnow()
    if remove_comments:
        removed = list(
            db.session.execute(
                select(Comment).where(
                    Comment.author_id == user.id, Comment.status != CommentStatus.DELETED
                )
            ).scalars()
        )
        db.session.execute(
            update(Comment)
            .where(Comment.author_id == user.id, Comment.status != CommentStatus.DELETED)
            .values(status=CommentStatus.DELETED, deleted_at=now, pinned_at=None, pinned_by_id=None)
        )
        discussion_state.comments_changed(removed)
    # Nobody will read these any more; notifications and follows only serve the person.
    db.session.execute(delete(Notification).where(Notification.user_id == user.id))
    db.session.execute(delete(Follow).where(Follow.user_id == user.id))
    if user.email:
        shared = db.session.execute(
            select(func.count(User.id)).where(User.email == user.email, User.id != user.id)
        ).scalar_one()
        if not shared:
            db.session.execute(
                delete(OutgoingEmail).where(
                    OutgoingEmail.to_address == user.email, OutgoingEmail.sent_at.is_(None)
                )
            )
    user.deleted_at = now
    user.email = None
    user.email_confirmed = False
    user.email_preference = EmailPreference.NONE
    user.display_name = None
    user.display_name_skeleton = None
    user.bio_md = user.bio_html = None
    avatars.drop_uploaded(user)
    # The names they went by are theirs too; the username stays, reserved, on the row.
    db.session.execute(delete(DisplayNameChange).where(DisplayNameChange.user_id == user.id))
    user.password_hash = None
    user.role = Role.READER  # no privilege outlives the account
    user.session_token = new_session_token()  # every session, everywhere, ends
    db.session.commit()
    return user
