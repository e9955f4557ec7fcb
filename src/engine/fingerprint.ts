/**
 * State fingerprints for the state-caching search (explore.ts, reduction `state-caching`).
 *
 * A thread body is a generator: its local state (variables, where it is) cannot be copied or
 * compared. But threads are deterministic, so a thread's local state is a function of what it has
 * observed: the values its reads returned and the choices the scheduler made for it. The
 * fingerprint of a state is therefore a 64-bit hash (two 32-bit lanes) of
 *
 * - the modeled shared state: every unit (below), freed objects marked;
 * - per thread, a running hash of its history: at each of its steps, the choice taken and, for
 *   every location the step observed, the hash of the object owning that location as it was before
 *   the step (a superset of the value read: two histories with equal hashes saw equal values);
 *   for a finished thread, only that it finished (it has no future for its locals to shape). A
 *   step observes what it reads (R) and every location of a kernel object it accesses otherwise
 *   but by an ADD (access.ts): value-returning atomics such as `Counter.addReturn()` and
 *   `folio_try_get()` record W, trylocks LX, and what they return shapes the thread's future
 *   (until 2026-11-30 only R counted, and two orders of such steps could merge into one state).
 *   Completing a wait (a blocking lock's acquire) observes nothing: the thread runs only once it
 *   can; nor does a `blindAccess()` (a lock release, kfree()). A tracked field holding a unit
 *   is observed as which unit it is (its key), not its content: what the thread then reads of
 *   it is observed as those reads. A location made lazily with `autoLoc()` is hashed through the
 *   value function `setAutoLocValue()` gave it, else it is unhashable;
 * - per thread, the kernel state other threads change outside the scenario's state (a sleeping
 *   thread's `__state`, {@link registerTaskState});
 * - whether a BUG stopped the execution, and the set of findings raised so far (so that no
 *   finding is lost when a state is pruned).
 *
 * Objects are hashed in *units*: an object that owns locations (racelab's kernel objects, which
 * pass `this` to `newLoc`, or the `container` of locations with a value function), a named plain
 * object of the state (tracked field by field, track.ts), a store buffer. A unit's hash covers its
 * fields and every object inside it that is no unit; another unit inside it counts by its stable
 * key (its first location, or its tracker name, the same in every execution). The state's hash is
 * the sum of its units' hashes, so after a step only the units it changed are hashed again
 * (incremental hashing, 2026-11-30): those owning a location the step accessed by any class but R
 * (blind accesses included), and every unit that holds inline a kernel object which is no unit
 * (its methods may record their accesses on another object, as a jbd2 `Handle` does), unless
 * that object is frozen and holds only primitives, threads and units (an `Inode`). A step that
 * writes a location no unit covers, or names a new object, rehashes every unit. This relies on
 * the rule the partial-order reduction relies on: kernel state changes only through recorded
 * accesses. {@link Fingerprinter.inconsistency} checks it (a test runs every bundled
 * configuration with it). A read of a location without an owner (a user primitive that called
 * `newLoc(name)` without `this`) cannot be hashed: the fingerprinter then reports the location,
 * and the search falls back to sleep sets.
 *
 * What no hash sees, the reduction does not see either: state a thread closes over (a variable
 * of `setup()`, a module variable). The cross-check in check.ts samples unreduced executions
 * and compares their outcomes with what the search reached.
 */
import { AUTO_LOC_BASE, autoLocValue, locContainer, locName, locOwner, locationCount, setReadHook, setScopeHook, setWriteHook, type ScopeHook } from "./access.js";
import type { Label } from "./task.js";
import type { Execution } from "./execution.js";
import { findingKey } from "./finding.js";
import { Task } from "./task.js";
import { bufferIndexOf, VBASE } from "./memory.js";
import { isSelfTracked, untracked } from "./track.js";

// Two 32-bit lanes, each a multiply-xorshift mix with its own constant.
let la = 0;
let lb = 0;
function mix(x: number, y: number): void {
  la = Math.imul(la ^ x, 0x5bd1e995);
  la ^= la >>> 15;
  lb = Math.imul(lb ^ y, 0x27d4eb2d);
  lb ^= lb >>> 13;
}
const m1 = (x: number) => mix(x, x);

