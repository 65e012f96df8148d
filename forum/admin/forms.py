"""The webhook form. It checks shape; the webhooks service checks the rules."""

from flask_wtf import FlaskForm
from wtforms import SelectMultipleField, StringField, widgets
from wtforms.validators import DataRequired, Length, ValidationError

from forum.models import SUBSCRIBABLE_EVENTS, WebhookEvent
from forum.services.webhooks import URL_MAX_LENGTH

EVENT_LABELS = {
    WebhookEvent.COMMENT_POSTED: "A comment is posted (also one waiting for review)",
    WebhookEvent.COMMENT_EDITED: "A comment is edited by its author",
    WebhookEvent.COMMENT_HIDDEN: "A moderator hides a comment",
    WebhookEvent.COMMENT_REPORTED: "A reader reports a comment",
    WebhookEvent.APPEAL_FILED: "An author appeals a hidden comment",
}


class CheckboxesField(SelectMultipleField):
    """Several choices as checkboxes (no JavaScript, no multi-select box)."""

    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


def at_least_one(form, field) -> None:
    """Like DataRequired, without marking every checkbox ``required`` (which would ask
    for all of them)."""
    if not field.data:
        raise ValidationError("Choose at least one event.")


class WebhookForm(FlaskForm):
    url = StringField(
        "Receiving address",
        validators=[DataRequired(message="Enter an address."), Length(max=URL_MAX_LENGTH)],
        description="An http:// or https:// URL that accepts POST requests with JSON.",
    )
    events = CheckboxesField(
        "Events",
        choices=[
            (event.value, f"{event.value}: {EVENT_LABELS[event]}") for event in SUBSCRIBABLE_EVENTS
        ],
        validators=[at_least_one],
    )
