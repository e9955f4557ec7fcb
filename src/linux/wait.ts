/**
 * Wait queues: wait_queue_head_t, prepare_to_wait(), finish_wait(), add_wait_queue(),
 * remove_wait_queue(), wake_up(), waitqueue_active(), wq_has_sleeper(), wait_event().
 *
 * Source: include/linux/wait.h (wait_queue_head, wait_queue_entry, DEFINE_WAIT, DECLARE_WAITQUEUE,
 * waitqueue_active, wait_event, ___wait_event) and kernel/sched/wait.c (add_wait_queue,
 * add_wait_queue_exclusive, remove_wait_queue, prepare_to_wait, prepare_to_wait_exclusive,
 * prepare_to_wait_event, finish_wait, __wake_up_common, default_wake_function,
 * autoremove_wake_function), v6.12.
 *
 * A sleeper queues an entry and sets its task state in one step (prepare_to_wait(), which the
 * kernel does under the queue's spinlock), tests its condition, and calls schedule()
 * (sched.ts), which returns once a waker ran try_to_wake_up() on it. A waker's wake_up() walks
 * the queue in one step and wakes every entry's task (all non-exclusive entries and the first
 * exclusive one); autoremove_wake_function() takes a woken entry off the queue. The right pattern
 * (prepare_to_wait, then test, then schedule) never loses a wake-up; testing before
 * prepare_to_wait does, and the model shows it as a deadlock finding naming the sleeper.
 *
 * Accesses: the queue is one location, written by prepare_to_wait, wake_up and a finish_wait that
 * dequeues, read by waitqueue_active and a finish_wait that finds its entry already dequeued;
 * task states as in sched.ts. wait_event()'s condition is the caller's code: its reads are
 * recorded by the objects it reads (Cells, tracked state), and the waker must write them.
 *
 * Memory model: queue operations and wake-ups take the queue's spinlock, so they are full
 * barriers (fenced steps); waitqueue_active() is a plain read with no barrier (the kernel's
 * comment: the waker needs smp_mb() between setting the condition and waitqueue_active()).
 *
 * Left out: signals and timeouts (wait_event_interruptible/_timeout/_killable variants), wake
 * keys other than wait-on-bit's, WQ_FLAG_PRIORITY, bookmarks, and the wait queue's own spinlock
 * as an object (wait_event_lock_irq and friends).
 */
import { access, newLoc, R, W } from "../engine/access.js";
import type { Site } from "../engine/site.js";
import { step, type Task } from "../engine/task.js";
import { selfTracked } from "../engine/track.js";
import { set_task_state, schedule, TASK_NORMAL, TASK_RUNNING, TASK_UNINTERRUPTIBLE, try_to_wake_up } from "./sched.js";
import { subSite, type Step } from "./shared.js";

/** WQ_FLAG_EXCLUSIVE: wake_up() wakes only the first such entry. */
export const WQ_FLAG_EXCLUSIVE = 0x01;

/**
 * The wake function of an entry: `int (*func)(struct wait_queue_entry *, unsigned mode, int
 * flags, void *key)`; returns nonzero when it woke the task. Called inside the waker's step.
 */
export type wait_queue_func_t = (wq_entry: wait_queue_entry_t, mode: number, key: unknown) => number;

/** struct wait_queue_entry: a task waiting on a queue. Create one per wait with DEFINE_WAIT(). */
export class wait_queue_entry_t {
  /** `wq_entry->flags`: 0 or WQ_FLAG_EXCLUSIVE. */
  flags = 0;
  /** True while on a queue (`!list_empty(&wq_entry->entry)`). */
  queued = false;
  constructor(
    /** The waiting task (`wq_entry->private`). */
    readonly task: Task,
    /** The wake function wake_up() calls for this entry (`wq_entry->func`). */
    readonly func: wait_queue_func_t,
  ) {}
}

