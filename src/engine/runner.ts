/**
 * The exploration runner: one loop that runs executions of a scenario under a {@link Strategy}
 * (after awslabs/shuttle's `Scheduler`: the strategy starts each execution, picks every step, and
 * ends the search by refusing a new execution). Exhaustive search (sleep sets, DPOR, state
 * caching, no reduction, bounded preemption), random and PCT sampling and replay are strategies
 * (src/engine/strategies/); budgets, stop requests, progress, the step bound and access recording
 * are the runner's, the same for all of them.
 */
import "./v8-tuning.js";
import { Execution, type ExecutionOptions } from "./execution.js";
import type { AnyScenario } from "./scenario.js";
import type { Site } from "./site.js";
import type { RunConfig } from "./task.js";
import { NEEDS_TRACKING } from "./track.js";

/** Default step bound of an execution ({@link RunOptions.maxSteps}): one still running after this many steps is cut. */
export const MAX_STEPS = 10_000;
/** Bits of an alternative that name the thread (see {@link altOf}). */
export const TID_MASK = 0xfff;
/** An alternative: thread `tid` taking its step with explicit choice `choice` (0 unless the step offers several). */
export const altOf = (tid: number, choice: number): number => tid | (choice << 12);
/** {@link Strategy.nextStep}'s answer to drop the current execution unvisited (a redundant prefix, another shard's subtree). */
export const ABANDON = -1;
/** {@link Strategy.nextStep}'s answer, when no thread can run, to keep the execution: it is complete and visited. */
export const FINISH = -2;

/** How an execution ended, as {@link Strategy.endExecution} hears it. */
export type ExecutionEnd = "complete" | "abandoned" | "cut";

/** Counters a strategy keeps for progress lines and results (zero when they do not apply). */
export interface StrategyCounters {
  /** Prefixes abandoned because every enabled thread was asleep (sleep-set reductions). */
  sleepBlocked: number;
  /** Distinct states stored (state caching). */
  states: number;
  /** Visits of a stored state that were pruned (state caching). */
  revisits: number;
  /** Bytes of the state table (state caching). */
  tableBytes: number;
  /** Nodes counted at the depth a sharded search probes for its split depth. */
  nodesAtDepth: number;
  /**
   * Objects hashed (state caching: every unit of the state when an execution starts or resumes,
   * then per step only the units the step changed; see fingerprint.ts).
   */
  unitsHashed: number;
}

/** Fresh zero counters. */
export function zeroCounters(): StrategyCounters {
  return { sleepBlocked: 0, states: 0, revisits: 0, tableBytes: 0, nodesAtDepth: 0, unitsHashed: 0 };
}

/**
 * How executions are chosen: one object drives a whole search or sampling run.
 *
 * The runner calls, per execution: {@link newExecution} (false ends the run), then
 * {@link nextStep} at every state (with the enabled threads, possibly none) and {@link stepped}
 * after each step with the step's recorded accesses, then {@link endExecution}. A strategy never
 * runs steps itself; it sees the execution read-only.
 */
export interface Strategy {
  /** Short name for messages (`sleep-sets`, `pct`, ...). */
  readonly name: string;
  /**
   * Whether the step {@link nextStep} just picked should record its accesses (access.ts
   * encoding); read by the runner after each pick.
   */
  readonly recording: boolean;
  /** Counters for progress and results. */
  readonly counters: StrategyCounters;
  /** Executions the run will make when known in advance (sampling: `runs`), else null. */
  readonly total: number | null;
  /** Position of the current execution in the strategy's fixed order (the shard unit; 0 when unordered). */
  readonly unit: number;
  /** Starts the next execution; false ends the run (every execution wanted has been made). */
  newExecution(): boolean;
  /**
   * A step the strategy has already decided (replaying a prefix), or -1: the runner then takes
   * it without computing the enabled threads or calling {@link nextStep}. Optional; the strategy
   * must check that the step can run (else throw).
   */
  forced?(exec: Execution): number;
  /**
   * Picks the next step: an alternative ({@link altOf}) of an enabled thread, or {@link ABANDON};
   * when `enabled` is empty, {@link FINISH} (visit the execution) or {@link ABANDON}. `enabled` is
   * ascending; it is reused by the runner, copy it to keep it.
   */
  nextStep(exec: Execution, enabled: readonly number[]): number;
  /** After the picked step ran; `accesses` are its recorded accesses when {@link recording} was true, else null. */
  stepped(exec: Execution, alt: number, accesses: number[] | null): void;
  /** The execution ended (visited when `complete`; `cut` when it reached the step bound). */
  endExecution?(exec: Execution, end: ExecutionEnd): void;
  /** Once, when the run ends however it ends (a throw included): undo global hooks. */
  close?(): void;
  /**
   * Sampling strategies that record nothing: saves what starting and running the next execution
   * will change (the PRNG, counts) and returns a function that restores it, so that the runner
   * can run the same execution again. With it, the runner first runs each execution on the raw
   * state ({@link ExecutionOptions.sampling}, track.ts) and, where tracking could matter, runs it
   * again tracked (and every later one of the run): the results are the same either way.
   */
  checkpoint?(): () => void;
}

