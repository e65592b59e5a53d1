"""The quota capacity check counts the pods an update adds (issue 13, fault 7): a quota equal
to the total at maxReplicas is too small for a rolling update's surge pod; a GPU update replaces
pods in place and needs no surge; a Flagger canary runs a second Deployment beside the primary."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from generator.check.quota import check_quota
from generator.layout import RepoLayout
from generator.load.platform import Quota
from generator.pipeline import Plan, make_plan
from generator.resolve import Resolved
from generator.rollout import FLAGGER, RolloutSpec

PROJECT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def plan() -> Plan:
    made = make_plan(RepoLayout(PROJECT))
    assert made.ok, made.problems
    return made


def _dev_iris(plan: Plan) -> Resolved:
    return next(
        d for d in plan.deployments if (d.environment.name, d.model) == ("dev", "iris-classifier")
    )


def _quota_problems(plan: Plan, spec: Resolved, quota: Quota) -> list[str]:
    assert plan.platform is not None
    env = replace(spec.environment, quota=quota)
    return [
        f"{p.message} | {p.hint}"
        for p in check_quota(plan.platform, env, [replace(spec, environment=env)])
    ]


def test_a_quota_equal_to_the_total_at_max_replicas_fails_and_names_the_surge(plan: Plan) -> None:
    # dev iris: 4 replicas of 250m / 256Mi (no sidecar), maxSurge 25% -> 1 surge pod.
    spec = replace(_dev_iris(plan), max_replicas=4, fluentd=False, rollout=RolloutSpec())
    exact = Quota(cpu="1", memory="1Gi", gpus=0, pods=4)

    problems = _quota_problems(plan, spec, exact)

    assert problems == [
        "environment 'dev': requests.cpu at maxReplicas plus the update surge is 1250m "
        "(1 + surge 250m), over the quota of 1 (largest: iris-classifier 1 + surge 250m "
        "(rolling update, maxSurge 25%)) | raise quota.cpu of dev in environments.yaml, or lower "
        "maxReplicas, requests or spec.rollout.maxSurge of the largest models (maxSurge 0 "
        "replaces pods one at a time)",
        "environment 'dev': requests.memory at maxReplicas plus the update surge is 1280Mi "
        "(1Gi + surge 256Mi), over the quota of 1Gi (largest: iris-classifier 1Gi + surge 256Mi "
        "(rolling update, maxSurge 25%)) | raise quota.memory of dev in environments.yaml, or "
        "lower maxReplicas, requests or spec.rollout.maxSurge of the largest models (maxSurge 0 "
        "replaces pods one at a time)",
        "environment 'dev': pods at maxReplicas plus the update surge is 5 (4 + surge 1), over "
        "the quota of 4 (largest: iris-classifier 4 + surge 1 (rolling update, maxSurge 25%)) | "
        "raise quota.pods of dev in environments.yaml, or lower maxReplicas, requests or "
        "spec.rollout.maxSurge of the largest models (maxSurge 0 replaces pods one at a time)",
    ]
    # One surge pod more fits.
    assert _quota_problems(plan, spec, Quota(cpu="1250m", memory="1280Mi", gpus=0, pods=5)) == []


@pytest.mark.parametrize(
    ("max_surge", "replicas", "surge"),
    [
        pytest.param("25%", 4, 1, id="25%-of-4"),
        pytest.param("25%", 5, 2, id="percent-rounds-up"),
        pytest.param("100%", 3, 3, id="100%"),
        pytest.param(2, 10, 2, id="count"),
        pytest.param(0, 10, 0, id="in-place"),
    ],
)
def test_surge_pods_follow_kubernetes_rounding(
    max_surge: int | str, replicas: int, surge: int
) -> None:
    assert RolloutSpec(max_surge=max_surge).surge_pods(replicas) == surge


def test_a_gpu_canary_replaces_in_place_and_needs_no_spare_gpu(plan: Plan) -> None:
    gpu = next(
        d
        for d in plan.deployments
        if (d.environment.name, d.model) == ("prod", "digits-classifier")
    )
    assert (gpu.accelerator, gpu.rollout.strategy, gpu.rollout.max_surge) == ("gpu", "canary", 0)
    assert gpu.rollout.max_unavailable == 1
    exact = Quota(cpu="1000", memory="1000Gi", gpus=gpu.gpus * gpu.max_replicas, pods=1000)

    assert _quota_problems(plan, gpu, exact) == []


def test_a_flagger_canary_counts_the_canary_deployment(plan: Plan) -> None:
    prod_iris = next(
        d for d in plan.deployments if (d.environment.name, d.model) == ("prod", "iris-classifier")
    )
    flagger = replace(
        prod_iris, environment=replace(prod_iris.environment, progressive_delivery=FLAGGER)
    )
    pods = Quota(cpu="1000", memory="1000Gi", gpus=0, pods=2 * flagger.max_replicas - 1)

    problems = _quota_problems(plan, flagger, pods)

    assert len(problems) == 1
    assert problems[0].startswith(
        "environment 'prod': pods at maxReplicas plus the update surge is 8 (4 + surge 4), over "
        "the quota of 7 (largest: iris-classifier 4 + surge 4 (Flagger canary Deployment beside "
        "the primary))"
    )
