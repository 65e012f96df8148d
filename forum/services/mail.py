"""Email: the outgoing queue, delivery over SMTP, and turning due notifications into emails
(one each, or a daily digest). What each email says is in ``mail_compose`` and its
templates (``templates/email/``).

Pages only ever add rows (Notification, OutgoingEmail); delivery happens outside any page's
transaction (``flask notifications send``, and a best-effort thread after a response), so a
slow or broken mail server never slows or fails a page. A failed send is recorded on its row
and retried on a lengthening schedule, then given up after ``max_attempts``."""

import logging
import smtplib
import ssl
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.policy import EmailPolicy
from email.utils import format_datetime, make_msgid, parseaddr
from itertools import groupby

from sqlalchemy import select, update
from sqlalchemy.orm import joinedload

from forum.extensions import db
from forum.models import (
    CommentStatus,
    EmailPreference,
    Notification,
    OutgoingEmail,
    User,
    utcnow,
)
from forum.services.mail_compose import (
    EMAILED_KINDS,
    Links,
    queue_digest_email,
    queue_notification_email,
)

logger = logging.getLogger("forum.mail")

DIGEST_INTERVAL = timedelta(hours=24)


@dataclass(frozen=True)
class MailSettings:
    """How to reach the SMTP server (read from app config; no server means no email)."""

    server: str | None = None
    port: int = 25
    username: str | None = None
    password: str | None = None
    use_tls: bool = False  # STARTTLS after connecting
    use_ssl: bool = False  # TLS from the first byte (SMTPS, usually port 465)
    sender: str = "Forum <forum@localhost>"
    timeout: float = 10.0
    max_attempts: int = 5

    @property
    def enabled(self) -> bool:
        return bool(self.server)

    @classmethod
    def from_config(cls, config) -> "MailSettings":
        settings = cls(
            server=str(config["MAIL_SERVER"]) if config.get("MAIL_SERVER") else None,
            port=int(config["MAIL_PORT"]),
            # str(): FORUM_* variables are parsed as JSON, so "123456" arrives as a number.
            username=str(config["MAIL_USERNAME"]) if config.get("MAIL_USERNAME") else None,
            password=str(config["MAIL_PASSWORD"]) if config.get("MAIL_PASSWORD") else None,
            use_tls=bool(config["MAIL_USE_TLS"]),
            use_ssl=bool(config["MAIL_USE_SSL"]),
            sender=config["MAIL_SENDER"],
            timeout=float(config["MAIL_TIMEOUT"]),
            max_attempts=int(config["MAIL_MAX_ATTEMPTS"]),
        )
        if settings.use_tls and settings.use_ssl:
            raise ValueError("Set FORUM_MAIL_USE_TLS (STARTTLS) or FORUM_MAIL_USE_SSL, not both.")
        return settings


def can_email(user: User) -> bool:
    """Whether ``user`` wants notification emails and has an address they confirmed."""
    return user.wants_notification_email


# --- notifications into emails ---------------------------------------------------------------


@dataclass
class QueueReport:
    immediate: int = 0
    digests: int = 0
    dropped: int = 0


def _still_worth_sending(note: Notification) -> bool:
    """Checked when the email is composed, not only when the notification was made: a comment
    hidden, deleted or sent back to review since then is not emailed."""
    return (
        note.kind in EMAILED_KINDS
        and note.comment is not None
        and note.comment.status is CommentStatus.VISIBLE
    )


def queue_due_notifications(links: Links, *, now: datetime | None = None) -> QueueReport:
    """Turn notifications waiting for email into queued emails: one per notification for
    'immediately', one digest for 'daily' once the last digest is 24 hours old. Notifications
    that should no longer be emailed are taken off the list. Commits once."""
    now = now or utcnow()
    report = QueueReport()
    notes = (
        db.session.execute(
            select(Notification)
            .options(
                joinedload(Notification.user),
                joinedload(Notification.actor),
                joinedload(Notification.article),
                joinedload(Notification.comment),
            )
            .where(Notification.email_due.is_(True), Notification.emailed_at.is_(None))
            .order_by(Notification.user_id, Notification.id)
        )
        .scalars()
        .all()
    )

    def drop(note: Notification) -> None:
        note.email_due = False
        report.dropped += 1

    for _user_id, group in groupby(notes, key=lambda n: n.user_id):
        items = list(group)
        user = items[0].user
        if not can_email(user):
            for note in items:
                drop(note)
            continue
        if user.email_preference is EmailPreference.IMMEDIATE:
            for note in items:
                if _still_worth_sending(note):
                    queue_notification_email(note, links)
                    note.emailed_at = now
                    report.immediate += 1
                else:
                    drop(note)
        elif user.last_digest_at is None or now - user.last_digest_at >= DIGEST_INTERVAL:
            sendable = [n for n in items if _still_worth_sending(n)]
            for note in items:
                if note not in sendable:
                    drop(note)
            if sendable:
                queue_digest_email(user, sendable, links)
                for note in sendable:
                    note.emailed_at = now
                user.last_digest_at = now
                report.digests += 1
    db.session.commit()
    return report


# --- delivery ---------------------------------------------------------------------------------


class _MailPolicy(EmailPolicy):
    """The default policy, except that List-Unsubscribe is never folded: folding a long URL
    turns it into RFC 2047 encoded words, which mail clients don't read as a URL."""

    _unfolded = frozenset({"list-unsubscribe"})

    def fold(self, name, value):
        if name.lower() in self._unfolded:
            return f"{name}: {value}{self.linesep}"
        return super().fold(name, value)

    def fold_binary(self, name, value):
        if name.lower() in self._unfolded and str(value).isascii():
            return f"{name}: {value}{self.linesep}".encode("ascii")
        return super().fold_binary(name, value)


