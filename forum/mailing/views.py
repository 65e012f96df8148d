"""Email address, notification emails, one-click unsubscribe and password reset by email.

Links from emails carry a signed token and work without logging in. Opening one never
changes anything (the project's rule for GET): the page shows a button that POSTs. The
unsubscribe URL also takes a CSRF-exempt POST authenticated by its token alone, which is
what mail clients send for RFC 8058 one-click unsubscribe."""

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext
from flask_login import current_user, login_required

from forum.auth.current import current_actor
from forum.extensions import csrf, limiter
from forum.forms_support import apply_refusal
from forum.mailing import outbox
from forum.mailing.forms import (
    PREFERENCE_CHOICES,
    ChangeEmailForm,
    EmailPreferenceForm,
    ForgotPasswordForm,
    ResetPasswordForm,
)
from forum.models import EmailPreference
from forum.services import mail_accounts
from forum.services.errors import DomainError, NotAllowed
from forum.services.tokens import InvalidToken

bp = Blueprint("mailing", __name__)
bp.add_app_template_global(PREFERENCE_CHOICES, "email_preference_choices")


def _require_mail() -> None:
    if not outbox.enabled():
        abort(404, gettext("This site doesn't send email."))


def _account_email_url() -> str:
    return url_for("auth.account", _anchor="email")


def _per_account_key() -> str:
    return f"mail-account:{current_user.get_id()}"


def _forgot_address_key() -> str:
    return "forgot-address:" + (request.form.get("email") or "").strip().lower()


def _token_page(template: str, status: int = 200, **context):
    """A page whose URL holds a token: not cached, and not leaked through the Referer."""
    response = make_response(render_template(template, **context), status)
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "no-store"
    return response


def _bad_link(error: InvalidToken, purpose: str):
    """400 with a page saying what went wrong and what to do next; nothing was changed."""
    return _token_page("mailing/bad_link.html", 400, message=error.message, purpose=purpose)


# --- the address and the choice, from the account page ----------------------------------------


@bp.route("/account/email", methods=["GET", "POST"])
@login_required
@limiter.limit(
    lambda: current_app.config["RATELIMIT_EMAIL_CHANGE"],
    key_func=_per_account_key,
    methods=["POST"],
)
def change_email():
    """Set, change or remove the address (with the password: it can reset the password)."""
    form = ChangeEmailForm()
    if form.validate_on_submit():
        user = current_actor()
        try:
            queued = mail_accounts.change_email(
                user, form.email.data, form.current_password.data, outbox.links()
            )
        except NotAllowed as exc:
            apply_refusal(form, exc, default_field="email")
        else:
            outbox.deliver_soon(queued)
            if not user.email:
                flash(gettext("The email address is removed from your account."), "success")
            elif outbox.enabled():
                flash(
                    gettext(
                        "We've emailed %(address)s a link to confirm it. Until you do, we "
                        "send nothing to it.",
                        address=user.email,
                    ),
                    "success",
                )
            else:
                flash(gettext("Your email address is saved."), "success")
            return redirect(_account_email_url())
    status = 400 if request.method == "POST" else 200
    return render_template("mailing/change_email.html", form=form), status


@bp.post("/account/email/confirmation")
@login_required
@limiter.limit(lambda: current_app.config["RATELIMIT_EMAIL_CHANGE"], key_func=_per_account_key)
def send_confirmation():
    """Email the confirmation link again."""
    _require_mail()
    try:
        email = mail_accounts.send_confirmation(current_actor(), outbox.links())
    except DomainError as exc:
        flash(str(exc.message), "info")
    else:
        outbox.deliver_soon([email])
        flash(
            gettext(
                "We've sent a new confirmation link to %(address)s.", address=current_user.email
            ),
            "success",
        )
    return redirect(_account_email_url())


