"""Run by tests/artifacts/servers.py in MLflow's own venv: log and register ONNX models.

usage: python mlflow_register.py TRACKING_URI PLAN.json [OUTSIDER PASSWORD]
PLAN: [{"name": registered model, "file": ONNX file, "alias": optional alias, "external": bool}]
Prints one JSON line per version: {"name", "version", "folder"}, where folder holds the logged
model as the registry serves it (downloaded back), so tests compare against what MLflow stored.
"""

import json
import os
import sys

import mlflow
import mlflow.onnx
import onnx
from mlflow import MlflowClient


def main() -> None:
    tracking_uri, plan_file = sys.argv[1], sys.argv[2]
    mlflow.set_tracking_uri(tracking_uri)
    client = MlflowClient(tracking_uri=tracking_uri)
    with open(plan_file, encoding="utf-8") as stream:
        plan = json.load(stream)
    for item in plan:
        with mlflow.start_run():
            info = mlflow.onnx.log_model(
                onnx.load(item["file"]),
                name="model",
                registered_model_name=item["name"],
                pip_requirements=["onnxruntime"],
                save_as_external_data=bool(item.get("external")),
            )
        version = info.registered_model_version
        if item.get("alias"):
            client.set_registered_model_alias(item["name"], item["alias"], str(version))
        folder = os.path.abspath(f"served/{item['name']}/{version}")
        os.makedirs(folder)
        mlflow.artifacts.download_artifacts(
            artifact_uri=f"models:/{item['name']}/{version}", dst_path=folder
        )
        print(json.dumps({"name": item["name"], "version": version, "folder": folder}))
    if len(sys.argv) > 4:
        # A user of the basic-auth app with no permission on any model.
        from mlflow.server import get_app_client

        auth = get_app_client("basic-auth", tracking_uri=tracking_uri)
        auth.create_user(sys.argv[3], sys.argv[4])


if __name__ == "__main__":
    main()
