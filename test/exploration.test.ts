/**
 * The exhaustive search (issue 8): the sleep-set bugs the reduction property test found, DPOR and
 * state caching against the sleep-set search on the bundled scenarios, budgets that keep partial
 * results (time limit, stop requests, Ctrl-C), and interleaving counts only on request.
 */
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import {
  Cell,
  check,
  schedule,
  set_current_state,
  TASK_UNINTERRUPTIBLE,
  wake_up_process,
  defineScenario,
  explorePart,
  getScenario,
  makeStrategy,
  mergeParts,
  READ_ONCE,
  resolveConfig,
  runStrategy,
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

/** Final views of every execution the registered strategy `name` visits. */
function finals(sc: typeof bugStop, name: string): string[] {
  const seen = new Set<string>();
  runStrategy(sc, resolveConfig(sc, "baseline", "default", {}), makeStrategy(name, { seed: 1, runs: Infinity, pctDepth: 3 }), {}, (v) => {
    seen.add(JSON.stringify(v.exec.view()));
  });
  return [...seen].sort();
}

test("a step that stops the execution (BUG) is ordered against every other step: both final states are reached", () => {
  const none = finals(bugStop, "none");
  assert.deepEqual(none, ['{"d":0}', '{"d":1}']);
  assert.deepEqual(finals(bugStop, "sleep-sets"), none, "sleep sets");
  assert.deepEqual(finals(bugStop, "dpor"), none, "dpor");
  assert.deepEqual(finals(bugStop, "state-caching"), none, "state caching");
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

test("state caching: a lock release and an object reference tell a thread nothing beyond themselves", () => {
  // ext4 recheck-es, blocks=2: 41,920 states. Observing the content of every object a field
  // read returned and the lock state at every release (before 2026-11-30) stored 120,651.
  const r = check("ext4-delalloc-fallocate", { fix: "recheck-es", params: { blocks: 2 }, reduction: "state-caching" });
  assert.equal(r.verdict, "pass");
  assert.ok(r.states !== null && r.states < 50_000, `${r.states} states`);
  assert.equal(r.crossCheck?.mismatches, 0);
});

test("state caching covers a thread's __state (the lost wake-up): same verdicts and findings as the unreduced search", () => {
  // The waiter tests the condition before set_current_state(): a wake-up in between is lost.
  const at = sitesIn("kernel/example.c", "v6.12");
  const TEST = at("waiter", "if (!s->done)");
  const SET = at("waiter", "set_current_state(TASK_UNINTERRUPTIBLE)");
  const SLEEP = at("waiter", "schedule()");
  const DONE = at("waker", "s->done = 1");
  const WAKE = at("waker", "wake_up_process(s->waiter)");
  interface S {
    done: number;
    waiter: Task | null;
  }
  for (const fixed of [false, true]) {
    const sc = defineScenario<S, Record<string, never>>({
      id: `lost-wakeup-${fixed ? "fixed" : "buggy"}`,
      setup: () => ({
        state: { done: 0, waiter: null },
        threads: [
          {
            name: "waiter",
            *body(t: Task, s: S) {
              if (fixed) yield* set_current_state(t, TASK_UNINTERRUPTIBLE, SET);
              yield TEST;
              s.waiter = t;
              if (s.done) return;
              if (!fixed) yield* set_current_state(t, TASK_UNINTERRUPTIBLE, SET);
              yield* schedule(t, SLEEP);
            },
          },
          {
            name: "waker",
            *body(t: Task, s: S) {
              yield DONE;
              s.done = 1;
              yield WAKE;
              const p = s.waiter;
              if (p !== null) yield* wake_up_process(t, p, WAKE);
            },
          },
        ],
      }),
    });
    const none = check(sc, { reduction: "none" });
    const cached = check(sc, { reduction: "state-caching" });
    assert.equal(none.verdict, fixed ? "pass" : "fail");
    assert.deepEqual(
      [cached.verdict, cached.reduction, Object.keys(cached.findings), cached.warnings],
      [none.verdict, "state-caching", Object.keys(none.findings), []],
    );
    assert.ok(cached.states !== null && cached.states > 0);
  }
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
  // The runner polls every 256 steps, whatever the strategy: the first poll ends the sampling.
  assert.ok(rnd.executions > 0 && rnd.executions <= 256, `${rnd.executions} executions before the first poll`);
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

test("shards: the parts of a search add up to the whole, and mergeParts gives exactly the single check's result", () => {
  for (const [id, fix, params] of [
    ["ext4-delalloc-fallocate", "baseline", { blocks: 2 }],
    ["ext4-delalloc-fallocate", "recheck-es", { blocks: 2 }],
    ["buffer-migrate-jbd2", "no-private-lock", {}],
  ] as const) {
    const sc = getScenario(id);
    const opts = { fix, params, countNaive: true };
    const one = check(sc, opts);
    for (const count of [1, 2, 3, 5]) {
      const parts = Array.from({ length: count }, (_, index) => explorePart(sc, { ...opts, shard: { index, count } }));
      assert.equal(parts.reduce((a, p) => a + p.executions, 0), one.executions, `${id} ${fix}: ${count} shards`);
      const merged = mergeParts(sc, opts, [...parts].reverse());
      assert.deepEqual({ ...merged, elapsedMs: 0 }, { ...one, elapsedMs: 0 }, `${id} ${fix}: merge of ${count} shards`);
    }
  }
  const sc = getScenario("ext4-delalloc-fallocate");
  const part = (index: number, count: number) => explorePart(sc, { shard: { index, count } });
  assert.throws(() => mergeParts(sc, {}, [part(0, 2)]), /need shards 0 to 1 of one search, each once; got 0 of 2/);
  assert.throws(() => mergeParts(sc, {}, [part(0, 2), part(0, 2)]), /each once/);
  assert.throws(() => explorePart(sc, { shard: { index: 0, count: 2 }, reduction: "dpor" }), /--shard needs --reduction sleep-sets or none/);
  assert.throws(() => check(sc, { shard: { index: 0, count: 2 } }), /use explorePart\(\) for one shard/);
});

test("racelab check --shard k/N and racelab merge print what one check prints; --workers 2 gives the same result", () => {
  const args = ["check", "ext4-delalloc-fallocate", "--param", "blocks=2"];
  const one = spawnSync(process.execPath, [cli, ...args, "--json"], { encoding: "utf8" });
  assert.equal(one.status, 0, one.stderr);
  const dir = mkdtempSync(path.join(tmpdir(), "racelab-shards-"));
  const files = [0, 1, 2].map((k) => {
    const r = spawnSync(process.execPath, [cli, ...args, "--shard", `${k}/3`], { encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
    const f = path.join(dir, `part${k}.json`);
    writeFileSync(f, r.stdout);
    return f;
  });
  const merged = spawnSync(process.execPath, [cli, "merge", ...files, "--json"], { encoding: "utf8" });
  assert.equal(merged.status, 0, merged.stderr);
  const strip = (s: string) => ({ ...(JSON.parse(s) as CheckResult), elapsedMs: 0 });
  assert.deepEqual(strip(merged.stdout), strip(one.stdout));
  const w = spawnSync(process.execPath, [cli, ...args, "--workers", "2", "--json"], { encoding: "utf8" });
  assert.equal(w.status, 0, w.stderr);
  assert.deepEqual(strip(w.stdout), strip(one.stdout));
  // elapsedMs covers the workers' search, not only the merge (it was the merge's 0.1 s against a
  // search of seconds, a new user's trial): the same search, so at least a quarter of one worker's.
  const e1 = (JSON.parse(one.stdout) as CheckResult).elapsedMs;
  const e2 = (JSON.parse(w.stdout) as CheckResult).elapsedMs;
  assert.ok(e2 >= e1 / 4, `--workers 2 elapsedMs ${e2} against ${e1} with one`);
  // Bad input: one line, exit 2.
  for (const [argv, re] of [
    [["merge", files[0]!, files[1]!], /need shards 0 to 2 of one search/],
    [["merge", path.join(dir, "missing.json")], /cannot read .*missing\.json: ENOENT/],
    [[...args, "--shard", "3/3"], /--shard must be k\/N with 0 <= k < N/],
    [[...args, "--workers", "2", "--reduction", "dpor"], /--workers needs --mode exhaustive and --reduction sleep-sets or none/],
  ] as const) {
    const r = spawnSync(process.execPath, [cli, ...argv], { encoding: "utf8" });
    assert.equal(r.status, 2, `${argv.join(" ")}: ${r.stderr}`);
    assert.match(r.stderr, re);
    assert.equal(r.stderr.trim().split("\n").length, 1);
  }
});
