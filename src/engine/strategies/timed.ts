/**
 * Timed sampling: a discrete-event simulation in nanoseconds. Each thread runs on a CPU of its
 * own from a start offset drawn uniformly from [0, windowNs) (or its ThreadSpec's startNs); each step costs the time its kind
 * takes (timing.ts; a site's `costNs` overrides it; `t.delay(ns)` inside a step, as `udelay()`
 * does, adds to it), times a jitter factor. The next step is always the one that starts first:
 * the enabled thread with the smallest clock (the lowest thread index on a tie). A step's effect
 * happens at its start; its thread's clock then moves on by its cost.
 *
 * A thread that cannot run (it waits for a lock, a bit, a condition, the other threads) is
 * passive: once a step lets it go, its clock moves to that step's start plus a latency, the
 * spin hand-off for a spinning waiter, the wake-up latency for a sleeping one (its pending step
 * sleeps: rw_semaphore, mutex, folio lock, schedule()), the store-drain time for a store buffer;
 * if another thread takes the lock first, it waits again. An explicit choice step picks uniformly.
 * A sleep with a timeout (`StepSpec.timeout`, `wait_for_completion_timeout()`) runs once what it
 * waits for can proceed (after the wake-up latency, if it had to sleep) or once its timeout has
 * passed since the thread reached it, whichever comes first.
 *
 * Left out: preemption and interrupts (a thread never loses its CPU), CPUs shared by threads,
 * caches and frequency (a step's cost does not depend on what ran before), and the time a lock's
 * cache line takes to reach a spinning CPU beyond the fixed hand-off.
 */
import { unsafeUniformIntDistribution, type RandomGenerator } from "pure-rand";
import type { Execution } from "../execution.js";
import { FINISH, TID_MASK } from "../runner.js";
import type { Timing } from "../timing.js";
import { SamplingStrategy, withChoice } from "./random.js";

/** `runs` timed executions under `timing` (see the module comment); `seed` as for RandomStrategy. */
export class TimedStrategy extends SamplingStrategy {
  readonly name = "timed";
  private clock: number[] = [];
  private waiting: boolean[] = [];
  /** Per thread pending a sleep with a timeout: when the timer fires, ns (NaN: not armed). */
  private deadline: number[] = [];
  /** Per such thread: it went to sleep (what it waits for could not proceed when last looked at). */
  private asleep: boolean[] = [];
  /** Scratch: per enabled thread, when its next step would start, ns. */
  private readonly eff: number[] = [];
  private fresh = false;
  private lastStart = 0;
  private cost = 0;
  /** Simulated time at which the last complete execution's last step ended, ns. */
  lastEndNs = 0;
  constructor(
    seed: number | RandomGenerator,
    /** The step costs and start window. */
    readonly timing: Timing,
    runs = Infinity,
  ) {
    super(seed, runs);
  }
  override newExecution(): boolean {
    if (!super.newExecution()) return false;
    this.fresh = true;
    return true;
  }
  /** Also saves {@link lastEndNs}. */
  override checkpoint(): () => void {
    const restore = super.checkpoint();
    const last = this.lastEndNs;
    return () => {
      restore();
      this.lastEndNs = last;
    };
  }
  /** A draw from [0, 1) with 2^-30 resolution. */
  private uniform(): number {
    return unsafeUniformIntDistribution(0, 0x3fffffff, this.rng) / 0x40000000;
  }
  private start(exec: Execution): void {
    const n = exec.tasks.length;
    this.clock = new Array<number>(n);
    this.waiting = new Array<boolean>(n).fill(false);
    this.deadline = new Array<number>(n).fill(NaN);
    this.asleep = new Array<boolean>(n).fill(false);
    for (let i = 0; i < n; i++) {
      const t = exec.tasks[i]!;
      // (A thread with its own start offset draws nothing: the others' draws stay as they were.)
      this.clock[i] = t.daemon ? 0 : t.startNs !== null ? t.startNs : this.uniform() * this.timing.windowNs;
    }
    this.lastStart = 0;
  }
  nextStep(exec: Execution, en: readonly number[]): number {
    if (this.fresh) {
      this.start(exec);
      this.fresh = false;
    }
    const tasks = exec.tasks;
    if (en.length === 0) {
      this.lastEndNs = Math.max(...this.clock);
      return FINISH;
    }
    // Waiters the last step let go resume after their latency; threads that cannot run wait.
    const tm = this.timing;
    let j = 0;
    for (let i = 0; i < tasks.length; i++) {
      if (j < en.length && en[j] === i) {
        j++;
        if (this.waiting[i]) {
          const t = tasks[i]!;
          const latency = t.daemon ? tm.storeDrainNs : t.sleeps ? tm.wakeupNs : tm.spinHandoffNs;
          if (this.clock[i]! < this.lastStart + latency) this.clock[i] = this.lastStart + latency;
          this.waiting[i] = false;
        }
      } else if (!tasks[i]!.done) this.waiting[i] = true;
    }
    // Sleeps with a timeout: woken (after the latency) once they can proceed, else at the deadline.
    const eff = this.eff;
    for (const i of en) {
      eff[i] = this.clock[i]!;
      const to = tasks[i]!.timeout;
      if (to === null) continue;
      if (Number.isNaN(this.deadline[i]!)) this.deadline[i] = this.clock[i]! + to.ns;
      if (to.until.canProceed(tasks[i]!, to.mode ?? 0)) {
        if (this.asleep[i] && this.clock[i]! < this.lastStart + tm.wakeupNs) this.clock[i] = eff[i] = this.lastStart + tm.wakeupNs;
        this.asleep[i] = false;
      } else {
        this.asleep[i] = true;
        eff[i] = Math.max(this.clock[i]!, this.deadline[i]!);
      }
    }
    let tid = en[0]!;
    for (const i of en) if (eff[i]! < eff[tid]!) tid = i;
    this.clock[tid] = eff[tid]!;
    const t = tasks[tid]!;
    const site = t.next!;
    const base =
      site.costNs ??
      (t.daemon ? tm.storeDrainNs : t.waitOn !== null ? tm.atomicNs : t.sleeps || site.mightSleep === true ? tm.sleepNs : t.fence ? tm.atomicNs : tm.stepNs);
    this.cost = tm.jitter === 0 ? base : base * (1 - tm.jitter + 2 * tm.jitter * this.uniform());
    this.lastStart = this.clock[tid]!;
    return withChoice(exec, tid, this.rng);
  }
  override stepped(exec: Execution, alt: number): void {
    const tid = alt & TID_MASK;
    this.clock[tid] = this.clock[tid]! + this.cost + exec.tasks[tid]!.delayNs;
    this.deadline[tid] = NaN;
    this.asleep[tid] = false;
  }
}
