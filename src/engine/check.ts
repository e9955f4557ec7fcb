import { countLinearizations } from "./count.js";
import { dfs, UnhashableState, type DfsStats } from "./explore.js";
import { Execution } from "./execution.js";
import type { MemoryModel } from "./memory.js";
import { findingKey, type Finding, type FindingKind } from "./finding.js";
import { resolveConfig, UsageError, type AnyScenario } from "./scenario.js";
import { formatSchedule, parseScheduleChoices } from "./schedule.js";
import { PctScheduler, RandomScheduler, ReplayScheduler, runOne, type Scheduler } from "./schedulers.js";
import { stepsJson, type StepJson } from "./trace.js";
import { lookupScenario } from "./scenario.js";

export { MODES, REDUCTIONS, type Mode, type Reduction } from "./modes.js";
import { type Mode, type Reduction, MODES, REDUCTIONS } from "./modes.js";
import { validateCheckOptions } from "./validate.js";

/**
 * Default number of unreduced sampled executions that cross-check a reduced exhaustive search:
 * ten per reduced execution, at least 200 and at most 1,000.
 */
export function defaultCrossCheckRuns(executions: number): number {
  return Math.min(1000, Math.max(200, 10 * executions));
}

/** Options of {@link check}: which fix, variant, parameters and memory model, and how to explore. */
export interface CheckOptions {
  /** Fix id; default `baseline`. */
  readonly fix?: string;
  /** Variant id; default `default`. */
  readonly variant?: string;
  /** Scenario parameters (`blocks`, ...); defaults from the scenario. */
  readonly params?: Record<string, number>;
  /** Default `exhaustive`. */
  readonly mode?: Mode;
  /** Memory model: `sc` (default), `tso` or `pso` (see memory.ts). */
  readonly memoryModel?: MemoryModel;
  /** Executions in random and pct modes; default 10,000. */
  readonly runs?: number;
  /** PRNG seed for random and pct modes; default 1. */
  readonly seed?: number;
  /** Bound on complete executions in exhaustive mode; default 1,000,000. */
  readonly maxExecutions?: number;
  /** PCT bug depth d; default 3. */
  readonly pctDepth?: number;
  /** Exhaustive mode: `sleep-sets` (default) or `none`. */
  readonly reduction?: Reduction;
  /**
   * Exhaustive mode with a reduction: how many executions to sample without the reduction (half
   * uniform random, half PCT, seeded with `seed`) and compare with what the reduced search
   * found. A sampled outcome the reduced search never reached means some shared access was not
   * recorded (a variable a thread closes over, a racelab object's field written directly): the
   * result then carries a warning, is not `complete`, and is never `pass`. Default: ten per
   * reduced execution, at least 200 and at most 1,000 ({@link defaultCrossCheckRuns}); 0 skips.
   */
  readonly crossCheck?: number;
  /**
   * Exhaustive mode: count the interleavings an unreduced search would run (`naiveExecutions`,
   * `naiveViolations`); default false, as counting dominates small checks. Not available under
   * `state-caching` (null).
   */
  readonly countNaive?: boolean;
  /** Exhaustive mode: stop after this much wall-clock time, ms (the result is then `incomplete` unless it fails). */
  readonly timeLimitMs?: number;
  /** Exhaustive mode with `state-caching`: stop after this many distinct states. */
  readonly maxStates?: number;
  /**
   * Polled about every 256 steps (and every 1,000 random or pct runs): a reason (`"interrupted
   * (SIGINT)"`) stops the exploration there and the partial result is returned, never `pass`.
   */
  readonly stop?: () => string | null;
  /**
   * Called now and then (about every 250 ms in exhaustive mode, every 1,000 runs otherwise) with
   * the executions done, the total when known, and the counts so far.
   */
  readonly onProgress?: (done: number, total: number | null, detail: Progress) => void;
}

/** What {@link CheckOptions.onProgress} reports besides the executions done. */
export interface Progress {
  /** Wall-clock time since the check started, ms. */
  readonly elapsedMs: number;
  /** Exhaustive mode: sleep-blocked prefixes so far. */
  readonly sleepBlocked: number;
  /** Exhaustive mode with `state-caching`: distinct states so far. */
  readonly states: number;
  /** Steps executed so far (replays included). */
  readonly steps: number;
}

