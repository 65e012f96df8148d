"""Moderation: hiding, reports, pre-moderation, appeals, locks, suspensions, roles and trust.

Every moderator action appends one ModerationAction row (who, what, when, why) in the same
transaction as the change itself, so the log can't miss an action or record one that
didn't happen. Nothing here deletes anything: every state can be reversed."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from forum.extensions import db
from forum.models import (
    Appeal,
    AppealStatus,
    Article,
    Comment,
    CommentStatus,
    HideReason,
    ModAction,
    ModerationAction,
    NotificationKind,
    Report,
    ReportStatus,
    Role,
    User,
    utcnow,
)
from forum.models.users import INDEFINITE
from forum.services import mentions, notifications, permissions
from forum.services.errors import Conflict, Forbidden, NotAllowed, NotFound
from forum.services.locking import commit_once, lock
from forum.services.pages import Page, check_page, paginate
from forum.services.text import clean_text


def _log(actor: User, action: ModAction, *, reason: str = "", note: str = "", **target) -> None:
    # Every reason and note a moderator types passes here, whichever action wrote it.
    db.session.add(
        ModerationAction(
            actor=actor, action=action, reason=clean_text(reason), note=clean_text(note), **target
        )
    )


def _require_moderator(actor: User) -> None:
    """Staff act only while their own account is in good standing: a suspended moderator
    (only admins suspend moderators) keeps the role but not the powers."""
    if not permissions.is_moderator(actor):
        raise Forbidden("Only moderators can do that.")
    if actor.is_suspended():
        raise Forbidden("Your account is suspended, so you can't moderate.")


def parse_reason(value: str | None, field: str = "reason") -> HideReason:
    try:
        return HideReason(value or "")
    except ValueError:
        choices = ", ".join(r.label for r in HideReason)
        raise NotAllowed(f"Choose a reason: {choices}.", field=field) from None


# --- hiding --------------------------------------------------------------------------------


def hide_comment(actor: User, comment: Comment, reason: str, note: str = "") -> Comment:
    """Hide a visible comment for a preset reason; open reports on it are marked actioned."""
    _require_moderator(actor)
    category = parse_reason(reason)
    lock(comment)  # two moderators at once: the second sees the first one's hide
    if comment.status is CommentStatus.HIDDEN:
        raise Conflict("That comment is already hidden.")
    if not comment.is_visible:
        raise Conflict(f"Only visible comments can be hidden; this one is {comment.status.value}.")
    now = utcnow()
    comment.status = CommentStatus.HIDDEN
    comment.pinned_at = comment.pinned_by_id = None  # a hidden comment can't lead the page
    comment.hidden_at, comment.hidden_by = now, actor
    comment.hidden_reason, comment.hidden_note = category.value, clean_text(note).strip()[:500]
    _resolve_reports(comment, actor, ReportStatus.ACTIONED, now)
    notifications.notify_moderated(comment, NotificationKind.HIDDEN, actor, category.label)
    _log(
        actor,
        ModAction.HIDE,
        comment=comment,
        article_id=comment.article_id,
        target_user_id=comment.author_id,
        reason=category.value,
        note=comment.hidden_note,
    )
    db.session.commit()
    return comment


def unhide_comment(actor: User, comment: Comment, note: str = "") -> Comment:
    _require_moderator(actor)
    lock(comment)
    if comment.status is not CommentStatus.HIDDEN:
        raise Conflict("That comment isn't hidden.")
    _restore(actor, comment, ModAction.UNHIDE, note)
    notifications.notify_moderated(comment, NotificationKind.RESTORED, actor, "shown again")
    db.session.commit()
    return comment


def _restore(actor: User, comment: Comment, action: ModAction, note: str = "") -> None:
    previous = comment.hidden_reason or ""
    comment.status = CommentStatus.VISIBLE
    comment.hidden_at = comment.hidden_by_id = None
    comment.hidden_reason = comment.hidden_note = None
    _log(
        actor,
        action,
        comment=comment,
        article_id=comment.article_id,
        target_user_id=comment.author_id,
        reason=f"was hidden as {previous}",
        note=note,
    )


# --- reports -------------------------------------------------------------------------------


def report_comment(reporter: User, comment: Comment, category: str, note: str = "") -> Report:
    """File a report; one per reader per comment, never on one's own comment."""
    if comment.author_id == reporter.id:
        raise Forbidden("You can't report your own comment.")
    if not comment.is_visible:
        raise Conflict("That comment is no longer shown, so there's nothing to report.")
    reason = parse_reason(category, field="category")
    exists = db.session.execute(
        select(Report.id).where(Report.comment_id == comment.id, Report.reporter_id == reporter.id)
    ).first()
    if exists:
        raise Conflict("You have already reported this comment. Thank you.")
    report = Report(
        comment=comment, reporter=reporter, category=reason, note=clean_text(note).strip()[:500]
    )
    db.session.add(report)
    # A double-click: the unique (comment, reporter) refuses the second insert.
    commit_once(lambda: Conflict("You have already reported this comment. Thank you."))
    return report


