/**
 * V8 tuning (src/engine/v8-tuning.ts): loading racelab, as a library or as the CLI, sets V8's
 * smaller inlining budgets once, V8 accepts every flag (an unknown one prints "unrecognized
 * flag" and is ignored), and RACELAB_V8_TUNING=0 keeps V8's defaults. Each case runs in a new
 * process: flags are process-wide and set at load.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import path from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { V8_TUNING_FLAGS } from "../src/engine/v8-tuning.js";

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
