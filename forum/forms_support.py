"""The base of every form (``ForumForm``), and putting a service's refusal onto the form that
asked for it, the same way in every view."""

from functools import lru_cache

from babel import support
from flask import current_app
from flask_babel import get_locale
from flask_wtf import FlaskForm
from wtforms import HiddenField
from wtforms.i18n import messages_path

from forum.services.errors import DomainError, ValidationFailed


@lru_cache(maxsize=32)
def _wtforms_catalogue(locale: str) -> support.Translations:
    return support.Translations.load(messages_path(), [locale], domain="wtforms")


class ForumForm(FlaskForm):
    """A Flask-WTF form whose WTForms messages ("Invalid email address.") come in the page's
    language from a catalogue read once per process and language: Flask-WTF reads the file
    again for every request that makes a form, about a quarter of a millisecond each, a
    twentieth of what posting a comment costs."""

    class Meta(FlaskForm.Meta):
        def get_translations(self, form):
            locale = get_locale()
            if locale is None or not current_app.config.get("WTF_I18N_ENABLED", True):
                return super().get_translations(form)
            return _wtforms_catalogue(str(locale))


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
