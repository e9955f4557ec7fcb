/**
 * V8 tuning (src/engine/v8-tuning.ts): loading racelab, as a library or as the CLI, sets V8's
 * smaller inlining budgets once, V8 accepts every flag (an unknown one prints "unrecognized
 * flag" and is ignored), and RACELAB_V8_TUNING=0 keeps V8's defaults. Each case runs in a new
 * process: flags are process-wide and set at load. racelab's launchers start node with
 * V8_POOL_OPTION (V8's thread pool is fixed when node starts).
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { V8_POOL_OPTION, V8_TUNING_FLAGS } from "../src/engine/v8-tuning.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

/** Loads `module` (relative to the project root) in a new node and prints v8TuningApplied(). */
function appliedIn(module: string, env: Record<string, string> = {}): { applied: string[]; output: string } {
  const code =
    `const m = await import(${JSON.stringify(path.join(root, module))});` +
    `const t = await import(${JSON.stringify(path.join(root, "src/engine/v8-tuning.ts"))});` +
    `process.stdout.write("APPLIED " + JSON.stringify(t.v8TuningApplied()) + "\\n");`;
  const env0 = { ...process.env };
  delete env0.RACELAB_V8_TUNING;
  const r = spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", code], { cwd: root, encoding: "utf8", env: { ...env0, ...env } });
  const output = r.stdout + r.stderr;
  assert.equal(r.status, 0, output);
  const line = r.stdout.split("\n").find((l) => l.startsWith("APPLIED "));
  assert.ok(line, output);
  return { applied: JSON.parse(line.slice("APPLIED ".length)) as string[], output };
}

test("loading racelab sets V8's inlining budgets, and V8 knows every flag", () => {
  assert.deepEqual(V8_TUNING_FLAGS, ["--max-inlined-bytecode-size=100", "--max-inlined-bytecode-size-cumulative=300"]);
  const { applied, output } = appliedIn("src/index.ts");
  assert.deepEqual(applied, [...V8_TUNING_FLAGS]);
  assert.doesNotMatch(output, /unrecognized flag/i);
  // The engine's runner alone (what the CLI's check worker loads) sets them too.
  assert.deepEqual(appliedIn("src/engine/runner.ts").applied, [...V8_TUNING_FLAGS]);
});

test("RACELAB_V8_TUNING=0 keeps V8's defaults", () => {
  for (const off of ["0", "off", "false", "NO"]) assert.deepEqual(appliedIn("src/index.ts", { RACELAB_V8_TUNING: off }).applied, [], off);
  assert.deepEqual(appliedIn("src/index.ts", { RACELAB_V8_TUNING: "1" }).applied, [...V8_TUNING_FLAGS]);
});

/**
 * The option racelab's launchers start node with (V8_POOL_OPTION): the bin's first line, the
 * `racelab` npm script, npm start and the notebook kernel's launcher. The bin is run as the kernel
 * runs a script: its `#!` interpreter with the rest of the line as one argument, then the file.
 */
test("the racelab bin, npm scripts and the kernel launcher start node with V8_POOL_OPTION", () => {
  assert.equal(V8_POOL_OPTION, "--v8-pool-size=0");
  const shebang = `#!/usr/bin/env -S node ${V8_POOL_OPTION}`;
  assert.equal(readFileSync(path.join(root, "src/cli/main.ts"), "utf8").split("\n")[0], shebang);
  const pkg = JSON.parse(readFileSync(path.join(root, "package.json"), "utf8")) as { bin: Record<string, string>; scripts: Record<string, string> };
  assert.equal(pkg.scripts["racelab"], `node ${V8_POOL_OPTION} ${pkg.bin["racelab"]}`);
  assert.match(readFileSync(path.join(root, "scripts/start.sh"), "utf8"), new RegExp(`^racelab=\\(node ${V8_POOL_OPTION} dist/cli/main\\.js\\)$`, "m"));
  assert.match(readFileSync(path.join(root, "kernel/racelab-kernel"), "utf8"), new RegExp(`^exec "\\$node" ${V8_POOL_OPTION} --require `, "m"));

  const bin = path.join(root, pkg.bin["racelab"]!);
  assert.ok(existsSync(bin), `${bin} missing: run \`npm run build\` first (npm test does)`);
  const first = readFileSync(bin, "utf8").split("\n")[0]!;
  assert.equal(first, shebang, "the build keeps the bin's first line");
  const m = /^#!(\S+) (.*)$/.exec(first)!;
  const tmp = mkdtempSync(path.join(tmpdir(), "racelab-v8-"));
  try {
    // A preload that reports the options node was started with.
    const probe = path.join(tmp, "probe.cjs");
    writeFileSync(probe, `process.stderr.write("EXECARGV " + JSON.stringify(process.execArgv) + "\\n");\n`);
    const env = { ...process.env, NODE_OPTIONS: `--require ${probe}` };
    const r = spawnSync(m[1]!, [m[2]!, bin, "--version"], { cwd: root, encoding: "utf8", env });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /^\d+\.\d+\.\d+/);
    const line = r.stderr.split("\n").find((l) => l.startsWith("EXECARGV "));
    assert.ok(line, r.stderr);
    assert.deepEqual(JSON.parse(line.slice("EXECARGV ".length)), [V8_POOL_OPTION]);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});
