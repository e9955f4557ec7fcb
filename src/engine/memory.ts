/**
 * Memory models: `sc` (sequential consistency, the default), and three store-buffer models in which
 * a CPU's stores become visible to the other CPUs later than they execute:
 *
 * - `tso`: each CPU's stores become visible in program order (one FIFO store buffer per CPU, as on
 *   x86); a CPU reads its own latest buffered store (store forwarding).
 * - `pso`: stores to different locations may become visible in any order, unless separated by a
 *   barrier (`smp_wmb()`, or the release of `smp_store_release()` / `rcu_assign_pointer()`); stores
 *   to one location stay in order.
 *
 * Each CPU's buffer is drained by a daemon task (named `<thread> store buffer`) whose steps each
 * make one buffered store visible; which store (under pso) is an explicit choice of the scheduler,
 * so exhaustive search covers every order the model allows.
 *
 * Kernel primitives (tools/memory-model/Documentation): `WRITE_ONCE`/`READ_ONCE` are plain stores
 * and loads here; `smp_store_release`/`rcu_assign_pointer` order every earlier store before the
 * store; `smp_wmb` orders earlier stores before later ones; `smp_mb`, lock acquires, the
 * unlocks of mutexes, rw_semaphores and read_unlock(), and value-returning atomics wait until the
 * CPU's buffer is empty (full ordering); spin_unlock() and write_unlock() are release stores into
 * the buffer ({@link storeReleaseOf}). Stores that act on
 * memory directly (relaxed atomic RMWs, racelab objects such as a `Counter` or a `list_head`'s
 * links, a Cell's `value` setter) first make visible the buffered stores they may not overtake
 * ({@link beforeDirectWrite}); plain fields a model writes itself do not (they are sequentially
 * consistent and may hold thread-local results).
 *
 * - `rmo`: `pso` plus load reordering through per-CPU invalidate queues (Documentation/
 *   memory-barriers.txt): when a `Cell` store becomes visible, every other running CPU may go on
 *   reading the value before it until it applies the invalidation ({@link invalidate}); the CPU's
 *   daemon applies them one at a time in any order, and smp_rmb(), acquires, full barriers and
 *   pointer (address-dependent) loads apply them all ({@link applyInvalidations}).
 *
 * Limitations (the model is stronger than the kernel's LKMM, never weaker, as the litmus tests in
 * test/memory-model.test.ts check; one exception under rmo: a load whose address depends on an
 * earlier load through a number is not ordered after it): under sc, tso and pso loads are never
 * reordered, so `smp_rmb`, `smp_load_acquire` and `rcu_dereference` add nothing there, and
 * outcomes that need load reordering (MP+wmbonceonce+poonceonces; under tso also MP+poonceonces)
 * are reached only under rmo; load buffering (LB+poonceonces) under none; under rmo only `Cell`
 * stores that go through a store buffer are read stale; stores are multi-copy atomic (a store becomes visible to
 * all other CPUs at once); lock acquires are full barriers; stores that act on memory directly
 * (plain fields, list links, relaxed RMWs under pso, a Counter) are never delayed, so store
 * buffering between two of them and later loads is not reached.
 */
import { access, AUTO_LOC_BASE, blindAccess, newLoc, R, W } from "./access.js";
import type { Site } from "./site.js";
import type { Task, Waitable } from "./task.js";
import { holdsValues, isSelfTracked, selfTracked, untracked } from "./track.js";

/**
 * A memory model (see the module comment): `sc` sequential consistency, `tso` one FIFO store
 * buffer per CPU (x86-TSO), `pso` partial store order (stores to different locations may become
 * visible out of order unless a barrier separates them), `rmo` relaxed memory order (`pso`, and a
 * CPU's loads may read a value from before another CPU's store until it applies the store's
 * invalidation: loads reordered unless smp_rmb(), an acquire or an address dependency orders them).
 */
export type MemoryModel = "sc" | "tso" | "pso" | "rmo";
/** Every {@link MemoryModel}, strongest first. */
export const MEMORY_MODELS: readonly MemoryModel[] = ["sc", "tso", "pso", "rmo"];

/** True for the models whose stores to different locations may become visible out of order (`pso`, `rmo`). */
export function reordersStores(model: MemoryModel): boolean {
  return model === "pso" || model === "rmo";
}

