"""The scanner gate of ``make test``: the skip list's own rules, and a real Checkov and Trivy
run that turns one new defect into a failure."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from scanners.run import run_scanners
from scanners.skips import Finding, Skip, SkipListError, judge, load_skips

REPO_ROOT = Path(__file__).resolve().parents[2]
SCAN_VENV = REPO_ROOT / ".venv-scan"


def _skip(check: str = "CKV_K8S_11", objects: tuple[str, ...] = ("Deployment/*/*",)) -> Skip:
    return Skip("checkov", check, objects, "no CPU limit by design", 3)


def test_a_finding_the_list_does_not_cover_is_unexpected_and_an_unused_entry_is_stale() -> None:
    covered = Finding("checkov", "CKV_K8S_11", "Deployment/ml-dev/iris", "CPU limits", "x")
    new = Finding("checkov", "CKV_K8S_19", "Deployment/ml-dev/iris", "host network", "x")
    other_kind = Finding("checkov", "CKV_K8S_11", "StatefulSet/ml-dev/iris", "CPU limits", "x")
    stale = _skip("CKV_K8S_8")
    verdict = judge([covered, new, other_kind], [_skip(), stale], ("checkov", "trivy"))
    assert verdict.skipped == (covered,)
    assert verdict.unexpected == (new, other_kind)
    assert verdict.stale == (stale,)
    assert not verdict.ok
    assert judge([covered], [_skip()], ("checkov",)).ok


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        (
            "  - {tool: checkov, check: CKV_K8S_11, objects: [Deployment/*/*]}",
            "an entry has exactly tool, check, objects and reason",
        ),
        (
            "  - {tool: kubescape, check: C-1, objects: [a/b/c], reason: because we say so}",
            "tool must be one of checkov, trivy",
        ),
        (
            "  - {tool: trivy, check: KSV011, objects: [Deployment], reason: because we say so}",
            "objects is a list of Kind/namespace/name patterns",
        ),
        (
            "  - {tool: trivy, check: KSV011, objects: [Deployment/*/*], reason: by design}",
            "give the reason in a sentence",
        ),
    ],
)
def test_every_entry_names_check_objects_and_reason(
    tmp_path: Path, entry: str, message: str
) -> None:
    path = tmp_path / "skips.yaml"
    path.write_text(
        "skips:\n  - {tool: checkov, check: A, objects: [a/b/c], reason: a b c d}\n" + entry + "\n"
    )
    with pytest.raises(SkipListError) as error:
        load_skips(path)
    assert str(error.value) == f"{path}:3:5: {message}"


def test_the_committed_skip_list_is_well_formed() -> None:
    skips = load_skips(REPO_ROOT / "scanners" / "skips.yaml")
    assert {(s.tool, s.check) for s in skips} == {
        ("checkov", "CKV_K8S_11"),
        ("trivy", "KSV011"),
        ("checkov", "CKV_K8S_8"),
        ("checkov", "CKV_K8S_9"),
        ("checkov", "CKV_K8S_35"),
    }


@pytest.mark.skipif(
    not SCAN_VENV.is_dir() and os.environ.get("CI") != "true",
    reason="the scanners live in .venv-scan (make scan installs them; CI always has them)",
)
def test_a_new_defect_in_a_built_overlay_fails_both_scanners(tmp_path: Path) -> None:
    for part in ("base", "components", "overlays"):
        shutil.copytree(REPO_ROOT / part, tmp_path / part)
    deployment = tmp_path / "base" / "iris-classifier" / "deployment.yaml"
    text = deployment.read_text()
    marker = "      automountServiceAccountToken: false\n"
    assert marker in text
    deployment.write_text(text.replace(marker, marker + "      hostIPC: true\n", 1))

    runs = run_scanners(tmp_path, SCAN_VENV)

    skips = load_skips(REPO_ROOT / "scanners" / "skips.yaml")
    verdict = judge((f for run in runs for f in run.findings), skips, ("checkov", "trivy"))
    new = {(f.tool, f.check, f.obj) for f in verdict.unexpected}
    for env in ("dev", "staging", "prod"):
        assert ("checkov", "CKV_K8S_18", f"Deployment/ml-{env}/iris-classifier") in new
        assert ("trivy", "KSV008", f"Deployment/ml-{env}/iris-classifier") in new
    assert {check for _, check, _ in new} == {"CKV_K8S_18", "KSV008"}
    assert verdict.stale == ()
    assert {run.name for run in runs} == {"checkov kubernetes", "checkov kustomize", "trivy config"}
