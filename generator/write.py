"""Put the generated tree on disk atomically, or report how the disk differs from it.

A run stages every new file in ``.mlgitops-txn/`` first; only a fully staged tree is swapped in,
file by file, keeping backups. If the process dies during the swap, the next run finishes it
(the journal says the staging was complete); if anything fails before, nothing was touched.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from generator.errors import MlgitopsError
from generator.layout import GENERATED_HEADER_PREFIX, GENERATED_ROOTS
from generator.problems import Problem
from generator.render.tree import RenderedFile

TXN_DIR = ".mlgitops-txn"
_JOURNAL = "journal.json"


class WriteError(MlgitopsError):
    """The disk refused (read-only, full, permissions): reported, exit 1, tree unchanged."""


@dataclass
class Changes:
    added: dict[str, bytes] = field(default_factory=dict)
    changed: dict[str, bytes] = field(default_factory=dict)
    removed: list[str] = field(default_factory=list)
    foreign: list[Problem] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.added or self.changed or self.removed)


def _is_generated(path: Path) -> bool:
    try:
        with path.open("rb") as handle:
            return (
                handle.read(len(GENERATED_HEADER_PREFIX)).decode("utf-8", "replace")
                == GENERATED_HEADER_PREFIX
            )
    except OSError:
        return False


def existing_files(root: Path) -> list[str]:
    found = []
    for top in GENERATED_ROOTS:
        directory = root / top
        if not directory.is_dir():
            continue
        for dirpath, _, filenames in os.walk(directory):
            for name in filenames:
                found.append((Path(dirpath) / name).relative_to(root).as_posix())
    return sorted(found)


def compare(root: Path, files: Sequence[RenderedFile]) -> Changes:
    changes = Changes()
    wanted = {f.path: f.text.encode("utf-8") for f in files}
    for path, content in wanted.items():
        target = root / path
        if not target.exists():
            changes.added[path] = content
        elif target.read_bytes() != content:
            if not _is_generated(target):
                changes.foreign.append(
                    Problem(
                        path,
                        0,
                        0,
                        "file exists and was not written by mlgitops; refusing to overwrite it",
                        "move it out of the generated folders",
                    )
                )
            changes.changed[path] = content
    for path in existing_files(root):
        if path in wanted:
            continue
        if _is_generated(root / path):
            changes.removed.append(path)
        else:
            changes.foreign.append(
                Problem(
                    path,
                    0,
                    0,
                    "file in a generated folder was not written by mlgitops and is not "
                    "produced by it",
                    f"move it out of {', '.join(GENERATED_ROOTS)}/ or delete it",
                )
            )
    return changes


@contextmanager
def repository_lock(root: Path) -> Iterator[None]:
    """Serialise concurrent runs in the same repository (a lock on the folder itself)."""
    handle = os.open(root, os.O_RDONLY)
    try:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(handle, fcntl.LOCK_UN)
        os.close(handle)


def _write_staged(path: Path, content: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)


def recover(root: Path) -> None:
    """Finish or discard a transaction an earlier, killed run left behind."""
    txn = root / TXN_DIR
    if not txn.exists():
        return
    journal = txn / _JOURNAL
    if journal.is_file():
        plan = json.loads(journal.read_text())
        _apply(root, txn, plan["write"], plan["remove"])
    shutil.rmtree(txn, ignore_errors=True)


def _apply(root: Path, txn: Path, write: Sequence[str], remove: Sequence[str]) -> None:
    for path in write:
        staged = txn / "new" / path
        if staged.exists():
            (root / path).parent.mkdir(parents=True, exist_ok=True)
            os.replace(staged, root / path)
    for path in remove:
        target = root / path
        if target.exists():
            target.unlink()
        _prune_empty(root, target.parent)


def _prune_empty(root: Path, directory: Path) -> None:
    while directory != root and directory.is_dir() and not any(directory.iterdir()):
        directory.rmdir()
        directory = directory.parent


def _refuse_unwritable(root: Path, paths: Sequence[str]) -> None:
    """The swap renames staged files into place, so every target folder must be writable and
    on the staging area's file system; checked first, else a read-only or separately mounted
    folder fails the swap half-way and every later run again."""
    device = os.stat(root).st_dev
    checked: set[Path] = set()
    for path in paths:
        directory = (root / path).parent
        while not directory.exists() and directory != root:
            directory = directory.parent
        if directory in checked:
            continue
        checked.add(directory)
        if not os.access(directory, os.W_OK):
            reason = "is not writable (read-only file system or permissions)"
        elif os.stat(directory).st_dev != device:
            reason = f"is on another file system than {root}"
        else:
            continue
        raise WriteError(f"{directory} {reason}; nothing was changed")


def apply_changes(root: Path, changes: Changes) -> None:
    txn = root / TXN_DIR
    write = sorted({**changes.added, **changes.changed})
    contents = {**changes.added, **changes.changed}
    _refuse_unwritable(root, [*write, *changes.removed])
    try:
        for path in write:
            _write_staged(txn / "new" / path, contents[path])
        temporary = txn / (_JOURNAL + ".tmp")
        _write_staged(temporary, json.dumps({"write": write, "remove": changes.removed}).encode())
        # One sync for the whole staging area: the journal may only become visible after every
        # staged file is on disk, and a per-file fsync costs seconds on thousands of files.
        os.sync()
        os.replace(temporary, txn / _JOURNAL)
    except OSError as error:
        shutil.rmtree(txn, ignore_errors=True)
        raise WriteError(f"cannot stage generated files under {txn}: {error}") from None
    try:
        _apply(root, txn, write, changes.removed)
    except OSError as error:
        raise WriteError(
            f"writing the generated tree failed ({error}); the next run of "
            "'mlgitops generate' completes it"
        ) from None
    shutil.rmtree(txn, ignore_errors=True)
