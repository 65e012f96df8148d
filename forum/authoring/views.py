"""Writing and editing articles in the browser, and the author's desk.

The whole area sits behind one guard: logged-in authors, moderators and admins only. Each
route then asks the finer question (may this person edit this article?), and the articles
service asks it again."""

from datetime import UTC, datetime

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext
from flask_login import current_user

from forum.auth.current import current_actor
from forum.authoring.forms import ArticleForm
from forum.forms_support import apply_refusal
from forum.models import Article
from forum.paging import parse_id
from forum.services import article_editor, article_rules, articles, author_desk, permissions
from forum.services.errors import ValidationFailed
from forum.services.sanitize import render_markdown

bp = Blueprint("authoring", __name__)

EDITOR_ENDPOINTS = {"authoring.new_article", "authoring.edit_article"}
# An article is longer than a comment: the editor accepts a larger request than the site's
# default. Set before the CSRF check reads the form (url_value_preprocessor runs first).
EDITOR_MAX_REQUEST_BYTES = 2 * 1024 * 1024


@bp.url_value_preprocessor
def _allow_long_articles(endpoint: str | None, values: dict | None) -> None:
    # Only for people with an author's desk: anyone else (anonymous visitors above all)
    # keeps the site's small limit, so 2 MB bodies can't be sent by whoever wants to.
    if endpoint in EDITOR_ENDPOINTS and permissions.has_author_desk(current_user):
        request.max_content_length = EDITOR_MAX_REQUEST_BYTES
        request.max_form_memory_size = EDITOR_MAX_REQUEST_BYTES


@bp.before_request
def _authors_only():
    if not current_user.is_authenticated:
        return current_app.login_manager.unauthorized()
    if not permissions.has_author_desk(current_user):
        abort(403, gettext("Only authors, moderators and admins can write articles."))
    return None


def _body_max() -> int:
    return current_app.config["ARTICLE_MAX_LENGTH"]


def _article_form(draft: article_rules.ArticleDraft | None = None) -> ArticleForm:
    """The form, with the series to choose from; on GET, filled from ``draft``."""
    if request.method == "GET" and draft is not None:
        form = ArticleForm(
            formdata=None,
            title=draft.title,
            slug=draft.slug,
            summary=draft.summary,
            body=draft.body,
            series=str(draft.series_id) if draft.series_id else "",
            position=draft.position,
        )
    else:
        form = ArticleForm()
    form.series.choices = [("", gettext("No series"))] + [
        (str(series.id), series.title) for series in articles.all_series()
    ]
    return form


def _draft_from(form: ArticleForm) -> article_rules.ArticleDraft:
    raw_series = (form.series.data or "").strip()
    return article_rules.ArticleDraft(
        title=form.title.data or "",
        slug=form.slug.data or "",
        summary=form.summary.data or "",
        body=form.body.data or "",
        # An id that isn't a number is no series the service could find: -1 says so.
        series_id=(parse_id(raw_series) or -1) if raw_series else None,
        new_series=form.new_series.data or "",
        position=form.position.data,
    )


def _editor(form: ArticleForm, article: Article | None, preview_html=None, status: int = 200):
    return (
        render_template(
            "authoring/edit.html",
            form=form,
            article=article,
            preview_html=preview_html,
            body_max=_body_max(),
        ),
        status,
    )


def _handle(form: ArticleForm, article: Article | None, save):
    """Preview, or save and go to the article; on a refusal, show the draft with its errors."""
    if not form.validate_on_submit():
        return _editor(form, article, status=400)
    if form.preview.data:
        if not (form.slug.data or "").strip() and (form.title.data or "").strip():
            form.slug.data = article_rules.suggest_slug(form.title.data, article)
        html = render_markdown(form.body.data or "", profile="article")
        return _editor(form, article, preview_html=html)
    try:
        saved = save(_draft_from(form))
    except ValidationFailed as exc:
        apply_refusal(form, exc)
        return _editor(form, article, status=400)
    flash(
        gettext("The article is saved.") if article else gettext("The article is published."),
        "success",
    )
    return redirect(url_for("site.article", slug=saved.slug))


@bp.route("/articles/new", methods=["GET", "POST"])
def new_article():
    """Write a new article; it is published (and followed by its author) when saved."""
    if not permissions.can_write_articles(current_user):
        abort(403, gettext("Your account is suspended, so you can't write articles now."))
    form = _article_form(article_rules.ArticleDraft())
    if request.method == "GET":
        return _editor(form, None)
    return _handle(
        form,
        None,
        lambda draft: article_editor.create_article(current_actor(), draft, body_max=_body_max()),
    )


@bp.route("/articles/<slug>/edit", methods=["GET", "POST"])
def edit_article(slug: str):
    """Edit an article: its author, or any moderator or admin."""
    article = articles.get_article(slug)
    if article.is_external:
        if permissions.is_admin(current_user):
            return redirect(url_for("external_admin.edit", article_id=article.id))
        abort(
            403,
            gettext(
                "This article lives on the publisher's site; admins edit its title and address."
            ),
        )
    if not permissions.can_edit_article(current_user, article):
        if current_user.is_suspended():
            abort(403, gettext("Your account is suspended, so you can't edit articles now."))
        abort(403, gettext("You can only edit your own articles."))
    form = _article_form(article_editor.draft_of(article))
    if request.method == "GET":
        return _editor(form, article)
    return _handle(
        form,
        article,
        lambda draft: article_editor.update_article(
            current_actor(), article, draft, body_max=_body_max()
        ),
    )


@bp.get("/author")
def desk():
    """The author's articles with their counts, and the comments waiting for an answer."""
    return render_template("authoring/desk.html", desk=author_desk.load_desk(current_actor()))


def _parse_moment(value: str | None) -> datetime | None:
    """The desk's load time sent back by the form; None if it isn't a timestamp. Made UTC
    here, where a time that has none ("0001-01-01T00:00+14:00") is refused, not stored."""
    try:
        moment = datetime.fromisoformat(value or "")
        return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
    except (ValueError, OverflowError):
        return None


@bp.post("/author/seen")
def mark_seen():
    """Count everything shown on the desk as seen (up to when the desk was loaded)."""
    author_desk.mark_seen(current_actor(), _parse_moment(request.form.get("until")))
    flash(gettext("Everything on your desk is marked as seen."), "success")
    return redirect(url_for("authoring.desk"))