/** Options of {@link runStrategy}. */
export interface RunOptions {
  /** Stop (`stopReason` set) before starting an execution past this many complete ones. Default: no bound. */
  readonly maxExecutions?: number;
  /** An execution still running after this many steps is cut (`cut` counts it). Default 10,000. */
  readonly maxSteps?: number;
  /** Stop once this much wall-clock time has passed, ms. */
  readonly timeLimitMs?: number;
  /** Stop after this many distinct states (the strategy's `counters.states`). */
  readonly maxStates?: number;
  /** Polled every 256 steps; returning a reason stops the run there. */
  readonly stop?: () => string | null;
  /** Called about every 250 ms (and when a stop request ends the run) with the counts so far. */
  readonly onProgress?: (p: RunProgress) => void;
  /** Keep every step's accesses of each visited execution (`Visit.accesses`; for interleaving counts). */
  readonly keepAccesses?: boolean;
  /** Trace every step (`ExecutionOptions.trace`): visited executions carry their trace. */
  readonly trace?: boolean;
  /**
   * Run sampling executions tracked from the start (see {@link Strategy.checkpoint}): for a model
   * that compares objects with `===` (track.ts, "Sampling"), and for tests. Default false.
   */
  readonly tracked?: boolean;
  /**
   * Locations scenario invariants read, shared across the run's executions (and across runs);
   * `RunStats.invariantReadsGrew` tells when the run learned a new one.
   */
  readonly invariantReads?: Set<number>;
  /** Receives the site of every step the run takes (see `ExecutionOptions.reachedSites`). */
  readonly reachedSites?: Set<Site>;
}

/** What {@link RunOptions.onProgress} gets. */
export interface RunProgress {
  /** Complete executions so far. */
  readonly executions: number;
  /** Executions the run will make, when known. */
  readonly total: number | null;
  /** Steps executed, replays included. */
  readonly steps: number;
  /** Executions the step bound cut so far (a thread that never finished). */
  readonly cut: number;
  /** Wall-clock time since the run started, ms. */
  readonly elapsedMs: number;
  /** The strategy's counters. */
  readonly counters: Readonly<StrategyCounters>;
}

/** What the visitor of {@link runStrategy} gets for each execution that ended. */
export interface Visit {
  /** The execution; finished (terminal findings computed) unless `cut`. */
  readonly exec: Execution;
  /** True when the step bound cut it (not finished: deadlock and end checks not run). */
  readonly cut: boolean;
  /** Every step's encoded accesses, when `keepAccesses` (else empty). */
  readonly accesses: readonly (readonly number[])[];
  /** Preemptions in its schedule (switches away from a thread that could still run). */
  readonly preemptions: number;
  /** The strategy's unit of it (see {@link Strategy.unit}). */
  readonly unit: number;
}

