/**
 * Every reduction of the exhaustive search against `--reduction none`, by fast-check on generated
 * programs (issue 8, section 2): 2–3 threads over cells and plain fields, with spinlocks, mutexes
 * and rw_semaphores (sometimes taken in opposite orders) and their trylocks, choice steps, xchg(),
 * a Counter's inc/inc_return/read, test_and_set_bit/clear_bit, refcount_inc_not_zero/
 * refcount_dec_and_test, complete/wait_for_completion, folio locks and references, kmalloc/kfree
 * and uses through a pointer, seqcount readers and writers, wait_event/wake_up, smp_mb(), branches
 * on read values,
 * BUG_ON/WARN_ON, an end check and an invariant, under sc, tso and pso
 * (test/fixtures/random-programs.ts builds them with defineScenario()).
 *
 * For each reduction in REDUCTIONS but `none` (so a reduction added later is covered) and each
 * memory model, the reduced `check()` must give the same verdict and the same finding keys as
 * `check(..., { reduction: "none" })`, be complete with a clean cross-check, and, when it counts
 * the interleavings it stands for, count what the unreduced search ran. Each reduction's strategy
 * (from the registry, run on the runner) must also reach the same set of outcomes: an
 * execution's finding keys plus its final state view (every cell, field and each thread's
 * reads), as check's cross-check compares them.
 *
 * It found three sleep-set bugs, fixed in the engine: a BUG-stopped execution lost the
 * interleavings where other threads' independent steps ran before the BUG (a step that stops the
 * execution is now dependent with every step); an invariant that held in the initial state was
 * reported in some interleavings only, and the first step of a search was not ordered against
 * the invariant's reads (invariants are now evaluated on the initial state, and a search that
 * learns a new location an invariant reads is run again).
 *
 * Environment: RACELAB_PROP_SEED (default 20261201), RACELAB_PROP_RUNS (default 150),
 * RACELAB_PROP_PATH (fast-check's replay path from a failure report).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { isDeepStrictEqual } from "node:util";
import fc from "fast-check";
import {
  check,
  DPOR_PSO_WARNING,
  findingKey,
  Footprints,
  makeStrategy,
  REDUCTIONS,
  resolveConfig,
  runStrategy,
  StateCycle,
  type AnyScenario,
  type CheckResult,
  type Execution,
  type MemoryModel,
  type Reduction,
} from "../src/index.js";
import { invLocations, printable, programArb, programScenario, showProgram, type Program } from "./fixtures/random-programs.js";

/** Cell `c<i>` of a hand-written program. */
const c = (i: number) => ({ k: "cell" as const, i });

/** Seed 21's program: two stores of T0 and one of T2 to the same cells, T1 a choice; 2,520 interleavings under pso. */
const PSO_COUNT: Program = printable({
  cells: 3,
  threads: [
    [
      { k: "write", dst: c(2), v: 0, release: false },
      { k: "write", dst: c(0), v: 0, release: false },
    ],
    [{ k: "choice", dst: c(2) }],
    [{ k: "write", dst: c(0), v: 0, release: false }],
  ],
  end: null,
  inv: null,
});

function envInt(name: string, fallback: number): number {
  const v = process.env[name];
  if (v === undefined || v === "") return fallback;
  const n = Number(v);
  if (!Number.isSafeInteger(n)) throw new Error(`${name} must be an integer, got ${v}`);
  return n;
}

const SEED = envInt("RACELAB_PROP_SEED", 20261201);
const RUNS = envInt("RACELAB_PROP_RUNS", 150);
const PATH = process.env.RACELAB_PROP_PATH;
/** Executions at most per search; a program whose unreduced search needs more is a skipped sample. */
const CAP = 3000;
const MODELS: readonly MemoryModel[] = ["sc", "tso", "pso", "rmo"];
/** Keep unreduced searches small (see interleavingEstimate). */
const BOUNDS = { maxInterleavings: 1000 };

const REDUCED: readonly Reduction[] = REDUCTIONS.filter((r) => r !== "none");

/** An execution's outcome, as check()'s cross-check writes it: finding keys and the final state view. */
function outcomeOf(exec: Execution): string {
  const keys = [...new Set(exec.findings.map(findingKey))].sort();
  return JSON.stringify({ findings: keys, state: exec.view() });
}

