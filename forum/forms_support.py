"""Putting a service's refusal onto the form that asked for it, the same way in every view."""

from flask_wtf import FlaskForm
from wtforms import HiddenField

from forum.services.errors import DomainError, ValidationFailed


def apply_refusal(form: FlaskForm, error: DomainError, default_field: str | None = None) -> None:
    """Show ``error`` beside the field it names (``error.field``, else ``default_field``),
    or above the form when the form has no such field, or only a hidden one nobody would
    see. A ValidationFailed names several fields at once."""
    problems = error.errors if isinstance(error, ValidationFailed) else {error.field: error.message}
    for name, message in problems.items():
        field = form._fields.get(name or default_field or "")
        if field is None or isinstance(field, HiddenField):
            form.form_errors.append(message)
        else:
            # WTForms leaves ``errors`` a tuple on a field that was never validated.
            field.errors = [*field.errors, message]
