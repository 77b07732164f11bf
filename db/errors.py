"""The one exception type users see, and its kinds.

Anything the user can act on is raised as :class:`KepuError` (or a subclass) with
a Chinese message that the GUI and CLI show as is. Everything else is a bug.
"""

from __future__ import annotations


class KepuError(Exception):
    """An error the user can act on; ``str(err)`` is a Chinese message."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class ValidationError(KepuError):
    """Input that breaks a rule; ``field`` names the field (Chinese label) if known."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class DatabaseFileError(KepuError):
    """The database file cannot be opened: corrupt, not ours, or too new."""


class NewerSchemaError(DatabaseFileError):
    """The file was written by a newer version of the program."""


class PeriodLockedError(KepuError):
    """A change touches a month that has been reported (已上报) and is locked."""
