"""``mlgitops policy``: the rules, their ids, severities and fixes, for people and for tools."""

from __future__ import annotations

import json
import sys

import click

from generator.cli.options import Options
from generator.errors import ExitCode
from generator.policy.engine import all_rules, rule_table

FORMATS = ("text", "markdown", "json")


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def render_rules(output_format: str) -> str:
    if output_format == "json":
        return json.dumps(rule_table(), indent=2) + "\n"
    if output_format == "markdown":
        lines = [
            "| Rule | Severity | Checks | Fix |",
            "| --- | --- | --- | --- |",
            *(
                f"| {r.id} | {r.severity.value} | {r.title} | {_cell(r.hint)} |"
                for r in all_rules()
            ),
            "",
            "Waive a rule for one model in its model.yaml, with the reason: "
            '`spec.policy.waivers: [{rule: MLG110, reason: "..."}]`.',
        ]
        return "\n".join(lines) + "\n"
    lines = []
    for rule in all_rules():
        lines.append(f"{rule.id}  {rule.severity.value:<7}  {rule.title}")
        lines.append(f"        fix: {rule.hint}")
    return "\n".join(lines) + "\n"


def execute_policy(options: Options, output_format: str | None) -> int:
    chosen = output_format or ("json" if options.output_format == "json" else "text")
    options.reporter("policy").output(render_rules(chosen))
    return ExitCode.OK


@click.command("policy")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(FORMATS),
    default=None,
    help="text (default), markdown for docs, json for tools.",
)
@click.pass_obj
def policy(options: Options, output_format: str | None) -> None:
    """List the policy rules `mlgitops validate` applies to every built overlay."""
    sys.exit(execute_policy(options, output_format))
