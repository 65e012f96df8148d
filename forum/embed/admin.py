"""The admins' list of external articles (pages of the publisher's site with a discussion
here), and their edit page: title, page address, author, lock.

The whole area is for admins only (one guard); the service asks again."""

from flask import Blueprint, abort, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext
from flask_login import current_user

from forum.auth.current import current_actor
from forum.embed.forms import ExternalArticleForm
from forum.forms_support import apply_refusal
from forum.paging import page_arg
from forum.services import external_articles, permissions
from forum.services.errors import DomainError

bp = Blueprint("external_admin", __name__, url_prefix="/admin/articles/external")


@bp.before_request
def _admins_only():
    if not current_user.is_authenticated:
        return current_app.login_manager.unauthorized()
    if not permissions.is_admin(current_user):
        abort(403, gettext("Only admins can manage external articles."))
    return None


@bp.get("")
def index():
    found = external_articles.external_articles_page(
        page_arg(), current_app.config["ADMIN_PAGE_SIZE"]
    )
    return render_template("embed/admin_list.html", page=found)


@bp.route("/<int:article_id>", methods=["GET", "POST"])
def edit(article_id: int):
    article = external_articles.get_external(article_id)
    form = ExternalArticleForm()
    if not form.is_submitted():
        form.title.data = article.title
        form.url.data = article.external_url
        form.author.data = article.author.username
        form.locked.data = article.discussion_locked
        form.lock_reason.data = article.lock_reason or ""
        return render_template("embed/admin_edit.html", article=article, form=form)
    if not form.validate_on_submit():
        return render_template("embed/admin_edit.html", article=article, form=form), 400
    changes = external_articles.ExternalChanges(
        title=form.title.data or "",
        url=form.url.data or "",
        author=form.author.data or "",
        locked=bool(form.locked.data),
        lock_reason=form.lock_reason.data or "",
    )
    try:
        external_articles.update_external(current_actor(), article, changes)
    except DomainError as error:
        if error.status == 403:
            raise
        apply_refusal(form, error)
        return render_template("embed/admin_edit.html", article=article, form=form), error.status
    flash(gettext("The external article is saved."), "success")
    return redirect(url_for("external_admin.index"))
