/**
 * Shared-memory access recording, the basis of the partial-order reduction.
 *
 * Every modeled kernel object owns one or more *locations* (small integers, allocated in a fixed
 * order while a scenario builds its initial state, so the same location means the same object in
 * every execution). A step records each access it makes as `loc * 8 + cls`. Two steps of different
 * threads are *dependent* when they access a common location with conflicting classes; the
 * exhaustive explorer only reorders independent steps away.
 *
 * Classes and their conflicts (a conservative independence relation, Godefroid 1996):
 * - `R` plain read: commutes with reads.
 * - `W` plain write (or read-modify-write whose result is used): conflicts with everything.
 * - `ADD` atomic add whose result is not used (`percpu_counter_add`, `atomic_inc`): commutes with
 *   other ADDs, conflicts with reads and writes.
 * - `LS` shared lock operation (`down_read`, `up_read`): commutes with other shared operations.
 * - `LX` exclusive lock operation (`down_write`, `up_write`, `spin_lock`, `mutex_lock`, unlocks).
 */
import { ModelError } from "../errors.js";
import type { Label } from "./task.js";

/** Access class: plain read; commutes with other reads. */
export const R = 0;
/** Access class: plain write, or a read-modify-write whose result is used; conflicts with every class. */
export const W = 1;
/** Access class: atomic add whose result is not used (`atomic_inc`, `percpu_counter_add`); commutes with other `ADD`s. */
export const ADD = 2;
/** Access class: shared lock operation (`down_read`, `up_read`, `read_lock`); commutes with other `LS`. */
export const LS = 3;
/** Access class: exclusive lock operation (`down_write`, `spin_lock`, `mutex_lock`, any unlock); conflicts with every class. */
export const LX = 4;

/** The access classes that commute with themselves, as a mask of `1 << class` bits. */
export const SELF_COMMUTING = (1 << R) | (1 << ADD) | (1 << LS);

let recording: number[] | null = null;
let nextLoc = 0;
const locNames: string[] = [];

/**
 * Allocates a location; call only while a scenario builds its initial state. `owner` says where
 * the location's value lives, for the state-caching search (fingerprint.ts), which hashes what
 * each step reads: the object whose fields hold it (pass `this` in a constructor), or, finer, a
 * function returning the value (`() => this.st[i]` for one entry of a table). A location without
 * an owner cannot be hashed, so a check that reads one falls back to the sleep-set search and
 * says so in its warnings.
 */
export function newLoc(name: string, owner?: object | (() => unknown), container?: object): number {
  if (stepping)
    throw new Error(
      `${name}: racelab objects (Cell, locks, refcount_t, ...) must be created in setup(), not inside a step (their locations would differ between executions); create it in setup() and initialise it in the step`,
    );
  locNames[nextLoc] = name;
  locOwners[nextLoc] = owner;
  locContainers[nextLoc] = typeof owner === "function" ? container : undefined;
  return nextLoc++;
}

let stepping = false;
const locOwners: (object | (() => unknown) | undefined)[] = [];
const locContainers: (object | undefined)[] = [];
/** The number of locations {@link newLoc} allocated since the last {@link resetLocations}. */
export function locationCount(): number {
  return nextLoc;
}

/** The container given to {@link newLoc} with a value-function owner (undefined when none was given). */
export function locContainer(loc: number): object | undefined {
  return locContainers[loc];
}

/** The owner given to {@link newLoc} for a location (undefined when none was given). */
export function locOwner(loc: number): object | (() => unknown) | undefined {
  return locOwners[loc];
}

/**
 * Called while set, whether or not accesses are being recorded, with every access a step
 * observes: every read (class R), and every access of another class but ADD to a location that
 * is not a tracked field (a value-returning atomic records W, a trylock LX or LS, and what they
 * return shapes the thread); not with a {@link blindAccess}. `target` and `key` are the plain
 * object and field of a tracked field (track.ts), else undefined. The state-caching search
 * (fingerprint.ts) uses it to hash what each thread has observed.
 */
