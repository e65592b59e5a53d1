"""errors.py: one root exception carrying its exit code; every other derives from it."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import generator
from generator.errors import ExitCode, MlgitopsError
from generator.git import GitError
from generator.problems import InputError
from generator.verify.kustomize import KustomizeMissing


def _exception_classes() -> list[type[BaseException]]:
    found = []
    for info in pkgutil.walk_packages(generator.__path__, "generator."):
        module = importlib.import_module(info.name)
        for _, value in inspect.getmembers(module, inspect.isclass):
            if issubclass(value, BaseException) and value.__module__ == module.__name__:
                found.append(value)
    return found


def test_every_exception_of_the_generator_derives_from_the_root() -> None:
    classes = _exception_classes()

    assert len(classes) >= 10
    assert MlgitopsError in classes
    assert [c.__qualname__ for c in classes if not issubclass(c, MlgitopsError)] == []


def test_exit_codes_are_the_documented_ones() -> None:
    assert [(code.name, int(code)) for code in ExitCode] == [
        ("OK", 0),
        ("INVALID", 1),
        ("USAGE", 2),
    ]
    assert InputError([]).exit_code is ExitCode.INVALID
    assert GitError("unknown git ref 'x'").exit_code is ExitCode.USAGE
    assert KustomizeMissing("kubectl not found").exit_code is ExitCode.USAGE
