/**
 * The exhaustive search (issue 8): the sleep-set bugs the reduction property test found, DPOR and
 * state caching against the sleep-set search on the bundled scenarios, budgets that keep partial
 * results (time limit, stop requests, Ctrl-C), and interleaving counts only on request.
 */
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import path from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import {
  Cell,
  check,
  defineScenario,
  dfs,
  getScenario,
  READ_ONCE,
  resolveConfig,
  sitesIn,
  WRITE_ONCE,
  type CheckResult,
  type Task,
} from "../src/index.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const cli = path.join(root, "dist/cli/main.js");
const at = sitesIn("lib/test.c", "v6.12");
const S = at("t", "step");

/** T0: BUG_ON(READ_ONCE(c) == 0); T1: WRITE_ONCE(d, 1): the BUG can come before or after T1's store. */
const bugStop = defineScenario<{ c: Cell<number>; d: Cell<number> }, Record<string, never>>({
  id: "test-bug-stop",
  setup: () => ({
    state: { c: new Cell("c", 0), d: new Cell("d", 0) },
    threads: {
      *t0(t: Task, s) {
        yield S;
        if (READ_ONCE(t, s.c) === 0) t.bug("BUG_ON(c == 0)");
      },
      *t1(t: Task, s) {
        yield S;
        WRITE_ONCE(t, s.d, 1);
      },
    },
  }),
  view: (s) => ({ d: s.d.peek() }),
});

/** Final views of every execution a search visits. */
function finals(sc: typeof bugStop, opts: Parameters<typeof dfs>[2]): string[] {
  const seen = new Set<string>();
  dfs(sc, resolveConfig(sc, "baseline", "default", {}), opts, (v) => {
    seen.add(JSON.stringify(v.exec.view()));
  });
  return [...seen].sort();
}

test("a step that stops the execution (BUG) is ordered against every other step: both final states are reached", () => {
  const none = finals(bugStop, { sleepSets: false });
  assert.deepEqual(none, ['{"d":0}', '{"d":1}']);
  assert.deepEqual(finals(bugStop, {}), none, "sleep sets");
  assert.deepEqual(finals(bugStop, { dpor: true }), none, "dpor");
  assert.deepEqual(finals(bugStop, { stateCaching: true }), none, "state caching");
});

test("an invariant's reads are known before the first step: the search does not pass what an unreduced one fails", () => {
  const sc = defineScenario<{ c0: Cell<number>; c1: Cell<number> }, Record<string, never>>({
    id: "test-invariant-first-step",
    setup: () => ({
      state: { c0: new Cell("c0", 0), c1: new Cell("c1", 0) },
      threads: {
        *t0(t: Task, s) {
          yield S;
          WRITE_ONCE(t, s.c0, 1);
        },
        *t1(t: Task, s) {
          yield S;
          WRITE_ONCE(t, s.c1, 1);
        },
      },
    }),
    // Violated only in the state where t1's store came first.
    invariants: [{ name: "c1 before c0", check: (s) => (s.c1.value === 1 && s.c0.value === 0 ? "c1 stored before c0" : null) }],
  });
  for (const reduction of ["none", "sleep-sets", "dpor", "state-caching"] as const) {
    const r = check(sc, { reduction, crossCheck: 0 });
    assert.equal(r.verdict, "fail", reduction);
    assert.equal(r.complete, true, reduction);
  }
});

const same = (a: CheckResult, b: CheckResult, where: string) => {
  assert.equal(b.verdict, a.verdict, where);
  assert.equal(b.executions, a.executions, `${where}: one execution per Mazurkiewicz trace in both`);
  assert.deepEqual(b.findings, a.findings, where);
  assert.equal(b.naiveExecutions, a.naiveExecutions, where);
  assert.equal(b.counterexample?.schedule, a.counterexample?.schedule, where);
};

test("dpor visits exactly the sleep-set search's executions, with fewer sleep-blocked prefixes (ext4, buffer-migrate)", () => {
  for (const id of ["ext4-delalloc-fallocate", "buffer-migrate-jbd2"]) {
    const sc = getScenario(id);
    let blockedSleep = 0;
    let blockedDpor = 0;
    for (const f of sc.fixes)
      for (const v of sc.variants) {
        const a = check(sc, { fix: f.id, variant: v.id, countNaive: true });
        const b = check(sc, { fix: f.id, variant: v.id, countNaive: true, reduction: "dpor" });
        same(a, b, `${id} ${f.id}/${v.id}`);
        assert.equal(b.reduction, "dpor");
        blockedSleep += a.sleepBlocked;
        blockedDpor += b.sleepBlocked;
      }
    assert.ok(blockedDpor < blockedSleep, `${id}: ${blockedDpor} sleep-blocked prefixes under dpor, ${blockedSleep} under sleep sets`);
  }
  // blocks=2: 928 executions either way.
  const sc = getScenario("ext4-delalloc-fallocate");
  const a = check(sc, { fix: "recheck-es", params: { blocks: 2 }, crossCheck: 0 });
  const b = check(sc, { fix: "recheck-es", params: { blocks: 2 }, crossCheck: 0, reduction: "dpor" });
  assert.equal(a.executions, 928);
  same(a, b, "ext4 recheck-es blocks=2");
  assert.ok(b.sleepBlocked * 4 < a.sleepBlocked, `${b.sleepBlocked} vs ${a.sleepBlocked}`);
});

