/**
 * Failure rates: how often an execution of a configuration shows a finding when the scheduler is
 * uniformly random, PCT or timed (a discrete-event simulation in ns, strategies/timed.ts), with
 * 95% Wilson score intervals and, in timed mode, a mean time to failure (the JSON of `racelab
 * rates`).
 *
 * A run of `runs` executions is cut into chunks (1,000 executions, or runs/1,000 when that is
 * larger); chunk i draws from the seed's xoroshiro128+ stream jumped i times (2^64 draws apart,
 * pure-rand's `jump()`), so the counts depend on the seed and `runs` only, never on how many
 * workers ran the chunks or in which order.
 */
import type { RandomGenerator } from "pure-rand";
import { UsageError } from "../errors.js";
import { findingKey, type Finding } from "./finding.js";
import { recordResult } from "./record.js";
import type { MemoryModel } from "./memory.js";
import { MAX_STEPS, runStrategy, TID_MASK, type RunProgress } from "./runner.js";
import { UnreducedSearch } from "./strategies/sleep-sets.js";
import { lookupScenario, resolveConfig, type AnyScenario } from "./scenario.js";
import { PctStrategy } from "./strategies/pct.js";
import { RandomStrategy, seededGenerator } from "./strategies/random.js";
import { TimedStrategy } from "./strategies/timed.js";
import { mttfHours, resolveTiming, type Timing } from "./timing.js";
import { MAX_PCT_DEPTH, MAX_RUNS, MAX_SEED, showValue } from "./validate.js";

/** z for a two-sided 95% interval: the 0.975 quantile of the standard normal distribution. */
export const Z95 = 1.959963984540054;

/**
 * The Wilson score interval (Wilson 1927) of a binomial proportion: `successes` of `n` trials,
 * at `z` (default {@link Z95}, 95%). Returns `[lo, hi]`, both in [0, 1]; `[0, 1]` when n = 0.
 * Unlike the normal approximation it stays inside [0, 1] and is not empty at 0 or n successes
 * (0 of 10: [0, 0.278]). Throws RangeError unless 0 <= successes <= n are integers.
 */
export function wilson(successes: number, n: number, z = Z95): [number, number] {
  if (!Number.isInteger(successes) || !Number.isInteger(n) || successes < 0 || successes > n)
    throw new RangeError(`wilson: need integers 0 <= successes <= n, got ${successes} of ${n}`);
  if (n === 0) return [0, 1];
  const p = successes / n;
  const z2 = z * z;
  const centre = (p + z2 / (2 * n)) / (1 + z2 / n);
  const half = (z / (1 + z2 / n)) * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n));
  // The ends are exact at 0 and n successes (the formula gives them up to rounding).
  return [successes === 0 ? 0 : Math.max(0, centre - half), successes === n ? 1 : Math.min(1, centre + half)];
}

/**
 * The sampling modes of {@link rates}: `random` (a thread uniformly among the enabled ones at
 * each step), `pct` (Burckhardt et al. 2010, bug depth `pctDepth`), `timed` (each thread on its
 * own CPU, steps costing nanoseconds; see {@link Timing}).
 */
export type RateMode = "random" | "pct" | "timed";
/** Every {@link RateMode}. */
export const RATE_MODES: readonly RateMode[] = ["random", "pct", "timed"];

/** Most attempts per second {@link RateOptions.attemptsPerSecond} takes. */
export const MAX_ATTEMPT_RATE = 1e12;

