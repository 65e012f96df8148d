"""The admins' form for an external article. It checks shape; the service checks the rules."""

from flask_wtf import FlaskForm
from wtforms import BooleanField, StringField


class ExternalArticleForm(FlaskForm):
    title = StringField("Title")
    url = StringField(
        "Page address",
        description=(
            "The page's canonical URL on your site. Changing it moves the discussion; the old "
            "address is kept, so embeds that still name it find the discussion."
        ),
    )
    author = StringField("Author", description="The username of an author, moderator or admin.")
    locked = BooleanField("Discussion locked")
    lock_reason = StringField("Reason shown to readers when locking (optional)")
