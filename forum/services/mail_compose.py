"""What each email says: ``templates/email/<name>.txt`` and ``.html`` rendered into the
plain-text and HTML parts of a queued OutgoingEmail.

The templates come from the app's own Jinja environment (``current_app.jinja_env``): every
caller of this module already runs in an app context, since it writes through
``db.session``, so that adds no requirement; it keeps the app's template folder and its
autoescape rule (on for ``.html``, off for ``.txt``), and ``Template.render`` runs no context
processors, so nothing here touches a request or a session: emails queued from a CLI
command or a background thread come out the same as from a page.

Each email is written in its recipient's language (their account setting, else English),
whoever's request queued it: every ``queue_*`` function renders inside ``force_locale``."""

import functools
from dataclasses import dataclass
from typing import Protocol

from babel.dates import format_datetime
from flask import current_app
from flask_babel import force_locale, get_locale, gettext, ngettext
from flask_babel import lazy_gettext as _l

from forum.extensions import db
from forum.models import Notification, NotificationKind, OutgoingEmail, User, utcnow
from forum.services.tokens import TokenSettings

SITE_NAME = "Forum"
EXCERPT_LENGTH = 600
DIGEST_EXCERPT_LENGTH = 280

# Only these kinds are emailed: each is about someone else's visible comment. Moderation
# notices (hidden, restored, appeals) concern a comment readers can't see; they stay in the
# browser's notification list.
_HEADLINES = {
    NotificationKind.REPLY: _l("%(who)s replied to your comment on “%(where)s”"),
    NotificationKind.MENTION: _l("%(who)s mentioned you on “%(where)s”"),
    NotificationKind.FOLLOWED: _l("%(who)s commented on “%(where)s”, which you follow"),
    NotificationKind.ARTICLE_COMMENT: _l("%(who)s commented on your article “%(where)s”"),
}
EMAILED_KINDS = frozenset(_HEADLINES)


class Links(Protocol):
    """Absolute URLs for emails. Built from the configured base URL, never from a request's
    Host header (which an attacker chooses: a reset link must not point at their site)."""

    tokens: TokenSettings

    def comment(self, comment_id: int) -> str: ...
    def account(self) -> str: ...
    def forgot_password(self) -> str: ...
    def unsubscribe(self, user: User) -> str: ...
    def confirm_email(self, user: User) -> str: ...
    def reset_password(self, user: User) -> str: ...


def in_recipients_language(queue):
    """Render the email ``queue`` composes in the language of its recipient: the account
    (or the notification's account) passed first."""

    @functools.wraps(queue)
    def queue_in_language(first, *args, **kwargs):
        user = first.user if isinstance(first, Notification) else first
        with force_locale(user.locale or "en"):
            return queue(first, *args, **kwargs)

    return queue_in_language


@dataclass(frozen=True)
class EmailBody:
    """The two parts of one email: plain text (kept for every client) and HTML."""

    text: str
    html: str


def render_email(name: str, **context) -> EmailBody:
    """Render ``templates/email/<name>.txt`` and ``.html`` with ``context``.

    The HTML part is autoescaped, so names, titles and comment excerpts can't add markup;
    the text part is not (it is not HTML). Plain-text bodies end with one newline."""
    env = current_app.jinja_env
    context.setdefault("site_name", SITE_NAME)
    text = env.get_template(f"email/{name}.txt").render(context)
    html = env.get_template(f"email/{name}.html").render(context)
    return EmailBody(text.rstrip("\n") + "\n", html)


# --- text helpers ------------------------------------------------------------------------------


