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
  /**
   * Exhaustive mode with `sleep-sets` or `none`: explore only shard `index` of `count` (the
   * subtrees below the split depth of the search tree, dealt round-robin; see DfsOptions.shard),
   * for `racelab merge` or `--workers`; the result is then one part, not a verdict.
   */
  readonly shard?: Shard;
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
  const mode = opts.mode ?? "exhaustive";
  if (opts.shard !== undefined) throw new UsageError("check() explores everything: use explorePart() for one shard");
  const cfg = resolveConfig(sc, opts.fix ?? "baseline", opts.variant ?? "default", opts.params ?? {}, opts.memoryModel);
  const t0 = performance.now();
  if (mode !== "exhaustive") return finish(sc, cfg, opts, sample(sc, cfg, opts, t0), t0);
  return finish(sc, cfg, opts, explore(sc, cfg, opts, t0), t0);
}

/**
 * Runs one shard of an exhaustive search (`opts.shard`): what `racelab check --shard k/N` prints.
 * Combine the parts of every shard with {@link mergeParts}. Throws UsageError as {@link check}
 * does, and when `opts.shard` is missing or the mode or reduction cannot be sharded.
 */
export function explorePart(ref: AnyScenario | string, opts: CheckOptions): Part {
  validateCheckOptions(opts);
  if (opts.shard === undefined) throw new UsageError("explorePart needs a shard");
  if ((opts.mode ?? "exhaustive") !== "exhaustive") throw new UsageError("--shard applies to exhaustive mode only");
  const reduction = opts.reduction ?? REDUCTIONS[0]!;
  if (reduction !== "sleep-sets" && reduction !== "none")
    throw new UsageError(`--shard needs --reduction sleep-sets or none (${reduction} explores subtrees that depend on each other)`);
  const sc = lookupScenario(ref);
  const cfg = resolveConfig(sc, opts.fix ?? "baseline", opts.variant ?? "default", opts.params ?? {}, opts.memoryModel);
  return explore(sc, cfg, opts, performance.now());
}

/**
 * The result one {@link check} with `opts` (without `shard`) would return, from the parts of
 * every shard of it: counts summed, the earliest counterexample, the cross-check run here over
 * the union of the outcomes. Equal to the single check's result except `elapsedMs`. Throws
 * UsageError when `parts` are not the shards 0..N-1 of one search.
 */
export function mergeParts(ref: AnyScenario | string, opts: CheckOptions, parts: readonly Part[]): CheckResult {
  const { shard: _, ...rest } = opts;
  validateCheckOptions(rest);
  const sc = lookupScenario(ref);
  const cfg = resolveConfig(sc, rest.fix ?? "baseline", rest.variant ?? "default", rest.params ?? {}, rest.memoryModel);
  return finish(sc, cfg, rest, combineParts(parts), performance.now());
}

/** Which part of an exhaustive search to run (see {@link CheckOptions.shard}). */
export interface Shard {
  /** This part, 0 to count - 1. */
  readonly index: number;
  /** Parts in all. */
  readonly count: number;
}

/** The first violating execution found, as its schedule (for the counterexample). */
export interface Found {
  /** Thread index of each step. */
  tids: number[];
  /** Alternative taken at each step. */
  choices: number[];
  /** Its most severe finding, `"kind: message"`. */
  finding: string;
  /** Preemptions in its schedule (-1 for an execution the cross-check sampled). */
  preemptions: number;
  /** Position in the fixed exploration order (the shard unit it was found in). */
  unit: number;
}

/**
 * What an exploration (one shard of it, or all) found before the cross-check and the
 * counterexample are made: the JSON `racelab check --shard k/N` prints, which `racelab merge`
 * combines. Plain data.
 */