test("state caching: same verdicts and findings as the sleep-set search, states reported, no interleaving count", () => {
  const sc = getScenario("ext4-delalloc-fallocate");
  for (const f of sc.fixes)
    for (const v of sc.variants) {
      const a = check(sc, { fix: f.id, variant: v.id });
      const b = check(sc, { fix: f.id, variant: v.id, reduction: "state-caching", countNaive: true });
      const where = `${f.id}/${v.id}`;
      assert.equal(b.verdict, a.verdict, where);
      assert.deepEqual(Object.keys(b.findings), Object.keys(a.findings), where);
      assert.ok(b.executions <= a.executions, where);
      assert.ok(b.states !== null && b.states > b.executions, where);
      assert.equal(b.naiveExecutions, null, "state caching does not visit every trace: no count");
      assert.equal(b.counterexample?.schedule, a.counterexample?.schedule, where);
    }
  assert.equal(check(sc, {}).states, null);
});

test("interleavings are counted only on request", () => {
  const sc = getScenario("ext4-delalloc-fallocate");
  const r = check(sc, {});
  assert.equal(r.naiveExecutions, null);
  assert.equal(r.naiveViolations, null);
  const c = check(sc, { countNaive: true });
  assert.ok(c.naiveExecutions! > c.executions);
  assert.equal(c.executions, r.executions);
});

test("budgets: a time limit or a stop request ends the search with a partial result, never pass", () => {
  const sc = getScenario("ext4-delalloc-fallocate");
  for (const reduction of ["sleep-sets", "dpor"] as const) {
    const r = check(sc, { fix: "recheck-es", params: { blocks: 3 }, reduction, timeLimitMs: 300 });
    assert.equal(r.verdict, "incomplete", reduction);
    assert.equal(r.complete, false);
    assert.equal(r.stopReason, "time limit of 300 ms");
    assert.ok(r.executions > 0 && r.elapsedMs < 5000, `${r.executions} executions in ${r.elapsedMs} ms`);
    assert.match(r.warnings.join(" "), /stopped early \(time limit of 300 ms\)/);
    assert.equal(r.crossCheck, null, "no cross-check of an incomplete search");
  }
  let polls = 0;
  const r = check(sc, { fix: "recheck-es", params: { blocks: 3 }, stop: () => (++polls > 20 ? "interrupted (test)" : null) });
  assert.equal(r.verdict, "incomplete");
  assert.equal(r.stopReason, "interrupted (test)");
  const rnd = check(sc, { mode: "random", runs: 100_000, stop: () => "interrupted (test)" });
  assert.equal(rnd.verdict, "fail", "random runs found the race before the stop");
  assert.equal(rnd.executions, 1000);
  assert.equal(check(sc, { fix: "recheck-es", mode: "random", runs: 100_000, stop: () => "interrupted (test)" }).verdict, "incomplete");
  // Counts, findings and the first counterexample do not depend on when progress is reported.
  const seen: number[] = [];
  const p = check(sc, { fix: "recheck-es", params: { blocks: 2 }, crossCheck: 0, onProgress: (done) => seen.push(done) });
  assert.equal(p.executions, 928);
  assert.ok(seen.every((n) => n <= 928));
});

test("racelab check --time-limit prints an incomplete result; Ctrl-C prints the partial result and exits 130", async () => {
  const t = spawnSync(process.execPath, [cli, "check", "ext4-delalloc-fallocate", "--fix", "recheck-es", "--param", "blocks=3", "--time-limit", "0.5"], {
    encoding: "utf8",
  });
  assert.equal(t.status, 0, t.stderr);
  assert.match(t.stdout, /recheck-es\/default: no violation found \(incomplete: time limit of 500 ms\)/);
  assert.doesNotMatch(t.stdout, /: pass/);

  const child = spawn(process.execPath, [cli, "check", "ext4-delalloc-fallocate", "--fix", "recheck-es", "--param", "blocks=3", "--json"]);
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  await new Promise((r) => setTimeout(r, 1500));
  child.kill("SIGINT");
  const code = await new Promise<number | null>((r) => child.on("exit", r));
  assert.equal(code, 130, stderr);
  const r = JSON.parse(stdout) as CheckResult;
  assert.equal(r.verdict, "incomplete");
  assert.equal(r.stopReason, "interrupted (SIGINT)");
  assert.ok(r.executions > 0);
  assert.match(stderr, /interrupted \(SIGINT\): stopping/);
});