/**
 * A shared memory location holding a value; stores to it may be buffered. Access it with
 * `load`/`store` (READ_ONCE/WRITE_ONCE, ...) inside steps. Reading or writing `value` directly
 * inside a step is recorded too (a read or write of memory, bypassing the thread's store buffer),
 * so it can never hide a race from the reduction; outside steps (display, setup) it records nothing.
 */
export class Cell<T> {
  /** The cell's location (see access.ts), allocated when the cell is created. */
  readonly loc: number;
  private v: T;
  constructor(
    /** Name in traces, state tables and store-buffer rows, e.g. `folio@1498.index`. */
    readonly name: string,
    initial: T,
  ) {
    this.loc = autoCellLoc ?? newLoc(name, this);
    this.v = initial;
  }
  /** The value in memory (what other CPUs see). */
  get value(): T {
    access(this.loc, R);
    return this.v;
  }
  /**
   * Writes memory directly (bypassing the thread's store buffer); inside a step it records a write,
   * after the thread's buffered stores that it may not overtake became visible (see
   * {@link beforeDirectWrite}).
   */
  set value(v: T) {
    access(this.loc, W);
    this.v = v;
  }
  /** The value in memory without recording an access (display, end checks). */
  peek(): T {
    return this.v;
  }
  /**
   * Sets the value in memory without recording an access: for primitives that record their own,
   * finer access class (an atomic add records ADD so that adds commute; src/linux/shared.ts).
   */
  poke(v: T): void {
    this.v = v;
  }
}

/** The location {@link autoCell} is making a Cell at, else null. */
let autoCellLoc: number | null = null;

/**
 * A {@link Cell} at a location made with `autoLoc()`, for kernel state a primitive creates
 * lazily, inside a step, where `new Cell()` (which allocates a location with `newLoc()`) is not
 * allowed: a thread's `__state` (src/linux/sched.ts). Its stores are buffered under tso/pso like
 * any Cell's. Give the location a value function (`setAutoLocValue(loc, () => cell.peek())`) so
 * that state caching can hash it. Throws RangeError when `loc` is not an `autoLoc()` location.
 */
export function autoCell<T>(name: string, initial: T, loc: number): Cell<T> {
  if (!(loc >= AUTO_LOC_BASE)) throw new RangeError(`autoCell(${name}): location ${loc} is not an autoLoc() location`);
  autoCellLoc = loc;
  try {
    return new Cell(name, initial);
  } finally {
    autoCellLoc = null;
  }
}

interface Pending {
  readonly cell: Cell<unknown>;
  readonly value: unknown;
  readonly epoch: number;
  readonly text: string;
  /** A lock release made visible ({@link storeReleaseOf}): what it does to the lock then. */
  readonly onVisible?: () => void;
  /** The site of the step that made the store (null outside a step). */
  readonly site: Site | null;
}

/**
 * A store of another CPU that has become visible but whose invalidation this CPU has not applied
 * yet (`rmo`): until it does, the CPU's loads of `cell` read `value`, the value before.
 */
export interface Stale {
  /** The cell another CPU stored to. */
  readonly cell: Cell<unknown>;
  /** The value before that store: what this CPU's loads of the cell read until it applies the invalidation. */
  readonly value: unknown;
  /** `<cell> = <value>`, for traces. */
  readonly text: string;
}

/**
 * Virtual locations of the store buffers, for the reduction: a buffer is not one location but one
 * per (buffer, cell) — so appending a store to one cell and making a store to another cell
 * visible commute — plus an epoch location (barriers) and a drain location (written by every
 * flush, read by full barriers); under `rmo` also one per (buffer, cell) for the CPU's pending
 * invalidations and one for applying them all. They are numbers above every allocated location:
 * buffer `i`'s lie in `[VBASE + (i + 1) * VSTRIDE - 4, VBASE + (i + 2) * VSTRIDE - 4)`.
 */
/** @internal */
export const VBASE = 1 << 22;
/** Size of one buffer's range of virtual locations. @internal */
export const VSTRIDE = 1 << 18;
/** Offset of the invalidation slots in a buffer's range (cells take the half below). */
const HALF = VSTRIDE / 2;

/**
 * The index of the store buffer whose range holds virtual location `loc` (>= VBASE).
 * @internal
 */
export function bufferIndexOf(loc: number): number {
  return Math.floor((loc - VBASE + 4) / VSTRIDE) - 1;
}
/** Slots of a buffer's range for cells at `autoLoc()` locations (see StoreBuffer.cellLoc). */
const AUTO_CELL_SLOTS = 1024;

