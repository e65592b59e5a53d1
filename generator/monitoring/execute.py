"""``mlgitops profile`` without the command line: load the model, check its artifact, profile
it on the reference data, write ``models/<name>/profile.json``. Every failure is raised as a
`MlgitopsError` (located problems as `InputError`); nothing is written unless all went well."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

from generator.artifacts.cache import default_cache
from generator.check.artifact_files import GRAPH_NAME
from generator.check.artifacts import check_artifact
from generator.delivery.fetch import image_files
from generator.errors import UsageError
from generator.layout import RepoLayout
from generator.load.repository import load_model
from generator.problems import InputError, Severity


@dataclass(frozen=True)
class Profiled:
    """What ``profile_model`` wrote: the file (repository-relative) and its size."""

    path: str
    features: int
    outputs: int
    rows: int


def _shown(layout: RepoLayout, path: Path) -> str:
    resolved = path.resolve()
    return layout.relative(resolved) if resolved.is_relative_to(layout.root) else str(path)


def profile_model(layout: RepoLayout, name: str, data: Path, bins: int) -> Profiled:
    """Profile model ``name`` on ``data`` (CSV or .npy) with ``bins`` bins and write the file.

    Raises UsageError (unknown model, missing data file, ONNX Runtime not installed) or
    InputError (model.yaml or artifact invalid, reference data that does not fit the model).
    """
    if name not in layout.model_names():
        raise UsageError(
            f"unknown model {name!r}; known: {', '.join(layout.model_names())}",
        )
    try:
        from generator.monitoring.profile import compute_profile, dump_profile, write_profile
    except ImportError as error:
        raise UsageError(
            f"profiling runs the model with ONNX Runtime, which is not installed ({error})",
            "pip install 'mlgitops[serving]'",
        ) from error
    model, problems = load_model(layout, name)
    if model is None:
        raise InputError(problems)
    problems = [p for p in check_artifact(layout, model) if p.severity is Severity.ERROR]
    if problems:
        raise InputError(problems)
    if not data.is_file():
        raise UsageError(f"--data {data}: no such file")
    # The model as its image holds it: the graph and its external data files side by side
    # (a registry or bucket artifact fetched into the cache first, as build does).
    files = image_files(layout, model, default_cache())
    shown_artifact = model.artifact_uri or layout.relative(
        layout.model_dir(model.folder) / model.artifact_path
    )
    shown = _shown(layout, data)
    with tempfile.TemporaryDirectory(prefix="mlgitops-profile-") as scratch:
        for member, path in files.items():
            (Path(scratch) / member).parent.mkdir(parents=True, exist_ok=True)
            (Path(scratch) / member).symlink_to(path.resolve())
        document = compute_profile(
            model=model.name,
            artifact=Path(scratch) / GRAPH_NAME,
            shown_artifact=shown_artifact,
            artifact_sha256=model.artifact_sha256,
            data=data,
            shown_data=shown,
            recorded_data=shown if not Path(shown).is_absolute() else data.name,
            bins=bins,
        )
    target = layout.profile_file(model.folder)
    write_profile(target, dump_profile(document))
    return Profiled(
        layout.relative(target),
        len(document["features"]),
        len(document["outputs"]),
        document["data"]["rows"],
    )
