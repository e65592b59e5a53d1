from __future__ import annotations

import io

from generator.delivery.progress import LineProgress, TerminalProgress, progress_for


def test_plain_lines_leave_out_a_step_that_repeats_the_previous_line() -> None:
    stream = io.StringIO()
    progress = LineProgress(stream)
    for status in ("Preparing", "Pushing", "Pushing", "Pushing", "Pushed"):
        progress.step("r/iris", f"push 4299 {status}")
    progress.event("iris", "built r/iris:1.0")
    progress.step("r/iris", "push 4299 Pushed")
    assert stream.getvalue().splitlines() == [
        "r/iris: push 4299 Preparing",
        "r/iris: push 4299 Pushing",
        "r/iris: push 4299 Pushed",
        "iris: built r/iris:1.0",
        "r/iris: push 4299 Pushed",
    ]


def test_a_terminal_gets_one_rewritten_line_and_events_stay() -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    stream = Terminal()
    progress = progress_for(stream)
    assert isinstance(progress, TerminalProgress)
    progress.step("iris", "Step 1/4")
    progress.step("iris", "Step 2/4")
    progress.event("iris", "built")
    assert stream.getvalue() == "\r\x1b[Kiris: Step 1/4\r\x1b[Kiris: Step 2/4\r\x1b[Kiris: built\n"
    assert isinstance(progress_for(io.StringIO()), LineProgress)
