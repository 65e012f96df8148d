"""The article form. It checks shape; the articles service checks the rules (slug, series,
position), so the same rules hold for the browser and the importer."""

from flask_babel import lazy_gettext as _l
from wtforms import IntegerField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import NumberRange, Optional

from forum.forms_support import ForumForm
from forum.services.article_rules import POSITION_MAX


class ArticleForm(ForumForm):
    """Writing or editing an article, with a Preview button beside Save."""

    title = StringField(_l("Title"))
    slug = StringField(
        _l("Slug"),
        description=_l(
            "The article's address: /articles/<slug>. Lower-case letters, digits and "
            "hyphens. Leave it empty to have one made from the title."
        ),
    )
    summary = TextAreaField(_l("Summary (optional)"), description=_l("One or two sentences."))
    # Choices are the existing series, filled in by the view; the service checks the id.
    series = SelectField(_l("Series"), choices=[], validate_choice=False)
    new_series = StringField(
        _l("Or start a new series"), description=_l("The title of a series that doesn't exist yet.")
    )
    position = IntegerField(
        _l("Position in the series"),
        validators=[
            Optional(),
            NumberRange(min=1, max=POSITION_MAX, message=_l("Use a whole number from 1.")),
        ],
        description=_l("Leave it empty to place the article after the series' last one."),
    )
    body = TextAreaField(
        _l("Article"),
        description=_l(
            "Markdown: headings, **bold**, *italic*, `code`, > quotes, lists, tables and links."
        ),
    )
    preview = SubmitField(_l("Preview"))
    submit = SubmitField(_l("Save article"))