const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);
/** Per string seen, the index of its two lane hashes in `strA` / `strB`. */
const stringIdx = new Map<string, number>();
let strA = new Int32Array(1024);
let strB = new Int32Array(1024);
function mixString(s: string): void {
  let i = stringIdx.get(s);
  if (i === undefined) {
    let x = 0x811c9dc5;
    let y = 0x01000193 ^ s.length;
    for (let j = 0; j < s.length; j++) {
      const c = s.charCodeAt(j);
      x = Math.imul(x ^ c, 0x01000193);
      y = Math.imul(y ^ c, 0x9e3779b1);
      y ^= y >>> 16;
    }
    if (stringIdx.size >= 100_000) stringIdx.clear();
    i = stringIdx.size;
    if (i >= strA.length) {
      const a = new Int32Array(2 * strA.length);
      const b = new Int32Array(2 * strA.length);
      a.set(strA);
      b.set(strB);
      strA = a;
      strB = b;
    }
    strA[i] = x;
    strB[i] = y;
    stringIdx.set(s, i);
  }
  mix(strA[i]!, strB[i]!);
}

/** Final avalanche of a 32-bit lane (murmur3's fmix32). */
function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

const taskStates: ((t: Task) => number | undefined)[] = [];

/**
 * Registers per-thread kernel state that lives outside the scenario's state object but that
 * other threads change (a thread's `__state`, set by try_to_wake_up()): `get(t)` returns it as a
 * number, or undefined where it is the initial value; every fingerprint hashes it per thread.
 */
export function registerTaskState(get: (t: Task) => number | undefined): void {
  taskStates.push(get);
}

/**
 * A thread's history as it was when it entered a `deadOnReturn()` function (two lanes), above
 * the histories of the functions it is in; immutable, so a frame keeps a stack by reference.
 */
export interface ScopeCell {
  /** The history's first lane. */
  readonly a: number;
  /** The history's second lane. */
  readonly b: number;
  /** The entry of the function the thread was in when it called this one, or null. */
  readonly next: ScopeCell | null;
}

/** A thread's history before its first step. */
const initialA = (tid: number) => Math.imul(tid + 1, 0x9e3779b1);
const initialB = (tid: number) => Math.imul(tid + 1, 0x85ebca6b);


/**
 * One object hashed on its own (see the module comment): its stable key (two lanes) and its
 * content hash as of the last update (two lanes, key folded in, avalanched).
 */
interface Unit {
  readonly o: object;
  readonly ka: number;
  readonly kb: number;
  a: number;
  b: number;
  /** The update in which it was last marked changed. */
  mark: number;
  /**
   * Holds inline a kernel object that is no unit (a jbd2 `Handle`): its methods may change it
   * while recording accesses of another object's locations, so it is rehashed after every step.
   */
  volatile: boolean;
}

/**
 * Fingerprints the states of one execution (see the module comment). Create it right after the
 * execution (or with the per-thread history of the prefix it replays, {@link setHistory}); call
 * {@link walk} once, then per step {@link beginStep} / {@link endStep} around the step and
 * {@link update} after it, and read {@link fingerprint}.
 */
