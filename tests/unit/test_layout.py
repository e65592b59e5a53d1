"""layout.py: the one place that maps paths to models and environments and back."""

from __future__ import annotations

import pytest

from generator.layout import (
    base_dir,
    generated_model_of,
    input_model_of,
    models_in_focus,
    namespace_dir,
    overlay_dir,
    overlay_inputs,
    overlay_of,
)


@pytest.mark.parametrize(
    ("path", "overlay", "model"),
    [
        ("overlays/prod/fraud/kustomization.yaml", ("prod", "fraud"), "fraud"),
        ("overlays/prod/_namespace/namespace.yaml", ("prod", "_namespace"), "_namespace"),
        ("base/fraud/deployment.yaml", None, "fraud"),
        ("components/prod/gpu-pool/kustomization.yaml", None, None),
        ("clusters/argocd/prod/applicationset.yaml", None, None),
        ("overlays/prod", None, None),
    ],
)
def test_generated_paths_map_back_to_their_overlay_and_model(
    path: str, overlay: tuple[str, str] | None, model: str | None
) -> None:
    assert overlay_of(path) == overlay
    assert generated_model_of(path) == model


def test_the_folders_round_trip() -> None:
    assert overlay_of(overlay_dir("dev", "iris") + "/x.yaml") == ("dev", "iris")
    assert generated_model_of(base_dir("iris") + "/x.yaml") == "iris"
    assert overlay_of(namespace_dir("dev") + "/x.yaml") == ("dev", "_namespace")
    assert overlay_inputs("dev", "iris") == ("overlays/dev/iris/", "base/iris/", "components/dev/")


@pytest.mark.parametrize(
    ("changed", "focus"),
    [
        (["models/fraud/model.yaml", "models/fraud/model.onnx"], {"fraud"}),
        (["models/fraud/model.yaml", "models/iris/release.yaml", "README.md"], {"fraud", "iris"}),
        (["docs/model-yaml.md"], set()),
        (["models/fraud/model.yaml", "environments.yaml"], None),
        (["schemas/model.schema.json"], None),
        (["generator/render/base.py"], None),
        (["models"], set()),
    ],
)
def test_models_in_focus(changed: list[str], focus: set[str] | None) -> None:
    assert models_in_focus(changed) == focus


def test_input_paths_map_to_their_model() -> None:
    assert input_model_of("models/fraud/model.yaml") == "fraud"
    assert input_model_of("models/fraud") is None
    assert input_model_of("base/fraud/deployment.yaml") is None
