/**
 * Replay of a schedule (thread and alternative per step, schedule.ts). Past its end the
 * execution runs on without preemption: the current thread while it can run, else the
 * lowest-index enabled thread.
 */
import { UsageError } from "../../errors.js";
import type { Execution } from "../execution.js";
import { altOf, FINISH, zeroCounters, type Strategy, type StrategyCounters } from "../runner.js";

/**
 * One execution following `tids` (and `choices`). Throws UsageError when the schedule names a
 * thread the scenario does not have, a thread that cannot run at that step, a choice the step
 * does not offer, and (at the end) when steps are left over after no thread can run: the message
 * names the first of them.
 */
export class ReplayStrategy implements Strategy {
  readonly name = "replay";
  readonly recording = false;
  readonly unit = 0;
  readonly total = 1;
  readonly counters: StrategyCounters = zeroCounters();
  private i = 0;
  private made = false;
  constructor(
    private readonly tids: readonly number[],
    private readonly choices: readonly number[] = [],
  ) {}
  newExecution(): boolean {
    if (this.made) return false;
    this.made = true;
    this.i = 0;
    return true;
  }
  nextStep(exec: Execution, en: readonly number[]): number {
    if (this.i === 0 && exec.steps === 0) checkThreads(this.tids, exec.tasks.length);
    if (en.length === 0) {
      this.leftOver(exec);
      return FINISH;
    }
    if (this.i >= this.tids.length) {
      const current = exec.steps === 0 ? -1 : exec.schedule[exec.steps - 1]!;
      return en.includes(current) ? current : en[0]!;
    }
    const step = this.i++;
    const t = this.tids[step]!;
    if (!en.includes(t)) {
      const task = exec.tasks[t]!;
      throw new UsageError(`schedule step ${step + 1}: thread ${t} (${task.name}) cannot run: it ${exec.whyBlocked(t)}`);
    }
    const c = this.choices[step] ?? 0;
    const n = exec.tasks[t]!.alternatives();
    if (c >= n)
      throw new UsageError(
        `schedule step ${step + 1}: thread ${t} (${exec.tasks[t]!.name}) offers ${n === 1 ? "no choice" : `choices 0..${n - 1}`}, not ${c}`,
      );
    return altOf(t, c);
  }
  stepped(): void {}
  /** No thread can run: steps left in the schedule are an error. */
  private leftOver(exec: Execution): void {
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

/** Throws UsageError when a schedule names a thread index the execution does not have. */
export function checkThreads(tids: readonly number[], threads: number): void {
  for (const t of tids)
    if (t >= threads) throw new UsageError(`schedule names thread ${t}, but the scenario has threads 0..${threads - 1}`);
}
