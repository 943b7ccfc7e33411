"""The error vocabulary of the gateway: error entries and the exceptions that carry them to the envelope."""

from __future__ import annotations

from dataclasses import dataclass

GENERIC_BL = "BL01001973"
ROLLBACK_ERRNO = "XL03000009"
ROLLBACK_TEXT = "The entire transaction in this operation has been rolled back due to an error."


@dataclass(frozen=True)
class ErrorEntry:
    """One ``<error>``: description2 is never empty (clients read it unconditionally)."""

    errorno: str
    description2: str
    description: str = ""
    correction: str = ""

    def __post_init__(self) -> None:
        if not self.description2:
            raise ValueError("description2 must never be empty")


class FunctionError(Exception):
    """A result-level failure: the function fails, other functions go on (unless in a transaction)."""

    def __init__(self, *errors: ErrorEntry, data_attrs: bool = False) -> None:
        super().__init__(errors[0].description2 if errors else "function failed")
        self.errors = list(errors)
        self.data_attrs = data_attrs


class ControlError(Exception):
    """A control-level failure: nothing ran."""

    def __init__(self, *errors: ErrorEntry) -> None:
        super().__init__(errors[0].description2)
        self.errors = list(errors)


class AuthError(Exception):
    """An authentication failure: nothing ran; userid/companyid are echoed when known."""

    def __init__(self, error: ErrorEntry, userid: str = "", companyid: str = "") -> None:
        super().__init__(error.description2)
        self.errors = [error]
        self.userid = userid
        self.companyid = companyid


def bl(text: str, correction: str = "", errorno: str = GENERIC_BL) -> ErrorEntry:
    """A business-rule error with the generic number unless told otherwise."""
    return ErrorEntry(errorno, text, "", correction)


def could_not(verb: str, label: str, *causes: ErrorEntry) -> FunctionError:
    """Specific cause(s) followed by the generic "Could not <verb> <label> record!" line."""
    return FunctionError(*causes, bl(f"Could not {verb} {label} record!"))


def rollback_entry() -> ErrorEntry:
    return ErrorEntry(ROLLBACK_ERRNO, ROLLBACK_TEXT)
