"""The project's own rules for workflows, beyond what actionlint checks: least privilege, pinned
actions, concurrency, path filters, and the release loop guard."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from .conftest import WORKFLOWS

PINNED = re.compile(r"^[\w.-]+/[\w.-]+@[0-9a-f]{40}$")


def _load(name: str) -> dict[Any, Any]:
    data = yaml.safe_load((WORKFLOWS / name).read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    # PyYAML reads the key "on" as True (YAML 1.1); GitHub reads it as "on".
    data["on"] = data.pop(True)
    return data


def _steps(workflow: dict[Any, Any]) -> list[dict[str, Any]]:
    return [step for job in workflow["jobs"].values() for step in job["steps"]]


def test_every_workflow_starts_with_no_permissions_and_grants_per_job(
    workflow_files: list[Path],
) -> None:
    for path in workflow_files:
        workflow = _load(path.name)
        assert workflow["permissions"] == {}, path.name
        for name, job in workflow["jobs"].items():
            assert job["permissions"].get("contents") in ("read", "write"), (path.name, name)
            assert "write-all" not in str(job["permissions"])


def test_only_release_may_write_and_only_pr_comment_may_touch_pull_requests() -> None:
    grants = {
        (name, job_name): job["permissions"]
        for name in ("ci.yaml", "pr.yaml", "release.yaml")
        for job_name, job in _load(name)["jobs"].items()
    }
    assert grants == {
        ("ci.yaml", "test"): {"contents": "read"},
        ("pr.yaml", "validate"): {"contents": "read"},
        ("pr.yaml", "comment"): {"contents": "read", "pull-requests": "write"},
        ("release.yaml", "release"): {
            "contents": "write",
            "packages": "write",
            "id-token": "write",
        },
    }


def test_every_action_is_pinned_to_a_full_commit_sha(workflow_files: list[Path]) -> None:
    for path in workflow_files:
        for step in _steps(_load(path.name)):
            if "uses" in step:
                assert PINNED.match(step["uses"]), (path.name, step["uses"])


def test_every_workflow_has_a_concurrency_group(workflow_files: list[Path]) -> None:
    for path in workflow_files:
        assert _load(path.name)["concurrency"]["group"], path.name


def test_release_never_cancels_a_running_release() -> None:
    release = _load("release.yaml")
    assert release["concurrency"]["cancel-in-progress"] is False
    assert "${{" not in release["concurrency"]["group"], "one group for every release run"


def test_release_skips_its_own_commits() -> None:
    release = _load("release.yaml")
    marker = release["env"]["MARKER"]
    guard = release["jobs"]["release"]["if"]
    assert "github.actor != 'github-actions[bot]'" in guard
    assert f"contains(github.event.head_commit.message, '{marker}')" in guard
    commit = next(
        s for s in _steps(release) if s.get("name") == "Commit and push as the release bot"
    )
    assert '"$MARKER"' in commit["run"] or "$MARKER" in commit["run"]


def test_pr_and_release_filter_on_the_inputs() -> None:
    inputs = {"models/**", "environments.yaml", "generator/**", "schemas/**", "serving/**"}
    assert inputs <= set(_load("pr.yaml")["on"]["pull_request"]["paths"])
    assert inputs <= set(_load("release.yaml")["on"]["push"]["paths"])
    assert _load("release.yaml")["on"]["push"]["branches"] == ["main"]


def test_pr_validates_and_builds_only_what_changed_since_the_base() -> None:
    pr = _load("pr.yaml")
    job = pr["jobs"]["validate"]
    assert job["env"]["BASE_REF"] == "origin/${{ github.base_ref }}"
    runs = [s.get("run", "") for s in job["steps"]]
    assert '.venv/bin/mlgitops --format github validate --changed-since "$BASE_REF"' in runs
    assert '.venv/bin/mlgitops build --changed-since "$BASE_REF"' in runs
    assert not any("--push" in run for run in runs)
    checkout = job["steps"][0]
    assert checkout["with"]["fetch-depth"] == 0


def test_pr_comment_is_the_rendered_diff_and_replaces_the_previous_one() -> None:
    job = _load("pr.yaml")["jobs"]["comment"]
    render = next(s for s in job["steps"] if s.get("name") == "Render the change")
    assert '.venv/bin/mlgitops diff --base "$BASE_REF" --format markdown' in render["run"]
    marker = "<!-- mlgitops-rendered-change -->"
    assert marker in render["run"]
    post = next(s for s in job["steps"] if s.get("name") == "Post or update the PR comment")
    assert marker in post["with"]["script"] and "updateComment" in post["with"]["script"]
