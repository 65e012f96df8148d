"""Editing your profile (``/account/profile``) and serving avatars (``/avatars/...``).

Avatars are served by the forum itself, with a fixed ``Content-Type`` and ``nosniff``
(forum/security.py sets it on every response): an uploaded picture under its content hash,
cached for a year; the generated one under the username, cached for a day."""

from flask import (
    Blueprint,
    Flask,
    Response,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import login_required

from forum.auth.current import current_actor
from forum.forms_support import apply_refusal
from forum.identity.forms import AvatarForm, ProfileForm, RemoveAvatarForm
from forum.services import accounts, avatars, profiles
from forum.services.errors import NotAllowed, TooLarge

bp = Blueprint("identity", __name__)

UPLOAD_ENDPOINT = "identity.upload_avatar"
# The request may be up to twice the picture limit (plus the form around it), so that most
# files that are too big reach the view and get the upload form back with a clear message;
# larger requests get the general 413 page.
UPLOAD_OVERHEAD_BYTES = 64 * 1024
YEAR_SECONDS = 365 * 24 * 3600
DAY_SECONDS = 24 * 3600


def _edit_page(profile_form=None, avatar_form=None, status: int = 200):
    user = current_actor()
    if profile_form is None:
        profile_form = ProfileForm(formdata=None, display_name=user.display_name, bio=user.bio_md)
    return render_template(
        "identity/edit.html",
        profile_form=profile_form,
        avatar_form=avatar_form or AvatarForm(formdata=None),
        remove_form=RemoveAvatarForm(formdata=None),
        max_megabytes=current_app.config["AVATAR_MAX_BYTES"] / 1_048_576,
    ), status


@bp.route("/account/profile", methods=["GET", "POST"])
@login_required
def edit():
    """The display name and bio; the avatar's forms post to their own routes."""
    if request.method == "GET":
        return _edit_page()
    form = ProfileForm()
    if not form.validate_on_submit():
        return _edit_page(profile_form=form, status=400)
    try:
        profiles.update_profile(
            current_actor(),
            display_name=form.display_name.data,
            bio=form.bio.data,
            trusted_after=current_app.config["TRUSTED_AFTER_APPROVED_COMMENTS"],
        )
    except NotAllowed as exc:
        apply_refusal(form, exc, default_field="display_name")
        return _edit_page(profile_form=form, status=400)
    flash(_("Your profile is saved."), "success")
    return redirect(url_for("identity.edit"))


@bp.post("/account/avatar")
@login_required
def upload_avatar():
    form = AvatarForm()
    if not form.validate_on_submit():
        return _edit_page(avatar_form=form, status=400)
    upload = form.avatar.data
    data = upload.read(current_app.config["AVATAR_MAX_BYTES"] + 1) if upload else b""
    try:
        avatars.set_uploaded(
            current_actor(),
            data,
            max_bytes=current_app.config["AVATAR_MAX_BYTES"],
            max_pixels=current_app.config["AVATAR_MAX_PIXELS"],
        )
    except (NotAllowed, TooLarge) as exc:
        apply_refusal(form, exc, default_field="avatar")
        return _edit_page(avatar_form=form, status=exc.status)
    flash(_("Your new picture is in place."), "success")
    return redirect(url_for("identity.edit"))


@bp.post("/account/avatar/remove")
@login_required
def remove_avatar():
    form = RemoveAvatarForm()
    if not form.validate_on_submit():
        return _edit_page(status=400)
    avatars.remove_uploaded(current_actor())  # NotAllowed: a 400 page
    flash(_("Your picture is removed: you have the generated one again."), "success")
    return redirect(url_for("identity.edit"))


@bp.get("/avatars/<username>.svg")
def generated_avatar(username: str):
    user = accounts.get_by_username(username, include_deleted=False)
    response = Response(avatars.identicon_svg(user), mimetype="image/svg+xml")
    response.headers["Cache-Control"] = f"public, max-age={DAY_SECONDS}"
    return response


@bp.get("/avatars/<username>/<digest>.webp")
def uploaded_avatar(username: str, digest: str):
    user = accounts.get_by_username(username, include_deleted=False)
    stored = avatars.uploaded_image(user, digest)
    response = Response(stored.data, mimetype=avatars.MEDIA_TYPE)
    # The address names the bytes: they never change under it.
    response.headers["Cache-Control"] = f"public, max-age={YEAR_SECONDS}, immutable"
    response.headers["Content-Disposition"] = "inline"
    return response


def avatar_url(user) -> str:
    """Where ``user``'s avatar is: their upload, the generated one, or, for a deleted
    account or an imported author (no account: ``None``), a neutral picture that says
    nothing about who it was."""
    if user is None or user.deleted_at is not None:
        return url_for("static", filename="avatar-deleted.svg")
    if user.avatar_hash:
        return url_for("identity.uploaded_avatar", username=user.username, digest=user.avatar_hash)
    return url_for("identity.generated_avatar", username=user.username)


def _allow_picture_uploads() -> None:
    """The upload route may receive more than the app's small request limit (which every
    other form keeps). Runs before every other hook: the NUL guard and CSRF read the body."""
    if request.endpoint == UPLOAD_ENDPOINT:
        request.max_content_length = (
            2 * current_app.config["AVATAR_MAX_BYTES"] + UPLOAD_OVERHEAD_BYTES
        )


def register(app: Flask) -> None:
    """The upload limit hook, first of all hooks; ``avatar_url`` for templates."""
    app.before_request_funcs.setdefault(None, []).insert(0, _allow_picture_uploads)
    app.add_template_global(avatar_url)
