"""Moderation: hiding comments, reports and their queue, and the log every action writes.

Pre-moderation and trust are in ``premoderation``, appeals in ``appeals``, locks,
suspensions and roles in ``sanctions``; all of them log through ``record_action``.

Every moderator action appends one ModerationAction row (who, what, when, why) in the same
transaction as the change itself, so the log can't miss an action or record one that
didn't happen. Nothing here deletes anything: every state can be reversed."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.orm import joinedload

from forum.extensions import db
from forum.models import (
    Comment,
    CommentStatus,
    HideReason,
    ModAction,
    ModerationAction,
    NotificationKind,
    Report,
    ReportStatus,
    User,
    utcnow,
)
from forum.services import notifications, permissions, webhooks
from forum.services.errors import Conflict, Forbidden, NotAllowed
from forum.services.locking import commit_once, lock
from forum.services.pages import Page, check_page, paginate
from forum.services.text import clean_text, count_of
from forum.services.wording import _l


def record_action(
    actor: User, action: ModAction, *, reason: str = "", note: str = "", **target
) -> None:
    """Append the action to the log. Every reason and note a moderator types passes here,
    whichever action wrote it."""
    db.session.add(
        ModerationAction(
            actor=actor, action=action, reason=clean_text(reason), note=clean_text(note), **target
        )
    )


def record_comment_action(
    actor: User, action: ModAction, comment: Comment, *, reason: str = "", note: str = ""
) -> None:
    """Log an action on a comment, naming its article and its author."""
    record_action(
        actor,
        action,
        comment=comment,
        article_id=comment.article_id,
        target_user_id=comment.author_id,
        reason=reason,
        note=note,
    )


def require_moderator(actor: User) -> None:
    """Staff act only while their own account is in good standing: a suspended moderator
    (only admins suspend moderators) keeps the role but not the powers."""
    if not permissions.is_moderator(actor):
        raise Forbidden(_l("Only moderators can do that."))
    if actor.is_suspended():
        raise Forbidden(_l("Your account is suspended, so you can't moderate."))


def parse_reason(value: str | None, field: str = "reason") -> HideReason:
    try:
        return HideReason(value or "")
    except ValueError:
        choices = ", ".join(r.label for r in HideReason)
        raise NotAllowed(
            _l("Choose a reason: %(choices)s.", choices=choices), field=field
        ) from None


# --- hiding --------------------------------------------------------------------------------


def hide_comment(actor: User, comment: Comment, reason: str, note: str = "") -> Comment:
    """Hide a visible comment for a preset reason; open reports on it are marked actioned."""
    require_moderator(actor)
    category = parse_reason(reason)
    lock(comment)  # two moderators at once: the second sees the first one's hide
    if comment.status is CommentStatus.HIDDEN:
        raise Conflict(_l("That comment is already hidden."))
    if not comment.is_visible:
        raise Conflict(
            _l(
                "Only visible comments can be hidden; this one is %(status)s.",
                status=comment.status.value,
            )
        )
    now = utcnow()
    comment.status = CommentStatus.HIDDEN
    comment.pinned_at = comment.pinned_by_id = None  # a hidden comment can't lead the page
    comment.hidden_at, comment.hidden_by = now, actor
    comment.hidden_reason, comment.hidden_note = category.value, clean_text(note).strip()[:500]
    _resolve_reports(comment, actor, ReportStatus.ACTIONED, now)
    notifications.notify_moderated(comment, NotificationKind.HIDDEN, actor, category.label)
    record_comment_action(
        actor, ModAction.HIDE, comment, reason=category.value, note=comment.hidden_note
    )
    webhooks.emit(webhooks.Event.COMMENT_HIDDEN, webhooks.hidden_payload(comment))
    db.session.commit()
    return comment


def unhide_comment(actor: User, comment: Comment, note: str = "") -> Comment:
    require_moderator(actor)
    lock(comment)
    if comment.status is not CommentStatus.HIDDEN:
        raise Conflict(_l("That comment isn't hidden."))
    restore_comment(actor, comment, ModAction.UNHIDE, note)
    notifications.notify_moderated(comment, NotificationKind.RESTORED, actor, "shown again")
    db.session.commit()
    return comment


def restore_comment(actor: User, comment: Comment, action: ModAction, note: str = "") -> None:
    """Show a hidden comment again, logged as ``action`` (an unhide, or a granted appeal)."""
    previous = comment.hidden_reason or ""
    comment.status = CommentStatus.VISIBLE
    comment.hidden_at = comment.hidden_by_id = None
    comment.hidden_reason = comment.hidden_note = None
    record_comment_action(actor, action, comment, reason=f"was hidden as {previous}", note=note)


# --- reports -------------------------------------------------------------------------------


ALREADY_REPORTED = "You have already reported this comment."


class AlreadyReported(Conflict):
    """The reader reported this comment before: not an error to them, a fact to show."""

    def __init__(self) -> None:
        super().__init__(ALREADY_REPORTED)


def has_reported(reader: User | None, comment: Comment) -> bool:
    """Whether ``reader`` has reported ``comment`` (one small indexed query)."""
    if reader is None:
        return False
    found = db.session.execute(
        select(Report.id).where(Report.comment_id == comment.id, Report.reporter_id == reader.id)
    ).first()
    return found is not None


def reported_in(reader: User | None, article) -> set[int]:
    """Ids of the comments under ``article`` that ``reader`` has reported (one query)."""
    if reader is None:
        return set()
    return set(
        db.session.execute(
            select(Report.comment_id)
            .join(Comment, Comment.id == Report.comment_id)
            .where(Report.reporter_id == reader.id, Comment.article_id == article.id)
        ).scalars()
    )


def report_comment(reporter: User, comment: Comment, category: str, note: str = "") -> Report:
    """File a report; one per reader per comment, never on one's own comment, not while
    suspended."""
    if not permissions.in_good_standing(reporter):
        raise Forbidden(_l("Your account is suspended, so you can't report comments."))
    if comment.author_id == reporter.id:
        raise Forbidden(_l("You can't report your own comment."))
    if not comment.is_visible:
        raise Conflict(_l("That comment is no longer shown, so there's nothing to report."))
    reason = parse_reason(category, field="category")
    if has_reported(reporter, comment):
        raise AlreadyReported()
    report = Report(
        comment=comment, reporter=reporter, category=reason, note=clean_text(note).strip()[:500]
    )
    db.session.add(report)
    webhooks.emit(webhooks.Event.COMMENT_REPORTED, webhooks.report_payload(report))
    # A double-click: the unique (comment, reporter) refuses the second insert.
    commit_once(AlreadyReported)
    return report


def dismiss_reports(actor: User, comment: Comment, note: str = "") -> int:
    """Close the open reports on a comment, leaving it as it is."""
    require_moderator(actor)
    lock(comment)  # the state below is read again, and held until the commit
    closed = _resolve_reports(comment, actor, ReportStatus.DISMISSED, utcnow())
    if not closed:
        raise Conflict(_l("There are no open reports on that comment."))
    record_action(
        actor,
        ModAction.DISMISS,
        comment=comment,
        article_id=comment.article_id,
        reason=f"{count_of(closed, 'report')} dismissed",
        note=note,
    )
    db.session.commit()
    return closed


def _resolve_reports(comment: Comment, actor: User, status: ReportStatus, now: datetime) -> int:
    reports = (
        db.session.execute(
            select(Report).where(
                Report.comment_id == comment.id, Report.status == ReportStatus.OPEN
            )
        )
        .scalars()
        .all()
    )
    for report in reports:
        report.status, report.resolved_at, report.resolved_by_id = status, now, actor.id
    return len(reports)


def open_report_count() -> int:
    """How many comments have open reports (the count in moderators' navigation)."""
    reported = db.session.execute(
        select(func.count(func.distinct(Report.comment_id))).where(
            Report.status == ReportStatus.OPEN
        )
    ).scalar_one()
    return reported


@dataclass
class QueueItem:
    comment: Comment
    reports: list[Report]
    # When the newest open report on the comment was filed: the queue's order, and where a
    # cursor over the queue resumes.
    newest: datetime | None = None

    @property
    def categories(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for report in self.reports:
            counts[report.category.label] = counts.get(report.category.label, 0) + 1
        return counts


def _open_reports_by_comment():
    """Comments with open reports and when the newest was filed, the queue's one order."""
    newest = func.max(Report.created_at)
    query = (
        select(Report.comment_id, newest.label("newest"))
        .where(Report.status == ReportStatus.OPEN)
        .group_by(Report.comment_id)
    )
    return query, newest


def _queue_items(rows) -> list[QueueItem]:
    """The queue's items for ``(comment_id, newest)`` rows, in their order (two queries)."""
    ids = [row.comment_id for row in rows]
    if not ids:
        return []
    comments = {
        c.id: c
        for c in db.session.execute(
            select(Comment)
            .options(joinedload(Comment.author), joinedload(Comment.article))
            .where(Comment.id.in_(ids))
        ).scalars()
    }
    reports: dict[int, list[Report]] = {}
    for report in db.session.execute(
        select(Report)
        .options(joinedload(Report.reporter))
        .where(Report.comment_id.in_(ids), Report.status == ReportStatus.OPEN)
        .order_by(Report.created_at.desc(), Report.id.desc())
    ).scalars():
        reports.setdefault(report.comment_id, []).append(report)
    return [
        QueueItem(comments[row.comment_id], reports.get(row.comment_id, []), row.newest)
        for row in rows
    ]


def report_queue(page: int, per_page: int) -> Page[QueueItem]:
    """Open reports grouped by comment, the most recently reported first."""
    base, newest = _open_reports_by_comment()
    total = db.session.execute(select(func.count()).select_from(base.subquery())).scalar_one()
    per_page = max(per_page, 1)
    check_page(page, total, per_page)
    rows = db.session.execute(
        base.order_by(newest.desc(), Report.comment_id.desc())
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    return Page(_queue_items(rows), page, per_page, total)


def report_queue_after(after: tuple[datetime, int] | None, limit: int) -> list[QueueItem]:
    """Up to ``limit`` items of the queue in its order, after the item whose (newest report,
    comment id) is ``after``: a cursor that new reports never make skip or repeat an item
    (a comment reported again moves to the front, behind a reader already past it)."""
    base, newest = _open_reports_by_comment()
    if after is not None:
        at, comment_id = after
        base = base.having(or_(newest < at, and_(newest == at, Report.comment_id < comment_id)))
    rows = db.session.execute(
        base.order_by(newest.desc(), Report.comment_id.desc()).limit(max(limit, 1))
    ).all()
    return _queue_items(rows)


# --- the log --------------------------------------------------------------------------------


def _log_query(action: str | None, moderator: str | None) -> Select:
    query = select(ModerationAction).options(
        joinedload(ModerationAction.actor),
        joinedload(ModerationAction.target_user),
        joinedload(ModerationAction.article),
        joinedload(ModerationAction.comment),
    )
    if action:
        try:
            query = query.where(ModerationAction.action == ModAction(action))
        except ValueError:
            raise NotAllowed(
                _l("Unknown action %(action)r.", action=action), field="action"
            ) from None
    if moderator:
        query = query.join(User, ModerationAction.actor_id == User.id).where(
            User.username_is(moderator)
        )
    return query


def log_page(
    page: int, per_page: int, *, action: str | None = None, moderator: str | None = None
) -> Page[ModerationAction]:
    """A page of the moderation log, newest first, optionally filtered."""
    query = _log_query(action, moderator)
    return paginate(query.order_by(ModerationAction.id.desc()), page, per_page)


def log_after(
    after_id: int | None, limit: int, *, action: str | None = None, moderator: str | None = None
) -> list[ModerationAction]:
    """Up to ``limit`` log entries, newest first, older than entry ``after_id`` (the log is
    append-only, so its ids are a cursor that new entries never disturb)."""
    query = _log_query(action, moderator)
    if after_id is not None:
        query = query.where(ModerationAction.id < after_id)
    return list(
        db.session.execute(
            query.order_by(ModerationAction.id.desc()).limit(max(limit, 1))
        ).scalars()
    )