export type ReadHook = (loc: number, target: object | undefined, key: string | symbol | undefined) => void;
/** The installed {@link ReadHook} (a live binding: read it, set it with {@link setReadHook}). */
export let readHook: ReadHook | null = null;

/**
 * Called while set with every access but a read (class R) a step makes, blind or not: the
 * location and, for a tracked field, its plain object. The state-caching search uses it to
 * rehash only the objects a step changed.
 */
export type WriteHook = (loc: number, target: object | undefined) => void;
/** The installed {@link WriteHook} (a live binding: set it with {@link setWriteHook}). */
export let writeHook: WriteHook | null = null;

/**
 * Told when a thread enters and returns from a function wrapped with `deadOnReturn()`
 * (task.ts), and at its labels (`atLabel()`), while `deadOnReturn()` calls are tracked
 * ({@link trackScopes}): the state-caching search then forgets what the thread observed inside it but the
 * return value (see fingerprint.ts). Set only while a step runs.
 */
export interface ScopeHook {
  /** Thread `tid` calls a `deadOnReturn()` function. */
  enter(tid: number): void;
  /** Thread `tid` returns `value` from the innermost `deadOnReturn()` function it entered. */
  leave(tid: number, value: unknown): void;
  /** Thread `tid` is at label `at` of the innermost `deadOnReturn()` function: only its arguments are live. */
  label(tid: number, at: Label): void;
}
/**
 * Whether `deadOnReturn()` functions track their calls (a live binding, set with
 * {@link setTrackScopes}): on for a whole state-caching search, replays included, so that the
 * entries a node keeps match the calls its threads are in; off elsewhere, where a wrapped
 * function runs as the bare generator, at no cost.
 */
export let trackScopes = false;

/** Turns the tracking of `deadOnReturn()` calls on or off (the state-caching search does). */
export function setTrackScopes(on: boolean): void {
  trackScopes = on;
}

/** The installed {@link ScopeHook} (a live binding: set it with {@link setScopeHook}). */
export let scopeHook: ScopeHook | null = null;

/** Installs (or removes, with null) the {@link ScopeHook}. */
export function setScopeHook(h: ScopeHook | null): void {
  scopeHook = h;
}

/** Installs (or removes, with null) the {@link WriteHook}. */
export function setWriteHook(h: WriteHook | null): void {
  writeHook = h;
}

let fieldHook: ((loc: number, cls: number, target: object) => void) | null = null;
/**
 * Installs (or removes, with null) a function called with every access to a tracked plain field
 * (a proxy-tracked field of the state, track.ts) in a step (see plain-fields.ts).
 * @internal
 */
export function setFieldHook(h: ((loc: number, cls: number, target: object) => void) | null): void {
  fieldHook = h;
}

/** Installs (or removes, with null) the {@link ReadHook}. */
export function setReadHook(h: ReadHook | null): void {
  readHook = h;
}

/**
 * Math.random() inside a step is a model error (the step's `error` finding names the thread and
 * the step): a thread must do the same thing each time a schedule replays it, or the search
 * explores a tree that changes under it and its verdict means nothing (a new user's model passed,
 * failed or was a model error from one run to the next). Outside steps it is Math.random().
 */
const realRandom = Math.random;
Math.random = function random(): number {
  if (stepping)
    throw new ModelError(
      "Math.random() in a step: racelab replays schedules, so a thread must do the same each time (it may depend only on the state setup() builds, cfg and what it reads); to model a choice, give the step alternatives: yield* step(t, SITE, { choices: 2 }, (choice) => ...) explores each",
    );
  return realRandom();
};

/** Marks a step running (no location may be allocated then) or finished; the engine calls this around each step. */
export function setStepping(b: boolean): void {
  stepping = b;
  stepAccesses = 0;
}

/**
 * Accesses one step may make. A loop inside a step that waits for another thread
 * (`while (!READ_ONCE(t, s.flag)) {}` without a `yield` in it) never ends, since no other thread
 * runs until the step yields; past this bound it is a model error rather than a process that
 * runs out of memory (a new user's check died in V8 with "invalid size error", exit 133).
 */
const MAX_STEP_ACCESSES = 1_000_000;
let stepAccesses = 0;

