/**
 * Task states and sleeping: set_current_state(), schedule(), wake_up_process().
 *
 * Source: include/linux/sched.h (TASK_* states, set_current_state = smp_store_mb(current->__state,
 * state), __set_current_state) and kernel/sched/core.c (__schedule, try_to_wake_up,
 * wake_up_process), v6.12.
 *
 * Each thread has a `__state`, TASK_RUNNING at first. A thread sleeps by setting its state and
 * calling schedule(); schedule() returns once the state is TASK_RUNNING again, i.e. once some
 * thread woke it with try_to_wake_up() (wake_up_process(), wake_up() of a wait queue it is on,
 * complete()). A wake-up that comes between set_current_state() and schedule() sets the state
 * back to TASK_RUNNING, so schedule() returns at once; a wake-up that comes before
 * set_current_state() finds the thread running and does nothing, and the later schedule() sleeps:
 * the lost wake-up of code that tests its condition before setting its state. A thread that
 * nobody wakes is a deadlock finding that names it: `T waits for wake-up in schedule()
 * (TASK_UNINTERRUPTIBLE) at ...`.
 *
 * Accesses: each thread's `__state` is one location (`task<N>:<name>->__state`); setting it
 * writes it, try_to_wake_up() writes it (reads it and maybe sets TASK_RUNNING), and schedule()'s
 * wait reads it, so a wake-up and the sleep it ends are always ordered by the reduction.
 *
 * Memory model: `__state` is a {@link Cell} (`<thread>->__state` in store-buffer rows).
 * __set_current_state() is WRITE_ONCE(): under tso/pso the store waits in the thread's store
 * buffer, so the thread's later loads (of the condition it sleeps on) can pass it, and a
 * try_to_wake_up() in between still reads TASK_RUNNING and wakes nobody: the lost wake-up that the
 * comment above set_current_state() in include/linux/sched.h describes. set_current_state()
 * (smp_store_mb: the store, then smp_mb()) is one fully ordered step whose store goes straight to
 * memory; so are schedule() and wake_up_process() (the run-queue lock and smp_mb__after_spinlock()
 * in __schedule() and try_to_wake_up()), and try_to_wake_up() reads and writes `__state` in
 * memory. {@link task_state} forwards the thread's own buffered store, as a load does.
 *
 * Left out: signals (TASK_INTERRUPTIBLE sleeps are never interrupted; a sleep nobody ends is a
 * deadlock either way), TASK_KILLABLE, timeouts (schedule_timeout), preemption and the run queue
 * (a woken thread is runnable at once), wake_q, and the ttwu "on_cpu" spinning.
 */
import { access, autoLoc, R, setAutoLocValue, W } from "../engine/access.js";
import { registerTaskState } from "../engine/fingerprint.js";
import { autoCell, load, runningTask, store, type Cell } from "../engine/memory.js";
import type { Site } from "../engine/site.js";
import { step, type Task, type Waitable } from "../engine/task.js";
import type { Step } from "./shared.js";

/** TASK_RUNNING: on a run queue (or running). */
export const TASK_RUNNING = 0x0000;
/** TASK_INTERRUPTIBLE: asleep; a signal would wake it too (not modeled). */
export const TASK_INTERRUPTIBLE = 0x0001;
/** TASK_UNINTERRUPTIBLE: asleep until explicitly woken. */
export const TASK_UNINTERRUPTIBLE = 0x0002;
/** TASK_NORMAL: the states wake_up() wakes (TASK_INTERRUPTIBLE | TASK_UNINTERRUPTIBLE). */
export const TASK_NORMAL = TASK_INTERRUPTIBLE | TASK_UNINTERRUPTIBLE;

/** The name of a task state, as in include/linux/sched.h. */
export function task_state_name(state: number): string {
  if (state === TASK_RUNNING) return "TASK_RUNNING";
  if (state === TASK_INTERRUPTIBLE) return "TASK_INTERRUPTIBLE";
  if (state === TASK_UNINTERRUPTIBLE) return "TASK_UNINTERRUPTIBLE";
  return `state 0x${state.toString(16)}`;
}

/** One thread's scheduler state: `current->__state` and the wait of its schedule(). */
class SchedState implements Waitable {
  /** `__state`: what other CPUs see is the cell's value; under tso/pso a store may be buffered. */
  readonly cell: Cell<number>;
  readonly loc: number;
  constructor(readonly task: Task) {
    this.loc = autoLoc(`task${task.id}:${task.name}->__state`);
    const cell = (this.cell = autoCell(`${task.name}->__state`, TASK_RUNNING, this.loc));
    setAutoLocValue(this.loc, () => cell.peek());
  }
  /** `__state` in memory, without recording an access. */
  get state(): number {
    return this.cell.peek();
  }
  set state(v: number) {
    this.cell.poke(v);
  }
  get name(): string {
    return `wake-up in schedule() (${task_state_name(this.state)})`;
  }
  canProceed(): boolean {
    return this.state === TASK_RUNNING;
  }
  /** schedule()'s wait read the thread's state. */
  waited(): void {
    access(this.loc, R);
  }
}

