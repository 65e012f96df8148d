"""A reader's own settings that belong to no other area: the language of the site."""

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import force_locale, gettext
from flask_login import login_required

from forum.auth.current import current_actor
from forum.forms_support import apply_refusal
from forum.i18n import select_locale
from forum.preferences.forms import LanguageForm
from forum.services import preferences
from forum.services.errors import NotAllowed

bp = Blueprint("preferences", __name__)


@bp.route("/account/language", methods=["GET", "POST"])
@login_required
def language():
    user = current_actor()
    form = LanguageForm(language=user.locale or "")
    if form.validate_on_submit():
        try:
            preferences.set_language(user, form.language.data or None)
        except NotAllowed as exc:
            apply_refusal(form, exc)
        else:
            # Said in the language just chosen, which the next page is written in.
            with force_locale(select_locale()):
                flash(gettext("Your language is saved."), "success")
            return redirect(url_for("preferences.language"))
    status = 400 if request.method == "POST" else 200
    return render_template("preferences/language.html", form=form), status