/** What the cross-check of a reduced search found (see CheckOptions.crossCheck). */
export interface CrossCheck {
  /** Executions sampled without the reduction. */
  readonly runs: number;
  /** Sampled executions whose outcome (findings and final state) the reduced search never reached. */
  readonly mismatches: number;
  /** The first such execution's schedule and outcome, or null. */
  readonly first: {
    /** Its schedule, as {@link replay} takes it. */
    readonly schedule: string;
    /** Its findings and final state, as compared with the reduced search's. */
    readonly outcome: string
  } | null;
}

/**
 * The failing execution `check` reports: the one with the fewest preemptions among those that show
 * the most severe finding, with its schedule and traced steps.
 */
export interface Counterexample {
  /** Schedule string that `replay` accepts. */
  readonly schedule: string;
  /** The finding reproduced, as `"kind: message"`. */
  readonly finding: string;
  /** Preemptions in the schedule (switches away from a thread that could still run). */
  readonly preemptions: number;
  /** Every step of the execution in order, as in `racelab replay --json`. */
  readonly steps: StepJson[];
}

/** Result of `check` (JSON contract of `racelab check --json`). */
export interface CheckResult {
  /** Scenario id. */
  readonly scenario: string;
  /** Fix id checked (`baseline`: the code before any fix). */
  readonly fix: string;
  /** Variant id checked (`default`: the scenario's standard configuration). */
  readonly variant: string;
  /** Every scenario parameter with the value used (defaults filled in). */
  readonly params: Record<string, number>;
  /** How the scenario was explored. */
  readonly mode: Mode;
  /** Memory model of the check: the option, else the variant's, else `sc`. */
  readonly memoryModel: MemoryModel;
  /** PRNG seed of random and pct modes and of the cross-check's sampling (default 1). */
  readonly seed: number;
  /** Complete executions run. */
  readonly executions: number;
  /**
   * Exhaustive mode: prefixes cut because every runnable thread was asleep (redundant under the
   * sleep-set reduction); 0 in other modes.
   */
  readonly sleepBlocked: number;
  /** Executions an unreduced exhaustive search would run (null outside exhaustive mode or when too large to count). */
  readonly naiveExecutions: number | null;
  /**
   * Of `naiveExecutions`, the interleavings that violate (the sum over violating executions of
   * their equivalent interleavings); null when `naiveExecutions` is.
   */
  readonly naiveViolations: number | null;
  /** True when every interleaving was covered (exhaustive mode, no bound hit). */
  readonly complete: boolean;
  /** Executions with at least one finding. */
  readonly violations: number;
  /** Executions per finding `"kind: message"`, keys sorted. */
  readonly findings: Record<string, number>;
  /**
   * `fail` when some execution violates; `incomplete` when none was found but the search did not
   * cover every interleaving (a bound, or a failed cross-check); `pass` only when every
   * interleaving the model allows was covered and none violates.
   */
  readonly verdict: "pass" | "fail" | "incomplete";
  /** Exhaustive mode: the reduction used (`sleep-sets` or `none`); null in other modes. */
  readonly reduction: Reduction | null;
  /** Exhaustive mode with a reduction: the cross-check against sampled unreduced executions; else null. */
  readonly crossCheck: CrossCheck | null;
  /** Why the result is not what it seems, one sentence each (empty when nothing is wrong). */
  readonly warnings: string[];
  /** The failing execution to look at, or null when the verdict is not `fail`. */
  readonly counterexample: Counterexample | null;
  /** Exhaustive mode with `state-caching`: distinct states stored; else null. */
  readonly states: number | null;
  /**
   * Why the exploration stopped before covering everything (`time limit of 10 s`, `execution
   * bound of 1,000,000`, `interrupted (SIGINT)`), or null.
   */
  readonly stopReason: string | null;
  /** Wall-clock time of the exploration, ms. */
  readonly elapsedMs: number;
}

/** Result of a replay (JSON contract of `racelab replay --json`). */
export interface ReplayResult {
  /** Scenario id. */
  readonly scenario: string;
  /** Fix id replayed. */
  readonly fix: string;
  /** Variant id replayed. */
  readonly variant: string;
  /** Every scenario parameter with the value used (defaults filled in). */
  readonly params: Record<string, number>;
  /** Memory model of the replay. */
  readonly memoryModel: MemoryModel;
  /** The schedule actually run, normalized (run-length encoded, see {@link formatSchedule}). */
  readonly schedule: string;
  /** The most severe finding as `"kind: message"` (as a counterexample names it), or null. */
  readonly finding: string | null;
  /** Every finding of the execution as `"kind: message"`, in the order raised. */
  readonly findings: string[];
  /** Every step in order. */
  readonly steps: StepJson[];
}

