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
 * store; `smp_wmb` orders earlier stores before later ones; `smp_mb`, lock operations and
 * value-returning atomics wait until the CPU's buffer is empty (full ordering).
 *
 * Limitations (the model is stronger than the kernel's LKMM, never weaker, as the litmus tests in
 * test/memory-model.test.ts check): loads are never reordered with each other or with earlier
 * loads, so `smp_rmb`, `smp_load_acquire` and `rcu_dereference` add nothing and outcomes that need
 * load reordering or load buffering (e.g. LB+poonceonces, MP+wmbonceonce+poonceonces... under tso
 * also MP+poonceonces) are not reached; stores are multi-copy atomic (a store becomes visible to
 * all other CPUs at once); locks and unlocks are full barriers.
 */
import { access, newLoc, R, W } from "./access.js";
import type { Site } from "./site.js";
import type { Task, Waitable } from "./task.js";

export type MemoryModel = "sc" | "tso" | "pso";
export const MEMORY_MODELS: readonly MemoryModel[] = ["sc", "tso", "pso"];

/** A shared memory location holding a value; stores to it may be buffered. */
export class Cell<T> {
  readonly loc: number;
  /** The value in memory (what other CPUs see). */
  value: T;
  constructor(
    readonly name: string,
    initial: T,
  ) {
    this.loc = newLoc(name);
    this.value = initial;
  }
}

interface Pending {
  readonly cell: Cell<unknown>;
  readonly value: unknown;
  readonly epoch: number;
  readonly text: string;
}

/** One CPU's store buffer. */
export class StoreBuffer implements Waitable {
  readonly loc: number;
  readonly name: string;
  readonly entries: Pending[] = [];
  /** Barrier epoch: a store may become visible only after every store of an earlier epoch. */
  epoch = 0;
  constructor(
    readonly owner: string,
    readonly model: MemoryModel,
  ) {
    this.name = `${owner} store buffer`;
    this.loc = newLoc(this.name);
  }
  /** The flusher can run when a store is pending. */
  canProceed(): boolean {
    return this.entries.length > 0;
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
}

function hostOf(t: Task): MemoryHost {
  return t.memory;
}

function show(v: unknown): string {
  if (v !== null && typeof v === "object" && "toString" in v && (v as object).toString !== Object.prototype.toString)
    return String(v);
  return typeof v === "object" ? JSON.stringify(v) : String(v);
}

/** A load: the thread's own latest buffered store to `cell` if any, else memory. */
export function load<T>(t: Task, cell: Cell<T>): T {
  const buf = hostOf(t).bufferOf(t);
  if (buf !== null) {
    access(buf.loc, R);
    for (let i = buf.entries.length - 1; i >= 0; i--) if (buf.entries[i]!.cell === cell) return buf.entries[i]!.value as T;
  }
  access(cell.loc, R);
  return cell.value;
}

/** A store; buffered under tso/pso. `release` orders all earlier stores before it. */
export function store<T>(t: Task, cell: Cell<T>, value: T, release = false): void {
  const buf = hostOf(t).bufferOf(t);
  if (buf === null) {
    access(cell.loc, W);
    cell.value = value;
    return;
  }
  access(buf.loc, W);
  if (release && buf.entries.length > 0) buf.epoch++;
  buf.entries.push({ cell: cell as Cell<unknown>, value, epoch: buf.epoch, text: `${cell.name} = ${show(value)}` });
}

/** READ_ONCE(). */
export const READ_ONCE = load;
/** WRITE_ONCE(). */
export const WRITE_ONCE = <T>(t: Task, cell: Cell<T>, v: T) => store(t, cell, v);
/** smp_load_acquire(): loads are in order in these models, so a plain load. */
export const smp_load_acquire = load;
/** rcu_dereference(): a plain load here (dependency ordering holds trivially). */
export const rcu_dereference = load;
/** smp_store_release(). */
export const smp_store_release = <T>(t: Task, cell: Cell<T>, v: T) => store(t, cell, v, true);
/** rcu_assign_pointer(): smp_store_release() of a pointer. */
export const rcu_assign_pointer = smp_store_release;

/** smp_wmb(): stores before it become visible before stores after it. Call inside a step. */
export function smp_wmb(t: Task): void {
  const buf = hostOf(t).bufferOf(t);
  if (buf === null) return;
  // Always an access: whether the barrier matters depends on the buffer, so the step depends on
  // every flush of it (a state-dependent access set would break the reduction's equivalence).
  access(buf.loc, W);
  if (buf.entries.length > 0) buf.epoch++;
}

/** smp_rmb(): loads are never reordered in these models; nothing to do. */
export function smp_rmb(_t: Task): void {}

/** smp_mb() as a step of its own: it runs once every earlier store of the thread is visible. */
export function* smp_mb(t: Task, at: Site): Generator<Site, void, undefined> {
  t.fence = true;
  yield at;
}

/**
 * The body of a CPU's store-buffer daemon: each step makes one pending store visible; under pso
 * the scheduler chooses which of the eligible stores.
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
    access(e.cell.loc, W);
    e.cell.value = e.value;
    t.say(() => `${e.text} visible`);
  }
}
