import { UsageError } from "../src/errors.js";
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { check, replay, type CheckOptions } from "../src/engine/check.js";
import { runStrategy } from "../src/engine/runner.js";
import { SleepSetSearch, UnreducedSearch } from "../src/engine/strategies/index.js";
import { resolveConfig, type Scenario } from "../src/engine/scenario.js";
import { formatSchedule, parseSchedule } from "../src/engine/schedule.js";
import { sitesIn } from "../src/engine/site.js";
import type { Task } from "../src/engine/task.js";
import { Counter } from "../src/linux/atomic.js";
import { Spinlock, spin_lock, spin_unlock } from "../src/linux/locks.js";
import { renderDiagram } from "../src/engine/trace.js";
import { findingKey } from "../src/engine/finding.js";
import { Cell, load, smp_mb, smp_wmb, store } from "../src/engine/memory.js";

const at = sitesIn("test.c", "v0");
const src = { seed: "test", author: "test", date: "2024-01-01", subject: "test" };

// ---- A lost-update race, small enough to count by hand. ----
interface IncState {
  x: Counter;
  l: Spinlock;
}
const LOAD = at("inc", "load x");
const STORE = at("inc", "store x + 1");
const LOCK = at("inc", "spin_lock(&l)");
const UNLOCK = at("inc", "spin_unlock(&l)");
const inc: Scenario<IncState, { locked: boolean }> = {
  id: "inc",
  title: "lost update",
  summary: "",
  kernel: "v0",
  thread: src,
  params: [{ name: "threads", description: "threads", default: 2, min: 1, max: 5 }],
  defaults: { locked: false },
  fixes: [
    { id: "baseline", title: "", description: "", source: src, options: {} },
    { id: "lock", title: "", description: "", source: src, options: { locked: true } },
  ],
  variants: [{ id: "default", title: "", description: "", options: {} }],
  setup(cfg) {
    const state = { x: new Counter("x"), l: new Spinlock("l") };
    function* body(t: Task, s: IncState) {
      if (cfg.options.locked) yield* spin_lock(t, s.l, LOCK);
      yield LOAD;
      const v = s.x.read();
      yield STORE;
      s.x.set(v + 1);
      if (cfg.options.locked) yield* spin_unlock(t, s.l, UNLOCK);
    }
    return { state, threads: Array.from({ length: cfg.params.threads! }, (_, i) => ({ name: `T${i}`, body })) };
  },
  endChecks: [
    {
      name: "no lost update",
      check(s, r) {
        if (s.x.peek() !== 2) r.report("invariant", `lost update: x=${s.x.peek()}`);
      },
    },
  ],
  view: (s) => ({ x: s.x.peek() }),
  claims: [],
  leftOut: [],
};

test("lost update: verdicts and naive counts match the combinatorics", () => {
  const base = check(inc, { countNaive: true });
  assert.equal(base.verdict, "fail");
  assert.equal(base.naiveExecutions, 6); // C(4,2): two threads of two steps
  assert.deepEqual(base.findings, { "invariant: lost update: x=1": base.violations });
  assert.equal(base.complete, true);
  const fixed = check(inc, { fix: "lock", countNaive: true });
  assert.equal(fixed.verdict, "pass");
  assert.equal(fixed.naiveExecutions, 2); // the lock orders the critical sections
  assert.equal(check(inc, { params: { threads: 3 }, countNaive: true }).naiveExecutions, 90); // 6!/(2!^3)
});

test("counterexample replays to the same finding, with minimal preemptions", () => {
  const r = check(inc, {});
  const ce = r.counterexample!;
  assert.equal(ce.preemptions, 1);
  const rep = replay(inc, { schedule: ce.schedule });
  assert.equal(rep.result.finding, ce.finding);
  assert.deepEqual(rep.result.steps, ce.steps);
  const diagram = renderDiagram(rep.exec);
  assert.match(diagram, /T0 +T1/);
  assert.match(diagram, /lost update: x=1/);
});

