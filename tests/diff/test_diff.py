"""``mlgitops diff`` end to end: real git refs, the real pipeline and the real kustomize."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from tests.conftest import run_cli
from tests.diff.conftest import commit, edit, git
from tests.generator.conftest import snapshot

PROD_MEMORY = (
    "prod/diabetes-regressor Deployment "
    "spec.template.spec.containers[server].resources.limits.memory: 1Gi → 2Gi"
)


def test_memory_change_is_reported_by_field_with_its_quota_impact(example_repo: Path) -> None:
    edit(example_repo / "models/diabetes-regressor/model.yaml", "memory: 1Gi}", "memory: 2Gi}")

    outcome = run_cli("diff", "--base", "main", root=example_repo)

    assert outcome.exit_code == 0, outcome.stderr
    assert outcome.stdout.splitlines() == [
        "mlgitops diff main → working tree: 1 overlay(s) changed, 0 added, 0 removed",
        PROD_MEMORY,
        "prod/diabetes-regressor Deployment "
        "spec.template.spec.containers[server].resources.requests.memory: 1Gi → 2Gi",
        "restart prod/diabetes-regressor: Deployment diabetes-regressor rolls its pods "
        "(spec.template.spec.containers[server].resources.limits.memory, "
        "spec.template.spec.containers[server].resources.requests.memory changed)",
        "impact prod: replicas min 6, replicas max 14, CPU 9300m + surge 2350m (quota 64), "
        "memory 11840Mi + surge 2496Mi → 17984Mi + surge 4544Mi (quota 256Gi), GPUs 4 (quota 8), "
        "pods 14 + surge 3 (quota 200)",
    ]


def test_new_model_is_added_in_every_environment(example_repo: Path) -> None:
    source, target = example_repo / "models/iris-classifier", example_repo / "models/iris-v2"
    shutil.copytree(source, target)
    edit(target / "model.yaml", "name: iris-classifier", "name: iris-v2")
    edit(target / "release.yaml", 'model: "iris-classifier"', 'model: "iris-v2"')

    outcome = run_cli("diff", "--base", "main", root=example_repo)

    assert outcome.exit_code == 0, outcome.stderr
    lines = outcome.stdout.splitlines()
    assert lines[0] == "mlgitops diff main → working tree: 0 overlay(s) changed, 3 added, 0 removed"
    assert "dev/iris-v2 Deployment/iris-v2: added" in lines
    assert "prod/iris-v2 HorizontalPodAutoscaler/iris-v2: added" in lines
    assert "prod/iris-v2 ConfigMap/iris-v2-config: added" in lines
    assert not [line for line in lines if "iris-classifier" in line]
    assert (
        "impact prod: replicas min 6 → 8, replicas max 14 → 18, CPU 9300m + surge 2350m → "
        "10300m + surge 2600m (quota 64), memory 11840Mi + surge 2496Mi → 12864Mi + surge 2752Mi "
        "(quota 256Gi), GPUs 4 (quota 8), pods 14 + surge 3 → 18 + surge 4 (quota 200)"
    ) in lines


def test_removed_model_is_removed_and_frees_its_gpus(example_repo: Path) -> None:
    shutil.rmtree(example_repo / "models/digits-classifier")

    outcome = run_cli("diff", "--base", "main", root=example_repo)

    assert outcome.exit_code == 0, outcome.stderr
    lines = outcome.stdout.splitlines()
    assert lines[0] == "mlgitops diff main → working tree: 0 overlay(s) changed, 0 added, 3 removed"
    assert "prod/digits-classifier Deployment/digits-classifier: removed" in lines
    assert (
        "impact prod: replicas min 6 → 4, replicas max 14 → 10, CPU 9300m + surge 2350m → "
        "7300m + surge 2350m (quota 64), memory 11840Mi + surge 2496Mi → 7744Mi + surge 2496Mi "
        "(quota 256Gi), GPUs 4 → 0 (quota 8), pods 14 + surge 3 → 10 + surge 3 (quota 200)"
    ) in lines


def test_quota_change_in_environments_yaml(example_repo: Path) -> None:
    edit(
        example_repo / "environments.yaml",
        'quota: {cpu: "64", memory: 256Gi',
        'quota: {cpu: "96", memory: 256Gi',
    )

    outcome = run_cli("diff", "--base", "main", root=example_repo)

    assert outcome.exit_code == 0, outcome.stderr
    assert outcome.stdout.splitlines() == [
        "mlgitops diff main → working tree: 1 overlay(s) changed, 0 added, 0 removed",
        'prod/_namespace ResourceQuota/mlgitops-quota spec.hard["requests.cpu"]: 64 → 96',
        "impact prod: replicas min 6, replicas max 14, CPU 9300m + surge 2350m (quota 64 → 96), "
        "memory 11840Mi + surge 2496Mi (quota 256Gi), GPUs 4 (quota 8), pods 14 + surge 3 "
        "(quota 200)",
    ]


def test_config_change_is_a_data_change_not_a_new_config_map(example_repo: Path) -> None:
    edit(example_repo / "models/iris-classifier/model.yaml", 'FLAG: "on"', 'FLAG: "off"')

    outcome = run_cli("diff", "--base", "main", root=example_repo)

    assert outcome.exit_code == 0, outcome.stderr
    assert outcome.stdout.splitlines() == [
        "mlgitops diff main → working tree: 3 overlay(s) changed, 0 added, 0 removed",
        "dev/iris-classifier ConfigMap/iris-classifier-config data.FEATURE_FLAG: on → off",
        "staging/iris-classifier ConfigMap/iris-classifier-config data.FEATURE_FLAG: on → off",
        "prod/iris-classifier ConfigMap/iris-classifier-config data.FEATURE_FLAG: on → off",
        # dev rolls the Deployment; staging and prod roll iris by canary through the Argo
        # Rollout that scales it.
        *(
            f"restart {env}/iris-classifier: {kind} iris-classifier rolls its pods "
            "(ConfigMap/iris-classifier-config changed)"
            for env, kind in (("dev", "Deployment"), ("staging", "Rollout"), ("prod", "Rollout"))
        ),
        "impact dev: replicas min 3, replicas max 4, CPU 1850m + surge 1300m (quota 16), "
        "memory 2496Mi + surge 1888Mi (quota 64Gi), GPUs 0 (quota 0), pods 4 + surge 3 (quota 60)",
        "impact staging: replicas min 5, replicas max 13, CPU 5800m + surge 1850m (quota 32), "
        "memory 7744Mi + surge 2496Mi (quota 128Gi), GPUs 3 + surge 1 (quota 4), "
        "pods 13 + surge 4 (quota 100)",
        "impact prod: replicas min 6, replicas max 14, CPU 9300m + surge 2350m (quota 64), "
        "memory 11840Mi + surge 2496Mi (quota 256Gi), GPUs 4 (quota 8), pods 14 + surge 3 "
        "(quota 200)",
    ]


def test_list_items_are_matched_by_name(example_repo: Path) -> None:
    edit(
        example_repo / "models/diabetes-regressor/model.yaml",
        "    - {env: DB_PASSWORD",
        "    - {env: API_TOKEN, secret: diabetes-api, key: token}\n    - {env: DB_PASSWORD",
    )

    outcome = run_cli("diff", "--base", "main", root=example_repo)

    assert outcome.exit_code == 0, outcome.stderr
    assert (
        "prod/diabetes-regressor Deployment spec.template.spec.containers[server].env[API_TOKEN]: "
        '(absent) → {"name": "API_TOKEN", "valueFrom": {"secretKeyRef": '
        '{"key": "token", "name": "diabetes-api"}}}'
    ) in outcome.stdout.splitlines()
    assert "env[DB_PASSWORD]" not in outcome.stdout


def test_waivers_added_in_the_change_are_listed(example_repo: Path) -> None:
    edit(
        example_repo / "models/iris-classifier/model.yaml",
        "  environments:\n",
        '  policy:\n    waivers:\n      - {rule: MLG104, reason: "batch model, no probes"}\n'
        "  environments:\n",
    )

    outcome = run_cli("diff", "--base", "main", "--format", "markdown", root=example_repo)

    assert outcome.exit_code == 0, outcome.stderr
    assert "- added: `MLG104` on `iris-classifier`: batch model, no probes\n" in outcome.stdout


def test_no_change_exits_zero(example_repo: Path) -> None:
    outcome = run_cli("diff", "--base", "main", root=example_repo)

    assert (outcome.exit_code, outcome.stdout) == (
        0,
        "mlgitops diff main → working tree: 0 overlay(s) changed, 0 added, 0 removed\n"
        "no changes to the built manifests\n",
    )


def test_head_ref_and_working_tree_untouched(example_repo: Path) -> None:
    edit(example_repo / "models/diabetes-regressor/model.yaml", "memory: 1Gi}", "memory: 2Gi}")
    commit(example_repo, "more memory")
    edit(example_repo / "models/iris-classifier/model.yaml", 'FLAG: "on"', 'FLAG: "off"')
    before, status = snapshot(example_repo), git(example_repo, "status", "--porcelain")

    outcome = run_cli("diff", "--base", "main~1", "--head", "main", root=example_repo)

    assert outcome.exit_code == 0, outcome.stderr
    assert outcome.stdout.splitlines()[:2] == [
        "mlgitops diff main~1 → main: 1 overlay(s) changed, 0 added, 0 removed",
        PROD_MEMORY,
    ]
    assert snapshot(example_repo) == before
    assert git(example_repo, "status", "--porcelain") == status


def test_unknown_ref_is_a_usage_error(example_repo: Path) -> None:
    outcome = run_cli("diff", "--base", "no-such-branch", root=example_repo)

    assert (outcome.exit_code, outcome.stdout) == (2, "")
    assert outcome.stderr == "error: unknown git ref 'no-such-branch'\n"


def test_invalid_input_on_either_side_exits_one(example_repo: Path) -> None:
    edit(example_repo / "models/iris-classifier/model.yaml", "cpu: 250m", "cpu: lots")
    commit(example_repo, "broken")
    edit(example_repo / "models/iris-classifier/model.yaml", "cpu: lots", "cpu: 250m")

    outcome = run_cli("diff", "--base", "main", root=example_repo)

    assert (outcome.exit_code, outcome.stdout) == (1, "")
    assert outcome.stderr == (
        "main:models/iris-classifier/model.yaml:23:20: spec.resources.cpu: 'lots' is not valid\n"
        '  hint: CPU as a Kubernetes quantity: "500m", "1", "1.5". Quote it.\n'
    )


def test_json_is_stable_and_sorted(example_repo: Path) -> None:
    edit(example_repo / "models/diabetes-regressor/model.yaml", "memory: 1Gi}", "memory: 2Gi}")
    shutil.rmtree(example_repo / "models/digits-classifier")

    first = run_cli("diff", "--base", "main", "--format", "json", root=example_repo)
    second = run_cli("diff", "--base", "main", "--format", "json", root=example_repo)

    assert first.exit_code == 0, first.stderr
    assert first.stdout == second.stdout
    data = json.loads(first.stdout)
    assert first.stdout == json.dumps(data, sort_keys=True, indent=2, ensure_ascii=False) + "\n"
    assert [(o["environment"], o["model"], o["change"]) for o in data["overlays"]] == [
        ("dev", "digits-classifier", "removed"),
        ("staging", "digits-classifier", "removed"),
        ("prod", "diabetes-regressor", "changed"),
        ("prod", "digits-classifier", "removed"),
    ]
    memory = data["overlays"][2]["objects"][0]["fields"][0]
    assert memory == {
        "new": "2Gi",
        "old": "1Gi",
        "path": "spec.template.spec.containers[server].resources.limits.memory",
    }


def test_a_changed_aggregator_restarts_every_pod_with_the_sidecar_and_says_so(
    example_repo: Path,
) -> None:
    """The Fluentd configuration is generated per overlay with a content hash: a new
    aggregator port is a new ConfigMap name in each sidecar pod's template, i.e. a restart."""
    prod_aggregator = "fluentd-aggregator.logging.svc.cluster.local, port: 2422"
    edit(example_repo / "environments.yaml", prod_aggregator + "4", prod_aggregator + "5")

    outcome = run_cli("diff", "--base", "main", "--format", "json", root=example_repo)

    assert outcome.exit_code == 0, outcome.stderr
    data = json.loads(outcome.stdout)
    assert [(r["environment"], r["model"], r["kind"]) for r in data["restarts"]] == [
        ("prod", "diabetes-regressor", "Deployment")
    ]
    (restart,) = data["restarts"]
    assert restart["causes"] == ["ConfigMap/mlgitops-fluentd"]
    text = run_cli("diff", "--base", "main", root=example_repo).stdout
    assert (
        "restart prod/diabetes-regressor: Deployment diabetes-regressor rolls its pods "
        "(ConfigMap/mlgitops-fluentd changed)"
    ) in text.splitlines()
    markdown = run_cli("diff", "--base", "main", "--format", "markdown", root=example_repo)
    assert (
        "- `prod/diabetes-regressor`: Deployment diabetes-regressor rolls its pods "
        "(ConfigMap/mlgitops-fluentd changed)"
    ) in markdown.stdout.splitlines()


def test_a_dashboard_change_restarts_nothing(example_repo: Path) -> None:
    """Grafana reads dashboards; the model's pods do not: a changed SLO changes the dashboard
    and the alert rules, and no pod restarts."""
    edit(
        example_repo / "models/iris-classifier/model.yaml",
        "slo: {minAccuracy: 0.9}",
        "slo: {minAccuracy: 0.9, latencyP99Ms: 250}",
    )

    data = json.loads(
        run_cli("diff", "--base", "main", "--format", "json", root=example_repo).stdout
    )

    assert data["changed"] is True
    assert data["restarts"] == []
