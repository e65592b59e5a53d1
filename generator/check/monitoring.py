"""What ``validate`` checks about monitoring: a profile exists where drift is on, was made for
the artifact that model.yaml names, and knows the features that drift settings list.

The profile is read as located data (JSON is YAML), so every problem points at its line.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from generator.layout import RepoLayout
from generator.load.modelspec import ModelSource
from generator.load.platform import Environment, Platform
from generator.load.yamlsource import Document, load_file
from generator.problems import InputError, Problem
from generator.resolve import is_enabled, merged_tunables, origin

MAX_FEATURES = 32
"""Alerting on more features than this is mostly noise, and each costs series per pod."""
_RERUN = "rerun mlgitops profile {name} --data <reference data> and commit profile.json"


def _drift(model: ModelSource, env: Environment) -> Mapping[str, Any]:
    drift: Mapping[str, Any] = merged_tunables(model, env)["monitoring"]["drift"]
    return drift


def _profile_problems(document: Document, model: ModelSource) -> Iterator[Problem]:
    data = document.data
    hint = _RERUN.format(name=model.name)
    if not isinstance(data, dict) or data.get("kind") != "ModelProfile":
        yield document.problem((), "not a model profile (kind ModelProfile)", hint)
        return
    for key in ("artifact", "features", "outputs"):
        if key not in data:
            yield document.problem((), f"the profile has no {key!r}", hint)
            return
    sha = data["artifact"].get("sha256") if isinstance(data["artifact"], dict) else None
    if sha != model.artifact_sha256:
        yield document.problem(
            ("artifact", "sha256") if sha is not None else ("artifact",),
            f"stale profile: rerun mlgitops profile (it was made for the artifact with sha256 "
            f"{sha}, model.yaml names {model.artifact_sha256})",
            hint,
        )


def feature_names(document: Document) -> list[str]:
    """The profile's feature names, in its order (none when it has no feature list)."""
    features = document.data.get("features") if isinstance(document.data, dict) else None
    if not isinstance(features, list):
        return []
    return [str(f.get("name")) for f in features if isinstance(f, dict)]


def check_monitoring(
    layout: RepoLayout, model: ModelSource, platform: Platform
) -> Iterator[Problem]:
    """Problems of the model's profile and of its drift settings in every environment."""
    path = layout.profile_file(model.folder)
    shown = layout.relative(path)
    drifting = [
        env
        for env in platform.environments
        if is_enabled(model, env) and _drift(model, env)["enabled"]
    ]
    if not path.is_file():
        for env in drifting:
            doc, where = origin(model, env, platform, ("monitoring", "drift", "enabled"))
            yield doc.problem(
                where,
                f"{env.name}: drift monitoring needs a reference profile, and {shown} does not "
                "exist",
                f"run mlgitops profile {model.name} --data <training data> and commit profile.json",
            )
        return
    try:
        document = load_file(path, shown)
    except InputError as error:
        yield from error.problems
        return
    problems = list(_profile_problems(document, model))
    yield from problems
    if problems:
        return
    known = feature_names(document)
    for env in drifting:
        features = _drift(model, env).get("features")
        if features is None and len(known) > MAX_FEATURES:
            doc, where = origin(model, env, platform, ("monitoring", "drift", "enabled"))
            yield doc.problem(
                where,
                f"{env.name}: the profile has {len(known)} features, and drift watches at most "
                f"{MAX_FEATURES}",
                f"list the {MAX_FEATURES} that matter most in monitoring.drift.features",
            )
        for index, name in enumerate(features or []):
            if name not in known:
                doc, where = origin(model, env, platform, ("monitoring", "drift", "features"))
                yield doc.problem(
                    (*where, index),
                    f"{env.name}: feature {name!r} is not in {shown}",
                    f"features of the profile: {', '.join(known[:8])}"
                    + (", ..." if len(known) > 8 else ""),
                )
