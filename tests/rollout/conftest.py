"""The generator tests' temporary repositories, for the rollout tests."""

from tests.generator.conftest import make_repo

__all__ = ["make_repo"]
