"""The formatters and the field comparison, on plain data (no git, no kustomize)."""

from __future__ import annotations

from generator.diff.compare import (
    ABSENT,
    DiffReport,
    EnvironmentImpact,
    FieldChange,
    ObjectChange,
    OverlayChange,
    field_changes,
)
from generator.diff.report import GITHUB_COMMENT_LIMIT, format_markdown, format_text
from generator.diff.sides import Usage

USAGE = Usage(2, 4, 1000, 2**30, 0, 4, "16", "64Gi", 0, 60)


def _report(models: int, fields: int) -> DiffReport:
    overlays = tuple(
        OverlayChange(
            "prod",
            f"model-{index:04d}",
            "changed",
            (
                ObjectChange(
                    "ConfigMap",
                    f"model-{index:04d}-config",
                    "changed",
                    tuple(FieldChange(f"data.KEY_{n}", "old", "new") for n in range(fields)),
                ),
            ),
        )
        for index in range(models)
    )
    return DiffReport(
        "main", "working tree", overlays, (EnvironmentImpact("prod", USAGE, USAGE),), ()
    )


def test_containers_and_env_are_matched_by_name_not_index() -> None:
    old = {"containers": [{"name": "server", "env": [{"name": "A", "value": "1"}]}]}
    new = {
        "containers": [
            {"name": "fluentd", "image": "f"},
            {"name": "server", "env": [{"name": "B", "value": "2"}, {"name": "A", "value": "1"}]},
        ]
    }

    assert list(field_changes(old, new)) == [
        FieldChange("containers[server].env[B]", ABSENT, {"name": "B", "value": "2"}),
        FieldChange("containers[fluentd]", ABSENT, {"name": "fluentd", "image": "f"}),
    ]


def test_keys_with_dots_are_quoted_and_scalar_lists_compared_whole() -> None:
    old = {"metadata": {"labels": {"app.kubernetes.io/version": "1"}}, "args": ["a"]}
    new = {"metadata": {"labels": {"app.kubernetes.io/version": "2"}}, "args": ["a", "b"]}

    assert list(field_changes(old, new)) == [
        FieldChange("args", ["a"], ["a", "b"]),
        FieldChange('metadata.labels["app.kubernetes.io/version"]', "1", "2"),
    ]


def test_multi_line_values_are_shown_as_a_unified_diff() -> None:
    change = FieldChange("data.dashboard", "a\nb\nc\n", "a\nB\nc\n")
    report = DiffReport(
        "main",
        "working tree",
        (
            OverlayChange(
                "prod", "m", "changed", (ObjectChange("ConfigMap", "d", "changed", (change,)),)
            ),
        ),
        (),
        (),
    )

    assert format_text(report).splitlines()[1:] == [
        "prod/m ConfigMap/d data.dashboard:",
        "    @@ -1,3 +1,3 @@",
        "     a",
        "    -b",
        "    +B",
        "     c",
    ]


def test_markdown_has_the_summary_table_first_and_one_section_per_overlay() -> None:
    text = format_markdown(_report(2, 1))

    assert text.startswith(
        "### mlgitops diff: `main` → `working tree`\n\n"
        "2 overlay(s) changed, 0 added, 0 removed.\n\n"
        "Requests at maximum scale per environment, against the namespace quota.\n\n"
        "| Environment | Overlays | replicas min | replicas max | CPU | memory | GPUs | pods |\n"
        "| --- | --- | --- | --- | --- | --- | --- | --- |\n"
        "| `prod` | 2 changed | 2 | 4 | 1 / 16 | 1Gi / 64Gi | 0 / 0 | 4 / 60 |\n"
    )
    assert text.count("<details>") == 2
    assert (
        "<details>\n<summary><code>prod/model-0001</code>: changed, 1 object(s)</summary>\n\n"
        "```text\nprod/model-0001 ConfigMap/model-0001-config data.KEY_0: old → new\n```\n\n"
        "</details>\n"
    ) in text
    assert "Cut:" not in text


def test_markdown_stays_under_the_comment_limit_and_says_what_was_cut() -> None:
    report = _report(400, 20)

    text = format_markdown(report)

    assert len(text) <= GITHUB_COMMENT_LIMIT
    assert text.count("<details>") < 400
    assert text.count("<details>") == text.count("</details>")
    kept = text.count("<details>")
    assert text.endswith(
        f"\n> **Cut:** {400 - kept + 1} of 400 detail section(s) shortened or left out to stay "
        "under GitHub's 65,536-character comment limit; run "
        "`mlgitops diff --base main` for the full diff.\n"
    )
    assert "more line(s) cut\n```" in text


def test_markdown_cut_with_a_small_limit() -> None:
    text = format_markdown(_report(3, 2), limit=1220)

    assert len(text) <= 1220
    assert text.count("<details>") == 3
    assert "data.KEY_0" in text.split("<details>")[-1]
    assert "data.KEY_1" not in text.split("<details>")[-1]
    assert "… 1 more line(s) cut\n```" in text
    assert text.endswith(
        "> **Cut:** 1 of 3 detail section(s) shortened or left out to stay under GitHub's "
        "65,536-character comment limit; run `mlgitops diff --base main` for the full diff.\n"
    )