/** Options of {@link rates}. */
export interface RateOptions {
  /** Fix id; default `baseline`. */
  readonly fix?: string;
  /** Variant id; default `default`. */
  readonly variant?: string;
  /** Scenario parameters; defaults from the scenario. */
  readonly params?: Record<string, number>;
  /** Memory model; default the variant's, else `sc`. */
  readonly memoryModel?: MemoryModel;
  /** `random` (default), `pct` or `timed` (see {@link RateMode}). */
  readonly mode?: RateMode;
  /** Executions; default 10,000 (1 to 1,000,000,000). */
  readonly runs?: number;
  /** Seed; default 1 (0 to 2^53 - 1). */
  readonly seed?: number;
  /** PCT bug depth d; default 3. */
  readonly pctDepth?: number;
  /** Timed mode: step costs and start window over the scenario's and the defaults, ns (see {@link Timing}). */
  readonly timing?: Partial<Timing>;
  /**
   * Timed mode: racing attempts per second (how often the racing code paths run against each
   * other, e.g. per machine or per fleet), for `mttfHours`; default 1.
   */
  readonly attemptsPerSecond?: number;
  /**
   * Also compute `exact`, the probability of a failure under the uniform random scheduler, by
   * enumerating every interleaving (at most {@link EXACT_LIMIT}; over it, `exact` is null).
   * Default false.
   */
  readonly exact?: boolean;
  /** Run only chunks `index`, `index + count`, ... (a worker's share); the result is then a part for {@link mergeRates}. */
  readonly part?: {
    /** This part, 0 to count - 1. */
    readonly index: number;
    /** Parts in all. */
    readonly count: number;
  };
  /** Polled every 256 steps: a reason stops the run there (the result is then `partial`). */
  readonly stop?: () => string | null;
  /**
   * Called after each chunk with the executions done and the total; with `exact`, also every
   * 250 ms of the enumeration that runs first, with `exact` the interleavings it has covered.
   */
  readonly onProgress?: (done: number, total: number, exact?: number) => void;
}

/** One finding's (or one kind's) count and rate. */
export interface RateCount {
  /** `"kind: message"`, or the kind alone for a per-kind count. */
  readonly finding: string;
  /** Executions that showed it. */
  readonly failures: number;
  /** failures / runs. */
  readonly rate: number;
  /** 95% Wilson score interval of the rate. */
  readonly ci95: [number, number];
}

/** Result of {@link rates} (JSON contract of `racelab rates --json`, one object per configuration). */
export interface RateResult {
  /** Scenario id. */
  readonly scenario: string;
  /** Fix id. */
  readonly fix: string;
  /** Variant id. */
  readonly variant: string;
  /** Every scenario parameter with the value used. */
  readonly params: Record<string, number>;
  /** Memory model of the run. */
  readonly memoryModel: MemoryModel;
  /** `random` or `pct`. */
  readonly mode: RateMode;
  /** Executions run (fewer than asked when `partial`). */
  readonly runs: number;
  /** Executions with at least one finding. */
  readonly failures: number;
  /** failures / runs (0 when runs is 0). */
  readonly rate: number;
  /** 95% Wilson score interval of `rate`. */
  readonly ci95: [number, number];
  /**
   * With `exact`: the probability that an execution fails under the uniform random scheduler,
   * summed over every interleaving (each weighs the product of 1/(enabled threads) and
   * 1/(alternatives) over its steps); null when not asked, when there are more than
   * {@link EXACT_LIMIT} interleavings, or in pct and timed modes (no such closed form here).
   */
  readonly exact: number | null;
  /**
   * Timed mode: mean time to failure in hours at `attemptsPerSecond` attempts per second,
   * 1 / (rate · attempts/s) / 3600; null in the other modes and when no execution failed.
   */
  readonly mttfHours: number | null;
  /**
   * Timed mode: the MTTF interval from `ci95` (`[1/hi, 1/lo]` scaled as `mttfHours`), hours;
   * the upper end null when no execution failed (unbounded). Null in the other modes.
   */
  readonly mttfHoursCi95: [number, number | null] | null;
  /** Timed mode: the attempts per second `mttfHours` assumes; else null. */
  readonly attemptsPerSecond: number | null;
  /** Timed mode: the step costs and start window used (defaults, scenario, run), ns; else null. */
  readonly timing: Timing | null;
  /** Seed. */
  readonly seed: number;
  /** Worker threads the run used (results do not depend on it). */
  readonly workers: number;
  /** Per finding kind (`bug`, `warning`, ...), executions that showed one, kinds sorted. */
  readonly kinds: RateCount[];
  /** Per finding (`"kind: message"`), sorted. */
  readonly findings: RateCount[];
  /** 1-based index of the first failing execution (runs to first failure), or null. */
  readonly firstFailure: number | null;
  /** PCT: the bug depth d; else null. */
  readonly pctDepth: number | null;
  /**
   * PCT: the paper's lower bound 1/(n·k^(d−1)) on the probability of finding a bug of depth d
   * per execution, with n the threads (store-buffer daemons included) and k the longest
   * execution, in steps; else null.
   */
  readonly pctBound: number | null;
  /**
   * Why the rate is not what it seems, one sentence each (empty when nothing is): in timed mode
   * under tso, pso or rmo, a store that always becomes visible before its CPU's next plain step
   * can start (`storeDrainNs` at most `stepNs · (1 - jitter)`), so that no store-buffering
   * reordering (a lost wake-up, Dekker's pattern) gets a window.
   */
  readonly warnings: string[];
  /** True when a stop request cut the run short. */
  readonly partial: boolean;
  /** Why it stopped early, or null. */
  readonly stopReason: string | null;
  /** Wall-clock time, ms. */
  readonly elapsedMs: number;
}