function tooManyAccesses(): never {
  stepAccesses = 0;
  throw new ModelError(
    `the step made more than ${MAX_STEP_ACCESSES.toLocaleString("en-US")} accesses without yielding: a loop inside a step that waits for another thread never ends (no other thread runs until the step yields); yield a site in the loop, and bound it with t.retry(loop, bound)`,
  );
}

/** True while a step runs (false in setup and while a thread is created, before its first yield). */
export function isStepping(): boolean {
  return stepping;
}

/** First location number of tracked fields (above every `newLoc()` and store-buffer location). */
export const AUTO_LOC_BASE = 1 << 24;
const autoLocs = new Map<string, number>();
const autoNames: string[] = [];

/** The location of a tracked field, by name; the same name is the same location in every execution. */
export function autoLoc(name: string): number {
  let l = autoLocs.get(name);
  if (l === undefined) {
    l = AUTO_LOC_BASE + autoNames.length;
    autoNames.push(name);
    autoLocs.set(name, l);
  }
  return l;
}

/** The name of a tracked field's location, or undefined for other locations. */
export function autoLocName(loc: number): string | undefined {
  return loc >= AUTO_LOC_BASE ? autoNames[loc - AUTO_LOC_BASE] : undefined;
}

/** Name given to a location at allocation (for diagnostics). */
export function locName(loc: number): string {
  return autoLocName(loc) ?? locNames[loc] ?? `loc${loc}`;
}

/** Resets the location allocator; the engine calls it before each scenario setup. */
export function resetLocations(): void {
  nextLoc = 0;
  autoValues.clear();
  freedLocs = null;
}

/**
 * Locations of racelab objects freed with the object they are embedded in (kfree() of a struct
 * with an embedded `kref`, `refcount_t`, lock; src/linux/slab.ts), each with the thread that
 * freed them; null until the first such kfree() of the execution.
 */
let freedLocs: Map<number, string> | null = null;
/** Called with a step's access to a freed location (see {@link markLocationsFreed}); it reports and stops the execution. */
let onFreedAccess: ((loc: number, freedBy: string) => void) | null = null;

/**
 * Marks locations freed by thread `by` (kfree() of the struct a racelab object is embedded in): a
 * later access to one of them inside a step ({@link access}, {@link blindAccess}) is reported by
 * the handler the engine installs with {@link setFreedAccessHandler} (a `use-after-free` bug).
 * Cleared with each new execution.
 */
export function markLocationsFreed(locs: readonly number[], by: string): void {
  freedLocs ??= new Map();
  for (const l of locs) freedLocs.set(l, by);
}

/** Installs what an access to a freed location does (the engine: a `use-after-free` bug finding). */
export function setFreedAccessHandler(f: (loc: number, freedBy: string) => void): void {
  onFreedAccess = f;
}

function freedAccess(loc: number): void {
  const by = freedLocs!.get(loc);
  if (by !== undefined && stepping && onFreedAccess !== null) onFreedAccess(loc, by);
}

const autoValues = new Map<number, () => unknown>();

/**
 * Gives a location made with {@link autoLoc} a function returning its value in this execution,
 * so state caching can hash what a step observes of it (a thread's `__state`, created lazily
 * inside a step, where {@link newLoc} is not allowed). Cleared with each new execution.
 */
export function setAutoLocValue(loc: number, value: () => unknown): void {
  autoValues.set(loc, value);
}

/** The value function {@link setAutoLocValue} gave `loc` in this execution, or undefined. */
export function autoLocValue(loc: number): (() => unknown) | undefined {
  return autoValues.get(loc);
}

/** True while a step's accesses are being recorded (exhaustive search, invariants); false in random runs. */
export function isRecording(): boolean {
  return recording !== null;
}

/**
 * Records an access of class `cls` to `loc` in the step being executed (no-op when not recording).
 * `target`, `key`: the plain object and field whose location `loc` is (track.ts only).
 */
