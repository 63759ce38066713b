"""User-facing errors: one line that names the offending field and value."""

from __future__ import annotations


class SrlmError(Exception):
    """Base class for errors shown to the user as a single line (exit code 2)."""


class ConfigError(SrlmError, ValueError):
    """A configuration field or input file is invalid.

    Args:
        field: Name of the offending field (as spelled in the config file or flag).
        value: The value that was given.
        reason: What is wrong with it, phrased to complete "field=value: ...".
    """

    def __init__(self, field: str, value: object, reason: str) -> None:
        self.field = field
        self.value = value
        self.reason = reason
        super().__init__(f"{field}={value!r}: {reason}")

    @classmethod
    def across_fields(cls, message: str) -> ConfigError:
        """An error about how several fields combine; ``message`` names them and their values."""
        err = cls("config", None, message)
        err.args = (message,)
        return err
