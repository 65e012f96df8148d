"""Email through the browser: one-click unsubscribe, address confirmation, email choices,
password reset by email and the notices sent when a password or address changes. Every
email goes through a real SMTP server and every link is followed from the email itself."""

from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

from forum import background
from forum.extensions import db
from forum.models import EmailPreference, OutgoingEmail, User, utcnow
from forum.services import accounts, threads, tokens
from forum.services.tokens import TokenSettings
from tests.conftest import PASSWORD, csrf_token_from, login, make_article, make_user
from tests.mail_support import (
    BASE_URL,
    body_of,
    free_port,
    header_url,
    html_of,
    link_to,
    mail_config,
    opt_in,
)

NO_SPAM = threads.DiscussionSettings(spam_checks=False)
NEW_PASSWORD = "a brand new passphrase"


@pytest.fixture
def app(mail_app):
    """Every test here runs with mail configured, against conftest's SMTP server."""
    return mail_app


def deliver(app) -> None:
    """Run ``flask notifications send``, as cron does every minute."""
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["notifications", "send"])
    assert result.exit_code == 0, result.output
    db.session.expire_all()


def reload(user: User | int) -> User:
    """The account as stored now. Tests that use two apps pass the id: an object loaded in
    one app's session would refresh itself through that session, not this one."""
    db.session.expire_all()
    return db.session.get(User, user if isinstance(user, int) else user.id)


def outgoing_count() -> int:
    return db.session.execute(select(func.count(OutgoingEmail.id))).scalar_one()


def token_settings(app) -> TokenSettings:
    return TokenSettings.from_config(app.config)


# --- one-click unsubscribe -----------------------------------------------------------------------


@pytest.fixture
def emailed_rita(app, smtp):
    """Rita (her id), opted in to immediate emails, and the reply email she was sent."""
    rita = opt_in(make_user("rita"))
    article = make_article(title="Cell Signals")
    parent = threads.post_comment(rita, article, "My first thought.", settings=NO_SPAM)
    threads.post_comment(
        make_user("bob"), article, "A reply.", parent_id=parent.id, settings=NO_SPAM
    )
    rita_id = rita.id  # read now: after delivery it would be reloaded, in a transaction
    deliver(app)
    [message] = smtp.messages
    return rita_id, message


@pytest.fixture
def csrf_app(app_factory, smtp):
    """The same site with CSRF protection on, as in production."""
    app = app_factory(**mail_config(smtp.port, WTF_CSRF_ENABLED=True))
    with app.app_context():
        yield app


def test_the_unsubscribe_link_works_without_logging_in(emailed_rita, csrf_app):
    rita_id, message = emailed_rita
    client = csrf_app.test_client()
    path = link_to(message, "/email/unsubscribe/")

    page = client.get(path)

    assert page.status_code == 200
    assert "Unsubscribe</button>" in page.text
    assert page.headers["Referrer-Policy"] == "no-referrer"
    assert reload(rita_id).email_preference is EmailPreference.IMMEDIATE  # GET: no change

    done = client.post(path)

    assert done.status_code == 200
    assert "You are unsubscribed" in done.text
    assert reload(rita_id).email_preference is EmailPreference.NONE


