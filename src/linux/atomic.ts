/**
 * Counters: atomic_t, atomic_long_t and percpu_counter (include/linux/atomic.h,
 * include/linux/percpu_counter.h, v6.9), and plain counters protected by a lock: `Counter`
 * (in-step methods, used by the bundled scenarios) and `atomic_t` with the kernel's atomic_*()
 * step primitives (below).
 *
 * `add()` is an update whose result is not used (atomic_add, percpu_counter_add): such updates
 * commute with each other, which the reduction exploits. `addReturn()` uses the result and so
 * conflicts with every other access. Left out: percpu_counter batching (a percpu_counter_read()
 * may lag by up to batch * nr_cpus); reads here are exact.
 */
import { access, ADD, newLoc, R, W } from "../engine/access.js";
import { atomic_rmw, Cell, load, store } from "../engine/memory.js";
import type { Site } from "../engine/site.js";
import { step, type Task } from "../engine/task.js";
import { selfTracked } from "../engine/track.js";
import { OwnStoresVisible, rmw_relaxed, type Step } from "./shared.js";

/**
 * A counter with its own location and no memory cell: reads and updates act on memory at once
 * (under tso/pso too). Used by the bundled scenarios; new models should prefer {@link atomic_t}.
 */
export class Counter {
  /** The counter's location (see engine/access.ts). */
  readonly loc: number;
  constructor(
    /** Name in traces and state tables. */
    readonly name: string,
    private v = 0,
  ) {
    this.loc = newLoc(name, this);
  }
  /** atomic_read() / a plain load. */
  read(): number {
    access(this.loc, R);
    return this.v;
  }
  /** atomic_set() / a plain store. */
  set(v: number): void {
    access(this.loc, W);
    this.v = v;
  }
  /** atomic_add() / percpu_counter_add(): result unused, commutes with other adds. */
  add(d: number): void {
    access(this.loc, ADD);
    this.v += d;
  }
  /** atomic_add_return(): the new value. */
  addReturn(d: number): number {
    access(this.loc, W);
    this.v += d;
    return this.v;
  }
  /** The value without recording an access (for display and end checks outside steps). */
  peek(): number {
    return this.v;
  }
}

// racelab objects record their own accesses (see engine/track.ts).
selfTracked(Counter);

/**
 * atomic_t: an `int` updated with the atomic operations of include/linux/atomic.h (generated
 * include/linux/atomic/atomic-instrumented.h and atomic-arch-fallback.h, v6.12). The counter is
 * a memory {@link Cell}, so under tso/pso `atomic_set()` is a store that may be buffered.
 *
 * Ordering (Documentation/atomic_t.txt): `atomic_read`/`atomic_set` are READ_ONCE/WRITE_ONCE;
 * non-value-returning RMWs (`atomic_inc`, `atomic_add`, `atomic_dec`, `atomic_sub`) are unordered
 * (under pso they act on memory once the thread's own stores to the counter are visible; under
 * tso they are x86's locked instructions, waiting for the whole store buffer) and record the ADD
 * access class, so they commute with each other in the reduction;
 * value-returning RMWs (`atomic_add_return`, `atomic_dec_and_test`, `atomic_inc_not_zero`,
 * `atomic_cmpxchg`, ...) are fully ordered and record W. Every function is one step.
 *
 * Left out: the int's wrap-around at 2^31 (values are JS numbers); `_relaxed`/`_acquire`/
 * `_release` variants of the value-returning operations (use the fully ordered ones: stronger).
 */
export class atomic_t {
  /** The counter, as a memory cell (`v->counter`). */
  readonly counter: Cell<number>;
  /** What an unordered RMW on it waits for (the thread's own buffered stores to it). */
  readonly visible: OwnStoresVisible;
  constructor(
    /** Name in traces and state tables (the cell's name too). */
    readonly name: string,
    i = 0,
  ) {
    this.counter = new Cell(name, i);
    this.visible = new OwnStoresVisible(this.counter);
  }
  /** The value in memory, without recording an access (display, end checks). */
  peek(): number {
    return this.counter.peek();
  }
  /** `<name>=<value in memory>`, without recording an access. */
  toString(): string {
    return `${this.name}=${this.counter.peek()}`;
  }
}

/** ATOMIC_INIT(i): a new atomic_t named `name` holding `i` (create in setup()). */
export function ATOMIC_INIT(name: string, i = 0): atomic_t {
  return new atomic_t(name, i);
}

/** atomic_read(v): READ_ONCE(v->counter), one step; returns the int. */
export function atomic_read(t: Task, v: atomic_t, at: Site): Step<number> {
  return step(t, at, {}, () => load(t, v.counter));
}

/** atomic_set(v, i): WRITE_ONCE(v->counter, i), one step (buffered under tso/pso). */
export function atomic_set(t: Task, v: atomic_t, i: number, at: Site): Step {
  return step(t, at, {}, () => store(t, v.counter, i));
}