export function access(loc: number, cls: number, target?: object, key?: string | symbol): void {
  if (++stepAccesses > MAX_STEP_ACCESSES && stepping) tooManyAccesses();
  if (freedLocs !== null) freedAccess(loc);
  if (directWriteHook !== null && target === undefined && (cls === W || cls === ADD)) directWriteHook(loc);
  if (recording !== null) recording.push(loc * 8 + cls);
  // What the step observes (state-caching histories): a read, and any access to a kernel object's
  // location but an ADD (a value-returning RMW such as folio_try_get() records W; a trylock LX).
  if (fieldHook !== null && target !== undefined) fieldHook(loc, cls, target);
  if (readHook !== null && (cls === R || (target === undefined && cls !== ADD))) readHook(loc, target, key);
  if (writeHook !== null && cls !== R) writeHook(loc, target);
}

/**
 * An access to the engine's own bookkeeping (a thread's park state past a retry bound, see
 * Task.retry): recorded for the partial-order reduction and seen by state caching's write hook,
 * but no store to memory (no store-buffer ordering) and no observation of the thread's.
 * @internal
 */
export function bookkeepingAccess(loc: number, cls: number): void {
  if (recording !== null) recording.push(loc * 8 + cls);
  if (writeHook !== null && cls !== R) writeHook(loc, undefined);
}

/**
 * Records an access that tells the step nothing, like {@link access} but unseen by the
 * {@link ReadHook}: a lock release, the taking of a lock a blocking acquire waited for, a
 * kfree() (they return nothing, and what else the lock or object held does not shape the thread;
 * a wrong release or a double free is a finding, which state caching keeps apart anyway). The
 * partial-order reduction sees it as any access. For racelab's primitives and user-written ones
 * of the same kind; anything that returns a value or branches on the location's state must use
 * {@link access}, or state caching may merge states that the thread tells apart.
 */
export function blindAccess(loc: number, cls: number): void {
  if (freedLocs !== null) freedAccess(loc);
  if (directWriteHook !== null && (cls === W || cls === ADD)) directWriteHook(loc);
  if (recording !== null) recording.push(loc * 8 + cls);
  if (writeHook !== null && cls !== R) writeHook(loc, undefined);
}

/** Called with the location of every write or add (see {@link setDirectWriteHook}), or null. */
let directWriteHook: ((loc: number) => void) | null = null;

/**
 * Installs what a write (W) or add (ADD) of a location does first, or removes it (null): the
 * engine's store buffers (memory.ts) make the stores the write may not overtake visible. Set per
 * execution: null under sc.
 */
export function setDirectWriteHook(h: ((loc: number) => void) | null): void {
  directWriteHook = h;
}

/** Starts recording into `into` (cleared first); pass null to stop recording. */
export function recordInto(into: number[] | null): void {
  if (into !== null) while (into.length > 0) into.pop();
  recording = into;
}

// Every copy of this module in the process, by URL (a second copy is a second engine: see engineCopies()).
const COPIES = Symbol.for("racelab.engineCopies");
const copies = ((globalThis as { [COPIES]?: string[] })[COPIES] ??= []);
copies.push(import.meta.url);

/**
 * The racelab engines loaded in this process (the URLs of their access.ts), normally one. With
 * more, the kernel objects one copy creates record their accesses where the other copy's search
 * does not look: check() then says so and gives no `pass` (see loadScenario, which maps a scenario
 * file's `racelab` to the running copy).
 */
export function engineCopies(): readonly string[] {
  return copies;
}

/** True when two encoded accesses conflict. */
export function conflicts(a: number, b: number): boolean {
  if (a >> 3 !== b >> 3) return false;
  const ca = a & 7;
  return ca !== (b & 7) || ((SELF_COMMUTING >> ca) & 1) === 0;
}

/**
 * The access a step records when it stops the execution (a BUG, an oops, a model error): it
 * conflicts with every access, since no other thread can run after it. Always first in the list.
 */
export const HALT_ACCESS = -1;

/** True when two steps' access lists are dependent (some pair of accesses conflicts). */
export function dependent(a: readonly number[], b: readonly number[]): boolean {
  if (a[0] === HALT_ACCESS || b[0] === HALT_ACCESS) return true;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    for (let j = 0; j < b.length; j++) if (conflicts(x, b[j]!)) return true;
  }
  return false;
}
