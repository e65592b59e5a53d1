from __future__ import annotations

import tarfile
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest

from generator.delivery.context import content_hash, context_files, context_tar
from generator.delivery.images import runtime_tag, settings_from_environment
from generator.delivery.registry import RegistryError, base_url, split_reference

Tree = Callable[[Mapping[str, str | bytes]], Path]
FILES = {
    "serving/app.py": "app",
    "serving/__pycache__/app.cpython-311.pyc": b"\0",
    "pyproject.toml": "[project]",
    "README.md": "readme",
    "models/a/model.onnx": b"onnx",
}


def test_context_lists_only_the_named_paths_without_caches(tree: Tree) -> None:
    root = tree(FILES)
    assert context_files(root, ["serving", "pyproject.toml", "missing"]) == [
        "pyproject.toml",
        "serving/app.py",
    ]


def test_tar_is_reproducible_and_carries_extra_members(tree: Tree) -> None:
    root = tree(FILES)
    files = context_files(root, ["serving"])
    first = context_tar(root, files, {"build-ca.pem": b"pem"}).getvalue()
    (root / "serving/app.py").touch()
    assert context_tar(root, files, {"build-ca.pem": b"pem"}).getvalue() == first
    with tarfile.open(fileobj=context_tar(root, files, {"build-ca.pem": b"pem"})) as archive:
        assert archive.getnames() == ["serving/app.py", "build-ca.pem"]


def test_runtime_tag_follows_content_and_base_image(tree: Tree) -> None:
    root = tree(FILES)
    plain = settings_from_environment(None, {})
    tag = runtime_tag(root, plain)
    assert tag.startswith("mlgitops-runtime:") and len(tag.split(":")[1]) == 16
    (root / "models/a/model.onnx").write_bytes(b"other")
    assert runtime_tag(root, plain) == tag
    assert runtime_tag(root, settings_from_environment("debian:12", {})) != tag
    (root / "serving/app.py").write_text("app2")
    assert runtime_tag(root, plain) != tag


def test_the_gpu_runtime_has_its_own_repository_and_follows_its_own_base(tree: Tree) -> None:
    root = tree(FILES)
    plain = settings_from_environment(None, {})
    gpu = runtime_tag(root, plain, "gpu")
    assert gpu.startswith("mlgitops-runtime-gpu:")
    assert gpu.split(":")[1] != runtime_tag(root, plain).split(":")[1]
    assert runtime_tag(root, settings_from_environment("debian:12", {}), "gpu") == gpu
    mirrored = settings_from_environment(None, {}, gpu_base_image="mirror/cuda:13")
    assert runtime_tag(root, mirrored, "gpu") != gpu
    assert runtime_tag(root, mirrored) == runtime_tag(root, plain)


def test_renamed_file_changes_the_hash(tree: Tree) -> None:
    root = tree({"a": "x", "b": "x"})
    assert content_hash(root, ["a"]) != content_hash(root, ["b"])


def test_only_http_indexes_and_the_pip_bundle_reach_the_build() -> None:
    settings = settings_from_environment(
        "base",
        {
            "PIP_CERT": "/etc/ssl/bundle.pem",
            "PIP_EXTRA_INDEX_URL": "file:///opt/pypi/simple https://mirror.example/simple",
            "PIP_INDEX_URL": "file:///local",
            "PIP_DEFAULT_TIMEOUT": "180",
        },
    )
    assert settings.ca_bundle == Path("/etc/ssl/bundle.pem")
    assert settings.pip_settings == {
        "PIP_EXTRA_INDEX_URL": "https://mirror.example/simple",
        "PIP_DEFAULT_TIMEOUT": "180",
    }


@pytest.mark.parametrize(
    ("repository", "expected"),
    [
        ("127.0.0.1:5055/ml/iris", ("http://127.0.0.1:5055", "ml/iris")),
        ("localhost/iris", ("http://localhost", "iris")),
        ("ghcr.io/acme/iris", ("https://ghcr.io", "acme/iris")),
    ],
)
def test_registry_address(repository: str, expected: tuple[str, str]) -> None:
    host, path = split_reference(repository)
    assert (base_url(host), path) == expected


def test_repository_without_registry_host_is_refused() -> None:
    with pytest.raises(RegistryError, match="does not start with a registry host"):
        split_reference("acme/iris")
