"""``mlgitops profile`` on the real example models, its bad inputs (located errors, nothing
written), and what ``validate`` says about profiles and drift settings."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import run_cli
from tests.generator.conftest import ENVIRONMENTS_YAML, build_repo, snapshot

PROJECT = Path(__file__).resolve().parents[2]
EXAMPLES = ("iris-classifier", "diabetes-regressor", "digits-classifier")


def example_repo(root: Path, *names: str, profile: bool = True) -> Path:
    """The given example models, their artifacts, reference data and (optionally) profiles,
    on the test platform (environments dev and prod)."""
    files: dict[str, str | bytes] = {}
    for name in names:
        folder = PROJECT / "models" / name
        for member in ("model.yaml", "model.onnx", "reference.csv") + (
            ("profile.json",) if profile else ()
        ):
            files[f"models/{name}/{member}"] = (folder / member).read_bytes()
    # The examples' iris-classifier rolls out by canary in prod: give prod a controller.
    files["environments.yaml"] = (
        ENVIRONMENTS_YAML
        + "    progressiveDelivery: argo-rollouts\n    monitoring: {prometheusOperator: true}\n"
    )
    return build_repo(root, files)


@pytest.mark.parametrize("name", EXAMPLES)
def test_committed_profiles_are_what_profile_writes_from_the_training_data(
    tmp_path: Path, name: str
) -> None:
    root = example_repo(tmp_path, name, profile=False)

    outcome = run_cli(
        "profile", name, "--data", str(root / f"models/{name}/reference.csv"), root=root
    )

    assert outcome.exit_code == 0, outcome.stderr
    written = (root / "models" / name / "profile.json").read_text()
    assert written == (PROJECT / "models" / name / "profile.json").read_text()
    assert outcome.stdout.startswith(f"wrote models/{name}/profile.json: ")


def test_profile_contents(tmp_path: Path) -> None:
    root = example_repo(tmp_path, "iris-classifier", profile=False)
    run_cli(
        "profile", "iris-classifier", "--data", "models/iris-classifier/reference.csv", root=root
    )
    profile = json.loads((root / "models/iris-classifier/profile.json").read_text())
    reference = (root / "models/iris-classifier/reference.csv").read_bytes()

    assert profile["data"]["rows"] == 112
    import hashlib

    assert profile["data"]["sha256"] == hashlib.sha256(reference).hexdigest()
    assert (
        profile["artifact"]["sha256"]
        == hashlib.sha256((root / "models/iris-classifier/model.onnx").read_bytes()).hexdigest()
    )
    first = profile["features"][0]
    assert first["name"] == "sepal_length_cm"
    assert len(first["edges"]) == 9 and first["edges"] == sorted(first["edges"])
    assert sum(first["proportions"]) == pytest.approx(1.0)
    label = profile["outputs"][0]
    assert label["classes"] == ["0", "1", "2"]
    assert [o["name"] for o in profile["outputs"]] == [
        "label",
        "probabilities[0]",
        "probabilities[1]",
        "probabilities[2]",
    ]


def test_headerless_csv_and_npy_give_positional_feature_names(tmp_path: Path) -> None:
    root = example_repo(tmp_path, "iris-classifier", profile=False)
    rows = np.loadtxt(root / "models/iris-classifier/reference.csv", delimiter=",", skiprows=1)
    (root / "plain.csv").write_text(
        "\n".join(",".join(repr(float(v)) for v in row) for row in rows) + "\n"
    )
    np.save(root / "rows.npy", rows)
    profiles = []
    for data in ("plain.csv", "rows.npy"):
        outcome = run_cli(
            "profile", "iris-classifier", "--data", str(root / data), "--bins", "5", root=root
        )
        assert outcome.exit_code == 0, outcome.stderr
        profiles.append(json.loads((root / "models/iris-classifier/profile.json").read_text()))
    assert [f["name"] for f in profiles[0]["features"]] == [f"input[{j}]" for j in range(4)]
    assert profiles[0]["features"] == profiles[1]["features"]
    assert all(len(f["proportions"]) <= 5 for f in profiles[0]["features"])


GOOD_ROW = "5.1,3.5,1.4,0.2\n"
BAD_DATA = {
    "wrong-column-count": (
        "reference.csv",
        GOOD_ROW * 60 + "5.1,3.5,1.4\n",
        "reference.csv:61:1: row has 3 columns, but the model's inputs take 4 (input: 4)\n"
        "  hint: give one column per input feature, in the inputs' order\n",
    ),
    "non-numeric-cell": (
        "reference.csv",
        GOOD_ROW * 3 + "5.1,wide,1.4,0.2\n" + GOOD_ROW * 60,
        "reference.csv:4:5: column 2: 'wide' is not a finite number\n"
        "  hint: reference data holds numbers only (a header, if any, on line 1)\n",
    ),
    "not-finite": (
        "reference.csv",
        GOOD_ROW * 3 + "5.1,nan,1.4,0.2\n" + GOOD_ROW * 60,
        "reference.csv:4:5: column 2: 'nan' is not a finite number\n"
        "  hint: reference data holds numbers only (a header, if any, on line 1)\n",
    ),
    "too-few-rows": (
        "reference.csv",
        "a,b,c,d\n" + GOOD_ROW * 49,
        "reference.csv:1:1: 49 rows are too few for 10 bins: quantiles need at least 5 rows per "
        "bin (50 rows)\n  hint: give more reference rows, or fewer bins (--bins 9)\n",
    ),
    "header-count": (
        "reference.csv",
        "a,b,c\n" + GOOD_ROW * 60,
        "reference.csv:1:1: the header names 3 columns, but the model's inputs take 4 (input: 4)\n"
        "  hint: give one column per input feature, in the inputs' order\n",
    ),
}


@pytest.mark.parametrize("case", BAD_DATA, ids=list(BAD_DATA))
def test_bad_reference_data_is_located_and_nothing_is_written(tmp_path: Path, case: str) -> None:
    file, content, expected = BAD_DATA[case]
    root = example_repo(tmp_path, "iris-classifier")
    (root / file).write_text(content)
    before = snapshot(root)

    outcome = run_cli("profile", "iris-classifier", "--data", str(root / file), root=root)

    assert (outcome.exit_code, outcome.stderr) == (1, expected)
    assert snapshot(root) == before


def test_npy_of_the_wrong_shape_is_refused(tmp_path: Path) -> None:
    root = example_repo(tmp_path, "iris-classifier")
    np.save(root / "rows.npy", np.zeros((100, 3)))
    before = snapshot(root)

    outcome = run_cli("profile", "iris-classifier", "--data", str(root / "rows.npy"), root=root)

    assert outcome.exit_code == 1
    assert outcome.stderr.startswith(
        "rows.npy:1:1: the array has shape [100, 3], but the model's inputs take [rows, 4]"
    )
    assert snapshot(root) == before


def test_unknown_model_and_missing_data_are_usage_errors(tmp_path: Path) -> None:
    root = example_repo(tmp_path, "iris-classifier")
    unknown = run_cli("profile", "iris", "--data", "x.csv", root=root)
    missing = run_cli("profile", "iris-classifier", "--data", "x.csv", root=root)

    assert (unknown.exit_code, unknown.stderr) == (
        2,
        "error: unknown model 'iris'; known: iris-classifier\n",
    )
    assert (missing.exit_code, missing.stderr) == (2, "error: --data x.csv: no such file\n")


def _line_of(path: Path, needle: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if needle in line)


def test_validate_refuses_a_profile_of_another_artifact(tmp_path: Path) -> None:
    root = example_repo(tmp_path, "iris-classifier")
    profile = root / "models/iris-classifier/profile.json"
    other = "0" * 64
    profile.write_text(
        profile.read_text().replace(json.loads(profile.read_text())["artifact"]["sha256"], other)
    )

    outcome = run_cli("validate", "--skip-build", root=root)

    line = _line_of(profile, other)
    assert outcome.exit_code == 1
    assert outcome.stderr.startswith(
        f"models/iris-classifier/profile.json:{line}:15: stale profile: rerun mlgitops profile "
        f"(it was made for the artifact with sha256 {other}, model.yaml names "
    )


def test_validate_refuses_drift_without_a_profile(tmp_path: Path) -> None:
    root = example_repo(tmp_path, "iris-classifier", profile=False)
    model = root / "models/iris-classifier/model.yaml"

    outcome = run_cli("validate", "--skip-build", root=root)

    line = _line_of(model, "drift: {enabled: true")
    assert outcome.exit_code == 1
    assert (
        f"models/iris-classifier/model.yaml:{line}:" in outcome.stderr
        and "dev: drift monitoring needs a reference profile, and "
        "models/iris-classifier/profile.json does not exist"
        in outcome.stderr
    )
    assert "run mlgitops profile iris-classifier --data <training data>" in outcome.stderr


def test_validate_checks_the_features_drift_watches(tmp_path: Path) -> None:
    root = example_repo(tmp_path, "digits-classifier")
    model = root / "models/digits-classifier/model.yaml"
    text = model.read_text()
    model.write_text(text.replace("features: [pixel_2_3,", "features: [pixel_9_9,"))
    unknown = run_cli("validate", "--skip-build", root=root)
    model.write_text(text.replace("      features: [", "      #features: ["))
    too_many = run_cli("validate", "--skip-build", root=root)

    assert unknown.exit_code == 1
    assert "dev: feature 'pixel_9_9' is not in models/digits-classifier/profile.json" in (
        unknown.stderr
    )
    assert too_many.exit_code == 1
    assert "the profile has 64 features, and drift watches at most 32" in too_many.stderr


def test_per_environment_override_of_drift_settings(tmp_path: Path) -> None:
    from generator.layout import RepoLayout
    from generator.pipeline import make_plan

    plan = make_plan(RepoLayout(example_repo(tmp_path, "iris-classifier")))
    by_env = {d.environment.name: d for d in plan.deployments}

    assert (by_env["dev"].drift_window, by_env["dev"].drift_for) == ("30m", "5m")
    assert (by_env["prod"].drift_window, by_env["prod"].drift_for) == ("1h", "15m")
    assert by_env["prod"].drift_psi_threshold == 0.2
    assert by_env["prod"].slo_min_accuracy == 0.9


def test_model_profile_is_set_where_drift_is_on_and_emptied_where_an_environment_turns_it_off(
    tmp_path: Path,
) -> None:
    from generator.layout import RepoLayout
    from generator.pipeline import make_plan

    root = example_repo(tmp_path, "iris-classifier")
    model = root / "models/iris-classifier/model.yaml"
    model.write_text(
        model.read_text().replace("drift: {window: 30m, for: 5m}", "drift: {enabled: false}")
    )
    plan = make_plan(RepoLayout(root))
    files = {f.path: f.text for f in plan.files}

    assert plan.ok, plan.problems
    assert (
        '"MODEL_PROFILE=/models/profile.json"' in files["base/iris-classifier/kustomization.yaml"]
    )
    assert '"MODEL_PROFILE="' in files["overlays/dev/iris-classifier/kustomization.yaml"]
    assert "MODEL_PROFILE" not in files["overlays/prod/iris-classifier/kustomization.yaml"]


def test_model_profile_is_reserved_in_config(tmp_path: Path) -> None:
    root = example_repo(tmp_path, "iris-classifier")
    model = root / "models/iris-classifier/model.yaml"
    model.write_text(model.read_text().replace('FEATURE_FLAG: "on"', 'MODEL_PROFILE: "/x"'))

    outcome = run_cli("validate", "--skip-build", root=root)

    assert outcome.exit_code == 1
    assert "config key 'MODEL_PROFILE' is set by mlgitops itself" in outcome.stderr


def test_a_model_with_non_numeric_inputs_cannot_be_profiled(tmp_path: Path) -> None:
    import hashlib

    from tests.generator.conftest import model_yaml
    from tests.serving.models import identity_all_types

    artifact = identity_all_types(tmp_path / "types.onnx").read_bytes()
    root = build_repo(
        tmp_path / "repo",
        {
            "models/types/model.yaml": model_yaml(
                name="types", sha256=hashlib.sha256(artifact).hexdigest()
            ),
            "models/types/model.onnx": artifact,
            "data.csv": "1,2\n" * 60,
        },
    )
    before = snapshot(root)

    outcome = run_cli("profile", "types", "--data", str(root / "data.csv"), root=root)

    assert outcome.exit_code == 1
    assert outcome.stderr.startswith("models/types/model.onnx:1:1: input 'in_")
    assert "cannot be profiled: profiles take numeric inputs shaped [N] or [N, k]" in (
        outcome.stderr
    )
    assert snapshot(root) == before
