"""Promotion as pure data: which pin moves from which environment to which, and what changes.

Promotion copies a digest that was already built and tested; it never rebuilds, so what runs
in prod is byte for byte what ran in staging.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from generator.errors import MlgitopsError
from generator.load.release import Pin, Release


class PromotionError(MlgitopsError):
    """The request cannot be carried out; the message says how to fix it."""


@dataclass(frozen=True)
class Promotion:
    model: str
    source: str
    target: str
    before: Pin | None
    after: Pin

    @property
    def changed(self) -> bool:
        return self.before is None or not self.before.same_images(self.after)


def source_environment(order: Sequence[str], target: str, explicit: str | None) -> str:
    """The environment right before ``target`` in promotion order, unless one is named."""
    if target not in order:
        raise PromotionError(f"unknown environment {target!r}; known: {', '.join(order)}")
    if explicit is not None:
        if explicit not in order:
            raise PromotionError(f"unknown environment {explicit!r}; known: {', '.join(order)}")
        if explicit == target:
            raise PromotionError(f"--from and --to both name {target!r}")
        return explicit
    index = order.index(target)
    if index == 0:
        raise PromotionError(
            f"{target!r} is the first environment; `mlgitops build --push` pins it, "
            "or name a source with --from"
        )
    return order[index - 1]


def plan_promotion(
    release: Release, order: Sequence[str], target: str, *, source: str | None, pinned_at: str
) -> Promotion:
    origin = source_environment(order, target, source)
    pin = release.pin(origin)
    if pin is None:
        hint = (
            "run `mlgitops build --push` first"
            if origin == order[0]
            else f"promote to {origin!r} first"
        )
        raise PromotionError(f"model {release.model!r} has no image pinned in {origin!r}; {hint}")
    before = release.pin(target)
    after = Pin(pin.image, pin.digest, pin.version, pinned_at, pin.gpu_digest)
    if before is not None and before.same_images(pin):
        after = before
    return Promotion(release.model, origin, target, before, after)


def describe(promotion: Promotion) -> str:
    """The change as a reviewer reads it: old and new reference per line."""
    after = promotion.after
    if not promotion.changed:
        gpu = f" and {after.gpu_reference} on GPU" if after.gpu_reference else ""
        return (
            f"{promotion.model}: {promotion.target} already runs {after.reference}{gpu} "
            f"(version {after.version}); nothing to change"
        )
    lines = [f"{promotion.model}: promote {promotion.source} -> {promotion.target}"]
    before = promotion.before
    if before is None:
        lines.append("  - (none)")
    else:
        lines.append(f"  - {before.reference} (version {before.version})")
        if before.gpu_reference:
            lines.append(f"  - {before.gpu_reference} (GPU)")
    lines.append(f"  + {after.reference} (version {after.version})")
    if after.gpu_reference:
        lines.append(f"  + {after.gpu_reference} (GPU)")
    return "\n".join(lines)
