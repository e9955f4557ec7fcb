/**
 * Tracked plain state: the soundness guard of the partial-order reduction.
 *
 * The reduction reorders two steps only when their recorded accesses do not conflict, so a step
 * that changes shared state without recording it can hide a race: exhaustive search then says
 * `pass` where an unreduced search fails. racelab's own objects (`Cell`, locks, `refcount_t`,
 * the XArray, ...) record their accesses themselves; everything else a scenario keeps in its state
 * (plain objects, arrays, `Map`s, `Set`s, instances of the scenario's own classes) is handed to the
 * threads through a Proxy that records every field read (R) and write (W) as an access of its own
 * location, `state.field` or `state.arr[3]`. So a model written with plain fields gets the same
 * verdict as one written with `Cell`s under sequential consistency, and nothing is hidden.
 *
 * Locations of tracked fields are named after the object they belong to:
 * - objects reachable from the state when `setup()` returns get ids in a deterministic walk;
 * - an object that enters shared state later (stored into a tracked field or a `Cell`, or
 *   returned by `kmalloc()`) is named after the thread that published it and that thread's count
 *   of publications (`ext4_fallocate#2`), so the same event names the same object in every
 *   execution;
 * - any other object shares one conservative location per field name (`*.refcount`).
 *
 * Objects whose class is marked with {@link selfTracked} (all of racelab's kernel objects) are
 * passed through unwrapped: they record their own accesses, finer than fields (a `Counter.add`
 * commutes with another add). Their fields should be read through their functions; reading one
 * directly in a step (`lock.owner`) is not recorded.
 *
 * What no Proxy can see: variables a thread body closes over (`let freed = false` in `setup`,
 * module-level variables). Keep shared state reachable from the state object `setup()` returns;
 * `check()` also samples unreduced executions and compares their outcomes with the reduced search
 * (see check.ts), so such a mistake is reported rather than passed.
 *
 * Memory model: tracked plain fields are sequentially consistent (a store is visible at once);
 * model fields whose ordering matters under tso/pso as `Cell`s with READ_ONCE/WRITE_ONCE.
 *
 * Sampling (random, PCT and timed runs, which record nothing): the proxies and the walk cost
 * about a third of an execution, so a sampling execution first runs on the raw state, unwalked
 * ({@link Tracker} in `sampling` mode). In a run that records nothing, the proxies matter only
 * through names (in findings' messages) and freed objects (use-after-free), so the tracker gives
 * up wherever a name or a freed object could come into play, and the runner runs the same
 * execution again, tracked, and the rest of the run too (runner.ts): at the first plain object a
 * thread loads from a `Cell` or a list, stores into a `Cell`, or allocates (`kmalloc`), at the
 * first `kfree`, and at any request for an object's name. Results are the same either way (a
 * test runs every bundled configuration both ways), with one exception: `===` between an object
 * a thread created itself and the same object read back from a plain field of the state is true
 * on the raw state, false when tracked (the read returns the proxy). Compare fields or ids, or
 * allocate with `kmalloc()`, whose result is the tracked object.
 */
import { ModelError } from "../errors.js";
import { access, autoLoc, isRecording, R, readHook, W } from "./access.js";
export { AUTO_LOC_BASE, autoLoc, autoLocName } from "./access.js";

const SELF = Symbol.for("racelab.selfTracked");
const HOLDS = Symbol.for("racelab.holds");
const RAW = Symbol.for("racelab.raw");

/**
 * Thrown by a {@link Tracker} in sampling mode where tracking is needed (see the module
 * comment); the runner catches it and runs the execution again, tracked. Never a finding.
 */
export const NEEDS_TRACKING: unique symbol = Symbol("racelab.needsTracking");

/**
 * Marks classes whose instances record their own accesses (racelab's kernel objects), so the
 * tracker passes them through unwrapped. A user-written primitive that calls `access()` itself
 * (or goes through {@link step}) may mark its class too; an unmarked class is tracked field by
 * field, which is always sound.
 */
export function selfTracked(...classes: (abstract new (...args: never[]) => unknown)[]): void {
  for (const c of classes) Object.defineProperty(c.prototype, SELF, { value: true, enumerable: false });
}

/**
 * Marks a self-tracked class whose instances hold plain values in the named fields (a `Cell`'s
 * `value`), so objects stored there at setup get names too.
 */
export function holdsValues(c: abstract new (...args: never[]) => unknown, ...fields: string[]): void {
  Object.defineProperty(c.prototype, HOLDS, { value: fields, enumerable: false });
}

