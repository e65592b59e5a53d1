"""Build progress: one rewritten status line on a terminal, plain lines in CI logs.

Image builds take minutes; on a terminal a single line that moves shows life without burying
the summary, while CI logs need every step on its own line to be searchable afterwards.
"""

from __future__ import annotations

import shutil
from typing import Protocol, TextIO


class Progress(Protocol):
    def step(self, subject: str, text: str) -> None:
        """A transient detail (a build step, a pushed layer)."""

    def event(self, subject: str, text: str) -> None:
        """A milestone that stays visible."""


class LineProgress:
    """A line per step; a step repeating the previous line (a layer's "Pushing" status comes
    once per chunk) is left out, so a push costs a few lines of log, not hundreds."""

    def __init__(self, stream: TextIO, *, details: bool = True) -> None:
        self._stream = stream
        self._details = details
        self._last = ""

    def step(self, subject: str, text: str) -> None:
        line = f"{subject}: {text}\n"
        if self._details and line != self._last:
            self._stream.write(line)
            self._stream.flush()
            self._last = line

    def event(self, subject: str, text: str) -> None:
        self._stream.write(f"{subject}: {text}\n")
        self._stream.flush()
        self._last = ""


class TerminalProgress:
    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._dirty = False

    def step(self, subject: str, text: str) -> None:
        width = max(20, shutil.get_terminal_size().columns - 1)
        line = f"{subject}: {text}".replace("\n", " ")[:width]
        self._stream.write(f"\r\x1b[K{line}")
        self._stream.flush()
        self._dirty = True

    def event(self, subject: str, text: str) -> None:
        prefix = "\r\x1b[K" if self._dirty else ""
        self._stream.write(f"{prefix}{subject}: {text}\n")
        self._stream.flush()
        self._dirty = False


def progress_for(stream: TextIO) -> Progress:
    return TerminalProgress(stream) if stream.isatty() else LineProgress(stream)
