"""Real servers for the artifact source tests, each started once per session on 127.0.0.1 and a
port the OS picks: an HTTPS file server with a test CA (trustme), moto's S3 server (its own
process, SigV4 signatures and IAM policies enforced), MLflow's tracking server (its own venv,
sqlite backend store, proxied artifacts), and a TCP proxy that cuts responses off mid-body."""

from __future__ import annotations

import contextlib
import http.server
import json
import os
import secrets
import signal
import socket
import ssl
import subprocess
import threading
import time
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
QUIET_MLFLOW = {"MLFLOW_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "true"}
"""MLflow reports usage unless told not to; nothing leaves this machine from a test."""
MLFLOW = REPO_ROOT / ".venv-mlflow" / "bin" / "mlflow"
MLFLOW_PYTHON = REPO_ROOT / ".venv-mlflow" / "bin" / "python"
MOTO = REPO_ROOT / ".venv" / "bin" / "moto_server"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def closed_port() -> int:
    """A port nothing listens on (bound and released: the OS does not hand it out at once)."""
    return free_port()


def require(tool: Path, how: str) -> None:
    if tool.exists():
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"{tool} is missing: {how} installs it (make test runs it)")
    pytest.skip(f"{tool} is missing; `{how}` installs it, and CI (CI=true) always runs it")


def wait_for(url: str, process: subprocess.Popen[bytes], log: Path, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url} exited with {process.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {seconds} s:\n{log.read_text()[-3000:]}")


def stop(process: subprocess.Popen[bytes]) -> None:
    """Stop a server started in its own session, and its children with it."""
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=20)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


# --- HTTPS ---------------------------------------------------------------------------------


@dataclass
class WebServer:
    """Serves ``files``; paths under /denied/ get 403, under /cut/ half the body, then EOF."""

    files: dict[str, bytes] = field(default_factory=dict)
    url: str = ""
    ca_bundle: Path = Path()


def start_web_server(workdir: Path) -> tuple[WebServer, http.server.ThreadingHTTPServer]:
    import trustme

    ca = trustme.CA()
    certificate = ca.issue_cert("127.0.0.1")
    served = WebServer(ca_bundle=workdir / "test-ca.pem")
    ca.cert_pem.write_to_path(str(served.ca_bundle))

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            if path.startswith("/denied/"):
                self.send_error(403, "Forbidden")
                return
            body = served.files.get(path.removeprefix("/cut"))
            if body is None:
                self.send_error(404, "Not Found")
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if path.startswith("/cut/"):
                self.wfile.write(body[: len(body) // 2])
                self.wfile.flush()
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            return

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    certificate.configure_cert(context)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    served.url = f"https://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return served, server


# --- a proxy that cuts downloads -------------------------------------------------------------


class CuttingProxy:
    """Forwards TCP to ``upstream``; once a connection has carried ``limit`` response bytes,
    both ends are closed, as when a network drops in the middle of a download."""

    def __init__(self, upstream: tuple[str, int], limit: int) -> None:
        self.upstream, self.limit = upstream, limit
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self.listener.getsockname()[1])
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            server = socket.create_connection(self.upstream)
            threading.Thread(target=self._pump, args=(client, server, None), daemon=True).start()
            threading.Thread(
                target=self._pump, args=(server, client, self.limit), daemon=True
            ).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket, limit: int | None) -> None:
        sent = 0
        try:
            while data := source.recv(65536):
                if limit is not None and sent + len(data) > limit:
                    sink.sendall(data[: limit - sent])
                    break
                sink.sendall(data)
                sent += len(data)
        except OSError:
            pass
        for end in (source, sink):
            with contextlib.suppress(OSError):
                end.shutdown(socket.SHUT_RDWR)
            end.close()

    def close(self) -> None:
        self.listener.close()


# --- S3 (moto's server mode) --------------------------------------------------------------


@dataclass(frozen=True)
class S3Server:
    endpoint: str
    key_id: str
    secret: str
    bucket: str = "models"

    def environ(self, endpoint: str | None = None) -> Mapping[str, str]:
        return {
            "AWS_ENDPOINT_URL": endpoint or self.endpoint,
            "AWS_ACCESS_KEY_ID": self.key_id,
            "AWS_SECRET_ACCESS_KEY": self.secret,
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_MAX_ATTEMPTS": "2",
        }


S3_POLICY = """{"Version": "2012-10-17", "Statement": [
 {"Effect": "Allow", "Action": "s3:*", "Resource": "*"},
 {"Effect": "Deny", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::models/private/*"}]}"""


