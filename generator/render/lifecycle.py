"""How long Kubernetes waits for a pod to stop, derived from the server's own shutdown.

On SIGTERM the server reports not ready and keeps serving for DRAIN_SECONDS, then closes its
listener and lets requests in flight finish within GRACEFUL_TIMEOUT (docs/serving.md). The
kubelet sends SIGKILL ``terminationGracePeriodSeconds`` after SIGTERM, so the grace period is
their sum plus a margin for the processes to exit and the log sidecar to flush; both variables
and the grace period are rendered from the same two fields of model.yaml (``spec.server``).
"""

from __future__ import annotations

SHUTDOWN_MARGIN_SECONDS = 10
"""Beyond drain + graceful timeout: gunicorn's master reaping its workers (a few seconds) and
the Fluentd sidecar forwarding what it read during the drain."""
DEFAULT_DRAIN_SECONDS = 5
DEFAULT_GRACEFUL_TIMEOUT_SECONDS = 30
"""The server's own defaults (serving/settings.py); a test holds the two sides equal."""


def termination_grace_period(drain_seconds: int, graceful_timeout_seconds: int) -> int:
    """Seconds from SIGTERM to SIGKILL that let the server finish its whole shutdown."""
    return drain_seconds + graceful_timeout_seconds + SHUTDOWN_MARGIN_SECONDS
