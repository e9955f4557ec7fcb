/**
 * Locks: spinlock_t (with the _irqsave/_irq forms and interrupt flags), rwlock_t, struct
 * rw_semaphore, struct mutex, and their trylocks.
 *
 * Source: include/linux/spinlock.h, include/linux/rwlock.h, kernel/locking/spinlock.c,
 * kernel/locking/spinlock_debug.c (CONFIG_DEBUG_SPINLOCK checks), kernel/locking/rwsem.c,
 * kernel/locking/mutex.c, kernel/locking/lockdep.c (print_deadlock_bug,
 * print_unlock_imbalance_bug), kernel/locking/irqflag-debug.c, v6.12 (as far back as v6.6).
 *
 * Every acquire and every release is one atomic step made with step(): it waits until the lock is
 * free (the thread is not runnable before), orders memory as the CPU model says (under sc and tso
 * acquires are full barriers, x86's locked instructions, and so are the unlocks of mutexes,
 * rw_semaphores and read_unlock(); spin_unlock() and write_unlock() are release stores under tso,
 * pso and rmo, and every unlock is one under pso and rmo, see "Unlocks as release stores"; under
 * pso and rmo an acquire is an ACQUIRE, see acquireFences(), and trylocks stay full barriers),
 * records its lock operation (LX exclusive, LS shared) so the reduction
 * orders it against every other operation on the lock that conflicts, and, for sleeping locks
 * (rw_semaphore, mutex), may sleep: a `sleep-in-atomic` finding when the thread is in atomic
 * context. Spinlocks, rwlocks and disabled interrupts put the thread in atomic context until
 * released.
 *
 * Misuse is a finding, as with the kernel's debugging options:
 * - taking a spinlock (or an rwlock for write) that the thread holds: `bug: BUG: spinlock
 *   recursion on <thread>: lock: <name>, .owner: <thread>` (spin_dump() of CONFIG_DEBUG_SPINLOCK;
 *   `BUG: rwlock recursion` for an rwlock);
 * - taking a mutex or rw_semaphore the thread holds (for write, or for read while it holds it for
 *   write, or for write while it holds it for read): `bug: lockdep: possible recursive locking
 *   detected: <thread> is trying to acquire lock (<name>) but task is already holding lock
 *   (<name>)`;
 *   in both cases the thread then waits forever (the CPU spins, the task sleeps) while the other
 *   threads go on, and the execution ends with a deadlock finding `<thread> waits for <name>
 *   (already held by <thread> itself) at ...`;
 * - a read acquire of a rw_semaphore or rwlock the thread holds for read: the same lockdep report
 *   as a `warning` (a writer queued in between would deadlock it), and the acquire succeeds;
 * - spin_unlock of a lock the thread does not hold: `bug: BUG: spinlock wrong owner on ...` or
 *   `... already unlocked on ...`; other unlocks by a non-holder: `bug: lockdep: bad unlock
 *   balance detected! <thread> is trying to release lock (<name>) but there are no more locks to
 *   release!`; the execution stops.
 *
 * Unlocks of a mutex or rw_semaphore embedded in a struct that kfree() can free (embed()) are two
 * steps when another thread is at an acquire of it: the release, then the slowpath's wake-up,
 * which reads the lock after another thread may have taken it and freed the struct (a
 * use-after-free finding; see "Unlock after release" below). kfree() of a struct with a lock the
 * thread holds is lockdep's `warning: held lock freed! ...`.
 *
 * Left out: fairness and queueing. Real rwsems let a waiting writer block new readers
 * (RWSEM_FLAG_WAITERS, handoff), qrwlocks make process-context readers wait for a waiting writer,
 * and mutexes spin optimistically; here a reader may acquire whenever no writer holds the lock,
 * and any free lock may be taken by any waiter. Interrupts are not modeled as preemption: the
 * interrupt flag only matters for the atomic-context check and for local_irq_restore()'s sanity
 * check. Lock classes and lock-order (ABBA) detection are lockdep's, not modeled: an ABBA
 * deadlock shows as a deadlock finding when an interleaving reaches it. Under sc and tso lock
 * acquires and the sleeping locks' and read_unlock()'s releases are full barriers (x86's locked
 * instructions); under pso and rmo they are ACQUIREs and releases as in LKMM, except trylocks,
 * which stay full barriers.
 */
import { access, ADD, autoLoc, blindAccess, isStepping, LS, LX, newLoc, R, setAutoLocValue } from "../engine/access.js";
import { applyInvalidations, autoCell, reordersStores, storeReleaseOf, type Cell } from "../engine/memory.js";
import type { Site } from "../engine/site.js";
import { beforeStep, HALT, inStep, step, type Holdable, type StepSpec, type Task, type Waitable } from "../engine/task.js";
import { selfTracked } from "../engine/track.js";
import { subSite, tryFailed, tryTook, type Step } from "./shared.js";
import { preempt_disable_region, preempt_enable_region } from "./rcu.js";
import { container_of } from "./slab.js";