/** True when `o` records its own accesses (see {@link selfTracked}). */
export function isSelfTracked(o: object): boolean {
  return (o as Record<symbol, unknown>)[SELF] === true;
}

/** The object behind a tracking proxy (or `o` itself). */
export function untracked<T>(o: T): T {
  if (o !== null && typeof o === "object") {
    const raw = (o as Record<symbol, unknown>)[RAW];
    if (raw !== undefined) return raw as T;
  }
  return o;
}

/** Who is running (for allocation names and use-after-free reports). */
export interface TrackHost {
  /** Name of the thread whose step is running, or null outside steps. */
  runningThread(): string | null;
  /** Counts a publication by the running thread; returns its index (0, 1, ...). */
  publish(): number;
  /** Reports a use of freed memory from inside a step (a `bug` finding that stops the execution). */
  useAfterFree(what: string, freedBy: string): never;
}

/** `obj.field`, or `ptr->field` for an object named after the pointer to it. */
function fieldName(id: string, key: string | symbol): string {
  return id.endsWith("->") ? `${id}${String(key)}` : `${id}.${String(key)}`;
}

/** The (always empty) maps of a sampling-mode tracker. */
const NO_IDS: Map<object, string> = new Map();
const NO_PROXIES: Map<object, object> = new Map();

/** Location of each (object name, field), shared by every execution (names are deterministic). */
const fieldLocCache = new Map<string, Map<string | symbol, number>>();

const MAP_READ = new Set(["get", "has", "forEach", "entries", "keys", "values", "size", Symbol.iterator]);

const listHeads = new WeakSet<object>();
let listHeadCount = 0;

/**
 * Marks `o` as a list_head (LIST_HEAD_INIT(), src/linux/list.ts): its `next`/`prev` fields are
 * list links (the setup walk names an entry's head after the entry, plain-fields.ts names the
 * links). @internal
 */
export function markListHead(o: object): void {
  listHeads.add(o);
  listHeadCount++;
}

/** Whether `o` (raw) is a list_head made by LIST_HEAD_INIT(). @internal */
export function isListHead(o: unknown): boolean {
  return typeof o === "object" && o !== null && listHeads.has(o);
}

/** How many list_heads this process has made: check() looks for unlocked list links under sc only once some exist. @internal */
export function listHeadsMade(): number {
  return listHeadCount;
}

/** embed()'s link from a member to the object it is embedded in (src/linux/slab.ts). @internal */
export const CONTAINER = Symbol.for("racelab.container_of");

/** Whether `v` is a member embedded in `container` (embed()): reading the field that holds it is `&container->member`. */
function isEmbeddedIn(v: unknown, container: object): boolean {
  return v !== null && typeof v === "object" && (v as Record<symbol, unknown>)[CONTAINER] === container;
}

/** The tracker of one execution: names objects, wraps them in proxies, knows what was freed. */
export class Tracker {
  // Plain Maps, not WeakMaps: a tracker lives as long as its execution, and a WeakMap costs far
  // more to create and to collect (ephemerons), which random sampling does once per execution.
  private readonly ids: Map<object, string>;
  private readonly proxies: Map<object, object>;
  /** Objects kfree()d, by the thread that freed them; created at the first kfree(). */
  private freed: Map<object, string> | null = null;
  private nextId = 0;
  /** Kernel and opaque objects the setup walk reached, in its order (repeats included). */
  private setupObjs: object[] | null = null;
  /** Frozen objects the setup walk went through (once each: a frozen graph may have cycles). */
  private frozenSeen: Set<object> | null = null;
  /** Their numbers (first occurrence), built at the first {@link setupOrdinal} call. */
  private setupOrd: Map<object, number> | null = null;
  /** Sampling mode: set once tracking turned out to be needed ({@link NEEDS_TRACKING} thrown). */
  needsTracking = false;

  /**
   * `sampling`: nothing is named or wrapped; the tracker throws {@link NEEDS_TRACKING} wherever
   * names, proxies or freed objects could matter (see the module comment).
   */
  constructor(
    private readonly host: TrackHost,
    /** True for an execution of a sampling run on the raw state (nothing named or wrapped). */
    readonly sampling = false,
  ) {
    // (Sampling names and wraps nothing: no maps to allocate per execution.)
    this.ids = sampling ? NO_IDS : new Map();
    this.proxies = sampling ? NO_PROXIES : new Map();
  }