def one_line(text: str, limit: int = 200) -> str:
    """Text fit for a header: one line (no header injection), at most ``limit`` characters."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def excerpt(text: str, limit: int) -> str:
    """The start of ``text``, cut at a word boundary when it is longer than ``limit``."""
    text = text.strip()
    if len(text) <= limit:
        return text
    cut = text[:limit]
    space = max(cut.rfind(" "), cut.rfind("\n"))
    if space > limit // 2:
        cut = cut[:space]
    return cut.rstrip() + " …"


def quoted(text: str, indent: str = "") -> str:
    """Plain-text quotation, ``> `` before every line."""
    return "\n".join(f"{indent}> {line}".rstrip() for line in text.splitlines())


def headline(note: Notification) -> str:
    """'alice replied to your comment on “Title”'."""
    who = note.actor.name if note.actor else gettext("Someone")
    if note.actor is None and note.comment is not None and note.comment.is_imported:
        who = gettext("%(name)s (imported)", name=note.comment.author_name)
    where = note.article.title if note.article else gettext("a discussion")
    return str(_HEADLINES[note.kind]) % {"who": who, "where": where}


# --- queueing ---------------------------------------------------------------------------------


def _queue(
    to: str, subject: str, body: EmailBody, unsubscribe_url: str | None = None
) -> OutgoingEmail:
    email = OutgoingEmail(
        to_address=to,
        subject=one_line(subject, 300),
        body=body.text,
        html_body=body.html,
        unsubscribe_url=unsubscribe_url,
        created_at=utcnow(),
    )
    db.session.add(email)
    return email


def _footer(user: User, links: Links, why: str) -> dict:
    """What the notification footer (email/_footer.*) needs."""
    return {
        "why": why,
        "account_url": links.account(),
        "unsubscribe_url": links.unsubscribe(user),
    }


@in_recipients_language
def queue_notification_email(note: Notification, links: Links) -> OutgoingEmail:
    """One email about one notification: who, where, the comment's text and its link."""
    user, comment = note.user, note.comment
    line = headline(note)
    text = excerpt(comment.body_md, EXCERPT_LENGTH)
    body = render_email(
        "notification",
        subject=line,
        user=user,
        headline=line,
        excerpt=text,
        quote=quoted(text),
        comment_url=links.comment(comment.id),
        **_footer(user, links, gettext("You get an email for each notification, as you chose.")),
    )
    return _queue(user.email, line, body, links.unsubscribe(user))


@in_recipients_language
def queue_digest_email(user: User, notes: list[Notification], links: Links) -> OutgoingEmail:
    """One email listing several notifications, oldest first."""
    count = len(notes)
    items = []
    for note in notes:
        text = excerpt(note.comment.body_md, DIGEST_EXCERPT_LENGTH)
        items.append(
            {
                "headline": headline(note),
                "when": format_datetime(note.created_at, "d MMM, HH:mm", locale=get_locale()),
                "excerpt": text,
                "quote": quoted(text, indent="   "),
                "url": links.comment(note.comment_id),
            }
        )
    subject = ngettext(
        "%(site)s: your daily digest, %(num)d notification",
        "%(site)s: your daily digest, %(num)d notifications",
        count,
        site=SITE_NAME,
    )
    body = render_email(
        "digest",
        subject=subject,
        user=user,
        items=items,
        **_footer(user, links, gettext("You get a daily digest of your notifications.")),
    )
    return _queue(user.email, subject, body, links.unsubscribe(user))


@in_recipients_language
def queue_confirmation(user: User, links: Links) -> OutgoingEmail:
    """Ask the owner of the account's (new) address to confirm it."""
    subject = gettext("Confirm your email address for %(site)s", site=SITE_NAME)
    body = render_email(
        "confirm_email",
        subject=subject,
        user=user,
        confirm_url=links.confirm_email(user),
        hours=int(links.tokens.confirm_email.total_seconds() // 3600),
    )
    return _queue(user.email, subject, body)


@in_recipients_language
def queue_password_reset(user: User, links: Links) -> OutgoingEmail:
    """A single-use link to set a new password."""
    subject = gettext("Reset your %(site)s password", site=SITE_NAME)
    body = render_email(
        "reset_password",
        subject=subject,
        user=user,
        reset_url=links.reset_password(user),
        minutes=int(links.tokens.reset_password.total_seconds() // 60),
    )
    return _queue(user.email, subject, body)


@in_recipients_language
def queue_password_changed(user: User, links: Links) -> OutgoingEmail | None:
    """Tell the owner their password changed (to their confirmed address, if any)."""
    if not (user.email and user.email_confirmed):
        return None
    subject = gettext("Your %(site)s password was changed", site=SITE_NAME)
    body = render_email(
        "password_changed", subject=subject, user=user, forgot_url=links.forgot_password()
    )
    return _queue(user.email, subject, body)


@in_recipients_language
def queue_email_changed(user: User, old_address: str, links: Links) -> OutgoingEmail:
    """Tell the previous (confirmed) address that the account moved to another one."""
    subject = gettext("The email address of your %(site)s account changed", site=SITE_NAME)
    body = render_email(
        "email_changed",
        subject=subject,
        user=user,
        old_address=old_address,
        new_address=user.email or gettext("no address"),
        account_url=links.account(),
    )
    return _queue(old_address, subject, body)
