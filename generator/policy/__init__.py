"""Policy: rules over the objects kustomize builds, so what is checked is what the cluster gets.

Each rule lives in its own module under ``rules/`` (yamllint's layout) and keeps a stable id;
``engine`` runs them and applies the waivers a model.yaml declares.
"""
