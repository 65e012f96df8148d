"""argon2id password hashing with parameters taken from each app's config.

Parameters live in config so production can raise them and tests can make them cheap; a
stored hash made with other parameters is upgraded on the next successful login. Each app
keeps its own hasher in ``app.extensions``, so two apps in one process don't share settings."""

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from flask import current_app, has_app_context

EXTENSION_KEY = "forum_passwords"


class _Configured:
    """One hasher plus a decoy hash made with the same parameters."""

    def __init__(self, time_cost: int, memory_cost: int, parallelism: int) -> None:
        self.hasher = PasswordHasher(
            time_cost=time_cost, memory_cost=memory_cost, parallelism=parallelism, type=Type.ID
        )
        # Verified when the account doesn't exist, so a login for an unknown name costs the
        # same time as one for a known name.
        self.dummy_hash = self.hasher.hash("not a real password, only a timing decoy")


class PasswordHashing:
    """A Flask-style extension: ``hash``, ``verify`` and ``needs_rehash`` for the current app."""

    def __init__(self) -> None:
        self._default: _Configured | None = None

    def init_app(self, app) -> None:
        """Build the app's hasher from ``PASSWORD_TIME_COST``/``_MEMORY_COST``/``_PARALLELISM``."""
        app.extensions[EXTENSION_KEY] = _Configured(
            app.config["PASSWORD_TIME_COST"],
            app.config["PASSWORD_MEMORY_COST"],
            app.config["PASSWORD_PARALLELISM"],
        )

    def _current(self) -> _Configured:
        if has_app_context() and EXTENSION_KEY in current_app.extensions:
            return current_app.extensions[EXTENSION_KEY]
        if self._default is None:  # outside an app: argon2-cffi's defaults
            self._default = _Configured(3, 65536, 4)
        return self._default

    def hash(self, password: str) -> str:
        """A new argon2id hash of ``password``."""
        return self._current().hasher.hash(password)

    def verify(self, stored_hash: str | None, password: str) -> bool:
        """Whether ``password`` matches; a missing hash is checked against a decoy."""
        configured = self._current()
        try:
            matched = configured.hasher.verify(stored_hash or configured.dummy_hash, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False
        return matched and bool(stored_hash)

    def needs_rehash(self, stored_hash: str) -> bool:
        """Whether the hash was made with other parameters than the configured ones."""
        return self._current().hasher.check_needs_rehash(stored_hash)