/** struct wait_queue_head: the queue of waiting entries. */
export class wait_queue_head_t {
  /** The queue's location (see engine/access.ts): adding, removing and waking record an access of it. */
  readonly loc: number;
  /** The queued entries in queue order (`wq_head->head`); exclusive waiters at the tail. */
  readonly head: wait_queue_entry_t[] = [];
  constructor(
    /** Name in traces and state tables. */
    readonly name: string,
  ) {
    this.loc = newLoc(name, this);
  }
  /** Names of the queued tasks, without recording (display). */
  describe(): string {
    return this.head.length === 0 ? "empty" : this.head.map((e) => e.task.name).join(", ");
  }
}

/** DECLARE_WAIT_QUEUE_HEAD(name): a new, empty wait queue (create in setup()). */
export function DECLARE_WAIT_QUEUE_HEAD(name: string): wait_queue_head_t {
  return new wait_queue_head_t(name);
}

/** default_wake_function(): try_to_wake_up(task, mode). */
export const default_wake_function: wait_queue_func_t = (e, mode) => (try_to_wake_up(e.task, mode) ? 1 : 0);

/** autoremove_wake_function(): default_wake_function() and, when it woke the task, list_del_init(). */
export const autoremove_wake_function: wait_queue_func_t = (e, mode, key) => {
  const ret = default_wake_function(e, mode, key);
  if (ret !== 0) e.queued = false; // removed from wq.head by __wake_up_common
  return ret;
};

/**
 * DEFINE_WAIT(wait): an entry for the current task with autoremove_wake_function. Call it in the
 * thread that waits, with its own task, where the C declares it (before or between steps; it is
 * no step and accesses nothing), then pass it to prepare_to_wait() and finish_wait():
 *
 * ```ts
 * const wait = DEFINE_WAIT(t);
 * yield* prepare_to_wait(t, s.wq, wait, TASK_UNINTERRUPTIBLE, PREPARE);
 * yield TEST;                                     // if (!READ_ONCE(cond))
 * if (!READ_ONCE(t, s.cond)) yield* schedule(t, SCHEDULE);
 * yield* finish_wait(t, s.wq, wait, FINISH);
 * ```
 */
export function DEFINE_WAIT(t: Task): wait_queue_entry_t {
  return new wait_queue_entry_t(t, autoremove_wake_function);
}

/** init_wait_entry(): an entry with `flags` (0 or WQ_FLAG_EXCLUSIVE), autoremove_wake_function. */
export function init_wait_entry(t: Task, flags: number): wait_queue_entry_t {
  const e = new wait_queue_entry_t(t, autoremove_wake_function);
  e.flags = flags;
  return e;
}

function enqueue(wq: wait_queue_head_t, e: wait_queue_entry_t, tail: boolean): void {
  access(wq.loc, W);
  if (e.queued) return;
  e.queued = true;
  // __add_wait_queue() puts an entry at the head, __add_wait_queue_entry_tail() at the tail.
  if (tail) wq.head.push(e);
  else wq.head.unshift(e);
}

/**
 * DECLARE_WAITQUEUE(name, tsk): an entry for task `t` with default_wake_function, which leaves
 * the entry queued when it wakes the task (for add_wait_queue() ... remove_wait_queue()).
 */
export function DECLARE_WAITQUEUE(t: Task): wait_queue_entry_t {
  return new wait_queue_entry_t(t, default_wake_function);
}

/**
 * add_wait_queue(wq_head, wq_entry): clears WQ_FLAG_EXCLUSIVE and queues the entry at the tail
 * (`__add_wait_queue_entry_tail()` under the queue's spinlock). One fully ordered step; it does
 * not set the task state (the caller's set_current_state() or __set_current_state() does).
 */
export function add_wait_queue(t: Task, wq: wait_queue_head_t, wait: wait_queue_entry_t, at: Site): Step {
  return step(t, at, { fence: true }, () => {
    wait.flags &= ~WQ_FLAG_EXCLUSIVE;
    enqueueTail(wq, wait);
  });
}

/** add_wait_queue_exclusive(wq_head, wq_entry): add_wait_queue() with WQ_FLAG_EXCLUSIVE set. One fully ordered step. */
export function add_wait_queue_exclusive(t: Task, wq: wait_queue_head_t, wait: wait_queue_entry_t, at: Site): Step {
  return step(t, at, { fence: true }, () => {
    wait.flags |= WQ_FLAG_EXCLUSIVE;
    enqueueTail(wq, wait);
  });
}

