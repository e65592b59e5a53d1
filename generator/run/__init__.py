"""The run stage: `mlgitops up` plays the built pod of one model in one environment in a real
container runtime (Podman), as a cluster would run it; `mlgitops down` stops it.

``pod`` decides what is played (pure), ``podman`` drives the runtime, ``images`` and
``overlay`` fetch the inputs from the earlier stages, ``aggregator`` stands in for the
environment's log aggregator, ``up`` orchestrates and ``command`` holds the click commands.
"""
