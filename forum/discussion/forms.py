"""Comment forms. Shape only: the threads service checks length, blankness and permissions,
so the same rules hold for every client."""

from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, StringField, SubmitField, TextAreaField
from wtforms.validators import Optional

from forum.forms_support import ForumForm


class CommentForm(ForumForm):
    body = TextAreaField(
        _l("Your comment"),
        description=_l("Markdown: **bold**, *italic*, `code`, > quote, lists and links."),
    )
    parent_id = HiddenField()
    # Spam defence: bots fill the invisible field; people take a few seconds to write.
    website = StringField(_l("Leave this field empty"), validators=[Optional()])
    form_started = HiddenField()
    # Made when the form is rendered (and renewed by the script after each post): the same
    # key posted twice by one account stores one comment (a retry after a lost answer).
    idempotency_key = HiddenField()
    preview = SubmitField(_l("Preview"))
    submit = SubmitField(_l("Post comment"))


class EditForm(ForumForm):
    body = TextAreaField(_l("Your comment"))
    # The revision of the text this form started from (threads.revision_of): saving over a
    # newer one (another tab saved first) is refused rather than overwriting it.
    revision = HiddenField()
    preview = SubmitField(_l("Preview"))
    submit = SubmitField(_l("Save changes"))


class PreviewForm(ForumForm):
    """A draft sent for the live preview (the CSRF token is checked like any form's)."""

    body = TextAreaField(_l("Your comment"))