export class Fingerprinter {
  /** Per-thread history hashes, two lanes per thread (`[a0, b0, a1, b1, ...]`). */
  readonly history: Uint32Array;
  /**
   * Per thread, its history at the entry of each `deadOnReturn()` function it is in, innermost
   * first (null: none). The current history chains from it, so it needs no hash of its own.
   */
  readonly scopes: (ScopeCell | null)[];
  /** Whether a thread entered or left a `deadOnReturn()` function since the last {@link setHistory}. */
  scoped = false;
  /** The location read without an owner that makes fingerprints unsound, or null. */
  unhashable: string | null = null;
  /** Units hashed so far (every unit per {@link walk}, the changed ones per {@link update}). */
  unitsHashed = 0;
  /** Every unit, by its object (kernel objects, containers, named plain objects, store buffers). */
  private readonly units = new Map<object, Unit>();
  private readonly unitList: Unit[] = [];
  /** How many of the tracker's named objects are units. */
  private namedSeen = 0;
  /** Sum over the units of their hashes, per lane (order-free, so one unit can be replaced). */
  private sumA = 0;
  private sumB = 0;
  /** Hash of the per-thread kernel state outside the scenario's state ({@link registerTaskState}). */
  private taskA = 0;
  private taskB = 0;
  /** Units a step changed, and whether it changed something no unit covers (then: rehash all). */
  private readonly dirty: Unit[] = [];
  private dirtyAll = false;
  /** The units with `volatile` set. */
  private readonly volatiles: Unit[] = [];
  /** Set while hashing a unit when it holds inline a kernel object that is no unit. */
  private sawKernel = false;
  private updates = 0;
  private readonly inProgress = new Set<object>();
  /** Per read of the step: its value hash (two lanes). */
  private readonly readA: number[] = [];
  private readonly readB: number[] = [];
  private inHook = false;
  private readonly hook = (loc: number, target: object | undefined, key: string | symbol | undefined) => {
    if (this.inHook) return;
    this.inHook = true;
    const sa = la;
    const sb = lb;
    try {
      this.read(loc, target, key);
    } finally {
      la = sa;
      lb = sb;
      this.inHook = false;
    }
  };
  private readonly onWrite = (loc: number, target: object | undefined) => this.changed(loc, target);
  /** The choice of the step running; `choiceGone` once a return dropped it with the step's reads. */
  private choice = 0;
  private choiceGone = false;
  private readonly onScope: ScopeHook = {
    enter: (tid) => this.enter(tid),
    leave: (tid, value) => this.leave(tid, value),
    label: (tid, at) => this.label(tid, at),
  };

  constructor(private readonly exec: Execution) {
    const n = exec.tasks.length;
    this.history = new Uint32Array(2 * n);
    for (let i = 0; i < n; i++) {
      this.history[2 * i] = initialA(i);
      this.history[2 * i + 1] = initialB(i);
    }
    this.scopes = new Array<ScopeCell | null>(n).fill(null);
    // Units: kernel objects and containers keyed by their first location (allocated in the
    // same order in every execution), store buffers by thread, named plain objects by name.
    const nLocs = locationCount();
    for (let loc = 0; loc < nLocs; loc++) {
      const owner = locOwner(loc);
      const o = typeof owner === "function" ? locContainer(loc) : owner;
      if (o !== undefined && !(o instanceof Task) && !this.units.has(o)) this.addUnit(o, 0x10c, loc);
    }
    for (let i = 0; i < exec.buffers.length; i++) this.addUnit(exec.buffers[i]!, 0xb0f, i);
  }

  private addUnit(o: object, tag: number, id: number | string): Unit {
    la = tag;
    lb = ~tag;
    if (typeof id === "number") m1(id);
    else mixString(id);
    const u: Unit = { o, ka: la, kb: lb, a: 0, b: 0, mark: -1, volatile: false };
    this.units.set(o, u);
    this.unitList.push(u);
    return u;
  }

  /**
   * Restores the per-thread history hashes and `deadOnReturn()` entries (those of a replayed
   * prefix; `scopes` null: none).
   */
  setHistory(h: Uint32Array, scopes: readonly (ScopeCell | null)[] | null): void {
    this.history.set(h);
    if (scopes === null) this.scopes.fill(null);
    else for (let i = 0; i < scopes.length; i++) this.scopes[i] = scopes[i]!;
    this.scoped = scopes !== null;
  }

  /**
   * Starts capturing the reads and the changes of the step about to run, which takes `choice`,
   * and the thread's entries, labels and returns of `deadOnReturn()` functions.
   */
  beginStep(choice: number): void {
    this.choice = choice;
    this.choiceGone = false;
    // (pop() rather than `length = 0`: the length setter is a runtime call, pop is inlined.)
    while (this.readA.length > 0) this.readA.pop();
    while (this.readB.length > 0) this.readB.pop();
    while (this.dirty.length > 0) this.dirty.pop();
    this.dirtyAll = false;
    this.updates++;
    setReadHook(this.hook);
    setWriteHook(this.onWrite);
    setScopeHook(this.onScope);
  }

  /**
   * Stops capturing and folds what thread `tid` observed in its step into its history: the
   * choice, and per read the value read (a tracked field, a location with a value function) or
   * the hash of the location's owner before the step.
   */
  endStep(tid: number): void {
    setReadHook(null);
    setWriteHook(null);
    setScopeHook(null);
    this.fold(tid);
    this.history[2 * tid] = la;
    this.history[2 * tid + 1] = lb;
  }

