"""Delivery: build one image per model, pin its digest in release.yaml, promote pins.

Kept apart from the manifest generator because it is the only part that talks to a Docker
engine and a registry; the generator reads release.yaml and never needs either.
"""