/** Order in which a counterexample names an execution's findings: the kernel's own symptoms first. */
const SEVERITY: readonly FindingKind[] = ["error", "bug", "deadlock", "livelock", "sleep-in-atomic", "warning", "invariant"];

/** The execution's most severe finding (first raised among equals). */
export function mostSevere(fs: readonly Finding[]): Finding {
  let best = fs[0]!;
  for (const f of fs) if (SEVERITY.indexOf(f.kind) < SEVERITY.indexOf(best.kind)) best = f;
  return best;
}

/**
 * Explores a scenario under one fix and variant and reports what it finds.
 * Throws UsageError for unknown ids, bad params or a bad mode; ModelError for a broken model.
 */
export function check(ref: AnyScenario | string, opts: CheckOptions = {}): CheckResult {
  validateCheckOptions(opts);
  const sc = lookupScenario(ref);
  const fix = opts.fix ?? "baseline";
  const variant = opts.variant ?? "default";
  const mode = opts.mode ?? "exhaustive";
  const reduction = opts.reduction ?? REDUCTIONS[0]!;
  let crossRuns = opts.crossCheck ?? -1;
  if (opts.maxExecutions !== undefined && (!Number.isInteger(opts.maxExecutions) || opts.maxExecutions < 1))
    throw new UsageError(`maxExecutions must be a positive integer, got ${opts.maxExecutions}`);
  const cfg = resolveConfig(sc, fix, variant, opts.params ?? {}, opts.memoryModel);
  const seed = opts.seed ?? 1;
  const t0 = performance.now();
  const counts = new Map<string, number>();
  let violations = 0;
  // eslint-disable-next-line prefer-const
  let first = null as Found | null;
  const tally = (exec: Execution, preemptions: number) => {
    if (exec.findings.length === 0) return;
    violations++;
    const keys = new Set(exec.findings.map(findingKey));
    for (const k of keys) counts.set(k, (counts.get(k) ?? 0) + 1);
    first ??= { tids: exec.schedule.slice(), choices: exec.choices.slice(), finding: findingKey(mostSevere(exec.findings)), preemptions };
  };

  let executions = 0;
  let sleepBlocked = 0;
  let naive: number | null = null;
  let naiveBad: number | null = null;
  let complete = false;
  let cross: CrossCheck | null = null;
  let states: number | null = null;
  let stopReason: string | null = null;
  const warnings: string[] = [];
  if (mode === "exhaustive") {
    // Count interleavings only on request (the counting dominates small checks), and not under
    // state caching, which does not visit every trace.
    const counting = opts.countNaive === true && reduction !== "state-caching";
    const outcomes = new Set<string>();
    const invariantReads = new Set<number>();
    let stats!: DfsStats;
    let unhashable: string | null = null;
    let sum = 0;
    let bad = 0;
    let countable = counting;
    for (let pass = 1; ; pass++) {
      // A search that learned a new location an invariant reads has ordered steps without it:
      // search again with the larger set (a handful of passes at most).
      const reset = () => {
        counts.clear();
        violations = 0;
        first = null;
        outcomes.clear();
        sum = 0;
        bad = 0;
        countable = counting;
      };
      reset();
      const search = (stateCaching: boolean) => dfs(
        sc,
        cfg,
        {
          maxExecutions: opts.maxExecutions,
          keepAccesses: counting,
          sleepSets: reduction !== "none",
          stateCaching,
          dpor: reduction === "dpor",
          invariantReads,
          timeLimitMs: opts.timeLimitMs,
          maxStates: opts.maxStates,
          stop: opts.stop,
          onProgress:
            opts.onProgress === undefined
              ? undefined
              : (st) =>
                  opts.onProgress!(st.executions, null, {
                    elapsedMs: performance.now() - t0,
                    sleepBlocked: st.sleepBlocked,
                    states: st.states,
                    steps: st.steps,
                  }),
        },
        (v) => {
          tally(v.exec, v.preemptions);
          if (crossRuns !== 0 && reduction !== "none") outcomes.add(outcomeOf(v.exec));
          if (countable) {
            // A BUG stops the execution at its step: in every interleaving it stands for, that
            // step comes last, so count the orders of the steps before it.
            const n = v.exec.halted ? v.exec.schedule.length - 1 : v.exec.schedule.length;
            const c = reduction === "none" ? 1 : countLinearizations(v.exec.schedule.slice(0, n), v.accesses.slice(0, n), v.exec.tasks.length);
            if (c === null) countable = false;
            else {
              sum += c;
              if (v.exec.findings.length > 0) bad += c;
            }
          }
        },
      );
      try {
        stats = search(reduction === "state-caching" && unhashable === null);
      } catch (e) {
        if (!(e instanceof UnhashableState)) throw e;
        // A read no fingerprint covers: search without caching (sleep sets), and say so.
        unhashable = e.location;
        warnings.push(
          `state caching is off: a step reads ${e.location}, a location without an owner (newLoc(name) without \`this\`); the search used sleep sets`,
        );
        reset();
        stats = search(false);
      }
      if (!stats.invariantReadsGrew || reduction === "none") break;
      if (pass === 20) {
        stats.complete = false;
        warnings.push("the invariants kept reading new locations after 20 searches: not every interleaving was covered");
        break;
      }
    }
    executions = stats.executions;
    sleepBlocked = stats.sleepBlocked;
    complete = stats.complete;
    states = reduction === "state-caching" && unhashable === null ? stats.states : null;
    stopReason = stats.stopReason;
    naive = countable && complete ? sum : null;
    naiveBad = naive === null ? null : bad;
    if (crossRuns < 0) crossRuns = defaultCrossCheckRuns(stats.executions);
    if (crossRuns > 0 && reduction !== "none" && complete) {
      // Cross-check: executions sampled without the reduction must end in outcomes the reduced
      // search reached; equivalent interleavings end alike when every shared access is recorded.
      const threads = new Execution(sc, cfg).tasks.length;
      const scheds: Scheduler[] = [new RandomScheduler(seed), new PctScheduler(seed, threads, 2), new PctScheduler(seed + 1, threads, 3)];
      let mismatches = 0;
      let firstMiss: { schedule: string; outcome: string } | null = null;
      for (let i = 0; i < crossRuns; i++) {
        const sched = i % 2 === 0 ? scheds[0]! : scheds[1 + ((i >> 1) % 2)]!;
        const { exec, cut } = runOne(sc, cfg, sched);
        if (cut) continue;
        const o = outcomeOf(exec);
        if (outcomes.has(o)) continue;
        mismatches++;
        if (firstMiss === null) {
          firstMiss = { schedule: formatSchedule(exec.schedule, exec.choices), outcome: o };
          // A sampled violation is a real execution of the model: it is the verdict's evidence.
          if (exec.findings.length > 0) tally(exec, -1);
        }
      }
      cross = { runs: crossRuns, mismatches, first: firstMiss };
      if (firstMiss !== null) {
        complete = false;
        naive = null;
        naiveBad = null;
        warnings.push(
          `the reduced search missed ${mismatches} of ${crossRuns} sampled executions (first: --schedule ${firstMiss.schedule}, ` +
            `ending in ${firstMiss.outcome}): some shared state changes without a recorded access ` +
            `(a variable a thread closes over, or a racelab object's field written directly); keep shared state in the ` +
            `state object setup() returns, or check with --reduction none`,
        );
      }
    }
  } else {
    let runs = opts.runs ?? 10_000;
    const threads = new Execution(sc, cfg).tasks.length;
    const sched: Scheduler =
      mode === "random" ? new RandomScheduler(seed) : new PctScheduler(seed, threads, opts.pctDepth ?? 3);
    for (let i = 0; i < runs; i++) {
      const { exec } = runOne(sc, cfg, sched);
      tally(exec, -1);
      if ((i + 1) % 1000 === 0) {
        opts.onProgress?.(i + 1, runs, { elapsedMs: performance.now() - t0, sleepBlocked: 0, states: 0, steps: 0 });
        const why = opts.stop?.() ?? null;
        if (why !== null) {
          stopReason = why;
          runs = i + 1;
          break;
        }
      }
    }
    executions = runs;
  }
  if (mode === "exhaustive" && !complete && warnings.length === 0)
    warnings.push(
      stopReason !== null
        ? `the search stopped early (${stopReason}): not every interleaving was covered`
        : `an execution exceeded 10,000 steps and was cut: not every interleaving was covered`,
    );
  const elapsedMs = performance.now() - t0;
  const findings: Record<string, number> = {};
  for (const k of [...counts.keys()].sort()) findings[k] = counts.get(k)!;
  let counterexample: Counterexample | null = null;
  if (first !== null) counterexample = minimize(sc, cfg, first);
  return {
    scenario: sc.id,
    fix,
    variant,
    params: { ...cfg.params },
    mode,
    memoryModel: cfg.memoryModel ?? "sc",
    seed,
    executions,
    sleepBlocked,
    naiveExecutions: naive,
    naiveViolations: naiveBad,
    complete,
    violations,
    findings,
    verdict: violations > 0 ? "fail" : (mode === "exhaustive" && !complete) || stopReason !== null ? "incomplete" : "pass",
    reduction: mode === "exhaustive" ? reduction : null,
    crossCheck: cross,
    warnings,
    counterexample,
    states,
    stopReason,
    elapsedMs: Math.round(elapsedMs * 10) / 10,
  };
}

