/**
 * Delays: udelay(), ndelay(), mdelay() busy-wait; msleep() sleeps.
 *
 * Source: include/linux/delay.h (v6.15-rc1: mdelay() loops udelay(1000), ndelay(x) is
 * udelay(DIV_ROUND_UP(x, 1000)) where the architecture has no ndelay of its own) and
 * kernel/time/sleep_timeout.c (msleep(): schedule_timeout_uninterruptible() until the time is
 * up).
 *
 * Each is one step. Only `racelab rates --mode timed` sees time: the step takes the delay on top
 * of its cost (Task.delay). Exhaustive search and the random and PCT schedulers ignore the length,
 * as an interleaving already contains every length of a window; the step still gives the other
 * threads a place to run. A busy-wait neither sleeps nor is a barrier (it may run under a
 * spinlock); msleep() may sleep, so it is a `sleep-in-atomic` finding under a spinlock.
 *
 * Left out: the delay's inaccuracy (udelay may return early or late by the calibration error;
 * msleep() rounds up to jiffies, at least one tick), and preemption during a busy-wait.
 */
import type { Site } from "../engine/site.js";
import { step, type Task } from "../engine/task.js";
import type { Step } from "./shared.js";

function checkedCount(what: string, n: number): number {
  if (!Number.isFinite(n) || n < 0) throw new RangeError(`${what}(${n}): need a finite number >= 0`);
  return n;
}

/** udelay(usecs): busy-waits `usecs` microseconds (timed mode: usecs · 1,000 ns). Throws RangeError for a negative count. */
export function udelay(t: Task, usecs: number, at: Site): Step<void> {
  const ns = checkedCount("udelay", usecs) * 1000;
  return step(t, at, {}, () => t.delay(ns));
}

/** ndelay(nsecs): busy-waits `nsecs` nanoseconds. Throws RangeError for a negative count. */
export function ndelay(t: Task, nsecs: number, at: Site): Step<void> {
  const ns = checkedCount("ndelay", nsecs);
  return step(t, at, {}, () => t.delay(ns));
}

/** mdelay(msecs): busy-waits `msecs` milliseconds (timed mode: msecs · 1,000,000 ns). Throws RangeError for a negative count. */
export function mdelay(t: Task, msecs: number, at: Site): Step<void> {
  const ns = checkedCount("mdelay", msecs) * 1e6;
  return step(t, at, {}, () => t.delay(ns));
}

/** msleep(msecs): sleeps `msecs` milliseconds (may sleep: a finding under a spinlock). Throws RangeError for a negative count. */
export function msleep(t: Task, msecs: number, at: Site): Step<void> {
  const ns = checkedCount("msleep", msecs) * 1e6;
  return step(t, at, { sleeps: true }, () => t.delay(ns));
}