/** Wait mode of a shared (read) acquire. */
export const SHARED = 0;
/** Wait mode of an exclusive (write) acquire. */
export const EXCLUSIVE = 1;

/** Reports a lock misuse as the kernel's debugging code would, and stops the execution. */
function lockBug(t: Task, message: string): never {
  t.report("bug", message);
  throw HALT;
}

/** What a thread that took a lock it holds waits for: nothing ever (it spins or sleeps forever). */
class HeldBySelf implements Waitable {
  readonly name: string;
  constructor(lock: string, t: Task) {
    this.name = `${lock} (already held by ${t.name} itself)`;
  }
  canProceed(): boolean {
    return false;
  }
  waited(): void {}
}

/**
 * An acquire step that reports a recursive acquisition (the effect returns the message, or null)
 * and then leaves the thread waiting forever on the lock it holds, as the CPU would spin or the
 * task sleep; the other threads go on, and the execution ends in a deadlock finding naming it.
 */
function acquire<T>(t: Task, at: Site, spec: StepSpec, name: string, effect: () => { recursion: string | null; value: T }): Step<T> {
  return t.made(at, acquireBody(t, at, acquireFences(t) ? spec : { ...spec, fence: false }, name, effect));
}

/**
 * Whether `t`'s lock acquires are full barriers. Under sc and tso they are (x86's locked
 * instructions). Under pso and rmo, the models of weakly ordered CPUs, an acquire is an ACQUIRE
 * only, as in LKMM: the thread's earlier stores may stay buffered past it, so `WRITE_ONCE(x, 1);
 * spin_lock(l); spin_unlock(l); r = READ_ONCE(y)` against the mirror image can end with both
 * loads reading 0 (include/linux/spinlock.h, v6.12: smp_mb__after_spinlock() exists to "guarantee
 * a STORE before the spin_lock() is ordered against a LOAD after it"). A thread whose own release
 * of the lock is still buffered waits until it is visible (each lock's canProceed(); a stronger
 * ordering than the kernel's, in that one case). Trylocks (spin_trylock(), mutex_trylock(),
 * down_read_trylock(), down_write_trylock()) stay full barriers under every model: a trylock
 * whose own release is still buffered must not fail, and waiting for that release would be a
 * wait the persistent sets take for the lock's (stronger than LKMM for a successful trylock).
 */
function acquireFences(t: Task): boolean {
  return !releasesWeakly(t);
}

/** Whether `t`'s own release of `lock` (a write or a read release) is still in its store buffer. */
const ownReleasePending = (lock: object, t: Task): boolean => releasing.get(lock) === t || readReleasePending(lock, t);

function* acquireBody<T>(t: Task, at: Site, spec: StepSpec, name: string, effect: () => { recursion: string | null; value: T }): Step<T> {
  // step(t, at, spec, effect), made here (one generator per acquire instead of two).
  t.started();
  beforeStep(t, spec);
  const sleeping = freeableSleepingLock(spec.waitFor);
  if (sleeping !== null) arrive(t, sleeping);
  yield at;
  inStep(spec);
  if (sleeping !== null) leave(t, sleeping);
  const r = effect();
  // An acquire that was no full barrier (pso, rmo): under rmo the thread's later loads must not
  // read what an invalidation it has not applied hides (an ACQUIRE orders them after it).
  if (spec.fence !== true) applyInvalidations(t);
  if (r.recursion !== null) {
    t.report("bug", r.recursion);
    yield* step(t, at, { waitFor: new HeldBySelf(name, t) });
  }
  return r.value;
}

// ---- Unlock after release (sleeping locks in freeable memory) ----------------------------------
//
// Documentation/locking/mutex-design.rst: "mutex_unlock() may access the mutex structure even
// after it has internally released the lock already - so it's not safe for another context to
// acquire the mutex and assume that the mutex_unlock() context is not using the structure
// anymore." With waiters, __mutex_unlock_slowpath() (kernel/locking/mutex.c) releases the owner,
// then takes lock->wait_lock and wakes the first waiter; up_write() and the last up_read()
// (kernel/locking/rwsem.c) call rwsem_wake() after the count is released. A waiter that takes the
// lock meanwhile, drops the last reference and frees the struct makes that access a use after
// free (fixed for eventpoll by 8c2e52ebbe88). So for a mutex or rw_semaphore embedded in a struct
// (embed(), which kfree() frees) the unlock is two steps when another thread is at an acquire of
// it: the release, then `<unlock>: wake the waiter`, which reads the lock. A thread counts as a
// waiter from the moment it reaches the acquire (it may have queued and set the WAITERS flag)
// until its acquire runs; its arrival records an ADD on the lock, so the reduction orders it
// against the release. Locks in memory that is never freed (the bundled scenarios') keep one-step
// unlocks: the wake step could not change anything there.

/** Threads at an acquire of a freeable sleeping lock (see above), per lock. */
const waiters = new WeakMap<object, Task[]>();