  /** Names every plain object reachable from the state returned by setup() (deterministic walk); nothing in sampling mode. */
  walk(root: unknown, name = "state"): void {
    if (this.sampling) return;
    this.visit(root, name, name);
    // A list_head's links last: an entry's head is named after the entry (`state.obj.node`), not
    // after the neighbour it is linked from (`state.list.next`).
    const links = this.links;
    for (let i = 0; links !== null && i < links.length; i += 2) this.visit(links[i], links[i + 1] as string, name);
    this.links = null;
  }

  /** The setup walk's list links, visited after everything else: (object, path) pairs. */
  private links: unknown[] | null = null;

  /** Gives up on sampling untracked: the runner runs the execution again, tracked. */
  private giveUp(): never {
    this.needsTracking = true;
    throw NEEDS_TRACKING;
  }

  /**
   * One object of {@link walk} at `path` (`name`: the walk's root name, given to the first object
   * named). A child's path is built only when the child can take a name or hold one (a plain or
   * value-holding object), so walking an array of racelab objects allocates no strings.
   */
  private visit(o: unknown, path: string, name: string): void {
    if (o === null || typeof o !== "object") return;
    if (this.ids.has(o)) return;
    if (isSelfTracked(o)) {
      (this.setupObjs ??= []).push(o);
      // Not wrapped, but what it holds (a Cell's value) may be plain state.
      const holds = (o as Record<symbol, unknown>)[HOLDS] as string[] | undefined;
      // What a Cell points to is named as C would: `state.head->` (fields: `state.head->data`).
      if (holds !== undefined) for (const k of holds) this.visit((o as Record<string, unknown>)[k], `${path}->`, name);
      return;
    }
    if (isOpaque(o)) {
      (this.setupObjs ??= []).push(o);
      if (Object.isFrozen(o) && !(this.frozenSeen ??= new Set()).has(o)) {
        this.frozenSeen.add(o);
        this.visitFrozen(o, path, name);
      }
      return;
    }
    this.ids.set(o, this.nextId === 0 ? name : path);
    this.nextId++;
    if (o instanceof Map) {
      for (const [k, v] of o) if (walkable(v)) this.visit(v, `${path}[${String(k)}]`, name);
      return;
    }
    if (o instanceof Set) return;
    const arr = Array.isArray(o);
    const head = listHeadCount > 0 && listHeads.has(o);
    for (const k of Object.keys(o)) {
      const v = (o as Record<string, unknown>)[k];
      if (!walkable(v)) continue;
      if (head && (k === "next" || k === "prev")) (this.links ??= []).push(v, `${path}.${k}`);
      else this.visit(v, arr ? `${path}[${k}]` : `${path}.${k}`, name);
    }
  }

  /**
   * What a frozen object of the state holds (see {@link visit}): threads read it directly, not
   * through a proxy (a Proxy must return a frozen field's own value), so what it holds must be
   * unable to change unseen: primitives, racelab's kernel objects (which record their own
   * accesses; visited for the values they hold, as under a plain object), or frozen objects in
   * turn (visited, so that the frozen objects in them keep their setup ordinals). Throws ModelError
   * naming the path of anything else: a plain object, array or instance that is not frozen, or a
   * `Map` or `Set` (freezing one leaves its entries free to change).
   */
  private visitFrozen(o: object, path: string, name: string): void {
    const unseen = (at: string, what: string) =>
      new ModelError(
        `${at}: ${what}: threads read a frozen object of the state directly, without the tracking proxy, so its changes would ` +
          `go unrecorded and the reduction could miss a race; freeze ${at} as well (a Map or Set: make it a frozen array, or do not ` +
          `freeze its holder)`,
      );
    if (o instanceof Map || o instanceof Set) throw unseen(path, `a frozen ${o instanceof Map ? "Map" : "Set"} still changes`);
    const arr = Array.isArray(o);
    const keys = Object.keys(o);
    for (let i = 0; i < keys.length; i++) {
      const v = (o as Record<string, unknown>)[keys[i]!];
      // (As the walk of a plain object: a kernel object is visited only for the values it holds.)
      if (!walkable(v)) continue;
      const at = arr ? `${path}[${keys[i]!}]` : `${path}.${keys[i]!}`;
      if (!isSelfTracked(v as object) && !isOpaque(v as object)) throw unseen(at, "a frozen object holds an object that is not frozen");
      this.visit(v, at, name);
    }
  }

