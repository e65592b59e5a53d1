"""Inputs whose values the Kubernetes API server would refuse (or that would never start) are
refused by ``mlgitops validate`` at the input's own line and column, with the fix; and the walker
over every rendered object (`generator.verify.fields`) refuses what no input check knows about."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from generator.layout import RepoLayout
from generator.pipeline import make_plan
from generator.render.tree import RenderedFile
from generator.verify.fields import built_problems, object_findings, rendered_problems
from generator.verify.names import normalized_basename
from tests.conftest import run_cli
from tests.generator.conftest import ENVIRONMENTS_YAML, RepoFactory, model_yaml

MODEL = "models/fraud/model.yaml"
GPU_TOLERATION = "tolerations: [{key: nvidia.com/gpu, operator: Exists, effect: NoSchedule}]"


def errors_of(make_repo: RepoFactory, files: dict[str, str]) -> str:
    outcome = run_cli("validate", "--skip-build", root=make_repo(files))
    assert outcome.exit_code == 1, outcome.stderr
    return outcome.stderr


def test_zero_cpu_and_memory_in_bytes_are_refused_with_the_fix(make_repo: RepoFactory) -> None:
    stderr = errors_of(make_repo, {MODEL: model_yaml(resources='{cpu: "0", memory: "256"}')})

    assert stderr == (
        f"{MODEL}:9:20: a CPU request of '0' leaves the HorizontalPodAutoscaler unable to compute "
        "utilisation (it divides usage by the request), so it never scales\n"
        "  hint: request the CPU one replica needs, e.g. cpu: 250m\n"
        f"{MODEL}:9:33: memory '256' is 256 bytes (no unit means bytes); the container would be "
        "killed as it starts\n"
        "  hint: did you mean 256Mi?\n"
    )


@pytest.mark.parametrize("cpu", ["0.0", "000", "0.000"])
def test_every_spelling_of_zero_cpu_is_refused(make_repo: RepoFactory, cpu: str) -> None:
    stderr = errors_of(make_repo, {MODEL: model_yaml(resources=f'{{cpu: "{cpu}", memory: 1Gi}}')})
    assert f"a CPU request of '{cpu}' leaves the HorizontalPodAutoscaler" in stderr


def test_zero_cpu_from_an_environment_default_points_at_the_default(
    make_repo: RepoFactory,
) -> None:
    platform = ENVIRONMENTS_YAML.replace(
        "      scaling: {minReplicas: 1, maxReplicas: 2}",
        '      scaling: {minReplicas: 1, maxReplicas: 2}\n      resources: {cpu: "0"}',
    )
    model = model_yaml(resources="{memory: 1Gi}")
    stderr = errors_of(make_repo, {"environments.yaml": platform, MODEL: model})
    assert stderr.startswith("environments.yaml:20:24: a CPU request of '0'")


def test_workers_that_cannot_fit_in_memory_are_refused_with_the_arithmetic(
    make_repo: RepoFactory,
) -> None:
    model = model_yaml(resources="{cpu: 250m, memory: 256Mi}", spec="server: {workers: 16}")

    stderr = errors_of(make_repo, {MODEL: model})

    assert stderr == (
        f"{MODEL}:9:34: memory 256Mi is less than fraud needs as it starts: 60 MiB (server "
        "master) + 16 worker(s) x (44 MiB + 2.1 x 56 bytes artifact while loading) = 764 MiB; "
        "every start would be OOM-killed\n"
        "  hint: set memory: 768Mi, or at most 4 worker(s) (server.workers)\n"
    )


def test_memory_below_what_the_artifact_needs_to_load_is_refused(
    make_repo: RepoFactory,
) -> None:
    artifact = b"\0" * (64 * 2**20)  # 64 MiB: 2.1 x 64 MiB at load, in each of 2 workers
    model = model_yaml(sha256=hashlib.sha256(artifact).hexdigest(), resources="{memory: 256Mi}")
    outcome = run_cli(
        "validate",
        "--skip-build",
        root=make_repo({MODEL: model, "models/fraud/model.onnx": artifact}),
    )
    assert outcome.exit_code == 1
    assert outcome.stderr == (
        f"{MODEL}:9:23: memory 256Mi is less than fraud needs as it starts: 60 MiB (server "
        "master) + 2 worker(s) x (44 MiB + 2.1 x 64 MiB artifact while loading) = 416.8 MiB; "
        "every start would be OOM-killed\n"
        "  hint: set memory: 448Mi, or at most 1 worker(s) (server.workers)\n"
    )


def test_node_pool_values_are_held_to_label_and_toleration_rules(make_repo: RepoFactory) -> None:
    platform = ENVIRONMENTS_YAML.replace(
        GPU_TOLERATION,
        "tolerations: [{key: nvidia.com/gpu, operator: Exists, value: x}, {operator: Equal}, "
        "{key: k, tolerationSeconds: 5, effect: NoSchedule}]\n"
        "        resourceName: kubernetes.io/gpu",
    ).replace("nodeSelector: {pool: gpu}", "nodeSelector: {pool: gpu pool}")

    stderr = errors_of(make_repo, {"environments.yaml": platform, MODEL: model_yaml()})

    assert stderr.splitlines() == [
        "environments.yaml:26:30: nodeSelector pool='gpu pool' is not a valid label value: must "
        "be letters, digits, '-', '_' and '.', starting and ending with a letter or digit (a "
        "label value)",
        "  hint: use the node label's value exactly, such as cpu-prod",
        "environments.yaml:27:23: toleration 0 of nodePools.gpu: operator Exists matches any "
        "value: the value must be empty",
        "  hint: write it as the node's taint reads, e.g. {key: dedicated, operator: Equal, "
        "value: ml, effect: NoSchedule}",
        "environments.yaml:27:74: toleration 1 of nodePools.gpu: a toleration without a key "
        "must use operator Exists (it matches every taint)",
        "  hint: write it as the node's taint reads, e.g. {key: dedicated, operator: Equal, "
        "value: ml, effect: NoSchedule}",
        "environments.yaml:27:93: toleration 2 of nodePools.gpu: tolerationSeconds is allowed "
        "only with effect NoExecute",
        "  hint: write it as the node's taint reads, e.g. {key: dedicated, operator: Equal, "
        "value: ml, effect: NoSchedule}",
        "environments.yaml:28:23: resourceName 'kubernetes.io/gpu' is not an extended resource "
        "name: must not be in the kubernetes.io domain, which Kubernetes reserves",
        "  hint: use the name the device plugin advertises, such as nvidia.com/gpu",
    ]


def test_a_node_selector_key_that_is_no_label_key_is_refused_at_the_key(
    make_repo: RepoFactory,
) -> None:
    platform = ENVIRONMENTS_YAML.replace(
        "nodeSelector: {pool: gpu}", "nodeSelector: {example.com/: gpu}"
    )
    stderr = errors_of(make_repo, {"environments.yaml": platform, MODEL: model_yaml()})
    assert stderr.startswith(
        "environments.yaml:26:24: nodeSelector key 'example.com/' is not a valid label key: "
        "the name part must not be empty\n"
    )


@pytest.mark.parametrize("key", [".", "..", "..data"])
def test_a_secret_key_the_api_refuses_is_refused(make_repo: RepoFactory, key: str) -> None:
    model = model_yaml(spec=f"secretRefs: [{{env: DB, secret: db, key: '{key}'}}]")
    stderr = errors_of(make_repo, {MODEL: model})
    assert stderr.startswith(f"{MODEL}:10:43: secretRefs[0].key '{key}' is not a valid Secret key")


@pytest.mark.parametrize(
    ("version", "valid"), [("1.0.", False), ("1.0-", False), ("v1_", False), ("1.0-rc1", True)]
)
def test_a_version_is_a_label_value(make_repo: RepoFactory, version: str, valid: bool) -> None:
    model = model_yaml().replace('"1.0.0"', f'"{version}"')
    outcome = run_cli("validate", "--skip-build", root=make_repo({MODEL: model}))
    assert (outcome.exit_code == 0) is valid, outcome.stderr
    if not valid:
        assert outcome.stderr.startswith(f"{MODEL}:7:12: spec.version: '{version}' is not valid")


def test_a_model_name_starting_with_a_digit_is_refused_since_it_names_a_service(
    make_repo: RepoFactory,
) -> None:
    stderr = errors_of(make_repo, {"models/3d/model.yaml": model_yaml(name="3d")})
    assert stderr.startswith("models/3d/model.yaml:4:9: metadata.name: '3d' is not valid\n")


def test_names_two_inputs_would_both_generate_are_refused_for_both_controllers(
    make_repo: RepoFactory,
) -> None:
    """Argo CD names an Application <env>-<folder> and Flux a Kustomization <env>-<model>: model
    b-c in environment a and model c in environment a-b would share one name."""
    platform = ENVIRONMENTS_YAML.replace("name: dev\n", "name: a\n").replace(
        "name: prod\n", "name: a-b\n"
    )
    files = {
        "environments.yaml": platform,
        "models/b-c/model.yaml": model_yaml(name="b-c"),
        "models/c/model.yaml": model_yaml(name="c"),
    }

    stderr = errors_of(make_repo, files)

    assert stderr.splitlines() == [
        "models/b-c/model.yaml:4:9: Kustomization 'a-b-c' in namespace flux-system of "
        "https://kubernetes.default.svc is generated both for model c in environment a-b and for "
        "model b-c in environment a; one would overwrite the other [k8s-api]",
        "  hint: rename the model or the environment so the generated names differ",
        "models/c/model.yaml:4:9: Application 'a-b-c' in namespace argocd of the Argo CD cluster "
        "is generated both for model b-c in environment a and for model c in environment a-b; "
        "one would overwrite the other [k8s-api]",
        "  hint: rename the model or the environment so the generated names differ",
    ]


def test_a_model_named_like_an_object_of_the_namespace_is_refused(make_repo: RepoFactory) -> None:
    name = "default-deny-ingress"
    stderr = errors_of(make_repo, {f"models/{name}/model.yaml": model_yaml(name=name)})
    assert stderr.splitlines()[0] == (
        f"models/{name}/model.yaml:4:9: NetworkPolicy '{name}' in namespace ml-dev of "
        f"https://kubernetes.default.svc is generated both for model {name} in environment dev "
        "and for environment dev; one would overwrite the other [k8s-api]"
    )


def test_argocd_normalizes_folder_names_as_its_basename_normalized() -> None:
    assert normalized_basename("_namespace") == "-namespace"
    assert normalized_basename("fraud") == "fraud"


def test_the_valid_example_repository_has_no_findings() -> None:
    root = Path(__file__).resolve().parents[2]
    plan = make_plan(RepoLayout(root))
    assert plan.problems == []
    assert plan.files, "the example repository renders files"


def test_the_walker_refuses_a_rendered_value_and_locates_its_input(make_repo: RepoFactory) -> None:
    """A value no input check knows about (here: an owner made a label value that is too long,
    written straight into a rendered object) is found in the rendered object and reported at
    the input scalar it came from."""
    root = make_repo({MODEL: model_yaml(owner="team-risk")})
    plan = make_plan(RepoLayout(root))
    assert plan.platform is not None and plan.problems == []
    deployment = next(f for f in plan.files if f.path == "base/fraud/deployment.yaml")
    broken = dict(deployment.obj)
    broken["metadata"] = {**broken["metadata"], "labels": {"mlgitops.io/owner": "team-risk-"}}
    file = RenderedFile(deployment.path, deployment.text, broken, deployment.sources)

    problems = rendered_problems([file], plan.platform, plan.models)

    assert [(p.file, p.line, p.column, p.rule) for p in problems] == [(MODEL, 5, 10, "k8s-api")]
    assert problems[0].message == (
        "base/fraud/deployment.yaml: Deployment metadata.labels.mlgitops.io/owner 'team-risk-' "
        "would be refused by the Kubernetes API server: must be letters, digits, '-', '_' and "
        "'.', starting and ending with a letter or digit (a label value)"
    )


@pytest.mark.parametrize(
    ("obj", "expected"),
    [
        pytest.param(
            {"kind": "Service", "metadata": {"name": "1a"}},
            ["metadata.name"],
            id="service-name-dns1035",
        ),
        pytest.param(
            {"kind": "Deployment", "metadata": {"name": "a.b"}, "spec": {"template": {"spec": {
                "containers": [{"name": "s", "ports": [{"name": "http-port-too-long",
                                                         "containerPort": 0}]}]}}}},
            ["spec.template.spec.containers[0].ports[0].name",
             "spec.template.spec.containers[0].ports[0].containerPort"],
            id="container-ports",
        ),
        pytest.param(
            {"kind": "Deployment", "metadata": {"name": "a"}, "spec": {"template": {"spec": {
                "containers": [{"name": "s"}, {"name": "s"}]}}}},
            ["spec.template.spec.containers"],
            id="container-names-unique",
        ),
        pytest.param(
            {"kind": "HorizontalPodAutoscaler", "metadata": {"name": "a"},
             "spec": {"minReplicas": 3, "maxReplicas": 2}},
            ["spec.maxReplicas"],
            id="hpa-bounds",
        ),
        pytest.param(
            {"kind": "ResourceQuota", "metadata": {"name": "q"},
             "spec": {"hard": {"requests.cpu": "-1", "requests.memory": "1Gi"}}},
            ["spec.hard.requests.cpu"],
            id="quota-quantity",
        ),
        pytest.param(
            {"apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization",
             "namespace": "Ml", "configMapGenerator": [{"name": "c", "literals": ["a/b=1"]}]},
            ["namespace", "configMapGenerator[0].literals"],
            id="kustomization-fields",
        ),
        pytest.param(
            {"kind": "NetworkPolicy", "metadata": {"name": "a"}, "spec": {"egress": [{"ports": [
                {"port": 53, "protocol": "UDP"}, {"port": 70000}, {"port": "dns--tcp"}]}]}},
            ["spec.egress[0].ports[1].port", "spec.egress[0].ports[2].port"],
            id="network-policy-ports",
        ),
        pytest.param(
            {"kind": "ConfigMap", "metadata": {"name": "a"}, "data": {"a b": "1", "ok": "2"}},
            ["data"],
            id="config-map-keys",
        ),
        pytest.param(
            {"kind": "Deployment", "metadata": {"name": "a"}, "spec": {"template": {
                "metadata": {"annotations": {"a": "x" * 300_000}}}}},
            ["spec.template.metadata.annotations"],
            id="annotation-size",
        ),
    ],
)  # fmt: skip
def test_the_walker_checks_each_field_by_its_rule(
    obj: dict[str, object], expected: list[str]
) -> None:
    assert [f.field for f in object_findings(obj)] == expected


def test_built_objects_are_walked_as_kustomize_applied_the_patches(
    make_repo: RepoFactory,
) -> None:
    """What the overlay's patches put into the Deployment is checked on the built object, and
    a refusal points at the overlay's inputs (here the HPA bound an override set)."""
    model = model_yaml(spec="environments: {dev: {scaling: {minReplicas: 1, maxReplicas: 2}}}")
    plan = make_plan(RepoLayout(make_repo({MODEL: model})))
    assert plan.platform is not None and plan.problems == []
    built = {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": "fraud", "namespace": "ml-dev"},
        "spec": {"minReplicas": 3, "maxReplicas": 2},
    }

    problems = built_problems(plan.files, plan.platform, plan.models, "overlays/dev/fraud", [built])

    assert [(p.file, p.line, p.column) for p in problems] == [(MODEL, 10, 63)]
    assert problems[0].message == (
        "overlays/dev/fraud: built HorizontalPodAutoscaler fraud spec.maxReplicas '2' would be "
        "refused by the Kubernetes API server: must not be less than minReplicas"
    )
