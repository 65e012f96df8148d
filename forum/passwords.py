"""argon2id password hashing with parameters taken from the app's config.

Parameters live in config so production can raise them and tests can make them cheap; a
stored hash made with other parameters is upgraded on the next successful login."""

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError


class PasswordHashing:
    """A Flask-style extension holding one configured ``PasswordHasher``."""

    def __init__(self) -> None:
        self._hasher = PasswordHasher(type=Type.ID)
        # A real hash to verify against when the account doesn't exist, so that a login for
        # an unknown name costs the same time as one for a known name.
        self._dummy_hash = ""

    def init_app(self, app) -> None:
        """Read the argon2 parameters from ``app.config``."""
        self.configure(
            time_cost=app.config["PASSWORD_TIME_COST"],
            memory_cost=app.config["PASSWORD_MEMORY_COST"],
            parallelism=app.config["PASSWORD_PARALLELISM"],
        )
        app.extensions["forum_passwords"] = self

    def configure(self, *, time_cost: int, memory_cost: int, parallelism: int) -> None:
        """Use these argon2id parameters for new hashes and rehash checks."""
        self._hasher = PasswordHasher(
            time_cost=time_cost, memory_cost=memory_cost, parallelism=parallelism, type=Type.ID
        )
        self._dummy_hash = self._hasher.hash("not a real password, only a timing decoy")

    def hash(self, password: str) -> str:
        """A new argon2id hash of ``password``."""
        return self._hasher.hash(password)

    def verify(self, stored_hash: str | None, password: str) -> bool:
        """Whether ``password`` matches; a missing hash is checked against a decoy."""
        try:
            return self._hasher.verify(stored_hash or self._dummy_hash, password) and bool(
                stored_hash
            )
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, stored_hash: str) -> bool:
        """Whether the hash was made with other parameters than the configured ones."""
        return self._hasher.check_needs_rehash(stored_hash)
