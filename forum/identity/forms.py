"""Profile forms. They check shape; the profiles and avatars services check the rules."""

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import StringField, TextAreaField
from wtforms.validators import Length, Optional

from forum.services.profiles import BIO_MAX, DISPLAY_NAME_MAX


class ProfileForm(FlaskForm):
    display_name = StringField(
        "Display name",
        validators=[Optional(), Length(max=DISPLAY_NAME_MAX)],
        description=(
            "Any script, shown beside your username. Changes are listed on your profile. "
            "Leave it empty to be shown by your username."
        ),
    )
    bio = TextAreaField(
        "About you",
        validators=[Optional(), Length(max=BIO_MAX)],
        description=(
            f"At most {BIO_MAX} characters of Markdown. Links work once your account is trusted."
        ),
    )


class AvatarForm(FlaskForm):
    avatar = FileField(
        "New picture",
        description="A PNG, JPEG, GIF or WebP image. It is cropped to a square and resized.",
    )


class RemoveAvatarForm(FlaskForm):
    """Only the CSRF token: removing the picture needs no other input."""