/** The mutex or rw_semaphore `w` when it is embedded in a struct kfree() can free, else null. */
function freeableSleepingLock(w: Waitable | undefined): Mutex | RwSemaphore | null {
  if (!(w instanceof Mutex) && !(w instanceof RwSemaphore)) return null;
  return container_of(w) !== null ? w : null;
}

/** The thread reached an acquire of `lock` (inside the step before it, or when it is created). */
function arrive(t: Task, lock: Mutex | RwSemaphore): void {
  let w = waiters.get(lock);
  if (w === undefined) waiters.set(lock, (w = []));
  if (!w.includes(t)) w.push(t);
  if (isStepping()) access(lock.loc, ADD);
}

function leave(t: Task, lock: Mutex | RwSemaphore): void {
  const w = waiters.get(lock);
  const i = w?.indexOf(t) ?? -1;
  if (i >= 0) w!.splice(i, 1);
}

/** True when a thread other than `t` is at an acquire of `lock` (only freeable locks have waiters recorded). */
function contended(t: Task, lock: Mutex | RwSemaphore): boolean {
  return waiters.get(lock)?.some((x) => x !== t) ?? false;
}

/**
 * An unlock: one step that runs `release` (true: a waiter was there), and for a lock in freeable
 * memory, when it says so, the step that wakes the waiter and reads the lock.
 */
function unlock(t: Task, lock: Mutex | RwSemaphore, at: Site, release: () => boolean, what: string): Step {
  if (freeableSleepingLock(lock) === null) return step(t, at, { fence: !releasesWeakly(t) }, () => void release());
  return t.made(at, unlockBody(t, lock, at, release, what));
}

function* unlockBody(t: Task, lock: Mutex | RwSemaphore, at: Site, release: () => boolean, what: string): Step {
  t.started();
  const wake = yield* step(t, at, { fence: !releasesWeakly(t) }, release);
  if (!wake) return;
  // (Under pso the release may still be buffered: the slowpath's raw_spin_lock(&lock->wait_lock)
  // comes after it, so this step waits until it is visible.)
  yield* step(t, subSite(at, "wake the waiter"), { fence: true }, () => {
    access(lock.loc, R);
    t.say(() => `${what} reads ${lock.name} (wait_lock, wait_list) after releasing it`);
  });
}

const recursive = (t: Task, name: string) =>
  `lockdep: possible recursive locking detected: ${t.name} is trying to acquire lock (${name}) but task is already holding lock (${name})`;
const unbalanced = (t: Task, name: string) =>
  `lockdep: bad unlock balance detected! ${t.name} is trying to release lock (${name}) but there are no more locks to release!`;


// ---- Interrupt flags -------------------------------------------------------------------------

/** X86_EFLAGS_IF: the interrupt-enable bit of saved flags (arch/x86/include/asm/irqflags.h). */
export const X86_EFLAGS_IF = 0x200;
const IRQS_OFF = "irqs disabled";
const irqOff = new WeakMap<Task, boolean>();

/** irqs_disabled(): true when the thread has local interrupts off (thread-local; no access). */
export function irqs_disabled(t: Task): boolean {
  return irqOff.get(t) === true;
}

/** local_irq_save(flags) inside a step: disables interrupts, returns the previous flags. */
function irqSave(t: Task): number {
  const was = irqs_disabled(t);
  if (!was) {
    irqOff.set(t, true);
    preempt_disable_region(t, IRQS_OFF);
  }
  return was ? 0 : X86_EFLAGS_IF;
}

/** local_irq_restore(flags) inside a step. */
function irqRestore(t: Task, flags: number): void {
  // warn_bogus_irq_restore() (CONFIG_DEBUG_IRQFLAGS): restoring while interrupts are on.
  if (!irqs_disabled(t)) t.warn("raw_local_irq_restore() called with IRQs enabled");
  if ((flags & X86_EFLAGS_IF) !== 0) {
    irqOff.set(t, false);
    preempt_enable_region(t, IRQS_OFF);
  }
}

function irqDisable(t: Task): void {
  if (!irqs_disabled(t)) {
    irqOff.set(t, true);
    preempt_disable_region(t, IRQS_OFF);
  }
}

function irqEnable(t: Task): void {
  if (irqs_disabled(t)) {
    irqOff.set(t, false);
    preempt_enable_region(t, IRQS_OFF);
  }
}

/** local_irq_save(flags): disables local interrupts; returns the flags to restore. One step. */
export function local_irq_save(t: Task, at: Site): Step<number> {
  return step(t, at, {}, () => irqSave(t));
}

/**
 * local_irq_restore(flags): interrupts back as `flags` says; a `warning: raw_local_irq_restore()
 * called with IRQs enabled` when they are on (CONFIG_DEBUG_IRQFLAGS). One step.
 */
export function local_irq_restore(t: Task, flags: number, at: Site): Step {
  return step(t, at, {}, () => irqRestore(t, flags));
}

/** local_irq_disable(). One step. */
export function local_irq_disable(t: Task, at: Site): Step {
  return step(t, at, {}, () => irqDisable(t));
}

