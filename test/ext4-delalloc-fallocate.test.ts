import { test } from "node:test";
import assert from "node:assert/strict";
import { check, replay } from "../src/engine/check.js";
import { evaluateClaims } from "../src/engine/claims.js";
import { renderDiagram } from "../src/engine/trace.js";
import { getScenario } from "../src/scenarios/index.js";
import { Session } from "../src/notebook/session.js";

const sc = getScenario("ext4-delalloc-fallocate");
const LEAK = "warning: i_reserved_data_blocks (1) not cleared!";
const REPLACED = "invariant: ext4_es_insert_delayed_block() replaced an allocated (unwritten) extent";

test("baseline/default: the race leaks a reserved block; the delayed extent replaced the unwritten one", () => {
  const r = check(sc, { fix: "baseline", variant: "default", countNaive: true });
  assert.equal(r.verdict, "fail");
  assert.equal(r.complete, true);
  assert.ok(r.findings[LEAK]! > 0, JSON.stringify(r.findings));
  assert.ok(r.findings[REPLACED]! > 0, JSON.stringify(r.findings));
  assert.ok(r.naiveExecutions! > r.executions, "the reduction explores fewer executions than all interleavings");
  assert.ok(r.naiveViolations! > 0 && r.naiveViolations! < r.naiveExecutions!);
  assert.equal(r.counterexample!.finding, LEAK, "the counterexample names the kernel's own warning");
});

test("recheck-es closes the race in every interleaving", () => {
  const r = check(sc, { fix: "recheck-es", variant: "default", countNaive: true });
  assert.equal(r.verdict, "pass");
  assert.equal(r.complete, true);
  assert.equal(r.naiveViolations, 0);
});

test("the pairs the message calls safe pass under baseline; without their lock they fail", () => {
  for (const v of ["write-vs-mkwrite", "write-vs-fallocate"]) {
    const r = check(sc, { fix: "baseline", variant: v });
    assert.equal(r.verdict, "pass", v);
    assert.equal(r.complete, true, v);
  }
  assert.equal(check(sc, { variant: "write-vs-mkwrite-no-folio-lock" }).findings[LEAK]! > 0, true);
  const noInodeLock = check(sc, { variant: "write-vs-fallocate-no-inode-lock" });
  assert.ok(noInodeLock.findings[LEAK]! > 0 && noInodeLock.findings[REPLACED]! > 0);
});

test("the counterexample replays to the leak, with the race drawn as in the patch description", () => {
  const r = check(sc, {});
  const { result, exec } = replay(sc, { fix: "baseline", schedule: r.counterexample!.schedule });
  assert.ok(result.findings.includes(LEAK));
  assert.equal(result.schedule, r.counterexample!.schedule);
  assert.equal(r.counterexample!.preemptions, 1, "one preemption suffices: fallocate runs inside mkwrite's window");
  const fns = result.steps.map((s) => `${s.thread}:${s.function}`);
  // ext4_da_map_blocks sees no allocated extent, fallocate allocates, then the delayed extent is inserted.
  const lookup = fns.indexOf("ext4_page_mkwrite:ext4_da_map_blocks");
  const alloc = fns.indexOf("ext4_fallocate:ext4_ext_map_blocks");
  const insert = fns.indexOf("ext4_page_mkwrite:ext4_es_insert_delayed_block");
  assert.ok(lookup >= 0 && lookup < alloc && alloc < insert, fns.join("\n"));
  for (const s of result.steps) assert.match(s.source, /^(fs|mm)\/[\w/]+\.c: \w+\(\)$/);
  const d = renderDiagram(exec);
  assert.match(d, /^ext4_page_mkwrite +ext4_fallocate$/m);
  assert.match(d, /\^\^\^\^/);
  for (const line of d.split("\n")) assert.ok(line.length <= 75, `line over 75 columns: ${line}`);
  // The same schedule under the fix does not leak.
  assert.equal(replay(sc, { fix: "recheck-es", schedule: "0x7.1x7" }).result.findings.length, 0);
});

