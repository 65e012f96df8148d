"""Moderation forms: shape only; the moderation service enforces the rules."""

from flask_babel import lazy_gettext as _l
from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import Length, Optional

from forum.forms_support import ForumForm
from forum.models import CommentStatus, HideReason, ModAction, Role

# What readers see for each reason, in their language (the value is what is stored).
REASON_LABELS = {
    HideReason.SPAM: _l("Spam"),
    HideReason.ABUSE: _l("Abuse"),
    HideReason.OFF_TOPIC: _l("Off topic"),
    HideReason.PERSONAL_INFORMATION: _l("Personal information"),
    HideReason.OTHER: _l("Other"),
}
REASON_CHOICES = [("", _l("Choose a reason…"))] + [(r.value, REASON_LABELS[r]) for r in HideReason]
DURATION_CHOICES = [
    ("1", _l("1 day")),
    ("3", _l("3 days")),
    ("7", _l("7 days")),
    ("30", _l("30 days")),
    ("indefinite", _l("Indefinitely")),
]
ROLE_LABELS = {
    Role.READER: _l("Reader"),
    Role.AUTHOR: _l("Author"),
    Role.MODERATOR: _l("Moderator"),
    Role.ADMIN: _l("Admin"),
}


# The moderation log's actions and the queue's comment states, as moderators read them
# (stored values are code, not words).
ACTION_LABELS = {
    ModAction.HIDE: _l("Hidden"),
    ModAction.UNHIDE: _l("Shown again"),
    ModAction.APPROVE: _l("Approved"),
    ModAction.REJECT: _l("Rejected"),
    ModAction.DISMISS: _l("Reports dismissed"),
    ModAction.LOCK: _l("Discussion locked"),
    ModAction.UNLOCK: _l("Discussion reopened"),
    ModAction.SUSPEND: _l("Account suspended"),
    ModAction.UNSUSPEND: _l("Suspension lifted"),
    ModAction.ROLE_CHANGE: _l("Role changed"),
    ModAction.TRUST: _l("Trust changed"),
    ModAction.APPEAL_GRANTED: _l("Appeal granted"),
    ModAction.APPEAL_DENIED: _l("Appeal denied"),
}
STATUS_LABELS = {
    CommentStatus.VISIBLE: _l("visible"),
    CommentStatus.PENDING: _l("waiting for approval"),
    CommentStatus.HIDDEN: _l("hidden"),
    CommentStatus.REJECTED: _l("rejected"),
    CommentStatus.DELETED: _l("deleted"),
}


def action_label(action) -> str:
    value = getattr(action, "value", action)
    return str(ACTION_LABELS.get(value, value))


def status_label(status) -> str:
    value = getattr(status, "value", status)
    return str(STATUS_LABELS.get(value, value))


def appeal_outcome_label(detail: str) -> str:
    """A decided appeal's notice, stored as "appeal granted: ..." / "appeal denied: ..."."""
    if str(detail).startswith("appeal granted"):
        return str(_l("granted, the comment is shown again"))
    return str(_l("denied, the comment stays hidden"))


def reason_label(reason: str) -> str:
    """A reason's words for readers, from its value ("off-topic") or its label ("off topic")."""
    key = str(reason).replace(" ", "-")
    return str(REASON_LABELS.get(key, reason))


class HideForm(ForumForm):
    # validate_choice off: the service names the bad reason in its own words (and 400s).
    reason = SelectField(_l("Reason"), choices=REASON_CHOICES, validate_choice=False)
    note = StringField(_l("Note (optional)"), validators=[Optional(), Length(max=500)])


class ReportForm(ForumForm):
    category = SelectField(_l("What's wrong?"), choices=REASON_CHOICES, validate_choice=False)
    note = StringField(_l("Details (optional)"), validators=[Optional(), Length(max=500)])


class AppealForm(ForumForm):
    message = TextAreaField(_l("Why should it be shown again?"), validators=[Length(max=1000)])


class ReasonForm(ForumForm):
    reason = StringField(_l("Reason (shown to readers)"), validators=[Optional(), Length(max=500)])


def _days(value: str | int | None) -> int | None:
    """A duration choice as the service takes it: whole days, or None for indefinitely."""
    if value in (None, "indefinite"):
        return None
    return int(value)


class SuspendForm(ForumForm):
    # Validated against the choices: the view passes ``days.data`` (int or None) straight on.
    days = SelectField(_l("Suspend for"), choices=DURATION_CHOICES, default="7", coerce=_days)
    reason = StringField(_l("Reason"), validators=[Length(max=500)])


class RoleForm(ForumForm):
    role = SelectField(
        _l("Role"), choices=[(r.value, ROLE_LABELS[r]) for r in Role], validate_choice=False
    )