/** remove_wait_queue(wq_head, wq_entry): `__remove_wait_queue()` under the queue's spinlock. One fully ordered step. */
export function remove_wait_queue(t: Task, wq: wait_queue_head_t, wait: wait_queue_entry_t, at: Site): Step {
  return step(t, at, { fence: true }, () => {
    access(wq.loc, W);
    removeEntry(wq, wait);
  });
}

/** `__add_wait_queue_entry_tail()`: list_add_tail() unconditionally (the kernel does not check list_empty() here). */
function enqueueTail(wq: wait_queue_head_t, e: wait_queue_entry_t): void {
  if (e.queued) throw new Error(`add_wait_queue(${wq.name}): the entry of ${e.task.name} is already on a queue (list corruption in the kernel)`);
  enqueue(wq, e, true);
}

/**
 * prepare_to_wait(wq_head, wq_entry, state): queues the entry (non-exclusive) unless it is queued
 * and sets the task's state. One fully ordered step (the queue's spinlock, set_current_state).
 */
export function prepare_to_wait(t: Task, wq: wait_queue_head_t, wait: wait_queue_entry_t, state: number, at: Site): Step {
  return step(t, at, { fence: true }, () => {
    wait.flags &= ~WQ_FLAG_EXCLUSIVE;
    enqueue(wq, wait, false);
    set_task_state(t, state);
  });
}

/**
 * prepare_to_wait_exclusive(wq_head, wq_entry, state): queues the entry at the tail as exclusive
 * and sets the state; returns true when the queue was empty. One fully ordered step.
 */
export function prepare_to_wait_exclusive(t: Task, wq: wait_queue_head_t, wait: wait_queue_entry_t, state: number, at: Site): Step<boolean> {
  return step(t, at, { fence: true }, () => {
    wait.flags |= WQ_FLAG_EXCLUSIVE;
    const wasEmpty = !wait.queued && wq.head.length === 0;
    enqueue(wq, wait, true);
    set_task_state(t, state);
    return wasEmpty;
  });
}

/**
 * prepare_to_wait_event(wq_head, wq_entry, state): prepare_to_wait() keeping the entry's
 * exclusive flag (queued at the tail when exclusive); returns 0 (no signals here). One step.
 */
export function prepare_to_wait_event(t: Task, wq: wait_queue_head_t, wait: wait_queue_entry_t, state: number, at: Site): Step<number> {
  return step(t, at, { fence: true }, () => {
    enqueue(wq, wait, (wait.flags & WQ_FLAG_EXCLUSIVE) !== 0);
    set_task_state(t, state);
    return 0;
  });
}

/**
 * finish_wait(wq_head, wq_entry): sets the task running and takes the entry off the queue if a
 * wake-up has not already done so. One step: records W on the task state, W on the queue when it
 * dequeues and R when it finds the entry gone (list_empty_careful()). The kernel's
 * `__set_current_state(TASK_RUNNING)` is a plain store; here it goes straight to memory even under
 * tso/pso (only a concurrent try_to_wake_up() could tell: it would find the thread running instead
 * of waking it, and wake_up() would count one task fewer).
 */
export function finish_wait(t: Task, wq: wait_queue_head_t, wait: wait_queue_entry_t, at: Site): Step {
  return step(t, at, {}, () => {
    set_task_state(t, TASK_RUNNING);
    if (!wait.queued) {
      access(wq.loc, R);
      return;
    }
    access(wq.loc, W);
    removeEntry(wq, wait);
  });
}

function removeEntry(wq: wait_queue_head_t, e: wait_queue_entry_t): void {
  const i = wq.head.indexOf(e);
  if (i >= 0) wq.head.splice(i, 1);
  e.queued = false;
}

/**
 * __wake_up_common(wq_head, mode, nr_exclusive, key) inside a step that holds the queue's lock
 * (records W on the queue): calls each entry's wake function; stops after `nr_exclusive` woken
 * exclusive entries (0: wake all). Returns the number of entries whose function returned nonzero.
 */
