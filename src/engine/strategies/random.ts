/**
 * Uniform random sampling: at every step a thread chosen uniformly among the enabled ones (and,
 * at an explicit choice step, one of its alternatives uniformly), from a seeded xoroshiro128+.
 */
import { unsafeUniformIntDistribution, xoroshiro128plus, type RandomGenerator } from "pure-rand";
import { UsageError } from "../../errors.js";
import type { Execution } from "../execution.js";
import { altOf, FINISH, zeroCounters, type Strategy, type StrategyCounters } from "../runner.js";

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

/** The alternative of thread `tid` with a choice drawn uniformly when its step offers several. */
export function withChoice(exec: Execution, tid: number, rng: RandomGenerator): number {
  const n = exec.tasks[tid]!.alternatives();
  return n === 1 ? tid : altOf(tid, unsafeUniformIntDistribution(0, n - 1, rng));
}

/**
 * What the sampling strategies share: `runs` executions (Infinity: until stopped), drawn from a
 * seed ({@link seededGenerator}) or a generator (a stream of a chunked run, see rates.ts); no
 * access recording.
 */
export abstract class SamplingStrategy implements Strategy {
  abstract readonly name: string;
  readonly recording = false;
  readonly unit = 0;
  readonly counters: StrategyCounters = zeroCounters();
  readonly total: number | null;
  /** The generator every draw comes from. */
  protected rng: RandomGenerator;
  private made = 0;
  constructor(
    seed: number | RandomGenerator,
    private readonly runs = Infinity,
  ) {
    this.rng = typeof seed === "number" ? seededGenerator(seed) : seed;
    this.total = Number.isFinite(runs) ? runs : null;
  }
  newExecution(): boolean {
    return this.made++ < this.runs;
  }
  /** Saves the generator and the count of executions made; the function restores them (see Strategy.checkpoint). */
  checkpoint(): () => void {
    const rng = this.rng.clone();
    const made = this.made;
    return () => {
      this.rng = rng;
      this.made = made;
    };
  }
  abstract nextStep(exec: Execution, en: readonly number[]): number;
  stepped(_exec: Execution, _alt: number, _accesses: number[] | null): void {}
}

/** `runs` executions, each step uniformly random (see {@link SamplingStrategy} for `seed`). */
export class RandomStrategy extends SamplingStrategy {
  readonly name = "random";
  nextStep(exec: Execution, en: readonly number[]): number {
    if (en.length === 0) return FINISH;
    const tid = en.length === 1 ? en[0]! : en[unsafeUniformIntDistribution(0, en.length - 1, this.rng)]!;
    return withChoice(exec, tid, this.rng);
  }
}
