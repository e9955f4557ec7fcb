import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";

const BIN = "dist/cli/main.js";
function racelab(...args: string[]) {
  assert.ok(existsSync(BIN), "build first (npm test builds)");
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: "utf8" });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test("check --json follows the contract and is byte-identical apart from elapsedMs", () => {
  const a = racelab("check", "ext4-delalloc-fallocate", "--json");
  const b = racelab("check", "ext4-delalloc-fallocate", "--json");
  assert.equal(a.code, 0, a.stderr);
  const strip = (s: string) => s.replace(/"elapsedMs": [\d.]+/, '"elapsedMs": 0');
  assert.equal(strip(a.stdout), strip(b.stdout));
  const r = JSON.parse(a.stdout);
  assert.deepEqual(Object.keys(r).slice(0, 11), [
    "scenario", "fix", "variant", "params", "mode", "memoryModel", "seed", "executions", "sleepBlocked", "naiveExecutions", "naiveViolations",
  ]);
  assert.equal(r.verdict, "fail");
  assert.deepEqual(r.params, { blocks: 1 });
  const step = r.counterexample.steps[0];
  assert.deepEqual(Object.keys(step).slice(0, 4), ["thread", "function", "label", "source"]);
});

test("check --all-fixes --all-variants prints an array; --fail-on-finding sets exit 1", () => {
  const r = racelab("check", "ext4-delalloc-fallocate", "--all-fixes", "--all-variants", "--json");
  const arr = JSON.parse(r.stdout);
  assert.equal(arr.length, 10);
  assert.equal(racelab("check", "ext4-delalloc-fallocate", "--fail-on-finding").code, 1);
  assert.equal(racelab("check", "ext4-delalloc-fallocate", "--fix", "recheck-es", "--fail-on-finding").code, 0);
});

test("replay --json reproduces the counterexample's finding", () => {
  const ce = JSON.parse(racelab("check", "ext4-delalloc-fallocate", "--json").stdout).counterexample;
  const r = racelab("replay", "ext4-delalloc-fallocate", "--fix", "baseline", "--schedule", ce.schedule, "--json");
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  assert.equal(j.finding, ce.finding);
  assert.deepEqual(j.steps, ce.steps);
  const text = racelab("replay", "ext4-delalloc-fallocate", "--fix", "baseline", "--schedule", ce.schedule);
  assert.match(text.stdout, /\^\^\^\^/);
});

test("claims --json: statement, source, expected, observed, holds", () => {
  const r = racelab("claims", "ext4-delalloc-fallocate", "--json");
  const claims = JSON.parse(r.stdout);
  assert.equal(claims.length, 4);
  for (const c of claims) {
    assert.deepEqual(Object.keys(c), ["id", "scenario", "source", "statement", "expected", "observed", "holds"]);
    assert.equal(c.holds, true);
  }
});

test("bad input: one line on stderr, exit status 2", () => {
  const cases: string[][] = [
    ["check", "no-such-scenario"],
    ["check", "ext4-delalloc-fallocate", "--fix", "nope"],
    ["check", "ext4-delalloc-fallocate", "--variant", "nope"],
    ["check", "ext4-delalloc-fallocate", "--param", "blocks=99"],
    ["check", "ext4-delalloc-fallocate", "--param", "blocks"],
    ["check", "ext4-delalloc-fallocate", "--mode", "sideways"],
    ["check", "ext4-delalloc-fallocate", "--mode", "random", "--runs", "0"],
    ["replay", "ext4-delalloc-fallocate", "--fix", "baseline", "--schedule", "0.zz"],
    ["replay", "ext4-delalloc-fallocate", "--fix", "baseline", "--schedule", "2"],
    ["replay", "ext4-delalloc-fallocate", "--fix", "baseline", "--schedule", "9"],
    ["frobnicate"],
  ];
  for (const args of cases) {
    const r = racelab(...args);
    assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
    assert.equal(r.stderr.trim().split("\n").length, 1, `${args.join(" ")}: ${r.stderr}`);
    assert.equal(r.stdout, "", args.join(" "));
  }
});

test("list --json names the scenario, its fixes and variants", () => {
  const [s] = JSON.parse(racelab("list", "--json").stdout);
  assert.equal(s.id, "ext4-delalloc-fallocate");
  assert.deepEqual(s.fixes.map((f: { id: string }) => f.id), ["baseline", "recheck-es"]);
  assert.ok(s.variants.some((v: { id: string }) => v.id === "default"));
});

test("a reader that stops early (| head) is not an error", () => {
  const r = spawnSync("bash", ["-c", `node ${BIN} check ext4-delalloc-fallocate --all-fixes --all-variants | head -1; echo "status=\${PIPESTATUS[0]}"`], { encoding: "utf8" });
  assert.match(r.stdout, /status=0/);
  assert.doesNotMatch(r.stderr, /EPIPE/);
});
