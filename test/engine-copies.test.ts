/**
 * A second copy of racelab's engine in one process (what tsx's namespaced tsImport gave every
 * scenario file until 2026-11-30): the kernel objects it creates record their accesses where the
 * running search does not look, so an exhaustive check says so and never passes. Its own file:
 * loading the second copy changes the process for good.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { check, engineCopies, getScenario } from "../src/index.js";

test("a second engine in the process: an exhaustive check warns and gives no pass", async () => {
  assert.equal(engineCopies().length, 1);
  const sc = getScenario("ext4-delalloc-fallocate");
  assert.equal(check(sc, { fix: "recheck-es" }).verdict, "pass");
  const { tsImport } = await import("tsx/esm/api");
  await tsImport("../src/engine/access.ts", import.meta.url);
  assert.equal(engineCopies().length, 2);
  const r = check(sc, { fix: "recheck-es" });
  assert.equal(r.verdict, "incomplete");
  assert.match(r.warnings.join("\n"), /racelab is loaded 2 times in this process .*: the kernel objects of one copy record accesses/);
  // A failing configuration still fails: the violation is real.
  assert.equal(check(sc, { fix: "baseline" }).verdict, "fail");
});
