/**
 * struct completion: wait_for_completion(), complete(), complete_all().
 *
 * Source: include/linux/completion.h (init_completion, reinit_completion) and
 * kernel/sched/completion.c (complete, complete_all, wait_for_completion, do_wait_for_common,
 * try_wait_for_completion, completion_done), v6.12.
 *
 * `done` counts completions not yet consumed (UINT_MAX after complete_all(): every waiter passes,
 * forever). wait_for_completion() is one step that may sleep and runs once `done > 0`, taking one
 * (the kernel queues the waiter, sleeps and rechecks under the lock; the outcome is the same).
 * complete() adds one and lets one waiter through; complete_all() lets all through. A waiter
 * nobody completes is a deadlock finding: `T waits for complete(<name>) in wait_for_completion()
 * (TASK_UNINTERRUPTIBLE)`.
 *
 * Accesses: the completion is one location; every operation writes it (they all update `done`
 * under `x->wait.lock`) except try_wait_for_completion() and completion_done() finding it 0,
 * which read it. All but completion_done() are full barriers (the wait-queue lock).
 *
 * wait_for_completion_timeout() is one step that does not wait: the scheduler may run it at any
 * point, which is the timer firing there (do_wait_for_common() then finds `done == 0` under the
 * lock and returns 0) or the waiter woken after a complete() (it takes one, and returns the
 * jiffies left, at least 1; modeled as 1). A timer that fires after a complete() is the same as
 * the wake-up: do_wait_for_common() rechecks `x->done` under the lock. Only the `timed` mode sees
 * the timeout's length.
 *
 * Left out: the _interruptible, _killable and _io waits; the jiffies left (1 stands for any
 * positive value); FIFO order of waiters (any waiter may be the one complete() lets through,
 * which covers the kernel's order).
 */
import { access, newLoc, R, W } from "../engine/access.js";
import type { Site } from "../engine/site.js";
import { checkedTimeoutNs, step, type Task, type Waitable } from "../engine/task.js";
import { selfTracked } from "../engine/track.js";
import type { Step } from "./shared.js";

/** UINT_MAX: `done` after complete_all(). */
export const UINT_MAX = 0xffffffff;

/** What wait_for_completion() waits for. */
class CompletionWait implements Waitable {
  readonly name: string;
  constructor(readonly x: completion) {
    this.name = `complete(${x.name}) in wait_for_completion() (TASK_UNINTERRUPTIBLE)`;
  }
  canProceed(): boolean {
    return this.x.done > 0;
  }
  /** The waiter consumes a completion: it writes `done`. */
  waited(): void {
    access(this.x.loc, W);
  }
}

/** struct completion. */
export class completion {
  /** The completion's location (see engine/access.ts): complete() and the waiter's wake-up write it. */
  readonly loc: number;
  /** Completions not yet consumed; UINT_MAX after complete_all(). Read it through the functions. */
  done = 0;
  /** The wait of wait_for_completion(). */
  readonly wait: Waitable;
  constructor(
    /** Name in traces and state tables. */
    readonly name: string,
  ) {
    this.loc = newLoc(name, this);
    this.wait = new CompletionWait(this);
  }
  /** `done=<n>` (`UINT_MAX` after complete_all()): its cell in state tables (`Session.show()`). */
  describe(): string {
    return `done=${this.done === UINT_MAX ? "UINT_MAX" : this.done}`;
  }
  /** `<name>: done=<n>` (`UINT_MAX` after complete_all()). */
  toString(): string {
    return `${this.name}: ${this.describe()}`;
  }
}

/** DECLARE_COMPLETION(work): a new completion, not done (create in setup()). */
export function DECLARE_COMPLETION(name: string): completion {
  return new completion(name);
}

/** init_completion(x): `x->done = 0` (and an empty wait queue). One step. */
export function init_completion(t: Task, x: completion, at: Site): Step {
  return step(t, at, {}, () => {
    access(x.loc, W);
    x.done = 0;
  });
}

/** reinit_completion(x): `x->done = 0`, to reuse a completion. One step. */
export const reinit_completion = init_completion;

/**
 * wait_for_completion(x): might sleep; waits until `done > 0`, then consumes one completion
 * (none after complete_all()). One fully ordered step.
 */
export function wait_for_completion(t: Task, x: completion, at: Site): Step {
  return step(t, at, { waitFor: x.wait, sleeps: true, fence: true }, () => {
    if (x.done !== UINT_MAX) x.done--;
  });
}

/**
 * wait_for_completion_timeout(x, timeout): might sleep; returns 0 when the timer fired first (no
 * completion was there: nothing consumed), else consumes one completion (none after
 * complete_all()) and returns 1 (the kernel returns the jiffies left, at least 1). One fully
 * ordered step that can run at any time: running it before the complete() is the timeout (see
 * the module comment). `timeout_ns` is the timeout as the `timed` mode sees it (the kernel's
 * jiffies times the tick, 4,000,000 ns at HZ=250); the other modes ignore it. Throws RangeError
 * unless it is finite and above 0.
 *
 * Source: kernel/sched/completion.c, wait_for_completion_timeout() -> __wait_for_common() ->
 * do_wait_for_common(), v6.12.
 */
export function wait_for_completion_timeout(t: Task, x: completion, timeout_ns: number, at: Site): Step<number> {
  const ns = checkedTimeoutNs(timeout_ns, `wait_for_completion_timeout(${x.name}): timeout`);
  return step(t, at, { sleeps: true, fence: true, timeout: { until: x.wait, ns } }, () => {
    if (x.done === 0) {
      // The timer fired: `if (!x->done) return timeout;` with timeout 0.
      access(x.loc, R);
      t.say(() => `wait_for_completion_timeout() = 0: timed out, ${x.name} not completed`);
      return 0;
    }
    access(x.loc, W);
    if (x.done !== UINT_MAX) x.done--;
    t.say(() => `wait_for_completion_timeout() = 1: woken, took a completion of ${x.name}`);
    return 1;
  });
}

/** complete(x): `done++` (unless UINT_MAX) and wakes one waiter. One fully ordered step. */
export function complete(t: Task, x: completion, at: Site): Step {
  return step(t, at, { fence: true }, () => {
    access(x.loc, W);
    if (x.done !== UINT_MAX) x.done++;
  });
}

/** complete_all(x): `done = UINT_MAX`: every present and future waiter passes. One fully ordered step. */
export function complete_all(t: Task, x: completion, at: Site): Step {
  return step(t, at, { fence: true }, () => {
    access(x.loc, W);
    x.done = UINT_MAX;
  });
}

/**
 * try_wait_for_completion(x): consumes a completion without blocking; false when none is there.
 * One fully ordered step.
 */
export function try_wait_for_completion(t: Task, x: completion, at: Site): Step<boolean> {
  return step(t, at, { fence: true }, () => {
    if (x.done === 0) {
      access(x.loc, R);
      return false;
    }
    access(x.loc, W);
    if (x.done !== UINT_MAX) x.done--;
    return true;
  });
}

/** completion_done(x): true when a wait_for_completion() would not block (`done != 0`). One step. */
export function completion_done(t: Task, x: completion, at: Site): Step<boolean> {
  return step(t, at, {}, () => {
    access(x.loc, R);
    return x.done !== 0;
  });
}

// racelab objects record their own accesses (see engine/track.ts).
selfTracked(completion, CompletionWait);
