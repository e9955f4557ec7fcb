/**
 * State fingerprints for the state-caching search (explore.ts, reduction `state-caching`).
 *
 * A thread body is a generator: its local state (variables, where it is) cannot be copied or
 * compared. But threads are deterministic, so a thread's local state is a function of what it has
 * observed: the values its reads returned and the choices the scheduler made for it. The
 * fingerprint of a state is therefore a 64-bit hash (two 32-bit lanes) of
 *
 * - the modeled shared state: every object reachable from the state `setup()` returned and from
 *   the store buffers, walked in a canonical order (object identity becomes the order of first
 *   visit), freed objects marked;
 * - per thread, a running hash of its history: at each of its steps, the choice taken and, for
 *   every location the step observed, the hash of the object owning that location as it was before
 *   the step (a superset of the value read: two histories with equal hashes saw equal values);
 *   for a finished thread, only that it finished (it has no future for its locals to shape). A
 *   step observes what it reads (R) and every location of a kernel object it accesses otherwise
 *   but by an ADD (access.ts): value-returning atomics such as `Counter.addReturn()` and
 *   `folio_try_get()` record W, trylocks LX, and what they return shapes the thread's future
 *   (until 2026-11-30 only R counted, and two orders of such steps could merge into one state).
 *   Completing a wait (a blocking lock's acquire) observes nothing: the thread runs only once it
 *   can; nor does a `blindAccess()` (a lock release, kfree()). A tracked field holding an object
 *   the last walk visited is observed as that object's place in the walk, not its content: what
 *   the thread then reads of the object is observed as those reads. A location made lazily with
 *   `autoLoc()` is hashed through the value function `setAutoLocValue()` gave it, else it is
 *   unhashable;
 * - per thread, the kernel state other threads change outside the scenario's state (a sleeping
 *   thread's `__state`, {@link registerTaskState});
 * - whether a BUG stopped the execution, and the set of findings raised so far (so that no
 *   finding is lost when a state is pruned).
 *
 * Objects are hashed in *owners*: an object that owns locations (racelab's kernel objects, which
 * pass `this` to `newLoc`), a plain object of the state (tracked field by field, track.ts), a
 * store buffer, the state itself. An owner's hash covers its fields and every object inside it
 * that is not an owner; another owner inside it counts by identity. A read of a location without
 * an owner (a user primitive that called `newLoc(name)` without `this`) cannot be hashed: the
 * fingerprinter then reports the location, and the search falls back to sleep sets.
 *
 * What no hash sees, the reduction does not see either: state a thread closes over (a variable
 * of `setup()`, a module variable). The cross-check in check.ts samples unreduced executions
 * and compares their outcomes with what the search reached.
 */
import { AUTO_LOC_BASE, autoLocValue, locName, locOwner, locationOwners, setReadHook } from "./access.js";
import type { Execution } from "./execution.js";
import { findingKey } from "./finding.js";
import { Task } from "./task.js";

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
const stringHashes = new Map<string, number>();
const stringHashesB = new Map<string, number>();
function mixString(s: string): void {
  let x = stringHashes.get(s);
  let y = stringHashesB.get(s);
  if (x === undefined || y === undefined) {
    x = 0x811c9dc5;
    y = 0x01000193 ^ s.length;
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      x = Math.imul(x ^ c, 0x01000193);
      y = Math.imul(y ^ c, 0x9e3779b1);
      y ^= y >>> 16;
    }
    if (stringHashes.size > 100_000) {
      stringHashes.clear();
      stringHashesB.clear();
    }
    stringHashes.set(s, x);
    stringHashesB.set(s, y);
  }
  mix(x, y);
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

/** The store-buffer virtual locations (memory.ts): between these bounds, owned by a buffer. */
const VBASE = 1 << 22;
const VSTRIDE = 1 << 18;

/**
 * Fingerprints the states of one execution (see the module comment). Create it right after the
 * execution (or with the per-thread history of the prefix it replays, {@link setHistory}); call
 * {@link walk} on the state before a step, {@link beginStep} / {@link endStep} around the step,
 * then {@link walk} again and read {@link fingerprint}.
 */
