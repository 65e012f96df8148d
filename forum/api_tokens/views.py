"""Making and revoking personal API tokens; the list lives on the account page."""

from flask import (
    Blueprint,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user

from forum.api_tokens.forms import NewTokenForm
from forum.auth.current import current_actor
from forum.forms_support import apply_refusal
from forum.services import api_tokens
from forum.services.errors import DomainError

bp = Blueprint("api_tokens", __name__)


@bp.before_request
def _members_only():
    if not current_user.is_authenticated:
        return current_app.login_manager.unauthorized()
    return None


@bp.post("/account/tokens")
def create():
    """Make a token and show it this once. The page is the POST's answer, not a redirect:
    the raw token then never travels in a cookie or a URL, and nothing can show it again."""
    user = current_actor()
    form = NewTokenForm.for_user(user)
    if not form.validate_on_submit():
        return render_template("api_tokens/new.html", form=form), 400
    try:
        token, raw = api_tokens.create_token(
            user, form.name.data, form.scope.data, form.expires_in_days.data
        )
    except DomainError as exc:
        apply_refusal(form, exc)
        return render_template("api_tokens/new.html", form=form), exc.status
    response = make_response(render_template("api_tokens/created.html", token=token, raw=raw))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/account/tokens/<int:token_id>/revoke")
def revoke(token_id: int):
    token = api_tokens.revoke(current_actor(), token_id)
    flash(_("The token “%(name)s” is revoked: it no longer works.", name=token.name), "success")
    return redirect(url_for("auth.account", _anchor="api-tokens"))


@bp.app_template_global("api_token_section")
def _api_token_section() -> dict:
    """The account page's token list and a blank form (another view renders that page)."""
    user = current_actor()
    return {
        "form": NewTokenForm.for_user(user, formdata=None),
        "tokens": api_tokens.tokens_of(user),
    }