/** What {@link runStrategy} returns. */
export interface RunStats {
  /** Complete executions visited. */
  executions: number;
  /** Executions the step bound cut. */
  cut: number;
  /** Executions the strategy abandoned. */
  abandoned: number;
  /** Steps executed, replays included. */
  steps: number;
  /** True when the strategy ended the run itself, nothing was cut and nothing stopped it. */
  complete: boolean;
  /** Why the run stopped early (`time limit of 10 s`, `execution bound of 1,000`, `interrupted (SIGINT)`), or null. */
  stopReason: string | null;
  /** True when the visitor asked to stop. */
  visitorStopped: boolean;
  /** The invariants read a location the run had not known of when it started (see RunOptions.invariantReads). */
  invariantReadsGrew: boolean;
  /** Wall-clock time, ms. */
  elapsedMs: number;
  /** True when sampling on the raw state gave up and the run went on tracked (see {@link Strategy.checkpoint}). */
  retracked: boolean;
}

/**
 * Runs executions of `sc` under `cfg` as `strategy` picks them, calling `visit` for each one that
 * completes (and each one the step bound cuts); `visit` returning true stops the run. Throws
 * ModelError when a model's code fails outside a step (a thread that does not replay the same
 * way), and whatever the strategy throws.
 */
export function runStrategy(
  sc: AnyScenario,
  cfg: RunConfig<unknown>,
  strategy: Strategy,
  opts: RunOptions,
  visit: (v: Visit) => boolean | void,
): RunStats {
  const t0 = performance.now();
  const maxExec = opts.maxExecutions ?? Infinity;
  const maxSteps = opts.maxSteps ?? MAX_STEPS;
  const maxStates = opts.maxStates ?? Infinity;
  const deadline = opts.timeLimitMs === undefined ? Infinity : t0 + opts.timeLimitMs;
  const invariantReads = opts.invariantReads ?? new Set<number>();
  const known = invariantReads.size;
  const execOpts: ExecutionOptions = { invariantReads, trace: opts.trace === true, reachedSites: opts.reachedSites };
  const keep = opts.keepAccesses === true;
  const stats: RunStats = {
    executions: 0,
    cut: 0,
    abandoned: 0,
    steps: 0,
    complete: false,
    stopReason: null,
    visitorStopped: false,
    invariantReadsGrew: false,
    elapsedMs: 0,
    retracked: false,
  };
  let lastProgress = t0;
  const progress = () =>
    opts.onProgress?.({
      executions: stats.executions,
      total: strategy.total,
      steps: stats.steps,
      cut: stats.cut,
      elapsedMs: performance.now() - t0,
      counters: strategy.counters,
    });
  // Budgets and stop requests.
  const stopNow = (): boolean => {
    loop.nextPoll = stats.steps + 256;
    const now = performance.now();
    let why: string | null = null;
    if (now >= deadline) why = `time limit of ${elapsedText(opts.timeLimitMs!)}`;
    else if (strategy.counters.states >= maxStates) why = `state bound of ${maxStates.toLocaleString("en-US")}`;
    else why = opts.stop?.() ?? null;
    if (opts.onProgress !== undefined && (why !== null || now - lastProgress >= 250)) {
      lastProgress = now;
      progress();
    }
    if (why === null) return false;
    stats.stopReason = why;
    return true;
  };
  const loop: StepLoop = { strategy, en: [], hasForced: strategy.forced !== undefined, keep, maxSteps, nextPoll: 256, stats, stopNow };
  // Sampling on the raw state until an execution needs tracking (see Strategy.checkpoint).
  let sampling = !strategy.recording && !keep && opts.trace !== true && opts.tracked !== true && strategy.checkpoint !== undefined;
  const samplingOpts: ExecutionOptions = { ...execOpts, sampling: true };
  try {
    run: for (;;) {
      const rewind = sampling ? strategy.checkpoint!() : null;
      const stepsBefore = stats.steps;
      if (!strategy.newExecution()) {
        stats.complete = stats.cut === 0;
        break;
      }
      if (stats.executions >= maxExec) {
        stats.stopReason = `execution bound of ${maxExec.toLocaleString("en-US")}`;
        break;
      }
      let exec: Execution;
      const accesses: number[][] = keep ? [] : NO_ACCESSES;
      let end: ExecutionEnd | typeof STOPPED;
      try {
        exec = new Execution(sc, cfg, sampling ? samplingOpts : execOpts);
        end = runSteps(loop, exec, accesses);
        if (end === STOPPED) break run;
        if (end === "complete") exec.finish();
      } catch (e) {
        if (e !== NEEDS_TRACKING || rewind === null) throw e;
        // Run it again, tracked, and every later execution too.
        rewind();
        sampling = false;
        stats.retracked = true;
        stats.steps = stepsBefore;
        continue run;
      }
      if (end === "complete") stats.executions++;
      else if (end === "cut") stats.cut++;
      else stats.abandoned++;
      strategy.endExecution?.(exec, end);
      if (end !== "abandoned" && visit({ exec, cut: end === "cut", accesses, preemptions: exec.preemptions, unit: strategy.unit }) === true) {
        stats.visitorStopped = true;
        break;
      }
      if (stats.steps >= loop.nextPoll && stopNow()) break;
    }
  } finally {
    strategy.close?.();
  }
  stats.invariantReadsGrew = invariantReads.size > known;
  stats.elapsedMs = performance.now() - t0;
  if (stats.stopReason !== null && opts.onProgress !== undefined) progress();
  return stats;
}