  /** Leaves in la/lb thread `tid`'s history with what its running step has observed so far folded in. */
  private fold(tid: number): void {
    la = this.history[2 * tid]!;
    lb = this.history[2 * tid + 1]!;
    if (!this.choiceGone) m1(this.choice);
    for (let i = 0; i < this.readA.length; i++) mix(this.readA[i]!, this.readB[i]!);
  }

  /** Thread `tid`, in its running step, enters a `deadOnReturn()` function: keep its history so far. */
  private enter(tid: number): void {
    const sa = la;
    const sb = lb;
    this.fold(tid);
    this.scopes[tid] = { a: la, b: lb, next: this.scopes[tid]! };
    this.scoped = true;
    la = sa;
    lb = sb;
  }

  /**
   * Thread `tid` is at label `at` of the innermost `deadOnReturn()` function, where only the
   * function's arguments are live: its history becomes the one at the function's entry (which
   * fixes the arguments its caller passed) with the label folded in; what it observed in the
   * function so far is forgotten. The entry stays on the stack for the return.
   */
  private label(tid: number, at: Label): void {
    const sa = la;
    const sb = lb;
    this.fromEntry(tid, false);
    m1(0x1abe1);
    mixString(at.fn);
    mixString(at.name);
    this.foldTask(tid);
    this.cutTo(tid);
    la = sa;
    lb = sb;
  }

  /**
   * Leaves in la/lb thread `tid`'s history at the entry of the innermost `deadOnReturn()`
   * function (popped with `pop`). An entry not on the stack was made before the thread's first
   * step (no hook then): its history was the initial one.
   */
  private fromEntry(tid: number, pop: boolean): void {
    const c = this.scopes[tid]!;
    if (c === null) {
      la = initialA(tid);
      lb = initialB(tid);
    } else {
      la = c.a;
      lb = c.b;
      if (pop) this.scopes[tid] = c.next;
    }
  }

  /** Makes la/lb thread `tid`'s history, forgetting the running step's choice and reads so far. */
  private cutTo(tid: number): void {
    this.history[2 * tid] = la;
    this.history[2 * tid + 1] = lb;
    while (this.readA.length > 0) this.readA.pop();
    while (this.readB.length > 0) this.readB.pop();
    this.choiceGone = true;
  }

  /**
   * Folds in what a function leaves on thread `tid` besides its locals, which a history no longer
   * fixes once it is cut back: the atomic contexts it holds (spinlocks, interrupts off), the
   * objects it published, and its retry counts (`t.retry()`: a label in a retry loop must not
   * merge the first iteration with the one past the bound).
   */
  private foldTask(tid: number): void {
    const t = this.exec.tasks[tid]!;
    m1(t.atomicHeld.length);
    for (const h of t.atomicHeld) mixString(h);
    m1(t.publications);
    for (const [loop, n] of t.retryCounts()) {
      mixString(loop);
      m1(n);
    }
  }

  /**
   * Thread `tid` returns `value` from the innermost `deadOnReturn()` function: its history
   * becomes the one at the entry with the value returned folded in; what it observed inside
   * (earlier steps, and this step's choice and reads so far) is forgotten.
   */
  private leave(tid: number, value: unknown): void {
    const sa = la;
    const sb = lb;
    this.fromEntry(tid, true);
    m1(0x7e70);
    // What the function leaves on the thread besides its value.
    this.foldTask(tid);
    this.value(value);
    this.cutTo(tid);
    la = sa;
    lb = sb;
  }

  /** A step's access of another class than R to `loc`: marks what it may have changed. */
  private changed(loc: number, target: object | undefined): void {
    let o: object | (() => unknown) | undefined;
    if (target !== undefined) o = target;
    else if (loc >= AUTO_LOC_BASE) {
      // A location with a value function (a thread's __state) is hashed with the task states;
      // any other (a kfree()'s fields, given without their object): rehash everything.
      if (autoLocValue(loc) === undefined) this.dirtyAll = true;
      return;
    } else if (loc >= VBASE) o = this.exec.buffers[bufferIndexOf(loc)];
    else if (loc >= 0) {
      o = locOwner(loc);
      if (typeof o === "function") o = locContainer(loc);
      if (o instanceof Task) return; // hashed as its thread's `done`
    } else return; // HALT_ACCESS: the halt flag
    const u = o === undefined ? undefined : this.units.get(o as object);
    if (u === undefined) {
      // An object named in this step becomes a unit in update(); anything else: rehash all.
      if (o === undefined || !this.exec.tracker.isNamed(o as object)) this.dirtyAll = true;
      return;
    }
    if (u.mark !== this.updates) {
      u.mark = this.updates;
      this.dirty.push(u);
    }
  }