interface Outcomes {
  /** Every outcome reached. */
  readonly all: Set<string>;
  /** Outcomes of executions stopped by a BUG (or an error) before every thread finished. */
  readonly halted: Set<string>;
  readonly complete: boolean;
  /** Distinct states the strategy stored (state caching), else 0. */
  readonly states: number;
}

/**
 * The outcomes the registered strategy `name` reaches on the runner, searching again while it
 * learns new locations the invariant reads, as check() does (a first search orders steps without
 * knowing what the invariant reads).
 */
function outcomes(sc: AnyScenario, m: MemoryModel, name: string, footprints: Footprints | null = null): Outcomes {
  const cfg = resolveConfig(sc, "baseline", "default", {}, m);
  const invariantReads = new Set<number>();
  for (let pass = 1; ; pass++) {
    const all = new Set<string>();
    const halted = new Set<string>();
    footprints?.resetGrew();
    const strategy = makeStrategy(name, { seed: 1, runs: Infinity, pctDepth: 3, footprints });
    const stats = runStrategy(sc, cfg, strategy, { maxExecutions: CAP, invariantReads }, (v) => {
      assert.ok(!v.cut, "no execution of a generated program reaches the step bound");
      const o = outcomeOf(v.exec);
      all.add(o);
      if (v.exec.halted) halted.add(o);
    });
    // Persistent sets: search again while the footprints grow (from none: no sampled executions first).
    if ((!stats.invariantReadsGrew && footprints?.grew !== true) || pass === 20)
      return { all, halted, complete: stats.complete, states: strategy.counters.states };
  }
}

const minus = (a: Set<string>, b: Set<string>): string[] => [...a].filter((x) => !b.has(x)).sort();

function summary(r: CheckResult): string {
  const x = {
    verdict: r.verdict,
    complete: r.complete,
    executions: r.executions,
    naiveExecutions: r.naiveExecutions,
    naiveViolations: r.naiveViolations,
    violations: r.violations,
    findings: r.findings,
    crossCheck: r.crossCheck,
    warnings: r.warnings,
    counterexample: r.counterexample?.schedule ?? null,
  };
  return JSON.stringify(x, null, 1);
}

/** Every difference between the reduced and the unreduced results (empty when they agree). */
function compare(r: Reduction, m: MemoryModel, none: CheckResult, red: CheckResult, noneOut: Outcomes, redOut: Outcomes | null): string[] {
  const diffs: string[] = [];
  // dpor under pso searches with sleep sets and says so (check.ts DPOR_PSO_WARNING).
  const substituted = r === "dpor" && (m === "pso" || m === "rmo");
  const used = substituted ? "sleep-sets" : r;
  const expectedWarnings = substituted ? [DPOR_PSO_WARNING.replace("under pso", `under ${m}`)] : [];
  if (red.verdict !== none.verdict) diffs.push(`verdict: ${r} ${red.verdict}, none ${none.verdict}`);
  const nk = new Set(Object.keys(none.findings));
  const rk = new Set(Object.keys(red.findings));
  const extra = minus(rk, nk);
  const missing = minus(nk, rk);
  if (extra.length > 0) diffs.push(`findings only ${r} reports: ${extra.join(" | ")}`);
  if (missing.length > 0) diffs.push(`findings ${r} misses: ${missing.join(" | ")}`);
  if (red.reduction !== used) diffs.push(`result names reduction ${red.reduction}, expected ${used}`);
  if (red.executions > none.executions) diffs.push(`${r} ran ${red.executions} executions, more than none's ${none.executions}`);
  if (!red.complete) diffs.push(`${r} not complete: ${red.warnings.join(" ")}`);
  if (red.crossCheck === null) diffs.push(`${r}: no cross-check`);
  else if (red.crossCheck.mismatches !== 0) diffs.push(`${r}: ${red.crossCheck.mismatches} cross-check mismatches`);
  // (The plain fields a tso/pso/rmo check never buffers are named whatever the reduction, from the
  // same sampled executions: the same warning as none's.)
  const plain = (ws: readonly string[]) => ws.filter((w) => w.startsWith("plain field"));
  const others = red.warnings.filter((w) => !w.startsWith("plain field"));
  if (!isDeepStrictEqual(others, expectedWarnings)) diffs.push(`${r}: warnings: ${others.join(" ")}`);
  if (!isDeepStrictEqual(plain(red.warnings), plain(none.warnings)))
    diffs.push(`${r}: plain-field warnings ${JSON.stringify(plain(red.warnings))}, none's ${JSON.stringify(plain(none.warnings))}`);
  if (red.naiveExecutions !== null) {
    if (red.naiveExecutions !== none.executions) diffs.push(`${r} counts ${red.naiveExecutions} interleavings, none ran ${none.executions}`);
    if (red.naiveViolations !== none.violations) diffs.push(`${r} counts ${red.naiveViolations} violating interleavings, none found ${none.violations}`);
  }
  if (redOut !== null) {
    if (!redOut.complete) diffs.push(`the ${r} strategy did not complete`);
    const only = minus(redOut.all, noneOut.all);
    if (only.length > 0) diffs.push(`outcomes only ${r} reaches:\n    ${only.join("\n    ")}`);
    const unreached = minus(noneOut.all, redOut.all);
    if (unreached.length > 0) diffs.push(`outcomes ${r} never reaches:\n    ${unreached.join("\n    ")}`);
  }
  return diffs;
}