/**
 * An execution's outcome for the cross-check: its finding keys and its final state view. Two
 * equivalent interleavings (same Mazurkiewicz trace) end in the same outcome.
 */
function outcomeOf(exec: Execution): string {
  const keys = [...new Set(exec.findings.map(findingKey))].sort();
  let view: unknown;
  try {
    view = exec.view();
  } catch {
    view = null;
  }
  return JSON.stringify({ findings: keys, state: view });
}

/**
 * Shortens a counterexample to the fewest preemptions found by preemption-bounded search
 * (bound 0, 1, ... below the original's, at most 20,000 executions per bound), keeping the same
 * finding, and traces it.
 */
interface Found {
  tids: number[];
  choices: number[];
  finding: string;
  preemptions: number;
}

function minimize(sc: AnyScenario, cfg: ReturnType<typeof resolveConfig>, first: Found): Counterexample {
  let best: { tids: number[]; choices: number[] } = first;
  const original = replayExec(sc, cfg, best.tids, best.choices);
  let bestPre = original.preemptions;
  for (let b = 0; b < bestPre; b++) {
    let found: { tids: number[]; choices: number[] } | null = null;
    dfs(sc, cfg, { preemptionBound: b, maxExecutions: 20_000 }, (v) => {
      if (v.exec.findings.some((f) => findingKey(f) === first.finding)) {
        found = { tids: v.exec.schedule.slice(), choices: v.exec.choices.slice() };
        return true;
      }
      return false;
    });
    if (found !== null) {
      best = found;
      bestPre = b;
      break;
    }
  }
  const exec = replayExec(sc, cfg, best.tids, best.choices);
  return { schedule: formatSchedule(best.tids, best.choices), finding: first.finding, preemptions: bestPre, steps: stepsJson(exec) };
}