def dismiss_reports(actor: User, comment: Comment, note: str = "") -> int:
    """Close the open reports on a comment, leaving it as it is."""
    _require_moderator(actor)
    lock(comment)  # the state below is read again, and held until the commit
    closed = _resolve_reports(comment, actor, ReportStatus.DISMISSED, utcnow())
    if not closed:
        raise Conflict("There are no open reports on that comment.")
    _log(
        actor,
        ModAction.DISMISS,
        comment=comment,
        article_id=comment.article_id,
        reason=f"{closed} report(s) dismissed",
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

    @property
    def categories(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for report in self.reports:
            counts[report.category.label] = counts.get(report.category.label, 0) + 1
        return counts


def report_queue(page: int, per_page: int) -> Page[QueueItem]:
    """Open reports grouped by comment, the most recently reported first."""
    newest = func.max(Report.created_at)
    base = (
        select(Report.comment_id, newest.label("newest"))
        .where(Report.status == ReportStatus.OPEN)
        .group_by(Report.comment_id)
    )
    total = db.session.execute(select(func.count()).select_from(base.subquery())).scalar_one()
    per_page = max(per_page, 1)
    check_page(page, total, per_page)
    ids = [
        row.comment_id
        for row in db.session.execute(
            base.order_by(newest.desc(), Report.comment_id.desc())
            .limit(per_page)
            .offset((page - 1) * per_page)
        )
    ]
    if not ids:
        return Page([], page, per_page, total)
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
        .where(Report.comment_id.in_(ids), Report.status == ReportStatus.OPEN)
        .order_by(Report.created_at.desc())
    ).scalars():
        reports.setdefault(report.comment_id, []).append(report)
    items = [QueueItem(comments[i], reports.get(i, [])) for i in ids]
    return Page(items, page, per_page, total)


# --- pre-moderation and trust ----------------------------------------------------------------


def approved_count(user: User) -> int:
    """Comments of ``user`` that are visible now (approved and not hidden)."""
    return db.session.execute(
        select(func.count(Comment.id)).where(Comment.author_id == user.id, Comment.is_visible)
    ).scalar_one()


def is_trusted(user: User, trusted_after: int) -> bool:
    """Whether the limits on new accounts no longer apply to ``user``.

    Trust is earned by ``trusted_after`` approved, unhidden comments, granted by a
    moderator, or comes with a staff role."""
    if user.trusted or user.role is not Role.READER:
        return True
    return approved_count(user) >= trusted_after


def needs_premoderation(user: User, premoderate_first: int, trusted_after: int) -> bool:
    """Whether ``user``'s next comment must wait for a moderator."""
    if premoderate_first <= 0 or user.trusted or user.role is not Role.READER:
        return False
    count = approved_count(user)
    return count < premoderate_first and count < trusted_after


def check_link_cap(
    user: User, body: str, *, max_links: int, new_account_days: int, trusted_after: int
) -> None:
    """Young, untrusted accounts may include only a few links in a comment."""
    if utcnow() - user.created_at >= timedelta(days=new_account_days):
        return
    if is_trusted(user, trusted_after):
        return
    links = count_links(body)
    if links > max_links:
        raise NotAllowed(
            f"New accounts can include at most {max_links} link(s) in a comment; this one has "
            f"{links}. The limit lifts as your comments are approved.",
            field="body",
        )


def count_links(body: str) -> int:
    """Links a reader could follow: Markdown links plus bare web addresses."""
    lowered = body.lower()
    return (
        lowered.count("http://")
        + lowered.count("https://")
        + lowered.count("www.")
        - lowered.count("://www.")
    )


def pending_comments(limit: int = 50) -> list[Comment]:
    return list(
        db.session.execute(
            select(Comment)
            .options(joinedload(Comment.author), joinedload(Comment.article))
            .where(Comment.status == CommentStatus.PENDING)
            .order_by(Comment.created_at)
            .limit(limit)
        ).scalars()
    )


def approve_comment(actor: User, comment: Comment) -> Comment:
    _require_moderator(actor)
    lock(comment)  # the state below is read again, and held until the commit
    if comment.status is not CommentStatus.PENDING:
        raise Conflict("That comment isn't waiting for review.")
    comment.status = CommentStatus.VISIBLE
    _log(
        actor,
        ModAction.APPROVE,
        comment=comment,
        article_id=comment.article_id,
        target_user_id=comment.author_id,
    )
    # Readers hear about a comment only once it is visible.
    notifications.notify_new_comment(
        comment, mentions.resolve(mentions.mentioned_names(comment.body_md))
    )
    db.session.commit()
    return comment


def reject_comment(actor: User, comment: Comment, reason: str, note: str = "") -> Comment:
    _require_moderator(actor)
    lock(comment)  # the state below is read again, and held until the commit
    category = parse_reason(reason)
    if comment.status is not CommentStatus.PENDING:
        raise Conflict("That comment isn't waiting for review.")
    comment.status = CommentStatus.REJECTED
    comment.hidden_reason, comment.hidden_note = category.value, clean_text(note).strip()[:500]
    comment.hidden_at, comment.hidden_by = utcnow(), actor
    _log(
        actor,
        ModAction.REJECT,
        comment=comment,
        article_id=comment.article_id,
        target_user_id=comment.author_id,
        reason=category.value,
        note=note or "",
    )
    db.session.commit()
    return comment


def grant_trust(actor: User, target: User) -> User:
    _require_moderator(actor)
    lock(target)  # the state below is read again, and held until the commit
    if target.trusted:
        raise Conflict(f"{target.username} is already trusted.")
    target.trusted = True
    _log(actor, ModAction.TRUST, target_user=target, reason="trusted by hand")
    db.session.commit()
    return target


# --- appeals --------------------------------------------------------------------------------


def appeal(author: User, comment: Comment, message: str) -> Appeal:
    """The author of a hidden comment asks once for another look."""
    if comment.author_id != author.id:
        raise Forbidden("Only the comment's author can appeal.")
    if comment.status is not CommentStatus.HIDDEN:
        raise Conflict("Only hidden comments can be appealed.")
    message = clean_text(message).strip()
    if not message:
        raise NotAllowed("Say briefly why the comment should be shown again.", field="message")
    if len(message) > 1000:
        raise NotAllowed("Keep the appeal under 1,000 characters.", field="message")
    if db.session.execute(select(Appeal.id).where(Appeal.comment_id == comment.id)).first():
        raise Conflict("This comment has already been appealed; each comment can be appealed once.")
    item = Appeal(comment=comment, author=author, message=message)
    db.session.add(item)
    commit_once(
        lambda: Conflict(
            "This comment has already been appealed; each comment can be appealed once."
        )
    )
    return item


def get_appeal(appeal_id: int) -> Appeal:
    """The appeal with this number, or NotFound."""
    item = db.session.get(Appeal, appeal_id)
    if item is None:
        raise NotFound("No appeal has that number.")
    return item


def open_appeals(limit: int = 50) -> list[Appeal]:
    return list(
        db.session.execute(
            select(Appeal)
            .options(
                joinedload(Appeal.comment).joinedload(Comment.article), joinedload(Appeal.author)
            )
            .where(Appeal.status == AppealStatus.OPEN)
            .order_by(Appeal.created_at)
            .limit(limit)
        ).scalars()
    )


def decide_appeal(actor: User, item: Appeal, grant: bool, note: str = "") -> Appeal:
    """Grant (the comment is shown again) or deny an appeal; either way it's logged."""
    _require_moderator(actor)
    lock(item)  # the state below is read again, and held until the commit
    if item.status is not AppealStatus.OPEN:
        raise Conflict("That appeal has already been decided.")
    item.status = AppealStatus.GRANTED if grant else AppealStatus.DENIED
    item.resolved_at, item.resolved_by_id = utcnow(), actor.id
    comment = item.comment
    if grant and comment.status is CommentStatus.HIDDEN:
        _restore(actor, comment, ModAction.UNHIDE, note)
    _log(
        actor,
        ModAction.APPEAL_GRANTED if grant else ModAction.APPEAL_DENIED,
        comment=comment,
        article_id=comment.article_id,
        target_user_id=item.author_id,
        reason=note or "",
    )
    outcome = "appeal granted: shown again" if grant else "appeal denied: stays hidden"
    notifications.notify_moderated(comment, NotificationKind.APPEAL_DECIDED, actor, outcome)
    db.session.commit()
    return item


# --- locks ----------------------------------------------------------------------------------


def lock_article(actor: User, article: Article, reason: str = "") -> Article:
    _require_moderator(actor)
    lock(article)  # the state below is read again, and held until the commit
    if article.discussion_locked:
        raise Conflict("That discussion is already locked.")
    article.discussion_locked = True
    article.lock_reason = clean_text(reason).strip()[:500] or None
    _log(actor, ModAction.LOCK, article=article, reason=article.lock_reason or "")
    db.session.commit()
    return article


def unlock_article(actor: User, article: Article, reason: str = "") -> Article:
    _require_moderator(actor)
    lock(article)  # the state below is read again, and held until the commit
    if not article.discussion_locked:
        raise Conflict("That discussion isn't locked.")
    article.discussion_locked = False
    article.lock_reason = None
    _log(actor, ModAction.UNLOCK, article=article, reason=clean_text(reason).strip())
    db.session.commit()
    return article


# --- suspensions and roles ------------------------------------------------------------------


def suspend_user(actor: User, target: User, days: int | None, reason: str) -> User:
    """Suspend for ``days`` days, or indefinitely when ``days`` is None."""
    _require_moderator(actor)
    if target.id == actor.id:
        raise Forbidden("You can't suspend yourself.")
    if not permissions.can_suspend(actor, target):
        raise Forbidden("You can't suspend that account.")
    reason = clean_text(reason).strip()
    if not reason:
        raise NotAllowed("Give a reason; the member will see it.", field="reason")
    if days is not None and not 1 <= days <= 3650:
        raise NotAllowed("Suspend for 1 to 3650 days, or indefinitely.", field="days")
    until = INDEFINITE if days is None else utcnow() + timedelta(days=days)
    target.suspended_until, target.suspension_reason = until, reason[:500]
    length = "indefinitely" if days is None else f"for {days} day(s)"
    _log(actor, ModAction.SUSPEND, target_user=target, reason=f"{length}: {reason}")
    db.session.commit()
    return target


def unsuspend_user(actor: User, target: User, reason: str = "") -> User:
    _require_moderator(actor)
    lock(target)  # the state below is read again, and held until the commit
    if not permissions.can_suspend(actor, target):
        raise Forbidden("You can't change that account.")
    if not target.is_suspended():
        raise Conflict(f"{target.username} isn't suspended.")
    target.suspended_until = target.suspension_reason = None
    _log(actor, ModAction.UNSUSPEND, target_user=target, reason=clean_text(reason).strip())
    db.session.commit()
    return target


def change_role(actor: User | None, target: User, role: str) -> User:
    """Admins change roles in the browser; ``actor`` None is the operator's CLI."""
    try:
        new_role = Role(role)
    except ValueError:
        choices = ", ".join(r.value for r in Role)
        raise NotAllowed(f"Unknown role {role!r}; choose one of {choices}.", field="role") from None
    if actor is not None and not permissions.can_change_role(actor, target):
        raise Forbidden("Only an admin can change someone else's role.")
    lock(target)
    if target.role is new_role:
        raise Conflict(f"{target.username} is already {new_role.value}.")
    old = target.role
    target.role = new_role
    if actor is not None:
        _log(
            actor,
            ModAction.ROLE_CHANGE,
            target_user=target,
            reason=f"{old.value} → {new_role.value}",
        )
    db.session.commit()
    return target


# --- the log --------------------------------------------------------------------------------


def log_page(
    page: int, per_page: int, *, action: str | None = None, moderator: str | None = None
) -> Page[ModerationAction]:
    """A page of the moderation log, newest first, optionally filtered."""
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
            raise NotAllowed(f"Unknown action {action!r}.", field="action") from None
    if moderator:
        query = query.join(User, ModerationAction.actor_id == User.id).where(
            User.username_is(moderator)
        )
    return paginate(query.order_by(ModerationAction.id.desc()), page, per_page)