  /** One read, hashed now (la/lb are free to use: the hook saves them). */
  private read(loc: number, target: object | undefined, key: string | symbol | undefined): void {
    la = 0x1b873593;
    lb = 0xcc9e2d51;
    let owner: object | (() => unknown) | undefined;
    if (target !== undefined) {
      // A tracked field: the value read (`<keys>`: the key set; a Map or Set: its entries).
      if (typeof key === "string" && key !== "<keys>" && key !== "<entries>") {
        mixString(key);
        // An object of the state read from a field is observed as which object it is (a unit's
        // key, or the setup ordinal of a kernel or frozen object that is no unit), not its
        // content: what the thread then reads of it is observed as those reads, and which object
        // it holds matters when it compares pointers. Other objects: their content.
        const v = (target as Record<string, unknown>)[key];
        const ord = typeof v === "object" && v !== null && !this.units.has(v) ? this.exec.tracker.setupOrdinal(v) : undefined;
        if (ord !== undefined) {
          m1(14);
          m1(ord);
        } else this.value(v);
      } else if (key === "<keys>") for (const k of Object.keys(target)) mixString(k);
      else this.content(target);
      return this.pushValue();
    }
    if (loc >= AUTO_LOC_BASE) {
      const v = autoLocValue(loc);
      if (v === undefined) this.unhashable ??= locName(loc);
      else {
        m1(loc);
        this.value(v());
      }
      return this.pushValue();
    }
    if (loc >= VBASE) owner = this.exec.buffers[bufferIndexOf(loc)];
    else owner = locOwner(loc);
    if (owner === undefined) {
      this.unhashable ??= locName(loc);
      return this.pushValue();
    }
    if (typeof owner === "function") {
      m1(loc);
      this.value(owner());
      return this.pushValue();
    }
    if (owner instanceof Task) {
      m1(0x7a5c);
      m1(owner.id);
      m1(owner.done ? 1 : 0);
      return this.pushValue();
    }
    const u = this.units.get(owner);
    if (u !== undefined && u.mark !== this.updates) {
      // Its hash as before the step (units are rehashed after it).
      this.readA.push(u.a);
      this.readB.push(u.b);
      return;
    }
    // Changed earlier in this step, or not a unit: its content now.
    this.content(owner);
    this.pushValue();
  }

  private pushValue(): void {
    this.readA.push(la);
    this.readB.push(lb);
  }

  /** Hashes the whole shared state as it is now (every unit). */
  walk(): void {
    this.addNamed();
    for (const u of this.unitList) u.a = u.b = 0;
    this.sumA = this.sumB = 0;
    this.rehash(this.unitList);
  }

  /**
   * After a step: rehashes the units it changed (every unit when it changed something no unit
   * covers) and adds the objects it named.
   */
  update(): void {
    // An object named in the step was hashed inline in the units that hold it; as a unit, it
    // counts there by key: rehash everything.
    if (this.dirtyAll || this.namedSeen < this.exec.tracker.namedCount()) {
      this.walk();
      return;
    }
    for (const u of this.volatiles)
      if (u.mark !== this.updates) {
        u.mark = this.updates;
        this.dirty.push(u);
      }
    this.rehash(this.dirty);
  }

  /** Hashes `units` again, replacing their terms in the sum, and the task states. */
  private rehash(units: readonly Unit[]): void {
    let sa = this.sumA;
    let sb = this.sumB;
    for (const u of units) {
      sa = (sa - u.a) | 0;
      sb = (sb - u.b) | 0;
      this.hashUnit(u);
      sa = (sa + u.a) | 0;
      sb = (sb + u.b) | 0;
    }
    this.sumA = sa;
    this.sumB = sb;
    this.hashTaskStates();
  }

