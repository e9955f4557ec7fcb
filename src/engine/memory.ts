/**
 * Memory models: `sc` (sequential consistency, the default), and two store-buffer models in which
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
 * Limitations (the model is stronger than the kernel's LKMM, never weaker, as the litmus tests in
 * test/memory-model.test.ts check): loads are never reordered with each other or with earlier
 * loads, so `smp_rmb`, `smp_load_acquire` and `rcu_dereference` add nothing and outcomes that need
 * load reordering or load buffering (e.g. LB+poonceonces, MP+wmbonceonce+poonceonces... under tso
 * also MP+poonceonces) are not reached; stores are multi-copy atomic (a store becomes visible to
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
 * visible out of order unless a barrier separates them).
 */
export type MemoryModel = "sc" | "tso" | "pso";
/** Every {@link MemoryModel}, strongest first. */
export const MEMORY_MODELS: readonly MemoryModel[] = ["sc", "tso", "pso"];

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
}

/**
 * Virtual locations of the store buffers, for the reduction: a buffer is not one location but one
 * per (buffer, cell) — so appending a store to one cell and making a store to another cell
 * visible commute — plus an epoch location (barriers) and a drain location (written by every
 * flush, read by full barriers). They are numbers above every allocated location.
 */
const VBASE = 1 << 22;
const VSTRIDE = 1 << 18;
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
  private readonly base: number;
  constructor(
    /** Name of the thread (CPU) whose stores it holds. */
    readonly owner: string,
    /** `tso` (drains in order) or `pso` (drains any store not held back by a barrier). */
    readonly model: MemoryModel,
    index: number,
  ) {
    this.name = `${owner} store buffer`;
    this.base = VBASE + (index + 1) * VSTRIDE;
    this.loc = this.base - 1;
    this.epochLoc = this.base - 2;
    this.tailLoc = this.base - 3;
  }
  /**
   * The virtual location of this buffer's entries for one cell. A cell at an `autoLoc()` location
   * ({@link autoCell}) takes one of the top 1,024 slots of the buffer's range,
   * by its location modulo their number: two such cells may share a slot, which only makes their
   * stores dependent (never hides a conflict).
   */
  cellLoc(cell: { readonly loc: number }): number {
    const l = cell.loc;
    if (l >= AUTO_LOC_BASE) return this.base + VSTRIDE - 4 - ((l - AUTO_LOC_BASE) % AUTO_CELL_SLOTS);
    if (l >= VSTRIDE - 3 - AUTO_CELL_SLOTS) throw new Error(`store buffers support locations below ${VSTRIDE - 3 - AUTO_CELL_SLOTS}`);
    return this.base + l;
  }
  /** The flusher can run when a store is pending. */
  canProceed(): boolean {
    return this.entries.length > 0;
  }
  /** Waitable: the flush reads the buffer (its step writes it too). */
  waited(): void {
    access(this.loc, R);
  }
  /**
   * The pending stores, oldest first, as `<cell> = <value>` joined by `; `, with ` | ` between
   * stores separated by a barrier (`smp_wmb()` or a release store: those after it become visible
   * only after those before it); `empty` when nothing is pending. E.g.
   * `folio@1498.index = 1498 | folio@1498.order = 0; folio@1499.index = 1499`.
   */
  describe(): string {
    if (this.entries.length === 0) return "empty";
    return this.entries.map((e, i) => (i === 0 ? "" : e.epoch !== this.entries[i - 1]!.epoch ? " | " : "; ") + e.text).join("");
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
      e.cell.poke(e.value);
      e.onVisible?.();
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

/** A load: the thread's own latest buffered store to `cell` if any, else memory. */
export function load<T>(t: Task, cell: Cell<T>): T {
  const buf = hostOf(t).bufferOf(t);
  if (buf !== null) {
    access(buf.cellLoc(cell), R);
    for (let i = buf.entries.length - 1; i >= 0; i--)
      if (buf.entries[i]!.cell === cell) return hostOf(t).wrap(buf.entries[i]!.value as T);
  }
  access(cell.loc, R);
  return hostOf(t).wrap(cell.value);
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
  if (choiceDependencies && buf.model === "pso") access(buf.tailLoc, W);
  // A release always opens a new epoch (harmless when nothing is buffered), so what the store
  // does never depends on which other stores are still buffered.
  if (release) {
    access(buf.epochLoc, W);
    buf.epoch++;
  } else access(buf.epochLoc, R);
  buf.entries.push(onVisible === undefined ? { cell, value, epoch: buf.epoch, text } : { cell, value, epoch: buf.epoch, text, onVisible });
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
/** smp_load_acquire(): loads are in order in these models, so a plain load. */
export const smp_load_acquire = load;
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
 * rcu_dereference(p) (include/linux/rcupdate.h, v6.12): a plain load here (dependency ordering
 * holds trivially: loads are never reordered). Outside rcu_read_lock() it is CONFIG_PROVE_RCU's
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
  return load(t, cell);
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
 * smp_wmb(): stores before it become visible before stores after it: buffered stores, and the
 * stores that act on memory directly (a relaxed atomic RMW, a `Counter`, `list_add()`'s links; see
 * {@link beforeDirectWrite}), but not a plain field the model writes itself. Call inside a step.
 */
export function smp_wmb(t: Task): void {
  const buf = hostOf(t).bufferOf(t);
  if (buf === null) return;
  // Always a new epoch: the barrier's effect must not depend on which stores are still buffered
  // (a state-dependent access set would break the reduction's equivalence).
  access(buf.epochLoc, W);
  buf.epoch++;
}

/** smp_rmb(): loads are never reordered in these models; nothing to do. */
export function smp_rmb(_t: Task): void {}

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
    t.offer(() => Math.max(1, buf.eligible().length));
    yield at;
    const idx = buf.eligible()[t.choice]!;
    const e = buf.entries[idx]!;
    buf.entries.splice(idx, 1);
    access(buf.loc, W);
    if (choiceDependencies && buf.model === "pso") access(buf.tailLoc, R);
    access(buf.cellLoc(e.cell), W);
    access(e.cell.loc, W);
    e.cell.value = e.value;
    e.onVisible?.();
    t.say(() => `${e.text} becomes visible`);
  }
}

// racelab objects record their own accesses (see engine/track.ts).
selfTracked(Cell, StoreBuffer);
holdsValues(Cell, "v");
