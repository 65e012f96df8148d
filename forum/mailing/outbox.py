"""The running app's mail settings, and best-effort delivery right after a response.

A page only adds OutgoingEmail rows. ``deliver_soon`` then tries to send those rows in a
thread once the view has finished, so a confirmation or reset link usually arrives within
seconds; whatever that thread can't send stays queued for ``flask notifications send``."""

from flask import current_app

from forum import background
from forum.mailing.links import EmailLinks
from forum.models import OutgoingEmail, User
from forum.services import mail, mail_accounts
from forum.services.errors import DomainError
from forum.services.tokens import TokenSettings


def enabled() -> bool:
    """Whether this site sends email at all (an SMTP server is configured)."""
    return bool(current_app.config.get("MAIL_SERVER"))


def links() -> EmailLinks | None:
    """Links for emails, or None when the site sends no email (so nothing gets queued)."""
    return EmailLinks.for_app(current_app) if enabled() else None


def token_settings() -> TokenSettings:
    return TokenSettings.from_config(current_app.config)


def deliver_soon(emails: list[OutgoingEmail]) -> None:
    """Send these queued emails in a background thread after this request's view returns.
    Never raises into the page; failures stay on the rows for the CLI to retry."""
    ids = [email.id for email in emails if email is not None]
    if not ids or not current_app.config["MAIL_SEND_IN_BACKGROUND"]:
        return
    background.after_response(_deliver, ids)


def _deliver(ids: list[int]) -> None:
    mail.send_outgoing(mail.MailSettings.from_config(current_app.config), ids=ids)


def ask_to_confirm(user: User) -> bool:
    """Email a new account's address its confirmation link; False when there's nothing to
    send (no mail, no address, or already confirmed)."""
    email_links = links()
    if email_links is None or not user.email or user.email_confirmed:
        return False
    try:
        deliver_soon([mail_accounts.send_confirmation(user, email_links)])
    except DomainError:  # already confirmed, or not an address at all
        return False
    return True


def tell_password_changed(user: User) -> None:
    """Queue the "your password was changed" notice to the confirmed address, if any."""
    email_links = links()
    if email_links is not None:
        deliver_soon([mail_accounts.notify_password_changed(user, email_links)])