  /**
   * The unit hashes as they are now, to give a fingerprinter of a replay of the same steps
   * ({@link restoreHashes}) instead of a full {@link walk}: `[sumA, sumB, taskA, taskB, units,
   * then per unit a, b, volatile]`.
   */
  saveHashes(): Int32Array {
    const n = this.unitList.length;
    const out = new Int32Array(5 + 3 * n);
    out[0] = this.sumA;
    out[1] = this.sumB;
    out[2] = this.taskA;
    out[3] = this.taskB;
    out[4] = n;
    for (let i = 0; i < n; i++) {
      const u = this.unitList[i]!;
      out[5 + 3 * i] = u.a;
      out[6 + 3 * i] = u.b;
      out[7 + 3 * i] = u.volatile ? 1 : 0;
    }
    return out;
  }

  /**
   * Takes the unit hashes {@link saveHashes} saved in another execution after the same steps as
   * this one's (its units are the same, in the same order: locations are allocated and objects
   * named in the same order). Returns false, changing nothing, when the units differ in number;
   * then {@link walk}.
   */
  restoreHashes(h: Int32Array): boolean {
    this.addNamed();
    const n = this.unitList.length;
    if (h[4] !== n) return false;
    this.sumA = h[0]!;
    this.sumB = h[1]!;
    this.taskA = h[2]!;
    this.taskB = h[3]!;
    for (let i = 0; i < n; i++) {
      const u = this.unitList[i]!;
      u.a = h[5 + 3 * i]!;
      u.b = h[6 + 3 * i]!;
      if (h[7 + 3 * i] === 1 && !u.volatile) {
        u.volatile = true;
        this.volatiles.push(u);
      }
    }
    return true;
  }

  /**
   * Debugging aid and test hook: null when the incrementally maintained state hash equals a full
   * rehash of every unit, else what differs (a step changed an object behind its recorded
   * accesses: `FolioRef (location 12)`).
   */
  inconsistency(): string | null {
    const a = this.sumA;
    const b = this.sumB;
    const before = this.unitList.map((u) => [u.a, u.b] as const);
    this.walk();
    if (a === this.sumA && b === this.sumB) return null;
    for (let i = 0; i < before.length; i++) {
      const u = this.unitList[i]!;
      if (before[i]![0] !== u.a || before[i]![1] !== u.b) {
        const named = this.exec.tracker.isNamed(u.o) ? this.exec.tracker.idOf(u.o) : null;
        return named ?? `${(Object.getPrototypeOf(u.o) as { constructor?: { name?: string } } | null)?.constructor?.name ?? "object"} (unit ${i})`;
      }
    }
    return "the set of units";
  }

  /** Makes units of the objects the tracker named since the last call (walk() hashes them). */
  private addNamed(): void {
    const tracker = this.exec.tracker;
    if (this.namedSeen === tracker.namedCount()) return;
    let i = 0;
    for (const [o, name] of tracker.named()) if (i++ >= this.namedSeen && !this.units.has(o)) this.addUnit(o, 0x9a3e, name);
    this.namedSeen = i;
  }

  private hashUnit(u: Unit): void {
    this.unitsHashed++;
    la = u.ka;
    lb = u.kb;
    const freed = this.exec.tracker.freedBy(u.o);
    if (freed !== undefined) {
      m1(0xf3ee);
      mixString(freed);
    }
    this.inProgress.add(u.o);
    this.sawKernel = false;
    this.content(u.o);
    this.inProgress.delete(u.o);
    if (this.sawKernel && !u.volatile) {
      u.volatile = true;
      this.volatiles.push(u);
    }
    u.a = fmix(la);
    u.b = fmix(lb);
  }

  private hashTaskStates(): void {
    la = 0x7a57;
    lb = 0x57a7;
    for (const get of taskStates)
      for (const t of this.exec.tasks) {
        const v = get(t);
        if (v === undefined) continue;
        m1(t.id);
        m1(v);
      }
    this.taskA = la;
    this.taskB = lb;
  }

