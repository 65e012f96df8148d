"""Forms refused because the reader's session had ended, kept until they log in again.

The reader's session cookie holds a random token; the database holds its hash, the path the
form was posted to and the form's fields. Logging in again brings the reader back to the
form, which takes its fields back once (``take``). Drafts older than ``KEEP_FOR`` are
removed whenever a new one is kept."""

import hashlib
import json
import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete, select

from forum.extensions import db
from forum.models import KeptDraft, utcnow
from forum.services.text import clean_text
from forum.sqlite import writing

KEEP_FOR = timedelta(days=1)
# Bounds on what one refused form may leave behind: a comment is at most 10,000 characters.
MAX_FIELDS = 20
MAX_FIELD_LENGTH = 20_000
MAX_ACTION_LENGTH = 500


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def keep(action: str, fields: dict[str, str], *, now: datetime | None = None) -> str:
    """Store ``fields`` posted to ``action`` and return the token that claims them."""
    now = now or utcnow()
    kept = {
        name[:100]: clean_text(value)[:MAX_FIELD_LENGTH]
        for name, value in list(fields.items())[:MAX_FIELDS]
    }
    token = secrets.token_urlsafe(32)
    with writing(db.session):
        db.session.execute(delete(KeptDraft).where(KeptDraft.created_at < now - KEEP_FOR))
        db.session.add(
            KeptDraft(
                token_hash=_hash(token),
                action=action[:MAX_ACTION_LENGTH],
                fields=json.dumps(kept),
                created_at=now,
            )
        )
        db.session.commit()
    return token


def find(token: str | None, *, now: datetime | None = None) -> KeptDraft | None:
    """The draft ``token`` claims, if it is still kept."""
    if not token or not isinstance(token, str):
        return None
    draft = db.session.execute(
        select(KeptDraft).where(KeptDraft.token_hash == _hash(token))
    ).scalar_one_or_none()
    if draft is None or draft.created_at < (now or utcnow()) - KEEP_FOR:
        return None
    return draft


def fields_of(draft: KeptDraft) -> dict[str, str]:
    """The kept form's fields."""
    loaded = json.loads(draft.fields)
    return {str(name): str(value) for name, value in loaded.items()}


def take(token: str | None, action: str) -> dict[str, str] | None:
    """The fields kept under ``token`` for the form posted to ``action``, removed from the
    store (a draft is given back once); None when there is none for that form."""
    draft = find(token)
    if draft is None or draft.action != action:
        return None
    fields = fields_of(draft)
    with writing(db.session):
        db.session.execute(delete(KeptDraft).where(KeptDraft.id == draft.id))
        db.session.commit()
    return fields
