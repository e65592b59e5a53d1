"""No secret value reaches the generated tree. Canary values sit where a careless generator
could pick them up (the environment of the generating process, named like the model's
secretRefs and like CI credentials); the whole tree is then scanned for them, for
high-entropy strings, and for Secret objects or inline values beside secretKeyRefs."""

from __future__ import annotations

import math
import re
import secrets
from collections import Counter
from pathlib import Path
from typing import Any

import yaml

from reliability.repo import GENERATED, cli_env, example_repo, run_cli

_TOKEN = re.compile(r"[A-Za-z0-9+/_\-]{20,}")
ENTROPY_BITS = 4.3
"""Per character; sha256 hex (digests, hashes) stays at or below 4.0, base64 keys near 6."""

SECRET_REFS = """\
  secretRefs:
    - {env: DB_PASSWORD, secret: iris-db, key: password}
    - {env: API_TOKEN, secret: iris-api, key: token}
"""


def entropy(text: str) -> float:
    counts = Counter(text)
    return -sum(n / len(text) * math.log2(n / len(text)) for n in counts.values())


def high_entropy_tokens(text: str) -> list[str]:
    """Random-looking words: long, mixing letters and digits, and close to uniform."""
    return [
        t
        for t in _TOKEN.findall(text)
        if entropy(t) > ENTROPY_BITS and re.search("[0-9]", t) and re.search("[A-Za-z]", t)
    ]


def _walk(node: Any) -> list[dict[str, Any]]:
    found = []
    if isinstance(node, dict):
        found.append(node)
        for value in node.values():
            found += _walk(value)
    elif isinstance(node, list):
        for value in node:
            found += _walk(value)
    return found


def scan_tree(root: Path, canaries: list[str]) -> tuple[int, list[str]]:
    """Return how many files were scanned and every finding."""
    findings = []
    files = [p for top in GENERATED for p in sorted((root / top).rglob("*")) if p.is_file()]
    for path in files:
        text = path.read_text(encoding="utf-8")
        name = path.relative_to(root).as_posix()
        findings += [f"{name}: canary value {c[:6]}..." for c in canaries if c in text]
        findings += [f"{name}: high-entropy string {t[:24]}..." for t in high_entropy_tokens(text)]
        if path.suffix not in (".yaml", ".yml"):
            continue  # fluent.conf and other plain files: the text scans above cover them
        for document in yaml.safe_load_all(text):
            for mapping in _walk(document):
                if mapping.get("kind") == "Secret":
                    findings.append(f"{name}: a Secret object is generated")
                if "valueFrom" in mapping and "value" in mapping:
                    findings.append(
                        f"{name}: env {mapping.get('name')} has a value beside valueFrom"
                    )
    return len(files), findings


def secret_scan(work: Path) -> tuple[int, list[str]]:
    root = example_repo(work / "secrets")
    model = root / "models" / "iris-classifier" / "model.yaml"
    model.write_text(model.read_text().replace("  config:\n", SECRET_REFS + "  config:\n"))
    canaries = [secrets.token_urlsafe(32) for _ in range(4)]
    env = cli_env(
        {
            "DB_PASSWORD": canaries[0],
            "API_TOKEN": canaries[1],
            "GITHUB_TOKEN": canaries[2],
            "AWS_SECRET_ACCESS_KEY": canaries[3],
        }
    )
    run = run_cli(root, "generate", env=env)
    if run.exit_code != 0:
        return 0, [f"generate failed: {run.stderr[-800:]}"]
    count, findings = scan_tree(root, canaries)
    refs = sum(
        text.count("secretKeyRef")
        for text in (p.read_text() for top in GENERATED for p in (root / top).rglob("*.yaml"))
    )
    if refs == 0:
        findings.append("the secretRefs are not referenced anywhere in the generated tree")
    # The scanner itself must catch what it looks for, or a clean result proves nothing.
    if not high_entropy_tokens(f"token: {canaries[0]}"):
        findings.append("the entropy scan misses a canary")
    return count, findings
