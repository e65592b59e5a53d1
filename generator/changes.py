"""Which models a change touches, from git, for ``--changed-since REF``."""

from __future__ import annotations

import subprocess
from pathlib import Path


class GitError(Exception):
    """git is missing or the ref is unknown: a usage error (exit 2)."""


def _git(root: Path, *args: str) -> str:
    try:
        done = subprocess.run(
            ["git", "-C", str(root), *args], capture_output=True, text=True, timeout=60
        )
    except (OSError, subprocess.SubprocessError) as error:
        raise GitError(f"cannot run git: {error}") from None
    if done.returncode != 0:
        raise GitError(done.stderr.strip() or f"git {' '.join(args)} failed")
    return done.stdout


def read_git(root: Path, *args: str) -> str:
    """Standard output of ``git -C ROOT ARGS``; GitError when git is missing or fails."""
    return _git(root, *args)


def changed_paths(root: Path, ref: str) -> list[str]:
    """Files that differ between ``ref`` and the working tree, untracked files included."""
    _git(root, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    tracked = _git(root, "diff", "--name-only", "--relative", ref, "--", ".").splitlines()
    untracked = _git(root, "ls-files", "--others", "--exclude-standard", "--", ".").splitlines()
    return sorted(set(tracked) | set(untracked))


def models_in_focus(root: Path, ref: str) -> set[str] | None:
    """Model names whose inputs changed; None when a change can affect every model."""
    focus: set[str] = set()
    for path in changed_paths(root, ref):
        parts = path.split("/")
        if parts[0] == "models" and len(parts) > 2:
            focus.add(parts[1])
        elif path == "environments.yaml" or parts[0] in ("schemas", "generator"):
            return None
    return focus