/** local_irq_enable(). One step. */
export function local_irq_enable(t: Task, at: Site): Step {
  return step(t, at, {}, () => irqEnable(t));
}

// ---- spinlock_t ------------------------------------------------------------------------------

/** spinlock_t. `owner` is the holding thread, or null (read it through the functions). */
export class Spinlock implements Waitable, Holdable {
  /** The lock's location (see engine/access.ts): lock and unlock operations record an access of it (LX, or LS for read locks). */
  readonly loc: number;
  /** The holding thread, or null when free. */
  owner: Task | null = null;
  constructor(
    /** Name in traces, findings and state tables, e.g. `ei->i_data_sem`. */
    readonly name: string,
  ) {
    this.loc = newLoc(name, this);
  }
  /** Holdable: 2 when `t` holds it (0 once its release is on the way: see "Unlocks as release stores"). */
  holdMode(t: Task): number {
    return this.owner === t && releasing.get(this) !== t ? 2 : 0;
  }
  /** Free, or held by `t` itself (so the recursion is reported rather than spun on); not while `t`'s own release is buffered. */
  canProceed(t: Task): boolean {
    return this.owner === null || (this.owner === t && releasing.get(this) !== t);
  }
  /** Waitable: the acquire is an exclusive operation on the lock. */
  waited(): void {
    access(this.loc, LX);
  }
  /** `held by <thread>` or `free`, without recording an access (state tables). */
  describe(): string {
    return this.owner === null ? "free" : `held by ${this.owner.name}`;
  }
}

/** spinlock_t, as the kernel spells it. */
export { Spinlock as spinlock_t };

/** DEFINE_SPINLOCK(name): a new, unlocked spinlock (create in setup()). */
export function DEFINE_SPINLOCK(name: string): Spinlock {
  return new Spinlock(name);
}

/**
 * Takes `lock` inside a step that waited for it: the DEBUG_SPINLOCK recursion check (returns its
 * message when the thread holds the lock already), else owner and atomic context.
 */
function spinAcquire(t: Task, lock: Spinlock): string | null {
  if (lock.owner === t) return `BUG: spinlock recursion on ${t.name}: lock: ${lock.name}, .owner: ${t.name}`;
  lock.owner = t;
  preempt_disable_region(t, lock.name);
  return null;
}

const spinSpec = (lock: Spinlock): StepSpec => ({ waitFor: lock, mode: EXCLUSIVE, fence: true });

/**
 * spin_lock(lock): one step that runs once the lock is free; the thread is in atomic context until
 * spin_unlock(). On a lock the thread holds: `BUG: spinlock recursion`, then it spins forever.
 */
export function spin_lock(t: Task, lock: Spinlock, at: Site): Step {
  return acquire(t, at, spinSpec(lock), lock.name, () => ({ recursion: spinAcquire(t, lock), value: undefined }));
}

/** spin_unlock(lock): one step; `BUG: spinlock wrong owner` / `already unlocked` when the thread does not hold it. */
export function spin_unlock(t: Task, lock: Spinlock, at: Site): Step {
  return step(t, at, {}, () => spinRelease(t, lock));
}

/**
 * Releases a spinlock inside the current step (for code that unlocks and continues atomically),
 * with spin_unlock()'s checks and accesses.
 */
export function spinRelease(t: Task, lock: Spinlock): void {
  if (lock.owner === null || releasing.get(lock) === t) {
    blindAccess(lock.loc, LX);
    lockBug(t, `BUG: spinlock already unlocked on ${t.name}: lock: ${lock.name}, .owner: <none>`);
  }
  if (lock.owner !== t) {
    blindAccess(lock.loc, LX);
    lockBug(t, `BUG: spinlock wrong owner on ${t.name}: lock: ${lock.name}, .owner: ${lock.owner.name}`);
  }
  preempt_enable_region(t, lock.name);
  releaseStore(t, lock, () => {
    lock.owner = null;
  });
}

// ---- Unlocks as release stores (tso, pso) ------------------------------------------------------
//
// queued_spin_unlock() is smp_store_release(&lock->locked, 0) and queued_write_unlock()
// smp_store_release(&lock->wlocked, 0) (include/asm-generic/qspinlock.h, qrwlock.h, v6.12): on x86
// a plain store, in LKMM a release. Under tso and pso the unlock goes into the thread's store
// buffer as a release store: the critical section's stores become visible first, the lock is free
// for the other threads once the release is visible, and the thread's later loads may pass it all
// (store buffering across spin_unlock(), the lost wake-up of `spin_unlock(); if
// (waitqueue_active(wq)) wake_up(wq);` without smp_mb(), a new user's trial, 2026-12-01). Until it
// is visible the thread no longer holds the lock (holdMode() 0), and nobody else can take it.
// Under sc the unlock is at once.
//
// The other unlocks are release RMWs: mutex_unlock() (__mutex_unlock_fast():
// atomic_long_try_cmpxchg_release(&lock->owner, ...)), up_read() and up_write()
// (atomic_long_add_return_release(), atomic_long_fetch_add_release() in kernel/locking/rwsem.c)
// and read_unlock() (queued_read_unlock(): atomic_sub_return_release()). On x86 they are locked
// instructions, full barriers: so under tso they drain the store buffer and release at once. Under
// pso, the model of a weakly ordered CPU (arm64's ldxr/stlxr), they are release stores as above: a
// lost wake-up of `mutex_unlock(); if (waitqueue_active(wq)) wake_up(wq);` is found there (a new
// user's trial, 2026-12-01). An embedded lock's wake-up step (see "Unlock after release") waits
// until the release is visible, as the slowpath's raw_spin_lock(&lock->wait_lock) follows it.

