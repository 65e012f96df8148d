"""Email forms. They check shape; the mail_accounts service checks the rules."""

from flask_babel import lazy_gettext as _l
from wtforms import EmailField, PasswordField, StringField
from wtforms.validators import AnyOf, DataRequired, Email, EqualTo, InputRequired, Length, Optional

from forum.forms_support import ForumForm
from forum.models import EmailPreference

PREFERENCE_CHOICES = [
    (EmailPreference.NONE.value, _l("Never")),
    (EmailPreference.IMMEDIATE.value, _l("Immediately, one email for each")),
    (EmailPreference.DAILY.value, _l("Once a day, in one digest")),
]


class ChangeEmailForm(ForumForm):
    email = EmailField(
        _l("New email address"),
        validators=[Optional(), Length(max=254)],
        description=_l("Leave it empty to remove the address from your account."),
    )
    current_password = PasswordField(_l("Current password"), validators=[DataRequired()])


class EmailPreferenceForm(ForumForm):
    """The radio buttons are drawn by templates/mailing/_account_email.html."""

    preference = StringField(
        validators=[
            InputRequired(message=_l("Choose one of the options.")),
            AnyOf([value for value, _label in PREFERENCE_CHOICES]),
        ]
    )


class ForgotPasswordForm(ForumForm):
    email = EmailField(
        _l("Your account's email address"),
        validators=[
            DataRequired(),
            Length(max=254),
            Email(message=_l("Enter an email address, like name@example.org.")),
        ],
    )


class ResetPasswordForm(ForumForm):
    password = PasswordField(_l("New password"), validators=[DataRequired()])
    confirm = PasswordField(
        _l("Repeat new password"),
        validators=[DataRequired(), EqualTo("password", message=_l("The two passwords differ."))],
    )
