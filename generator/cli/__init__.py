"""The ``mlgitops`` command line: options, exit codes, reporting, and one module per command."""

from generator.cli.main import main

__all__ = ["main"]
