/**
 * Shared memory for kernel models: the `Cell`s of src/engine/memory.ts with their loads, stores
 * and barriers, plus the fully ordered exchanges `xchg()` / `cmpxchg()` and the helpers the rest
 * of src/linux/ builds its primitives from.
 *
 * Ordering follows Documentation/atomic_t.txt and Documentation/memory-barriers.txt (v6.12):
 * value-returning read-modify-write operations (`xchg`, `cmpxchg`, `atomic_add_return`,
 * `test_and_set_bit`, ...) are fully ordered; non-value-returning ones (`atomic_inc`, `set_bit`)
 * are unordered; `_acquire` / `_release` / `_lock` / `_unlock` variants order one side. In
 * racelab's memory models (memory.ts) a full barrier is a step that runs once the thread's store
 * buffer is empty; an unordered RMW acts on memory directly once the thread's own buffered stores
 * to that location are visible (so it never overtakes them), and may become visible before the
 * thread's earlier stores to other locations, as the kernel allows. Loads are never reordered in
 * these models, so acquire adds nothing to a plain load. Under `tso` (x86) every atomic RMW is a
 * locked instruction, a full barrier: unordered RMWs, set_bit() and clear_bit() included wait for
 * the thread's whole store buffer there; under `pso` they wait only for the thread's own stores to
 * the same location, and set_bit()/clear_bit() are stores that may be buffered.
 *
 * Left out (as in memory.ts): load reordering and load buffering; a failed `cmpxchg()` is modeled
 * fully ordered although the kernel gives it no ordering (stronger, never weaker).
 */
import { access, R, W } from "../engine/access.js";
import { atomic_rmw, type Cell, smp_mb } from "../engine/memory.js";
import { deriveSite, type Site } from "../engine/site.js";
import { step, type Task, type Waitable } from "../engine/task.js";
import { selfTracked, untracked } from "../engine/track.js";

export {
  Cell,
  load,
  store,
  READ_ONCE,
  WRITE_ONCE,
  smp_load_acquire,
  smp_store_release,
  smp_mb,
  smp_wmb,
  smp_rmb,
  rcu_dereference,
  rcu_assign_pointer,
  atomic_rmw,
} from "../engine/memory.js";

/** What a primitive returns: the generator of its steps, run with `yield*`; `T` is the C return value. */
export type Step<T = void> = Generator<Site, T, undefined>;

/**
 * smp_mb__before_atomic(): a full barrier before an unordered atomic (include/asm-generic/barrier.h,
 * v6.12). Here a step of its own that runs once every earlier store of the thread is visible.
 */
export const smp_mb__before_atomic: (t: Task, at: Site) => Step = smp_mb;

/**
 * smp_mb__after_atomic(): a full barrier after an unordered atomic (`clear_bit(); smp_mb__after_atomic();
 * wake_up_bit()`), include/asm-generic/barrier.h (v6.12). A step of its own, like smp_mb().
 */
export const smp_mb__after_atomic: (t: Task, at: Site) => Step = smp_mb;

/**
 * smp_mb__after_spinlock(): a full barrier after a lock acquire (include/linux/spinlock.h, v6.12:
 * it "must guarantee a STORE before the spin_lock() is ordered against a LOAD after it"; a no-op
 * on x86, smp_mb() on arm64, powerpc and riscv). An acquire alone is an ACQUIRE under pso and rmo
 * (locks.ts), so this is what orders a store before `spin_lock()` against the critical section's
 * loads there. A step of its own, like smp_mb().
 */
export const smp_mb__after_spinlock: (t: Task, at: Site) => Step = smp_mb;

/**
 * The value the thread would load from `cell` now (its own latest buffered store, else memory),
 * without recording an access: for `Waitable.canProceed()`, which must not record. The waiting
 * step's `waited()` then records the read with `load()`.
 */
export function peek<T>(t: Task, cell: Cell<T>): T {
  const buf = t.memory.bufferOf(t);
  if (buf !== null)
    for (let i = buf.entries.length - 1; i >= 0; i--) if (buf.entries[i]!.cell === cell) return buf.entries[i]!.value as T;
  return cell.peek();
}

/**
 * True when the thread runs under `tso`, where atomic RMWs are locked instructions (full barriers)
 * and set_bit()/clear_bit() are not buffered.
 */
export function lockedAtomics(t: Task): boolean {
  return t.memory.bufferOf(t)?.model === "tso";
}

/**
 * True when an atomic RMW of `cell` by the thread must wait for its store buffer: under tso while
 * any store is buffered, under pso while a store to `cell` is (always false under sc).
 */
export function hasBufferedStore(t: Task, cell: Cell<unknown>): boolean {
  const buf = t.memory.bufferOf(t);
  if (buf === null) return false;
  return buf.model === "tso" ? buf.entries.length > 0 : buf.entries.some((e) => e.cell === cell);
}

/**
 * Waitable of an unordered read-modify-write: the step may run once the thread's buffered stores
 * it must not overtake are visible: all of them under tso (a locked instruction), those to the
 * same cell under pso, none under sc. Its wait reads what it looked at (the buffer's drain
 * location, or its entries for the cell), which only the thread itself and its store-buffer
 * daemon change.
 */