function replayExec(
  sc: AnyScenario,
  cfg: ReturnType<typeof resolveConfig>,
  tids: readonly number[],
  choices: readonly number[],
): Execution {
  return runOne(sc, cfg, new ReplayScheduler(tids, choices), { trace: true }).exec;
}

/**
 * Replays a schedule string under one fix and variant, tracing every step. Throws UsageError for
 * a malformed schedule or one that names a thread that cannot run.
 *
 * @param ref the scenario object, or a bundled (or already seen) scenario's id.
 * @param opts `fix` (default `baseline`), `variant` (default `default`), `params`, `memoryModel`
 *   (default: the variant's) and the `schedule` string (see {@link parseScheduleChoices}).
 * @returns the JSON result and the traced execution.
 */
export function replay(
  ref: AnyScenario | string,
  opts: { fix?: string; variant?: string; params?: Record<string, number>; memoryModel?: MemoryModel; schedule: string },
): {
  /** What `racelab replay --json` prints. */
  result: ReplayResult;
  /** The traced execution (state, findings, steps) after the schedule. */
  exec: Execution
} {
  const sc = lookupScenario(ref);
  const fix = opts.fix ?? "baseline";
  const variant = opts.variant ?? "default";
  const cfg = resolveConfig(sc, fix, variant, opts.params ?? {}, opts.memoryModel);
  const threads = new Execution(sc, cfg).tasks.length;
  const { tids, choices } = parseScheduleChoices(opts.schedule, threads);
  const { exec } = runOne(sc, cfg, new ReplayScheduler(tids, choices), { trace: true });
  const keys = exec.findings.map(findingKey);
  return {
    exec,
    result: {
      scenario: sc.id,
      fix,
      variant,
      params: { ...cfg.params },
      memoryModel: cfg.memoryModel ?? "sc",
      schedule: formatSchedule(exec.schedule, exec.choices),
      finding: exec.findings.length > 0 ? findingKey(mostSevere(exec.findings)) : null,
      findings: keys,
      steps: stepsJson(exec),
    },
  };
}

/** Replays a check's counterexample with tracing (null when the check found none); `sc` is the scenario object or its id. */
export function replayCounterexample(sc: AnyScenario | string, r: CheckResult): Execution | null {
  if (r.counterexample === null) return null;
  return replay(sc, { fix: r.fix, variant: r.variant, params: r.params, memoryModel: r.memoryModel, schedule: r.counterexample.schedule }).exec;
}
