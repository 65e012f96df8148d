"""A service's refusal lands on the form the same way in every view, and the one
``current_actor()`` says who is acting."""

import pytest
from flask_login import login_user
from flask_wtf import FlaskForm
from wtforms import HiddenField, StringField

from forum.auth.current import current_actor
from forum.forms_support import apply_refusal
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
