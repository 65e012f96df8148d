"""Putting a service's refusal onto the form that asked for it, the same way in every view."""

from flask_wtf import FlaskForm
from wtforms import HiddenField

from forum.services.errors import DomainError, ValidationFailed


def apply_refusal(form: FlaskForm, error: DomainError, default_field: str | None = None) -> None:
    """Show ``error`` beside the field it names (``error.field``).

    A refusal naming no field of this form goes beside ``default_field`` when given; one
    naming a hidden field (nobody would see it there), or nothing at all, goes above the
    form (``form.form_errors``). A ValidationFailed names several fields at once."""
    problems = error.errors if isinstance(error, ValidationFailed) else {error.field: error.message}
    for name, message in problems.items():
        field = form._fields.get(name) if name else None
        if field is None and default_field:
            field = form._fields.get(default_field)
        if field is None or isinstance(field, HiddenField):
            form.form_errors.append(message)
        else:
            # WTForms leaves ``errors`` a tuple on a field that was never validated.
            field.errors = [*field.errors, message]