  /**
   * The fingerprint of the current state as two 32-bit lanes: the units as of the last
   * {@link walk} or {@link update}, the threads' histories, the halt flag and the set of
   * findings so far.
   */
  fingerprint(out: Uint32Array): void {
    la = this.sumA;
    lb = this.sumB;
    mix(this.taskA, this.taskB);
    const h = this.history;
    const tasks = this.exec.tasks;
    // A finished thread has no future: what it read no longer tells states apart.
    for (let i = 0; i < h.length; i += 2) {
      if (tasks[i >> 1]!.done) m1(0xd09e);
      else mix(h[i]!, h[i + 1]!);
    }
    m1(this.exec.halted ? 0x4a17 : 0x600d);
    const fs = this.exec.findings;
    if (fs.length > 0) {
      const keys = [...new Set(fs.map(findingKey))].sort();
      for (const k of keys) mixString(k);
    }
    out[0] = la >>> 0;
    out[1] = lb >>> 0;
  }

  private value(v: unknown): void {
    switch (typeof v) {
      case "number":
        if ((v | 0) === v) {
          m1(1);
          m1(v);
        } else {
          m1(2);
          f64[0] = v;
          mix(u32[0]!, u32[1]!);
        }
        return;
      case "string":
        m1(3);
        mixString(v);
        return;
      case "boolean":
        m1(v ? 4 : 5);
        return;
      case "undefined":
        m1(6);
        return;
      case "bigint":
        m1(8);
        mixString(v.toString());
        return;
      case "function":
        m1(9);
        return;
      case "symbol":
        m1(10);
        return;
      case "object": {
        if (v === null) {
          m1(7);
          return;
        }
        if (v instanceof Task) {
          m1(11);
          m1(v.id);
          return;
        }
        const o = untracked(v);
        const u = this.units.get(o);
        if (u !== undefined) {
          m1(12);
          mix(u.ka, u.kb);
          return;
        }
        if (this.inProgress.has(o)) {
          m1(13);
          return;
        }
        if (isSelfTracked(o) && !this.inert(o)) this.sawKernel = true;
        // Which setup object sits here (so that a thread holding one is told apart, above).
        const ord = this.exec.tracker.setupOrdinal(o);
        if (ord !== undefined) {
          m1(21);
          m1(ord);
        }
        this.inProgress.add(o);
        const freed = this.exec.tracker.freedBy(o);
        if (freed !== undefined) {
          m1(0xf3ee);
          mixString(freed);
        }
        this.content(o);
        this.inProgress.delete(o);
        return;
      }
    }
  }

  /**
   * Whether kernel object `o`, which is no unit, can never change: it is frozen and holds only
   * primitives, threads and units (which are hashed, and rehashed, on their own). Then the unit
   * holding it need not be rehashed after every step (an `Inode`, which holds its `i_rwsem`).
   */
  private inert(o: object): boolean {
    if (!Object.isFrozen(o)) return false;
    const r = o as Record<string, unknown>;
    for (const k of Object.keys(o)) {
      const v = r[k];
      if (v !== null && typeof v === "object" && !(v instanceof Task) && !this.units.has(untracked(v))) return false;
      if (typeof v === "function") return false;
    }
    return true;
  }

  private content(o: object): void {
    if (Array.isArray(o)) {
      m1(15);
      m1(o.length);
      for (let i = 0; i < o.length; i++) this.value(o[i]);
      return;
    }
    if (o instanceof Map) {
      m1(16);
      m1(o.size);
      for (const [k, v] of o) {
        this.value(k);
        this.value(v);
      }
      return;
    }
    if (o instanceof Set) {
      m1(17);
      m1(o.size);
      for (const v of o) this.value(v);
      return;
    }
    if (ArrayBuffer.isView(o)) {
      const bytes = new Uint8Array(o.buffer, o.byteOffset, o.byteLength);
      m1(18);
      m1(bytes.length);
      for (let i = 0; i < bytes.length; i++) m1(bytes[i]!);
      return;
    }
    const proto = Object.getPrototypeOf(o) as object | null;
    if (proto !== null && proto !== Object.prototype) {
      let c = classNames.get(proto);
      if (c === undefined) {
        c = (proto as { constructor?: { name?: string } }).constructor?.name ?? "";
        classNames.set(proto, c);
      }
      mixString(c);
    }
    const keys = Object.keys(o);
    m1(keys.length);
    const r = o as Record<string, unknown>;
    for (let i = 0; i < keys.length; i++) {
      mixString(keys[i]!);
      this.value(r[keys[i]!]);
    }
  }
}

