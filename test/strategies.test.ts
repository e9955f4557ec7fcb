/**
 * The exploration runner and its strategies (issue 8, section 1): a registry keyed by mode and
 * reduction, a strategy of one's own plugged into the same runner, accesses fed back to the
 * strategy, structured findings, no thread-count probe that runs a scenario's setup, and the
 * hash-collision probability of state caching.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import {
  ABANDON,
  altOf,
  Cell,
  check,
  collisionProbability,
  defineScenario,
  explorePart,
  FINISH,
  findingKey,
  getScenario,
  makeStrategy,
  mergeParts,
  MODES,
  READ_ONCE,
  REDUCTIONS,
  registerStrategy,
  replay,
  resolveConfig,
  runStrategy,
  sitesIn,
  strategyNames,
  UsageError,
  WRITE_ONCE,
  zeroCounters,
  type Execution,
  type Strategy,
  type Task,
} from "../src/index.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const cli = path.join(root, "dist/cli/main.js");
const at = sitesIn("lib/test.c", "v6.12");
const S = at("t", "step");

/** Two threads racing on a flag (b warns when it sees it set, if `warn`); `setups` counts the calls of setup(). */
function counted(warn = true) {
  const calls = { setups: 0 };
  const sc = defineScenario<{ c: Cell<number> }, Record<string, never>>({
    id: "test-counted",
    setup: () => {
      calls.setups++;
      return {
        state: { c: new Cell("c", 0) },
        threads: {
          *a(t: Task, s) {
            yield S;
            WRITE_ONCE(t, s.c, 1);
          },
          *b(t: Task, s) {
            yield S;
            if (READ_ONCE(t, s.c) === 1 && warn) t.warn("saw c == 1");
          },
        },
      };
    },
    view: (s) => ({ c: s.c.peek() }),
  });
  return { sc, calls };
}

test("the registry: every mode and reduction has a strategy; unknown names are a one-line UsageError", () => {
  const names = strategyNames();
  for (const r of REDUCTIONS) assert.ok(names.includes(r), r);
  for (const m of MODES) if (m !== "exhaustive") assert.ok(names.includes(m), m);
  assert.ok(names.includes("replay") && names.includes("preemption-bound"));
  assert.throws(() => makeStrategy("no-such", { seed: 1, runs: 1, pctDepth: 3 }), (e: unknown) => e instanceof UsageError && /unknown strategy 'no-such'/.test(e.message));
  assert.throws(() => registerStrategy("Bad Name", () => makeStrategy("random", { seed: 1, runs: 1, pctDepth: 3 })), UsageError);
});

test("a strategy of one's own runs on the runner: accesses fed back when it records, abandon and finish honoured", () => {
  const { sc } = counted();
  const cfg = resolveConfig(sc, "baseline", "default", {});
  /** Runs thread 0 to the end, then thread 1 (and the reverse on the second execution); abandons a third after one step. */
  class Serial implements Strategy {
    readonly name = "serial";
    recording = true;
    readonly unit = 0;
    readonly total = 3;
    readonly counters = zeroCounters();
    made = 0;
    accesses: (number[] | null)[] = [];
    ends: string[] = [];
    newExecution(): boolean {
      return this.made++ < 3;
    }
    nextStep(exec: Execution, en: readonly number[]): number {
      if (en.length === 0) return FINISH;
      if (this.made === 3 && exec.steps === 1) return ABANDON;
      const first = this.made === 2 ? 1 : 0;
      return altOf(en.includes(first) ? first : en[0]!, 0);
    }
    stepped(_exec: Execution, _alt: number, acc: number[] | null): void {
      this.accesses.push(acc);
    }
    endExecution(_exec: Execution, end: string): void {
      this.ends.push(end);
    }
  }
  const s = new Serial();
  const warned: boolean[] = [];
  const stats = runStrategy(sc, cfg, s, {}, (v) => {
    warned.push(v.exec.findings.some((f) => f.kind === "warning"));
  });
  assert.deepEqual(s.ends, ["complete", "complete", "abandoned"]);
  assert.equal(stats.executions, 2);
  assert.equal(stats.abandoned, 1);
  assert.equal(stats.complete, true, "the strategy ended the run itself");
  assert.deepEqual(warned, [true, false], "a then b sees c == 1; b then a does not");
  assert.ok(s.accesses.every((a) => Array.isArray(a)), "a recording strategy gets every step's accesses");
  assert.ok(s.accesses.some((a) => a!.length > 0));
  // Not recording: the runner passes null.
  s.recording = false;
  s.made = 0;
  s.accesses = [];
  runStrategy(sc, cfg, s, {}, () => {});
  assert.ok(s.accesses.length > 0 && s.accesses.every((a) => a === null));
  // A strategy that finishes while threads can run is refused.
  const bad: Strategy = { ...new Serial(), name: "bad", newExecution: () => true, nextStep: () => FINISH, stepped: () => {} };
  assert.throws(() => runStrategy(sc, cfg, bad, {}, () => {}), /finished an execution where threads can still run/);
  // Registered, it is made by name like the bundled ones.
  registerStrategy("test-serial", () => new Serial());
  assert.equal(makeStrategy("test-serial", { seed: 1, runs: 1, pctDepth: 3 }).name, "serial");
});