/** What one part of a chunked run counted (plain data: workers post it back). */
export interface RatePart {
  /** Executions run. */
  runs: number;
  /** Executions with a finding. */
  failures: number;
  /** Executions per finding key. */
  findings: Record<string, number>;
  /** Executions per finding kind. */
  kinds: Record<string, number>;
  /** Per chunk run: [chunk index, index within the chunk of its first failure (or -1), executions run]. */
  chunks: [number, number, number][];
  /** Most threads and steps seen (the PCT bound's n and k). */
  threads: number;
  /** Longest execution, steps. */
  steps: number;
  /** Why it stopped early, or null. */
  stopReason: string | null;
  /** The exact probability (computed by part 0 when asked), else null. */
  exact: number | null;
  /** Executions cut at the step bound (counted as runs that did not fail). */
  cut?: number;
}

/** Executions per configuration when {@link RateOptions.runs} is not given. */
const DEFAULT_RUNS = 10_000;

/** Most interleavings {@link exactFailureProbability} enumerates. */
export const EXACT_LIMIT = 1_000_000;

/** The unreduced search, which can tell the probability of the current path under the uniform random scheduler. */
class Weighing extends UnreducedSearch {
  /** The product over the path's nodes of 1/(enabled threads) and 1/(alternatives of the thread taken). */
  probability(): number {
    let p = 1;
    for (const f of this.frames) {
      const tid = f.cur & TID_MASK;
      let alts = 0;
      const threads = new Set<number>();
      for (const a of f.order) {
        threads.add(a & TID_MASK);
        if ((a & TID_MASK) === tid) alts++;
      }
      p /= threads.size * alts;
    }
    return p;
  }
}

/**
 * The probability that an execution of the configuration fails (shows any finding) under the
 * uniform random scheduler (RandomStrategy: a thread uniformly among the enabled ones, then a
 * choice uniformly among its step's alternatives), by enumerating every interleaving with its
 * probability. Null when there are more than `limit` interleavings or an execution reaches the
 * 10,000-step bound. Throws UsageError for bad ids or parameters.
 */
export function exactFailureProbability(ref: AnyScenario | string, opts: RateOptions = {}, limit = EXACT_LIMIT): number | null {
  const sc = lookupScenario(ref);
  const cfg = resolveConfig(sc, opts.fix ?? "baseline", opts.variant ?? "default", opts.params ?? {}, opts.memoryModel);
  const s = new Weighing();
  let p = 0;
  const onProgress = opts.onProgress;
  const runs = opts.runs ?? DEFAULT_RUNS;
  const progress = onProgress === undefined ? undefined : (q: RunProgress) => onProgress(0, runs, q.executions);
  const st = runStrategy(sc, cfg, s, { maxExecutions: limit, stop: opts.stop, onProgress: progress }, (v) => {
    // An execution past the step bound makes the answer null: stop there (a loop without
    // t.retry() enumerated cut executions for minutes; new-user trial 19).
    if (v.cut) return true;
    if (v.exec.findings.length > 0) p += s.probability();
    return false;
  });
  return st.complete ? Math.min(1, p) : null;
}

