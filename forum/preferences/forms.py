from flask_babel import lazy_gettext as _l
from wtforms import SelectField

from forum.forms_support import ForumForm
from forum.i18n import LOCALES

# The empty choice follows the browser; each language is named in itself.
LANGUAGE_CHOICES = [("", _l("Automatic (your browser's language)")), *LOCALES.items()]


class LanguageForm(ForumForm):
    language = SelectField(_l("Language"), choices=LANGUAGE_CHOICES)