test("no thread-count probe: random and pct runs and replay call setup() once per execution", () => {
  const { sc, calls } = counted(false);
  for (const mode of ["random", "pct"] as const) {
    calls.setups = 0;
    const r = check(sc, { mode, runs: 25, seed: 3 });
    assert.equal(r.verdict, "pass");
    assert.equal(calls.setups, 25, `${mode}: one setup() per run`);
  }
  calls.setups = 0;
  replay(sc, { schedule: "0.1" });
  assert.equal(calls.setups, 1, "replay: one setup()");
  calls.setups = 0;
  const ex = check(sc, { crossCheck: 0 });
  assert.equal(calls.setups, ex.executions + ex.sleepBlocked, "exhaustive: one setup() per execution or sleep-blocked prefix");
});

test("findings stay structured: findingCounts, the counterexample's kind, message, thread and step, replay's raised", () => {
  const sc = getScenario("ext4-delalloc-fallocate");
  const r = check(sc, {});
  assert.equal(r.verdict, "fail");
  assert.deepEqual(
    r.findingCounts.map((f) => [findingKey(f), f.executions]),
    Object.entries(r.findings),
  );
  const ce = r.counterexample!;
  assert.equal(ce.finding, `${ce.kind}: ${ce.message}`);
  assert.ok(ce.step >= -1 && ce.step < ce.steps.length);
  if (ce.step >= 0) assert.match(ce.steps[ce.step]!.finding ?? "", new RegExp(ce.message.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")));
  const rp = replay(sc, { schedule: ce.schedule });
  assert.deepEqual(rp.result.raised.map(findingKey), rp.result.findings);
  assert.ok(rp.result.raised.some((f) => f.kind === ce.kind && f.message === ce.message && f.step === ce.step && f.thread === ce.thread));
});

test("state caching reports its hash-collision probability (n(n-1)/2 / 2^64); other reductions report null", () => {
  const sc = getScenario("ext4-delalloc-fallocate");
  const r = check(sc, { fix: "recheck-es", reduction: "state-caching" });
  assert.ok(r.states !== null && r.states > 0);
  assert.equal(r.hashCollisionProbability, (r.states! * (r.states! - 1)) / 2 / 2 ** 64);
  assert.equal(collisionProbability(2 ** 33), 1, "capped at 1");
  assert.equal(check(sc, { fix: "recheck-es" }).hashCollisionProbability, null);
  const t = spawnSync(process.execPath, [cli, "check", "ext4-delalloc-fallocate", "--fix", "recheck-es", "--reduction", "state-caching"], { encoding: "utf8" });
  assert.match(t.stdout, /states \(\d+ executions? to an end state not seen before; hash collision probability \d(\.\d+)?e-\d+\)/);
});

test("racelab merge refuses a shard file of another format version with one line, exit 2", () => {
  const dir = mkdtempSync(path.join(tmpdir(), "racelab-shard-"));
  const f = path.join(dir, "old.json");
  writeFileSync(f, JSON.stringify({ racelab: "shard", version: 1, scenario: "x", source: "x", options: {}, part: {} }));
  const t = spawnSync(process.execPath, [cli, "merge", f], { encoding: "utf8" });
  assert.equal(t.status, 2);
  assert.match(t.stderr, /another racelab version \(1, this one reads 2\)/);
  assert.equal(t.stderr.trim().split("\n").length, 1);
});

test("--workers' shared claims: a part takes every subtree it reaches first; the merge is still exactly one check", () => {
  const sc = getScenario("ext4-delalloc-fallocate");
  const opts = { fix: "recheck-es", params: { blocks: 2 } } as const;
  const one = check(sc, opts);
  // Run one after the other, part 0 claims every unit and part 1 finds them all taken: the most
  // unequal split there is, and still the same result.
  const claims = new Int32Array(new SharedArrayBuffer(4 * 65_536));
  const p0 = explorePart(sc, { ...opts, shard: { index: 0, count: 2, claims } });
  const p1 = explorePart(sc, { ...opts, shard: { index: 1, count: 2, claims } });
  assert.equal(p0.executions, one.executions);
  assert.equal(p1.executions, 0);
  assert.deepEqual(p0.shard, { index: 0, count: 2 }, "the part does not carry the shared array");
  const merged = mergeParts(sc, opts, [p0, p1]);
  assert.deepEqual({ ...merged, elapsedMs: 0 }, { ...one, elapsedMs: 0 });
  // Without claims the same parts are dealt round-robin: both get work.
  const r0 = explorePart(sc, { ...opts, shard: { index: 0, count: 2 } });
  assert.ok(r0.executions > 0 && r0.executions < one.executions);
});

test("FingerprintTable keeps every fingerprint's sleep set, as masks or arrays, across growth (fast-check against a Map)", async () => {
  const { FingerprintTable } = await import("../src/engine/fingerprint.js");
  const fc = (await import("fast-check")).default;
  // Alternatives: thread ids (a mask when all are below 31), thread 40, or a choice (tid | c << 12).
  const alt = fc.oneof(fc.integer({ min: 0, max: 30 }), fc.constant(40), fc.integer({ min: 1, max: 3 }).map((c) => 2 | (c << 12)));
  const sleep = fc.uniqueArray(alt, { maxLength: 4 }).map((a) => a.sort((x, y) => x - y));
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 200_000 }), sleep, fc.boolean()), { maxLength: 300 }), (ops) => {
      const table = new FingerprintTable();
      const model = new Map<number, readonly number[]>();
      const fp = new Uint32Array(2);
      for (const [k, s, replace] of ops) {
        fp[0] = Math.imul(k, 0x9e3779b1);
        fp[1] = k;
        const i = table.find(fp);
        if (i < 0) table.insert(fp, s);
        else if (replace) table.setSleep(i, s);
        else continue;
        model.set(k, s);
      }
      assert.equal(table.size, model.size);
      for (const [k, s] of model) {
        fp[0] = Math.imul(k, 0x9e3779b1);
        fp[1] = k;
        const i = table.find(fp);
        assert.ok(i >= 0);
        assert.deepEqual(table.sleepOf(i), s);
      }
    }),
    { seed: 20261130, numRuns: 200 },
  );
  // Growth past the first 65,536 slots keeps masks.
  const table = new FingerprintTable();
  const fp = new Uint32Array(2);
  for (let k = 1; k <= 70_000; k++) {
    fp[0] = k * 7;
    fp[1] = k;
    table.insert(fp, [k % 31]);
  }
  fp[0] = 12_345 * 7;
  fp[1] = 12_345;
  assert.deepEqual(table.sleepOf(table.find(fp)), [12_345 % 31]);
});
