"""Profile forms. They check shape; the profiles and avatars services check the rules."""

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import StringField, TextAreaField
from wtforms.validators import Length, Optional

from forum.forms_support import ForumForm
from forum.services.profiles import BIO_MAX, DISPLAY_NAME_MAX


class ProfileForm(ForumForm):
    display_name = StringField(
        _l("Display name"),
        validators=[Optional(), Length(max=DISPLAY_NAME_MAX)],
        description=_l(
            "Any script, shown beside your username. Changes are listed on your profile. "
            "Leave it empty to be shown by your username."
        ),
    )
    bio = TextAreaField(
        _l("About you"),
        validators=[Optional(), Length(max=BIO_MAX)],
        description=_l(
            "At most %(count)s characters of Markdown. Links work once your account is trusted.",
            count=BIO_MAX,
        ),
    )


class AvatarForm(ForumForm):
    avatar = FileField(
        _l("New picture"),
        description=_l("A PNG, JPEG, GIF or WebP image. It is cropped to a square and resized."),
    )


class RemoveAvatarForm(ForumForm):
    """Only the CSRF token: removing the picture needs no other input."""
