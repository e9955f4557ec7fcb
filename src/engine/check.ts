import { recordResult } from "./record.js";
import { countLinearizations } from "./count.js";
import { StaleStateHash, StateCycle, UnhashableState, UsageError } from "../errors.js";
import { engineCopies } from "./access.js";
import { MEMORY_MODELS, reordersStores, type MemoryModel } from "./memory.js";
import { findingKey, type Finding, type FindingKind } from "./finding.js";
import { resolveConfig, type AnyScenario } from "./scenario.js";
import { formatSchedule, parseScheduleChoices } from "./schedule.js";
import { runStrategy, type RunStats, type Strategy } from "./runner.js";
import {
  collisionProbability,
  Footprints,
  isShardable,
  makeStrategy,
  PctStrategy,
  PreemptionBoundedSearch,
  RandomStrategy,
  ReplayStrategy,
  runOne,
  seedFootprints,
  shardDepthFor,
  type StrategyRequest,
} from "./strategies/index.js";
import type { Execution } from "./execution.js";
import { stepsJson, type StepJson } from "./trace.js";
import { lookupScenario } from "./scenario.js";

export { MODES, REDUCTIONS, type Mode, type Reduction } from "./modes.js";
import { type Mode, type Reduction, REDUCTIONS } from "./modes.js";
import { validateCheckOptions } from "./validate.js";
import { clip } from "./clip.js";
import { CUT_ADVICE, cutDiagnosis } from "./cut.js";
import { sharedFieldRaces } from "./plain-fields.js";
import { listHeadsMade } from "./track.js";
import { baseSite, siteSourceKey, unreachedSites, type Site, type StepRef } from "./site.js";

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
  /** Memory model: `sc` (default), `tso`, `pso` or `rmo` (see memory.ts; only `rmo` reorders a thread's loads). */
  readonly memoryModel?: MemoryModel;
  /** Executions in random and pct modes; default 10,000. */
  readonly runs?: number;
  /** PRNG seed for random and pct modes; default 1. */
  readonly seed?: number;
  /** Bound on complete executions in exhaustive mode; default 1,000,000. */
  readonly maxExecutions?: number;
  /** PCT bug depth d; default 3. */
  readonly pctDepth?: number;
  /** Exhaustive mode: `sleep-sets` (default), `dpor`, `state-caching` or `none` (see {@link Reduction}). */
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
   * Exhaustive mode, `state-caching`: explore at each state only a persistent set of threads,
   * computed from the threads' footprints learned as the search runs (see
   * strategies/persistent.ts; searched again until the footprints stop growing). Default true;
   * false stores every reachable state.
   */
  readonly persistentSets?: boolean;
  /**
   * The counterexample is the first execution (in exploration order) with a finding whose key
   * (`kind: message`, e.g. `bug: use-after-free: ...`) contains this text, and names that finding;
   * default: the first violating execution, named by its most severe finding. When no execution
   * has a matching finding, there is no counterexample and a warning says so; verdict and
   * finding counts are the same either way.
   */
  readonly counterexampleFor?: string;
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
   * Polled every 256 steps (in every mode: the runner polls it): a reason (`"interrupted
   * (SIGINT)"`) stops the exploration there and the partial result is returned, never `pass`.
   */
  readonly stop?: () => string | null;
  /**
   * Called about every 250 ms (in every mode) with the executions done, the total when known
   * (random and pct: `runs`), and the counts so far.
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
  /**
   * Executions cut so far at the bound of 10,000 steps, not counted in the executions done: a
   * thread that never finishes (an unbounded loop, a livelock) cuts every execution, and the
   * executions done stay 0.
   */
  readonly cut?: number;
  /**
   * `racelab rates --exact`: interleavings the exact probability's enumeration has covered so far
   * (it runs before the sampled executions, which stay at 0 meanwhile); absent otherwise.
   */
  readonly exact?: number;
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
  /** The finding reproduced, as `"kind: message"` (the JSON contract's string; {@link kind} and {@link message} are its parts). */
  readonly finding: string;
  /** Its kind. */
  readonly kind: FindingKind;
  /** Its message. */
  readonly message: string;
  /** Index of the step (0-based) after which it fired in this schedule; -1 before any step. */
  readonly step: number;
  /** Thread index that raised it, or -1 for a finding of the whole execution (deadlock, end checks). */
  readonly thread: number;
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
  /** The same counts structured, in the order of `findings`' keys. */
  readonly findingCounts: FindingCount[];
  /**
   * `fail` when some execution violates; `incomplete` when none was found but the search did not
   * cover every interleaving (a bound, or a failed cross-check); `pass` only when every
   * interleaving the model allows was covered and none violates.
   */
  readonly verdict: "pass" | "fail" | "incomplete";
  /**
   * Exhaustive mode: the reduction the search used (`sleep-sets` for `dpor` under pso, see
   * {@link DPOR_PSO_WARNING}, and for `state-caching` when a step observes state no fingerprint
   * covers, with a warning); null in other modes.
   */
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
   * Exhaustive mode with `state-caching`: the probability that two of the `states` distinct
   * states share a 64-bit fingerprint (n(n-1)/2 / 2^64, as SPIN's hash compaction reports), i.e.
   * that a state was pruned unexplored; else null.
   */
  readonly hashCollisionProbability: number | null;
  /**
   * Why the exploration stopped before covering everything (`time limit of 10 s`, `execution
   * bound of 1,000,000`, `interrupted (SIGINT)`), or null.
   */
  readonly stopReason: string | null;
  /**
   * Exhaustive mode, once every interleaving was covered: the steps of the model that ran in no
   * interleaving though an earlier or later step of the same function did (a branch the model
   * never takes, by `sitesIn()` factory and function; see `unreachedSites()`), in the order the
   * sites were made; empty when every such step ran. A pass says nothing about the code of these
   * steps. Null in the sampling modes and when the search was cut short.
   */
  readonly unreachedSteps: readonly StepRef[] | null;
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
  /** The same findings structured (kind, message, thread, step), in the order raised. */
  readonly raised: Finding[];
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
  // dpor under pso: its store/flush dependency (memory.ts setChoiceDependencies) left
  // interleavings unexplored on generated programs (test/reduction-property.test.ts: 2,268 of
  // 2,520 counted), so the search is made with sleep sets, and the result says so.
  const pso = mode === "exhaustive" && opts.reduction === "dpor" && cfg.memoryModel !== undefined && reordersStores(cfg.memoryModel);
  const run = pso ? { ...opts, reduction: "sleep-sets" as const } : opts;
  const r = mode !== "exhaustive" ? finish(sc, cfg, run, sample(sc, cfg, run, t0), t0) : finish(sc, cfg, run, explore(sc, cfg, run, t0), t0);
  if (pso) r.warnings.unshift(cfg.memoryModel === "pso" ? DPOR_PSO_WARNING : DPOR_PSO_WARNING.replace("under pso", `under ${cfg.memoryModel}`));
  recordResult("check", sc, opts, r);
  return r;
}