test("race diagrams: a thread that runs after another stopped unfinished (an ABBA deadlock) keeps its column; one thread alone gets one column", async () => {
  const { defineScenario, mutex_lock, DEFINE_MUTEX } = await import("../src/index.js");
  const abba = defineScenario({
    id: "abba",
    setup: () => ({
      state: { a: DEFINE_MUTEX("a"), b: DEFINE_MUTEX("b") },
      threads: {
        *p(t: Task, s) { yield* mutex_lock(t, s.a, at("p", "mutex_lock(&a)")); yield* mutex_lock(t, s.b, at("p", "mutex_lock(&b)")); },
        *q(t: Task, s) { yield* mutex_lock(t, s.b, at("q", "mutex_lock(&b)")); yield* mutex_lock(t, s.a, at("q", "mutex_lock(&a)")); },
      },
    }),
  });
  // p takes a and blocks on b; q runs only after p's last step, but p never finished.
  const dl = renderDiagram(replay(abba, { schedule: "0.1" }).exec).split("\n");
  assert.match(dl[0]!, /^p +q$/);
  assert.ok(!dl.some((l) => l.startsWith("then ")), dl.join("\n"));
  assert.match(dl.join("\n"), /after all threads: deadlock: p waits for b/);
  const alone = defineScenario({ id: "alone", setup: () => ({ state: { x: 0 }, threads: { *t(t: Task, s) { yield at("t", "x = 1"); s.x = 1; } } }) });
  const one = renderDiagram(replay(alone, { schedule: "0" }).exec).split("\n");
  assert.deepEqual(one.slice(0, 2), ["t", "-".repeat(75)], "the underline is the column's width");
});

test("schedule strings: round trip and one-line errors", () => {
  fc.assert(
    fc.property(fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 60 }), (tids) => {
      assert.deepEqual(parseSchedule(formatSchedule(tids), 5), tids);
    }),
  );
  assert.throws(() => parseSchedule("0.x.1", 2), UsageError);
  assert.throws(() => parseSchedule("0.7", 2), /threads 0\.\.1/);
  assert.throws(() => replay(inc, { schedule: "0.0.0.0.0" }), /cannot run: it has finished/);
});

test("random and pct modes are deterministic for a seed", () => {
  for (const mode of ["random", "pct"] as const) {
    const a = check(inc, { mode, runs: 500, seed: 7 });
    const b = check(inc, { mode, runs: 500, seed: 7 });
    assert.deepEqual({ ...a, elapsedMs: 0 }, { ...b, elapsedMs: 0 });
    assert.equal(a.verdict, "fail");
  }
});

test("unknown fix, variant, parameter are usage errors", () => {
  assert.throws(() => resolveConfig(inc, "nope", "default"), /unknown fix 'nope'/);
  assert.throws(() => resolveConfig(inc, "baseline", "nope"), /unknown variant 'nope'/);
  assert.throws(() => resolveConfig(inc, "baseline", "default", { threads: 9 }), /out of range/);
  assert.throws(() => resolveConfig(inc, "baseline", "default", { bogus: 1 }), /unknown parameter/);
});

// ---- Random programs: the reduction must find exactly what unreduced search finds. ----
type Op = { k: "r" | "w" | "a"; v: number } | { k: "lock"; l: number; body: Op[] };
const opArb: fc.Memo<Op> = fc.memo((depth) =>
  depth <= 1
    ? fc.record({ k: fc.constantFrom("r" as const, "w" as const, "a" as const), v: fc.integer({ min: 0, max: 2 }) })
    : fc.oneof(
        { weight: 3, arbitrary: opArb(1) },
        { weight: 1, arbitrary: fc.record({ k: fc.constant("lock" as const), l: fc.integer({ min: 0, max: 1 }), body: fc.array(opArb(depth - 1), { minLength: 1, maxLength: 2 }) }) },
      ),
);
const stepsOf = (ops: Op[]): number => ops.reduce((n, op) => n + (op.k === "lock" ? 2 + stepsOf(op.body) : 1), 0);
// Unreduced search is exponential: keep programs at most 12 steps in all (plus one final step per thread).
const programArb = fc
  .array(fc.array(opArb(3), { minLength: 1, maxLength: 3 }), { minLength: 2, maxLength: 3 })
  .filter((threads) => threads.reduce((n, ops) => n + stepsOf(ops), 0) <= 12);

