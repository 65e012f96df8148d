"""The admins' form for an external article. It checks shape; the service checks the rules."""

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, StringField

from forum.forms_support import ForumForm


class ExternalArticleForm(ForumForm):
    title = StringField(_l("Title"))
    url = StringField(
        _l("Page address"),
        description=_l(
            "The page's canonical URL on your site. Changing it moves the discussion; the old "
            "address is kept, so embeds that still name it find the discussion."
        ),
    )
    author = StringField(
        _l("Author"), description=_l("The username of an author, moderator or admin.")
    )
    locked = BooleanField(_l("Discussion locked"))
    lock_reason = StringField(_l("Reason shown to readers when locking (optional)"))
