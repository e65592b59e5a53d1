"""The one place that prints: problems and errors to stderr, results to stdout, each in the
format ``--format`` chose (``text``, ``json`` or ``github``).

Commands hand their outcome to a ``Reporter`` and return the exit code it gives; nothing below
the CLI prints or exits. In json, stderr holds one JSON list of problems (an error without a
file position is a problem of the file ``mlgitops <command>``) and stdout the result object,
so both parse.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any, TextIO

import click

from generator.errors import ExitCode, MlgitopsError
from generator.problems import InputError, Problem, render_report


def _escape_github(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


class Reporter:
    """Prints for one command. ``command`` names it in json errors; ``label`` starts a text
    error line (``error: ...``)."""

    def __init__(
        self,
        output_format: str,
        quiet: bool = False,
        *,
        command: str = "",
        label: str = "error",
        out: TextIO | None = None,
        err: TextIO | None = None,
    ) -> None:
        self.output_format = output_format
        self.quiet = quiet
        self.command = command
        self.label = label
        self._out = out
        self._err = err

    def _echo(self, text: str, *, err: bool, nl: bool = True) -> None:
        stream = self._err if err else self._out
        if stream is None:
            click.echo(text, err=err, nl=nl)
        else:
            stream.write(text + ("\n" if nl else ""))

    def problems(self, problems: Iterable[Problem]) -> None:
        """Located problems, sorted and without duplicates; nothing when there are none."""
        listed = list(problems)
        if listed:
            self._echo(render_report(listed, self.output_format), err=True)

    def error(self, message: str, hint: str = "", code: ExitCode = ExitCode.USAGE) -> ExitCode:
        """An error without a file position (unknown name, missing tool); returns ``code``."""
        if self.output_format == "json":
            where = " ".join(filter(None, ("mlgitops", self.command)))
            self.problems([Problem(where, 0, 0, message, hint)])
        elif self.output_format == "github":
            text = message + (f" Hint: {hint}" if hint else "")
            self._echo(f"::error::{_escape_github(text)}", err=True)
        else:
            self._echo(f"{self.label}: {message}" + (f"\n  hint: {hint}" if hint else ""), err=True)
        return code

    def failure(self, error: MlgitopsError) -> ExitCode:
        """Report any error of the generator the way its kind asks; returns its exit code."""
        if isinstance(error, InputError):
            self.problems(error.problems)
            return error.exit_code
        return self.error(str(error), error.hint, error.exit_code)

    def result(self, text: str, data: Mapping[str, Any] | None = None) -> None:
        """A command's outcome: ``text`` for people (left out with --quiet), ``data`` as one
        JSON object in json (nothing when the command has no data to give)."""
        if self.output_format == "json":
            if data is not None:
                self._echo(json.dumps(data, indent=2, sort_keys=True), err=False)
        elif not self.quiet and text:
            self._echo(text, err=False)

    def output(self, text: str) -> None:
        """The command's product itself (manifests, a listing, a diff), whatever the format."""
        self._echo(text, err=False, nl=False)
