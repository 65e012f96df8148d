"""The webhook form. It checks shape; the webhooks service checks the rules."""

from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from wtforms import SelectMultipleField, StringField, widgets
from wtforms.validators import DataRequired, Length, ValidationError

from forum.forms_support import ForumForm
from forum.models import SUBSCRIBABLE_EVENTS, WebhookEvent
from forum.services.webhooks import URL_MAX_LENGTH

EVENT_LABELS = {
    WebhookEvent.COMMENT_POSTED: _l("A comment is posted (also one waiting for review)"),
    WebhookEvent.COMMENT_EDITED: _l("A comment is edited by its author"),
    WebhookEvent.COMMENT_HIDDEN: _l("A moderator hides a comment"),
    WebhookEvent.COMMENT_REPORTED: _l("A reader reports a comment"),
    WebhookEvent.APPEAL_FILED: _l("An author appeals a hidden comment"),
}


def _event_choice(event: WebhookEvent) -> LazyString:
    """A checkbox label made when the form is shown, in the reader's language."""
    return LazyString(lambda: f"{event.value}: {EVENT_LABELS[event]}")


class CheckboxesField(SelectMultipleField):
    """Several choices as checkboxes (no JavaScript, no multi-select box)."""

    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


def at_least_one(form, field) -> None:
    """Like DataRequired, without marking every checkbox ``required`` (which would ask
    for all of them)."""
    if not field.data:
        raise ValidationError(gettext("Choose at least one event."))


class WebhookForm(ForumForm):
    url = StringField(
        _l("Receiving address"),
        validators=[DataRequired(message=_l("Enter an address.")), Length(max=URL_MAX_LENGTH)],
        description=_l("An http:// or https:// URL that accepts POST requests with JSON."),
    )
    events = CheckboxesField(
        _l("Events"),
        # The event's name is code (what receivers see in the payload), then its words.
        choices=[(event.value, _event_choice(event)) for event in SUBSCRIBABLE_EVENTS],
        validators=[at_least_one],
    )