/** Locks whose (write) release is still in their releasing thread's store buffer, with that thread. */
const releasing = new WeakMap<object, Task>();
/** Read locks (rw_semaphore, rwlock_t) with read releases still in store buffers, with those threads. */
const readReleasing = new WeakMap<object, Task[]>();
/** Each lock's word, as a Cell for its buffered release. */
const words = new WeakMap<object, Cell<number>>();

/** True when the thread's mutex, rw_semaphore and read_unlock() releases go into its store buffer (pso). */
function releasesWeakly(t: Task): boolean {
  const m = t.memory.bufferOf(t)?.model;
  return m !== undefined && reordersStores(m);
}

/** Whether `t`'s read release of `lock` is still buffered. */
const readReleasePending = (lock: object, t: Task) => readReleasing.get(lock)?.includes(t) === true;

/**
 * A lock's word `<name>.locked` as a Cell, hashed by its value. (A function of its own: the value
 * function, kept in a global table until the next execution's setup, must not share a closure
 * context with releaseStore()'s `t`, `lock` and `free`. When it did (88c1072), it kept the whole
 * execution alive, and filemap-folio-split's pso checks spent 2 to 3 times longer in the garbage
 * collector's scavenges.)
 */
function lockWord(name: string): Cell<number> {
  const loc = autoLoc(`${name}.locked`);
  const w = autoCell(`${name}.locked`, 0, loc);
  setAutoLocValue(loc, () => w.peek());
  return w;
}

/**
 * Releases `lock` as a release store (under tso and pso; with `rmw`, a release RMW, under pso only)
 * or at once: `free` runs when the release is visible, recording `cls` on the lock. `read`: a
 * reader's release (several may be pending at once).
 */
function releaseStore(t: Task, lock: Spinlock | rwlock_t | Mutex | RwSemaphore, free: () => void, opts: { rmw?: boolean; read?: boolean } = {}): void {
  const buffered = opts.rmw === true ? releasesWeakly(t) : t.memory.bufferOf(t) !== null;
  let word = words.get(lock);
  if (word === undefined && buffered) words.set(lock, (word = lockWord(lock.name)));
  const read = opts.read === true;
  const visible = () => {
    blindAccess(lock.loc, read ? LS : LX);
    free();
    if (!read) releasing.delete(lock);
    else {
      const p = readReleasing.get(lock);
      const i = p?.indexOf(t) ?? -1;
      if (i >= 0) p!.splice(i, 1);
    }
  };
  if (!buffered || word === undefined || !storeReleaseOf(t, word, visible, `${lock.name} ${read ? "read-" : ""}unlocked`)) {
    visible();
    return;
  }
  if (!read) releasing.set(lock, t);
  else {
    let p = readReleasing.get(lock);
    if (p === undefined) readReleasing.set(lock, (p = []));
    p.push(t);
  }
}

/** spin_trylock(lock): takes the lock if free; true when taken. One step; never waits. */
export function spin_trylock(t: Task, lock: Spinlock, at: Site): Step<boolean> {
  return step(t, at, { fence: true }, () => {
    if (lock.owner !== null) {
      access(lock.loc, R);
      return tryFailed(t, "spin_trylock", lock.name, heldByText(lock.owner));
    }
    access(lock.loc, LX);
    lock.owner = t;
    preempt_disable_region(t, lock.name);
    return tryTook(t, "spin_trylock", lock.name);
  });
}

/**
 * spin_lock_irqsave(lock, flags): disables local interrupts and takes the lock, in one step;
 * returns the saved flags (X86_EFLAGS_IF when interrupts were on) for spin_unlock_irqrestore().
 */
export function spin_lock_irqsave(t: Task, lock: Spinlock, at: Site): Step<number> {
  return acquire(t, at, spinSpec(lock), lock.name, () => {
    const value = irqSave(t);
    return { recursion: spinAcquire(t, lock), value };
  });
}

/** spin_unlock_irqrestore(lock, flags): releases the lock and restores interrupts as `flags` says. One step. */
export function spin_unlock_irqrestore(t: Task, lock: Spinlock, flags: number, at: Site): Step {
  return step(t, at, {}, () => {
    spinRelease(t, lock);
    irqRestore(t, flags);
  });
}

/** spin_lock_irq(lock): disables local interrupts and takes the lock. One step. */
export function spin_lock_irq(t: Task, lock: Spinlock, at: Site): Step {
  return acquire(t, at, spinSpec(lock), lock.name, () => {
    irqDisable(t);
    return { recursion: spinAcquire(t, lock), value: undefined };
  });
}

