import { xoroshiro128plus, unsafeUniformIntDistribution, type RandomGenerator } from "pure-rand";
import { Execution, type ExecutionOptions } from "./execution.js";
import { UsageError, type AnyScenario } from "./scenario.js";
import type { RunConfig } from "./task.js";
import { MAX_PCT_DEPTH } from "./validate.js";

/**
 * The xoroshiro128+ generator of a seed, taking every bit of it: an integer from 0 to 2^64 - 1
 * (exactly as a double holds it). The low 32 bits `lo` and the high 32 bits `hi` make the state
 * `[~hi, ~lo, lo, hi]`; for seeds below 2^32 (hi = 0) this is pure-rand's `xoroshiro128plus(seed)`,
 * so those seeds give the same runs as before (pure-rand itself keeps only the low 32 bits, so
 * seeds 2^32 apart would give the same runs). Throws UsageError for anything else.
 */
export function seededGenerator(seed: number): RandomGenerator {
  if (!Number.isInteger(seed) || seed < 0 || seed >= 2 ** 64)
    throw new UsageError(`seed must be a non-negative integer below 2^64, got ${seed}`);
  const lo = seed % 2 ** 32;
  const hi = Math.floor(seed / 2 ** 32);
  return xoroshiro128plus.fromState([~hi, ~lo, lo | 0, hi | 0]);
}

/**
 * A scheduler picks the thread of each step of one execution (after awslabs/shuttle's
 * `Scheduler`). Exhaustive search is the depth-first explorer in explore.ts; these schedulers
 * drive single executions: random, PCT and replay.
 */
export interface Scheduler {
  /** Called before each execution. */
  newExecution(): void;
  /**
   * Picks the next thread. `enabled` is non-empty and ascending; `current` is the thread of the
   * previous step, or -1 at the start.
   */
  nextTask(enabled: readonly number[], current: number, exec: Execution): number;
  /** Picks one of `n` alternatives (n >= 1) of the chosen thread's step (an explicit choice step). */
  nextChoice(n: number, tid: number, exec: Execution): number;
  /**
   * Called by runOne once no thread can run, before the end checks (not when `maxSteps` cut the
   * execution); may throw to reject the execution (a replayed schedule with steps left over).
   */
  endExecution?(exec: Execution): void;
}

/** Uniform random choice among the enabled threads at every step, from a seeded xoroshiro128+ ({@link seededGenerator}). */
export class RandomScheduler implements Scheduler {
  private readonly rng: RandomGenerator;
  constructor(seed: number) {
    this.rng = seededGenerator(seed);
  }
  newExecution(): void {}
  nextTask(enabled: readonly number[]): number {
    return enabled.length === 1 ? enabled[0]! : enabled[unsafeUniformIntDistribution(0, enabled.length - 1, this.rng)]!;
  }
  nextChoice(n: number): number {
    return n === 1 ? 0 : unsafeUniformIntDistribution(0, n - 1, this.rng);
  }
}

/**
 * PCT: Burckhardt, Kothari, Musuvathi, Nagarakatte, "A Randomized Scheduler with Probabilistic
 * Guarantees of Finding Bugs", ASPLOS 2010.
 *
 * Each execution gives the threads random distinct priorities d, d+1, ..., d+n-1 and picks d-1
 * change points uniformly among the first k steps (k = the longest execution seen so far, at
 * least the first one's length). The highest-priority enabled thread always runs; at the i-th
 * change point the running thread's priority drops to i (below every initial priority).
 * Invariant: priorities are pairwise distinct at all times. A bug of depth d is found with
 * probability at least 1/(n k^(d-1)) per execution.
 */
