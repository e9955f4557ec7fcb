/**
 * PCT: Burckhardt, Kothari, Musuvathi, Nagarakatte, "A Randomized Scheduler with Probabilistic
 * Guarantees of Finding Bugs", ASPLOS 2010.
 *
 * Each execution gives the threads random distinct priorities d, d+1, ..., d+n-1 and picks d-1
 * change points uniformly among the first k steps (k = the longest execution seen so far, as
 * the paper's k; `initialK`, default 1, before the first execution has told it). An earlier
 * version started k at 50, which on models of a few dozen steps put most change points past the
 * end of the execution and found depth-2 bugs far below the bound. The highest-priority enabled thread always runs; at the i-th change point
 * the running thread's priority drops to i (below every initial priority). Invariant: priorities
 * are pairwise distinct at all times. A bug of depth d is found with probability at least
 * 1/(n k^(d-1)) per execution. The thread count n is learned from the first execution (no probe).
 */
import { unsafeUniformIntDistribution, type RandomGenerator } from "pure-rand";
import { UsageError } from "../../errors.js";
import type { Execution } from "../execution.js";
import { FINISH } from "../runner.js";
import { MAX_PCT_DEPTH } from "../validate.js";
import { SamplingStrategy, withChoice } from "./random.js";

/**
 * `runs` PCT executions of bug depth `depth` (1 to MAX_PCT_DEPTH; throws UsageError otherwise).
 * `seed` is a seed or a generator to draw from, as for RandomStrategy.
 */
export class PctStrategy extends SamplingStrategy {
  readonly name = "pct";
  private prio: number[] = [];
  private changes: number[] = [];
  private step = 0;
  private k: number;
  private fresh = false;
  constructor(
    seed: number | RandomGenerator,
    private readonly depth: number,
    runs = Infinity,
    initialK = 1,
  ) {
    super(seed, runs);
    if (!Number.isInteger(depth) || depth < 1 || depth > MAX_PCT_DEPTH)
      throw new UsageError(`pct depth must be an integer from 1 to ${MAX_PCT_DEPTH}, got ${depth}`);
    this.k = initialK;
  }
  override newExecution(): boolean {
    if (!super.newExecution()) return false;
    this.fresh = true;
    return true;
  }
  /** Also saves k, the longest execution seen, which an execution can raise. */
  override checkpoint(): () => void {
    const restore = super.checkpoint();
    const k = this.k;
    return () => {
      restore();
      this.k = k;
    };
  }
  /** Priorities and change points of a new execution of `n` threads. */
  private start(n: number): void {
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
  /** Threads of the executions so far (n of the PCT bound), 0 before the first. */
  get threads(): number {
    return this.prio.length;
  }
  /** The longest execution seen so far, in steps (k of the PCT bound; `initialK` before the first). */
  get steps(): number {
    return this.k;
  }
  nextStep(exec: Execution, en: readonly number[]): number {
    if (this.fresh) {
      this.start(exec.tasks.length);
      this.fresh = false;
    }
    if (en.length === 0) return FINISH;
    this.step++;
    if (this.step > this.k) this.k = this.step;
    let best = en[0]!;
    for (const t of en) if (this.prio[t]! > this.prio[best]!) best = t;
    const ci = this.changes.indexOf(this.step);
    if (ci >= 0) {
      this.prio[best] = ci + 1; // below all initial priorities (>= depth)
      best = en[0]!;
      for (const t of en) if (this.prio[t]! > this.prio[best]!) best = t;
    }
    return withChoice(exec, best, this.rng);
  }
}