/** The chunk size of a run of `runs` executions: 1,000, or runs / 1,000 rounded up when larger (at most 1,000 chunks past 1,000,000 runs). */
export function chunkSize(runs: number): number {
  return Math.max(1000, Math.ceil(runs / 1000));
}

/** The generator of chunk `i` of a run seeded `seed`: the seed's stream jumped i times. */
export function chunkGenerator(seed: number, i: number): RandomGenerator {
  let g = seededGenerator(seed);
  for (let k = 0; k < i; k++) g = g.jump!();
  return g;
}

/** Throws UsageError (one line) unless the options are in range. */
export function validateRateOptions(o: RateOptions): void {
  const bad = (what: string, v: unknown, want: string) => {
    throw new UsageError(`${what} must be ${want}, got ${showValue(v)}`);
  };
  const int = (v: unknown, lo: number, hi: number) => typeof v === "number" && Number.isInteger(v) && v >= lo && v <= hi;
  if (o.mode !== undefined && !RATE_MODES.includes(o.mode)) bad("mode", o.mode, `one of ${RATE_MODES.join(", ")}`);
  if (o.runs !== undefined && !int(o.runs, 1, MAX_RUNS)) bad("runs", o.runs, `an integer from 1 to ${MAX_RUNS.toLocaleString("en-US")}`);
  if (o.seed !== undefined && !int(o.seed, 0, MAX_SEED)) bad("seed", o.seed, "an integer from 0 to 2^53 - 1");
  if (o.pctDepth !== undefined && !int(o.pctDepth, 1, MAX_PCT_DEPTH)) bad("pctDepth", o.pctDepth, `an integer from 1 to ${MAX_PCT_DEPTH}`);
  if (o.attemptsPerSecond !== undefined && !(typeof o.attemptsPerSecond === "number" && o.attemptsPerSecond > 0 && o.attemptsPerSecond <= MAX_ATTEMPT_RATE))
    bad("attemptsPerSecond", o.attemptsPerSecond, "a number above 0 and at most 1e12");
  if (o.timing !== undefined) {
    if (o.timing === null || typeof o.timing !== "object") bad("timing", o.timing, "an object of ns values");
    resolveTiming(o.timing);
  }
  if (o.part !== undefined && !(int(o.part.count, 1, 10_000) && int(o.part.index, 0, o.part.count - 1)))
    bad("part", o.part, "{ index, count } with 0 <= index < count <= 10,000");
}

/**
 * Runs `runs` executions of one configuration under the random, PCT or timed scheduler (or, with
 * `opts.part`, that part's chunks) and counts what they show. Throws UsageError for bad ids,
 * parameters or options; ModelError for a broken model.
 */
export function rateChunks(ref: AnyScenario | string, opts: RateOptions = {}): RatePart {
  validateRateOptions(opts);
  const sc = lookupScenario(ref);
  const cfg = resolveConfig(sc, opts.fix ?? "baseline", opts.variant ?? "default", opts.params ?? {}, opts.memoryModel);
  const runs = opts.runs ?? DEFAULT_RUNS;
  const seed = opts.seed ?? 1;
  const size = chunkSize(runs);
  const chunks = Math.ceil(runs / size);
  const part = opts.part ?? { index: 0, count: 1 };
  const mode = opts.mode ?? "random";
  const timing = mode === "timed" ? resolveTiming(sc.timing, opts.timing) : null;
  const out: RatePart = { runs: 0, failures: 0, findings: {}, kinds: {}, chunks: [], threads: 0, steps: 0, stopReason: null, exact: null };
  if (opts.exact === true && part.index === 0 && (opts.mode ?? "random") === "random") out.exact = exactFailureProbability(sc, opts);
  let g = chunkGenerator(seed, part.index);
  for (let c = part.index; c < chunks && out.stopReason === null; c += part.count) {
    if (c > part.index) for (let k = 0; k < part.count; k++) g = g.jump!();
    const n = Math.min(size, runs - c * size);
    // The strategy draws from a copy: the stream itself only jumps from chunk to chunk.
    const rng = g.clone();
    const strategy =
      mode === "pct" ? new PctStrategy(rng, opts.pctDepth ?? 3, n) : timing !== null ? new TimedStrategy(rng, timing, n) : new RandomStrategy(rng, n);
    let i = 0;
    let first = -1;
    const st = runStrategy(sc, cfg, strategy, { stop: opts.stop }, (v) => {
      const exec = v.exec;
      if (v.cut) out.cut = (out.cut ?? 0) + 1;
      out.threads = Math.max(out.threads, exec.tasks.length);
      out.steps = Math.max(out.steps, exec.steps);
      if (exec.findings.length > 0) {
        out.failures++;
        if (first < 0) first = i;
        countOnce(exec.findings, out.findings, out.kinds);
      }
      i++;
    });
    out.runs += i;
    out.chunks.push([c, first, i]);
    out.stopReason = st.stopReason;
    opts.onProgress?.(out.runs, runs);
  }
  return out;
}

