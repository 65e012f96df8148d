"""Pages, messages, emails, dates and numbers in the reader's language (German here).

tests/test_translations.py proves every string is marked and translated; these tests prove
the translations reach people: the language chosen by the browser or the account, on the
moderation pages, error pages and JSON errors, flash messages, form errors, and emails
written in the recipient's language whoever's request sent them."""

from datetime import UTC, datetime, timedelta

import lxml.html

from forum.extensions import db
from forum.models import EmailPreference, Role
from forum.services import moderation, threads
from forum.templating import long_date, number, relative_time, short_time
from tests.conftest import client_as, make_article, make_user
from tests.mail_support import body_of, html_of, opt_in

GERMAN = {"Accept-Language": "de-DE,de;q=0.9,en;q=0.5"}
NO_SPAM = threads.DiscussionSettings(spam_checks=False)


def text_of(response) -> str:
    """The page's words as a reader reads them, white space made single."""
    return " ".join(lxml.html.fromstring(response.get_data(as_text=True)).text_content().split())


def test_a_missing_page_answers_in_german(client):
    page = client.get("/no-such-page", headers=GERMAN)
    assert page.status_code == 404
    words = text_of(page)
    assert "Seite nicht gefunden" in words
    assert "Fehler 404" in words
    assert "Zurück zur Startseite" in words
    assert "Page not found" not in words


def test_a_json_error_is_german_text(client):
    answer = client.get("/no-such-page", headers={**GERMAN, "Accept": "application/json"})
    assert answer.status_code == 404
    assert answer.get_json()["error"] == "Seite nicht gefunden"


def test_a_service_refusal_is_said_in_the_readers_language_also_as_json(app):
    """A DomainError's message is a lazy string: made text in the language of whoever reads
    it, in the page and in JSON alike."""
    moderator = make_user("moe", role=Role.MODERATOR)
    comment = threads.post_comment(
        make_user("carl"), make_article(slug="the-article"), "Hello.", settings=NO_SPAM
    )
    moderation.hide_comment(moderator, comment, "spam", "")
    client = client_as(app, moderator)
    url = f"/comments/{comment.id}/hide"

    page = client.post(url, data={"reason": "spam"}, headers=GERMAN)
    assert page.status_code == 409
    assert "Dieser Kommentar ist bereits ausgeblendet." in text_of(page)

    answer = client.post(
        url, data={"reason": "spam"}, headers={**GERMAN, "Accept": "application/json"}
    )
    assert answer.status_code == 409
    assert answer.get_json()["message"] == "Dieser Kommentar ist bereits ausgeblendet."

    english = client.post(url, data={"reason": "spam"}, headers={"Accept-Language": "en"})
    assert "That comment is already hidden." in text_of(english)


def test_the_moderation_queue_in_german_with_plurals(app):
    moderator = make_user("moe", role=Role.MODERATOR)
    carl, rita, sue = make_user("carl"), make_user("rita"), make_user("sue")
    article = make_article(title="Zellen", slug="zellen")
    twice = threads.post_comment(carl, article, "Reported twice.", settings=NO_SPAM)
    once = threads.post_comment(carl, article, "Reported once.", settings=NO_SPAM)
    moderation.report_comment(rita, twice, "spam", "")
    moderation.report_comment(sue, twice, "off-topic", "")
    moderation.report_comment(rita, once, "abuse", "")

    page = client_as(app, moderator).get("/moderation", headers=GERMAN)
    assert page.status_code == 200
    assert '<html lang="de">' in page.get_data(as_text=True)
    tree = lxml.html.fromstring(page.get_data(as_text=True))
    cards = {
        item.get("id"): " ".join(item.text_content().split())
        for item in tree.xpath('//li[contains(@class, "queue-item")]')
    }
    assert "2 Meldungen" in cards[f"q{twice.id}"]
    assert "Themenfremd \N{MULTIPLICATION SIGN}1" in cards[f"q{twice.id}"]
    assert "1 Meldung:" in cards[f"q{once.id}"]
    assert "Beleidigung \N{MULTIPLICATION SIGN}1" in cards[f"q{once.id}"]
    words = text_of(page)
    for german in (
        "Moderationswarteschlange",
        "Gemeldete Kommentare (2)",
        "Kommentar ausblenden",
        "Meldungen verwerfen",
        "Zur Prüfung (0)",
        "Keine offenen Einsprüche.",
        "gerade eben",
    ):
        assert german in words, german
    assert "Reported comments" not in words


def test_a_moderators_flash_message_is_german(app):
    moderator = make_user("moe", role=Role.MODERATOR)
    comment = threads.post_comment(
        make_user("carl"), make_article(slug="the-article"), "Hello.", settings=NO_SPAM
    )
    client = client_as(app, moderator)
    done = client.post(
        f"/comments/{comment.id}/hide",
        data={"reason": "spam", "next": "/moderation"},
        headers=GERMAN,
        follow_redirects=True,
    )
    assert "Der Kommentar ist ausgeblendet." in text_of(done)


def test_form_labels_and_validator_messages_are_german(app):
    """WTForms labels and messages are lazy: the language of the request that shows them."""
    client = client_as(app, make_user("rita"))
    page = client.post("/account/email", data={"email": "x@example.org"}, headers=GERMAN)
    words = text_of(page)
    assert "Ihre E-Mail-Adresse" in words
    assert "Neue E-Mail-Adresse" in words
    assert "Aktuelles Passwort" in words
    assert "Adresse speichern" in words


