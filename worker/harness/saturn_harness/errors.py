"""Errors the harness reports. Bad input exits 2 with a message that names the field."""

from __future__ import annotations

EXIT_BAD_INPUT = 2
EXIT_FAILURE = 1


class HarnessError(Exception):
    """A failure of the run itself (exit 1)."""


class BadInputError(HarnessError):
    """Input the harness cannot use: the task file, the user module, the data set, or a
    technique the model cannot run with. ``field`` names where it came from."""

    def __init__(self, field: str, message: str, *, cause: BaseException | None = None) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.detail = message
        if cause is not None:
            self.__cause__ = cause


def describe(value: object) -> str:
    """`'abc' (str)`-style rendering for error messages: what came."""
    text = repr(value)
    if len(text) > 80:
        text = text[:77] + "..."
    return f"{text} ({type(value).__name__})"
