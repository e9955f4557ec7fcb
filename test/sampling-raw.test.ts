/**
 * Sampling on the raw state (track.ts, "Sampling"; runner.ts, Strategy.checkpoint): random, PCT
 * and timed executions run without the tracking proxies until one needs them, then again
 * tracked. These tests run every configuration of every bundled scenario both ways and compare
 * every execution (schedule, choices, findings), and make the fallback happen on purpose
 * (kmalloc, kfree and use-after-free, an object loaded from a Cell) to check that the run goes
 * on tracked with the same results.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  Cell,
  defineScenario,
  GFP_KERNEL,
  kfree,
  kmalloc,
  load,
  makeStrategy,
  rates,
  READ_ONCE,
  resolveConfig,
  runStrategy,
  sitesIn,
  store,
  WRITE_ONCE,
  type AnyScenario,
  type MemoryModel,
  type Task,
} from "../src/index.js";
import { scenarios } from "../src/scenarios/index.js";

type Mode = "random" | "pct" | "timed";

/** Every execution of a run: thread and choice of each step, and the findings. */
function runAll(sc: AnyScenario, fix: string, variant: string, mm: MemoryModel | undefined, mode: Mode, tracked: boolean, runs: number) {
  const cfg = resolveConfig(sc, fix, variant, {}, mm);
  const strategy = makeStrategy(mode, { seed: 11, runs, pctDepth: 3 });
  const out: string[] = [];
  let onRaw = 0;
  const stats = runStrategy(sc, cfg, strategy, { tracked }, (v) => {
    if (v.exec.tracker.sampling) onRaw++;
    out.push(`${v.cut ? "cut " : ""}${v.exec.schedule.join(",")}|${v.exec.choices.join(",")}|${v.exec.findings.map((f) => `${f.kind}: ${f.message} @${f.thread}/${f.step}`).join("; ")}`);
  });
  return { out, stats, onRaw };
}

test("every bundled configuration: the same executions on the raw state as tracked (random, pct, timed)", () => {
  let configs = 0;
  let failing = 0;
  for (const sc of scenarios)
    for (const fix of sc.fixes)
      for (const variant of sc.variants) {
        const mms: (MemoryModel | undefined)[] = variant.memoryModel !== undefined ? [undefined] : [undefined, "tso", "pso"];
        for (const mm of mms)
          for (const mode of ["random", "pct", "timed"] as const) {
            const runs = 150;
            const raw = runAll(sc, fix.id, variant.id, mm, mode, false, runs);
            const tracked = runAll(sc, fix.id, variant.id, mm, mode, true, runs);
            const what = `${sc.id} ${fix.id}/${variant.id} ${mm ?? "default"} ${mode}`;
            assert.equal(raw.out.length, runs, what);
            assert.deepEqual(raw.out, tracked.out, what);
            assert.equal(raw.stats.steps, tracked.stats.steps, what);
            // No bundled model needs the proxies in a sampling run.
            assert.equal(raw.stats.retracked, false, what);
            assert.equal(raw.onRaw, runs, what);
            assert.equal(tracked.onRaw, 0, what);
            assert.equal(tracked.stats.retracked, false, what);
            configs++;
            if (raw.out.some((e) => !e.endsWith("|"))) failing++;
          }
      }
  // Enough configurations with findings that the comparison covers failing executions too.
  assert.ok(configs >= 100, `${configs} configurations`);
  assert.ok(failing >= 20, `${failing} configurations with a failing execution`);
});

const at = sitesIn("lib/test.c", "v6.12");
interface Obj {
  data: number;
}
interface UafState {
  gp: Cell<Obj | null>;
  count: number;
}
/** A reader that uses gp after an updater may have freed it; the object is kmalloc()ed by a third thread first. */
const uaf = defineScenario<UafState, Record<string, never>>({
  id: "test-sampling-uaf",
  setup: () => ({
    state: { gp: new Cell<Obj | null>("gp", null), count: 0 },
    threads: {
      *alloc(t: Task, s) {
        const o = yield* kmalloc(t, { data: 1 }, GFP_KERNEL, at("alloc", "kmalloc()"));
        yield at("alloc", "rcu_assign_pointer(gp, o)");
        store(t, s.gp, o);
      },
      *reader(t: Task, s) {
        yield at("reader", "p = READ_ONCE(gp)");
        const p = load(t, s.gp);
        s.count++;
        if (p !== null) {
          yield at("reader", "p->data");
          if (p.data !== 1) t.warn("data changed");
        }
      },
      *updater(t: Task, s) {
        yield at("updater", "old = xchg(gp, NULL)");
        const old = load(t, s.gp);
        store(t, s.gp, null);
        yield* kfree(t, old, at("updater", "kfree(old)"));
      },
    },
  }),
  view: (s) => ({ count: s.count }),
});

/** Only plain numbers in a plain state: never needs tracking in a sampling run. */
const counter = defineScenario<{ x: number; flag: Cell<number> }, Record<string, never>>({
  id: "test-sampling-plain",
  setup: () => ({
    state: { x: 0, flag: new Cell("flag", 0) },
    threads: {
      *a(t: Task, s) {
        yield at("a", "x++ (load)");
        const v = s.x;
        yield at("a", "x++ (store)");
        s.x = v + 1;
        WRITE_ONCE(t, s.flag, 1);
      },
      *b(t: Task, s) {
        yield at("b", "x++");
        s.x = s.x + 1;
        yield at("b", "check");
        if (READ_ONCE(t, s.flag) === 1 && s.x !== 2) t.warn(`x == ${s.x}`);
      },
    },
  }),
  view: (s) => ({ x: s.x }),
});

test("a model that allocates, frees and loads objects from a Cell: the run goes on tracked, with the same executions and the use-after-free found", () => {
  for (const mode of ["random", "pct", "timed"] as const) {
    const raw = runAll(uaf, "baseline", "default", undefined, mode, false, 400);
    const tracked = runAll(uaf, "baseline", "default", undefined, mode, true, 400);
    assert.equal(raw.stats.retracked, true, mode);
    assert.equal(raw.onRaw, 0, mode);
    assert.deepEqual(raw.out, tracked.out, mode);
    // (Timed runs start the three threads within 1 µs of each other and rarely meet this order.)
    if (mode !== "timed") assert.ok(raw.out.some((e) => e.includes("bug: use-after-free: reader accesses")), `${mode}: no use-after-free in 400 runs`);
  }
  const r = rates(uaf, { runs: 2000, seed: 3 });
  assert.ok(r.failures > 0 && r.findings.some((f) => f.finding.startsWith("bug: use-after-free")), JSON.stringify(r.findings));
});

test("a model of plain fields and Cells holding numbers stays on the raw state, and finds its lost update", () => {
  const raw = runAll(counter, "baseline", "default", undefined, "random", false, 500);
  const tracked = runAll(counter, "baseline", "default", undefined, "random", true, 500);
  assert.equal(raw.stats.retracked, false);
  assert.equal(raw.onRaw, 500);
  assert.deepEqual(raw.out, tracked.out);
  assert.ok(raw.out.some((e) => e.includes("warning: x == 1")), "the lost update of x is found");
});
