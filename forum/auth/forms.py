"""Account forms. They check shape; the accounts service checks the rules."""

from flask_wtf import FlaskForm
from wtforms import EmailField, HiddenField, PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, Optional

from forum.services.accounts import USERNAME_RULE


class RegisterForm(FlaskForm):
    username = StringField(
        "Username", validators=[DataRequired(), Length(max=60)], description=USERNAME_RULE
    )
    display_name = StringField(
        "Display name (optional)",
        validators=[Optional(), Length(max=60)],
        description="Any script; shown beside your username.",
    )
    email = EmailField(
        "Email (optional)",
        validators=[Optional(), Length(max=254)],
        description="Only used for notifications you choose, after you confirm it.",
    )
    password = PasswordField(
        "Password", validators=[DataRequired()], description="At least 10 characters."
    )
    confirm = PasswordField(
        "Repeat password",
        validators=[DataRequired(), EqualTo("password", message="The two passwords differ.")],
    )
    # Spam defence: a field people never see (bots fill it) and the time the form was shown.
    website = StringField("Leave this field empty", validators=[Optional()])
    form_started = HiddenField()


class LoginForm(FlaskForm):
    username = StringField("Username", validators=[DataRequired(), Length(max=60)])
    password = PasswordField("Password", validators=[DataRequired()])


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField("Current password", validators=[DataRequired()])
    new_password = PasswordField("New password", validators=[DataRequired()])
    confirm = PasswordField(
        "Repeat new password",
        validators=[DataRequired(), EqualTo("new_password", message="The two passwords differ.")],
    )
