"""Register, log in, log out, change password; and the session's idle and absolute limits."""

import time

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required, login_url, login_user, logout_user

from forum import kept_forms
from forum.auth import devices
from forum.auth.current import current_actor
from forum.auth.forms import ChangePasswordForm, LoginForm, RegisterForm
from forum.auth.redirects import safe_next
from forum.errors import wants_json
from forum.extensions import limiter, login_manager
from forum.forms_support import apply_refusal
from forum.mailing import outbox
from forum.services import accounts, kept_drafts, spam
from forum.services.errors import NotAllowed
from forum.sqlite import reads_first

bp = Blueprint("auth", __name__)

login_manager.login_view = "auth.login"
login_manager.login_message = _l("Please log in to continue.")
login_manager.login_message_category = "info"
login_manager.session_protection = "basic"
login_manager.user_loader(accounts.load_session_user)


def _login_account_key() -> str:
    """Rate-limit key for login attempts against one account, whoever makes them."""
    return "login-account:" + devices.account_key(request.form.get("username"))


def _login_device_key() -> str:
    """Rate-limit key for login attempts from one known device (one device cookie)."""
    return "login-device:" + (devices.login_device_nonce() or "")


def _start_session(user) -> None:
    """A fresh session for a fresh login: nothing from before it survives (no fixation),
    except the token of a form kept when the previous session ended, to give it back."""
    kept_draft = session.get(kept_forms.KEPT_DRAFT_KEY)
    session.clear()
    if kept_draft:
        session[kept_forms.KEPT_DRAFT_KEY] = kept_draft
    login_user(user)
    session.permanent = True
    now = int(time.time())
    session["login_at"] = now
    session["seen_at"] = now


@login_manager.unauthorized_handler
def _unauthorized():
    """A page that needs an account sends the reader to log in and back. A form posted
    without one (the session ended while they wrote) comes back with its text instead of
    a redirect that would lose it."""
    if request.method == "POST" and kept_forms.keeper_for(request.endpoint) is not None:
        return kept_forms.answer_session_ended(401, wants_json())
    flash(str(login_manager.login_message), login_manager.login_message_category)
    if request.method == "POST":
        # A button (vote, follow...): back to the page it was on, never to a POST-only URL.
        return redirect(login_url(login_manager.login_view, next_url=kept_forms.referring_page()))
    return redirect(login_url(login_manager.login_view, next_url=request.url))


@bp.get("/login/resume")
@login_required
def resume_draft():
    """Where logging in again leads after a form was refused for an ended session: the
    form's page, which takes the kept text back; or, for a form without a page of its own,
    the form to send again."""
    draft = kept_drafts.find(session.get(kept_forms.KEPT_DRAFT_KEY))
    if draft is None:
        flash(_("There was no kept text to bring back; it may be more than a day old."), "info")
        return redirect(url_for("site.index"))
    home = kept_forms.home_of(draft.action)
    if home is not None:
        return redirect(home)
    fields = kept_forms.restore(draft.action) or {}
    return kept_forms.resend_page(draft.action, fields, None)


@bp.before_app_request
def _enforce_session_limits() -> None:
    """End sessions past the configured idle time or absolute lifetime."""
    if not current_user.is_authenticated:
        return
    now = int(time.time())
    idle = current_app.config["SESSION_IDLE_MINUTES"] * 60
    lifetime = current_app.config["SESSION_LIFETIME_HOURS"] * 3600
    login_at = session.get("login_at", 0)
    seen_at = session.get("seen_at", 0)
    if now - login_at > lifetime or now - seen_at > idle:
        logout_user()
        session.clear()
        flash(_("Your session ended. Please log in again."), "info")
        return
    if now - seen_at > 60:  # rewrite the cookie at most once a minute
        session["seen_at"] = now