/** One CPU's store buffer. */
export class StoreBuffer implements Waitable {
  /** Drain location: every flush writes it; a full barrier (which needs an empty buffer) reads it. */
  readonly loc: number;
  /** Epoch location: smp_wmb and release stores write it, stores read it. */
  readonly epochLoc: number;
  /**
   * Tail location, recorded only under pso while {@link setChoiceDependencies} is on (DPOR): a
   * store writes it, a flush reads it, because a store can add an alternative to the flush's
   * choice of which store becomes visible.
   */
  readonly tailLoc: number;
  /** `<thread> store buffer`: the name of the daemon task that drains it. */
  readonly name: string;
  /** The stores not yet visible to other CPUs, oldest first. */
  readonly entries: Pending[] = [];
  /** Barrier epoch: a store may become visible only after every store of an earlier epoch. */
  epoch = 0;
  /**
   * `rmo`: other CPUs' stores that became visible and whose invalidations this CPU has not
   * applied, oldest first, at most one per cell; the CPU's loads of such a cell read the value
   * before. The buffer's daemon applies them one at a time, in any order; smp_rmb(), acquires and
   * full barriers apply them all. Always empty under the other models.
   */
  readonly stale: Stale[] = [];
  /**
   * The site of the step that made the store the daemon's last step made visible (null: the
   * step applied an invalidation, or the store was made outside a step). The execution asks it
   * to tell whether that step was its CPU's progress (see Task.retry).
   */
  lastFlushedSite: Site | null = null;
  /** `rmo`: location written when the CPU applies all its invalidations and by every new one; its daemon reads it. */
  readonly applyLoc: number;
  private readonly base: number;
  constructor(
    /** Name of the thread (CPU) whose stores it holds. */
    readonly owner: string,
    /** `tso` (drains in order), `pso` or `rmo` (drain any store not held back by a barrier). */
    readonly model: MemoryModel,
    /** The thread's index (its buffer's position in the execution's buffers). */
    readonly index: number,
  ) {
    this.name = `${owner} store buffer`;
    this.base = VBASE + (index + 1) * VSTRIDE;
    this.loc = this.base - 1;
    this.epochLoc = this.base - 2;
    this.tailLoc = this.base - 3;
    this.applyLoc = this.base - 4;
  }
  /**
   * The virtual location of this buffer's entries for one cell. A cell at an `autoLoc()` location
   * ({@link autoCell}) takes one of the top 1,024 slots of the buffer's range,
   * by its location modulo their number: two such cells may share a slot, which only makes their
   * stores dependent (never hides a conflict).
   */
  cellLoc(cell: { readonly loc: number }): number {
    const l = cell.loc;
    if (l >= AUTO_LOC_BASE) return this.base + HALF - 5 - ((l - AUTO_LOC_BASE) % AUTO_CELL_SLOTS);
    if (l >= HALF - 5 - AUTO_CELL_SLOTS) throw new Error(`store buffers support locations below ${HALF - 5 - AUTO_CELL_SLOTS}`);
    return this.base + l;
  }
  /** `rmo`: the virtual location of this CPU's pending invalidation of `cell` (not an `autoLoc()` cell). */
  staleLoc(cell: { readonly loc: number }): number {
    return this.base + HALF + cell.loc;
  }
  /**
   * `rmo`: the CPU applies every pending invalidation at once; records the apply location and
   * each invalidation applied, and returns how many there were.
   */
  dropStale(): number {
    blindAccess(this.applyLoc, W);
    const n = this.stale.length;
    for (const s of this.stale) blindAccess(this.staleLoc(s.cell), W);
    this.stale.length = 0;
    return n;
  }
  /** The flusher can run when a store is pending or (`rmo`) an invalidation is. */
  canProceed(): boolean {
    return this.entries.length > 0 || this.stale.length > 0;
  }
  /** Waitable: the flush reads the buffer (its step writes it too); under `rmo` also the apply location. */
  waited(): void {
    access(this.loc, R);
    if (this.model === "rmo") access(this.applyLoc, R);
  }
  /**
   * The pending stores, oldest first, as `<cell> = <value>` joined by `; `, with ` | ` between
   * stores separated by a barrier (`smp_wmb()` or a release store: those after it become visible
   * only after those before it); `empty` when nothing is pending. E.g.
   * `folio@1498.index = 1498 | folio@1498.order = 0; folio@1499.index = 1499`.
   */
  describe(): string {
    const stores = this.entries.length === 0 ? "empty" : this.entries.map((e, i) => (i === 0 ? "" : e.epoch !== this.entries[i - 1]!.epoch ? " | " : "; ") + e.text).join("");
    if (this.stale.length === 0) return stores;
    return `${stores}; reads stale: ${this.stale.map((e) => e.text).join("; ")}`;
  }
  /** Indices of the pending stores that may become visible next. */
  eligible(): number[] {
    if (this.entries.length === 0) return [];
    if (this.model === "tso") return [0];
    const e0 = this.entries[0]!.epoch;
    const out: number[] = [];
    this.entries.forEach((e, i) => {
      if (e.epoch !== e0) return;
      for (let j = 0; j < i; j++) if (this.entries[j]!.cell === e.cell) return;
      out.push(i);
    });
    return out;
  }
}

