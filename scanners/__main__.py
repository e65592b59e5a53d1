"""``python -m scanners [--skips FILE] [--json FILE]``: scan every built overlay; exit 1 on a
finding the skip list does not cover or on a stale skip entry, 2 when a scanner cannot run."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from scanners.run import ScanError, run_scanners
from scanners.skips import SkipListError, judge, load_skips


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scanners", description=__doc__)
    parser.add_argument("--skips", type=Path, default=Path("scanners/skips.yaml"))
    parser.add_argument("--venv", type=Path, default=Path(".venv-scan"))
    parser.add_argument("--json", type=Path, help="also write the counts here")
    args = parser.parse_args(argv)
    try:
        skips = load_skips(args.skips)
        runs = run_scanners(Path.cwd(), args.venv)
    except (ScanError, SkipListError) as error:
        print(f"scan: {error}", file=sys.stderr)
        return 2
    verdict = judge((f for run in runs for f in run.findings), skips, ("checkov", "trivy"))
    for run in runs:
        skipped = sum(1 for f in verdict.skipped if f in run.findings)
        print(f"{run.name}: {run.passed} passed, {run.failed} failed ({skipped} on the skip list)")
    for finding in verdict.unexpected:
        print(
            f"NEW FINDING {finding.tool} {finding.check} {finding.obj}: {finding.title} "
            f"({finding.where}); fix it, or add it to {args.skips} with the reason",
            file=sys.stderr,
        )
    for skip in verdict.stale:
        print(
            f"{args.skips}:{skip.line}: {skip.tool} {skip.check} matches no finding any more; "
            "remove the entry",
            file=sys.stderr,
        )
    if args.json:
        counts = {
            run.name: {
                "passed": run.passed,
                "failed": run.failed,
                "unexpected": sum(1 for f in verdict.unexpected if f in run.findings),
            }
            for run in runs
        }
        args.json.write_text(json.dumps(counts, indent=2, sort_keys=True) + "\n")
    return 0 if verdict.ok else 1


if __name__ == "__main__":
    sys.exit(main())
