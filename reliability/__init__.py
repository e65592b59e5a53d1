"""The reliability campaign: hostile inputs, faults and load against the real generator and
server. ``tests/reliability`` runs a few cases of each class in ``make test``; ``python -m
reliability`` (``make reliability``) runs many and writes docs/reliability.md."""