export class OwnStoresVisible implements Waitable {
  readonly name: string;
  constructor(
    /** The cell whose buffered stores the wait is for. */
    readonly cell: Cell<unknown>,
  ) {
    this.name = `the thread's buffered stores to ${cell.name} to become visible`;
  }
  canProceed(t: Task): boolean {
    return !hasBufferedStore(t, this.cell);
  }
  waited(t: Task): void {
    const buf = t.memory.bufferOf(t);
    if (buf !== null) access(buf.model === "tso" ? buf.loc : buf.cellLoc(this.cell), R);
  }
}

/**
 * An unordered (relaxed) read-modify-write on memory inside a step that waited on the cell's
 * {@link OwnStoresVisible}: records `cls` on the cell (W, or ADD for an add whose result is not
 * used) and returns the old value. Throws Error when the thread still buffers a store to the cell
 * (the step forgot to wait): a modeling mistake.
 */
export function rmw_relaxed<T>(t: Task, cell: Cell<T>, update: (old: T) => T, cls: number = W): T {
  if (hasBufferedStore(t, cell))
    throw new Error(`relaxed atomic on ${cell.name} by ${t.name} with a store to it still buffered: wait on OwnStoresVisible first`);
  access(cell.loc, cls);
  const old = cell.peek();
  cell.poke(update(old));
  return old;
}

/**
 * xchg(ptr, new): stores `v` and returns the old value, fully ordered (Documentation/atomic_t.txt,
 * include/linux/atomic/atomic-instrumented.h, v6.12). One step, run once the thread's earlier
 * stores are visible. An object stored is published (named) like a WRITE_ONCE() of it.
 */
export function xchg<T>(t: Task, cell: Cell<T>, v: T, at: Site): Step<T> {
  return step(t, at, { fence: true }, () => {
    const nv = untracked(v);
    t.memory.published(nv);
    return t.memory.wrap(atomic_rmw(t, cell, () => nv));
  });
}

/**
 * cmpxchg(ptr, old, new): stores `nv` if the cell holds `old` (compared by identity), and returns
 * the value it held; success is `returned === old`. Fully ordered (a failed cmpxchg is unordered
 * in the kernel; stronger here). One step.
 */
export function cmpxchg<T>(t: Task, cell: Cell<T>, old: T, nv: T, at: Site): Step<T> {
  return step(t, at, { fence: true }, () => {
    const o = untracked(old);
    const n = untracked(nv);
    const prev = atomic_rmw(t, cell, (cur) => (cur === o ? n : cur));
    if (prev === o) t.memory.published(n);
    return t.memory.wrap(prev);
  });
}

/**
 * try_cmpxchg(ptr, &old, new): like cmpxchg() but returns success; on failure the C updates
 * `*old` with the value found, here returned as `found`.
 */
export function try_cmpxchg<T>(
  t: Task,
  cell: Cell<T>,
  old: T,
  nv: T,
  at: Site,
): Step<{
  /** True when the cell held `old` and now holds the new value. */
  ok: boolean;
  /** The value the cell held (`old` on success). */
  found: T
}> {
  return step(t, at, { fence: true }, () => {
    const o = untracked(old);
    const n = untracked(nv);
    const prev = atomic_rmw(t, cell, (cur) => (cur === o ? n : cur));
    if (prev === o) t.memory.published(n);
    return { ok: prev === o, found: t.memory.wrap(prev) };
  });
}

const derived = new WeakMap<Site, Map<string, Site>>();

/**
 * A site for one step of a multi-step primitive (wait_event(), synchronize_rcu()), derived from
 * the caller's site: same function and source, label `<caller's label>: <what>`. Cached, so a
 * primitive allocates no site per step.
 */
export function subSite(at: Site, what: string): Site {
  let m = derived.get(at);
  if (m === undefined) derived.set(at, (m = new Map()));
  let s = m.get(what);
  if (s === undefined) {
    s = Object.freeze({
      fn: at.fn,
      label: `${at.label}: ${what}`,
      source: at.source,
      version: at.version,
      ...(at.note !== undefined ? { note: at.note } : {}),
    });
    m.set(what, s);
    deriveSite(s, at);
  }
  return s;
}

const warned = new WeakMap<object, Set<string>>();

/**
 * WARN_ONCE(): a `warning` finding the first time `key` fires in this execution (the kernel's
 * once-per-boot flag is one per call site). Call inside a step.
 */
export function warn_once(t: Task, key: string, message: string): void {
  let s = warned.get(t.memory);
  if (s === undefined) warned.set(t.memory, (s = new Set()));
  if (s.has(key)) return;
  s.add(key);
  t.warn(message);
}

// racelab objects record their own accesses (see engine/track.ts).
selfTracked(OwnStoresVisible);

/**
 * A trylock that failed, in the trace: the race diagram's `-> mutex_trylock() = 0: B held by
 * path_ba` under the step (new-user trial 21 had to infer it from the back-off after it). Call it
 * inside the step of a trylock primitive of your own (`return tryFailed(t, "my_trylock", l.name,
 * "held by " + owner.name)`); returns false. Free when not tracing.
 */
export function tryFailed(t: Task, fn: string, lock: string, why: string): false {
  t.say(() => `${fn}() = 0: ${lock} ${why}`);
  return false;
}

/** A trylock that took its lock, in the trace (`-> mutex_trylock() = 1: took B`); see {@link tryFailed}. Returns true. */
export function tryTook(t: Task, fn: string, lock: string): true {
  t.say(() => `${fn}() = 1: took ${lock}`);
  return true;
}
