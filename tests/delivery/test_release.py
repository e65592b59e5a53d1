from __future__ import annotations

from pathlib import Path

import pytest

from generator.load.release import (
    HEADER,
    Pin,
    Release,
    dump_release,
    read_release,
    write_release,
)
from generator.problems import InputError

DIGEST_A = "sha256:" + "a" * 64
DIGEST_B = "sha256:" + "b" * 64
ORDER = ("dev", "staging", "prod")

EXPECTED = (
    HEADER
    + """\
apiVersion: "mlgitops/v1"
kind: "Release"
model: "iris"
environments:
  dev:
    image: "127.0.0.1:5055/iris"
    digest: "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
    version: "1.0"
    pinnedAt: "2025-01-02T03:04:05Z"
  staging:
    image: "127.0.0.1:5055/iris"
    digest: "sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
    version: "0.9"
    pinnedAt: "2025-01-01T00:00:00Z"
"""
)


def _release() -> Release:
    return Release(
        "iris",
        {
            "staging": Pin("127.0.0.1:5055/iris", DIGEST_B, "0.9", "2025-01-01T00:00:00Z"),
            "dev": Pin("127.0.0.1:5055/iris", DIGEST_A, "1.0", "2025-01-02T03:04:05Z"),
        },
    )


def test_dump_orders_environments_by_promotion_order_and_quotes_strings() -> None:
    assert dump_release(_release(), ORDER) == EXPECTED


def test_written_file_reads_back_equal(tmp_path: Path) -> None:
    path = tmp_path / "release.yaml"
    write_release(path, _release(), ORDER)
    assert path.read_text() == EXPECTED
    assert read_release(path, "release.yaml", "iris") == _release()
    assert [p.name for p in tmp_path.iterdir()] == ["release.yaml"]


def test_missing_file_is_an_empty_release(tmp_path: Path) -> None:
    assert read_release(tmp_path / "release.yaml", "x", "iris") == Release("iris")


def test_with_pin_leaves_the_original_untouched() -> None:
    original = _release()
    pin = Pin("r/iris", DIGEST_B, "2", "2025-02-02T00:00:00Z")
    updated = original.with_pin("prod", pin)
    assert updated.pin("prod") == pin
    assert original.pin("prod") is None
    assert pin.reference == f"r/iris@{DIGEST_B}"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            EXPECTED.replace(DIGEST_A, "sha256:abc"),
            "release.yaml:8:13: digest 'sha256:abc' is not sha256:<64 hex digits>",
            id="short-digest",
        ),
        pytest.param(
            EXPECTED.replace('model: "iris"', 'model: "other"'),
            "release.yaml:4:8: model must be 'iris'",
            id="wrong-model",
        ),
        pytest.param(
            EXPECTED.replace('    version: "1.0"\n', ""),
            "release.yaml:6:3: missing field 'version'",
            id="missing-version",
        ),
        pytest.param(
            EXPECTED + "extra: 1\n",
            "release.yaml:16:1: unknown field 'extra'",
            id="unknown-field",
        ),
    ],
)
def test_invalid_release_is_reported_with_its_position(
    tmp_path: Path, text: str, expected: str
) -> None:
    path = tmp_path / "release.yaml"
    path.write_text(text)
    with pytest.raises(InputError) as caught:
        read_release(path, "release.yaml", "iris")
    assert [f"{p.location}: {p.message}" for p in caught.value.problems] == [expected]


def test_gpu_digest_is_written_after_the_cpu_digest_and_reads_back(tmp_path: Path) -> None:
    pin = Pin("r/digits", DIGEST_A, "2.0", "2025-01-02T03:04:05Z", DIGEST_B)
    release = Release("digits", {"prod": pin})
    path = tmp_path / "release.yaml"
    write_release(path, release, ORDER)
    lines = path.read_text().splitlines()
    assert lines.index(f'    digest: "{DIGEST_A}"') + 1 == lines.index(
        f'    gpuDigest: "{DIGEST_B}"'
    )
    assert read_release(path, "release.yaml", "digits") == release
    assert pin.digest_for("gpu") == DIGEST_B and pin.digest_for("cpu") == DIGEST_A
    assert pin.gpu_reference == f"r/digits@{DIGEST_B}"


def test_a_malformed_gpu_digest_is_reported_at_its_line(tmp_path: Path) -> None:
    path = tmp_path / "release.yaml"
    path.write_text(
        'apiVersion: "mlgitops/v1"\nkind: "Release"\nmodel: "digits"\nenvironments:\n'
        f'  dev:\n    image: "r/digits"\n    digest: "{DIGEST_A}"\n    gpuDigest: "sha256:12"\n'
        '    version: "1"\n    pinnedAt: "2025-01-01T00:00:00Z"\n'
    )
    with pytest.raises(InputError) as raised:
        read_release(path, "models/digits/release.yaml", "digits")
    [problem] = raised.value.problems
    assert (problem.file, problem.line) == ("models/digits/release.yaml", 8)
    assert "gpuDigest 'sha256:12' is not sha256:<64 hex digits>" in problem.message