export class Fingerprinter {
  /** Per-thread history hashes, two lanes per thread (`[a0, b0, a1, b1, ...]`). */
  readonly history: Uint32Array;
  /** The location read without an owner that makes fingerprints unsound, or null. */
  unhashable: string | null = null;
  private ids = new Map<object, number>();
  /** Every object the last walk hashed inside an owner, by order of first visit. */
  private objIds = new Map<object, number>();
  private queue: object[] = [];
  private ha: number[] = [];
  private hb: number[] = [];
  private stateA = 0;
  private stateB = 0;
  private readonly inProgress = new Set<object>();
  /** Per read of the step: a pre-step owner index (>= 0), or -1 with the value hash in readA/readB. */
  private readonly readIdx: number[] = [];
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

  private readonly locOwners = locationOwners();

  constructor(private readonly exec: Execution) {
    const n = exec.tasks.length;
    this.history = new Uint32Array(2 * n);
    for (let i = 0; i < n; i++) {
      this.history[2 * i] = Math.imul(i + 1, 0x9e3779b1);
      this.history[2 * i + 1] = Math.imul(i + 1, 0x85ebca6b);
    }
  }

  /** Restores the per-thread history hashes (those of a replayed prefix). */
  setHistory(h: Uint32Array): void {
    this.history.set(h);
  }

  /** Starts capturing the reads of the step about to run. */
  beginStep(): void {
    this.readIdx.length = 0;
    this.readA.length = 0;
    this.readB.length = 0;
    setReadHook(this.hook);
  }

