"""Errors the services raise; views map them onto form errors or HTTP statuses."""


class DomainError(Exception):
    """A rule refused the operation; ``message`` is fit to show the user.

    Services raise their words marked with ``lazy_gettext``: they are translated when read,
    into the language of the request reading them. ``message`` (and ``errors``) are plain
    strings by then, so JSON answers, flashes and problem details can carry them as is."""

    status = 400

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self._message = message
        self.field = field

    @property
    def message(self) -> str:
        return str(self._message)


class NotAllowed(DomainError):
    """The input breaks a rule (a form field's value, usually): 400."""


class ValidationFailed(NotAllowed):
    """Several fields are wrong at once; ``errors`` maps field name to message."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(str(message) for message in errors.values()))
        self._errors = errors

    @property
    def errors(self) -> dict[str, str]:
        return {name: str(message) for name, message in self._errors.items()}


class Forbidden(DomainError):
    """This actor may not do this: 403."""

    status = 403


class NotFound(DomainError):
    """The thing acted on doesn't exist (or isn't visible to the actor): 404."""

    status = 404


class Conflict(DomainError):
    """The thing is not in a state that allows this (already hidden, reported twice): 409."""

    status = 409


class TooLarge(DomainError):
    """What was sent is larger than allowed (an uploaded picture): 413."""

    status = 413