/**
 * The warning of a `--reduction dpor` check under pso, which searches with sleep sets instead (the
 * same with `rmo` for `pso` under rmo):
 * DPOR's dependency between a store and its buffer's flushes missed interleavings there.
 */
export const DPOR_PSO_WARNING =
  "--reduction dpor is not used under pso (its store/flush dependency left interleavings unexplored in racelab's property test): the search used sleep-sets";

/**
 * True for a warning that says only which reduction the search used in place of the one asked
 * for (dpor under pso or rmo, state caching where a step observes state no fingerprint covers):
 * the search is still complete and the verdict as sound, so `racelab check --strict` does not
 * count it (new-user trials 17 and 18: a correct pass exited 1).
 */
export function isReductionFallback(warning: string): boolean {
  return (
    MEMORY_MODELS.some((m) => warning === DPOR_PSO_WARNING.replace("under pso", `under ${m}`)) ||
    (warning.startsWith(STATE_CACHING_OFF[0]) && warning.endsWith(STATE_CACHING_OFF[1]))
  );
}

/** The two ends of {@link stateCachingOffWarning}'s text, around the location. */
const STATE_CACHING_OFF = [
  "state caching is off: a step observes ",
  ", state no fingerprint covers (racelab's RCU state lives outside the scenario's state, as does a newLoc(name) without an owner); the search used sleep sets",
] as const;