/** atomic_set_release(v, i): smp_store_release(&v->counter, i), one step. */
export function atomic_set_release(t: Task, v: atomic_t, i: number, at: Site): Step {
  return step(t, at, {}, () => store(t, v.counter, i, true));
}

/** atomic_add(i, v): unordered, result unused (ADD class: commutes with other adds). One step. */
export function atomic_add(t: Task, i: number, v: atomic_t, at: Site): Step {
  return step(t, at, { waitFor: v.visible }, () => {
    rmw_relaxed(t, v.counter, (x) => x + i, ADD);
  });
}

/** atomic_sub(i, v): unordered, ADD class. One step. */
export function atomic_sub(t: Task, i: number, v: atomic_t, at: Site): Step {
  return atomic_add(t, -i, v, at);
}

/** atomic_inc(v): unordered, ADD class. One step. */
export function atomic_inc(t: Task, v: atomic_t, at: Site): Step {
  return atomic_add(t, 1, v, at);
}

/** atomic_dec(v): unordered, ADD class. One step. */
export function atomic_dec(t: Task, v: atomic_t, at: Site): Step {
  return atomic_add(t, -1, v, at);
}

function ordered<R>(t: Task, v: atomic_t, at: Site, f: (old: number) => number, result: (old: number, nv: number) => R): Step<R> {
  return step(t, at, { fence: true }, () => {
    const old = atomic_rmw(t, v.counter, f);
    return result(old, f(old));
  });
}

/** atomic_add_return(i, v): fully ordered; returns the new value. One step. */
export function atomic_add_return(t: Task, i: number, v: atomic_t, at: Site): Step<number> {
  return ordered(t, v, at, (x) => x + i, (_o, n) => n);
}

/** atomic_sub_return(i, v): fully ordered; returns the new value. */
export function atomic_sub_return(t: Task, i: number, v: atomic_t, at: Site): Step<number> {
  return atomic_add_return(t, -i, v, at);
}

/** atomic_inc_return(v): fully ordered; returns the new value. */
export function atomic_inc_return(t: Task, v: atomic_t, at: Site): Step<number> {
  return atomic_add_return(t, 1, v, at);
}

/** atomic_dec_return(v): fully ordered; returns the new value. */
export function atomic_dec_return(t: Task, v: atomic_t, at: Site): Step<number> {
  return atomic_add_return(t, -1, v, at);
}

/** atomic_fetch_add(i, v): fully ordered; returns the old value. */
export function atomic_fetch_add(t: Task, i: number, v: atomic_t, at: Site): Step<number> {
  return ordered(t, v, at, (x) => x + i, (o) => o);
}

/** atomic_dec_and_test(v): fully ordered; true when the new value is 0. */
export function atomic_dec_and_test(t: Task, v: atomic_t, at: Site): Step<boolean> {
  return ordered(t, v, at, (x) => x - 1, (_o, n) => n === 0);
}

/** atomic_sub_and_test(i, v): fully ordered; true when the new value is 0. */
export function atomic_sub_and_test(t: Task, i: number, v: atomic_t, at: Site): Step<boolean> {
  return ordered(t, v, at, (x) => x - i, (_o, n) => n === 0);
}

/** atomic_inc_and_test(v): fully ordered; true when the new value is 0. */
export function atomic_inc_and_test(t: Task, v: atomic_t, at: Site): Step<boolean> {
  return ordered(t, v, at, (x) => x + 1, (_o, n) => n === 0);
}

/**
 * atomic_add_unless(v, a, u): adds `a` unless the value is `u`; true when it added. Fully ordered
 * (the kernel orders only on success).
 */
export function atomic_add_unless(t: Task, v: atomic_t, a: number, u: number, at: Site): Step<boolean> {
  return ordered(t, v, at, (x) => (x === u ? x : x + a), (o) => o !== u);
}

/** atomic_inc_not_zero(v): atomic_add_unless(v, 1, 0); true when it incremented. */
export function atomic_inc_not_zero(t: Task, v: atomic_t, at: Site): Step<boolean> {
  return atomic_add_unless(t, v, 1, 0, at);
}

/** atomic_cmpxchg(v, old, new): returns the value found (success when it equals `old`). Fully ordered. */
export function atomic_cmpxchg(t: Task, v: atomic_t, old: number, nv: number, at: Site): Step<number> {
  return ordered(t, v, at, (x) => (x === old ? nv : x), (o) => o);
}

/** atomic_xchg(v, new): returns the old value. Fully ordered. */
export function atomic_xchg(t: Task, v: atomic_t, nv: number, at: Site): Step<number> {
  return ordered(t, v, at, () => nv, (o) => o);
}

selfTracked(atomic_t);