MAIL_POLICY = _MailPolicy()


def build_message(email: OutgoingEmail, sender: str, now: datetime | None = None) -> EmailMessage:
    """The MIME message for a queued email: plain text, and the HTML part as its
    multipart/alternative when it has one (text first, so clients that prefer it see it),
    with RFC 8058 one-click unsubscribe headers when it has an unsubscribe link."""
    message = EmailMessage(policy=MAIL_POLICY)
    message["Subject"] = email.subject
    message["From"] = sender
    message["To"] = email.to_address
    message["Date"] = format_datetime(now or utcnow())
    domain = parseaddr(sender)[1].rpartition("@")[2] or "localhost"
    message["Message-ID"] = make_msgid(domain=domain)
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation auto-replies
    if email.unsubscribe_url:
        message["List-Unsubscribe"] = f"<{email.unsubscribe_url}>"
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message.set_content(email.body)
    if email.html_body:
        message.add_alternative(email.html_body, subtype="html")
    return message


def connect(settings: MailSettings) -> smtplib.SMTP:
    """An SMTP connection, encrypted and logged in as configured."""
    context = ssl.create_default_context()
    if settings.use_ssl:
        connection = smtplib.SMTP_SSL(
            settings.server, settings.port, timeout=settings.timeout, context=context
        )
    else:
        connection = smtplib.SMTP(settings.server, settings.port, timeout=settings.timeout)
    try:
        if settings.use_tls:
            connection.starttls(context=context)
        if settings.username:
            connection.login(settings.username, settings.password or "")
    except BaseException:
        _close(connection)
        raise
    return connection


def _close(connection: smtplib.SMTP) -> None:
    try:
        connection.quit()
    except (OSError, smtplib.SMTPException):
        connection.close()


def is_due(email: OutgoingEmail, now: datetime) -> bool:
    """A new email is due at once; a failed one 1, 5, 25, 125... minutes after it was queued."""
    if email.attempts == 0:
        return True
    return now >= email.created_at + timedelta(minutes=5 ** (email.attempts - 1))


# The server refused one message but the connection is still good for the next.
_MESSAGE_REFUSED = (smtplib.SMTPResponseException, smtplib.SMTPRecipientsRefused)


@dataclass
class DeliveryReport:
    sent: int = 0
    failed: int = 0
    gave_up: int = 0
    waiting: int = 0  # unsent, not yet due for another attempt


def _claim(email_id: int, seen_attempts: int) -> bool:
    """Count an attempt before making it, committed: of two senders that picked the same
    email, only the one whose update matches sends it; the other skips it."""
    result = db.session.execute(
        update(OutgoingEmail)
        .where(
            OutgoingEmail.id == email_id,
            OutgoingEmail.attempts == seen_attempts,
            OutgoingEmail.sent_at.is_(None),
        )
        .values(attempts=OutgoingEmail.attempts + 1)
    )
    db.session.commit()
    return result.rowcount == 1


def _record_failure(email_id: int, error: Exception, settings: MailSettings) -> bool:
    """Store the error on the email; True when that was its last attempt."""
    email = db.session.get(OutgoingEmail, email_id)
    email.last_error = f"{type(error).__name__}: {error}"[:1000]
    gave_up = email.attempts >= settings.max_attempts
    log = logger.error if gave_up else logger.warning
    log(
        "Email %s to %s failed (attempt %s of %s%s): %s",
        email.id,
        email.to_address,
        email.attempts,
        settings.max_attempts,
        ", giving up" if gave_up else ", will retry",
        email.last_error,
    )
    db.session.commit()
    return gave_up


def send_outgoing(
    settings: MailSettings,
    *,
    ids: Iterable[int] | None = None,
    now: datetime | None = None,
    limit: int = 500,
) -> DeliveryReport:
    """Send queued emails that are due (all of them, or those in ``ids``), one connection for
    the lot. Every attempt is counted and every failure recorded on its row; no database
    transaction stays open while the mail server is talked to."""
    now = now or utcnow()
    report = DeliveryReport()
    query = (
        select(OutgoingEmail)
        .where(OutgoingEmail.sent_at.is_(None), OutgoingEmail.attempts < settings.max_attempts)
        .order_by(OutgoingEmail.id)
        .limit(limit)
    )
    if ids is not None:
        query = query.where(OutgoingEmail.id.in_(list(ids)))
    due = []
    for email in db.session.execute(query).scalars():
        if is_due(email, now):
            due.append((email.id, email.attempts))
        else:
            report.waiting += 1
    db.session.commit()
    if not settings.enabled or not due:
        return report

    connection: smtplib.SMTP | None = None
    try:
        for email_id, seen_attempts in due:
            if not _claim(email_id, seen_attempts):
                continue
            message = build_message(db.session.get(OutgoingEmail, email_id), settings.sender)
            db.session.commit()  # nothing held while the server answers
            try:
                if connection is None:
                    connection = connect(settings)
            except (OSError, smtplib.SMTPException) as exc:
                # The server can't be reached: the rest waits for the next run.
                report.failed += 1
                report.gave_up += _record_failure(email_id, exc, settings)
                break
            try:
                connection.send_message(message)
            except (OSError, smtplib.SMTPException) as exc:
                report.failed += 1
                report.gave_up += _record_failure(email_id, exc, settings)
                if not isinstance(exc, _MESSAGE_REFUSED):
                    _close(connection)  # the connection broke; open a new one next time
                    connection = None
                continue
            db.session.execute(
                update(OutgoingEmail)
                .where(OutgoingEmail.id == email_id)
                .values(sent_at=utcnow(), last_error=None)
            )
            db.session.commit()
            report.sent += 1
    finally:
        if connection is not None:
            _close(connection)
    return report