export class PctScheduler implements Scheduler {
  private readonly rng: RandomGenerator;
  private prio: number[] = [];
  private changes: number[] = [];
  private step = 0;
  private k = 0;
  constructor(
    seed: number,
    private readonly threads: number,
    private readonly depth: number,
    initialK = 50,
  ) {
    if (!Number.isInteger(depth) || depth < 1 || depth > MAX_PCT_DEPTH)
      throw new UsageError(`pct depth must be an integer from 1 to ${MAX_PCT_DEPTH}, got ${depth}`);
    this.rng = seededGenerator(seed);
    this.k = initialK;
  }
  newExecution(): void {
    const n = this.threads;
    const order = Array.from({ length: n }, (_, i) => i);
    for (let i = n - 1; i > 0; i--) {
      const j = unsafeUniformIntDistribution(0, i, this.rng);
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    this.prio = new Array<number>(n);
    order.forEach((tid, rank) => (this.prio[tid] = this.depth + rank));
    this.changes = [];
    for (let i = 1; i < this.depth; i++) this.changes.push(unsafeUniformIntDistribution(1, Math.max(1, this.k), this.rng));
    this.step = 0;
  }
  nextTask(enabled: readonly number[]): number {
    this.step++;
    if (this.step > this.k) this.k = this.step;
    let best = enabled[0]!;
    for (const t of enabled) if (this.prio[t]! > this.prio[best]!) best = t;
    const ci = this.changes.indexOf(this.step);
    if (ci >= 0) {
      this.prio[best] = ci + 1; // below all initial priorities (>= depth)
      best = enabled[0]!;
      for (const t of enabled) if (this.prio[t]! > this.prio[best]!) best = t;
    }
    return best;
  }
  nextChoice(n: number): number {
    return n === 1 ? 0 : unsafeUniformIntDistribution(0, n - 1, this.rng);
  }
}

/**
 * Replays a schedule (thread index per step). Past its end, runs non-preemptively: the current
 * thread while it can run, else the lowest-index enabled thread. Throws UsageError when the
 * schedule names a thread that cannot run at that step, and (at the end of the execution) when
 * steps are left over after no thread can run: the message names the first of them.
 */
export class ReplayScheduler implements Scheduler {
  private i = 0;
  private fromSchedule = false;
  constructor(
    private readonly tids: readonly number[],
    private readonly choices: readonly number[] = [],
  ) {}
  nextChoice(n: number, tid: number, exec: Execution): number {
    if (!this.fromSchedule) return 0;
    const c = this.choices[this.i - 1] ?? 0;
    if (c >= n)
      throw new UsageError(
        `schedule step ${this.i}: thread ${tid} (${exec.tasks[tid]!.name}) offers ${n === 1 ? "no choice" : `choices 0..${n - 1}`}, not ${c}`,
      );
    return c;
  }
  newExecution(): void {
    this.i = 0;
  }
  nextTask(enabled: readonly number[], current: number, exec: Execution): number {
    this.fromSchedule = this.i < this.tids.length;
    if (this.i < this.tids.length) {
      const t = this.tids[this.i++]!;
      if (!enabled.includes(t)) {
        const task = exec.tasks[t]!;
        const why = task.done ? "has finished" : `waits for ${task.waitOn?.name ?? "?"}`;
        throw new UsageError(`schedule step ${this.i}: thread ${t} (${task.name}) cannot run: it ${why}`);
      }
      return t;
    }
    return enabled.includes(current) ? current : enabled[0]!;
  }
  endExecution(exec: Execution): void {
    if (this.i >= this.tids.length) return;
    const t = this.tids[this.i]!;
    const extra = this.tids.length - this.i;
    const why = exec.halted
      ? "the execution stopped at a BUG"
      : exec.tasks.every((x) => x.done)
        ? "every thread has finished"
        : "no thread can run (deadlock)";
    throw new UsageError(
      `schedule step ${this.i + 1}: thread ${t} (${exec.tasks[t]!.name}) cannot run: ${why} after step ${this.i} ` +
        `(the schedule has ${extra} step${extra === 1 ? "" : "s"} too many)`,
    );
  }
}

/**
 * Runs one execution to completion under `sched` and returns it (finished: terminal findings
 * computed). `maxSteps` bounds runaway executions (then `cut` is true).
 */
export function runOne(
  sc: AnyScenario,
  cfg: RunConfig<unknown>,
  sched: Scheduler,
  opts: ExecutionOptions & { maxSteps?: number } = {},
): {
  /** The finished execution. */
  exec: Execution;
  /** True when `maxSteps` stopped it before every thread finished. */
  cut: boolean
} {
  const exec = new Execution(sc, cfg, opts);
  const en: number[] = [];
  const maxSteps = opts.maxSteps ?? 10_000;
  sched.newExecution();
  let current = -1;
  for (;;) {
    exec.enabled(en);
    if (en.length === 0) break;
    if (exec.steps >= maxSteps) return { exec, cut: true };
    current = sched.nextTask(en, current, exec);
    exec.step(current, null, sched.nextChoice(exec.tasks[current]!.alternatives(), current, exec));
  }
  sched.endExecution?.(exec);
  exec.finish();
  return { exec, cut: false };
}
