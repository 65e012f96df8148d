"""Downloading your data and deleting your account (both from the account page)."""

import json

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext
from flask_login import current_user, logout_user

from forum.auth.current import current_actor
from forum.forms_support import apply_refusal
from forum.services import your_data
from forum.services.errors import NotAllowed
from forum.your_data.forms import DeleteAccountForm

bp = Blueprint("your_data", __name__)


@bp.before_request
def _members_only():
    if not current_user.is_authenticated:
        return current_app.login_manager.unauthorized()
    return None


@bp.get("/account/export")
def export():
    """Everything the member wrote, as a JSON file to keep."""
    user = current_actor()
    body = json.dumps(your_data.export_data(user), indent=2, ensure_ascii=False)
    return Response(
        body,
        mimetype="application/json",
        headers={
            # Usernames are ASCII letters, digits, _ and -: safe inside the header.
            "Content-Disposition": f'attachment; filename="forum-{user.username}-data.json"',
            "Cache-Control": "no-store",
        },
    )


def _confirm_page(form: DeleteAccountForm, status: int = 200):
    return render_template("your_data/delete.html", form=form), status


@bp.route("/account/delete", methods=["GET", "POST"])
def delete():
    """Ask for the password and the choice about comments; then delete and log out."""
    form = DeleteAccountForm()
    if request.method == "GET":
        form.comments.data = "keep"
        return _confirm_page(form)
    if not form.validate_on_submit():
        return _confirm_page(form, 400)
    try:
        your_data.delete_account(
            current_actor(),
            form.password.data,
            remove_comments=form.comments.data == "remove",
        )
    except NotAllowed as exc:
        apply_refusal(form, exc, default_field="password")
        return _confirm_page(form, 400)
    logout_user()
    session.clear()
    flash(gettext("Your account is deleted. Thank you for taking part."), "success")
    return redirect(url_for("site.index"))


@bp.app_template_global("delete_account_form")
def _delete_account_form() -> DeleteAccountForm:
    """A blank deletion form for the account page, which another view renders."""
    form = DeleteAccountForm(formdata=None)
    form.comments.data = "keep"
    return form