  /** Names an object entering shared state now (a store, a publication, kmalloc). */
  name(o: object, label?: string): void {
    if (this.ids.has(o) || isOpaque(o)) return;
    const who = this.host.runningThread();
    if (who === null) return; // setup: walked when setup returns
    if (this.sampling) {
      if (!isSelfTracked(o)) this.giveUp();
      return;
    }
    this.ids.set(o, `${label ?? who}#${this.host.publish()}`);
  }

  /**
   * The number of a kernel object (self-tracked) or opaque object (frozen, a Date, ...) that the
   * walk of the state `setup()` returned reached, in walk order: the same object in every
   * execution. Undefined for others (state caching observes which such object a thread holds).
   */
  setupOrdinal(o: object): number | undefined {
    if (this.setupOrd === null) {
      this.setupOrd = new Map();
      for (const x of this.setupObjs ?? []) if (!this.setupOrd.has(x)) this.setupOrd.set(x, this.setupOrd.size);
    }
    return this.setupOrd.get(o);
  }

  /** How many objects have a name (it grows as objects are published). */
  namedCount(): number {
    return this.ids.size;
  }

  /** Every named object with its name, in the order it was named. */
  named(): IterableIterator<[object, string]> {
    return this.ids.entries();
  }

  /** Marks an object freed by the running thread (kfree); later field accesses are use-after-free. */
  markFreed(o: object, by: string): void {
    if (this.sampling) this.giveUp();
    (this.freed ??= new Map()).set(untracked(o), by);
  }

  /** Who freed `o`, or undefined when it is live. */
  freedBy(o: object): string | undefined {
    return this.freed?.get(untracked(o));
  }

  /** True when `o` (unwrapped) has a name: it was reachable at setup or was published since. */
  isNamed(o: object): boolean {
    if (this.sampling) this.giveUp();
    return this.ids.has(o);
  }

  /** The location name prefix of an object. */
  idOf(o: object): string {
    if (this.sampling) this.giveUp();
    return this.ids.get(untracked(o)) ?? "*";
  }

  /**
   * The locations of every field of a plain object, as its tracking proxy records them: one per
   * own field (`foo#0.refcount`) plus the object's key set (`foo#0.<keys>`); a `Map` or `Set` has
   * the one location of its entries. A step that records W on all of them conflicts with every
   * access to the object (kfree(), src/linux/slab.ts). Empty for self-tracked and opaque objects.
   */
  fieldLocs(o: object): number[] {
    if (this.sampling) this.giveUp();
    const raw = untracked(o);
    if (isSelfTracked(raw) || isOpaque(raw)) return [];
    if (raw instanceof Map || raw instanceof Set) return [this.loc(raw, "<entries>")];
    return [...Object.keys(raw).map((k) => this.loc(raw, k)), this.loc(raw, "<keys>")];
  }

  /** Wraps `v` for a thread: plain objects become tracking proxies; everything else is returned as is. */
  wrap<T>(v: T): T {
    if (v === null || typeof v !== "object") return v;
    const o = v as unknown as object;
    if ((o as Record<symbol, unknown>)[RAW] !== undefined) return v;
    if (isSelfTracked(o) || isOpaque(o)) return v;
    if (this.sampling) this.giveUp();
    let p = this.proxies.get(o);
    if (p === undefined) {
      p = o instanceof Map || o instanceof Set ? this.collectionProxy(o) : this.objectProxy(o);
      this.proxies.set(o, p);
    }
    return p as T;
  }

  private loc(o: object, key: string | symbol): number {
    const id = this.ids.get(o) ?? "*";
    let m = fieldLocCache.get(id);
    if (m === undefined) {
      m = new Map();
      fieldLocCache.set(id, m);
    }
    let l = m.get(key);
    if (l === undefined) {
      l = autoLoc(fieldName(id, key));
      m.set(key, l);
    }
    return l;
  }

  /** Records an access to a field (only while recording: random runs skip the bookkeeping). */
  private rec(o: object, key: string | symbol, cls: number): void {
    if (isRecording()) access(this.loc(o, key), cls, o, key);
    else if (readHook !== null && cls === R) readHook(-1, o, key);
  }

  private checkLive(o: object, key: string | symbol): void {
    if (this.freed === null) return;
    const by = this.freed.get(o);
    if (by !== undefined) this.host.useAfterFree(fieldName(this.ids.get(o) ?? "object", key), by);
  }

  /** The handler of every object proxy of this tracker (created with the first). */
  private handler: ProxyHandler<object> | null = null;