test("exhaustive results are deterministic (apart from elapsedMs)", () => {
  const a = check(sc, { variant: "write-vs-mkwrite-no-folio-lock" });
  const b = check(sc, { variant: "write-vs-mkwrite-no-folio-lock" });
  assert.deepEqual({ ...a, elapsedMs: 0 }, { ...b, elapsedMs: 0 });
});

test("random mode finds the leak, and no finding appears that exhaustive search does not know", () => {
  const ex = check(sc, {});
  const rnd = check(sc, { mode: "random", runs: 3000, seed: 3 });
  assert.ok(rnd.findings[LEAK]! > 0);
  for (const k of Object.keys(rnd.findings)) assert.ok(k in ex.findings, k);
});

test("blocks=2: four racing threads share i_data_sem and the reservation counter", () => {
  const base = check(sc, { params: { blocks: 2 } });
  assert.equal(base.verdict, "fail");
  assert.ok(Object.keys(base.findings).some((k) => /i_reserved_data_blocks \([12]\) not cleared!/.test(k)));
  assert.equal(check(sc, { fix: "recheck-es", params: { blocks: 2 } }).verdict, "pass");
});

test("claims: every claim of the message holds in the model", () => {
  const claims = evaluateClaims(sc);
  assert.deepEqual(
    claims.map((c) => c.id),
    ["race", "patch-closes-race", "write-vs-mkwrite-safe", "write-vs-fallocate-safe"],
  );
  for (const c of claims) {
    assert.equal(c.holds, true, `${c.id}: ${c.observed}`);
    assert.match(c.source, /^002_33cfda33f14e83de\.txt: Zhang Yi, 2024-05-17/);
  }
});

test("session: step forward, back, and replay give the same states", () => {
  const s = new Session("ext4-delalloc-fallocate");
  assert.deepEqual(s.threads, ["ext4_page_mkwrite", "ext4_fallocate", "writeback+evict"]);
  s.step("ext4_page_mkwrite", 7);
  const before = s.state;
  assert.equal(before["es tree"], "hole");
  s.stepUntilBlocked("ext4_fallocate");
  assert.equal(s.state["es tree"], "unwritten");
  assert.equal(s.state["on-disk extent"], "unwritten");
  s.back(7);
  assert.deepEqual(s.state, before);
  assert.throws(() => s.step("writeback+evict"), /cannot run: it waits for the other threads to finish/);
  s.run(check(sc, {}).counterexample!.schedule);
  assert.ok(s.findings.includes(LEAK));
  assert.equal(s.state["i_reserved_data_blocks"], 1);
  assert.equal(s.state["es tree"], "none");
});

test("both windows leak under baseline and neither under the fix: es hole entry, and no es entry", () => {
  // fallocate caches a hole first, so ext4_da_map_blocks goes straight to add_delayed (no disk lookup);
  // versus: mkwrite finds no entry and looks the disk up (the counterexample's window).
  const holeEntry = "1x5.0x4.1x5";
  const noEntry = "0x7.1x7";
  for (const schedule of [holeEntry, noEntry]) {
    const base = replay(sc, { fix: "baseline", schedule }).result;
    assert.ok(base.findings.includes(LEAK), `${schedule}: ${base.findings}`);
    assert.deepEqual(replay(sc, { fix: "recheck-es", schedule }).result.findings, [], schedule);
  }
  const hole = replay(sc, { fix: "baseline", schedule: holeEntry }).result.steps;
  assert.ok(hole.some((s) => s.notes?.includes("es: hole: goto add_delayed")));
});

test("the re-check also closes the double reservation of the no-folio-lock counterfactual", () => {
  assert.equal(check(sc, { fix: "baseline", variant: "write-vs-mkwrite-no-folio-lock" }).verdict, "fail");
  assert.equal(check(sc, { fix: "recheck-es", variant: "write-vs-mkwrite-no-folio-lock" }).verdict, "pass");
});
