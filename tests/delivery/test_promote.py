from __future__ import annotations

import pytest

from generator.delivery.promote import PromotionError, describe, plan_promotion
from generator.load.release import Pin, Release

ORDER = ("dev", "staging", "prod")
DEV = Pin("r/iris", "sha256:" + "a" * 64, "1.1", "2025-01-02T00:00:00Z")
STAGING = Pin("r/iris", "sha256:" + "b" * 64, "1.0", "2025-01-01T00:00:00Z")
NOW = "2025-03-03T00:00:00Z"


def test_promotes_from_the_previous_environment_by_default() -> None:
    release = Release("iris", {"dev": DEV, "staging": STAGING})
    promotion = plan_promotion(release, ORDER, "staging", source=None, pinned_at=NOW)
    assert (promotion.source, promotion.before) == ("dev", STAGING)
    assert promotion.after == Pin(DEV.image, DEV.digest, "1.1", NOW)
    assert describe(promotion) == (
        "iris: promote dev -> staging\n"
        f"  - r/iris@{STAGING.digest} (version 1.0)\n"
        f"  + r/iris@{DEV.digest} (version 1.1)"
    )


def test_explicit_source_skips_an_environment() -> None:
    release = Release("iris", {"dev": DEV})
    promotion = plan_promotion(release, ORDER, "prod", source="dev", pinned_at=NOW)
    assert promotion.source == "dev"
    assert promotion.before is None
    assert describe(promotion).splitlines()[1] == "  - (none)"


def test_same_digest_is_no_change_and_keeps_the_old_pin_time() -> None:
    release = Release("iris", {"dev": DEV, "staging": DEV})
    promotion = plan_promotion(release, ORDER, "staging", source=None, pinned_at=NOW)
    assert not promotion.changed
    assert promotion.after == DEV
    assert "nothing to change" in describe(promotion)


@pytest.mark.parametrize(
    ("pins", "target", "source", "message"),
    [
        pytest.param(
            {},
            "staging",
            None,
            "model 'iris' has no image pinned in 'dev'; run `mlgitops build --push` first",
            id="no-source-pin",
        ),
        pytest.param(
            {"dev": DEV},
            "prod",
            None,
            "model 'iris' has no image pinned in 'staging'; promote to 'staging' first",
            id="gap-in-chain",
        ),
        pytest.param(
            {"dev": DEV},
            "dev",
            None,
            "'dev' is the first environment; `mlgitops build --push` pins it, "
            "or name a source with --from",
            id="first-environment",
        ),
        pytest.param(
            {"dev": DEV},
            "qa",
            None,
            "unknown environment 'qa'; known: dev, staging, prod",
            id="unknown-target",
        ),
        pytest.param(
            {"dev": DEV},
            "prod",
            "qa",
            "unknown environment 'qa'; known: dev, staging, prod",
            id="unknown-source",
        ),
        pytest.param(
            {"dev": DEV}, "dev", "dev", "--from and --to both name 'dev'", id="same-environment"
        ),
    ],
)
def test_refusals_say_how_to_fix_them(
    pins: dict[str, Pin], target: str, source: str | None, message: str
) -> None:
    with pytest.raises(PromotionError) as caught:
        plan_promotion(Release("iris", pins), ORDER, target, source=source, pinned_at=NOW)
    assert str(caught.value) == message


def test_the_gpu_digest_travels_with_the_cpu_digest() -> None:
    dev = Pin("r/digits", DEV.digest, "1.1", DEV.pinned_at, "sha256:" + "c" * 64)
    staging_without_gpu = Pin("r/digits", DEV.digest, "1.1", STAGING.pinned_at)
    release = Release("digits", {"dev": dev, "staging": staging_without_gpu})
    promotion = plan_promotion(release, ORDER, "staging", source=None, pinned_at=NOW)
    assert promotion.changed, "a new GPU digest alone is a change"
    assert promotion.after == Pin("r/digits", dev.digest, "1.1", NOW, dev.gpu_digest)
    assert describe(promotion).splitlines()[-1] == f"  + r/digits@{dev.gpu_digest} (GPU)"