def test_rfc_8058_one_click_post_unsubscribes(emailed_rita, csrf_app):
    rita_id, message = emailed_rita
    url = header_url(message)
    assert url.startswith(BASE_URL)

    response = csrf_app.test_client().post(
        urlsplit(url).path,
        data="List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )

    assert response.status_code == 200
    assert reload(rita_id).email_preference is EmailPreference.NONE


def test_after_unsubscribing_no_more_emails_are_sent(app, smtp, emailed_rita, client):
    rita_id, message = emailed_rita
    client.post(link_to(message, "/email/unsubscribe/"))
    article = make_article()
    parent = threads.post_comment(reload(rita_id), article, "Again.", settings=NO_SPAM)
    threads.post_comment(
        make_user("carol"), article, "Another reply.", parent_id=parent.id, settings=NO_SPAM
    )
    deliver(app)
    assert len(smtp.messages) == 1


def _tampered(path: str) -> str:
    return path[:-3] + ("xyz" if not path.endswith("xyz") else "abc")


@pytest.mark.parametrize("method", ["get", "post"])
@pytest.mark.parametrize("kind", ["tampered", "expired"])
def test_a_bad_unsubscribe_link_is_400_and_changes_nothing(app, client, method, kind):
    rita = opt_in(make_user("rita"))
    settings = token_settings(app)
    if kind == "tampered":
        path = _tampered(f"/email/unsubscribe/{tokens.for_unsubscribe(settings, rita)}")
    else:
        old = utcnow() - settings.unsubscribe - timedelta(minutes=1)
        path = f"/email/unsubscribe/{tokens.for_unsubscribe(settings, rita, now=old)}"

    response = getattr(client, method)(path)

    assert response.status_code == 400
    assert "This link doesn't work" in response.text
    assert ("expired" in response.text) == (kind == "expired")
    assert reload(rita).email_preference is EmailPreference.IMMEDIATE


def test_a_reset_token_is_not_an_unsubscribe_token(app, client):
    rita = opt_in(make_user("rita"))
    token = tokens.for_password_reset(token_settings(app), rita)
    assert client.post(f"/email/unsubscribe/{token}").status_code == 400
    assert reload(rita).email_preference is EmailPreference.IMMEDIATE


# --- the choice on the account page --------------------------------------------------------------


def test_the_account_page_offers_the_email_choice(client):
    rita = opt_in(make_user("rita"), EmailPreference.DAILY)
    login(client, rita)

    page = client.get("/account")

    assert page.status_code == 200
    assert "rita@example.org" in page.text
    assert 'value="daily" checked' in page.text


@pytest.mark.parametrize("value", ["none", "immediate", "daily"])
def test_the_email_choice_is_saved(client, value):
    rita = opt_in(make_user("rita"), EmailPreference.NONE)
    login(client, rita)

    response = client.post("/account/email/preference", data={"preference": value})

    assert response.status_code == 302
    assert response.headers["Location"].endswith("/account#email")
    assert reload(rita).email_preference is EmailPreference(value)


@pytest.mark.parametrize("value", ["", "weekly", "NONE"])
def test_an_unknown_email_choice_is_400(client, value):
    rita = opt_in(make_user("rita"), EmailPreference.DAILY)
    login(client, rita)
    response = client.post("/account/email/preference", data={"preference": value})
    assert response.status_code == 400
    assert reload(rita).email_preference is EmailPreference.DAILY


def test_without_mail_the_account_page_says_so_and_the_email_routes_are_404(app_factory):
    app = app_factory()
    with app.app_context():
        rita = opt_in(make_user("rita"))
        client = app.test_client()
        assert "Forgot your password?" not in client.get("/login").text
        assert client.get("/password/forgot").status_code == 404
        login(client, rita)
        assert "doesn't send email" in client.get("/account").text
        response = client.post("/account/email/preference", data={"preference": "none"})
        assert response.status_code == 404


# --- confirming an address -----------------------------------------------------------------------


def test_registering_with_an_address_sends_a_link_that_confirms_it(app, client, smtp):
    client.post(
        "/register",
        data={
            "username": "newcomer",
            "email": "newcomer@example.org",
            "password": NEW_PASSWORD,
            "confirm": NEW_PASSWORD,
        },
    )
    deliver(app)
    [message] = smtp.messages
    assert message["To"] == "newcomer@example.org"
    assert message["List-Unsubscribe"] is None  # not a notification
    path = link_to(message, "/email/confirm/")
    assert f'href="{BASE_URL}{path}"' in html_of(message)  # the HTML part has the link too
    newcomer = accounts.find_user("newcomer")
    assert not newcomer.email_confirmed

    stranger = app.test_client()  # the link works without logging in
    page = stranger.get(path)
    assert page.status_code == 200
    assert "Yes, confirm it</button>" in page.text
    assert not reload(newcomer).email_confirmed  # GET changes nothing

    response = stranger.post(path)
    assert response.status_code == 302
    assert reload(newcomer).email_confirmed
    assert "already confirmed" in stranger.get(path).text


def test_registering_with_something_that_is_not_an_address_queues_nothing(app, client):
    response = client.post(
        "/register",
        data={
            "username": "newcomer",
            "email": "not an address",
            "password": NEW_PASSWORD,
            "confirm": NEW_PASSWORD,
        },
    )
    # Refused beside the field (as on the account page), so nothing is queued either.
    assert response.status_code == 400
    assert "an email address" in response.get_data(as_text=True)
    assert outgoing_count() == 0


def test_the_confirmation_button_needs_the_csrf_token(csrf_app):
    rita = opt_in(make_user("rita"), confirmed=False)
    path = f"/email/confirm/{tokens.for_confirmation(token_settings(csrf_app), rita)}"
    client = csrf_app.test_client()

    assert client.post(path).status_code == 400
    assert not reload(rita).email_confirmed

    token = csrf_token_from(client.get(path).text)
    assert client.post(path, data={"csrf_token": token}).status_code == 302
    assert reload(rita).email_confirmed


@pytest.mark.parametrize("kind", ["tampered", "expired", "old address"])
def test_a_bad_confirmation_link_is_400_and_changes_nothing(app, client, kind):
    rita = opt_in(make_user("rita"), confirmed=False)
    settings = token_settings(app)
    if kind == "tampered":
        token = _tampered(tokens.for_confirmation(settings, rita))
    elif kind == "expired":
        old = utcnow() - settings.confirm_email - timedelta(minutes=1)
        token = tokens.for_confirmation(settings, rita, now=old)
    else:
        token = tokens.for_confirmation(settings, rita)
        rita.email = "rita.new@example.org"
        db.session.commit()

    for method in (client.get, client.post):
        response = method(f"/email/confirm/{token}")
        assert response.status_code == 400
        assert "Nothing was changed." in response.text
    assert not reload(rita).email_confirmed


def test_the_confirmation_link_can_be_sent_again(app, client, smtp):
    rita = opt_in(make_user("rita"), confirmed=False)
    login(client, rita)
    page = client.get("/account")
    assert "Send the link again" in page.text

    response = client.post("/account/email/confirmation")

    assert response.status_code == 302
    deliver(app)
    [message] = smtp.messages
    client.post(link_to(message, "/email/confirm/"))
    assert reload(rita).email_confirmed


# --- changing the address ------------------------------------------------------------------------


def test_changing_the_address_needs_the_password(client):
    rita = opt_in(make_user("rita"))
    login(client, rita)

    response = client.post(
        "/account/email", data={"email": "new@example.org", "current_password": "wrong one"}
    )

    assert response.status_code == 400
    assert "That isn&#39;t your current password." in response.text
    rita = reload(rita)
    assert rita.email == "rita@example.org" and rita.email_confirmed


@pytest.mark.parametrize("address", ["not an address", "a@b", "rita@example.org"])
def test_a_bad_or_unchanged_address_is_refused(client, address):
    rita = opt_in(make_user("rita"))
    login(client, rita)
    response = client.post("/account/email", data={"email": address, "current_password": PASSWORD})
    assert response.status_code == 400
    assert reload(rita).email_confirmed


def test_a_new_address_is_confirmed_and_the_old_one_told(app, client, smtp):
    rita = opt_in(make_user("rita"))
    login(client, rita)

    response = client.post(
        "/account/email",
        data={"email": "rita.new@example.org", "current_password": PASSWORD},
    )

    assert response.status_code == 302
    rita = reload(rita)
    assert rita.email == "rita.new@example.org" and not rita.email_confirmed
    deliver(app)
    [notice] = smtp.inbox.to("rita@example.org")
    assert "rita.new@example.org" in body_of(notice)
    [confirmation] = smtp.inbox.to("rita.new@example.org")
    client.post(link_to(confirmation, "/email/confirm/"))
    assert reload(rita).email_confirmed


def test_removing_the_address(client):
    rita = opt_in(make_user("rita"))
    login(client, rita)
    response = client.post("/account/email", data={"email": "", "current_password": PASSWORD})
    assert response.status_code == 302
    rita = reload(rita)
    assert rita.email is None and not rita.email_confirmed


# --- password reset ------------------------------------------------------------------------------


def test_the_login_page_links_to_the_reset_when_mail_is_configured(client):
    assert 'href="/password/forgot"' in client.get("/login").text


def request_reset(client, address: str):
    page = client.get("/password/forgot")
    assert page.status_code == 200
    return client.post("/password/forgot", data={"email": address})


def test_password_reset_end_to_end(app, client, smtp):
    opt_in(make_user("rita"), EmailPreference.NONE)

    answer = request_reset(client, "rita@example.org")
    assert answer.status_code == 200
    assert "Check your email" in answer.text
    deliver(app)
    [message] = smtp.inbox.to("rita@example.org")
    path = link_to(message, "/password/reset/")

    stranger = app.test_client()
    form = stranger.get(path)
    assert form.status_code == 200
    assert "Choose a new password" in form.text
    assert form.headers["Referrer-Policy"] == "no-referrer"

    mismatch = stranger.post(path, data={"password": NEW_PASSWORD, "confirm": "other"})
    assert mismatch.status_code == 400
    weak = stranger.post(path, data={"password": "short", "confirm": "short"})
    assert weak.status_code == 400
    assert accounts.authenticate("rita", PASSWORD) is not None

    done = stranger.post(path, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert done.status_code == 302
    assert done.headers["Location"] == "/login"
    assert accounts.authenticate("rita", PASSWORD) is None
    assert accounts.authenticate("rita", NEW_PASSWORD) is not None

    # Single use: the same link now fails, and changes nothing.
    again = stranger.post(
        path, data={"password": "yet another pass", "confirm": "yet another pass"}
    )
    assert again.status_code == 400
    assert "already been used" in again.text
    assert stranger.get(path).status_code == 400
    assert accounts.authenticate("rita", NEW_PASSWORD) is not None

    # The owner is told.
    deliver(app)
    assert any("password was changed" in m["Subject"] for m in smtp.inbox.to("rita@example.org"))


def test_a_reset_logs_out_every_session(app, client):
    rita = opt_in(make_user("rita"))
    login(client, rita)
    assert client.get("/account").status_code == 200
    token = tokens.for_password_reset(token_settings(app), rita)
    app.test_client().post(
        f"/password/reset/{token}", data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}
    )
    assert client.get("/account").status_code == 302


def test_an_expired_reset_link_fails(app, client):
    rita = opt_in(make_user("rita"))
    settings = token_settings(app)
    old = utcnow() - settings.reset_password - timedelta(minutes=1)
    path = f"/password/reset/{tokens.for_password_reset(settings, rita, now=old)}"

    assert client.get(path).status_code == 400
    response = client.post(path, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert response.status_code == 400
    assert "expired" in response.text
    assert accounts.authenticate("rita", PASSWORD) is not None


def test_a_tampered_reset_link_fails(app, client):
    rita = opt_in(make_user("rita"))
    path = _tampered(f"/password/reset/{tokens.for_password_reset(token_settings(app), rita)}")
    response = client.post(path, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert response.status_code == 400
    assert accounts.authenticate("rita", PASSWORD) is not None


@pytest.mark.parametrize("case", ["unknown address", "unconfirmed address"])
def test_the_reset_request_answers_the_same_for_any_address(app, client, smtp, case):
    opt_in(make_user("rita"))
    opt_in(make_user("uma"), confirmed=False)
    other = "nobody@example.org" if case == "unknown address" else "uma@example.org"

    known = request_reset(client, "rita@example.org")
    unknown = request_reset(app.test_client(), other)

    assert known.status_code == unknown.status_code == 200
    assert known.text.replace("rita@example.org", "X") == unknown.text.replace(other, "X")
    deliver(app)
    assert [m["To"] for m in smtp.messages] == ["rita@example.org"]


def test_changing_the_password_on_the_account_page_sends_a_notice(app, client, smtp):
    rita = opt_in(make_user("rita"), EmailPreference.NONE)
    login(client, rita)

    response = client.post(
        "/account",
        data={"current_password": PASSWORD, "new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
    )

    assert response.status_code == 302
    deliver(app)
    [notice] = smtp.messages
    assert notice["To"] == "rita@example.org"
    assert "password was changed" in notice["Subject"]
    assert f"{BASE_URL}/password/forgot" in body_of(notice)


def test_no_notice_goes_to_an_unconfirmed_address(app, client, smtp):
    rita = opt_in(make_user("rita"), confirmed=False)
    login(client, rita)
    client.post(
        "/account",
        data={"current_password": PASSWORD, "new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
    )
    deliver(app)
    assert smtp.messages == []


# --- delivery right after the response -----------------------------------------------------------


def test_a_page_s_emails_are_sent_in_the_background_without_the_command(app_factory, smtp):
    app = app_factory(**mail_config(smtp.port, MAIL_SEND_IN_BACKGROUND=True))
    with app.app_context():
        opt_in(make_user("rita"))
        client = app.test_client()

        response = client.post("/password/forgot", data={"email": "rita@example.org"})

        assert response.status_code == 200
        db.session.commit()  # release the test's transaction, as a request's end would
        background.wait(app)
        [message] = smtp.inbox.wait_for(1)
        assert message["To"] == "rita@example.org"
        db.session.expire_all()
        row = db.session.execute(select(OutgoingEmail)).scalar_one()
        assert row.sent_at is not None


def test_a_page_queues_but_never_fails_when_the_server_is_down(app_factory):
    app = app_factory(**mail_config(free_port(), MAIL_SEND_IN_BACKGROUND=True))
    with app.app_context():
        opt_in(make_user("rita"))
        response = app.test_client().post("/password/forgot", data={"email": "rita@example.org"})
        assert response.status_code == 200
        db.session.commit()
        background.wait(app)
        db.session.expire_all()
        row = db.session.execute(select(OutgoingEmail)).scalar_one()
        assert row.sent_at is None and row.attempts == 1 and row.last_error
