/**
 * Locks: spinlock_t, struct rw_semaphore, struct mutex.
 *
 * Source: include/linux/spinlock.h, kernel/locking/rwsem.c, kernel/locking/mutex.c (v6.9).
 * Each acquire and each release is one atomic step (a yield). A blocked acquire makes its thread
 * not runnable until the lock is free. Spinlocks raise the holder's atomic depth, so a sleeping
 * step while one is held is a `sleep-in-atomic` finding; rwsem and mutex acquires may sleep.
 *
 * Left out: fairness and queueing. Real rwsems let a waiting writer block new readers
 * (RWSEM_FLAG_WAITERS, handoff) and mutexes spin optimistically; here a reader may acquire
 * whenever no writer holds the rwsem, and any free lock may be taken by any waiter. Recursive
 * acquisition is not special-cased: it deadlocks as in the kernel (AA) except read-after-read.
 */
import { access, LS, LX, newLoc } from "../engine/access.js";
import type { Site } from "../engine/site.js";
import type { Task, Waitable } from "../engine/task.js";
import { selfTracked } from "../engine/track.js";

export const SHARED = 0;
export const EXCLUSIVE = 1;

type Step = Generator<Site, void, undefined>;

function misuse(what: string): never {
  throw new Error(what);
}

/** spinlock_t. `owner` is the holding thread, or null. */
export class Spinlock implements Waitable {
  readonly loc: number;
  owner: Task | null = null;
  constructor(readonly name: string) {
    this.loc = newLoc(name);
  }
  canProceed(): boolean {
    return this.owner === null;
  }
  /** Waitable: the acquire is an exclusive operation on the lock. */
  waited(): void {
    access(this.loc, LX);
  }
}

/** spin_lock(): one step; the thread stays in atomic context until spin_unlock(). */
export function* spin_lock(t: Task, lock: Spinlock, at: Site): Step {
  t.blockOn(lock, EXCLUSIVE);
  t.fence = true;
  yield at;
  access(lock.loc, LX);
  lock.owner = t;
  t.atomicDepth++;
  t.atomicHeld.push(lock.name);
}

/** spin_unlock(): one step. */
export function* spin_unlock(t: Task, lock: Spinlock, at: Site): Step {
  t.fence = true;
  yield at;
  spinRelease(t, lock);
}

/** Releases a spinlock inside the current step (for code that unlocks and continues atomically). */
export function spinRelease(t: Task, lock: Spinlock): void {
  if (lock.owner !== t) misuse(`spin_unlock(${lock.name}) by ${t.name}, which does not hold it`);
  access(lock.loc, LX);
  lock.owner = null;
  t.atomicDepth--;
  const i = t.atomicHeld.lastIndexOf(lock.name);
  if (i >= 0) t.atomicHeld.splice(i, 1);
}

/** struct rw_semaphore: a writer, or any number of readers. */
export class RwSemaphore implements Waitable {
  readonly loc: number;
  writer: Task | null = null;
  readonly readers: Task[] = [];
  constructor(readonly name: string) {
    this.loc = newLoc(name);
  }
  canProceed(_t: Task, mode: number): boolean {
    return this.writer === null && (mode === SHARED || this.readers.length === 0);
  }
  /** Waitable: down_read is a shared (LS), down_write an exclusive (LX) operation. */
  waited(_t: Task, mode: number): void {
    access(this.loc, mode === SHARED ? LS : LX);
  }
  /** Holders, for display: `"write: T"`, `"read: A, B"` or `"free"`. */
  describe(): string {
    if (this.writer) return `write: ${this.writer.name}`;
    return this.readers.length > 0 ? `read: ${this.readers.map((r) => r.name).join(", ")}` : "free";
  }
}

/** down_read(): may sleep. */
export function* down_read(t: Task, sem: RwSemaphore, at: Site): Step {
  t.blockOn(sem, SHARED);
  t.sleeps = true;
  t.fence = true;
  yield at;
  access(sem.loc, LS);
  sem.readers.push(t);
}

/** up_read(). */
export function* up_read(t: Task, sem: RwSemaphore, at: Site): Step {
  t.fence = true;
  yield at;
  const i = sem.readers.indexOf(t);
  if (i < 0) misuse(`up_read(${sem.name}) by ${t.name}, which does not hold it for read`);
  access(sem.loc, LS);
  sem.readers.splice(i, 1);
}

/** down_write(): may sleep. */
export function* down_write(t: Task, sem: RwSemaphore, at: Site): Step {
  t.blockOn(sem, EXCLUSIVE);
  t.sleeps = true;
  t.fence = true;
  yield at;
  access(sem.loc, LX);
  sem.writer = t;
}

/** up_write(). */
export function* up_write(t: Task, sem: RwSemaphore, at: Site): Step {
  t.fence = true;
  yield at;
  if (sem.writer !== t) misuse(`up_write(${sem.name}) by ${t.name}, which does not hold it for write`);
  access(sem.loc, LX);
  sem.writer = null;
}

/** struct mutex. */
export class Mutex implements Waitable {
  readonly loc: number;
  owner: Task | null = null;
  constructor(readonly name: string) {
    this.loc = newLoc(name);
  }
  canProceed(): boolean {
    return this.owner === null;
  }
  /** Waitable: the acquire is an exclusive operation on the lock. */
  waited(): void {
    access(this.loc, LX);
  }
}

/** mutex_lock(): may sleep. */
export function* mutex_lock(t: Task, m: Mutex, at: Site): Step {
  t.blockOn(m, EXCLUSIVE);
  t.sleeps = true;
  t.fence = true;
  yield at;
  access(m.loc, LX);
  m.owner = t;
}

/** mutex_unlock(). */
export function* mutex_unlock(t: Task, m: Mutex, at: Site): Step {
  t.fence = true;
  yield at;
  if (m.owner !== t) misuse(`mutex_unlock(${m.name}) by ${t.name}, which does not hold it`);
  access(m.loc, LX);
  m.owner = null;
}

// racelab objects record their own accesses (see engine/track.ts).
selfTracked(Spinlock, RwSemaphore, Mutex);