/** spin_unlock_irq(lock): releases the lock and enables local interrupts. One step. */
export function spin_unlock_irq(t: Task, lock: Spinlock, at: Site): Step {
  return step(t, at, {}, () => {
    spinRelease(t, lock);
    irqEnable(t);
  });
}

/**
 * lockdep_assert_held(lock) inside a step: a `warning` (`lockdep_assert_held(<name>) failed:
 * <thread> does not hold it`) when the thread does not hold `lock` (in any mode). No access.
 */
export function lockdep_assert_held(t: Task, lock: Spinlock | Mutex | RwSemaphore | rwlock_t): void {
  const held = lock.holdMode(t) > 0;
  if (!held) t.warn(`lockdep_assert_held(${lock.name}) failed: ${t.name} does not hold it`);
}

// ---- rwlock_t --------------------------------------------------------------------------------

/** rwlock_t: a spinning reader-writer lock (one writer, or any number of readers). */
export class rwlock_t implements Waitable, Holdable {
  /** The lock's location (see engine/access.ts): lock and unlock operations record an access of it (LX, or LS for read locks). */
  readonly loc: number;
  /** The thread holding it for write, or null. */
  writer: Task | null = null;
  /** The threads holding it for read, in the order they took it. */
  readonly readers: Task[] = [];
  constructor(
    /** Name in traces, findings and state tables, e.g. `ei->i_data_sem`. */
    readonly name: string,
  ) {
    this.loc = newLoc(name, this);
  }
  /** Holdable: 2 when `t` holds it for write, 1 for read (0 once its release is on the way). */
  holdMode(t: Task): number {
    if (this.writer === t) return releasing.get(this) !== t ? 2 : 0;
    return this.readers.includes(t) && !readReleasePending(this, t) ? 1 : 0;
  }
  canProceed(t: Task, mode: number): boolean {
    if (ownReleasePending(this, t)) return false;
    if (this.writer === t || (mode === EXCLUSIVE && this.readers.includes(t))) return true;
    return this.writer === null && (mode === SHARED || this.readers.length === 0);
  }
  /** Waitable: read_lock is a shared (LS), write_lock an exclusive (LX) operation. */
  waited(_t: Task, mode: number): void {
    access(this.loc, mode === SHARED ? LS : LX);
  }
  /** Holders, for display: `"write: T"`, `"read: A, B"` or `"free"`. */
  describe(): string {
    if (this.writer) return `write: ${this.writer.name}`;
    return this.readers.length > 0 ? `read: ${this.readers.map((r) => r.name).join(", ")}` : "free";
  }
}

/** DEFINE_RWLOCK(name): a new, unlocked rwlock (create in setup()). */
export function DEFINE_RWLOCK(name: string): rwlock_t {
  return new rwlock_t(name);
}

const readerOf = (lock: rwlock_t) => `${lock.name} (read)`;

/**
 * read_lock(lock): one step that runs once no writer holds the lock; atomic context until
 * read_unlock(). Read-after-read by one thread is a lockdep `warning` (see the file comment).
 * Not modeled: a process-context reader of a qrwlock waits behind a waiting writer; here a reader
 * gets in whenever no writer holds the lock.
 */
export function read_lock(t: Task, lock: rwlock_t, at: Site): Step {
  return acquire(t, at, { waitFor: lock, mode: SHARED, fence: true }, lock.name, () => {
    if (lock.writer === t) return { recursion: `BUG: rwlock recursion on ${t.name}: lock: ${lock.name}, .owner: ${t.name}`, value: undefined };
    if (lock.readers.includes(t)) t.warn(recursive(t, lock.name));
    lock.readers.push(t);
    preempt_disable_region(t, readerOf(lock));
    return { recursion: null, value: undefined };
  });
}

/** read_unlock(lock). One step; lockdep's bad unlock balance when the thread is not a reader. */
export function read_unlock(t: Task, lock: rwlock_t, at: Site): Step {
  return step(t, at, { fence: !releasesWeakly(t) }, () => {
    if (!lock.readers.includes(t) || readReleasePending(lock, t)) {
      blindAccess(lock.loc, LS);
      lockBug(t, unbalanced(t, lock.name));
    }
    preempt_enable_region(t, readerOf(lock));
    releaseStore(t, lock, () => lock.readers.splice(lock.readers.indexOf(t), 1), { rmw: true, read: true });
  });
}

/** write_lock(lock): one step that runs once the lock is free; atomic context until write_unlock(). */
export function write_lock(t: Task, lock: rwlock_t, at: Site): Step {
  return acquire(t, at, { waitFor: lock, mode: EXCLUSIVE, fence: true }, lock.name, () => {
    if (lock.writer === t || lock.readers.includes(t))
      return { recursion: `BUG: rwlock recursion on ${t.name}: lock: ${lock.name}, .owner: ${t.name}`, value: undefined };
    lock.writer = t;
    preempt_disable_region(t, lock.name);
    return { recursion: null, value: undefined };
  });
}

