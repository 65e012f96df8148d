"""Notification emails through a real SMTP server: who gets what, digests, failures and
retries, and the signed tokens behind the links."""

import dataclasses
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from forum.extensions import db
from forum.mailing.links import EmailLinks
from forum.models import EmailPreference, Notification, OutgoingEmail, Role, utcnow
from forum.services import mail, moderation, premoderation, threads, tokens
from forum.services.tokens import ExpiredToken, InvalidToken, Purpose, TokenSettings
from tests.conftest import make_article, make_user
from tests.mail_support import (
    BASE_URL,
    SENDER,
    SMTP_PASSWORD,
    SMTP_USER,
    body_of,
    free_port,
    header_url,
    html_of,
    mail_config,
    opt_in,
    running_smtp_server,
)

NO_SPAM = threads.DiscussionSettings(spam_checks=False)
PREMODERATED = threads.DiscussionSettings(spam_checks=False, premoderate_first=1)


@pytest.fixture
def app(mail_app):
    """Every test here runs with mail configured, against conftest's SMTP server."""
    return mail_app


def send(app) -> str:
    """Run ``flask notifications send`` as cron would; its output."""
    db.session.commit()  # end the test's transaction: the command writes
    result = app.test_cli_runner().invoke(args=["notifications", "send"])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    return result.output


def queue_and_send(app, now, settings=None) -> mail.DeliveryReport:
    """The command's two steps at a chosen moment (digests and retries depend on time)."""
    mail.queue_due_notifications(EmailLinks.for_app(app), now=now)
    return mail.send_outgoing(settings or mail.MailSettings.from_config(app.config), now=now)


def a_reply_to(user, body="I see it differently: the membrane decides.", *, replier=None):
    """A visible comment by ``user`` and a reply to it; returns the reply."""
    article = make_article(title="Cell Signals")
    parent = threads.post_comment(user, article, "My first thought.", settings=NO_SPAM)
    replier = replier or make_user("bob", display_name="Bob B.")
    return threads.post_comment(replier, article, body, parent_id=parent.id, settings=NO_SPAM)


def outgoing_count() -> int:
    return db.session.execute(select(func.count(OutgoingEmail.id))).scalar_one()


# --- who gets an email ------------------------------------------------------------------------


def test_a_reply_is_emailed_to_a_confirmed_opted_in_address(app, smtp):
    rita = opt_in(make_user("rita"))
    reply = a_reply_to(rita)

    output = send(app)

    assert "Sent 1" in output
    [message] = smtp.messages
    assert message["To"] == "rita@example.org"
    assert message["From"] == SENDER
    assert message["Subject"] == "Bob B. replied to your comment on “Cell Signals”"
    assert message["Auto-Submitted"] == "auto-generated"
    body = body_of(message)
    assert "I see it differently: the membrane decides." in body
    assert f"{BASE_URL}/comments/{reply.id}" in body
    unsubscribe = header_url(message)
    assert unsubscribe.startswith(f"{BASE_URL}/email/unsubscribe/")
    assert unsubscribe in body
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    note = db.session.execute(
        select(Notification).where(Notification.user_id == rita.id)
    ).scalar_one()
    assert note.emailed_at is not None
    [row] = db.session.execute(select(OutgoingEmail)).scalars()
    assert row.sent_at is not None and row.attempts == 1 and row.last_error is None


def test_the_unsubscribe_header_is_sent_as_one_unencoded_url(app, smtp):
    """Folding would turn a long URL into RFC 2047 words, which no mail client reads."""
    a_reply_to(opt_in(make_user("rita")))
    send(app)
    [raw] = smtp.inbox.raw
    [line] = [ln for ln in raw.split(b"\r\n") if ln.startswith(b"List-Unsubscribe:")]
    assert line.startswith(b"List-Unsubscribe: <" + BASE_URL.encode() + b"/email/unsubscribe/")
    assert line.endswith(b">")
    assert b"=?" not in line


def test_a_second_run_sends_nothing_again(app, smtp):
    a_reply_to(opt_in(make_user("rita")))
    send(app)
    send(app)
    assert len(smtp.messages) == 1


@pytest.mark.parametrize(
    "setup",
    [
        pytest.param(lambda u: opt_in(u, confirmed=False), id="unconfirmed address"),
        pytest.param(lambda u: opt_in(u, EmailPreference.NONE), id="preference none"),
        pytest.param(lambda u: u, id="no address"),
    ],
)
def test_nothing_is_sent_without_a_confirmed_address_and_a_wish(app, smtp, setup):
    rita = setup(make_user("rita"))
    a_reply_to(rita)

    send(app)

    assert smtp.messages == []
    assert outgoing_count() == 0