/** What {@link runSteps} needs of its run. */
interface StepLoop {
  readonly strategy: Strategy;
  /** Scratch for the enabled threads. */
  readonly en: number[];
  readonly hasForced: boolean;
  readonly keep: boolean;
  readonly maxSteps: number;
  /** Steps after which the budgets and stop requests are polled next. */
  nextPoll: number;
  readonly stats: RunStats;
  /** Polls them (and moves nextPoll on); true: stop the run. */
  readonly stopNow: () => boolean;
}

/** {@link runSteps}' answer when a budget or a stop request ended the run mid-execution. */
const STOPPED = "stopped";

/**
 * Runs the steps of one execution as the strategy picks them, until it ends: how, or
 * {@link STOPPED}. (A function of its own, called once an execution, rather than a loop inside
 * runStrategy's: V8 optimizes it as soon as it is hot, not by on-stack replacement of the whole
 * run, which a deoptimization sends back to the interpreter until the next replacement.)
 */
function runSteps(loop: StepLoop, exec: Execution, accesses: number[][]): ExecutionEnd | typeof STOPPED {
  const { strategy, en, keep, stats } = loop;
  for (;;) {
    let alt = loop.hasForced ? strategy.forced!(exec) : -1;
    const picked = alt < 0;
    if (picked) {
      exec.enabled(en);
      if (en.length > 0 && exec.steps >= loop.maxSteps) return "cut";
      alt = strategy.nextStep(exec, en);
      if (alt < 0) {
        if (alt === FINISH && en.length > 0) throw new Error(`strategy ${strategy.name} finished an execution where threads can still run`);
        return alt === FINISH ? "complete" : "abandoned";
      }
      if (en.length === 0) throw new Error(`strategy ${strategy.name} picked a step where no thread can run`);
    }
    const acc = strategy.recording || keep ? [] : null;
    // A step picked among `en` (not forced) and not recorded (sampling): whether it and the
    // previous step's thread can run is already in `en`.
    if (picked && acc === null) exec.stepAmong(alt & TID_MASK, en, null, alt >> 12);
    else exec.step(alt & TID_MASK, acc, alt >> 12);
    stats.steps++;
    if (keep) accesses.push(acc!);
    strategy.stepped(exec, alt, strategy.recording ? acc : null);
    if (stats.steps >= loop.nextPoll && loop.stopNow()) return STOPPED;
  }
}

/** `Visit.accesses` when they are not kept: one empty list for every execution. */
const NO_ACCESSES: number[][] = Object.freeze([]) as unknown as number[][];

/**
 * A duration for a summary line or a time limit: under a second in whole ms (`559 ms`), else in
 * seconds with two significant decimals below 10 s and one above, thousands grouped (`1.15 s`,
 * `13.1 s`, `1,234.5 s`).
 * @internal
 */
export function elapsedText(ms: number): string {
  if (ms < 999.5) return `${Math.round(ms)} ms`;
  return `${(ms / 1000).toLocaleString("en-US", { maximumFractionDigits: ms < 9_995 ? 2 : 1 })} s`;
}
