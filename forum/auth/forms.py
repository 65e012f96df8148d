"""Account forms. They check shape; the accounts service checks the rules."""

from flask_babel import lazy_gettext as _l
from wtforms import EmailField, HiddenField, PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, Optional

from forum.forms_support import ForumForm
from forum.services.accounts import USERNAME_RULE


class RegisterForm(ForumForm):
    username = StringField(
        _l("Username"), validators=[DataRequired(), Length(max=60)], description=USERNAME_RULE
    )
    display_name = StringField(
        _l("Display name (optional)"),
        validators=[Optional(), Length(max=60)],
        description=_l("Any script; shown beside your username."),
    )
    email = EmailField(
        _l("Email (optional)"),
        validators=[Optional(), Length(max=254)],
        description=_l("Only used for notifications you choose, after you confirm it."),
    )
    password = PasswordField(
        _l("Password"), validators=[DataRequired()], description=_l("At least 10 characters.")
    )
    confirm = PasswordField(
        _l("Repeat password"),
        validators=[DataRequired(), EqualTo("password", message=_l("The two passwords differ."))],
    )
    # Spam defence: a field people never see (bots fill it) and the time the form was shown.
    website = StringField(_l("Leave this field empty"), validators=[Optional()])
    form_started = HiddenField()


class LoginForm(ForumForm):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=60)])
    password = PasswordField(_l("Password"), validators=[DataRequired()])


class ChangePasswordForm(ForumForm):
    current_password = PasswordField(_l("Current password"), validators=[DataRequired()])
    new_password = PasswordField(_l("New password"), validators=[DataRequired()])
    confirm = PasswordField(
        _l("Repeat new password"),
        validators=[
            DataRequired(),
            EqualTo("new_password", message=_l("The two passwords differ.")),
        ],
    )