export function __wake_up_common(wq: wait_queue_head_t, mode: number, nr_exclusive: number, key: unknown = null): number {
  access(wq.loc, W);
  let woken = 0;
  for (const e of [...wq.head]) {
    const flags = e.flags;
    const ret = e.func(e, mode, key);
    if (!e.queued) removeEntry(wq, e);
    if (ret < 0) break;
    if (ret !== 0) woken++;
    if (ret !== 0 && (flags & WQ_FLAG_EXCLUSIVE) !== 0 && --nr_exclusive === 0) break;
  }
  return woken;
}

/** wake_up(wq_head): __wake_up(wq_head, TASK_NORMAL, 1, NULL). One fully ordered step; returns tasks woken. */
export function wake_up(t: Task, wq: wait_queue_head_t, at: Site): Step<number> {
  return step(t, at, { fence: true }, () => __wake_up_common(wq, TASK_NORMAL, 1));
}

/** wake_up_all(wq_head): wakes every entry, exclusive or not. One fully ordered step. */
export function wake_up_all(t: Task, wq: wait_queue_head_t, at: Site): Step<number> {
  return step(t, at, { fence: true }, () => __wake_up_common(wq, TASK_NORMAL, 0));
}

/**
 * waitqueue_active(wq_head): `!list_empty(&wq_head->head)`, a plain read with no barrier. One
 * step. The kernel's comment: use it only with an smp_mb() between the waker's store of the
 * condition and this test, pairing with the barrier of the sleeper's set_current_state().
 */
export function waitqueue_active(t: Task, wq: wait_queue_head_t, at: Site): Step<boolean> {
  return step(t, at, {}, () => queueActive(wq));
}

/** `!list_empty(&wq_head->head)` inside a step: records a read of the queue. */
function queueActive(wq: wait_queue_head_t): boolean {
  access(wq.loc, R);
  return wq.head.length > 0;
}

/**
 * wq_has_sleeper(wq_head): `smp_mb(); return waitqueue_active(wq_head);` (include/linux/wait.h,
 * v6.12): the waker's test with the full barrier the waitqueue_active() comment asks for,
 * pairing with the sleeper's set_current_state() in prepare_to_wait(). One fully ordered step
 * (the barrier, then the plain read of the queue).
 */
export function wq_has_sleeper(t: Task, wq: wait_queue_head_t, at: Site): Step<boolean> {
  return step(t, at, { fence: true }, () => queueActive(wq));
}

/**
 * wait_event(wq_head, condition): sleeps (TASK_UNINTERRUPTIBLE) until `condition()` holds, as
 * the macro does: might_sleep() and a first test of the condition; then a loop of
 * prepare_to_wait_event(), a test, schedule(); then finish_wait(). Each of these is one step
 * (labels `<at's label>: condition`, `prepare_to_wait_event`, `schedule()`, `finish_wait`).
 * `condition` runs inside those steps and must read shared state through tracked objects so the
 * reads are recorded; the waker sets it and then calls wake_up(). A condition nobody makes true
 * leaves the thread asleep: a deadlock finding `... waits for wake-up in schedule()`.
 */
export function wait_event(t: Task, wq: wait_queue_head_t, condition: () => boolean, at: Site): Step {
  return t.made(at, wait_event_body(t, wq, condition, at));
}

function* wait_event_body(t: Task, wq: wait_queue_head_t, condition: () => boolean, at: Site): Step {
  t.started();
  if (yield* step(t, subSite(at, "condition"), { sleeps: true }, condition)) return;
  const wait = init_wait_entry(t, 0);
  for (;;) {
    yield* prepare_to_wait_event(t, wq, wait, TASK_UNINTERRUPTIBLE, subSite(at, "prepare_to_wait_event"));
    if (yield* step(t, subSite(at, "condition"), {}, condition)) break;
    yield* schedule(t, subSite(at, "schedule()"));
  }
  yield* finish_wait(t, wq, wait, subSite(at, "finish_wait"));
}

// racelab objects record their own accesses (see engine/track.ts).
selfTracked(wait_queue_head_t, wait_queue_entry_t);