/** The warning of a state-caching search that observed `location`, which no fingerprint covers, and used sleep sets. */
function stateCachingOffWarning(location: string): string {
  return STATE_CACHING_OFF[0] + location + STATE_CACHING_OFF[1];
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
  if (!isShardable(reduction))
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
  return finish(sc, cfg, rest, combineParts(parts, rest.counterexampleFor), performance.now());
}

/** Which part of an exhaustive search to run (see {@link CheckOptions.shard}). */
export interface Shard {
  /** This part, 0 to count - 1. */
  readonly index: number;
  /** Parts in all. */
  readonly count: number;
  /**
   * Parts run at the same time in one process (`--workers`) share this array: a part explores
   * the subtrees it claims first, so none idles while another has work (see
   * DfsOptions.shard.claims). Without it the subtrees are dealt round-robin (`--shard k/N`).
   */
  readonly claims?: Int32Array;
}

/** How many executions showed one finding. */
export interface FindingCount {
  /** The finding's kind. */
  readonly kind: FindingKind;
  /** Its message. */
  readonly message: string;
  /** Executions that showed it. */
  executions: number;
}

/** The first violating execution found, as its schedule (for the counterexample). */
export interface Found {
  /** Thread index of each step. */
  tids: number[];
  /** Alternative taken at each step. */
  choices: number[];
  /** Its most severe finding. */
  finding: Finding;
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
  /** Executions per finding, in the order first seen. */
  findings: FindingCount[];
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
  /** Random and pct modes: sampled executions cut at the step bound (a thread that never finished). */
  cut?: number;
  /** Exhaustive mode: the keys (`siteSourceKey()`) of the sites of the steps the part took, sorted. */
  reached?: string[];
}

/** The request every strategy of a check is made from. */
function requestOf(opts: CheckOptions): StrategyRequest {
  return { seed: opts.seed ?? 1, runs: opts.runs ?? 10_000, pctDepth: opts.pctDepth ?? 3 };
}

/** Random or pct mode: `runs` sampled executions on the runner. */
function sample(sc: AnyScenario, cfg: ReturnType<typeof resolveConfig>, opts: CheckOptions, t0: number): Part {
  const part = emptyPart(null);
  const strategy = makeStrategy(opts.mode ?? "random", requestOf(opts));
  const stats = runStrategy(sc, cfg, strategy, { stop: opts.stop, onProgress: progressOf(opts, t0) }, (v) => tally(part, v.exec, v.preemptions, 0, opts.counterexampleFor));
  part.executions = stats.executions + stats.cut;
  part.stopReason = stats.stopReason;
  part.cut = stats.cut;
  if (stats.cut > 0) {
    const why = cutDiagnosis(sc, cfg, opts.seed ?? 1);
    part.warnings.push(
      `${stats.cut.toLocaleString("en-US")} of ${part.executions.toLocaleString("en-US")} sampled executions ran past 10,000 steps and were cut: ` +
        `a thread that never finishes (an unbounded loop, a livelock, a hang) or a model that needs more steps; no verdict for them` +
        (why === null ? "" : `; in a cut execution, ${why}: ${CUT_ADVICE}`),
    );
  }
  return part;
}