/** Per prototype, its class name (read once: `constructor.name` is a getter). */
const classNames = new WeakMap<object, string>();

/**
 * A set of 64-bit fingerprints (two 32-bit lanes) in an open-addressing table of typed arrays,
 * each with the sleep set it was explored with (the state-caching search needs it to decide
 * whether a revisit can be pruned). A sleep set of alternatives without a choice on thread ids
 * below 31 (the usual case) is a bit mask in the entry's 32-bit word; any other is kept as an
 * array the word points to. 12 bytes a slot, at a load factor of at most one half.
 */
export class FingerprintTable {
  private cap = 1 << 16;
  private keys = new Uint32Array(2 * this.cap);
  /** Per slot: the sleep set's thread mask, or ARRAY | an index into `sleeps`. */
  private meta = new Uint32Array(this.cap);
  private readonly sleeps: (readonly number[])[] = [];
  /** Fingerprints stored. */
  size = 0;

  /** The index of `fp` in the table, or -1 - (the free slot it would take). */
  find(fp: Uint32Array): number {
    const a = fp[0]! | 0;
    const b = fp[1]! | 1; // lane b never 0: 0 marks an empty slot
    let i = (a ^ Math.imul(b, 0x9e3779b1)) & (this.cap - 1);
    for (;;) {
      const kb = this.keys[2 * i + 1]!;
      if (kb === 0) return -1 - i;
      if ((this.keys[2 * i]! | 0) === a && (kb | 0) === b) return i;
      i = (i + 1) & (this.cap - 1);
    }
  }

  /** Inserts `fp` (absent) with its sleep set; returns its index. */
  insert(fp: Uint32Array, sleep: readonly number[]): void {
    if (2 * (this.size + 1) > this.cap) this.grow();
    const i = -1 - this.find(fp);
    this.keys[2 * i] = fp[0]!;
    this.keys[2 * i + 1] = fp[1]! | 1;
    this.meta[i] = 0;
    this.store(i, sleep);
    this.size++;
  }

  /** The sleep set stored with entry `i` (alternatives in ascending order). */
  sleepOf(i: number): readonly number[] {
    const m = this.meta[i]!;
    if (m >= ARRAY) return this.sleeps[m - ARRAY]!;
    const out: number[] = [];
    for (let rest = m, tid = 0; rest !== 0; rest >>>= 1, tid++) if ((rest & 1) !== 0) out.push(tid);
    return out;
  }

  /** Replaces the sleep set stored with entry `i`. */
  setSleep(i: number, sleep: readonly number[]): void {
    this.store(i, sleep);
  }

  /** Bytes held by the table's arrays (not counting sleep sets kept as arrays). */
  get bytes(): number {
    return this.keys.byteLength + this.meta.byteLength;
  }

  private store(i: number, sleep: readonly number[]): void {
    let mask = 0;
    for (const alt of sleep) {
      if (alt < 0 || alt >= 31) {
        // A choice (alt >= 4096) or a thread id past 30: keep the array (reusing its cell).
        const m = this.meta[i]!;
        if (m >= ARRAY) this.sleeps[m - ARRAY] = sleep;
        else this.meta[i] = ARRAY + this.sleeps.push(sleep) - 1;
        return;
      }
      mask |= 1 << alt;
    }
    this.meta[i] = mask;
  }

  private grow(): void {
    const oldKeys = this.keys;
    const oldMeta = this.meta;
    const oldCap = this.cap;
    this.cap *= 2;
    this.keys = new Uint32Array(2 * this.cap);
    this.meta = new Uint32Array(this.cap);
    const fp = new Uint32Array(2);
    for (let j = 0; j < oldCap; j++) {
      if (oldKeys[2 * j + 1] === 0) continue;
      fp[0] = oldKeys[2 * j]!;
      fp[1] = oldKeys[2 * j + 1]!;
      const i = -1 - this.find(fp);
      this.keys[2 * i] = fp[0]!;
      this.keys[2 * i + 1] = fp[1]!;
      this.meta[i] = oldMeta[j]!;
    }
  }
}

/** FingerprintTable: a meta word at or above this points into the sleep-set arrays. */
const ARRAY = 0x80000000;
