"""Third-party manifest scanners (Checkov, Trivy) over every built overlay, with a committed
skip list: what users' security teams run, run by ``make test``."""