@bp.route("/register", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["RATELIMIT_REGISTER"], methods=["POST"])
def register():
    form = RegisterForm()
    if request.method == "GET":
        form.form_started.data = spam.form_token(current_app.secret_key)
    if form.validate_on_submit():
        try:
            spam.check_form(
                honeypot=form.website.data,
                started=form.form_started.data,
                enabled=current_app.config["SPAM_CHECKS_ENABLED"],
                min_seconds=current_app.config["SPAM_MIN_SUBMIT_SECONDS"],
                secret_key=current_app.secret_key,
            )
            user = accounts.register(
                form.username.data,
                form.password.data,
                email=form.email.data,
                display_name=form.display_name.data,
                min_length=current_app.config["PASSWORD_MIN_LENGTH"],
                max_length=current_app.config["PASSWORD_MAX_LENGTH"],
            )
        except NotAllowed as exc:  # a ValidationFailed too: each field's problem beside it
            apply_refusal(form, exc)
        else:
            _start_session(user)
            flash(_("Welcome, %(name)s! Your account is ready.", name=user.name), "success")
            if outbox.ask_to_confirm(user):
                flash(
                    _("We've emailed %(email)s a link to confirm your address.", email=user.email),
                    "info",
                )
            return redirect(safe_next(request.args.get("next")) or url_for("site.index"))
    status = 400 if request.method == "POST" else 200
    return render_template("auth/register.html", form=form), status


@bp.route("/login", methods=["GET", "POST"])
@reads_first  # the password check (argon2) runs without the write lock
# Strangers are limited per address and per account; a known device of the account (see
# forum/auth/devices.py) is exempt from both and limited per device cookie instead.
@limiter.limit(
    lambda: current_app.config["RATELIMIT_LOGIN"],
    methods=["POST"],
    exempt_when=devices.is_known_device,
)
@limiter.limit(
    lambda: current_app.config["RATELIMIT_LOGIN_ACCOUNT"],
    key_func=_login_account_key,
    methods=["POST"],
    exempt_when=devices.is_known_device,
)
@limiter.limit(
    lambda: current_app.config["RATELIMIT_LOGIN_DEVICE"],
    key_func=_login_device_key,
    methods=["POST"],
    exempt_when=lambda: not devices.is_known_device(),
)
def login():
    form = LoginForm()
    next_url = safe_next(request.values.get("next"))
    if form.validate_on_submit():
        user = accounts.authenticate(form.username.data, form.password.data)
        if user is not None:
            _start_session(user)
            response = redirect(next_url or url_for("site.index"))
            devices.remember(response, user.username)
            return response
        # The same words whether the name exists or not.
        form.form_errors.append(_("Wrong username or password."))
    status = 400 if request.method == "POST" else 200
    return render_template("auth/login.html", form=form, next_url=next_url), status


@kept_forms.keeps_drafts("auth.login")
def _login_again(refusal: kept_forms.Refusal):
    """The login form again (its username, never its password) under a refusal: a rate
    limit that says how long to wait, or an expired form."""
    form = LoginForm()
    return (
        render_template(
            "auth/login.html",
            form=form,
            next_url=safe_next(request.values.get("next")),
            refusal=refusal,
        ),
        refusal.status,
    )


@bp.post("/logout")
def logout():
    # CSRFProtect has checked the token: a forged logout never reaches this line.
    if current_user.is_authenticated:
        # Logging out ends every session of this account: a copied cookie dies with it.
        accounts.end_all_sessions(current_actor())
    logout_user()
    session.clear()
    flash(_("You are logged out."), "info")
    return redirect(url_for("site.index"))


@bp.route("/account", methods=["GET", "POST"])
@login_required
def account():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        user = current_actor()
        try:
            accounts.change_password(
                user,
                form.current_password.data,
                form.new_password.data,
                min_length=current_app.config["PASSWORD_MIN_LENGTH"],
                max_length=current_app.config["PASSWORD_MAX_LENGTH"],
            )
        except NotAllowed as exc:
            apply_refusal(form, exc)
        else:
            # Other sessions are now invalid; keep this one by logging in afresh.
            _start_session(user)
            outbox.tell_password_changed(user)
            flash(_("Your password is changed. Other devices have been logged out."), "success")
            return redirect(url_for("auth.account"))
    status = 400 if request.method == "POST" else 200
    return render_template("auth/account.html", form=form), status