/** write_unlock(lock). One step; `BUG: rwlock wrong owner` when another thread (or none) holds it. */
export function write_unlock(t: Task, lock: rwlock_t, at: Site): Step {
  return step(t, at, {}, () => {
    if (lock.writer !== t || releasing.get(lock) === t) {
      blindAccess(lock.loc, LX);
      lockBug(t, `BUG: rwlock wrong owner on ${t.name}: lock: ${lock.name}, .owner: ${releasing.get(lock) === t ? "<none>" : (lock.writer?.name ?? "<none>")}`);
    }
    preempt_enable_region(t, lock.name);
    releaseStore(t, lock, () => {
      lock.writer = null;
    });
  });
}

// ---- struct rw_semaphore ---------------------------------------------------------------------

/** struct rw_semaphore: a writer, or any number of readers. */
export class RwSemaphore implements Waitable, Holdable {
  /** The lock's location (see engine/access.ts): lock and unlock operations record an access of it (LX, or LS for read locks). */
  readonly loc: number;
  /** The thread holding it for write (down_write), or null. */
  writer: Task | null = null;
  /** The threads holding it for read (down_read), in the order they took it. */
  readonly readers: Task[] = [];
  constructor(
    /** Name in traces, findings and state tables, e.g. `ei->i_data_sem`. */
    readonly name: string,
  ) {
    this.loc = newLoc(name, this);
  }
  /** Holdable: 2 when `t` holds it for write, 1 for read (0 once its release is on the way, under pso). */
  holdMode(t: Task): number {
    if (this.writer === t) return releasing.get(this) !== t ? 2 : 0;
    return this.readers.includes(t) && !readReleasePending(this, t) ? 1 : 0;
  }
  /** Free for `mode`, or held by `t` itself (so the recursion is reported). */
  canProceed(t: Task, mode: number): boolean {
    if (ownReleasePending(this, t)) return false;
    if (this.writer === t || this.readers.includes(t)) return true;
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

/** struct rw_semaphore, as the kernel spells it. */
export { RwSemaphore as rw_semaphore };

/** DECLARE_RWSEM(name): a new, free rw_semaphore (create in setup()). */
export function DECLARE_RWSEM(name: string): RwSemaphore {
  return new RwSemaphore(name);
}

/**
 * down_read(): may sleep; one step that runs once no writer holds the semaphore. Not modeled: the
 * kernel's rwsem queues a new reader behind a waiting writer (RWSEM_FLAG_WAITERS, handoff); here
 * a reader gets in whenever no writer holds it. So a thread that takes it for read twice with a
 * down_write() queued in between, which deadlocks in the kernel, is not a deadlock finding here:
 * the second down_read() is lockdep's recursive-locking `warning` (a failing verdict) instead.
 */
export function down_read(t: Task, sem: RwSemaphore, at: Site): Step {
  return acquire(t, at, { waitFor: sem, mode: SHARED, sleeps: true, fence: true }, sem.name, () => {
    if (sem.writer === t) return { recursion: recursive(t, sem.name), value: undefined };
    if (sem.readers.includes(t)) t.warn(recursive(t, sem.name));
    sem.readers.push(t);
    return { recursion: null, value: undefined };
  });
}

/**
 * up_read(). One step; for a semaphore embedded in a freeable struct, the last reader's
 * rwsem_wake() is a second step when another thread is at an acquire (see "Unlock after release").
 */
export function up_read(t: Task, sem: RwSemaphore, at: Site): Step {
  return unlock(
    t,
    sem,
    at,
    () => {
      if (!sem.readers.includes(t) || readReleasePending(sem, t)) {
        blindAccess(sem.loc, LS);
        lockBug(t, unbalanced(t, sem.name));
      }
      const last = sem.readers.filter((r) => !readReleasePending(sem, r)).length === 1;
      releaseStore(t, sem, () => sem.readers.splice(sem.readers.indexOf(t), 1), { rmw: true, read: true });
      return last && contended(t, sem);
    },
    "rwsem_wake()",
  );
}

/** down_write(): may sleep; one step that runs once the semaphore is free. */
export function down_write(t: Task, sem: RwSemaphore, at: Site): Step {
  return acquire(t, at, { waitFor: sem, mode: EXCLUSIVE, sleeps: true, fence: true }, sem.name, () => {
    if (sem.writer === t || sem.readers.includes(t)) return { recursion: recursive(t, sem.name), value: undefined };
    sem.writer = t;
    return { recursion: null, value: undefined };
  });
}

/**
 * up_write(). One step; for a semaphore embedded in a freeable struct, rwsem_wake() is a second
 * step when another thread is at an acquire (see "Unlock after release").
 */
export function up_write(t: Task, sem: RwSemaphore, at: Site): Step {
  return unlock(
    t,
    sem,
    at,
    () => {
      if (sem.writer !== t || releasing.get(sem) === t) {
        blindAccess(sem.loc, LX);
        lockBug(t, unbalanced(t, sem.name));
      }
      releaseStore(t, sem, () => void (sem.writer = null), { rmw: true });
      return contended(t, sem);
    },
    "rwsem_wake()",
  );
}

/** down_read_trylock(): true when it took the semaphore for read (no writer holds it). One step; never sleeps. */
export function down_read_trylock(t: Task, sem: RwSemaphore, at: Site): Step<boolean> {
  return step(t, at, { fence: true }, () => {
    if (sem.writer !== null) {
      access(sem.loc, R);
      return tryFailed(t, "down_read_trylock", sem.name, `held for write by ${sem.writer.name}`);
    }
    access(sem.loc, LS);
    sem.readers.push(t);
    return tryTook(t, "down_read_trylock", sem.name);
  });
}

/** down_write_trylock(): true when it took the semaphore for write (it was free). One step; never sleeps. */
export function down_write_trylock(t: Task, sem: RwSemaphore, at: Site): Step<boolean> {
  return step(t, at, { fence: true }, () => {
    if (sem.writer !== null || sem.readers.length > 0) {
      access(sem.loc, R);
      return tryFailed(t, "down_write_trylock", sem.name, sem.writer !== null ? `held for write by ${sem.writer.name}` : `held for read by ${sem.readers.map((r) => r.name).join(", ")}`);
    }
    access(sem.loc, LX);
    sem.writer = t;
    return tryTook(t, "down_write_trylock", sem.name);
  });
}

// ---- struct mutex ----------------------------------------------------------------------------

/** struct mutex. `owner` is the holding thread, or null (read it through the functions). */
export class Mutex implements Waitable, Holdable {
  /** The lock's location (see engine/access.ts): lock and unlock operations record an access of it (LX, or LS for read locks). */
  readonly loc: number;
  /** The holding thread, or null when free. */
  owner: Task | null = null;
  constructor(
    /** Name in traces, findings and state tables, e.g. `ei->i_data_sem`. */
    readonly name: string,
  ) {
    this.loc = newLoc(name, this);
  }
  /** Holdable: 2 when `t` holds it (0 once its release is on the way, under pso). */
  holdMode(t: Task): number {
    return this.owner === t && releasing.get(this) !== t ? 2 : 0;
  }
  /** Free, or held by `t` itself (so the recursion is reported); not while `t`'s own release is buffered. */
  canProceed(t: Task): boolean {
    return this.owner === null || (this.owner === t && releasing.get(this) !== t);
  }
  /** Waitable: the acquire is an exclusive operation on the lock. */
  waited(): void {
    access(this.loc, LX);
  }
  /** `held by <thread>` or `free`, without recording an access (state tables). */
  describe(): string {
    return this.owner === null ? "free" : `held by ${this.owner.name}`;
  }
}

/** struct mutex, as the kernel spells it. */
export { Mutex as mutex };

/** DEFINE_MUTEX(name): a new, unlocked mutex (create in setup()). */
export function DEFINE_MUTEX(name: string): Mutex {
  return new Mutex(name);
}

/** mutex_lock(): may sleep; one step that runs once the mutex is free. */
export function mutex_lock(t: Task, m: Mutex, at: Site): Step {
  return acquire(t, at, { waitFor: m, mode: EXCLUSIVE, sleeps: true, fence: true }, m.name, () => {
    if (m.owner === t) return { recursion: recursive(t, m.name), value: undefined };
    m.owner = t;
    return { recursion: null, value: undefined };
  });
}

/**
 * mutex_unlock(). One step; for a mutex embedded in a freeable struct, __mutex_unlock_slowpath()'s
 * wake-up is a second step when another thread is at an acquire: the unlocker still reads the
 * mutex after another thread could take it, drop the last reference and kfree() the struct (a
 * use-after-free; see "Unlock after release").
 */
export function mutex_unlock(t: Task, m: Mutex, at: Site): Step {
  return unlock(
    t,
    m,
    at,
    () => {
      if (m.owner !== t || releasing.get(m) === t) {
        blindAccess(m.loc, LX);
        lockBug(t, unbalanced(t, m.name));
      }
      releaseStore(t, m, () => void (m.owner = null), { rmw: true });
      return contended(t, m);
    },
    "__mutex_unlock_slowpath()",
  );
}

/** mutex_trylock(): true when it took the mutex (it was free). One step; never sleeps. */
export function mutex_trylock(t: Task, m: Mutex, at: Site): Step<boolean> {
  return step(t, at, { fence: true }, () => {
    if (m.owner !== null) {
      access(m.loc, R);
      return tryFailed(t, "mutex_trylock", m.name, heldByText(m.owner));
    }
    access(m.loc, LX);
    m.owner = t;
    return tryTook(t, "mutex_trylock", m.name);
  });
}

/** `held by path_ab` (`held by itself` for the trying thread). */
const heldByText = (owner: Task): string => `held by ${owner.name}`;

// racelab objects record their own accesses (see engine/track.ts).
selfTracked(Spinlock, RwSemaphore, Mutex, rwlock_t);