  /**
   * Stops capturing and folds what thread `tid` observed in its step into its history: the
   * choice, and per read the value read (a tracked field, a location with a value function) or
   * the hash of the location's owner before the step.
   */
  endStep(tid: number, choice: number): void {
    setReadHook(null);
    la = this.history[2 * tid]!;
    lb = this.history[2 * tid + 1]!;
    m1(choice);
    for (let i = 0; i < this.readIdx.length; i++) {
      const idx = this.readIdx[i]!;
      if (idx >= 0) mix(this.ha[idx]!, this.hb[idx]!);
      else mix(this.readA[i]!, this.readB[i]!);
    }
    this.history[2 * tid] = la;
    this.history[2 * tid + 1] = lb;
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
        const v = (target as Record<string, unknown>)[key];
        const nid = typeof v === "object" && v !== null ? this.objIds.get(v) : undefined;
        if (nid !== undefined && !this.ids.has(v as object)) {
          // A reference to an object of the state: what the thread holds is that object, at its
          // canonical place; what it then reads of it is observed as those reads.
          m1(14);
          m1(nid);
          return this.pushValue();
        }
        this.value(v, true);
      } else if (key === "<keys>") for (const k of Object.keys(target)) mixString(k);
      else this.content(target, true);
      return this.pushValue();
    }
    if (loc >= AUTO_LOC_BASE) {
      const v = autoLocValue(loc);
      if (v === undefined) this.unhashable ??= locName(loc);
      else {
        m1(loc);
        this.value(v(), true);
      }
      return this.pushValue();
    }
    if (loc >= VBASE) owner = this.exec.buffers[Math.floor((loc - VBASE + 3) / VSTRIDE) - 1];
    else owner = locOwner(loc);
    if (owner === undefined) {
      this.unhashable ??= locName(loc);
      return this.pushValue();
    }
    if (typeof owner === "function") {
      m1(loc);
      this.value(owner(), true);
      return this.pushValue();
    }
    if (owner instanceof Task) {
      m1(0x7a5c);
      m1(owner.id);
      m1(owner.done ? 1 : 0);
      return this.pushValue();
    }
    const idx = this.ids.get(owner);
    if (idx !== undefined && idx < this.ha.length) {
      this.readIdx.push(idx);
      this.readA.push(0);
      this.readB.push(0);
      return;
    }
    // Not reachable from the state before the step (thread-local, or just allocated): its content now.
    this.content(owner, true);
    this.pushValue();
  }

  private pushValue(): void {
    this.readIdx.push(-1);
    this.readA.push(la);
    this.readB.push(lb);
  }

  /** Hashes the shared state as it is now (owners in canonical order). */
  walk(): void {
    this.ids = new Map();
    this.objIds = new Map();
    this.queue = [];
    this.ha = [];
    this.hb = [];
    const tracker = this.exec.tracker;
    this.idOf(this.exec.state as object);
    for (const b of this.exec.buffers) this.idOf(b);
    let ga = 0x2545f491;
    let gb = 0x4f6cdd1d;
    for (let i = 0; i < this.queue.length; i++) {
      const o = this.queue[i]!;
      la = 0x1b873593 ^ i;
      lb = 0xcc9e2d51 ^ i;
      const freed = tracker.freedBy(o);
      if (freed !== undefined) {
        m1(0xf3ee);
        mixString(freed);
      }
      this.content(o);
      this.ha.push(la);
      this.hb.push(lb);
      ga = Math.imul(ga ^ la, 0x5bd1e995);
      ga ^= ga >>> 15;
      gb = Math.imul(gb ^ lb, 0x27d4eb2d);
      gb ^= gb >>> 13;
    }
    for (const get of taskStates)
      for (const t of this.exec.tasks) {
        const v = get(t);
        if (v === undefined) continue;
        la = ga;
        lb = gb;
        m1(0x7a57);
        m1(t.id);
        m1(v);
        ga = la;
        gb = lb;
      }
    this.stateA = ga;
    this.stateB = gb;
  }

  /**
   * The fingerprint of the current state as two 32-bit lanes: the last {@link walk}, the threads'
   * histories, the halt flag and the set of findings so far.
   */
  fingerprint(out: Uint32Array): void {
    la = this.stateA;
    lb = this.stateB;
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

  private idOf(o: object): number {
    let id = this.ids.get(o);
    if (id === undefined) {
      id = this.queue.length;
      this.ids.set(o, id);
      this.queue.push(o);
    }
    return id;
  }

  private isOwner(o: object): boolean {
    return this.locOwners.has(o) || this.exec.tracker.isNamed(o);
  }

  private value(v: unknown, frozen = false): void {
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
        const id = this.ids.get(v);
        if (id !== undefined) {
          m1(12);
          m1(id);
          return;
        }
        if (!frozen && this.isOwner(v)) {
          m1(12);
          m1(this.idOf(v));
          return;
        }
        if (this.inProgress.has(v)) {
          m1(13);
          return;
        }
        if (!frozen && !this.objIds.has(v)) this.objIds.set(v, this.objIds.size);
        this.inProgress.add(v);
        const freed = this.exec.tracker.freedBy(v);
        if (freed !== undefined) {
          m1(0xf3ee);
          mixString(freed);
        }
        this.content(v, frozen);
        this.inProgress.delete(v);
        return;
      }
    }
  }

  private content(o: object, frozen = false): void {
    if (Array.isArray(o)) {
      m1(15);
      m1(o.length);
      for (let i = 0; i < o.length; i++) this.value(o[i], frozen);
      return;
    }
    if (o instanceof Map) {
      m1(16);
      m1(o.size);
      for (const [k, v] of o) {
        this.value(k, frozen);
        this.value(v, frozen);
      }
      return;
    }
    if (o instanceof Set) {
      m1(17);
      m1(o.size);
      for (const v of o) this.value(v, frozen);
      return;
    }
    if (ArrayBuffer.isView(o)) {
      const bytes = new Uint8Array(o.buffer, o.byteOffset, o.byteLength);
      m1(18);
      m1(bytes.length);
      for (let i = 0; i < bytes.length; i++) m1(bytes[i]!);
      return;
    }
    const proto = Object.getPrototypeOf(o) as { constructor?: { name?: string } } | null;
    const cname = proto?.constructor?.name;
    if (cname !== undefined && cname !== "Object") mixString(cname);
    const keys = Object.keys(o);
    m1(keys.length);
    const r = o as Record<string, unknown>;
    for (let i = 0; i < keys.length; i++) {
      mixString(keys[i]!);
      this.value(r[keys[i]!], frozen);
    }
  }
}

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
