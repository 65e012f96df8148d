"""Locks on discussions, suspensions of accounts and role changes: each logged, each reversible."""

from datetime import timedelta

from forum.extensions import db
from forum.models import (
    Article,
    ModAction,
    Role,
    User,
    utcnow,
)
from forum.models.users import INDEFINITE
from forum.services import permissions
from forum.services.errors import Conflict, Forbidden, NotAllowed
from forum.services.locking import lock
from forum.services.moderation import record_action, require_moderator
from forum.services.text import clean_text, count_of
from forum.services.wording import _l


def lock_article(actor: User, article: Article, reason: str = "") -> Article:
    require_moderator(actor)
    lock(article)  # the state below is read again, and held until the commit
    if article.discussion_locked:
        raise Conflict(_l("That discussion is already locked."))
    article.discussion_locked = True
    article.lock_reason = clean_text(reason).strip()[:500] or None
    record_action(actor, ModAction.LOCK, article=article, reason=article.lock_reason or "")
    db.session.commit()
    return article


def unlock_article(actor: User, article: Article, reason: str = "") -> Article:
    require_moderator(actor)
    lock(article)  # the state below is read again, and held until the commit
    if not article.discussion_locked:
        raise Conflict(_l("That discussion isn't locked."))
    article.discussion_locked = False
    article.lock_reason = None
    record_action(actor, ModAction.UNLOCK, article=article, reason=clean_text(reason).strip())
    db.session.commit()
    return article


# --- suspensions and roles ------------------------------------------------------------------


def suspend_user(actor: User, target: User, days: int | None, reason: str) -> User:
    """Suspend for ``days`` days, or indefinitely when ``days`` is None."""
    require_moderator(actor)
    if target.id == actor.id:
        raise Forbidden(_l("You can't suspend yourself."))
    if not permissions.can_suspend(actor, target):
        raise Forbidden(_l("You can't suspend that account."))
    reason = clean_text(reason).strip()
    if not reason:
        raise NotAllowed(_l("Give a reason; the member will see it."), field="reason")
    if days is not None and not 1 <= days <= 3650:
        raise NotAllowed(_l("Suspend for 1 to 3650 days, or indefinitely."), field="days")
    until = INDEFINITE if days is None else utcnow() + timedelta(days=days)
    target.suspended_until, target.suspension_reason = until, reason[:500]
    length = "indefinitely" if days is None else f"for {count_of(days, 'day')}"
    record_action(actor, ModAction.SUSPEND, target_user=target, reason=f"{length}: {reason}")
    db.session.commit()
    return target


def unsuspend_user(actor: User, target: User, reason: str = "") -> User:
    require_moderator(actor)
    lock(target)  # the state below is read again, and held until the commit
    if not permissions.can_suspend(actor, target):
        raise Forbidden(_l("You can't change that account."))
    if not target.is_suspended():
        raise Conflict(_l("%(username)s isn't suspended.", username=target.username))
    target.suspended_until = target.suspension_reason = None
    record_action(actor, ModAction.UNSUSPEND, target_user=target, reason=clean_text(reason).strip())
    db.session.commit()
    return target


def change_role(actor: User | None, target: User, role: str) -> User:
    """Admins change roles in the browser; ``actor`` None is the operator's CLI."""
    try:
        new_role = Role(role)
    except ValueError:
        choices = ", ".join(r.value for r in Role)
        raise NotAllowed(
            _l("Unknown role %(role)r; choose one of %(choices)s.", role=role, choices=choices),
            field="role",
        ) from None
    if actor is not None and not permissions.can_change_role(actor, target):
        raise Forbidden(_l("Only an admin can change someone else's role."))
    lock(target)
    if target.role is new_role:
        raise Conflict(
            _l("%(username)s is already %(role)s.", username=target.username, role=new_role.value)
        )
    old = target.role
    target.role = new_role
    if actor is not None:
        record_action(
            actor,
            ModAction.ROLE_CHANGE,
            target_user=target,
            reason=f"{old.value} → {new_role.value}",
        )
    db.session.commit()
    return target
