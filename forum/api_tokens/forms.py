"""The form that makes a personal API token. It checks shape; the service checks the rules
(the scope against the holder's role among them)."""

from flask_babel import lazy_gettext as _l
from wtforms import SelectField, StringField
from wtforms.validators import DataRequired, Length

from forum.forms_support import ForumForm
from forum.models import TokenScope, User
from forum.services import api_tokens

SCOPE_LABELS = {
    TokenScope.READ: _l("Read: see discussions, comments and your notifications"),
    TokenScope.WRITE: _l("Write: also post, edit, vote, report and follow as you"),
    TokenScope.MODERATE: _l("Moderate: also act as the moderator you are"),
}


class NewTokenForm(ForumForm):
    name = StringField(
        _l("Name"),
        validators=[
            DataRequired(message=_l("Give the token a name.")),
            Length(max=api_tokens.NAME_MAX_LENGTH),
        ],
        description=_l("Where the token is used, e.g. “newsroom dashboard”."),
    )
    scope = SelectField(_l("Scope"), default=TokenScope.READ.value)
    expires_in_days = SelectField(
        _l("Expires after"),
        coerce=int,
        choices=[(days, _l("%(num)s days", num=days)) for days in api_tokens.EXPIRY_CHOICES_DAYS],
        default=api_tokens.DEFAULT_EXPIRY_DAYS,
    )

    @classmethod
    def for_user(cls, user: User, **kwargs) -> "NewTokenForm":
        """The form with only the scopes ``user``'s role allows on offer."""
        form = cls(**kwargs)
        form.scope.choices = [
            (scope.value, SCOPE_LABELS[scope]) for scope in api_tokens.scopes_for(user)
        ]
        return form