def test_an_address_unconfirmed_after_queueing_gets_nothing(app, smtp):
    rita = opt_in(make_user("rita"))
    a_reply_to(rita)
    rita.email_confirmed = False
    db.session.commit()

    send(app)

    assert smtp.messages == []


def test_a_pending_comment_sends_nothing_until_approved(app, smtp):
    rita = opt_in(make_user("rita"))
    article = make_article(title="Cell Signals")
    parent = threads.post_comment(rita, article, "My first thought.", settings=NO_SPAM)
    newcomer = make_user("newcomer")
    reply = threads.post_comment(
        newcomer, article, "Waiting for review.", parent_id=parent.id, settings=PREMODERATED
    )
    assert not reply.is_visible

    send(app)
    assert smtp.messages == []

    premoderation.approve_comment(make_user("mod", role=Role.MODERATOR), reply)
    send(app)
    [message] = smtp.messages
    assert "Waiting for review." in body_of(message)


@pytest.mark.parametrize("how", ["hidden by a moderator", "deleted by its author"])
def test_a_comment_removed_between_queueing_and_sending_is_not_emailed(app, smtp, how):
    rita = opt_in(make_user("rita"))
    bob = opt_in(make_user("bob"))  # wants email too: a moderation notice is not emailed
    reply = a_reply_to(rita, "Something regrettable.", replier=bob)
    if how == "hidden by a moderator":
        moderation.hide_comment(make_user("mod", role=Role.MODERATOR), reply, "spam")
    else:
        threads.delete_comment(bob, reply)

    send(app)

    assert smtp.messages == []
    assert outgoing_count() == 0
    waiting = db.session.execute(
        select(func.count(Notification.id)).where(Notification.email_due.is_(True))
    ).scalar_one()
    assert waiting == 0


def test_the_daily_digest_groups_notifications_into_one_email(app, smtp):
    rita = opt_in(make_user("rita"), EmailPreference.DAILY)
    article = make_article(title="Cell Signals")
    parent = threads.post_comment(rita, article, "My first thought.", settings=NO_SPAM)
    for name in ("bob", "carol", "dan"):
        threads.post_comment(
            make_user(name),
            article,
            f"Reply from {name}.",
            parent_id=parent.id,
            settings=NO_SPAM,
        )
    now = utcnow()

    queue_and_send(app, now)

    [digest] = smtp.messages
    assert digest["To"] == "rita@example.org"
    assert digest["Subject"] == "Forum: your daily digest, 3 notifications"
    body = body_of(digest)
    assert body.index("Reply from bob.") < body.index("Reply from carol.")
    assert "Reply from dan." in body
    html = html_of(digest)
    assert html.index("Reply from bob.") < html.index("Reply from carol.")
    assert digest["List-Unsubscribe"]
    db.session.refresh(rita)
    assert rita.last_digest_at is not None

    # Another notification waits for the next day's digest...
    threads.post_comment(
        make_user("erin"), article, "Late reply.", parent_id=parent.id, settings=NO_SPAM
    )
    queue_and_send(app, now + timedelta(hours=23))
    assert len(smtp.messages) == 1
    queue_and_send(app, now + timedelta(hours=24, minutes=1))
    assert len(smtp.messages) == 2
    assert "1 notification" in smtp.messages[1]["Subject"]
    assert "Late reply." in body_of(smtp.messages[1])
    assert "Reply from bob." not in body_of(smtp.messages[1])


def test_a_digest_leaves_out_a_comment_hidden_since(app, smtp):
    rita = opt_in(make_user("rita"), EmailPreference.DAILY)
    article = make_article()
    parent = threads.post_comment(rita, article, "My first thought.", settings=NO_SPAM)
    kept = threads.post_comment(
        make_user("bob"), article, "A fine reply.", parent_id=parent.id, settings=NO_SPAM
    )
    spam = threads.post_comment(
        make_user("carol"), article, "Buy pills.", parent_id=parent.id, settings=NO_SPAM
    )
    moderation.hide_comment(make_user("mod", role=Role.MODERATOR), spam, "spam")

    queue_and_send(app, utcnow())

    [digest] = smtp.messages
    assert "A fine reply." in body_of(digest)
    assert "Buy pills." not in body_of(digest)
    assert f"/comments/{kept.id}" in body_of(digest)


def test_long_comments_are_trimmed_and_titles_cannot_add_headers(app, smtp):
    rita = opt_in(make_user("rita"))
    article = make_article(title="Evil\r\nBcc: victim@example.org")
    parent = threads.post_comment(rita, article, "Hello.", settings=NO_SPAM)
    long_text = "word " * 1000
    threads.post_comment(
        make_user("bob"), article, long_text, parent_id=parent.id, settings=NO_SPAM
    )

    send(app)

    [message] = smtp.messages
    assert message["Bcc"] is None
    assert smtp.inbox.recipients == [["rita@example.org"]]
    assert "\n" not in message["Subject"]
    body = body_of(message)
    assert "word word" in body
    assert len(body) < 1500
    assert "…" in body