/** What memory primitives need from the execution (implemented by Execution). */
export interface MemoryHost {
  /** The thread's store buffer, or null under `sc`. */
  bufferOf(task: Task): StoreBuffer | null;
  /** Wraps a loaded value so that the thread's accesses to its plain fields are recorded (track.ts). */
  wrap<T>(v: T): T;
  /** Names an object the thread stores into shared memory (track.ts). */
  published(v: unknown): void;
  /** Every CPU's store buffer, by thread index (empty under `sc`). */
  readonly buffers: readonly StoreBuffer[];
  /**
   * Whether thread `i` has finished, recording a read of its exit (`rmo`: a store that becomes
   * visible invalidates only the copies of CPUs whose threads still run).
   */
  threadFinished(i: number): boolean;
  /**
   * The execution's value for `key`, made by `make()` at the first call: state a kernel model
   * keeps per execution (RCU's readers and callbacks), dropped with the execution. (Not a WeakMap
   * keyed by the execution: its entries outlive their executions until a full collection, and every
   * scavenge walks them; filemap-folio-split's relaxed-stores check took 3.6 s that way, 1.8 s now.)
   */
  local<T>(key: object, make: () => T): T;
}

function hostOf(t: Task): MemoryHost {
  return t.memory;
}

let choiceDependencies = false;

/**
 * Makes a pso store and its buffer's flushes dependent (the explorer turns it on for DPOR). A store
 * to one cell and the flush of another commute, but the store may add an alternative to the
 * flush's choice: the sleep-set search explores every alternative at every node and needs no such
 * dependency; DPOR explores a thread's alternatives only where races ask for the thread.
 */
export function setChoiceDependencies(on: boolean): void {
  choiceDependencies = on;
}

let running: Task | null = null;

/** Sets the task whose step is running (the engine calls this around each step). */
export function setRunningTask(t: Task | null): void {
  running = t;
}

/**
 * The task whose step is running, or null outside a step (scenario setup, display). Lets shared
 * objects whose API has no task parameter (the XArray's slots) go through the memory model.
 */
export function runningTask(): Task | null {
  return running;
}

/**
 * A value-returning atomic (atomic_cmpxchg, atomic_add_unless, atomic_inc_return): acts on memory
 * directly. Fully ordered: the step must have waited for an empty store buffer (`t.fence = true`
 * before its `yield`); throws Error otherwise, as that is a modeling mistake.
 */
export function atomic_rmw<T>(t: Task, cell: Cell<T>, update: (old: T) => T): T {
  const buf = hostOf(t).bufferOf(t);
  if (buf !== null && buf.entries.length > 0)
    throw new Error(`atomic on ${cell.name} by ${t.name} with stores still buffered: set t.fence before the step`);
  if (buf !== null) access(buf.loc, R);
  access(cell.loc, W);
  const old = cell.value;
  cell.value = update(old);
  return old;
}

let draining = false;

/**
 * Before a thread writes memory directly, bypassing its store buffer (a Cell's `value` setter, a
 * tracked plain field, a racelab object's own location such as a `list_head`'s links or a
 * `Counter`, a relaxed atomic RMW, `kfree()`): the stores in its buffer that the write may not
 * overtake become visible first, in the same step, as if the buffer's daemon had flushed them
 * just before. Under tso that is every buffered store (x86 makes a CPU's stores visible in
 * program order); under pso those before the thread's last `smp_wmb()` or release store, and
 * those to the written location. Without it a plain store (say `list_add()`'s links after
 * `WRITE_ONCE(c->data, 3); smp_wmb();`) became visible before the buffered one, which neither
 * x86 nor the barrier allows. Each store made visible is a note of the step (`<cell> = <value>
 * becomes visible first`). The step records the buffer's drain location (always, so that its
 * accesses do not depend on what is buffered) and, per store, what a flush records, all unseen by
 * the thread's history (it observes nothing). Installed by the execution under tso and pso.
 */
