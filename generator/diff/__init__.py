"""``mlgitops diff``: what a change to the inputs does to the built manifests.

Reviewers read YAML inputs, but clusters run the kustomize output; this package renders both
sides with the ordinary pipeline, builds them with the real kustomize and compares the objects.
Stages: ``sources`` (inputs at a git ref), ``sides`` (render and build one side),
``compare`` (pure comparison into plain data), ``report`` (text, markdown and JSON);
``execute`` runs them for both sides.
"""
