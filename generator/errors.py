"""The exit codes of ``mlgitops`` and the one exception every other exception derives from.

Modelled on MLServer's ``MLServerError(msg, status_code)``: an error carries the exit code it
ends a run with, so the CLI turns any of them into a report and a code in one place
(``generator.cli.report``) instead of one ``except`` clause per kind in every command.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """What a run of ``mlgitops`` ends with (README, "Commands")."""

    OK = 0
    """Success; ``diff`` exits 0 with or without changes."""
    INVALID = 1
    """The input or the output is invalid: validation problems, drift, a failed build."""
    USAGE = 2
    """Usage error (unknown name, unknown git ref) or a missing tool (kustomize, git, engine)."""


class MlgitopsError(Exception):
    """Root of every error the generator raises on purpose.

    ``exit_code``: each subclass says what its kind of failure means to the caller (an
    instance may narrow it, as ``ScaffoldError`` does). ``hint``: a one-line fix, printed
    under the message.
    """

    exit_code: ExitCode = ExitCode.INVALID
    hint: str = ""


class UsageError(MlgitopsError):
    """The command line names something that does not exist, or a tool is missing (exit 2)."""

    exit_code = ExitCode.USAGE

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.hint = hint