const states = new WeakMap<Task, SchedState>();
// State caching: another thread's try_to_wake_up() changes a thread's __state.
registerTaskState((t) => {
  const s = states.get(t);
  return s === undefined || s.state === TASK_RUNNING ? undefined : s.state;
});

function sched(t: Task): SchedState {
  let s = states.get(t);
  if (s === undefined) states.set(t, (s = new SchedState(t)));
  return s;
}

/**
 * The thread's `__state` in memory now, without recording an access (display, end checks; a
 * model reading another thread's state inside a step should use {@link task_state}). A store
 * still in the thread's store buffer (tso/pso) is not in it.
 */
export function peek_task_state(p: Task): number {
  return sched(p).state;
}

/**
 * The thread's `__state` in memory when it is not TASK_RUNNING, else undefined. Records no access
 * and, unlike {@link peek_task_state}, makes no state for a thread that never set one (for displays
 * that look at every thread: `Session.threadStatus`).
 * @internal
 */
export function peek_sleep_state(p: Task): number | undefined {
  const s = states.get(p);
  return s === undefined || s.state === TASK_RUNNING ? undefined : s.state;
}

/**
 * READ_ONCE(p->__state) inside a step: records a read of the task's state location. `p` itself
 * reads its own latest buffered store first (store forwarding), any other thread reads memory.
 */
export function task_state(p: Task): number {
  const s = sched(p);
  if (runningTask() === p) return load(p, s.cell);
  access(s.loc, R);
  return s.state;
}

/**
 * Sets the thread's state inside a step, straight to memory (records W): the store of
 * set_current_state() and prepare_to_wait(), which are fully ordered steps, so that no earlier
 * store of the thread is still buffered. For a store without a barrier use
 * {@link __set_current_state}.
 */
export function set_task_state(t: Task, state: number): void {
  const s = sched(t);
  access(s.loc, W);
  s.state = state;
}

/**
 * set_current_state(state): smp_store_mb(current->__state, state). One fully ordered step. Call
 * it before testing the condition the thread sleeps on, then schedule() if the condition is false.
 */
export function set_current_state(t: Task, state: number, at: Site): Step {
  return step(t, at, { fence: true }, () => set_task_state(t, state));
}

/**
 * __set_current_state(state): WRITE_ONCE(current->__state, state), no barrier. One step; under
 * tso, pso and rmo the store waits in the thread's store buffer, so the thread's later loads (of
 * the condition it sleeps on) can pass it, and a try_to_wake_up() in between still reads
 * TASK_RUNNING and wakes nobody: the lost wake-up the comment above set_current_state() in
 * include/linux/sched.h (v6.12) describes. set_current_state() is the fully ordered form.
 */
export function __set_current_state(t: Task, state: number, at: Site): Step {
  return step(t, at, {}, () => store(t, sched(t).cell, state));
}

/**
 * schedule(): one step that may sleep (a `sleep-in-atomic` finding when the thread holds a
 * spinlock, is in an RCU read-side section or has interrupts off) and runs only once the thread's
 * state is TASK_RUNNING: at once when nobody set it to sleep or a wake-up already came, else when
 * try_to_wake_up() wakes it. A thread never woken is a deadlock finding.
 */
export function schedule(t: Task, at: Site): Step {
  return step(t, at, { waitFor: sched(t), sleeps: true, fence: true });
}

/**
 * try_to_wake_up(p, state): inside a step, wakes `p` if its state is in `state`: sets it to
 * TASK_RUNNING and returns true; false when it was not sleeping in one of those states (already
 * running: the wake-up is lost unless `p` checks its condition after setting its state). Records
 * W on `p`'s state.
 */
export function try_to_wake_up(p: Task, state: number): boolean {
  const s = sched(p);
  access(s.loc, W);
  if ((s.state & state) === 0) return false;
  s.state = TASK_RUNNING;
  return true;
}

/**
 * wake_up_process(p): try_to_wake_up(p, TASK_NORMAL); true when `p` was asleep and is now
 * running. One fully ordered step (stores before it are visible to `p` once it runs).
 */
export function wake_up_process(t: Task, p: Task, at: Site): Step<boolean> {
  return step(t, at, { fence: true }, () => try_to_wake_up(p, TASK_NORMAL));
}
