"""Personal API tokens through their service: made once, stored hashed, scoped no higher
than the holder's role, and dead once expired, revoked or held by a suspended member."""

import hashlib
from datetime import timedelta

import pytest
from sqlalchemy import select

from forum.extensions import db
from forum.models import ApiToken, Role, TokenScope, utcnow
from forum.services import api_tokens, sanctions, your_data
from forum.services.errors import Forbidden, NotAllowed, NotFound
from tests.conftest import PASSWORD, make_user


@pytest.fixture
def alice(app):
    return make_user("alice")


@pytest.fixture
def mod(app):
    return make_user("mona", role=Role.MODERATOR)


def test_a_new_token_authenticates_as_its_holder_with_its_scope(alice):
    token, raw = api_tokens.create_token(alice, "Dashboard", "write", 90)
    assert raw.startswith(f"forum_{token.prefix}_")
    grant = api_tokens.authenticate(raw)
    assert grant == api_tokens.TokenGrant(user=alice, scope=TokenScope.WRITE, token_id=token.id)


def test_only_a_hash_of_the_token_is_stored(alice):
    _, raw = api_tokens.create_token(alice, "Dashboard", "read", 30)
    db.session.expire_all()
    stored = db.session.execute(select(ApiToken)).scalar_one()
    assert stored.secret_hash == hashlib.sha256(raw.encode()).hexdigest()
    row = db.session.execute(select(ApiToken.__table__)).one()
    assert all(raw not in str(value) for value in row)
    secret = raw.split("_", 2)[2]
    assert all(secret not in str(value) for value in row)


def test_two_tokens_never_share_a_secret(alice):
    _, first = api_tokens.create_token(alice, "One", "read", 7)
    _, second = api_tokens.create_token(alice, "Two", "read", 7)
    assert first != second
    assert len(first.split("_", 2)[2]) >= 43  # 256 bits, URL-safe base64


@pytest.mark.parametrize(
    "raw",
    ["", "forum_", "forum_abcd1234_wrong", "Bearer x", "forum_" + "a" * 500, "forum_\udcff"],
)
def test_an_unknown_or_malformed_token_is_refused(alice, raw):
    api_tokens.create_token(alice, "Real", "read", 7)
    assert api_tokens.authenticate(raw) is None


def test_an_altered_token_is_refused(alice):
    _, raw = api_tokens.create_token(alice, "Real", "read", 7)
    assert api_tokens.authenticate(raw[:-1] + ("A" if raw[-1] != "A" else "B")) is None


@pytest.mark.parametrize("days", [7, 30, 90, 365])
def test_a_token_expires_after_the_chosen_days(alice, days):
    token, raw = api_tokens.create_token(alice, "Expiring", "read", days)
    assert token.expires_at - token.created_at == timedelta(days=days)
    just_before = token.expires_at - timedelta(seconds=1)
    assert api_tokens.authenticate(raw, now=just_before) is not None
    assert api_tokens.authenticate(raw, now=token.expires_at) is None


@pytest.mark.parametrize("days", [0, 1, 89, 1000, -7])
def test_only_the_offered_expiries_are_accepted(alice, days):
    with pytest.raises(NotAllowed) as refused:
        api_tokens.create_token(alice, "Forever", "read", days)
    assert refused.value.field == "expires_in_days"
    assert api_tokens.tokens_of(alice) == []


def test_a_revoked_token_stops_working(alice):
    token, raw = api_tokens.create_token(alice, "Leaked", "write", 30)
    api_tokens.revoke(alice, token.id)
    assert token.revoked_at is not None
    assert api_tokens.authenticate(raw) is None
    api_tokens.revoke(alice, token.id)  # twice is harmless


def test_nobody_revokes_another_members_token(alice, mod):
    token, raw = api_tokens.create_token(alice, "Mine", "read", 30)
    with pytest.raises(NotFound):
        api_tokens.revoke(mod, token.id)
    with pytest.raises(NotFound):
        api_tokens.revoke(alice, token.id + 1000)
    assert api_tokens.authenticate(raw) is not None