def test_every_email_has_a_plain_text_part_and_an_html_alternative(app, smtp):
    a_reply_to(opt_in(make_user("rita")))
    send(app)
    [message] = smtp.messages
    assert message.get_content_type() == "multipart/alternative"
    parts = [part.get_content_type() for part in message.iter_parts()]
    assert parts == ["text/plain", "text/html"]  # text first: the fallback
    html = html_of(message)
    assert "I see it differently: the membrane decides." in html
    assert f'href="{header_url(message)}"' in html


def test_the_html_part_escapes_comment_text_names_and_titles(app, smtp):
    rita = opt_in(make_user("rita"))
    article = make_article(title="Cells <i>and</i> signals")
    parent = threads.post_comment(rita, article, "Hello.", settings=NO_SPAM)
    mallory = make_user("mallory", display_name="<script>alert('name')</script>")
    threads.post_comment(
        mallory,
        article,
        "Look: <script>alert('body')</script> & <img src=x onerror=alert(1)>",
        parent_id=parent.id,
        settings=NO_SPAM,
    )

    send(app)

    [message] = smtp.messages
    html = html_of(message)
    assert "<script" not in html and "<img" not in html and "<i>" not in html
    assert "&lt;script&gt;alert(&#39;name&#39;)&lt;/script&gt;" in html
    assert "&lt;script&gt;alert(&#39;body&#39;)&lt;/script&gt; &amp; &lt;img" in html
    # The plain-text part is not HTML: it keeps the characters as written.
    assert "<script>alert('body')</script>" in body_of(message)


def test_the_digest_s_html_part_escapes_excerpts_and_names(app, smtp):
    rita = opt_in(make_user("rita"), EmailPreference.DAILY)
    article = make_article(title="Cell Signals")
    parent = threads.post_comment(rita, article, "My first thought.", settings=NO_SPAM)
    threads.post_comment(
        make_user("mallory", display_name="<b>Mallory</b>"),
        article,
        "<script>alert(1)</script>",
        parent_id=parent.id,
        settings=NO_SPAM,
    )
    queue_and_send(app, utcnow())
    [digest] = smtp.messages
    html = html_of(digest)
    assert "<script" not in html and "<b>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;b&gt;Mallory&lt;/b&gt;" in html


def test_a_queued_email_without_an_html_part_goes_out_as_plain_text(app, smtp):
    """Rows queued before html_body existed have none."""
    db.session.add(OutgoingEmail(to_address="old@example.org", subject="Old", body="Plain only.\n"))
    send(app)
    [message] = smtp.messages
    assert message.get_content_type() == "text/plain"
    assert body_of(message).strip() == "Plain only."


# --- failures and retries ---------------------------------------------------------------------


def test_a_failed_delivery_is_recorded_and_retried_later(app_factory, smtp):
    closed_port = free_port()
    app = app_factory(**mail_config(closed_port))
    with app.app_context():
        a_reply_to(opt_in(make_user("rita")))
        now = utcnow()

        report = queue_and_send(app, now)

        assert (report.sent, report.failed) == (0, 1)
        row = db.session.execute(select(OutgoingEmail)).scalar_one()
        assert row.attempts == 1 and row.sent_at is None
        assert "Connection refused" in row.last_error or "Errno" in row.last_error

        # Not due again straight away: retries back off.
        report = queue_and_send(app, now + timedelta(seconds=20))
        assert report.waiting == 1
        db.session.refresh(row)
        assert row.attempts == 1

        # The server is back (here: the right port) and the retry is due.
        working = dataclasses.replace(mail.MailSettings.from_config(app.config), port=smtp.port)
        report = queue_and_send(app, now + timedelta(minutes=2), working)

        assert report.sent == 1
        db.session.refresh(row)
        assert row.sent_at is not None and row.attempts == 2 and row.last_error is None
        assert len(smtp.messages) == 1


def test_delivery_gives_up_after_the_configured_attempts(app_factory):
    app = app_factory(**mail_config(free_port(), MAIL_MAX_ATTEMPTS=3))
    with app.app_context():
        a_reply_to(opt_in(make_user("rita")))
        now = utcnow()
        reports = [queue_and_send(app, now + timedelta(days=day)) for day in range(5)]

        assert [r.failed for r in reports] == [1, 1, 1, 0, 0]
        assert reports[2].gave_up == 1
        row = db.session.execute(select(OutgoingEmail)).scalar_one()
        assert row.attempts == 3 and row.sent_at is None and row.last_error


