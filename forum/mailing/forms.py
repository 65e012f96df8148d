"""Email forms. They check shape; the mail_accounts service checks the rules."""

from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, StringField
from wtforms.validators import AnyOf, DataRequired, Email, EqualTo, InputRequired, Length, Optional

from forum.models import EmailPreference

PREFERENCE_CHOICES = [
    (EmailPreference.NONE.value, "Never"),
    (EmailPreference.IMMEDIATE.value, "Immediately, one email for each"),
    (EmailPreference.DAILY.value, "Once a day, in one digest"),
]


class ChangeEmailForm(FlaskForm):
    email = EmailField(
        "New email address",
        validators=[Optional(), Length(max=254)],
        description="Leave it empty to remove the address from your account.",
    )
    current_password = PasswordField("Current password", validators=[DataRequired()])


class EmailPreferenceForm(FlaskForm):
    """The radio buttons are drawn by templates/mailing/_account_email.html."""

    preference = StringField(
        validators=[
            InputRequired(message="Choose one of the options."),
            AnyOf([value for value, _label in PREFERENCE_CHOICES]),
        ]
    )


class ForgotPasswordForm(FlaskForm):
    email = EmailField(
        "Your account's email address",
        validators=[
            DataRequired(),
            Length(max=254),
            Email(message="Enter an email address, like name@example.org."),
        ],
    )


class ResetPasswordForm(FlaskForm):
    password = PasswordField("New password", validators=[DataRequired()])
    confirm = PasswordField(
        "Repeat new password",
        validators=[DataRequired(), EqualTo("password", message="The two passwords differ.")],
    )
