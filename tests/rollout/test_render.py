"""Canary rollouts end to end through ``mlgitops validate`` and ``generate`` on a temporary
repository: located errors for canaries an environment cannot run, and, for Argo Rollouts and
Flagger, overlays that real kustomize builds and the vendored CRD schemas accept, with the
HPA, PDB, NetworkPolicy and ServiceMonitor following the workload."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import yaml

from generator.layout import RepoLayout
from generator.pipeline import make_plan
from generator.render.rollout_argo import analysis_template, rollout
from generator.verify import crdschema
from tests.conftest import run_cli
from tests.generator.conftest import ENVIRONMENTS_YAML, RepoFactory, model_yaml

PROJECT = Path(__file__).resolve().parents[2]
PROD_MONITORED = '    quota: {cpu: "32", memory: 128Gi, gpus: 4, pods: 100}\n'


def _platform(controller: str, *, monitoring: bool = True) -> str:
    extra = f"    progressiveDelivery: {controller}\n"
    if monitoring:
        extra += "    monitoring: {prometheusOperator: true}\n"
    assert ENVIRONMENTS_YAML.endswith(PROD_MONITORED)
    return ENVIRONMENTS_YAML + extra


CANARY_MODEL = model_yaml(
    spec="rollout: {strategy: canary, steps: [20, 60], stepDuration: 2m}\n"
    "environments:\n  dev: {rollout: {strategy: rolling}}"
)


def _built(root: Path, overlay: str) -> dict[tuple[str, str], dict[str, Any]]:
    import subprocess

    from generator.verify.kustomize import check_available

    done = subprocess.run(
        [str(check_available()), "kustomize", str(root / overlay)],
        capture_output=True,
        text=True,
        check=True,
    )
    return {(o["kind"], o["metadata"]["name"]): o for o in yaml.safe_load_all(done.stdout)}


def test_a_canary_without_a_controller_is_a_located_error(make_repo: RepoFactory) -> None:
    root = make_repo({"models/fraud/model.yaml": model_yaml(spec="rollout: {strategy: canary}")})

    outcome = run_cli("validate", root=root)

    assert outcome.exit_code == 1
    assert outcome.stderr.splitlines()[:2] == [
        "models/fraud/model.yaml:10:23: fraud asks for a canary rollout in environment 'dev', "
        "which has no progressive delivery controller (progressiveDelivery: none)",
        "  hint: set spec.environments.dev.rollout.strategy: rolling, or set progressiveDelivery: "
        "argo-rollouts or flagger for dev in environments.yaml (the controller must be installed "
        "in its cluster)",
    ]
    assert "environment 'prod'" in outcome.stderr


def test_a_canary_without_the_metrics_it_analyses_is_a_located_error(
    make_repo: RepoFactory,
) -> None:
    root = make_repo(
        {
            "environments.yaml": _platform("flagger", monitoring=False),
            "models/fraud/model.yaml": CANARY_MODEL,
        }
    )

    outcome = run_cli("validate", root=root)

    assert outcome.exit_code == 1
    assert outcome.stderr.startswith(
        "models/fraud/model.yaml:10:23: fraud asks for a canary rollout in environment 'prod', "
        "whose analysis needs the model's metrics, but monitoring.prometheusOperator is off there\n"
    )


def test_steps_must_rise(make_repo: RepoFactory) -> None:
    root = make_repo({"models/fraud/model.yaml": model_yaml(spec="rollout: {steps: [50, 10]}")})

    outcome = run_cli("validate", root=root)

    assert outcome.exit_code == 1
    assert outcome.stderr.startswith(
        "models/fraud/model.yaml:10:20: dev: canary steps [50, 10] must rise, each step above "
        "the last\n  hint: write them in rising order without repeats, such as [10, 50]\n"
    )


def test_argo_rollouts_overlay_builds_and_the_workload_carries_hpa_and_metrics(
    make_repo: RepoFactory,
) -> None:
    root = make_repo(
        {"environments.yaml": _platform("argo-rollouts"), "models/fraud/model.yaml": CANARY_MODEL}
    )

    assert run_cli("validate", root=root).exit_code == 0
    assert run_cli("generate", root=root).exit_code == 0
    built = _built(root, "overlays/prod/fraud")

    assert sorted(built) == [
        ("AnalysisTemplate", "fraud-canary"),
        ("ConfigMap", built_config(built)),
        ("Deployment", "fraud"),
        ("HorizontalPodAutoscaler", "fraud"),
        ("NetworkPolicy", "fraud"),
        ("PodDisruptionBudget", "fraud"),
        ("PrometheusRule", "fraud"),
        ("Rollout", "fraud"),
        ("Service", "fraud"),
        ("ServiceAccount", "fraud"),
        ("ServiceMonitor", "fraud"),
    ]
    assert built[("HorizontalPodAutoscaler", "fraud")]["spec"]["scaleTargetRef"] == {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Rollout",
        "name": "fraud",
    }
    steps = built[("Rollout", "fraud")]["spec"]["strategy"]["canary"]["steps"]
    assert [next(iter(step)) for step in steps] == ["setWeight", "pause", "analysis"] * 2
    assert [s["setWeight"] for s in steps if "setWeight" in s] == [20, 60]
    assert built[("Rollout", "fraud")]["metadata"]["namespace"] == "ml-prod"
    monitor = built[("ServiceMonitor", "fraud")]["spec"]
    assert monitor["podTargetLabels"] == ["rollouts-pod-template-hash"]
    # The pods the PDB and NetworkPolicy select are the Rollout's (same template labels).
    pod_labels = built[("Deployment", "fraud")]["spec"]["template"]["metadata"]["labels"]
    pdb = built[("PodDisruptionBudget", "fraud")]["spec"]["selector"]["matchLabels"]
    assert pdb.items() <= pod_labels.items()
    # The Rollout's pods carry rollouts-pod-template-hash (no pod-template-hash): the spread
    # keeps one revision's pods apart by that label.
    pod = built[("Deployment", "fraud")]["spec"]["template"]["spec"]
    spread = pod["topologySpreadConstraints"]
    assert [c["matchLabelKeys"] for c in spread] == [["rollouts-pod-template-hash"]] * 2
    assert all(c["labelSelector"]["matchLabels"].items() <= pod_labels.items() for c in spread)
    # dev rolls: no Rollout there.
    assert not (root / "overlays/dev/fraud/rollout.yaml").exists()


def built_config(built: dict[tuple[str, str], dict[str, Any]]) -> str:
    return next(name for kind, name in built if kind == "ConfigMap")


def test_flagger_overlay_builds_and_hands_the_services_to_flagger(make_repo: RepoFactory) -> None:
    root = make_repo(
        {"environments.yaml": _platform("flagger"), "models/fraud/model.yaml": CANARY_MODEL}
    )

    assert run_cli("validate", root=root).exit_code == 0
    assert run_cli("generate", root=root).exit_code == 0
    built = _built(root, "overlays/prod/fraud")

    assert ("Service", "fraud") not in built
    assert sorted(name for kind, name in built if kind == "MetricTemplate") == [
        "fraud-error-ratio",
        "fraud-latency-p99",
    ]
    canary = built[("Canary", "fraud")]["spec"]
    assert canary["analysis"]["stepWeights"] == [20, 60]
    assert canary["analysis"]["interval"] == "2m"
    assert canary["autoscalerRef"]["name"] == "fraud"
    assert [m["thresholdRange"] for m in canary["analysis"]["metrics"]] == [
        {"max": 0.01},
        {"max": 0.1},
    ]
    # The base's PDB keeps the canary's pods; a second one guards the primary's.
    pdbs = {
        name: o["spec"]["selector"]
        for (kind, name), o in built.items()
        if kind == "PodDisruptionBudget"
    }
    assert pdbs == {
        "fraud": {"matchLabels": {"app.kubernetes.io/name": "fraud"}},
        "fraud-primary": {"matchLabels": {"app.kubernetes.io/name": "fraud-primary"}},
    }
    policy = built[("NetworkPolicy", "fraud")]["spec"]["podSelector"]
    assert policy == {
        "matchExpressions": [
            {
                "key": "app.kubernetes.io/name",
                "operator": "In",
                "values": ["fraud", "fraud-primary"],
            }
        ]
    }
    # The spread counts the primary's pods too (Flagger labels them fraud-primary), one
    # Deployment's revision at a time.
    spread = built[("Deployment", "fraud")]["spec"]["template"]["spec"]["topologySpreadConstraints"]
    assert [c["labelSelector"] for c in spread] == [policy] * 2
    assert [c["matchLabelKeys"] for c in spread] == [["pod-template-hash"]] * 2
    monitor = built[("ServiceMonitor", "fraud")]["spec"]["selector"]
    assert monitor["matchExpressions"][0]["values"] == ["fraud-primary", "fraud-canary"]
    rules = yaml.safe_dump(built[("PrometheusRule", "fraud")])
    assert 'service=~\\"fraud-(primary|canary)\\"' in rules


def test_drift_analysis_only_with_drift_monitoring_on() -> None:
    plan = make_plan(RepoLayout(PROJECT))
    spec = replace(
        next(
            d
            for d in plan.deployments
            if (d.environment.name, d.model) == ("prod", "iris-classifier")
        ),
        drift_enabled=False,
    )
    names = [m["name"] for m in analysis_template(spec)["spec"]["metrics"]]
    drifting = replace(spec, drift_enabled=True, drift_psi_threshold=0.15)
    metrics = analysis_template(drifting)["spec"]["metrics"]

    assert names == ["error-ratio", "latency-p99"]
    assert [m["name"] for m in metrics] == ["error-ratio", "latency-p99", "prediction-psi"]
    assert metrics[2]["successCondition"] == "result[0] < 0.15"
    assert "mlgitops_model_prediction_bin_total" in metrics[2]["provider"]["prometheus"]["query"]
    # A threshold without drift monitoring on renders no drift check.
    assert [
        m["name"]
        for m in analysis_template(replace(spec, drift_psi_threshold=0.15))["spec"]["metrics"]
    ] == names


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        pytest.param(
            ("spec", "strategy", "canary", "steps", 0), {"setWeigth": 10}, "setWeigth", id="step"
        ),
        pytest.param(("spec", "workloadRef", "scale"), "never", "scale", id="workloadRef"),
    ],
)
def test_the_crd_schemas_refuse_a_broken_rollout(
    path: tuple[Any, ...], value: Any, message: str
) -> None:
    plan = make_plan(RepoLayout(PROJECT))
    spec = next(
        d for d in plan.deployments if (d.environment.name, d.model) == ("prod", "iris-classifier")
    )
    obj = rollout(spec)
    assert crdschema.object_errors(obj) == []
    node: Any = obj
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value

    errors = crdschema.object_errors(obj)

    assert len(errors) == 1 and message in errors[0]


def test_in_place_updates_of_a_single_replica_warn(make_repo: RepoFactory) -> None:
    root = make_repo(
        {
            "models/fraud/model.yaml": model_yaml(
                spec="rollout: {maxSurge: 0}\nscaling: {minReplicas: 1, maxReplicas: 2}"
            )
        }
    )

    outcome = run_cli("validate", root=root)

    assert outcome.exit_code == 0
    assert outcome.stderr.splitlines()[:2] == [
        "models/fraud/model.yaml:10:23: warning: dev: updates replace pods in place (maxSurge 0) "
        "and minReplicas is 1, so each update stops the only pod first: the model is unavailable "
        "until the new one is ready",
        "  hint: set scaling.minReplicas: 2, or rollout.maxSurge: 1 where a spare pod is available",
    ]