export function beforeDirectWrite(loc: number): void {
  const t = running;
  // (A finished thread's exit write is no store: its buffered stores stay buffered.)
  if (t === null || t.done || (loc >= VBASE && loc < AUTO_LOC_BASE)) return;
  drainFor(t, loc);
}

/**
 * Inside a step of `t`, before a primitive stores to memory through plain fields (the links
 * `list_add()` and `list_del()` write, src/linux/list.ts): the buffered stores that such a store
 * may not overtake become visible first, as for {@link beforeDirectWrite} (under tso all of
 * them, under pso those before the last `smp_wmb()` or release; with `release`, as for
 * `rcu_assign_pointer()` in `list_add_rcu()`, all of them under pso too). Plain fields a model
 * writes itself stay sequentially consistent and unordered with buffered stores (see the module
 * comment).
 */
export function orderStores(t: Task, release = false): void {
  drainFor(t, -1, release);
}

/** Makes visible the thread's buffered stores a store to `loc` may not overtake; `all`: every one (a release). */
function drainFor(t: Task, loc: number, all = false): void {
  if (draining || t.daemon) return;
  const buf = hostOf(t).bufferOf(t);
  if (buf === null) return;
  draining = true;
  try {
    blindAccess(buf.loc, W);
    const tso = all || buf.model === "tso";
    for (let i = 0; i < buf.entries.length; ) {
      const e = buf.entries[i]!;
      if (!tso && e.epoch === buf.epoch && e.cell.loc !== loc) {
        i++;
        continue;
      }
      buf.entries.splice(i, 1);
      blindAccess(buf.cellLoc(e.cell), W);
      blindAccess(e.cell.loc, W);
      land(t, buf, e, false);
      t.say(() => `${e.text} becomes visible first`);
    }
  } finally {
    draining = false;
  }
}

/** A stored value for store-buffer labels: a plain object by its tracked name (`state.el`). */
function showStored(t: Task, v: unknown): string {
  if (v !== null && typeof v === "object" && (v as object).toString === Object.prototype.toString && !isSelfTracked(v)) {
    const id = t.tracker.idOf(v);
    if (id !== "*") return id.endsWith("->") ? `&${id.slice(0, -2)}` : `&${id}`;
  }
  return show(v);
}

function show(v: unknown): string {
  if (v === null || typeof v !== "object") return String(v);
  if ((v as object).toString !== Object.prototype.toString) return String(v);
  return (v as object).constructor?.name ?? "object";
}

/**
 * A load: the thread's own latest buffered store to `cell` if any; else, under `rmo`, the value
 * before another CPU's store whose invalidation the thread has not applied yet; else memory.
 * Under `rmo` a load that returns an object applies the thread's pending invalidations after it
 * (the address dependency of loads through the pointer, which LKMM orders; see the module comment).
 */
export function load<T>(t: Task, cell: Cell<T>): T {
  const buf = hostOf(t).bufferOf(t);
  if (buf !== null) {
    access(buf.cellLoc(cell), R);
    for (let i = buf.entries.length - 1; i >= 0; i--)
      if (buf.entries[i]!.cell === cell) return hostOf(t).wrap(buf.entries[i]!.value as T);
    if (buf.model === "rmo" && cell.loc < AUTO_LOC_BASE && cell instanceof Cell) {
      access(buf.staleLoc(cell), R);
      for (const s of buf.stale)
        if (s.cell === cell) {
          t.say(() => `reads the stale ${s.text} (the invalidation is pending)`);
          const v = s.value as T;
          if (v !== null && typeof v === "object") applyInvalidations(t);
          return hostOf(t).wrap(v);
        }
    }
  }
  access(cell.loc, R);
  const v = cell.value;
  if (buf !== null && buf.model === "rmo" && v !== null && typeof v === "object") applyInvalidations(t);
  return hostOf(t).wrap(v);
}

/**
 * A load with acquire semantics (smp_load_acquire(), and rcu_dereference() for its address
 * dependency): {@link load}, then, under `rmo`, the thread applies its pending invalidations, so
 * that its later loads are not reordered before it.
 */
