"""``validate --changed-since REF`` checks only the models a change touches (all of them when
environments.yaml changes); an unknown ref is a usage error."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from tests.generator.conftest import RepoFactory, model_yaml, run_cli, write_tree

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
    # Only the _namespace overlays are built without a change; each changed model adds its
    # own overlays (the same number of objects for these look-alike models), no more.
    per_model = one[1] - nothing[1]
    assert nothing[1] > 0
    assert per_model > 0
    assert (two[1], every[1]) == (nothing[1] + 2 * per_model, nothing[1] + 3 * per_model)


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
        "environments.yaml:12:18: environment 'dev': requests.cpu at maxReplicas is 17, "
        "over the quota of 16 (largest: fraud 16, churn 500m, scoring 500m)\n"
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