interface PState {
  vars: Counter[];
  locks: Spinlock[];
}
const OP = at("prog", "op");
function programScenario(prog: Op[][]): Scenario<PState, object> {
  function* run(t: Task, s: PState, ops: Op[], acc: { h: number }): Generator<ReturnType<typeof at>, void, undefined> {
    for (const op of ops) {
      if (op.k === "lock") {
        yield* spin_lock(t, s.locks[op.l]!, OP);
        yield* run(t, s, op.body, acc);
        yield* spin_unlock(t, s.locks[op.l]!, OP);
      } else {
        yield OP;
        const c = s.vars[op.v]!;
        if (op.k === "r") acc.h = (acc.h * 31 + c.read()) % 1009;
        else if (op.k === "w") c.set((acc.h * 7 + t.id + 1) % 1009);
        else c.add(t.id + 1);
      }
    }
  }
  return {
    id: "prog",
    title: "",
    summary: "",
    kernel: "v0",
    thread: src,
    params: [],
    defaults: {},
    fixes: [{ id: "baseline", title: "", description: "", source: src, options: {} }],
    variants: [{ id: "default", title: "", description: "", options: {} }],
    setup() {
      const state = { vars: [0, 1, 2].map((i) => new Counter(`v${i}`)), locks: [0, 1].map((i) => new Spinlock(`l${i}`)) };
      return {
        state,
        threads: prog.map((ops, i) => ({
          name: `T${i}`,
          *body(t: Task, s: PState) {
            const acc = { h: 0 };
            yield* run(t, s, ops, acc);
            yield OP;
            s.vars[0]!.add(acc.h * 1000 * (t.id + 1)); // make each thread's observations visible at the end
          },
        })),
      };
    },
    endChecks: [{ name: "final", check: (s, r) => r.report("invariant", s.vars.map((v) => v.peek()).join(",")) }],
    view: () => ({}),
    claims: [],
    leftOut: [],
  };
}

function outcomes(sc: Scenario<PState, object>, sleepSets: boolean) {
  const cfg = resolveConfig(sc, "baseline", "default");
  const seen = new Set<string>();
  const stats = runStrategy(sc, cfg, sleepSets ? new SleepSetSearch() : new UnreducedSearch(), {}, (v) => {
    for (const f of v.exec.findings) seen.add(findingKey(f));
  });
  return { seen, stats };
}

test("sleep sets: same outcomes (final states, deadlocks) as unreduced search, one execution per trace", () => {
  fc.assert(
    fc.property(programArb, (prog) => {
      const sc = programScenario(prog);
      const naive = outcomes(sc, false);
      const reduced = outcomes(sc, true);
      assert.deepEqual([...reduced.seen].sort(), [...naive.seen].sort());
      assert.ok(reduced.stats.executions <= naive.stats.executions);
      // Summing the interleavings equivalent to each explored execution recovers the unreduced count:
      // the reduction visits each Mazurkiewicz trace exactly once.
      assert.equal(check(sc, { countNaive: true }).naiveExecutions, naive.stats.executions);
    }),
    { numRuns: 200, seed: 42 },
  );
});

test("ABBA lock order is a deadlock finding, found by the reduced search", () => {
  const prog: Op[][] = [
    [{ k: "lock", l: 0, body: [{ k: "lock", l: 1, body: [{ k: "w", v: 0 }] }] }],
    [{ k: "lock", l: 1, body: [{ k: "lock", l: 0, body: [{ k: "w", v: 1 }] }] }],
  ];
  const r = check(programScenario(prog), {});
  // (Each names the thread holding its lock: two `waits for i_rwsem` named no inode, trial 19.)
  const dl = "deadlock: T0 waits for l1 (held by T1) at prog() (op), T1 waits for l0 (held by T0) at prog() (op)";
  assert.equal(r.findings[dl], 1);
  // T0 takes l0, T1 takes l1: neither can go on.
  const rep = replay(programScenario(prog), { schedule: "0.1" });
  assert.deepEqual(rep.result.findings, [dl]);
});