export function loadAcquire<T>(t: Task, cell: Cell<T>): T {
  const v = load(t, cell);
  applyInvalidations(t);
  return v;
}

/** A store; buffered under tso/pso. `release` orders all earlier stores before it. */
export function store<T>(t: Task, cell: Cell<T>, value: T, release = false): void {
  value = untracked(value);
  hostOf(t).published(value);
  const buf = hostOf(t).bufferOf(t);
  if (buf === null) {
    access(cell.loc, W);
    cell.value = value;
    return;
  }
  buffer(buf, cell, value, release, `${cell.name} = ${showStored(t, value)}`);
}

/** Appends a store to `buf`, recording what appending it accesses; `onVisible` runs when it becomes visible. */
function buffer(buf: StoreBuffer, cell: Cell<unknown>, value: unknown, release: boolean, text: string, onVisible?: () => void): void {
  access(buf.cellLoc(cell), W);
  if (choiceDependencies && reordersStores(buf.model)) access(buf.tailLoc, W);
  // A release always opens a new epoch (harmless when nothing is buffered), so what the store
  // does never depends on which other stores are still buffered.
  if (release) {
    access(buf.epochLoc, W);
    buf.epoch++;
  } else access(buf.epochLoc, R);
  // (The running task is the buffer's CPU: its pending site is the step making the store.)
  const site = running?.next ?? null;
  buf.entries.push(onVisible === undefined ? { cell, value, epoch: buf.epoch, text, site } : { cell, value, epoch: buf.epoch, text, onVisible, site });
}

/**
 * A lock release as a release store into the thread's store buffer (a spinlock's unlock on x86 is
 * a plain store, `smp_store_release(&lock->locked, 0)` in queued_spin_unlock()): every earlier
 * store becomes visible before it, later loads of the thread may pass it, and the lock is free for
 * the other threads only once it is visible (`onVisible` runs then, in the flush's step, which
 * records what it accesses). `word` is the lock's word as a {@link Cell} (made with
 * {@link autoCell}). Returns false under sc (no buffer): the caller releases at once.
 */
export function storeReleaseOf(t: Task, word: Cell<number>, onVisible: () => void, text: string): boolean {
  const buf = hostOf(t).bufferOf(t);
  if (buf === null) return false;
  buffer(buf, word as Cell<unknown>, 0, true, text, onVisible);
  return true;
}

/** READ_ONCE(). */
export const READ_ONCE = load;
/** WRITE_ONCE(). */
export const WRITE_ONCE = <T>(t: Task, cell: Cell<T>, v: T) => store(t, cell, v);
/** smp_load_acquire(): a load; under `rmo` later loads are not reordered before it ({@link loadAcquire}). */
export const smp_load_acquire = loadAcquire;
/** What rcu_dereference() checks of the thread (src/linux/rcu.ts installs it), or null. */
let rcuDereferenceCheck: ((t: Task, what: string) => void) | null = null;

/**
 * Installs the check rcu_dereference() makes (CONFIG_PROVE_RCU: the thread must be inside
 * rcu_read_lock()); src/linux/rcu.ts does this when it is loaded.
 */
export function setRcuDereferenceCheck(f: ((t: Task, what: string) => void) | null): void {
  rcuDereferenceCheck = f;
}

/**
 * rcu_dereference(p) (include/linux/rcupdate.h, v6.12): READ_ONCE() of the pointer, whose address
 * dependency orders the loads made through it. Here a load-acquire ({@link smp_load_acquire}):
 * under `sc`, `tso` and `pso` loads are never reordered, so it is a plain load; under `rmo` it
 * applies the CPU's pending invalidations, so the loads after it read at least what was visible
 * when the pointer was published (stronger than the kernel: it orders every later load, not only
 * those through the pointer). Outside rcu_read_lock() it is CONFIG_PROVE_RCU's
 * lockdep splat, a `warning: suspicious RCU usage: suspicious rcu_dereference_check() usage`;
 * an updater that holds the lock the pointer is updated under uses
 * {@link rcu_dereference_protected}. Call inside a step.
 */
export function rcu_dereference<T>(t: Task, cell: Cell<T>): T {
  return rcu_dereference_check(t, cell, false);
}

/**
 * rcu_dereference_check(p, c): rcu_dereference() that is also legal where `c` holds (e.g.
 * `lockdep_is_held(&lock)`, in racelab `lock.owner === t`): the same warning when `c` is false
 * outside rcu_read_lock(). Call inside a step.
 */
