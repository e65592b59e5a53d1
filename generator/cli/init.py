"""``mlgitops init``: a new model folder from an ONNX artifact."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from generator.cli.options import Options
from generator.errors import ExitCode, MlgitopsError
from generator.scaffold import ARTIFACT_NAME, DEFAULT_OWNER, scaffold


def execute_init(
    options: Options, name: str, artifact: Path | None, owner: str, source: str = ""
) -> int:
    reporter = options.reporter("init")
    if (artifact is None) == (not source):
        return reporter.error(
            "give exactly one of --artifact and --from",
            "--artifact FILE copies a local ONNX file in; --from URI records a registry, S3 "
            "or HTTPS artifact",
        )
    try:
        done = scaffold(options.layout, name, artifact, owner, source)
    except MlgitopsError as error:
        return reporter.failure(error)
    folder = options.layout.relative(done.folder)
    reporter.result(
        f"created {folder}/ ({source or ARTIFACT_NAME}, sha256 {done.sha256[:12]}..., "
        f"{len(done.signature.inputs)} input(s), {len(done.signature.outputs)} output(s))\n"
        f"next: edit {folder}/model.yaml, then run 'mlgitops validate'",
        {"folder": folder, "sha256": done.sha256, "signature": done.signature.as_data()},
    )
    return ExitCode.OK


@click.command("init")
@click.argument("name")
@click.option(
    "--artifact",
    type=click.Path(path_type=Path, dir_okay=False),
    help="The ONNX model file; it is copied in as model.onnx, with its external data files.",
)
@click.option(
    "--from",
    "source",
    metavar="URI",
    default="",
    help="Record this artifact instead of copying one: models:/NAME/VERSION, models:/NAME@ALIAS, "
    "s3://BUCKET/KEY or https://... (fetched into the artifact cache to read it).",
)
@click.option("--owner", default=DEFAULT_OWNER, show_default=True, help="Owning team.")
@click.pass_obj
def init(options: Options, name: str, artifact: Path | None, owner: str, source: str) -> None:
    """Create models/NAME/ with the artifact, its sha256, signature and a commented model.yaml."""
    sys.exit(execute_init(options, name, artifact, owner, source))
