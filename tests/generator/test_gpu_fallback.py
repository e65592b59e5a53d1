"""A GPU deployment's server is told whether it may stay ready on the CPU: ORT_ALLOW_FALLBACK in
the ConfigMap that the real kustomize builds, from spec.server.allowCpuFallback (default false),
next to the CUDA-first ORT_PROVIDERS of the GPU pool component."""

from __future__ import annotations

from typing import Any

import pytest

from generator.layout import RepoLayout
from generator.load.yamlsource import load_all_core
from generator.pipeline import make_plan
from generator.verify.overlays import build_one
from tests.generator.conftest import RepoFactory, model_yaml


def built_server_env(make_repo: RepoFactory, spec: str, env: str) -> dict[str, Any]:
    plan = make_plan(RepoLayout(make_repo({"models/fraud/model.yaml": model_yaml(spec=spec)})))
    assert plan.problems == []
    result = build_one(plan, "fraud", env)
    assert result.ok, result.error
    objects = load_all_core(result.output)
    (config,) = [o for o in objects if o["kind"] == "ConfigMap"]
    (deployment,) = [o for o in objects if o["kind"] == "Deployment"]
    (server,) = [
        c for c in deployment["spec"]["template"]["spec"]["containers"] if c["name"] == "server"
    ]
    env_vars = {e["name"]: e.get("value") for e in server.get("env", [])}
    return dict(config["data"]) | env_vars


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("accelerator: gpu\nenvironments: {dev: {accelerator: cpu}}", "false"),
        (
            "accelerator: gpu\nserver: {allowCpuFallback: true}\n"
            "environments: {dev: {accelerator: cpu}}",
            "true",
        ),
    ],
)
def test_a_gpu_deployment_says_whether_it_may_fall_back(
    make_repo: RepoFactory, spec: str, expected: str
) -> None:
    prod = built_server_env(make_repo, spec, "prod")
    assert prod["ORT_PROVIDERS"] == "CUDAExecutionProvider,CPUExecutionProvider"
    assert prod["ORT_ALLOW_FALLBACK"] == expected
    dev = built_server_env(make_repo, spec, "dev")
    assert dev["ORT_PROVIDERS"] == "CPUExecutionProvider"
    assert "ORT_ALLOW_FALLBACK" not in dev