export interface Part {
  /** The shard explored, or null for the whole search. */
  readonly shard: Shard | null;
  /** Complete executions run. */
  executions: number;
  /** Sleep-blocked prefixes. */
  sleepBlocked: number;
  /** False when a bound or a stop request cut the part short. */
  complete: boolean;
  /** Why it stopped early, or null. */
  stopReason: string | null;
  /** Distinct states (state caching), else null. */
  states: number | null;
  /** Executions with a finding. */
  violations: number;
  /** Executions per finding key. */
  findings: Record<string, number>;
  /** The first violating execution in exploration order, or null. */
  first: Found | null;
  /**
   * Interleavings counted (null when not counted or too large to count), as a decimal integer
   * (exact, summed as BigInt) or, once some execution's count passed 2^53, a float's digits.
   */
  naive: string | null;
  /** Of `naive`, the interleavings that violate. */
  naiveBad: string | null;
  /** Outcomes reached (finding keys and final view), for the cross-check; empty when not needed. */
  outcomes: string[];
  /** Locations the invariants read, as the search ended (shards must agree). */
  invariantReads: number[];
  /** Why the part is not what it seems (state caching turned off, ...). */
  warnings: string[];
}

/** Random or pct mode: `runs` sampled executions. */
function sample(sc: AnyScenario, cfg: ReturnType<typeof resolveConfig>, opts: CheckOptions, t0: number): Part {
  const part = emptyPart(null);
  const seed = opts.seed ?? 1;
  let runs = opts.runs ?? 10_000;
  const threads = new Execution(sc, cfg).tasks.length;
  const sched: Scheduler = opts.mode === "random" ? new RandomScheduler(seed) : new PctScheduler(seed, threads, opts.pctDepth ?? 3);
  for (let i = 0; i < runs; i++) {
    const { exec } = runOne(sc, cfg, sched);
    tally(part, exec, -1, 0);
    if ((i + 1) % 1000 === 0) {
      opts.onProgress?.(i + 1, runs, { elapsedMs: performance.now() - t0, sleepBlocked: 0, states: 0, steps: 0 });
      const why = opts.stop?.() ?? null;
      if (why !== null) {
        part.stopReason = why;
        runs = i + 1;
        break;
      }
    }
  }
  part.executions = runs;
  return part;
}

/** A sum of interleaving counts: exact (BigInt) while every count is a safe integer, else a float. */
class NaiveSum {
  private exact = 0n;
  private approx = 0;
  private inexact = false;
  reset(): void {
    this.exact = 0n;
    this.approx = 0;
    this.inexact = false;
  }
  add(c: number): void {
    if (Number.isSafeInteger(c)) this.exact += BigInt(c);
    else {
      this.inexact = true;
      this.approx += c;
    }
  }
  addText(t: string): void {
    if (/^\d+$/.test(t)) this.exact += BigInt(t);
    else {
      this.inexact = true;
      this.approx += Number(t);
    }
  }
  text(): string {
    return this.inexact ? String(this.approx + Number(this.exact)) : this.exact.toString();
  }
}

function emptyPart(shard: Shard | null): Part {
  return {
    shard,
    executions: 0,
    sleepBlocked: 0,
    complete: false,
    stopReason: null,
    states: null,
    violations: 0,
    findings: {},
    first: null,
    naive: null,
    naiveBad: null,
    outcomes: [],
    invariantReads: [],
    warnings: [],
  };
}

function tally(part: Part, exec: Execution, preemptions: number, unit: number): void {
  if (exec.findings.length === 0) return;
  part.violations++;
  for (const k of new Set(exec.findings.map(findingKey))) part.findings[k] = (part.findings[k] ?? 0) + 1;
  part.first ??= { tids: exec.schedule.slice(), choices: exec.choices.slice(), finding: findingKey(mostSevere(exec.findings)), preemptions, unit };
}