// ---- Store-buffer memory models: choice steps under the reduction. ----
type MOp = { k: "st" | "rel" | "ld"; v: number } | { k: "wmb" | "mb" };
const mopArb: fc.Arbitrary<MOp> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ k: fc.constantFrom("st" as const, "rel" as const, "ld" as const), v: fc.integer({ min: 0, max: 1 }) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constantFrom("wmb" as const, "mb" as const) }) },
);
const mprogArb = fc.array(fc.array(mopArb, { minLength: 1, maxLength: 3 }), { minLength: 2, maxLength: 2 });

function memProgram(prog: MOp[][]): Scenario<{ cells: Cell<number>[] }, object> {
  return {
    id: "memprog", title: "", summary: "", kernel: "v0", thread: src, params: [], defaults: {},
    fixes: [{ id: "baseline", title: "", description: "", source: src, options: {} }],
    variants: [{ id: "default", title: "", description: "", options: {} }],
    setup() {
      const state = { cells: [0, 1].map((i) => new Cell(`c${i}`, 0)) };
      return {
        state,
        threads: prog.map((ops, i) => ({
          name: `T${i}`,
          *body(t: Task, s: { cells: Cell<number>[] }) {
            let h = 0;
            for (const [j, op] of ops.entries()) {
              if (op.k === "mb") {
                yield* smp_mb(t, OP);
                continue;
              }
              yield OP;
              if (op.k === "ld") h = h * 3 + load(t, s.cells[op.v]!);
              else if (op.k === "wmb") smp_wmb(t);
              else store(t, s.cells[op.v]!, 10 * (i + 1) + j, op.k === "rel");
            }
            yield OP;
            t.say(() => String(h));
            (s as unknown as { seen?: number[] }).seen ??= [];
            (s as unknown as { seen: number[] }).seen[i] = h;
          },
        })),
      };
    },
    endChecks: [{ name: "final", check: (s, r) => r.report("invariant", `${s.cells.map((c) => c.value).join(",")} / ${((s as unknown as { seen?: number[] }).seen ?? []).join(",")}`) }],
    view: () => ({}), claims: [], leftOut: [],
  };
}

test("store-buffer models: sleep sets with choice steps find the same outcomes as unreduced search", () => {
  for (const model of ["tso", "pso"] as const) {
    fc.assert(
      fc.property(mprogArb, (prog) => {
        const sc = memProgram(prog);
        const cfg = resolveConfig(sc, "baseline", "default", {}, model);
        const collect = (sleepSets: boolean) => {
          const seen = new Set<string>();
          const stats = runStrategy(sc, cfg, sleepSets ? new SleepSetSearch() : new UnreducedSearch(), {}, (v) => v.exec.findings.forEach((f) => seen.add(f.message)));
          return { seen: [...seen].sort(), stats };
        };
        const naive = collect(false);
        const reduced = collect(true);
        assert.deepEqual(reduced.seen, naive.seen);
        assert.equal(check(sc, { memoryModel: model, countNaive: true }).naiveExecutions, naive.stats.executions);
        // Every sc outcome is also a tso/pso outcome: the weaker model only adds behaviours.
        const scSeen = new Set<string>();
        runStrategy(sc, resolveConfig(sc, "baseline", "default"), new SleepSetSearch(), {}, (v) => v.exec.findings.forEach((f) => scSeen.add(f.message)));
        for (const o of scSeen) assert.ok(naive.seen.includes(o), `${model} lacks sc outcome ${o}`);
      }),
      { numRuns: 120, seed: 7 },
    );
  }
});

test("schedules with choices replay exactly (pso store-buffer steps)", () => {
  const sc = memProgram([[{ k: "st", v: 0 }, { k: "st", v: 1 }], [{ k: "ld", v: 1 }, { k: "ld", v: 0 }]]);
  // T0 buffers both stores; its buffer makes c1 visible first (choice 1), T1 reads c1 new, c0 old.
  const rep = replay(sc, { memoryModel: "pso", schedule: "0x3.2c1.1x3" });
  assert.equal(rep.result.schedule, "0x3.2c1.1x3.2");
  assert.deepEqual(rep.result.findings, ["invariant: 10,11 / 0,33"]); // c1 new (11), c0 old (0): h = 11 * 3 + 0
  assert.throws(() => replay(sc, { memoryModel: "pso", schedule: "0x3.2c5" }), /offers choices 0\.\.1, not 5/);
  assert.throws(() => replay(sc, { memoryModel: "pso", schedule: "0c1" }), /offers no choice, not 1/);
  assert.throws(() => replay(sc, { memoryModel: "tso", schedule: "0x3.2c1" }), /offers no choice, not 1/);
});