/** The runner's progress callback for `opts.onProgress`, or undefined. */
function progressOf(opts: CheckOptions, t0: number): Parameters<typeof runStrategy>[3]["onProgress"] {
  const cb = opts.onProgress;
  if (cb === undefined) return undefined;
  return (p) =>
    cb(p.executions, p.total, {
      elapsedMs: performance.now() - t0,
      sleepBlocked: p.counters.sleepBlocked,
      states: p.counters.states,
      steps: p.steps,
      cut: p.cut,
    });
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
    shard: shard === null ? null : { index: shard.index, count: shard.count },
    executions: 0,
    sleepBlocked: 0,
    complete: false,
    stopReason: null,
    states: null,
    violations: 0,
    findings: [],
    first: null,
    naive: null,
    naiveBad: null,
    outcomes: [],
    invariantReads: [],
    warnings: [],
  };
}

function tally(part: Part, exec: Execution, preemptions: number, unit: number, want: string | undefined): void {
  if (exec.findings.length === 0) return;
  part.violations++;
  const seen = new Set<string>();
  for (const f of exec.findings) {
    const k = findingKey(f);
    if (seen.has(k)) continue;
    seen.add(k);
    const c = part.findings.find((x) => x.kind === f.kind && x.message === f.message);
    if (c !== undefined) c.executions++;
    else part.findings.push({ kind: f.kind, message: f.message, executions: 1 });
  }
  // The counterexample is the first violating execution in exploration order, unless a later one
  // has an `error` (the model's own code threw in a step) and the first has none: the other
  // findings may be that error's consequences, so the counterexample shows the cause.
  if (part.first !== null && (want !== undefined || part.first.finding.kind === "error" || !exec.findings.some((f) => f.kind === "error"))) return;
  const finding = want === undefined ? mostSevere(exec.findings) : exec.findings.find((f) => findingKey(f).includes(want));
  if (finding !== undefined) part.first = { tids: exec.schedule.slice(), choices: exec.choices.slice(), finding, preemptions, unit };
}

/** Whether counterexample `a` comes before `b` (see tally()): an `error` first, then the earlier in exploration order. */
function firstBefore(a: NonNullable<Part["first"]>, b: NonNullable<Part["first"]>, want: string | undefined): boolean {
  const ea = want === undefined && a.finding.kind === "error";
  const eb = want === undefined && b.finding.kind === "error";
  return ea !== eb ? ea : a.unit < b.unit;
}

