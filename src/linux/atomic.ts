/**
 * Counters: atomic_t, atomic_long_t and percpu_counter (include/linux/atomic.h,
 * include/linux/percpu_counter.h, v6.9), and plain counters protected by a lock.
 *
 * `add()` is an update whose result is not used (atomic_add, percpu_counter_add): such updates
 * commute with each other, which the reduction exploits. `addReturn()` uses the result and so
 * conflicts with every other access. Left out: percpu_counter batching (a percpu_counter_read()
 * may lag by up to batch * nr_cpus); reads here are exact.
 */
import { access, ADD, newLoc, R, W } from "../engine/access.js";
import { selfTracked } from "../engine/track.js";

export class Counter {
  readonly loc: number;
  constructor(
    readonly name: string,
    private v = 0,
  ) {
    this.loc = newLoc(name);
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