/** The exhaustive search (or one shard of it). */
function explore(sc: AnyScenario, cfg: ReturnType<typeof resolveConfig>, opts: CheckOptions, t0: number): Part {
  const reduction = opts.reduction ?? REDUCTIONS[0]!;
  const shard = opts.shard ?? null;
  // Count interleavings only on request (the counting dominates small checks), and not under
  // state caching, which does not visit every trace.
  const counting = opts.countNaive === true && reduction !== "state-caching";
  const wantOutcomes = opts.crossCheck !== 0 && reduction !== "none";
  const invariantReads = new Set<number>();
  let part = emptyPart(shard);
  let outcomes = new Set<string>();
  let stats!: DfsStats;
  let unhashable: string | null = null;
  const sum = new NaiveSum();
  const bad = new NaiveSum();
  let countable = counting;
  const search = (stateCaching: boolean) => {
    part = emptyPart(shard);
    outcomes = new Set();
    sum.reset();
    bad.reset();
    countable = counting;
    return dfs(
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
        shard: shard ?? undefined,
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
        tally(part, v.exec, v.preemptions, v.unit);
        if (wantOutcomes) outcomes.add(outcomeOf(v.exec));
        if (countable) {
          // A BUG stops the execution at its step: in every interleaving it stands for, that
          // step comes last, so count the orders of the steps before it.
          const n = v.exec.halted ? v.exec.schedule.length - 1 : v.exec.schedule.length;
          const c = reduction === "none" ? 1 : countLinearizations(v.exec.schedule.slice(0, n), v.accesses.slice(0, n), v.exec.tasks.length);
          if (c === null) countable = false;
          else {
            sum.add(c);
            if (v.exec.findings.length > 0) bad.add(c);
          }
        }
      },
    );
  };
  const warnings: string[] = [];
  for (let pass = 1; ; pass++) {
    // A search that learned a new location an invariant reads has ordered steps without it:
    // search again with the larger set (a handful of passes at most).
    try {
      stats = search(reduction === "state-caching" && unhashable === null);
    } catch (e) {
      if (!(e instanceof UnhashableState)) throw e;
      // A read no fingerprint covers: search without caching (sleep sets), and say so.
      unhashable = e.location;
      warnings.push(
        `state caching is off: a step reads ${e.location}, a location without an owner (newLoc(name) without \`this\`); the search used sleep sets`,
      );
      stats = search(false);
    }
    if (!stats.invariantReadsGrew || reduction === "none") break;
    if (pass === 20) {
      stats.complete = false;
      warnings.push("the invariants kept reading new locations after 20 searches: not every interleaving was covered");
      break;
    }
  }
  part.executions = stats.executions;
  part.sleepBlocked = stats.sleepBlocked;
  part.complete = stats.complete;
  part.stopReason = stats.stopReason;
  part.states = reduction === "state-caching" && unhashable === null ? stats.states : null;
  part.naive = countable && stats.complete ? sum.text() : null;
  part.naiveBad = part.naive === null ? null : bad.text();
  part.outcomes = [...outcomes].sort();
  part.invariantReads = [...invariantReads].sort((x, y) => x - y);
  part.warnings = warnings;
  return part;
}

/**
 * Combines the parts of a sharded search into the part one search would have produced: counts
 * summed, the first violation the earliest in exploration order. Throws UsageError when the parts
 * are not the shards 0..N-1 of one search.
 */