// ---- Input checks (issue 8, section 4). ----

test("validate.ts knows every mode and reduction of check.ts (add a new one to both lists)", async () => {
  const { validateCheckOptions, KNOWN_MODES, KNOWN_REDUCTIONS } = await import("../src/engine/validate.js");
  const { MODES, REDUCTIONS } = await import("../src/engine/check.js");
  assert.deepEqual([...KNOWN_MODES], [...MODES]);
  assert.deepEqual([...KNOWN_REDUCTIONS], [...REDUCTIONS]);
  for (const mode of MODES) assert.doesNotThrow(() => validateCheckOptions({ mode }));
  for (const reduction of REDUCTIONS) assert.doesNotThrow(() => validateCheckOptions({ reduction }));
});

test("validateCheckOptions: one-line UsageError naming the option for each bad value", async () => {
  const { validateCheckOptions } = await import("../src/engine/validate.js");
  const ok: CheckOptions[] = [
    {},
    { seed: 0, runs: 1, pctDepth: 1, maxExecutions: 1, crossCheck: 0 },
    { seed: Number.MAX_SAFE_INTEGER, runs: 1e9, pctDepth: 64, crossCheck: 10_000_000, params: { threads: 3 } },
    { mode: "pct", reduction: "none", memoryModel: "pso", fix: "lock", variant: "default", onProgress: () => {} },
  ];
  for (const o of ok) assert.doesNotThrow(() => validateCheckOptions(o), JSON.stringify(o));
  const bad: [Record<string, unknown>, RegExp][] = [
    [{ seed: NaN }, /^seed must be an integer from 0 to 2\^53 - 1 .*, got NaN$/],
    [{ seed: -1 }, /^seed .* got -1$/],
    [{ seed: 1.5 }, /^seed .* got 1\.5$/],
    [{ seed: 2 ** 53 }, /^seed .* got 9007199254740992$/],
    [{ seed: "7" }, /^seed .* got '7'$/],
    [{ runs: 0 }, /^runs must be an integer from 1 to 1,000,000,000, got 0$/],
    [{ runs: 1e20 }, /^runs .* got 100000000000000000000$/],
    [{ runs: Infinity }, /^runs .* got Infinity$/],
    [{ runs: 2.5 }, /^runs .* got 2\.5$/],
    [{ pctDepth: 0 }, /^pctDepth must be an integer from 1 to 64, got 0$/],
    [{ pctDepth: 65 }, /^pctDepth .* got 65$/],
    [{ pctDepth: NaN }, /^pctDepth .* got NaN$/],
    [{ maxExecutions: 0 }, /^maxExecutions must be a positive integer, got 0$/],
    [{ maxExecutions: NaN }, /^maxExecutions .* got NaN$/],
    [{ maxExecutions: -3 }, /^maxExecutions .* got -3$/],
    [{ crossCheck: -1 }, /^crossCheck must be an integer from 0 to 10,000,000, got -1$/],
    [{ crossCheck: 10_000_001 }, /^crossCheck .* got 10000001$/],
    [{ crossCheck: NaN }, /^crossCheck .* got NaN$/],
    [{ mode: "sideways" }, /^unknown mode 'sideways' \(known: exhaustive, random, pct\)$/],
    [{ reduction: "magic" }, /^unknown reduction 'magic' \(known: /],
    [{ memoryModel: "arm" }, /^unknown memory model 'arm' \(known: sc, tso, pso, rmo\)$/],
    [{ params: { threads: NaN } }, /^parameter threads must be an integer, got NaN$/],
    [{ params: { threads: Infinity } }, /^parameter threads must be an integer, got Infinity$/],
    [{ params: { threads: 1.5 } }, /^parameter threads must be an integer, got 1\.5$/],
    [{ params: { threads: "2" } }, /^parameter threads must be an integer, got '2'$/],
    [{ params: null }, /^params must be an object/],
    [{ mode: "x".repeat(100_000) }, /^unknown mode 'x{80}…' \(known/],
  ];
  for (const [o, re] of bad)
    assert.throws(
      () => validateCheckOptions(o as CheckOptions),
      (e: unknown) => e instanceof UsageError && re.test(e.message) && !e.message.includes("\n"),
      `${JSON.stringify(o).slice(0, 60)} should be refused with ${re}`,
    );
});

test("seeds: every bit counts (seeds 2^32 apart differ), seeds below 2^32 draw as before", async () => {
  const { xoroshiro128plus, unsafeUniformIntDistribution } = await import("pure-rand");
  const { seededGenerator, RandomStrategy } = await import("../src/engine/strategies/index.js");
  const draws = (g: ReturnType<typeof xoroshiro128plus>) => Array.from({ length: 50 }, () => g.unsafeNext());
  for (const s of [0, 1, 7, 2 ** 31 - 1, 2 ** 31, 3_000_000_000, 2 ** 32 - 1])
    assert.deepEqual(draws(seededGenerator(s)), draws(xoroshiro128plus(s)), `seed ${s}`);
  const seen = new Set<string>();
  for (const s of [7, 7 + 2 ** 32, 7 + 2 ** 33, 7 + 2 ** 52, 2 ** 53 - 1, 2 ** 53 - 1 - 2 ** 32])
    seen.add(draws(seededGenerator(s)).join());
  assert.equal(seen.size, 6, "seeds differing only above bit 32 draw alike");
  // The random strategy draws the thread of each step from the seeded generator.
  const exec = { tasks: [0, 1, 2, 3].map(() => ({ alternatives: () => 1 })) } as unknown as Parameters<InstanceType<typeof RandomStrategy>["nextStep"]>[0];
  const picks = (seed: number) => {
    const r = new RandomStrategy(seed);
    return Array.from({ length: 64 }, () => r.nextStep(exec, [0, 1, 2, 3]));
  };
  assert.notDeepEqual(picks(7), picks(7 + 2 ** 32));
  assert.deepEqual(
    picks(7),
    (() => {
      const g = xoroshiro128plus(7);
      return Array.from({ length: 64 }, () => unsafeUniformIntDistribution(0, 3, g));
    })(),
  );
  assert.throws(() => seededGenerator(NaN), UsageError);
  assert.throws(() => seededGenerator(-1), UsageError);
});

test("replay: steps left over after every thread finished are an error naming the first one", () => {
  assert.equal(replay(inc, { schedule: "0.0.1.1" }).result.schedule, "0x2.1x2");
  assert.throws(
    () => replay(inc, { schedule: "0.0.1.1.0.1" }),
    (e: unknown) =>
      e instanceof UsageError &&
      /^schedule step 5: thread 0 \(T0\) cannot run: every thread has finished after step 4 \(the schedule has 2 steps too many\)$/.test(e.message),
  );
  assert.throws(() => replay(inc, { schedule: "0x2.1x3" }), /schedule step 5: thread 1 \(T1\) cannot run: every thread has finished/);
});

test("schedule errors clip a long token to 80 characters", () => {
  const long = "7".repeat(50) + "q".repeat(100_000);
  assert.throws(
    () => parseSchedule(`0.${long}`, 2),
    (e: unknown) => e instanceof UsageError && e.message.length < 200 && e.message.includes(`'${long.slice(0, 80)}…'`),
  );
});

test("race diagrams break an identifier wider than its column after '_' or '(' rather than mid-word", async () => {
  const { check, replayCounterexample, renderDiagram } = await import("../src/index.js");
  const r = check("ext4-delalloc-fallocate", { fix: "baseline" });
  const text = renderDiagram(replayCounterexample("ext4-delalloc-fallocate", r)!);
  assert.match(text, /filemap_invalidate_unlock_\n\s+shared\(\)/);
  assert.doesNotMatch(text, /unlock_share\n\s+d\(\)/);
});