/**
 * Counts one failing execution's findings: each distinct finding key once in `findings`, each
 * distinct kind once in `kinds` (first occurrences in order; a Set only past a few findings).
 */
function countOnce(fs: readonly Finding[], findings: Record<string, number>, kinds: Record<string, number>): void {
  if (fs.length > 8) {
    for (const k of new Set(fs.map(findingKey))) findings[k] = (findings[k] ?? 0) + 1;
    for (const k of new Set(fs.map((f) => f.kind))) kinds[k] = (kinds[k] ?? 0) + 1;
    return;
  }
  const keys = fs.map(findingKey);
  for (let j = 0; j < keys.length; j++) {
    const k = keys[j]!;
    if (keys.indexOf(k) === j) findings[k] = (findings[k] ?? 0) + 1;
    const kind = fs[j]!.kind;
    let first = true;
    for (let m = 0; m < j && first; m++) if (fs[m]!.kind === kind) first = false;
    if (first) kinds[kind] = (kinds[kind] ?? 0) + 1;
  }
}

/**
 * Combines the parts of a chunked run (any number of workers, any order) into the result one
 * run gives: counts summed, the first failure the earliest in chunk order. `elapsedMs` and
 * `workers` are the caller's.
 */
export function mergeRates(
  ref: AnyScenario | string,
  opts: RateOptions,
  parts: readonly RatePart[],
  workers: number,
  elapsedMs: number,
): RateResult {
  const sc = lookupScenario(ref);
  const cfg = resolveConfig(sc, opts.fix ?? "baseline", opts.variant ?? "default", opts.params ?? {}, opts.memoryModel);
  const runsAsked = opts.runs ?? DEFAULT_RUNS;
  const size = chunkSize(runsAsked);
  let runs = 0;
  let failures = 0;
  const findings: Record<string, number> = {};
  const kinds: Record<string, number> = {};
  const chunks: [number, number, number][] = [];
  let threads = 0;
  let steps = 0;
  let stopReason: string | null = null;
  let exact: number | null = null;
  let cut = 0;
  for (const p of parts) {
    exact ??= p.exact;
    cut += p.cut ?? 0;
    runs += p.runs;
    failures += p.failures;
    for (const [k, v] of Object.entries(p.findings)) findings[k] = (findings[k] ?? 0) + v;
    for (const [k, v] of Object.entries(p.kinds)) kinds[k] = (kinds[k] ?? 0) + v;
    chunks.push(...p.chunks);
    threads = Math.max(threads, p.threads);
    steps = Math.max(steps, p.steps);
    stopReason ??= p.stopReason;
  }
  chunks.sort((a, b) => a[0] - b[0]);
  // Runs to first failure: counted over the chunks in order, as one run would meet them (only
  // while every earlier chunk ran whole).
  let firstFailure: number | null = null;
  for (const [c, first, n] of chunks) {
    if (first >= 0) {
      firstFailure = c * size + first + 1;
      break;
    }
    if (n < size && c * size + n < runsAsked) break;
  }
  const mode = opts.mode ?? "random";
  const d = opts.pctDepth ?? 3;
  const timed = mode === "timed";
  const perSecond = opts.attemptsPerSecond ?? 1;
  const ci95 = wilson(failures, runs);
  const count = (finding: string, k: number): RateCount => ({ finding, failures: k, rate: runs === 0 ? 0 : k / runs, ci95: wilson(k, runs) });
  const sorted = (r: Record<string, number>) => Object.keys(r).sort().map((k) => count(k, r[k]!));
  return {
    scenario: sc.id,
    fix: cfg.fix,
    variant: cfg.variant,
    params: { ...cfg.params },
    memoryModel: cfg.memoryModel ?? "sc",
    mode,
    runs,
    failures,
    rate: runs === 0 ? 0 : failures / runs,
    ci95,
    exact,
    mttfHours: timed ? mttfHours(runs === 0 ? 0 : failures / runs, perSecond) : null,
    mttfHoursCi95: timed ? [mttfHours(ci95[1], perSecond)!, mttfHours(ci95[0], perSecond)] : null,
    attemptsPerSecond: timed ? perSecond : null,
    timing: timed ? resolveTiming(sc.timing, opts.timing) : null,
    seed: opts.seed ?? 1,
    workers,
    kinds: sorted(kinds),
    findings: sorted(findings),
    firstFailure,
    pctDepth: mode === "pct" ? d : null,
    pctBound: mode === "pct" && threads > 0 ? 1 / (threads * Math.max(1, steps) ** (d - 1)) : null,
    warnings: [
      ...(timed ? timedWarnings(cfg.memoryModel ?? "sc", resolveTiming(sc.timing, opts.timing)) : []),
      // (A spin without t.retry() read "0 of 10 executions fail", every one of them cut; trial 19.)
      ...(cut > 0
        ? [
            `${cut.toLocaleString("en-US")} of ${runs.toLocaleString("en-US")} executions ran past the step bound (${MAX_STEPS.toLocaleString("en-US")} steps) and were cut: ` +
              `they count as executions that did not fail, so the rate may be too low; a loop that can go round forever should call t.retry(loop, bound) each time round`,
          ]
        : []),
    ],
    partial: stopReason !== null,
    stopReason,
    elapsedMs: Math.round(elapsedMs * 10) / 10,
  };
}

