"""A service's refusal lands on the form the same way in every view, and the one
``current_actor()`` says who is acting."""

import pytest
from flask_login import login_user
from flask_wtf import FlaskForm
from wtforms import HiddenField, StringField
from wtforms.validators import Length

from forum import forms_support
from forum.auth.current import current_actor
from forum.forms_support import ForumForm, apply_refusal
from forum.models import User
from forum.services.errors import NotAllowed, ValidationFailed
from tests.conftest import make_user


class DraftForm(FlaskForm):
    class Meta:
        csrf = False

    body = StringField()
    email = StringField()
    parent_id = HiddenField()


@pytest.mark.parametrize(
    ("error", "default", "body", "email", "above"),
    [
        (NotAllowed("Too long.", field="body"), None, ["Too long."], [], []),
        (NotAllowed("Taken.", field="email"), "body", [], ["Taken."], []),
        (NotAllowed("Slow down."), None, [], [], ["Slow down."]),
        (NotAllowed("Slow down."), "body", ["Slow down."], [], []),
        (NotAllowed("Unknown.", field="nope"), "email", [], ["Unknown."], []),
        (NotAllowed("Unknown.", field="nope"), None, [], [], ["Unknown."]),
        # A hidden field's error would be invisible: it goes above the form.
        (NotAllowed("No such comment.", field="parent_id"), "body", [], [], ["No such comment."]),
        (ValidationFailed({"body": "Empty.", "email": "Bad."}), None, ["Empty."], ["Bad."], []),
    ],
)
def test_a_refusal_goes_beside_its_field_or_above_the_form(app, error, default, body, email, above):
    with app.test_request_context("/", method="POST"):
        form = DraftForm()
        apply_refusal(form, error, default_field=default)
        assert (list(form.body.errors), list(form.email.errors), form.form_errors) == (
            body,
            email,
            above,
        )


def test_current_actor_is_the_user_or_none(app):
    alice = make_user("alice")
    with app.test_request_context("/"):
        assert current_actor() is None
    with app.test_request_context("/"):
        login_user(alice)
        actor = current_actor()
        assert actor is alice and type(actor) is User  # the user, not the proxy


class ShortForm(ForumForm):
    class Meta:
        csrf = False

    name = StringField(validators=[Length(max=3)])  # WTForms' own message, from its catalogue


@pytest.mark.parametrize(
    ("language", "message"),
    [
        ("de", "Feld kann nicht länger als 3 Zeichen sein."),
        ("en", "Field cannot be longer than 3 characters."),
    ],
)
def test_wtforms_own_messages_come_in_the_page_language_from_a_catalogue_read_once(
    app, language, message
):
    forms_support._wtforms_catalogue.cache_clear()
    for _ in range(3):
        with app.test_request_context(
            "/", method="POST", data={"name": "four"}, headers={"Accept-Language": language}
        ):
            form = ShortForm()
            assert not form.validate()
            assert form.name.errors == [message]
    assert forms_support._wtforms_catalogue.cache_info().misses == 1
