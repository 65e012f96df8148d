"""Administrators' pages: webhooks (register, pause, rotate the secret, test, the log).

One guard (``before_request``) keeps everyone but administrators out of every route here;
the services check the actor again."""

from flask import Blueprint, abort, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext
from flask_login import current_user

from forum.admin.forms import WebhookForm
from forum.auth.current import current_actor
from forum.forms_support import apply_refusal
from forum.services import permissions, webhooks
from forum.services.errors import NotAllowed

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.before_request
def _admins_only():
    if not current_user.is_authenticated:
        return current_app.login_manager.unauthorized()
    if not permissions.can_manage_webhooks(current_actor()):
        abort(403, gettext("Only administrators can manage webhooks."))
    return None


@bp.after_request
def _never_cached(response):
    # The hook pages show signing secrets.
    response.headers["Cache-Control"] = "no-store"
    return response


def _list_page(form: WebhookForm, status: int = 200):
    return render_template("admin/webhooks.html", form=form, hooks=webhooks.all_hooks()), status


@bp.get("/webhooks")
def webhook_list():
    return _list_page(WebhookForm())


@bp.post("/webhooks")
def webhook_create():
    form = WebhookForm()
    if not form.validate_on_submit():
        return _list_page(form, 400)
    try:
        hook = webhooks.create_hook(current_actor(), form.url.data, form.events.data)
    except NotAllowed as exc:
        apply_refusal(form, exc)
        return _list_page(form, 400)
    flash(gettext("The webhook is registered. Give its secret to the receiver."), "success")
    return redirect(url_for("admin.webhook_detail", hook_id=hook.id))


@bp.get("/webhooks/<int:hook_id>")
def webhook_detail(hook_id: int):
    hook = webhooks.get_hook(hook_id)
    return render_template("admin/webhook.html", hook=hook, deliveries=webhooks.deliveries_of(hook))


def _back_to(hook_id: int):
    return redirect(url_for("admin.webhook_detail", hook_id=hook_id))


@bp.post("/webhooks/<int:hook_id>/deactivate")
def webhook_deactivate(hook_id: int):
    webhooks.set_active(current_actor(), webhooks.get_hook(hook_id), False)
    flash(gettext("The webhook is paused: new events are not queued for it."), "success")
    return _back_to(hook_id)


@bp.post("/webhooks/<int:hook_id>/activate")
def webhook_activate(hook_id: int):
    webhooks.set_active(current_actor(), webhooks.get_hook(hook_id), True)
    flash(gettext("The webhook is active again."), "success")
    return _back_to(hook_id)


@bp.post("/webhooks/<int:hook_id>/rotate-secret")
def webhook_rotate_secret(hook_id: int):
    webhooks.rotate_secret(current_actor(), webhooks.get_hook(hook_id))
    flash(
        gettext("The webhook has a new secret; deliveries are signed with it from now on."),
        "success",
    )
    return _back_to(hook_id)


@bp.post("/webhooks/<int:hook_id>/test")
def webhook_test(hook_id: int):
    webhooks.send_test_event(current_actor(), webhooks.get_hook(hook_id))
    flash(gettext("A test event (ping) is queued; “flask notifications send” sends it."), "success")
    return _back_to(hook_id)


@bp.post("/webhooks/<int:hook_id>/delete")
def webhook_delete(hook_id: int):
    webhooks.delete_hook(current_actor(), webhooks.get_hook(hook_id))
    flash(gettext("The webhook and its delivery log are deleted."), "success")
    return redirect(url_for("admin.webhook_list"))