function combineParts(parts: readonly Part[]): Part {
  const n = parts[0]?.shard?.count ?? 0;
  const idx = parts.map((p) => p.shard?.index ?? -1).sort((a, b) => a - b);
  if (n === 0 || parts.length !== n || idx.some((x, i) => x !== i) || parts.some((p) => p.shard?.count !== n))
    throw new UsageError(`need shards 0 to ${Math.max(n, parts.length) - 1} of one search, each once; got ${idx.join(", ") || "none"} of ${n}`);
  const inv = JSON.stringify(parts[0]!.invariantReads);
  if (parts.some((p) => JSON.stringify(p.invariantReads) !== inv))
    throw new UsageError("the shards' invariants read different locations (state-dependent invariant reads): check without --shard");
  const out = emptyPart(null);
  out.complete = parts.every((p) => p.complete);
  out.stopReason = parts.find((p) => p.stopReason !== null)?.stopReason ?? null;
  const outcomes = new Set<string>();
  for (const p of parts) {
    out.executions += p.executions;
    out.sleepBlocked += p.sleepBlocked;
    out.violations += p.violations;
    for (const [k, v] of Object.entries(p.findings)) out.findings[k] = (out.findings[k] ?? 0) + v;
    if (p.first !== null && (out.first === null || p.first.unit < out.first.unit)) out.first = p.first;
    for (const o of p.outcomes) outcomes.add(o);
    for (const w of p.warnings) if (!out.warnings.includes(w)) out.warnings.push(w);
  }
  if (parts.every((p) => p.naive !== null)) {
    const sum = new NaiveSum();
    const bad = new NaiveSum();
    for (const p of parts) {
      sum.addText(p.naive!);
      bad.addText(p.naiveBad!);
    }
    out.naive = sum.text();
    out.naiveBad = bad.text();
  }
  out.outcomes = [...outcomes].sort();
  out.invariantReads = parts[0]!.invariantReads;
  return out;
}

/**
 * The end of a check, shared by one search and a merge of shards: the cross-check of a reduced
 * exhaustive search, the warnings, the counterexample and the result.
 */
function finish(sc: AnyScenario, cfg: ReturnType<typeof resolveConfig>, opts: CheckOptions, part: Part, t0: number): CheckResult {
  const mode = opts.mode ?? "exhaustive";
  const reduction = opts.reduction ?? REDUCTIONS[0]!;
  const seed = opts.seed ?? 1;
  let complete = mode === "exhaustive" && part.complete;
  let naive = part.naive === null ? null : Number(part.naive);
  let naiveBad = part.naiveBad === null ? null : Number(part.naiveBad);
  let cross: CrossCheck | null = null;
  const warnings = [...part.warnings];
  let crossRuns = opts.crossCheck ?? defaultCrossCheckRuns(part.executions);
  if (mode === "exhaustive" && crossRuns > 0 && reduction !== "none" && complete && part.shard === null) {
    // Cross-check: executions sampled without the reduction must end in outcomes the reduced
    // search reached; equivalent interleavings end alike when every shared access is recorded.
    const outcomes = new Set(part.outcomes);
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
        if (exec.findings.length > 0) tally(part, exec, -1, Infinity);
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
  } else crossRuns = 0;
  if (mode === "exhaustive" && !complete && warnings.length === 0)
    warnings.push(
      part.stopReason !== null
        ? `the search stopped early (${part.stopReason}): not every interleaving was covered`
        : part.shard !== null
          ? `one shard of ${part.shard.count} (racelab merge combines them)`
          : `an execution exceeded 10,000 steps and was cut: not every interleaving was covered`,
    );
  const findings: Record<string, number> = {};
  for (const k of Object.keys(part.findings).sort()) findings[k] = part.findings[k]!;
  const counterexample = part.first === null ? null : minimize(sc, cfg, part.first);
  return {
    scenario: sc.id,
    fix: cfg.fix,
    variant: cfg.variant,
    params: { ...cfg.params },
    mode,
    memoryModel: cfg.memoryModel ?? "sc",
    seed,
    executions: part.executions,
    sleepBlocked: part.sleepBlocked,
    naiveExecutions: naive,
    naiveViolations: naiveBad,
    complete,
    violations: part.violations,
    findings,
    verdict: part.violations > 0 ? "fail" : (mode === "exhaustive" && !complete) || part.stopReason !== null ? "incomplete" : "pass",
    reduction: mode === "exhaustive" ? reduction : null,
    crossCheck: cross,
    warnings,
    counterexample,
    states: part.states,
    stopReason: part.stopReason,
    elapsedMs: Math.round((performance.now() - t0) * 10) / 10,
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