  private objectProxy(o: object): object {
    return new Proxy(o, (this.handler ??= this.objectHandler()));
  }

  private objectHandler(): ProxyHandler<object> {
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const tr = this;
    return {
      get(target, key, receiver) {
        if (typeof key === "symbol") return key === RAW ? target : Reflect.get(target, key, receiver);
        const v = Reflect.get(target, key, receiver) as unknown;
        // `&obj->member` of a member embedded in it (embed(), src/linux/slab.ts) loads nothing: no
        // access (a use-after-free is the member's own access in the step that uses it, and a
        // thread may take it before its first step, as `refcount_dec_and_test(&obj->ref)` as a
        // thread's first step does; new-user trials 13 and 15). The field never changes: an
        // embedded member is made in setup() with its struct.
        const live = tr.freed !== null;
        const rec = isRecording() || readHook !== null;
        if ((live || rec) && !isEmbeddedIn(v, target)) {
          if (live) tr.checkLive(target, key);
          if (rec) tr.rec(target, key, R);
        }
        if (v === null || typeof v !== "object") return v;
        // (Self-tracked objects are never wrapped, so never in `proxies`: test them first, the
        // common case of a state made of racelab objects.)
        if (isSelfTracked(v)) return v;
        const known = tr.proxies.get(v);
        if (known !== undefined) return known;
        // A frozen field must be returned as is (Proxy invariant).
        const d = Object.getOwnPropertyDescriptor(target, key);
        if (d !== undefined && d.configurable === false && d.writable === false) return v;
        return tr.wrap(v);
      },
      set(target, key, value, receiver) {
        if (typeof key === "symbol") return Reflect.set(target, key, value, receiver);
        tr.checkLive(target, key);
        const had = Object.prototype.hasOwnProperty.call(target, key);
        tr.rec(target, key, W);
        if (!had) tr.rec(target, "<keys>", W);
        const raw = untracked(value);
        if (raw !== null && typeof raw === "object") tr.name(raw as object);
        return Reflect.set(target, key, raw, target);
      },
      deleteProperty(target, key) {
        if (typeof key !== "symbol") {
          tr.checkLive(target, key);
          tr.rec(target, key, W);
          tr.rec(target, "<keys>", W);
        }
        return Reflect.deleteProperty(target, key);
      },
      has(target, key) {
        if (typeof key !== "symbol") tr.rec(target, key, R);
        return Reflect.has(target, key);
      },
      ownKeys(target) {
        tr.rec(target, "<keys>", R);
        return Reflect.ownKeys(target);
      },
      defineProperty(target, key, d) {
        if (typeof key !== "symbol") {
          tr.rec(target, key, W);
          tr.rec(target, "<keys>", W);
        }
        return Reflect.defineProperty(target, key, d);
      },
    };
  }

  /** A Map or Set: one location for the whole collection; reads R, updates W. */
  private collectionProxy(o: Map<unknown, unknown> | Set<unknown>): object {
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const tr = this;
    return new Proxy(o, {
      get(target, key) {
        if (key === RAW) return target;
        const loc = tr.loc(target, "<entries>");
        if (key === "size") {
          access(loc, R, target);
          return target.size;
        }
        const f = Reflect.get(target, key, target) as unknown;
        if (typeof f !== "function") return f;
        const read = MAP_READ.has(key);
        return (...args: unknown[]) => {
          tr.checkLive(target, key);
          access(loc, read ? R : W, target);
          if (!read) for (const a of args) if (a !== null && typeof a === "object") tr.name(untracked(a) as object);
          const r = (f as (...a: unknown[]) => unknown).apply(target, args.map(untracked));
          return key === "get" ? tr.wrap(r) : r;
        };
      },
    });
  }
}

/** True when {@link Tracker.walk} has anything to do with `v`: an object that is not self-tracked, or one that holds values. */
function walkable(v: unknown): boolean {
  return v !== null && typeof v === "object" && (!isSelfTracked(v) || (v as Record<symbol, unknown>)[HOLDS] !== undefined);
}

/** Objects never wrapped: functions aside, built-ins whose methods need their real receiver. */
function isOpaque(o: object): boolean {
  return (
    o instanceof Date ||
    o instanceof RegExp ||
    o instanceof Promise ||
    ArrayBuffer.isView(o) ||
    o instanceof ArrayBuffer ||
    o instanceof WeakMap ||
    o instanceof WeakSet ||
    Object.isFrozen(o)
  );
}
