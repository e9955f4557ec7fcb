/**
 * The standby check worker (src/cli/standby.ts): main.ts starts it for `check` and `rates` only;
 * the first check takes it (once) and gets the same result as check() in this process; a
 * command that never takes it exits without waiting for it.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { test } from "node:test";
import { startStandby, takeStandby } from "../src/cli/standby.js";

test("a standby worker is started for check and rates, not for other commands or --help", () => {
  for (const argv of [["list"], ["report", "x.ipynb"], ["check", "--help"], ["rates", "-h"], []]) {
    startStandby(argv);
    assert.equal(takeStandby(), null, argv.join(" "));
  }
  for (const argv of [["check", "ext4-delalloc-fallocate"], ["--json", "rates", "x"]]) {
    startStandby(argv);
    const w = takeStandby();
    assert.ok(w !== null, argv.join(" "));
    assert.equal(takeStandby(), null, "taken once");
    void w.terminate();
  }
});

test("the first check in a worker runs in the standby, with the result check() gives here", async () => {
  // The built modules, as the racelab command runs them (a worker thread cannot load .ts files
  // through tsx on Node 20).
  assert.ok(existsSync("dist/cli/standby.js"), "build first (npm test builds)");
  const sb: typeof import("../src/cli/standby.js") = await import("../dist/cli/standby.js" as string);
  const { checkInWorker }: typeof import("../src/cli/check-worker.js") = await import("../dist/cli/check-worker.js" as string);
  const { check, getScenario }: typeof import("../src/index.js") = await import("../dist/index.js" as string);
  sb.startStandby(["check", "ext4-delalloc-fallocate"]);
  const opts = { fix: "recheck-es", params: { blocks: 2 }, reduction: "state-caching" as const };
  const { results } = await checkInWorker("ext4-delalloc-fallocate", [opts], () => {}, () => {});
  assert.equal(sb.takeStandby(), null, "the check took the standby");
  const here = check(getScenario("ext4-delalloc-fallocate"), opts);
  const strip = ({ elapsedMs: _, ...r }: typeof here) => r;
  assert.deepEqual(strip(results[0]!), strip(here));
  assert.equal(results[0]!.states, here.states);
  assert.ok((here.states ?? 0) > 1000);
});

test("a check command that fails on its input exits at once, the unused standby does not keep it", () => {
  const BIN = "dist/cli/main.js";
  assert.ok(existsSync(BIN), "build first (npm test builds)");
  const t0 = Date.now();
  const r = spawnSync(process.execPath, [BIN, "check", "no-such-scenario"], { encoding: "utf8", timeout: 20_000 });
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /^racelab: .*no-such-scenario/);
  assert.ok(Date.now() - t0 < 20_000);
});
