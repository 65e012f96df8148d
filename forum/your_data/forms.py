"""The account-deletion form."""

from flask_wtf import FlaskForm
from wtforms import PasswordField, RadioField
from wtforms.validators import DataRequired

COMMENT_CHOICES = [
    ("keep", 'Keep my comments in their discussions, signed "[deleted user]"'),
    ("remove", "Remove my comments (a placeholder stays only where others replied)"),
]


class DeleteAccountForm(FlaskForm):
    """The password again, and what becomes of the comments."""

    password = PasswordField(
        "Your password", validators=[DataRequired(message="Enter your password to confirm.")]
    )
    comments = RadioField(
        "Your comments",
        choices=COMMENT_CHOICES,
        validators=[DataRequired(message="Choose what happens to your comments.")],
    )
