"""The trial of a compiled HTTP layer (issue 14's "one step toward ONNX Runtime's floor"): our
own WSGI application, exactly as `mlgitops-serve` builds it (`serving.app.create_app`, the
inference fast path, metrics, access log), served by granian's Rust HTTP server instead of
gunicorn and `serving.worker`.

    granian --interface wsgi --workers 2 --blocking-threads 1 bench.granian_app:app

Settings come from the same environment variables as the server's (`serving.settings`). Only
the benchmark uses this module: granian does not give what the worker does (readiness slots,
the drain on SIGTERM, a listener that outlives a worker, MAX_REQUEST_BYTES and BODY_TIMEOUT
applied while a request arrives), so it is measured here, not served.
"""

from __future__ import annotations

import os

from serving.settings import settings_from_env

settings = settings_from_env()
# prometheus-client picks its multiprocess store at import, from this variable.
os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", settings.metrics_dir)
os.makedirs(settings.metrics_dir, exist_ok=True)

from serving.app import create_app  # noqa: E402 - after the variable above

app = create_app(settings)