def test_the_account_setting_chooses_the_authors_desk_language(app):
    writer = make_user("wendy", role=Role.AUTHOR)
    writer.locale = "de"
    db.session.commit()
    article = make_article(writer, slug="zellen")
    threads.post_comment(make_user("carl"), article, "Eine Frage.", settings=NO_SPAM)
    page = client_as(app, writer).get("/author", headers={"Accept-Language": "en"})
    words = text_of(page)
    assert "Ihr Schreibtisch" in words
    assert "Wartet auf Sie" in words
    assert "1 Kommentar, den Sie noch nicht als gesehen markiert haben." in words


def test_an_email_is_written_in_the_recipients_language(mail_app, smtp):
    """Rita reads German; Bob's English request makes the email that tells her of his
    reply, and it is German all the same. Bob's own reset email stays English."""
    rita = opt_in(make_user("rita", display_name="Rita"))
    rita.locale = "de"
    db.session.commit()
    article = make_article(title="Zellen", slug="zellen")
    parent = threads.post_comment(rita, article, "Mein erster Gedanke.", settings=NO_SPAM)
    bob = opt_in(make_user("bob", display_name="Bob"), EmailPreference.NONE)
    threads.post_comment(bob, article, "Eine Antwort.", parent_id=parent.id, settings=NO_SPAM)
    requested = mail_app.test_client().post(
        "/password/forgot", data={"email": "bob@example.org"}, headers=GERMAN
    )
    assert "Sehen Sie in Ihr E-Mail-Postfach" in text_of(requested)
    db.session.commit()
    sent = mail_app.test_cli_runner().invoke(args=["notifications", "send"])
    assert sent.exit_code == 0, sent.output

    [german] = smtp.inbox.to("rita@example.org")
    assert german["Subject"] == "Bob hat auf Ihren Kommentar zu „Zellen“ geantwortet"
    assert body_of(german).startswith("Hallo Rita,")
    assert "Im Zusammenhang lesen und antworten" in body_of(german)
    assert "Mit einem Klick abbestellen" in body_of(german)
    assert '<html lang="de">' in html_of(german)

    # Bob asked in German, but his account has no language: his email is in English.
    [english] = smtp.inbox.to("bob@example.org")
    assert english["Subject"] == "Reset your Forum password"
    assert body_of(english).startswith("Hello Bob,")


def test_dates_and_numbers_follow_the_page_language(app):
    moment = datetime(2026, 12, 1, 14, 3, tzinfo=UTC)
    # A fresh app context for each: Flask-Babel keeps the chosen language on ``g``.
    with app.app_context(), app.test_request_context(headers=GERMAN):
        assert relative_time(moment - timedelta(hours=3, minutes=20), moment) == "vor 3 Stunden"
        assert relative_time(moment - timedelta(seconds=10), moment) == "gerade eben"
        assert long_date(moment) == "1. Dezember 2026"
        assert short_time(moment) == "1. Dez. 2026, 14:03"
        assert number(12345) == "12.345"
    with app.app_context(), app.test_request_context(headers={"Accept-Language": "en"}):
        assert relative_time(moment - timedelta(hours=3, minutes=20), moment) == "3 hours ago"
        assert relative_time(moment - timedelta(minutes=1), moment) == "1 minute ago"
        assert long_date(moment) == "1 December 2026"
        assert short_time(moment) == "1 Dec 2026, 14:03"
        assert number(12345) == "12,345"


def test_the_moderation_log_names_actions_and_states_in_german(app):
    """Stored action names and comment states ("hide", "visible") are code; moderators read
    words in their language, in the log's table, its filter and the queue's status line."""
    moderator = make_user("moe", role=Role.MODERATOR)
    article = make_article(slug="the-article")
    comment = threads.post_comment(make_user("carl"), article, "Hello.", settings=NO_SPAM)
    reported = threads.post_comment(make_user("dora"), article, "Hi.", settings=NO_SPAM)
    moderation.hide_comment(moderator, comment, "spam", "")
    moderation.unhide_comment(moderator, comment, "")
    moderation.report_comment(make_user("rita"), reported, "spam", "")
    client = client_as(app, moderator)

    log = client.get("/moderation/log", headers=GERMAN)
    tree = lxml.html.fromstring(log.get_data(as_text=True))
    badges = [" ".join(b.text_content().split()) for b in tree.xpath("//td/span[@class='badge']")]
    assert "Ausgeblendet" in badges and "Wieder angezeigt" in badges
    assert "hide" not in badges and "unhide" not in badges
    options = tree.xpath("//select[@name='action']/option")
    assert {o.get("value"): o.text for o in options}["appeal-granted"] == "Einspruch stattgegeben"

    queue = text_of(client.get("/moderation", headers=GERMAN))
    assert "sichtbar" in queue
    assert "status: visible" not in queue


def test_a_hidden_comments_notice_names_the_reason_in_german(app):
    moderator = make_user("moe", role=Role.MODERATOR)
    carl = make_user("carl")
    comment = threads.post_comment(
        carl, make_article(slug="the-article"), "Hello.", settings=NO_SPAM
    )
    moderation.hide_comment(moderator, comment, "off-topic", "")
    page = text_of(client_as(app, carl).get("/notifications", headers=GERMAN))
    assert "Grund: Themenfremd." in page
    assert "off topic" not in page


def test_a_bad_link_is_explained_in_german(mail_app):
    page = mail_app.test_client().get("/password/reset/not-a-token", headers=GERMAN)
    assert page.status_code == 400
    words = text_of(page)
    assert "Dieser Link ist ungültig." in words
    assert "This link isn't valid" not in words