/**
 * The warnings of a timed run (see `RateResult.warnings`): under a store-buffer model, a drain
 * time no plain step outlasts leaves a buffered store no window past its CPU's next step (new-user
 * trial 16: the lost wake-up the exhaustive check found under tso ran 0 of 20,000 times timed).
 */
export function timedWarnings(mm: MemoryModel, t: Timing): string[] {
  if (mm === "sc") return [];
  const shortest = t.stepNs * (1 - t.jitter);
  if (t.storeDrainNs > shortest) return [];
  return [
    `under ${mm}, a buffered store becomes visible ${t.storeDrainNs} ns after it is made (storeDrainNs), before its CPU's next plain step ` +
      `can start (stepNs ${t.stepNs} ns × (1 − jitter ${t.jitter}) = ${+shortest.toPrecision(3)} ns at the soonest): no store is still buffered when ` +
      `its own CPU loads, so store-buffering reorderings (a lost wake-up, Dekker's pattern) get no window in this rate; the exhaustive ` +
      `check covers them, and --timing storeDrainNs=100 (a store waiting for its cache line) gives them one`,
  ];
}

/**
 * Failure rate of one configuration under the random, PCT or timed scheduler, in this thread (the CLI
 * spreads the chunks over `--workers` threads and gets the same result). Throws UsageError for
 * bad ids, parameters or options; ModelError for a broken model.
 */
export function rates(ref: AnyScenario | string, opts: RateOptions = {}): RateResult {
  const t0 = performance.now();
  const { part: _, ...whole } = opts;
  const r = mergeRates(ref, whole, [rateChunks(ref, whole)], 1, performance.now() - t0);
  recordResult("rates", lookupScenario(ref), whole, r);
  return r;
}