export function rcu_dereference_check<T>(t: Task, cell: Cell<T>, c: boolean): T {
  if (!c) rcuDereferenceCheck?.(t, "rcu_dereference_check");
  return loadAcquire(t, cell);
}

/**
 * rcu_dereference_protected(p, c): the updater's load of an RCU pointer, legal where `c` holds
 * (the update-side lock is held), inside rcu_read_lock() or not; `c` false is
 * `warning: suspicious RCU usage: suspicious rcu_dereference_protected() usage`. A plain load.
 * Call inside a step.
 */
export function rcu_dereference_protected<T>(t: Task, cell: Cell<T>, c: boolean): T {
  if (!c) t.warn("suspicious RCU usage: suspicious rcu_dereference_protected() usage");
  return load(t, cell);
}
/** smp_store_release(). */
export const smp_store_release = <T>(t: Task, cell: Cell<T>, v: T) => store(t, cell, v, true);
/** rcu_assign_pointer(): smp_store_release() of a pointer. */
export const rcu_assign_pointer = smp_store_release;

/**
 * What smp_wmb() and smp_rmb() return: no step. They take effect where they are called, inside
 * the current step, so `yield* smp_wmb(t)` (written as for smp_mb(), which is a step of its own)
 * does the same as the plain call (new-user trial 16: it threw "yield* ... is not iterable").
 */
export type NoStep = Iterable<never>;
const NO_STEP: NoStep = Object.freeze([]) as readonly never[];

/**
 * smp_wmb(): stores before it become visible before stores after it: buffered stores, and the
 * stores that act on memory directly (a relaxed atomic RMW, a `Counter`, `list_add()`'s links; see
 * {@link beforeDirectWrite}), but not a plain field the model writes itself. Call inside a step;
 * it is no step of its own (it returns an empty iterable, so `yield* smp_wmb(t)` is the same call).
 */
export function smp_wmb(t: Task): NoStep {
  const buf = hostOf(t).bufferOf(t);
  if (buf === null) return NO_STEP;
  // Always a new epoch: the barrier's effect must not depend on which stores are still buffered
  // (a state-dependent access set would break the reduction's equivalence).
  access(buf.epochLoc, W);
  buf.epoch++;
  return NO_STEP;
}

/**
 * smp_rmb(): loads before it are ordered before loads after it. Under `rmo` the thread applies its
 * pending invalidations; the other models never reorder loads (nothing to do). Call inside a step;
 * it is no step of its own (it returns an empty iterable, so `yield* smp_rmb(t)` is the same call).
 */
export function smp_rmb(t: Task): NoStep {
  applyInvalidations(t);
  return NO_STEP;
}

/** smp_mb() as a step of its own: it runs once every earlier store of the thread is visible. */
export function smp_mb(t: Task, at: Site): Generator<Site, void, undefined> {
  return t.made(at, smp_mb_body(t, at));
}

function* smp_mb_body(t: Task, at: Site): Generator<Site, void, undefined> {
  t.started();
  t.fence = true;
  yield at;
}

/**
 * The body of a CPU's store-buffer daemon: each step makes one pending store visible; under pso
 * the scheduler chooses which of the eligible stores. Each step notes which store, as
 * `<cell> = <value> becomes visible` (e.g. `folio@1498.index = 1496 becomes visible`); traces
 * (trace.ts) show that note as the step's label in place of the static site label.
 */
export function* storeBufferDaemon(t: Task, buf: StoreBuffer, at: Site): Generator<Site, void, undefined> {
  for (;;) {
    t.blockOn(buf, 0);
    t.offer(() => Math.max(1, buf.eligible().length + buf.stale.length));
    yield at;
    const eligible = buf.eligible();
    buf.lastFlushedSite = null;
    if (t.choice >= eligible.length) {
      // rmo: the CPU applies one pending invalidation.
      const s = buf.stale.splice(t.choice - eligible.length, 1)[0]!;
      access(buf.staleLoc(s.cell), W);
      // (Whether or not the CPU loaded the cell meanwhile: until now a load would have read the stale value.)
      t.say(() => `${buf.owner} applies the invalidation of ${s.cell.name} (stale until now: ${s.text})`);
      continue;
    }
    const e = buf.entries[eligible[t.choice]!]!;
    buf.entries.splice(eligible[t.choice]!, 1);
    buf.lastFlushedSite = e.site;
    access(buf.loc, W);
    if (choiceDependencies && reordersStores(buf.model)) access(buf.tailLoc, R);
    access(buf.cellLoc(e.cell), W);
    access(e.cell.loc, W);
    land(t, buf, e, true);
    t.say(() => `${e.text} becomes visible`);
  }
}

