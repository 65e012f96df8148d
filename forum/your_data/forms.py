"""The account-deletion form."""

from flask_babel import lazy_gettext as _l
from wtforms import PasswordField, RadioField
from wtforms.validators import DataRequired

from forum.forms_support import ForumForm

COMMENT_CHOICES = [
    ("keep", _l('Keep my comments in their discussions, signed "[deleted user]"')),
    ("remove", _l("Remove my comments (a placeholder stays only where others replied)")),
]


class DeleteAccountForm(ForumForm):
    """The password again, and what becomes of the comments."""

    password = PasswordField(
        _l("Your password"),
        validators=[DataRequired(message=_l("Enter your password to confirm."))],
    )
    comments = RadioField(
        _l("Your comments"),
        choices=COMMENT_CHOICES,
        validators=[DataRequired(message=_l("Choose what happens to your comments."))],
    )
