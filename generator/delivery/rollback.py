"""``mlgitops rollback``: move an environment's pin back to an earlier one, found in the Git
history of ``models/<name>/release.yaml``, as a change to commit.

Like promotion, a rollback never builds: it pins a digest that was built, pushed and pinned
before, so what runs after it is byte for byte what ran then. ``plan_rollback`` is pure (the
history comes in as data); ``execute_rollback`` reads Git and writes the file.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from generator.delivery.inputs import load_model
from generator.errors import MlgitopsError
from generator.git import GitError, git
from generator.layout import RepoLayout
from generator.load.release import Pin, Release, read_release, release_from_text, write_release
from generator.load.repository import load_platform
from generator.problems import InputError

WORKING_TREE = "working tree"
Announce = Callable[[str, Mapping[str, Any] | None], None]


class RollbackError(MlgitopsError):
    """The rollback cannot be carried out (exit 1); the message says why and what to do."""


@dataclass(frozen=True)
class PastRelease:
    """release.yaml as one commit (or the working tree) held it."""

    commit: str
    release: Release


@dataclass(frozen=True)
class Rollback:
    model: str
    environment: str
    before: Pin
    after: Pin
    found_in: str
    """Where the target pin was found: ``<commit> (<environment>)``."""


@dataclass(frozen=True)
class Target:
    """What the rollback may pin: whether the environment runs the model on a GPU (its pin
    then needs a gpuDigest) and whether the environment requires digests."""

    environment: str
    gpu: bool = False
    require_digest: bool = False


def _candidates(
    history: Sequence[PastRelease], environment: str, version: str | None
) -> list[tuple[str, str, Pin]]:
    """(commit, environment, pin) newest first. Without a version: the environment's pins from
    where its current pin entered the history on, so a second rollback goes further back
    instead of returning to the pin the first one replaced. With a version: the environment's
    own pins first, then the others' (a version that ran only in staging can still be pinned)."""
    current = history[0].release.pin(environment)
    own = [
        (past.commit, environment, pin)
        for past in history
        if (pin := past.release.pin(environment)) is not None
    ]
    if version is None:
        committed = own[1:] if own and own[0][0] == WORKING_TREE else own
        start = next(
            (i for i, (_, _, pin) in enumerate(committed) if current and pin.same_images(current)),
            0,
        )
        return committed[start:]
    others = [
        (past.commit, name, pin)
        for past in history
        for name, pin in past.release.environments.items()
        if name != environment
    ]
    return [c for c in own + others if c[2].version == version]


def plan_rollback(
    history: Sequence[PastRelease],
    target: Target,
    *,
    version: str | None,
    pinned_at: str,
) -> Rollback:
    """The pin ``target.environment`` goes back to. ``history[0]`` is the current release
    (the working tree), the rest its earlier versions in Git, newest first."""
    current_release = history[0].release
    model, env = current_release.model, target.environment
    current = current_release.pin(env)
    if current is None:
        raise RollbackError(
            f"{model} has no image pinned in {env!r}: there is nothing to roll back"
        )
    candidates = [c for c in _candidates(history, env, version) if not c[2].same_images(current)]
    if not candidates:
        raise RollbackError(_nothing_to_roll_back(history, env, current, version))
    commit, source_env, pin = candidates[0]
    if target.gpu and pin.gpu_digest is None and target.require_digest:
        raise RollbackError(
            f"the pin of version {pin.version} ({commit}, {source_env}) has no gpuDigest, and "
            f"{model} runs on a GPU in {env!r}, which requires a pinned digest; roll back to a "
            "version built with its GPU image (--to VERSION), or build and promote a new one"
        )
    after = Pin(pin.image, pin.digest, pin.version, pinned_at, pin.gpu_digest)
    return Rollback(model, env, current, after, f"{commit} ({source_env})")


def _nothing_to_roll_back(
    history: Sequence[PastRelease], env: str, current: Pin, version: str | None
) -> str:
    model = history[0].release.model
    if version is None:
        return (
            f"nothing to roll back to: {env!r} has had no other pin than {current.reference} "
            f"(version {current.version}) in the history of models/{model}/release.yaml"
        )
    if current.version == version:
        return f"{env!r} already runs version {version} ({current.reference})"
    seen = sorted({p.version for past in history for p in past.release.environments.values()})
    return (
        f"no pin of version {version!r} in the history of models/{model}/release.yaml "
        f"(versions pinned there: {', '.join(seen)})"
    )


def describe(rollback: Rollback) -> str:
    """The change as a reviewer reads it, and what to do next."""
    before, after = rollback.before, rollback.after
    lines = [
        f"{rollback.model}: roll back {rollback.environment} to version {after.version} "
        f"(pinned at {rollback.found_in})",
        f"  - {before.reference} (version {before.version})",
    ]
    if before.gpu_reference:
        lines.append(f"  - {before.gpu_reference} (GPU)")
    lines.append(f"  + {after.reference} (version {after.version})")
    if after.gpu_reference:
        lines.append(f"  + {after.gpu_reference} (GPU)")
    lines.append(
        f"commit models/{rollback.model}/release.yaml; 'mlgitops validate' and 'mlgitops diff' "
        "show the change"
    )
    return "\n".join(lines)


def release_history(root: Path, model: str) -> list[PastRelease]:
    """Earlier versions of the model's release.yaml in Git, newest first; versions that no
    longer parse are skipped (they could not have been applied either)."""
    path = f"models/{model}/release.yaml"
    try:
        commits = git(root, "log", "--format=%h", "--", path).split()
    except GitError as error:
        raise GitError(f"cannot read the history of release.yaml: {error}") from None
    history = []
    for commit in commits:
        try:
            text = git(root, "show", f"{commit}:./{path}")
            history.append(PastRelease(commit, release_from_text(text, f"{commit}:{path}", model)))
        except (GitError, InputError):
            continue
    return history


@dataclass(frozen=True)
class RollbackOptions:
    root: Path
    model: str
    environment: str
    version: str | None = None


def rollback(options: RollbackOptions, announce: Announce, pinned_at: str) -> None:
    """Write the rolled-back pin into release.yaml and announce it; InputError or RollbackError
    (exit 1), GitError (exit 2) otherwise, and nothing is written then."""
    layout = RepoLayout(options.root)
    platform, problems = load_platform(layout)
    if platform is None:
        raise InputError(problems)
    model = load_model(options.root, options.model)
    env = platform.environment(options.environment)
    if env is None:
        known = ", ".join(platform.environment_names)
        raise RollbackError(f"unknown environment {options.environment!r}; known: {known}")
    path = layout.release_file(options.model)
    current = read_release(path, layout.relative(path), options.model)
    history = [PastRelease(WORKING_TREE, current), *release_history(options.root, model.name)]
    target = Target(env.name, env.name in model.gpu_environments, env.require_digest)
    planned = plan_rollback(history, target, version=options.version, pinned_at=pinned_at)
    write_release(path, current.with_pin(env.name, planned.after), platform.environment_names)
    announce(
        describe(planned),
        {
            "model": planned.model,
            "environment": planned.environment,
            "foundIn": planned.found_in,
            "before": planned.before.reference,
            "after": planned.after.reference,
            "version": planned.after.version,
        },
    )
