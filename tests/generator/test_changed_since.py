"""``validate --changed-since REF`` checks only the models a change touches (all of them when
environments.yaml changes); an unknown ref is a usage error."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from tests.conftest import run_cli
from tests.generator.conftest import RepoFactory, model_yaml, write_tree

SUMMARY = re.compile(
    r"ok: (\d+) model\(s\) checked, \d+ files rendered, (\d+) built objects valid\n"
)


def git(root: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", "-C", str(root), *args],
        check=True,
        capture_output=True,
    )


@pytest.fixture
def git_repo(make_repo: RepoFactory) -> Path:
    root = make_repo(
        {
            "models/fraud/model.yaml": model_yaml(),
            "models/churn/model.yaml": model_yaml(name="churn"),
            "models/scoring/model.yaml": model_yaml(name="scoring"),
        }
    )
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "models")
    return root


def checked(root: Path, *args: str) -> tuple[int, int]:
    """(models checked, objects built) from the summary line of a successful validate."""
    outcome = run_cli("validate", *args, root=root)
    assert (outcome.exit_code, outcome.stderr) == (0, "")
    match = SUMMARY.fullmatch(outcome.stdout)
    assert match, outcome.stdout
    return int(match[1]), int(match[2])


def test_a_model_change_checks_only_that_models_overlays(git_repo: Path) -> None:
    nothing = checked(git_repo, "--changed-since", "HEAD")
    write_tree(git_repo, {"models/churn/model.yaml": model_yaml(name="churn", spec="gpus: 2")})
    one = checked(git_repo, "--changed-since", "HEAD")
    write_tree(git_repo, {"models/fraud/model.yaml": model_yaml(spec="gpus: 2")})
    two = checked(git_repo, "--changed-since", "HEAD")
    every = checked(git_repo)

    assert [models for models, _ in (nothing, one, two, every)] == [0, 1, 2, 3]
    # Nothing is built without a change; each changed model adds its own overlays (the same
    # number of objects for these look-alike models), no more. The _namespace overlays come
    # from environments.yaml alone: a full run builds them, a run focused on models does not.
    per_model = one[1]
    namespaces = every[1] - 3 * per_model
    assert per_model > 0 and namespaces > 0
    assert (nothing[1], two[1]) == (0, 2 * per_model)


def test_no_change_checks_no_model(git_repo: Path) -> None:
    assert checked(git_repo, "--changed-since", "HEAD")[0] == 0


def test_a_new_untracked_model_is_checked(git_repo: Path) -> None:
    write_tree(
        git_repo,
        {
            "models/extra/model.yaml": model_yaml(name="extra"),
            "models/extra/model.onnx": (git_repo / "models/fraud/model.onnx").read_bytes(),
        },
    )

    assert checked(git_repo, "--changed-since", "HEAD")[0] == 1


def test_an_environments_change_checks_every_model(git_repo: Path) -> None:
    path = git_repo / "environments.yaml"
    path.write_text(path.read_text().replace('cpu: "32"', 'cpu: "48"'))

    assert checked(git_repo, "--changed-since", "HEAD") == checked(git_repo)


def test_quota_still_counts_the_unchanged_models(git_repo: Path) -> None:
    write_tree(
        git_repo,
        {"models/fraud/model.yaml": model_yaml(resources='{cpu: "8", memory: 1Gi}')},
    )

    outcome = run_cli("validate", "--changed-since", "HEAD", root=git_repo)

    assert outcome.exit_code == 1
    assert outcome.stderr.startswith(
        "environments.yaml:12:18: environment 'dev': requests.cpu at maxReplicas plus the "
        "update surge is 25500m (17 + surge 8500m), over the quota of 16 (largest: fraud 16 + "
        "surge 8 (rolling update, maxSurge 25%), churn 500m + surge 250m (rolling update, "
        "maxSurge 25%), scoring 500m + surge 250m (rolling update, maxSurge 25%))\n"
    )


@pytest.mark.parametrize(
    "ref", [pytest.param("no-such-ref", id="unknown"), pytest.param("HEAD~5", id="too-far")]
)
def test_unknown_ref_exits_2(ref: str, git_repo: Path) -> None:
    outcome = run_cli("validate", "--changed-since", ref, root=git_repo)

    assert outcome.exit_code == 2
    assert outcome.stdout == ""
    assert outcome.stderr.startswith(f"error: --changed-since {ref}: ")


def test_changed_since_outside_a_git_repository_exits_2(make_repo: RepoFactory) -> None:
    root = make_repo({"models/fraud/model.yaml": model_yaml()})

    outcome = run_cli("validate", "--changed-since", "HEAD", root=root)

    assert outcome.exit_code == 2
    assert outcome.stderr.startswith("error: --changed-since HEAD: ")


def test_builds_started_early_are_the_full_plans_or_unused(git_repo: Path) -> None:
    """The head start builds the changed model's files as rendered from that model alone; its
    result counts only when the full plan renders the same files, and an invalid model gets
    no head start at all."""
    from generator.layout import RepoLayout
    from generator.pipeline import make_plan, start_focused_builds
    from generator.verify.overlays import verify_builds

    write_tree(git_repo, {"models/churn/model.yaml": model_yaml(name="churn", spec="gpus: 2")})
    layout = RepoLayout(git_repo)
    head_start = start_focused_builds(layout, {"churn"})
    assert head_start is not None
    plan = make_plan(layout, {"churn"})
    assert head_start.result_for(plan) == verify_builds(plan)

    plan.files = [f for f in plan.files if not f.path.startswith("base/churn/")]
    assert head_start.result_for(plan) is None

    write_tree(git_repo, {"models/churn/model.yaml": model_yaml(name="churn", spec="gpus: -1")})
    assert start_focused_builds(layout, {"churn"}) is None