/** Programs other seeds shrank to, run first on every seed. */
const REGRESSIONS: Program[] = [
  // Persistent sets, the holders of a lock as the wakers of its waiter (2026-11-30): with T0 in
  // its critical section and T1 waiting for m0, T2's store to c0 (which T1 reads once it has m0)
  // pulls T1 into the set, and T1 only m0's holder T0: a set {T2} that left T0 out would run
  // T2's store first, and T1 would never read c0 == 0 after T0's critical section (c2 == 1).
  printable({
    cells: 3,
    threads: [
      [
        {
          k: "lock",
          kind: "mutex",
          l: 0,
          body: [
            { k: "read", src: c(1), acquire: false },
            { k: "write", dst: c(2), v: 1, release: false },
          ],
        },
      ],
      [
        {
          k: "lock",
          kind: "mutex",
          l: 0,
          body: [
            { k: "read", src: c(0), acquire: false },
            { k: "read", src: c(2), acquire: false },
          ],
        },
      ],
      [{ k: "write", dst: c(0), v: 1, release: false }],
      [{ k: "write", dst: c(1), v: 1, release: false }],
    ],
    end: null,
    inv: null,
  }),
  // Seeds 1-3, locksets (2026-11-30): while T1 held m0, the persistent sets took the lock's own
  // location as out of reach of the other threads; T0's mutex_trylock() touches it anyway (and
  // fails), so the run where T0's trylock fails was never explored. A lock some thread touches
  // without holding or waiting for it now stays a conflict.
  printable({
    cells: 2,
    threads: [
      [{ k: "trylock", kind: "mutex", l: 0, then: [{ k: "read", src: c(0), acquire: false }], else: [] }],
      [{ k: "lock", kind: "mutex", l: 0, body: [{ k: "read", src: c(0), acquire: false }] }],
    ],
    end: null,
    inv: null,
  }),
  // Locksets: T1's write of c0 without l0 was left out of c0's lockset because T0 had finished
  // when the search ran it (T0, holding l0, always went first); T1 runs alone only by its own
  // program order (after afterAll()), never because the others happen to be done.
  printable({
    cells: 2,
    threads: [
      [{ k: "lock", kind: "spin", l: 0, body: [{ k: "write", dst: c(0), v: 0, release: false }] }],
      [{ k: "lock", kind: "folio", l: 0, body: [{ k: "write", dst: c(0), v: 1, release: false }] }],
    ],
    end: null,
    inv: null,
  }),
  // Seed 1, persistent sets (2026-11-30): T1's BUG_ON stops every execution in which it reads
  // c0 == 0; T2's store-buffer daemon had never run, so it had no footprint, and a thread without
  // one was taken to conflict with nothing: the flush of c0 = 1 before T1's read (T1 then sleeps
  // in atomic context) was never explored, and never learned. A thread without a footprint now
  // conflicts with every step.
  printable({
    cells: 2,
    threads: [
      [{ k: "mb" }],
      [
        {
          k: "lock",
          kind: "spin",
          l: 0,
          body: [
            { k: "check", kind: "bug", src: c(0), cond: "eq", v: 0 },
            { k: "obj", op: "alloc" },
          ],
        },
      ],
      [{ k: "write", dst: c(0), v: 1, release: false }],
    ],
    end: null,
    inv: null,
  }),
  // Seed 99: an invariant the first search does not know the reads of yet; the strategy-level
  // outcomes missed `1.0` until outcomes() searched again as check() does.
  printable({
    cells: 2,
    threads: [[{ k: "write", dst: { k: "field", i: 1 }, v: 1, release: false }], [{ k: "write", dst: c(0), v: 1, release: false }]],
    end: null,
    inv: { a: { loc: c(0), v: 1 }, b: { loc: { k: "field", i: 1 }, v: 0 } },
  }),
  // Seed 21: dpor under pso counted 2,268 of the 2,520 interleavings (now searched with sleep sets).
  PSO_COUNT,
  // 2026-11-30: state caching did not fold what a value-returning atomic that records only W
  // (Counter.addReturn, folio_try_get) returned into the thread's history: the states after both
  // orders of the two increments matched, and T0's return value 2 was lost.
  printable({
    cells: 2,
    threads: [
      [
        { k: "ctr", op: "inc_return" },
        { k: "ctr", op: "read" },
      ],
      [{ k: "ctr", op: "inc" }],
    ],
    end: null,
    inv: null,
  }),
  // deadOnReturn(): the caller's read before the call must outlive the call (the history at the
  // entry), and what the function read must not (only its value). T0's read of c0 is 0 or 1
  // when both orders reach T0's last step with T1 done (its write of c0 then wakes T0 from the sleep set).
  printable({
    cells: 2,
    threads: [
      [
        { k: "read", src: c(0), acquire: false },
        { k: "call", ret: "none", body: [{ k: "read", src: c(1), acquire: false }] },
        { k: "write", dst: c(0), v: 2, release: false },
      ],
      [{ k: "write", dst: c(0), v: 1, release: false }],
    ],
    end: null,
    inv: null,
  }),
  // The value a wrapped function returns is observed: T0's f() returns the c0 it read, 0 or 1,
  // and both orders reach T0's write with T1 done.
  printable({
    cells: 2,
    threads: [
      [
        { k: "call", ret: "last", body: [{ k: "read", src: c(0), acquire: false }] },
        { k: "write", dst: c(0), v: 2, release: false },
      ],
      [{ k: "write", dst: c(0), v: 1, release: false }],
    ],
    end: null,
    inv: null,
  }),
  // The same with a label in the function: at the label the history goes back to the one at the
  // call (with the label), not to the thread's initial one; two labels are two places.
  printable({
    cells: 2,
    threads: [
      [
        { k: "read", src: c(0), acquire: false },
        {
          k: "call",
          ret: "last",
          body: [{ k: "read", src: c(1), acquire: false }, { k: "label" }, { k: "read", src: c(1), acquire: false }, { k: "label" }],
        },
        { k: "write", dst: c(0), v: 2, release: false },
      ],
      [
        { k: "write", dst: c(1), v: 1, release: false },
        { k: "write", dst: c(0), v: 1, release: false },
      ],
    ],
    end: null,
    inv: null,
  }),
  // Two labels of one function are two places: the read between them changes no shared state,
  // so only the label tells the state at the second from the state at the first. (The read
  // before the call makes the labels pass in steps: code before a thread's first yield runs
  // when the execution is made, outside any step.)
  printable({
    cells: 2,
    threads: [
      [
        { k: "read", src: c(1), acquire: false },
        { k: "call", ret: "none", body: [{ k: "label" }, { k: "read", src: c(0), acquire: false }, { k: "label" }, { k: "write", dst: c(1), v: 1, release: false }] },
      ],
      [{ k: "write", dst: c(0), v: 1, release: false }],
    ],
    end: null,
    inv: null,
  }),
];

