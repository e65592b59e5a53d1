"""What ``mlgitops diff`` does apart from parsing: both sides rendered and built, compared."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from generator.diff import compare, sides
from generator.diff.restarts import restarts
from generator.diff.sources import inputs_at
from generator.layout import RepoLayout
from generator.problems import InputError

WORKING_TREE = "working tree"


@contextmanager
def _inputs(root: Path, ref: str | None) -> Iterator[RepoLayout]:
    if ref is None:
        yield RepoLayout(root)
    else:
        with inputs_at(root, ref) as layout:
            yield layout


def diff_report(root: Path, base: str, head: str | None) -> compare.DiffReport:
    """Render and build both sides, then compare. Raises GitError for unknown refs and
    InputError when either side's inputs are invalid or do not build."""
    with ExitStack() as stack:
        base_layout = stack.enter_context(_inputs(root, base))
        head_layout = stack.enter_context(_inputs(root, head))
        old, problems = sides.render_side(base_layout, base, base)
        new, head_problems = sides.render_side(head_layout, head or WORKING_TREE, head)
        problems += head_problems
        if problems:
            raise InputError(problems)
        keys = sides.affected(old.fingerprints, new.fingerprints)
        old_objects, problems = sides.build(old, keys)
        new_objects, head_problems = sides.build(new, keys)
        if problems or head_problems:
            raise InputError(problems + head_problems)
    order = sides.environment_order(new) + sides.environment_order(old)
    return compare.DiffReport(
        base=base,
        head=head or WORKING_TREE,
        overlays=compare.overlay_changes(old_objects, new_objects, order),
        impact=compare.impact(old.usage, new.usage, order),
        waivers=compare.waiver_changes(old.waivers, new.waivers),
        restarts=restarts(old_objects, new_objects, order),
    )
