"""The one way the generator asks git: changed files since a ref, commit ids, archives.

``validate --changed-since``, ``build --changed-since``, ``diff`` and the image labels of
``build`` all go through ``git`` below, so they agree on what a ref means and fail alike.
"""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from pathlib import Path

from generator.errors import ExitCode, MlgitopsError


class GitError(MlgitopsError):
    """git is missing, the folder is no repository or the ref is unknown: a usage error (exit
    2); the message is git's own."""

    exit_code = ExitCode.USAGE


def git(root: Path, *args: str) -> str:
    """stdout of ``git -C root ARGS``; GitError with git's message when it fails."""
    try:
        done = subprocess.run(
            ["git", "-C", str(root), *args], capture_output=True, text=True, timeout=60
        )
    except (OSError, subprocess.SubprocessError) as error:
        raise GitError(f"cannot run git: {error}") from None
    if done.returncode != 0:
        raise GitError(done.stderr.strip() or f"git {' '.join(args)} failed")
    return done.stdout


def resolve_ref(root: Path, ref: str) -> str:
    """The commit id of ``ref``; GitError (a usage error) when git does not know it."""
    try:
        return git(root, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}").strip()
    except GitError:
        raise GitError(f"unknown git ref {ref!r}") from None


def head_revision(root: Path) -> str:
    """The commit checked out in ``root``, or "unknown" outside a repository."""
    try:
        return git(root, "rev-parse", "HEAD").strip()
    except GitError:
        return "unknown"


def changed_paths(root: Path, ref: str, paths: Sequence[str] = (".",)) -> list[str]:
    """Files under ``paths`` (relative to ``root``) that differ between ``ref`` and the
    working tree, untracked files included: new files are changes before they are committed."""
    resolve_ref(root, ref)
    tracked = git(root, "diff", "--name-only", "--relative", ref, "--", *paths).splitlines()
    untracked = git(root, "ls-files", "--others", "--exclude-standard", "--", *paths)
    return sorted(set(tracked) | set(untracked.splitlines()))
