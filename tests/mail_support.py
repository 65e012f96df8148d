"""A real SMTP server for tests (aiosmtpd on 127.0.0.1), and helpers to read what it got."""

import email
import re
import socket
import time
from contextlib import contextmanager
from email import policy
from email.message import EmailMessage
from urllib.parse import urlsplit

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from forum.extensions import db
from forum.models import EmailPreference, User

BASE_URL = "http://forum.test"
SENDER = "Forum <forum@example.org>"
SMTP_USER = "mailer"
SMTP_PASSWORD = "mail-secret"


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Inbox:
    """The aiosmtpd handler: keeps every message the server accepts, parsed."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.raw: list[bytes] = []  # as received, before any parsing
        self.recipients: list[list[str]] = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        """Refuse addresses at refused.example, as a server refuses an unknown mailbox."""
        if address.endswith("@refused.example"):
            return "550 5.1.1 No such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.raw.append(envelope.original_content or envelope.content)
        self.messages.append(email.message_from_bytes(envelope.content, policy=policy.default))
        self.recipients.append(list(envelope.rcpt_tos))
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if m["To"] == address]

    def wait_for(self, count: int, timeout: float = 10.0) -> list[EmailMessage]:
        """Wait until at least ``count`` messages have arrived (for background delivery)."""
        deadline = time.monotonic() + timeout
        while len(self.messages) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.messages


class SmtpServer:
    def __init__(self, controller: Controller, inbox: Inbox, port: int) -> None:
        self.controller, self.inbox, self.port = controller, inbox, port

    @property
    def messages(self) -> list[EmailMessage]:
        return self.inbox.messages


def _check_login(server, session, envelope, mechanism, auth_data) -> AuthResult:
    good = isinstance(auth_data, LoginPassword) and (
        auth_data.login == SMTP_USER.encode() and auth_data.password == SMTP_PASSWORD.encode()
    )
    return AuthResult(success=good, auth_data=auth_data if good else None)


@contextmanager
def running_smtp_server(*, require_login: bool = False):
    """An SMTP server on 127.0.0.1 for the length of the block. With ``require_login`` it
    accepts only SMTP_USER / SMTP_PASSWORD (over plain text: it is a test)."""
    inbox = Inbox()
    port = free_port()
    options = {}
    if require_login:
        options = {
            "authenticator": _check_login,
            "auth_required": True,
            "auth_require_tls": False,
        }
    controller = Controller(inbox, hostname="127.0.0.1", port=port, **options)
    controller.start()
    try:
        yield SmtpServer(controller, inbox, port)
    finally:
        controller.stop()


def mail_config(port: int, **extra) -> dict:
    """App settings that send mail to the test server; delivery only when a test asks."""
    return {
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": port,
        "MAIL_SENDER": SENDER,
        "MAIL_TIMEOUT": 5,
        "BASE_URL": BASE_URL,
        "MAIL_SEND_IN_BACKGROUND": False,
        **extra,
    }


def opt_in(
    user: User,
    preference: EmailPreference = EmailPreference.IMMEDIATE,
    *,
    confirmed: bool = True,
    address: str | None = None,
) -> User:
    """Give ``user`` an address (confirmed or not) and an email choice, committed."""
    user.email = address or f"{user.username}@example.org"
    user.email_confirmed = confirmed
    user.email_preference = preference
    db.session.commit()
    return user


def body_of(message: EmailMessage) -> str:
    """The plain-text part (the whole body of a text-only message)."""
    return message.get_body(preferencelist=("plain",)).get_content()


def html_of(message: EmailMessage) -> str | None:
    """The HTML alternative, or None when the message is plain text only."""
    part = message.get_body(preferencelist=("html",))
    return part.get_content() if part is not None else None


def links_in(message: EmailMessage) -> list[str]:
    return re.findall(r"https?://\S+", body_of(message))


def link_to(message: EmailMessage, path_start: str) -> str:
    """The path (for the test client) of the one link in the body starting with
    ``BASE_URL + path_start``."""
    found = [url for url in links_in(message) if url.startswith(BASE_URL + path_start)]
    assert len(found) == 1, f"expected one {path_start} link in: {body_of(message)}"
    return urlsplit(found[0]).path


def header_url(message: EmailMessage) -> str:
    """The List-Unsubscribe URL, without its angle brackets."""
    value = str(message["List-Unsubscribe"])
    assert value.startswith("<") and value.endswith(">"), value
    return value[1:-1]