@bp.post("/account/email/preference")
@login_required
def set_preference():
    """Choose never, immediately or a daily digest."""
    _require_mail()
    form = EmailPreferenceForm()
    if not form.validate_on_submit():
        abort(400, gettext("Choose how often we may email you: never, immediately or daily."))
    preference = EmailPreference(form.preference.data)
    user = current_actor()
    mail_accounts.set_preference(user, preference)
    if preference is EmailPreference.NONE:
        flash(gettext("We won't email you about notifications."), "success")
    elif user.email and user.email_confirmed:
        flash(
            gettext("Saved. Notification emails go to %(address)s.", address=user.email), "success"
        )
    else:
        flash(gettext("Saved. Emails start once your email address is confirmed."), "info")
    return redirect(_account_email_url())


# --- links from emails -------------------------------------------------------------------------


@bp.route("/email/confirm/<token>", methods=["GET", "POST"])
def confirm_email(token: str):
    """GET shows whose address this is and a button; the POST confirms it."""
    settings = outbox.token_settings()
    try:
        user = mail_accounts.user_to_confirm(token, settings)
    except InvalidToken as exc:
        return _bad_link(exc, "confirm")
    if request.method == "POST":  # CSRFProtect has checked the token
        user = mail_accounts.confirm_email(token, settings)
        flash(gettext("Thank you: %(address)s is confirmed.", address=user.email), "success")
        target = _account_email_url() if current_user.is_authenticated else url_for("site.index")
        return redirect(target)
    return _token_page("mailing/confirm.html", user=user)


@bp.route("/email/unsubscribe/<token>", methods=["GET", "POST"])
@csrf.exempt  # the signed token is the credential; mail clients POST with no session
def unsubscribe(token: str):
    """GET asks; POST (the button, or a mail client's one-click POST) unsubscribes."""
    settings = outbox.token_settings()
    try:
        user = mail_accounts.user_to_unsubscribe(token, settings)
    except InvalidToken as exc:
        return _bad_link(exc, "unsubscribe")
    if request.method == "POST":
        mail_accounts.unsubscribe(token, settings)
        return _token_page("mailing/unsubscribed.html", user=user)
    return _token_page("mailing/unsubscribe.html", user=user)


# --- password reset ---------------------------------------------------------------------------


@bp.route("/password/forgot", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["RATELIMIT_RESET_REQUEST"], methods=["POST"])
@limiter.limit(
    lambda: current_app.config["RATELIMIT_RESET_REQUEST_ADDRESS"],
    key_func=_forgot_address_key,
    methods=["POST"],
)
def forgot_password():
    """Ask for a reset link; the answer never tells whether the address is known."""
    _require_mail()
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        queued = mail_accounts.request_password_reset(form.email.data, outbox.links())
        outbox.deliver_soon(queued)
        # The same page whether or not an account has this address.
        return render_template("mailing/forgot_sent.html", address=form.email.data)
    status = 400 if request.method == "POST" else 200
    return render_template("mailing/forgot.html", form=form), status


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    """Set a new password with a single-use link from an email."""
    _require_mail()
    settings = outbox.token_settings()
    try:
        user = mail_accounts.user_to_reset(token, settings)
    except InvalidToken as exc:
        return _bad_link(exc, "reset")
    form = ResetPasswordForm()
    if form.validate_on_submit():
        try:
            queued = mail_accounts.reset_password(
                token,
                form.password.data,
                settings,
                outbox.links(),
                min_length=current_app.config["PASSWORD_MIN_LENGTH"],
                max_length=current_app.config["PASSWORD_MAX_LENGTH"],
            )
        except NotAllowed as exc:
            apply_refusal(form, exc, default_field="password")
        except InvalidToken as exc:  # used in another tab a moment ago
            return _bad_link(exc, "reset")
        else:
            outbox.deliver_soon(queued)
            flash(gettext("Your password is changed. Log in with your new password."), "success")
            response = redirect(url_for("auth.login"))
            response.headers["Referrer-Policy"] = "no-referrer"
            return response
    status = 400 if request.method == "POST" else 200
    return _token_page("mailing/reset.html", status, form=form, user=user)