/** The exhaustive search (or one shard of it) on the runner. */
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
  let stats!: RunStats;
  let strategy!: Strategy;
  let unhashable: string | null = null;
  let fullRehash = false;
  // Persistent sets (state caching): footprints learned from sampled executions first, then from
  // every search; a search whose footprints grew is run again.
  let footprints: Footprints | null = null;
  if (reduction === "state-caching" && opts.persistentSets !== false && shard === null) {
    footprints = new Footprints();
    seedFootprints(sc, cfg, footprints, invariantReads, opts.seed ?? 1);
  }
  const sum = new NaiveSum();
  const bad = new NaiveSum();
  let countable = counting;
  const req = requestOf(opts);
  // (Every search's: a site reached in any real execution is reachable.)
  const reachedSites = new Set<Site>();
  const search = (name: string) => {
    part = emptyPart(shard);
    outcomes = new Set();
    sum.reset();
    bad.reset();
    countable = counting;
    const shardDepth = shard === null ? undefined : shardDepthFor(sc, cfg, name, shard.count, { ...req, countDepth: undefined });
    footprints?.resetGrew();
    strategy = makeStrategy(name, { ...req, shard: shard ?? undefined, shardDepth, fullRehash, footprints });
    return runStrategy(
      sc,
      cfg,
      strategy,
      {
        maxExecutions: opts.maxExecutions ?? 1_000_000,
        keepAccesses: counting,
        invariantReads,
        reachedSites,
        timeLimitMs: opts.timeLimitMs,
        maxStates: opts.maxStates,
        stop: opts.stop,
        onProgress: progressOf(opts, t0),
      },
      (v) => {
        if (v.cut) return;
        tally(part, v.exec, v.preemptions, v.unit, opts.counterexampleFor);
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
  let complete = false;
  for (let pass = 1; ; pass++) {
    // A search that learned a new location an invariant reads has ordered steps without it:
    // search again with the larger set (a handful of passes at most).
    try {
      try {
        try {
          stats = search(reduction === "state-caching" && unhashable !== null ? "sleep-sets" : reduction);
        } catch (e) {
          if (!(e instanceof StateCycle)) throw e;
          // A cycle in the state graph: persistent sets could ignore a thread around it.
          footprints = null;
          stats = search(reduction);
        }
      } catch (e) {
        if (!(e instanceof StaleStateHash)) throw e;
        // Hashing only what each step accessed missed a change: search again, hashing everything.
        fullRehash = true;
        warnings.push(
          `state caching hashed the whole state after every step: ${e.message} (a kernel object whose method changes ` +
            `another object's fields, or a field changed outside the tracking proxies), so hashing only what a step accessed ` +
            `missed it; the first search was discarded`,
        );
        stats = search(reduction);
      }
    } catch (e) {
      if (!(e instanceof UnhashableState)) throw e;
      // A read no fingerprint covers: search without caching (sleep sets), and say so.
      unhashable = e.location;
      warnings.push(stateCachingOffWarning(e.location));
      stats = search("sleep-sets");
    }
    complete = stats.complete;
    // Persistent sets chosen with footprints that later grew may have left out an interleaving.
    const footprintsGrew = footprints !== null && footprints.grew && unhashable === null && stats.complete;
    if ((!stats.invariantReadsGrew || reduction === "none") && !footprintsGrew) break;
    // (Footprints still growing after 8 searches: store every state instead.)
    if (footprintsGrew && pass >= 8) footprints = null;
    if (pass === 20) {
      complete = false;
      warnings.push("the invariants kept reading new locations after 20 searches: not every interleaving was covered");
      break;
    }
  }
  part.executions = stats.executions;
  // (Exhaustive: only set when some were cut, so a shard's JSON is otherwise as it was.)
  if (stats.cut > 0) part.cut = stats.cut;
  part.sleepBlocked = strategy.counters.sleepBlocked;
  part.complete = complete;
  part.stopReason = stats.stopReason;
  part.states = reduction === "state-caching" && unhashable === null ? strategy.counters.states : null;
  part.naive = countable && complete ? sum.text() : null;
  part.naiveBad = part.naive === null ? null : bad.text();
  part.outcomes = [...outcomes].sort();
  part.invariantReads = [...invariantReads].sort((x, y) => x - y);
  part.warnings = warnings;
  part.reached = [...new Set([...reachedSites].map((x) => siteSourceKey(baseSite(x))))].sort();
  return part;
}

/**
 * Combines the parts of a sharded search into the part one search would have produced: counts
 * summed, the first violation the earliest in exploration order. Throws UsageError when the parts
 * are not the shards 0..N-1 of one search.
 */
function combineParts(parts: readonly Part[], want: string | undefined): Part {
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
  const reached = new Set<string>();
  for (const p of parts) {
    out.executions += p.executions;
    out.sleepBlocked += p.sleepBlocked;
    if (p.cut !== undefined) out.cut = (out.cut ?? 0) + p.cut;
    out.violations += p.violations;
    for (const f of p.findings) {
      const c = out.findings.find((x) => x.kind === f.kind && x.message === f.message);
      if (c !== undefined) c.executions += f.executions;
      else out.findings.push({ ...f });
    }
    if (p.first !== null && (out.first === null || firstBefore(p.first, out.first, want))) out.first = p.first;
    for (const o of p.outcomes) outcomes.add(o);
    for (const w of p.warnings) if (!out.warnings.includes(w)) out.warnings.push(w);
    if (p.reached !== undefined) for (const k of p.reached) reached.add(k);
  }
  out.reached = [...reached].sort();
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

/** `a, b, c and 2 more` (at most four names). */
function someNames(names: readonly string[]): string {
  return names.slice(0, 4).join(", ") + (names.length > 4 ? ` and ${names.length - 4} more` : "");
}

/** The warning for plain fields that are never buffered under `mm` (plain-fields.ts). */
function plainFieldsWarning(fields: readonly string[], mm: MemoryModel): string {
  const one = fields.length === 1;
  return (
    `plain field${one ? "" : "s"} ${someNames(fields)} ${one ? "is" : "are"} written by one thread and read by another with no lock in common, ` +
    `and racelab never buffers a plain field's store, whatever the memory model: this ${mm} check reorders no access to ${one ? "it" : "them"}; ` +
    `if one publishes data or is a flag another thread tests, make it a Cell written with WRITE_ONCE()/smp_store_release() ` +
    `and read with READ_ONCE()/smp_load_acquire()`
  );
}

/** The warning for list links two threads write with no lock in common (plain-fields.ts). */
function listWritesWarning(links: readonly string[]): string {
  const one = links.length === 1;
  return (
    `list_head link${one ? "" : "s"} ${someNames(links)} ${one ? "is" : "are"} written by two threads with no lock in common, ` +
    `and racelab runs a list function (list_add(), list_del(), list_del_init(), ...) inside the one atomic step that calls it: ` +
    `the interleavings inside two of them that corrupt a list in the kernel (__list_del() is two stores) are not explored, so this check does not cover them; ` +
    `in the kernel both writers need a lock in common (RCU list writers too)`
  );
}

/** The warning for list links written by one thread and read by another with no lock in common, under `mm` (plain-fields.ts). */
function listReadsWarning(links: readonly string[], mm: MemoryModel): string {
  const one = links.length === 1;
  return (
    `list_head link${one ? "" : "s"} ${someNames(links)} ${one ? "is" : "are"} written by one thread and read by another with no lock in common ` +
    `(a lockless list_empty() or list walk), and racelab writes list links straight to memory, whatever the memory model: ` +
    `this ${mm} check reorders no store to ${one ? "it" : "them"}`
  );
}

/**
 * The end of a check, shared by one search and a merge of shards: the cross-check of a reduced
 * exhaustive search, the warnings, the counterexample and the result.
 */
function finish(sc: AnyScenario, cfg: ReturnType<typeof resolveConfig>, opts: CheckOptions, part: Part, t0: number): CheckResult {
  const mode = opts.mode ?? "exhaustive";
  const asked = opts.reduction ?? REDUCTIONS[0]!;
  // State caching fell back to sleep sets (a location no fingerprint covers): it stored no states.
  const reduction = asked === "state-caching" && part.states === null ? "sleep-sets" : asked;
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
    const scheds: Strategy[] = [new RandomStrategy(seed), new PctStrategy(seed, 2), new PctStrategy(seed + 1, 3)];
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
        if (exec.findings.length > 0) tally(part, exec, exec.preemptions, Infinity, opts.counterexampleFor);
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
  if (mode === "exhaustive" && engineCopies().length > 1) {
    complete = false;
    warnings.push(
      `racelab is loaded ${engineCopies().length} times in this process (${engineCopies().join(", ")}): the kernel objects of one ` +
        `copy record accesses that another copy's search does not see; import racelab once (a scenario file's "racelab" is the running one)`,
    );
  }
  if (mode === "exhaustive" && !complete && warnings.length === 0)
    warnings.push(
      part.stopReason !== null
        ? `the search stopped early (${part.stopReason}): not every interleaving was covered${
            stoppedCutHint(sc, cfg, part.executions, part.cut ?? 0, opts.seed ?? 1)
          }`
        : part.shard !== null
          ? `one shard of ${part.shard.count} (racelab merge combines them)`
          : cutWarning(sc, cfg, part.executions, opts.seed ?? 1),
    );
  // (After the incomplete search's warning, which is given only when there is no other.)
  // Fields no lock orders: plain ones and list links under a store-buffer model (never
  // buffered), and list links two threads write (list functions are atomic) under every model.
  const mm = cfg.memoryModel ?? "sc";
  if (mm !== "sc" || listHeadsMade() > 0) {
    const races = sharedFieldRaces(sc, cfg, seed);
    if (races.linkWrites.length > 0) warnings.push(listWritesWarning(races.linkWrites));
    if (mm !== "sc" && races.linkReads.length > 0) warnings.push(listReadsWarning(races.linkReads, mm));
    // (Less the model's own bookkeeping, which stands for no kernel store.)
    const own = (sc.bookkeeping ?? []).map((f) => `state.${f}`);
    const plain = races.plain.filter((f) => !own.some((o) => f === o || f.startsWith(`${o}.`) || f.startsWith(`${o}[`)));
    if (mm !== "sc" && plain.length > 0) warnings.push(plainFieldsWarning(plain, mm));
  }
  const findingCounts = part.findings
    .map((f) => ({ kind: f.kind, message: f.message, executions: f.executions }))
    .sort((a, b) => cmp(findingKey(a), findingKey(b)));
  const findings: Record<string, number> = {};
  for (const f of findingCounts) findings[findingKey(f)] = f.executions;
  const counterexample = part.first === null ? null : minimize(sc, cfg, part.first);
  if (counterexample === null && opts.counterexampleFor !== undefined && findingCounts.length > 0)
    warnings.push(
      `no execution found has a finding matching "${clip(opts.counterexampleFor)}": no counterexample` +
        // (Claims take regular expressions; this is plain text: new-user trial 25 wrote `stale\|done=1`.)
        (/[\\|]|\.\*|^\^|\$$/.test(opts.counterexampleFor) ? " (the text is matched as it is, not as a regular expression)" : ""),
    );
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
    findingCounts,
    verdict:
      part.violations > 0 ? "fail" : (mode === "exhaustive" && !complete) || part.stopReason !== null || (part.cut ?? 0) > 0 ? "incomplete" : "pass",
    reduction: mode === "exhaustive" ? reduction : null,
    crossCheck: cross,
    warnings,
    counterexample,
    states: part.states,
    hashCollisionProbability: part.states === null ? null : collisionProbability(part.states),
    stopReason: part.stopReason,
    unreachedSteps: mode === "exhaustive" && complete && part.reached !== undefined ? unreachedSites(new Set(part.reached)) : null,
    elapsedMs: Math.round((performance.now() - t0) * 10) / 10,
  };
}

/**
 * The warning of an exhaustive search that cut executions at the step bound (and nothing else made
 * it incomplete): likely an unbounded loop or a livelock, with the thread that dominates a cut
 * execution (see cut.ts). `done`: the executions that finished.
 */
function cutWarning(sc: AnyScenario, cfg: ReturnType<typeof resolveConfig>, done: number, seed: number): string {
  const why = cutDiagnosis(sc, cfg, seed);
  return (
    `${done === 0 ? "no execution finished: each one explored ran past 10,000 steps and was cut" : "an execution ran past 10,000 steps and was cut"}` +
    `, so not every interleaving was covered: ` +
    (why === null
      ? "a thread that never finishes (an unbounded loop, a livelock) or a model that needs more steps"
      : `likely an unbounded loop or a livelock: in a cut execution, ${why}; ${CUT_ADVICE}`)
  );
}

/**
 * What a search stopped early (a time limit, a budget, Ctrl-C) adds to its warning when
 * executions ran past the step bound; "" when none did. With none finished: likely an unbounded
 * loop or a livelock. With some finished and `cut` cut: a loop a thread can repeat without end (a
 * busy-wait without t.retry()) gives every interleaving of up to 10,000 of its steps, a search
 * that does not end (a new user's `for (;;) { yield SITE; if (READ_ONCE(t, s.cond)) break; }` ran
 * at 300 executions/s with no hint). Either names the thread that dominates a cut execution
 * (cut.ts) when a diagnosis run finds one.
 */
function stoppedCutHint(sc: AnyScenario, cfg: ReturnType<typeof resolveConfig>, done: number, cut: number, seed: number): string {
  if (done > 0 && cut === 0) return "";
  const why = cutDiagnosis(sc, cfg, seed);
  if (done === 0)
    return why === null ? "" : `; no execution finished, and executions run past 10,000 steps and are cut: likely an unbounded loop or a livelock: in a cut execution, ${why}; ${CUT_ADVICE}`;
  return (
    `; ${cut.toLocaleString("en-US")} execution${cut === 1 ? "" : "s"} ran past 10,000 steps and ${cut === 1 ? "was" : "were"} cut: ` +
    `a loop a thread can repeat without end (a busy-wait) multiplies the interleavings without bound` +
    (why === null ? `; ${CUT_ADVICE}` : `: in a cut execution, ${why}; ${CUT_ADVICE}`)
  );
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
 * The counterexample of a found violation: the execution with the fewest preemptions that shows
 * the same finding, found by preemption-bounded search on the runner (bound 0, 1, ... below the
 * found one's preemptions, at most 20,000 executions per bound), traced as it runs and kept from
 * the run that found it. When no bound below does, the found schedule is replayed once, traced.
 */
function minimize(sc: AnyScenario, cfg: ReturnType<typeof resolveConfig>, first: Found): Counterexample {
  const same = (f: Finding) => f.kind === first.finding.kind && f.message === first.finding.message;
  let exec: Execution | null = null;
  for (let b = 0; b < first.preemptions && exec === null; b++)
    runStrategy(sc, cfg, new PreemptionBoundedSearch(b), { maxExecutions: 20_000, trace: true }, (v) => {
      if (v.cut || !v.exec.findings.some(same)) return false;
      exec = v.exec;
      return true;
    });
  const ex: Execution = exec ?? runOne(sc, cfg, new ReplayStrategy(first.tids, first.choices), { trace: true }).exec;
  const f = ex.findings.find(same) ?? first.finding;
  return {
    schedule: formatSchedule(ex.schedule, ex.choices),
    finding: findingKey(f),
    kind: f.kind,
    message: f.message,
    step: f.step,
    thread: f.thread,
    preemptions: ex.preemptions,
    steps: stepsJson(ex),
  };
}

/**
 * Replays a schedule string under one fix and variant, tracing every step. Throws UsageError for
 * a malformed schedule, one that names a thread that cannot run, and one longer than the
 * 10,000 steps an execution may take.
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
  const { tids, choices } = parseScheduleChoices(opts.schedule);
  const { exec, cut } = runOne(sc, cfg, new ReplayStrategy(tids, choices), { trace: true });
  // (An execution stops at 10,000 steps, as in every mode: the rest of the schedule never ran.)
  if (cut)
    throw new UsageError(
      `the schedule runs past 10,000 steps, the bound on an execution's steps: the replay stopped at step 10,000 and the rest of the schedule did not run`,
    );
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
      raised: exec.findings.slice(),
      steps: stepsJson(exec),
    },
  };
}

/** Replays a check's counterexample with tracing (null when the check found none); `sc` is the scenario object or its id. */
export function replayCounterexample(sc: AnyScenario | string, r: CheckResult): Execution | null {
  if (r.counterexample === null) return null;
  return replay(sc, { fix: r.fix, variant: r.variant, params: r.params, memoryModel: r.memoryModel, schedule: r.counterexample.schedule }).exec;
}

/** Code-unit order of strings (as JSON keys sort). */
function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
