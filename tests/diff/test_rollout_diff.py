"""``mlgitops diff`` says how a change alters the way new versions roll out: a strategy change
and the canary's steps, one line per overlay, before the object fields."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import run_cli
from tests.diff.conftest import edit

IRIS = "models/iris-classifier/model.yaml"
CANARY = "canary by Argo Rollouts: 10% → 50%, 5m per step (maxSurge 25%)"


def _rollout_lines(root: Path) -> list[str]:
    outcome = run_cli("diff", "--base", "main", root=root)
    assert outcome.exit_code == 0, outcome.stderr
    return [line for line in outcome.stdout.splitlines() if " rollout: " in line]


def test_new_steps_are_shown(example_repo: Path) -> None:
    edit(example_repo / IRIS, "steps: [10, 50]", "steps: [5, 25, 50]")

    assert _rollout_lines(example_repo) == [
        f"staging/iris-classifier rollout: {CANARY} → "
        "canary by Argo Rollouts: 5% → 25% → 50%, 5m per step (maxSurge 25%)",
        f"prod/iris-classifier rollout: {CANARY} → "
        "canary by Argo Rollouts: 5% → 25% → 50%, 5m per step (maxSurge 25%)",
    ]


def test_a_strategy_change_is_shown_with_the_objects_it_moves(example_repo: Path) -> None:
    edit(example_repo / IRIS, "rollout: {strategy: canary,", "rollout: {strategy: rolling,")

    outcome = run_cli("diff", "--base", "main", root=example_repo)

    lines = outcome.stdout.splitlines()
    assert (
        f"prod/iris-classifier rollout: {CANARY} → rolling update (maxSurge 25%, maxUnavailable 0)"
        in lines
    )
    assert "prod/iris-classifier Rollout/iris-classifier: removed" in lines
    assert "prod/iris-classifier AnalysisTemplate/iris-classifier-canary: removed" in lines
    assert (
        "prod/iris-classifier HorizontalPodAutoscaler spec.scaleTargetRef.kind: "
        "Rollout → Deployment" in lines
    )


def test_json_carries_the_rollout_and_the_surge(example_repo: Path) -> None:
    import json

    edit(example_repo / IRIS, "steps: [10, 50]", "steps: [5, 25, 50]")

    outcome = run_cli("diff", "--base", "main", "--format", "json", root=example_repo)

    report = json.loads(outcome.stdout)
    prod = next(o for o in report["overlays"] if o["environment"] == "prod")
    assert prod["rollout"] == {
        "before": CANARY,
        "after": "canary by Argo Rollouts: 5% → 25% → 50%, 5m per step (maxSurge 25%)",
    }
    impact = {i["environment"]: i for i in report["impact"]}
    assert impact["prod"]["after"]["surge"] == {
        "cpuMillicores": 2350,
        "memoryBytes": 2496 * 2**20,
        "gpus": 0,
        "pods": 3,
    }
