from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField

from forum.i18n import LOCALES

# The empty choice follows the browser; each language is named in itself.
LANGUAGE_CHOICES = [("", _l("Automatic (your browser's language)")), *LOCALES.items()]


class LanguageForm(FlaskForm):
    language = SelectField(_l("Language"), choices=LANGUAGE_CHOICES)
