"""Local ephemeral storage: the emptyDir size limits and the containers' storage bounds, from
one table, so a container's ``ephemeral-storage`` limit always covers what it may write.

The kubelet evicts a pod whose emptyDirs, container logs and writable layers together exceed
the sum of its containers' ephemeral-storage limits, and a single emptyDir that exceeds its own
``sizeLimit`` (Kubernetes docs, "Local ephemeral storage"). A container's bound is therefore
the size limits of the emptyDirs it writes plus its own log files: the kubelet rotates those at
``containerLogMaxSize`` (10Mi) x ``containerLogMaxFiles`` (5) by default, 50Mi, rounded up to
64Mi here. Root filesystems are read-only, so the writable layer stays empty.
"""

from __future__ import annotations

from typing import Any

from generator.quantities import format_bytes, memory_bytes

TMP_VOLUME_SIZE = "256Mi"
"""The server's /tmp (Prometheus multiprocess files, ONNX Runtime scratch)."""
LOG_VOLUME_SIZE = "512Mi"
"""The server's log file, which the Fluentd sidecar tails."""
BUFFER_VOLUME_SIZE = "256Mi"
"""Fluentd's file buffer and tail position."""
CONTAINER_LOG_ALLOWANCE = "64Mi"
"""What the kubelet's rotated stdout/stderr files of one container may take."""


def ephemeral_bound(*written_volume_sizes: str) -> str:
    """The ephemeral-storage quantity a container needs: the ``sizeLimit`` of each emptyDir it
    writes plus its own log files. Quantities in, one binary-suffixed quantity out."""
    total = sum(memory_bytes(size) for size in (*written_volume_sizes, CONTAINER_LOG_ALLOWANCE))
    return format_bytes(total)


def empty_dir(name: str, size: str) -> dict[str, Any]:
    """An emptyDir volume bounded by ``size`` (one of the sizes above)."""
    return {"name": name, "emptyDir": {"sizeLimit": size}}
