"""render/overlay.py: one environment's small overlay of one model."""

from __future__ import annotations

from generator.layout import base_dir, component_dir
from generator.render.components import FLUENTD, GPU_POOL
from generator.render.overlay import components_for, render_overlay
from tests.unit.render.conftest import SpecsFactory


def test_the_overlay_points_at_its_base_and_patches_only_the_deltas(
    specs: SpecsFactory,
) -> None:
    made = specs(spec="environments: {prod: {scaling: {minReplicas: 3, maxReplicas: 5}}}")
    prod = made.deployments["prod"]

    overlay = render_overlay(prod, made.base, [])

    assert overlay["namespace"] == prod.environment.namespace
    assert f"../../../{base_dir('fraud')}" in overlay["resources"]
    patched = [p.get("patch", "") for p in overlay.get("patches", [])]
    assert any("minReplicas: 3" in text and "maxReplicas: 5" in text for text in patched)


def test_components_follow_the_accelerator_and_the_logging(specs: SpecsFactory) -> None:
    made = specs(spec="logging: {fluentd: true}\nenvironments: {prod: {accelerator: gpu}}")
    prod, dev = made.deployments["prod"], made.deployments["dev"]

    assert f"../../../{component_dir('prod', GPU_POOL)}" in components_for(prod)
    assert f"../../../{component_dir('dev', GPU_POOL)}" not in components_for(dev)
    fluentd = [
        name
        for name, spec in made.deployments.items()
        if f"../../../{component_dir(name, FLUENTD)}" in components_for(spec)
    ]
    assert fluentd == [e.name for e in made.platform.environments if e.fluentd is not None]
