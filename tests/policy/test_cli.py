"""Policy through the real CLI: validate on temporary repositories, waivers, and the listing."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from tests.conftest import run_cli
from tests.policy.conftest import REPO_ROOT, EditModel

MODEL = "models/iris-classifier/model.yaml"
LATEST = "image 'registry.example.com/ml/iris-classifier:latest' uses the latest tag"


def latest(text: str) -> str:
    return text.replace('version: "1.0.0"', 'version: "latest"')


def with_waiver(rule: str, reason: str) -> Callable[[str], str]:
    def edit(text: str) -> str:
        waiver = f'  policy:\n    waivers: [{{rule: {rule}, reason: "{reason}"}}]\n'
        return latest(text).replace("  environments:\n", waiver + "  environments:\n")

    return edit


def test_the_example_repository_passes_the_policy() -> None:
    outcome = run_cli("validate", root=REPO_ROOT)

    assert (outcome.exit_code, outcome.stderr) == (0, "")


def test_a_finding_fails_validation_pointing_at_model_yaml(iris_repo: EditModel) -> None:
    root = iris_repo(latest)

    outcome = run_cli("validate", root=root)

    assert outcome.exit_code == 1
    hint = "  hint: use a version tag (name:1.2.0) or a digest (name@sha256:...)"
    assert outcome.stderr.splitlines() == [
        line
        for env in ("dev", "prod", "staging")
        for line in (
            f"{MODEL}:11:1: {env}/iris-classifier Deployment iris-classifier: "
            f"spec.template.spec.containers[server] {LATEST} [MLG108]",
            hint,
        )
    ]


def test_a_waived_finding_is_a_warning_and_validation_passes(iris_repo: EditModel) -> None:
    root = iris_repo(with_waiver("MLG108", "tracks the nightly build on purpose"))

    outcome = run_cli("validate", root=root)

    assert outcome.exit_code == 0
    lines = outcome.stderr.splitlines()
    assert lines[0].startswith(f"{MODEL}:34:22: warning: waived: dev/iris-classifier Deployment")
    assert lines[0].endswith(f"{LATEST} [MLG108]")
    assert lines[1] == "  hint: waiver reason: tracks the nightly build on purpose"
    assert len(lines) == 6
    assert outcome.stdout.startswith("ok: 1 model(s) checked")


def test_json_output_reports_waived_findings(iris_repo: EditModel) -> None:
    root = iris_repo(with_waiver("MLG108", "nightly"))

    outcome = run_cli("--format", "json", "validate", root=root)

    assert outcome.exit_code == 0
    findings = json.loads(outcome.stderr)
    assert [(f["rule"], f["severity"], f["hint"]) for f in findings] == [
        ("MLG108", "warning", "waiver reason: nightly")
    ] * 3
    assert all(f["message"].startswith("waived: ") for f in findings)


def test_a_waiver_for_an_unknown_rule_is_an_error_with_did_you_mean(
    iris_repo: EditModel,
) -> None:
    root = iris_repo(with_waiver("MLG180", "typo"))

    outcome = run_cli("validate", root=root)

    assert outcome.exit_code == 1
    assert outcome.stderr.splitlines() == [
        f"{MODEL}:34:22: waiver for unknown policy rule 'MLG180'",
        "  hint: did you mean 'MLG130'? (list the rules: mlgitops policy)",
    ]


def test_a_waiver_without_a_reason_is_refused_by_the_schema(iris_repo: EditModel) -> None:
    root = iris_repo(with_waiver("MLG108", ""))

    outcome = run_cli("validate", root=root)

    assert outcome.exit_code == 1
    assert outcome.stderr.splitlines() == [
        f"{MODEL}:34:38: spec.policy.waivers[0].reason: '' is not valid",
        "  hint: Why the rule does not apply to this model; required, and not blank.",
    ]


def test_policy_lists_every_rule_as_text_markdown_and_json() -> None:
    text = run_cli("policy", root=REPO_ROOT)
    assert text.exit_code == 0
    assert text.stdout.splitlines()[:2] == [
        "MLG101  error    Containers run as a non-root user",
        "        fix: set securityContext.runAsNonRoot: true and a non-zero runAsUser on the pod",
    ]
    markdown = run_cli("policy", "--format", "markdown", root=REPO_ROOT)
    assert "| MLG110 | warning | Workloads with more than one replica have a " in markdown.stdout
    rules = json.loads(run_cli("policy", "--format", "json", root=REPO_ROOT).stdout)
    assert len(rules) == 20  # MLG101-114 and MLG130-135 (issue 13)
    assert rules[7] == {
        "id": "MLG108",
        "severity": "error",
        "title": "Images name a fixed version: no latest tag and no untagged image",
        "hint": "use a version tag (name:1.2.0) or a digest (name@sha256:...)",
    }


def test_global_json_format_applies_to_the_listing() -> None:
    outcome = run_cli("--format", "json", "policy", root=REPO_ROOT)
    assert [r["id"] for r in json.loads(outcome.stdout)][:2] == ["MLG101", "MLG102"]


def test_rules_ids_in_docs_are_those_of_the_engine() -> None:
    listing = (REPO_ROOT / "docs" / "model-yaml.md").read_text(encoding="utf-8")
    assert "`spec.policy.waivers[].rule`" in listing
    assert Path(REPO_ROOT / "generator" / "policy" / "rules").is_dir()
