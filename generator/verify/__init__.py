"""Stage verify: every rendered object against the Kubernetes and CRD schemas (``objects``),
every affected overlay built by the real kustomize, its objects validated and the policy run
on them (``overlays``)."""
