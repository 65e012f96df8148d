"""Moderation forms: shape only; the moderation service enforces the rules."""

from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import Length, Optional

from forum.models import HideReason, Role

REASON_CHOICES = [("", "Choose a reason…")] + [(r.value, r.label.capitalize()) for r in HideReason]
DURATION_CHOICES = [
    ("1", "1 day"),
    ("3", "3 days"),
    ("7", "7 days"),
    ("30", "30 days"),
    ("indefinite", "Indefinitely"),
]


class HideForm(FlaskForm):
    # validate_choice off: the service names the bad reason in its own words (and 400s).
    reason = SelectField("Reason", choices=REASON_CHOICES, validate_choice=False)
    note = StringField("Note (optional)", validators=[Optional(), Length(max=500)])


class ReportForm(FlaskForm):
    category = SelectField("What's wrong?", choices=REASON_CHOICES, validate_choice=False)
    note = StringField("Details (optional)", validators=[Optional(), Length(max=500)])


class AppealForm(FlaskForm):
    message = TextAreaField("Why should it be shown again?", validators=[Length(max=1000)])


class ReasonForm(FlaskForm):
    reason = StringField("Reason (shown to readers)", validators=[Optional(), Length(max=500)])


def _days(value: str | int | None) -> int | None:
    """A duration choice as the service takes it: whole days, or None for indefinitely."""
    if value in (None, "indefinite"):
        return None
    return int(value)


class SuspendForm(FlaskForm):
    # Validated against the choices: the view passes ``days.data`` (int or None) straight on.
    days = SelectField("Suspend for", choices=DURATION_CHOICES, default="7", coerce=_days)
    reason = StringField("Reason", validators=[Length(max=500)])


class RoleForm(FlaskForm):
    role = SelectField(
        "Role", choices=[(r.value, r.value.capitalize()) for r in Role], validate_choice=False
    )
