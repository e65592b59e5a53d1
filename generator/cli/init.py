"""``mlgitops init``: a new model folder from an ONNX artifact."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from generator.cli.options import Options
from generator.errors import ExitCode, MlgitopsError
from generator.scaffold import ARTIFACT_NAME, DEFAULT_OWNER, scaffold


def execute_init(options: Options, name: str, artifact: Path, owner: str) -> int:
    reporter = options.reporter("init")
    try:
        done = scaffold(options.layout, name, artifact, owner)
    except MlgitopsError as error:
        return reporter.failure(error)
    folder = options.layout.relative(done.folder)
    reporter.result(
        f"created {folder}/ ({ARTIFACT_NAME}, sha256 {done.sha256[:12]}..., "
        f"{len(done.signature.inputs)} input(s), {len(done.signature.outputs)} output(s))\n"
        f"next: edit {folder}/model.yaml, then run 'mlgitops validate'",
        {"folder": folder, "sha256": done.sha256, "signature": done.signature.as_data()},
    )
    return ExitCode.OK


@click.command("init")
@click.argument("name")
@click.option(
    "--artifact",
    required=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help="The ONNX model file; it is copied in as model.onnx.",
)
@click.option("--owner", default=DEFAULT_OWNER, show_default=True, help="Owning team.")
@click.pass_obj
def init(options: Options, name: str, artifact: Path, owner: str) -> None:
    """Create models/NAME/ with the artifact, its sha256, signature and a commented model.yaml."""
    sys.exit(execute_init(options, name, artifact, owner))