/**
 * Writes buffered store `e` of `buf`'s CPU to memory (through the Cell's `value` setter, which
 * records the write, or with `poke()` when the caller recorded it), runs its `onVisible`, and
 * under `rmo` gives the other CPUs their invalidations of the cell ({@link invalidate}).
 */
function land(t: Task, buf: StoreBuffer, e: Pending, viaSetter: boolean): void {
  const stales = buf.model === "rmo" && e.onVisible === undefined && e.cell instanceof Cell;
  const old = stales ? e.cell.peek() : undefined;
  if (viaSetter) e.cell.value = e.value;
  else e.cell.poke(e.value);
  e.onVisible?.();
  if (stales) invalidate(t, buf, e.cell, old);
}

/**
 * `rmo`: a store of `buf`'s CPU to `cell` has become visible (`old` is the value before). Every
 * other CPU whose thread still runs and holds no pending invalidation of the cell gets one: until
 * it applies it, its loads of the cell read `old` (LKMM's loads reordered with later loads: the
 * "invalidate queue" of Documentation/memory-barriers.txt and McKenney's "Memory Barriers: a
 * Hardware View for Software Hackers"). The CPU's own pending invalidation of the cell is dropped:
 * its loads see its own store or a later one (coherence). Cells at `autoLoc()` locations (lock
 * words, a thread's `__state`) are never read stale. Records what it changes, unseen by `t`'s
 * history.
 */
function invalidate(t: Task, buf: StoreBuffer, cell: Cell<unknown>, old: unknown): void {
  if (cell.loc >= AUTO_LOC_BASE) return;
  const host = hostOf(t);
  const own = buf.stale.findIndex((s) => s.cell === cell);
  if (own >= 0) {
    buf.stale.splice(own, 1);
    blindAccess(buf.staleLoc(cell), W);
  }
  const now = cell.peek();
  for (const b of host.buffers) {
    if (b === buf || host.threadFinished(b.index)) continue;
    // (A write of the apply location: a new invalidation adds an alternative to the CPU's daemon,
    // whose every step reads it, and must not commute with the CPU's applying them all.)
    blindAccess(b.applyLoc, W);
    blindAccess(b.staleLoc(cell), W);
    if (Object.is(old, now) || b.stale.some((s) => s.cell === cell)) continue;
    b.stale.push({ cell, value: old, text: `${cell.name} = ${showStored(t, old)}` });
  }
}

/**
 * `rmo`: RCU quiescent states, which include a full barrier: every CPU except those of threads
 * `except` (by index) applies its pending invalidations. An RCU grace period calls it when it
 * starts, for the CPUs outside a read-side section (their quiescent state may come at once: so a
 * section they start later sees every store made before the grace period began), and when it
 * ends, for every CPU (stronger than the kernel: also invalidations that arrived after a CPU's
 * quiescent state). Without it, a reader whose section began after synchronize_rcu() started
 * could still read the pointer the updater had replaced, and use it after the kfree() (a new
 * user's trial, 2026-12-01). Records each buffer's apply location. Call inside a step.
 */
export function quiescentStates(t: Task, except: ReadonlySet<number> = NO_THREADS): void {
  for (const b of hostOf(t).buffers) {
    if (b.model === "rmo" && !except.has(b.index)) b.dropStale();
  }
}

const NO_THREADS: ReadonlySet<number> = new Set();

/**
 * `rmo`: the thread applies every pending invalidation (smp_rmb(), an acquire, a full barrier, a
 * dependent load): its later loads read memory. Records the buffer's apply location always, and
 * each invalidation applied. Nothing under the other models.
 */
export function applyInvalidations(t: Task): void {
  const buf = hostOf(t).bufferOf(t);
  if (buf === null || buf.model !== "rmo") return;
  const n = buf.dropStale();
  if (n > 0) t.say(() => `${n === 1 ? "its pending invalidation is" : `its ${n} pending invalidations are`} applied`);
}

// racelab objects record their own accesses (see engine/track.ts).
selfTracked(Cell, StoreBuffer);
holdsValues(Cell, "v");