@pytest.mark.parametrize(
    ("role", "allowed"),
    [
        (Role.READER, ["read", "write"]),
        (Role.AUTHOR, ["read", "write"]),
        (Role.MODERATOR, ["read", "write", "moderate"]),
        (Role.ADMIN, ["read", "write", "moderate"]),
    ],
)
def test_the_scope_reaches_no_higher_than_the_role(app, role, allowed):
    user = make_user(role=role)
    assert [scope.value for scope in api_tokens.scopes_for(user)] == allowed
    for scope in TokenScope:
        if scope.value in allowed:
            api_tokens.create_token(user, f"Token {scope}", scope, 7)
        else:
            with pytest.raises(Forbidden):
                api_tokens.create_token(user, f"Token {scope}", scope, 7)
    assert len(api_tokens.tokens_of(user)) == len(allowed)


def test_an_unknown_scope_is_refused(alice):
    with pytest.raises(NotAllowed) as refused:
        api_tokens.create_token(alice, "Root", "admin", 7)
    assert refused.value.field == "scope"


def test_a_demoted_moderators_moderate_token_acts_as_write(app, mod):
    admin = make_user("boss", role=Role.ADMIN)
    _, raw = api_tokens.create_token(mod, "Queue bot", "moderate", 30)
    assert api_tokens.authenticate(raw).scope is TokenScope.MODERATE
    sanctions.change_role(admin, mod, "reader")
    assert api_tokens.authenticate(raw).scope is TokenScope.WRITE
    sanctions.change_role(admin, mod, "moderator")  # promoted again: the token's own scope
    assert api_tokens.authenticate(raw).scope is TokenScope.MODERATE


def test_a_suspended_members_tokens_stop_until_the_suspension_ends(alice, mod):
    _, raw = api_tokens.create_token(alice, "Script", "write", 30)
    sanctions.suspend_user(mod, alice, 7, "Cooling off.")
    assert api_tokens.authenticate(raw) is None
    assert api_tokens.authenticate(raw, now=utcnow() + timedelta(days=8)) is not None
    with pytest.raises(Forbidden):
        api_tokens.create_token(alice, "Another", "read", 7)


def test_a_deleted_accounts_tokens_stop_working(alice):
    _, raw = api_tokens.create_token(alice, "Script", "write", 30)
    your_data.delete_account(alice, PASSWORD, remove_comments=False)
    assert api_tokens.authenticate(raw) is None


@pytest.mark.parametrize("name", ["", "   ", "\x00\x01", "x" * 61])
def test_a_token_needs_a_short_name(alice, name):
    with pytest.raises(NotAllowed) as refused:
        api_tokens.create_token(alice, name, "read", 7)
    assert refused.value.field == "name"


def test_names_are_unique_per_member(alice, mod):
    api_tokens.create_token(alice, "Dashboard", "read", 7)
    with pytest.raises(NotAllowed) as refused:
        api_tokens.create_token(alice, "Dashboard", "write", 30)
    assert refused.value.field == "name"
    api_tokens.create_token(mod, "Dashboard", "read", 7)  # another member's is no clash


def test_last_used_is_written_at_most_once_a_minute(alice):
    token, raw = api_tokens.create_token(alice, "Busy", "read", 30)
    assert token.last_used_at is None
    start = utcnow()
    api_tokens.authenticate(raw, now=start)
    db.session.expire_all()
    assert db.session.get(ApiToken, token.id).last_used_at == start
    api_tokens.authenticate(raw, now=start + timedelta(seconds=30))
    db.session.expire_all()
    assert db.session.get(ApiToken, token.id).last_used_at == start
    later = start + timedelta(seconds=61)
    api_tokens.authenticate(raw, now=later)
    db.session.expire_all()
    assert db.session.get(ApiToken, token.id).last_used_at == later


def test_tokens_of_lists_newest_first_with_revoked_ones(alice, mod):
    old, _ = api_tokens.create_token(alice, "Old", "read", 7)
    api_tokens.create_token(alice, "New", "read", 7)
    api_tokens.create_token(mod, "Not hers", "read", 7)
    api_tokens.revoke(alice, old.id)
    assert [t.name for t in api_tokens.tokens_of(alice)] == ["New", "Old"]