test("every reduction agrees with --reduction none on generated programs (verdicts, findings, final states; sc, tso, pso, rmo)", (t) => {
  const tally = { programs: 0, checks: 0, skipped: 0, fail: 0, pass: 0, failingPrograms: 0 };
  const kinds = new Map<string, number>();
  const t0 = performance.now();

  const property = (p: Program) => {
    tally.programs++;
    const sc = programScenario(p);
    let failed = false;
    for (const m of MODELS) {
      tally.checks++;
      const none = check(sc, { reduction: "none", memoryModel: m, maxExecutions: CAP });
      if (!none.complete) {
        tally.skipped++;
        continue;
      }
      if (none.verdict === "fail") {
        tally.fail++;
        failed = true;
      } else tally.pass++;
      for (const { kind } of none.findingCounts) kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
      const noneOut = outcomes(sc, m, "none");
      assert.ok(noneOut.complete, "the unreduced search completes within the bound check()'s did");
      for (const r of REDUCED) {
        const red = check(sc, { reduction: r, memoryModel: m, maxExecutions: CAP, countNaive: true });
        const redOut = outcomes(sc, m, r);
        if (r === "state-caching") assert.ok(redOut.states > 0, "the state-caching strategy stored states");
        const diffs = compare(r, m, none, red, noneOut, redOut);
        if (r === "state-caching") {
          // The strategy with persistent sets, its footprints learned from nothing: the same final states.
          let psOut: Outcomes;
          try {
            psOut = outcomes(sc, m, r, new Footprints());
          } catch (e) {
            if (!(e instanceof StateCycle)) throw e;
            psOut = redOut;
          }
          for (const d of compare(r, m, none, red, noneOut, psOut)) if (!diffs.includes(d)) diffs.push(`persistent sets: ${d}`);
        }
        if (diffs.length > 0)
          assert.fail(
            `--reduction ${r} disagrees with --reduction none under ${m}:\n  ${diffs.join("\n  ")}\n` +
              `program:\n${showProgram(p)}\n${r}: ${summary(red)}\nnone: ${summary(none)}`,
          );
      }
    }
    if (failed) tally.failingPrograms++;
  };

  fc.assert(fc.property(programArb(BOUNDS), property), {
    examples: REGRESSIONS.map((p) => [p]),
    seed: SEED,
    numRuns: RUNS,
    includeErrorInReport: true,
    ...(PATH !== undefined && PATH !== "" ? { path: PATH } : {}),
  });

  const secs = ((performance.now() - t0) / 1000).toFixed(1);
  t.diagnostic(
    `seed ${SEED}, ${RUNS} programs in ${secs} s, reductions compared with none: ${REDUCED.join(", ")}; ` +
      `${tally.checks} program x memory model checks: ${tally.fail} fail, ${tally.pass} pass, ${tally.skipped} skipped (unreduced search over ${CAP} executions); ` +
      `${tally.failingPrograms} of ${tally.programs} programs fail under some model`,
  );
  t.diagnostic(`finding kinds (checks reporting them): ${[...kinds].sort().map(([k, n]) => `${k} ${n}`).join(", ")}`);
  // Not vacuous: the programs fail and pass, show every kind of finding, and are mostly small enough to search.
  assert.ok(tally.fail > 0 && tally.pass > 0, JSON.stringify(tally));
  assert.ok(tally.fail >= tally.checks / 10, `at least a tenth of the checks fail: ${JSON.stringify(tally)}`);
  assert.ok(tally.skipped <= tally.checks / 5, `at most a fifth of the checks skipped: ${JSON.stringify(tally)}`);
  if (RUNS >= 100)
    for (const kind of ["bug", "warning", "invariant", "deadlock", "sleep-in-atomic"])
      assert.ok((kinds.get(kind) ?? 0) > 0, `some program reports a ${kind}: ${JSON.stringify([...kinds])}`);
});

test("--reduction dpor under pso searches with sleep sets and says so (its store/flush dependency missed interleavings)", () => {
  const sc = programScenario(PSO_COUNT);
  const none = check(sc, { reduction: "none", memoryModel: "pso" });
  assert.equal(none.executions, 2520);
  const r = check(sc, { reduction: "dpor", memoryModel: "pso", countNaive: true });
  assert.equal(r.reduction, "sleep-sets");
  assert.deepEqual(r.warnings, [DPOR_PSO_WARNING]);
  assert.equal(r.naiveExecutions, none.executions, "the executions stand for every interleaving");
  assert.equal(r.verdict, none.verdict);
  // Under sc and tso dpor still searches as dpor.
  for (const m of ["sc", "tso"] as const) assert.equal(check(sc, { reduction: "dpor", memoryModel: m }).reduction, "dpor");
});