def test_the_server_refusing_one_message_does_not_stop_the_others(app, smtp):
    for name in ("rita", "sam"):
        a_reply_to(opt_in(make_user(name)), replier=make_user(f"{name}-replier"))
    first = db.session.execute(select(OutgoingEmail).limit(1)).scalar_one_or_none()
    assert first is None  # nothing is composed before the command runs
    mail.queue_due_notifications(EmailLinks.for_app(app))
    rows = db.session.execute(select(OutgoingEmail).order_by(OutgoingEmail.id)).scalars().all()
    rows[0].to_address = "gone@refused.example"
    db.session.commit()

    report = mail.send_outgoing(mail.MailSettings.from_config(app.config))

    assert (report.sent, report.failed) == (1, 1)
    assert [m["To"] for m in smtp.messages] == ["sam@example.org"]


def test_starttls_is_required_when_configured(app_factory, smtp):
    """With MAIL_USE_TLS the sender never falls back to plain text."""
    app = app_factory(**mail_config(smtp.port, MAIL_USE_TLS=True))
    with app.app_context():
        a_reply_to(opt_in(make_user("rita")))
        report = queue_and_send(app, utcnow())
        assert report.failed == 1
        assert smtp.messages == []
        row = db.session.execute(select(OutgoingEmail)).scalar_one()
        assert "STARTTLS" in row.last_error


def test_tls_and_ssl_together_are_refused(app_factory):
    app = app_factory(**mail_config(25, MAIL_USE_TLS=True, MAIL_USE_SSL=True))
    with app.app_context():
        result = app.test_cli_runner().invoke(args=["notifications", "send"])
    assert result.exit_code != 0
    assert "not both" in result.output


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")
def test_the_server_login_uses_the_configured_credentials(app_factory):
    with running_smtp_server(require_login=True) as server:
        app = app_factory(
            **mail_config(server.port, MAIL_USERNAME=SMTP_USER, MAIL_PASSWORD=SMTP_PASSWORD)
        )
        with app.app_context():
            a_reply_to(opt_in(make_user("rita")))
            assert queue_and_send(app, utcnow()).sent == 1
            # (aiosmtpd holds a refused login open, hence the short timeout)
            wrong = dataclasses.replace(
                mail.MailSettings.from_config(app.config), password="wrong", timeout=0.5
            )
            a_reply_to(opt_in(make_user("sam")), replier=make_user("sam-replier"))
            report = queue_and_send(app, utcnow(), wrong)
            assert report.failed == 1
        assert len(server.messages) == 1


def test_the_command_says_so_when_email_is_off(app_factory):
    app = app_factory()
    with app.app_context():
        result = app.test_cli_runner().invoke(args=["notifications", "send"])
    assert result.exit_code == 0
    assert "Email is off" in result.output


# --- tokens ---------------------------------------------------------------------------------------

SETTINGS = TokenSettings(secret_key="test-secret")


def test_a_token_reads_back_its_payload():
    token = tokens.issue(SETTINGS, Purpose.UNSUBSCRIBE, {"u": 7})
    assert tokens.read(SETTINGS, Purpose.UNSUBSCRIBE, token) == {"u": 7}


@pytest.mark.parametrize(
    "mangle",
    [
        pytest.param(lambda t: t[:-2] + ("AA" if t[-2:] != "AA" else "BB"), id="signature"),
        pytest.param(lambda t: "eyJ1Ijo4fQ" + t[t.index(".") :], id="payload"),
        pytest.param(lambda t: t.split(".")[0], id="truncated"),
        pytest.param(lambda t: "", id="empty"),
    ],
)
def test_a_tampered_token_is_refused(mangle):
    token = tokens.issue(SETTINGS, Purpose.UNSUBSCRIBE, {"u": 7})
    with pytest.raises(InvalidToken):
        tokens.read(SETTINGS, Purpose.UNSUBSCRIBE, mangle(token))


def test_a_token_works_only_for_its_own_purpose_and_key():
    token = tokens.issue(SETTINGS, Purpose.UNSUBSCRIBE, {"u": 7})
    with pytest.raises(InvalidToken):
        tokens.read(SETTINGS, Purpose.RESET, token)
    with pytest.raises(InvalidToken):
        tokens.read(TokenSettings(secret_key="another"), Purpose.UNSUBSCRIBE, token)


def test_a_token_expires():
    now = utcnow()
    token = tokens.issue(SETTINGS, Purpose.RESET, {"u": 7}, now=now)
    assert tokens.read(SETTINGS, Purpose.RESET, token, now=now + timedelta(minutes=59))
    with pytest.raises(ExpiredToken):
        tokens.read(SETTINGS, Purpose.RESET, token, now=now + timedelta(minutes=61))
