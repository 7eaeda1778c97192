"""Domain error types, each carrying the exit code the CLI reports for it."""

from __future__ import annotations


class PartnerctlError(Exception):
    """Base of every error a user can cause; its message is shown as one line."""

    exit_code = 1

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class InvalidInput(PartnerctlError):
    exit_code = 2


class NotFound(PartnerctlError):
    exit_code = 3


class Conflict(PartnerctlError):
    exit_code = 4


class Forbidden(PartnerctlError):
    exit_code = 5


class StoreUnavailable(PartnerctlError):
    exit_code = 6


class SchemaOutOfDate(PartnerctlError):
    exit_code = 6


class ConfigMissing(PartnerctlError):
    exit_code = 7


class PartialFailure(PartnerctlError):
    exit_code = 9


EXIT_OK = 0
EXIT_UNEXPECTED = 1
EXIT_USAGE = 2
EXIT_PARTIAL = 9
# `book plan --exit-code`: the store differs from the book's files (not an error: drift, for cron).
EXIT_CHANGES = 10
EXIT_INTERRUPTED = 130