def start_s3_server(workdir: Path) -> tuple[S3Server, subprocess.Popen[bytes]]:
    """moto with authentication on after its first three requests, which create the reader
    user, its key and its policy (allowed everything but s3:GetObject under private/)."""
    import boto3

    require(MOTO, "make setup")
    port = free_port()
    log = workdir / "moto.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [str(MOTO), "-H", "127.0.0.1", "-p", str(port)],
            stdout=output,
            stderr=subprocess.STDOUT,
            env={**os.environ, "INITIAL_NO_AUTH_ACTION_COUNT": "3"},
            start_new_session=True,
        )
    endpoint = f"http://127.0.0.1:{port}"
    wait_for(f"{endpoint}/moto-api/", process, log, 60)
    iam = boto3.client(
        "iam",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="setup",
        aws_secret_access_key="setup",
    )
    iam.create_user(UserName="reader")
    key = iam.create_access_key(UserName="reader")["AccessKey"]
    iam.put_user_policy(UserName="reader", PolicyName="read", PolicyDocument=S3_POLICY)
    server = S3Server(endpoint, key["AccessKeyId"], key["SecretAccessKey"])
    s3 = boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id=server.key_id,
        aws_secret_access_key=server.secret,
    )
    s3.create_bucket(Bucket=server.bucket)
    return server, process


def put_objects(server: S3Server, objects: Mapping[str, bytes]) -> None:
    import boto3

    s3 = boto3.client(
        "s3",
        endpoint_url=server.endpoint,
        region_name="us-east-1",
        aws_access_key_id=server.key_id,
        aws_secret_access_key=server.secret,
    )
    for key, body in objects.items():
        s3.put_object(Bucket=server.bucket, Key=key, Body=body)


# --- MLflow --------------------------------------------------------------------------------


MLFLOW_ADMIN = ("admin", "admin-password-for-tests")
MLFLOW_OUTSIDER = ("outsider", "outsider-password-for-tests")
"""A user the registry knows but grants nothing (MLflow's basic-auth app, NO_PERMISSIONS)."""


def start_mlflow_server(workdir: Path) -> tuple[str, subprocess.Popen[bytes]]:
    """``mlflow server`` with its basic-auth app: the admin logs and reads models, any other
    user gets MLflow's own 401 (wrong password) or 403 (no permission on the model)."""
    require(MLFLOW, "make artifact-test-deps")
    port = free_port()
    log = workdir / "mlflow.log"
    auth_config = workdir / "basic_auth.ini"
    auth_config.write_text(
        "[mlflow]\n"
        "default_permission = NO_PERMISSIONS\n"
        f"database_uri = sqlite:///{workdir / 'basic_auth.db'}\n"
        f"admin_username = {MLFLOW_ADMIN[0]}\n"
        f"admin_password = {MLFLOW_ADMIN[1]}\n"
        "authorization_function = mlflow.server.auth:authenticate_request_basic_auth\n",
        encoding="utf-8",
    )
    output = log.open("wb")
    process = subprocess.Popen(
        [
            str(MLFLOW),
            "server",
            "--app-name",
            "basic-auth",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            "1",
            "--backend-store-uri",
            f"sqlite:///{workdir / 'mlflow.db'}",
            "--artifacts-destination",
            str(workdir / "mlflow-artifacts"),
        ],
        stdout=output,
        stderr=subprocess.STDOUT,
        cwd=workdir,
        env={
            **os.environ,
            **QUIET_MLFLOW,
            "MLFLOW_AUTH_CONFIG_PATH": str(auth_config),
            # The auth app's Flask sessions (CSRF) need a key; a fresh one per session.
            "MLFLOW_FLASK_SERVER_SECRET_KEY": secrets.token_hex(16),
        },
        start_new_session=True,
    )
    output.close()
    url = f"http://127.0.0.1:{port}"
    wait_for(f"{url}/health", process, log, 180)
    return url, process


def mlflow_login(user: tuple[str, str]) -> dict[str, str]:
    return {"MLFLOW_TRACKING_USERNAME": user[0], "MLFLOW_TRACKING_PASSWORD": user[1]}


def register_models(
    tracking_uri: str, plan: list[dict[str, object]], workdir: Path
) -> list[dict[str, str]]:
    """Log and register ONNX models with mlflow.onnx (in MLflow's venv, which has pandas):
    ``plan`` items are {name, file, alias, external}, registered in order. Returns, per
    version, {name, version, folder} with the logged model as the registry serves it."""
    plan_file = workdir / "register.json"
    plan_file.write_text(json.dumps(plan), encoding="utf-8")
    script = Path(__file__).with_name("mlflow_register.py")
    result = subprocess.run(
        [str(MLFLOW_PYTHON), str(script), tracking_uri, str(plan_file), *MLFLOW_OUTSIDER],
        capture_output=True,
        text=True,
        cwd=workdir,
        env={**os.environ, **QUIET_MLFLOW, **mlflow_login(MLFLOW_ADMIN)},
        check=False,
        timeout=300,
    )
    if result.returncode != 0:
        raise RuntimeError(f"registering models failed:\n{result.stdout}\n{result.stderr}")
    return [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
