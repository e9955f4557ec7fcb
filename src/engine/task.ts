import type { Site } from "./site.js";
import { access, scopeHook, trackScopes } from "./access.js";
import type { Tracker } from "./track.js";
import type { FindingKind } from "./finding.js";
import type { MemoryHost, MemoryModel } from "./memory.js";
import { selfTracked } from "./track.js";
import { ModelError } from "../errors.js";

/**
 * A modeled object a thread can block on (lock, semaphore, folio lock, wait queue, join).
 *
 * A step that waits on it (see {@link step}) runs only once `canProceed(task, mode)` holds; the
 * engine then calls `waited(task, mode)` inside that step, so the accesses of completing the wait
 * are recorded without the primitive having to remember them.
 */
export interface Waitable {
  /** Name as in the kernel source (`i_data_sem`, `folio lock`). */
  readonly name: string;
  /** True when `task` may now complete its pending acquire in `mode`. Must not record accesses. */
  canProceed(task: Task, mode: number): boolean;
  /**
   * Records the accesses that completing the wait makes, inside the waiting step: a lock records
   * its exclusive (LX) or shared (LS) operation on its location, a condition records reads (R) of
   * every location `canProceed` looked at. Called by the engine, never by models.
   */
  waited(task: Task, mode: number): void;
  /**
   * True when `canProceed` holds only once every other thread (store-buffer daemons aside) has
   * finished and every store buffer is empty (`afterAll()`): the state-caching search's
   * persistent sets rely on no other thread's step waking it while some thread has not finished.
   */
  readonly untilOthersDone?: boolean;
}

/**
 * A lock that says whether a thread holds it: 0 not, 1 shared (a read lock), 2 exclusive. The
 * state-caching search's persistent sets learn which locks are held at every access of a
 * location (strategies/persistent.ts), so the answer must be exact.
 */
export interface Holdable {
  /** How `task` holds the lock now: 0 not, 1 shared, 2 exclusive. */
  holdMode(task: Task): number;
}

/** True when `o` is a {@link Holdable}. */
export function isHoldable(o: unknown): o is Holdable {
  return typeof o === "object" && o !== null && typeof (o as Partial<Holdable>).holdMode === "function";
}

/** What a task reports findings and notes to (implemented by Execution). */
export interface TaskHost extends MemoryHost {
  /** Records a finding raised by `task`'s current step. */
  report(task: Task, kind: FindingKind, message: string): void;
  /** Adds a note to `task`'s current step (shown in traces and diagrams; ignored when not tracing). */
  note(task: Task, text: string): void;
  /** True when every thread other than `task` has finished. */
  othersDone(task: Task): boolean;
  /** Records reads of every other thread's exit (the join's dependency on their last steps). */
  readExits(task: Task): void;
  /** `task` retried `loop` past its bound: it waits for another thread's progress (see {@link Task.retry}). */
  park(task: Task, loop: string, bound: number): void;
  /** Whether steps are traced (notes are kept only then). */
  readonly tracing: boolean;
  /** The execution's tracker of plain state and object lifetimes (see track.ts). */
  readonly tracker: Tracker;
}

/**
 * A site's identity across executions and calls: its function and label.
 * @internal
 */
export const siteKey = (at: Site): string => `${at.fn}\n${at.label}`;

/** Thrown inside a thread body by `bug()` to stop the execution, as an oops would. */
export const HALT: unique symbol = Symbol("racelab.halt");
const NO_RETRIES: ReadonlyMap<string, number> = new Map();

/**
 * One modeled kernel thread (a code path racing with others), as seen by its own body.
 *
 * A body is a generator function: each `yield site` starts an atomic step; the code after it, up
 * to the next `yield`, is that step's effect. Blocking primitives call `blockOn()` before yielding
 * so the scheduler does not pick the step until the object is available.
 */
export class Task {
  /** Site of the pending step; null once the thread has finished. */
  next: Site | null = null;
  /** Object the pending step waits for, or null when it is runnable as soon as scheduled. */
  waitOn: Waitable | null = null;
  /**
   * Past a retry loop's bound (see {@link retry}): the loop, its bound, the step that retried past
   * it, and whether that was a *quiet* retry (one taken because no other thread could progress).
   * Null when not parked.
   * @internal
   */
  parked: { readonly loop: string; readonly bound: number; readonly step: number; readonly quietTried: boolean } | null = null;
  /** Another thread's progress ended the parking: the next step reads the park location (the dependency). @internal */
  unparked = false;
  /** Running a quiet retry (see {@link retry}) and not out of its loop yet. @internal */
  quietRun = false;
  /**
   * The sites of the retry loops' bodies, learned at each retry() (null before the first), by
   * `siteKey()` (a site made per call is equal by its function and label, not by identity).
   * @internal
   */
  retrySites: Set<string> | null = null;
  /** Sites of the steps since the last retry() (kept once retrySites is set). @internal */
  readonly sinceRetry: Site[] = [];
  /** Mode passed to `waitOn.canProceed` (primitive-specific, e.g. shared or exclusive for an rw_semaphore). */
  waitMode = 0;
  /** True once the thread's body has returned (or the execution stopped it). */
  done = false;
  /** Set by sleeping primitives (down_read, mutex_lock, folio_lock) for their pending step. */
  sleeps = false;
  /**
   * Set by full-barrier primitives (smp_mb, locks, value-returning atomics) for their pending
   * step: under a store-buffer memory model the step waits until the thread's stores are visible.
   */
  fence = false;
  /** Alternatives the pending step offers (an explicit choice step); the scheduler picks one. */
  choices: number | (() => number) = 1;
  /**
   * Set for a pending step that sleeps with a timeout ({@link StepSpec.timeout}): the step can
   * run at any time (the timer may fire at any point of an interleaving), but the `timed` mode
   * runs it only once `until` can proceed (plus the wake-up latency) or `ns` have passed since
   * the thread got to it. Null otherwise.
   */
  timeout: StepTimeout | null = null;
  /** The alternative the scheduler picked for the step being executed (0 when not a choice). */
  choice = 0;
  /** The `timed` mode's start offset of this thread, ns, when its ThreadSpec gives one (`startNs`); else null (drawn from the window). */
  startNs: number | null = null;
  /** A helper task (a CPU's store buffer) that neither blocks termination nor counts as a deadlock. */
  daemon = false;
  /**
   * True once a wait for every other thread to finish (`afterAll()`) completed: from then on the
   * thread runs alone (store-buffer daemons aside), so nothing it does can race.
   */
  afterOthers = false;
  /** Spinlocks (and other atomic contexts) currently held: a sleeping step with this > 0 is a finding. */
  atomicDepth = 0;
  /** Shared objects this thread has published so far (names them deterministically; see track.ts). */
  publications = 0;
  /** Names of the atomic contexts held, innermost last (for messages). */
  readonly atomicHeld: string[] = [];
  /** Names of the `deadOnReturn()` functions the thread is in, innermost last (for `atLabel()`). */
  readonly inFunctions: string[] = [];
  /**
   * Nanoseconds the step being executed spends besides its cost ({@link delay}); the engine sets
   * it to 0 before each step, the timed mode reads it after.
   */
  delayNs = 0;
  /**
   * Steps made by primitives ({@link step}, racelab's kernel functions) and not started yet: a
   * primitive called without `yield*` makes a generator nobody runs, so its step would vanish
   * without a trace. The engine checks it after every step of the thread: not 0 is an `error`
   * finding naming the step ({@link made}, {@link started}).
   */
  unstarted = 0;
  /**
   * Site of the step made when {@link unstarted} went from 0 to 1: the primitive called without
   * `yield*`, not a step made after it (a `yield*` starts the one it made at once); for the
   * finding's message.
   */
  unstartedAt: Site | null = null;

  constructor(
    /** Thread index: position in the scenario's thread list (schedules use it). */
    readonly id: number,
    /** Thread name, e.g. `ext4_page_mkwrite` (store-buffer daemons: `<thread> store buffer`). */
    readonly name: string,
    private readonly host: TaskHost,
  ) {}

  /**
   * Makes the pending step an explicit choice among `n` alternatives (n >= 1). Call right before
   * `yield`; the step body reads the scheduler's pick from `t.choice`.
   */
  offer(n: number | (() => number)): void {
    if (typeof n === "number" && (!Number.isInteger(n) || n < 1)) throw new Error(`offer(${n}): need a positive integer`);
    this.choices = n;
  }

  /** Alternatives of the pending step now (evaluated when the scheduler looks). */
  alternatives(): number {
    return typeof this.choices === "number" ? this.choices : this.choices();
  }

  /**
   * A primitive made its step generator `gen`, whose step starts at `at`: counts it as not
   * started until its body calls {@link started}. For primitives written as generator functions
   * (`step()` does it itself): `return t.made(at, body(t, ...))` with `t.started()` first in `body`.
   */
  made<G>(at: Site, gen: G): G {
    // (Scenario files are not type-checked: a primitive called without its site, or with its
    // arguments shifted, would otherwise fail later with a TypeError that reads like a finding.)
    if (typeof at !== "object" || at === null || typeof (at as Partial<Site>).fn !== "string")
      throw new ModelError(
        `${this.name}: a primitive was called without its site (got ${at === null ? "null" : typeof at}): its last argument is a Site from sitesIn(), e.g. yield* spin_lock(t, lock, SITE)`,
      );
    if (this.unstarted++ === 0) this.unstartedAt = at;
    return gen;
  }

  /** First in the body of a generator {@link made} counted: it is running (`yield*` started it, right after it was made). */
  started(): void {
    this.unstarted--;
  }

  /** The execution's tracker: names shared objects, wraps plain state, records kfree (track.ts). */
  get tracker(): Tracker {
    return this.host.tracker;
  }

  /** The execution's memory system (store buffers under tso/pso). */
  get memory(): MemoryHost {
    return this.host;
  }

  /**
   * Makes the pending step wait until `obj.canProceed(this, mode)`. Call right before `yield`.
   * Prefer {@link step}, which does this, the barrier, the sleep check and the accesses in one call.
   */
  blockOn(obj: Waitable, mode: number): void {
    this.waitOn = obj;
    this.waitMode = mode;
  }

  /** BUG_ON / VM_BUG_ON: records a `bug` finding and stops the execution. Never returns. */
  bug(message: string): never {
    this.host.report(this, "bug", message);
    throw HALT;
  }

  /** WARN_ON or a kernel warning: records a `warning` finding; the thread goes on. */
  warn(message: string): void {
    this.host.report(this, "warning", message);
  }

  /** Records an `invariant` finding raised inside a step; the thread goes on. */
  violated(message: string): void {
    this.host.report(this, "invariant", message);
  }

  /**
   * One more iteration of a retry loop the scenario declares (`goto repeat`, `goto retry_find`).
   * Past `bound` retries the thread *parks*: its step goes on, and its next step waits until
   * another thread makes progress, that is, takes a step outside the body of every retry loop it
   * has retried (the holder of the lock it spins on running on, a writer finishing, a store
   * becoming visible; a loop's body is the sites of its steps, learned at each retry). So a loop
   * that waits for a thread the schedule merely has not run is not a livelock. When no thread
   * that is neither parked nor retrying quietly can run, each parked thread gets one *quiet
   * retry*: it runs again, with the other parked threads in any interleaving (so two threads
   * failing each other's trylocks in lockstep are explored); one that leaves its loop is progress
   * and ends every parking, one that retries past its bound again stays parked. When nothing can
   * run and a thread is parked after its quiet retry, each such thread is a `livelock` finding
   * `<loop> retried more than <bound> times` (`more than once` for a bound of 1) at the step that parked it. (Until 2026-12-01 the
   * first retry past the bound was the finding, so a spinner whose lock holder was preempted was
   * reported as a livelock: a new user's trial.)
   */
  retry(loop: string, bound: number): void {
    const loops = (this.loops ??= new Map());
    const n = loops.get(loop) ?? 0;
    // (Counted up to bound + 1: every retry past the bound is the same state of the loop.)
    loops.set(loop, Math.min(n + 1, bound + 1));
    // The loop's body: the steps since the last retry, and this one.
    const body = (this.retrySites ??= new Set());
    for (const at of this.sinceRetry) body.add(siteKey(at));
    this.sinceRetry.length = 0;
    if (this.next !== null) body.add(siteKey(this.next));
    if (n >= bound) this.host.park(this, loop, bound);
  }

  /** Retries so far per loop (see retry()). */
  retries(loop: string): number {
    return this.loops?.get(loop) ?? 0;
  }

  /** Every declared retry loop with its retries so far (see retry()), in the order first retried. */
  retryCounts(): ReadonlyMap<string, number> {
    return this.loops ?? NO_RETRIES;
  }

  private loops?: Map<string, number>;

  /**
   * The current step takes `ns` nanoseconds longer (a busy-wait such as `udelay()`, a loop the
   * model runs in one step). Only the `timed` mode sees time; the other modes ignore it, as an
   * interleaving already contains every length of a window. Throws RangeError for a negative or
   * non-finite `ns`.
   */
  delay(ns: number): void {
    if (!Number.isFinite(ns) || ns < 0) throw new RangeError(`delay(${ns}): need a finite number of ns >= 0`);
    this.delayNs += ns;
  }

  /** Records any finding kind. */
  report(kind: FindingKind, message: string): void {
    this.host.report(this, kind, message);
  }

  /** True when every other thread has finished (used by `afterAll`). */
  othersDone(): boolean {
    return this.host.othersDone(this);
  }

  /** Records the join's reads of the other threads' exits. */
  readExits(): void {
    this.host.readExits(this);
  }

  /** Adds a note to the current step in traces ("es: hole at lblk 0"); free when not tracing. */
  say(text: string | (() => string)): void {
    if (this.host.tracing) this.host.note(this, typeof text === "string" ? text : text());
  }
}

/**
 * `ns` when it is a timeout racelab can use (finite, above 0), else throws RangeError naming
 * `what` (`timeout of 0 ns: need a finite number of ns > 0`).
 * @internal
 */
export function checkedTimeoutNs(ns: number, what = "timeout"): number {
  if (!(typeof ns === "number" && Number.isFinite(ns) && ns > 0)) throw new RangeError(`${what} of ${ns} ns: need a finite number of ns > 0`);
  return ns;
}

/** A sleep's timeout ({@link StepSpec.timeout}). */
export interface StepTimeout {
  /** What the sleep waits for: the `timed` mode wakes the thread once `until.canProceed(t, mode)` holds. */
  readonly until: Waitable;
  /** Mode passed to `until.canProceed` (as {@link StepSpec.mode}). Default 0. */
  readonly mode?: number;
  /** The timeout, ns (finite, above 0): the `timed` mode runs the step this long after the thread reached it, unless woken first. */
  readonly ns: number;
}

/** What a step does besides running its effect; every field optional. */
export interface StepSpec {
  /**
   * The step waits until `waitFor.canProceed(t, mode)` (the thread is not runnable before); when
   * it runs, the engine calls `waitFor.waited(t, mode)` to record the wait's accesses.
   */
  readonly waitFor?: Waitable;
  /** Mode passed to `waitFor` (e.g. `SHARED` = 0 or `EXCLUSIVE` = 1 for a rw_semaphore). Default 0. */
  readonly mode?: number;
  /**
   * The kernel code may sleep here (`might_sleep()`, a sleeping lock, `GFP_KERNEL`): a
   * `sleep-in-atomic` finding when the thread holds a spinlock or is in an RCU read-side section.
   */
  readonly sleeps?: boolean;
  /**
   * Full barrier (`smp_mb()`, locks, value-returning atomics): under tso/pso the step runs only
   * once every earlier store of the thread is visible.
   */
  readonly fence?: boolean;
  /**
   * An explicit choice among this many alternatives; the effect receives the scheduler's pick.
   * Every mode but the exhaustive one picks uniformly (random, pct, timed; `rates --exact` counts
   * each alternative as 1/n): a choice is "either may happen", not a probability.
   */
  readonly choices?: number | (() => number);
  /**
   * A sleep with a timeout (`wait_event_timeout()`, `wait_for_completion_timeout()`): the step does
   * not wait (it runs whenever the scheduler picks it, which is the timer firing at that point
   * when `until` cannot proceed yet, or the wake-up when it can); the effect tells the two apart
   * by the state. Only the `timed` mode sees `ns`: it runs the step once `until.canProceed(t,
   * mode)` holds (after the wake-up latency) or `ns` nanoseconds after the thread reached it,
   * whichever comes first. `ns` > 0 and finite, else RangeError.
   */
  readonly timeout?: StepTimeout;
  /**
   * Accesses the step makes besides those its objects record themselves: `[location, class]`
   * pairs (see access.ts), for user-written primitives that keep raw state.
   */
  readonly access?: readonly (readonly [loc: number, cls: number])[];
}

/**
 * One atomic step, with everything a primitive needs in one call (after loom's `branch_acquire`):
 * waiting, the sleep check, the barrier, the choice, the accesses; then `effect` runs as the step's
 * body and its result is returned. Use with `yield*`:
 *
 * ```ts
 * export function spin_lock(t: Task, lock: Spinlock, at: Site) {
 *   return step(t, at, { waitFor: lock, mode: EXCLUSIVE, fence: true }, () => lock.acquired(t));
 * }
 * ... yield* spin_lock(t, s.lock, SITE);
 * ```
 *
 * A plain `yield SITE` followed by code is the same as `step(t, SITE, {}, code)`.
 */
export function step<T = void>(t: Task, at: Site, spec: StepSpec = {}, effect?: (choice: number) => T): Generator<Site, T, undefined> {
  return t.made(at, stepBody(t, at, spec, effect));
}

function* stepBody<T>(t: Task, at: Site, spec: StepSpec, effect: ((choice: number) => T) | undefined): Generator<Site, T, undefined> {
  t.started();
  beforeStep(t, spec);
  yield at;
  inStep(spec);
  return effect === undefined ? (undefined as T) : effect(t.choice);
}

/**
 * What {@link step} does before its `yield`: the wait, the sleep check, the barrier, the choice.
 * For library primitives that make their step themselves (one generator instead of a `yield*` of
 * step()); follow it with `yield at` and {@link inStep}.
 */
export function beforeStep(t: Task, spec: StepSpec): void {
  if (spec.waitFor !== undefined) t.blockOn(spec.waitFor, spec.mode ?? 0);
  if (spec.sleeps === true) t.sleeps = true;
  if (spec.fence === true) t.fence = true;
  if (spec.choices !== undefined) t.offer(spec.choices);
  if (spec.timeout !== undefined) {
    const { until, mode, ns } = spec.timeout;
    t.timeout = { until, mode: mode ?? 0, ns: checkedTimeoutNs(ns) };
  }
}

/** What {@link step} does first after its `yield`, before the effect: the spec's extra accesses. */
export function inStep(spec: StepSpec): void {
  if (spec.access !== undefined) for (const [loc, cls] of spec.access) access(loc, cls);
}

/**
 * Wraps a step function (a generator taking the thread first, called with `yield*`) whose locals
 * are dead once it returns: its caller goes on from its own locals and the value returned, as a C
 * caller does from a callee that is given no pointer into the caller's stack. The `state-caching`
 * reduction then forgets what the thread read inside the function once it returns (dead-variable
 * reduction at function return): two runs that reach the same shared state, with the thread
 * returned from the same call with an equal value, are one state. Other modes and reductions
 * ignore it. Calls read as before:
 *
 * ```ts
 * const ext4_map_blocks = deadOnReturn(function* ext4_map_blocks(t: Task, s: Ext4State, L: number): Step<number> { ... });
 * ... const ret = yield* ext4_map_blocks(t, s, L);
 * ```
 *
 * The rule it relies on: the function changes nothing its caller holds outside the modeled
 * shared state (no array or object of the caller's, no variable it closes over) and leaves
 * nothing on the thread but its value, the atomic contexts it holds (`t.atomicHeld`), the
 * objects it published and its retry counts (`t.retry()`); the value is observed as the thread's reads are (fingerprint.ts). A
 * function that breaks the rule can make state caching merge states that differ: leave it
 * unwrapped, or search with `StateCachingSearch({ keepLocals: true })`. The property test of the
 * reductions (test/reduction-property.test.ts) runs generated programs with wrapped functions.
 * Inside the function, {@link atLabel} marks points where only its arguments are live.
 */
export function deadOnReturn<A extends unknown[], T>(
  fn: (t: Task, ...args: A) => Generator<Site, T, undefined>,
): (t: Task, ...args: A) => Generator<Site, T, undefined> {
  const name = fn.name;
  const tracked = function* (t: Task, args: A): Generator<Site, T, undefined> {
    scopeHook?.enter(t.id);
    t.inFunctions.push(name);
    let value: T;
    try {
      value = yield* fn(t, ...args);
    } finally {
      t.inFunctions.pop();
    }
    scopeHook?.leave(t.id, value);
    return value;
  };
  // Outside state caching, the bare generator: no extra layer for every step to pass through.
  const wrapped = (t: Task, ...args: A): Generator<Site, T, undefined> => (trackScopes ? tracked(t, args) : fn(t, ...args));
  Object.defineProperty(wrapped, "name", { value: fn.name });
  return wrapped;
}

/** A point of a `deadOnReturn()` function where only its arguments are live; see {@link labelIn}. */
export interface Label {
  /** The function, as named in `deadOnReturn(function* name(...) {...})`. */
  readonly fn: string;
  /** The label, as in the C source (`add_delayed`). */
  readonly name: string;
}

/**
 * Declares a label of the `deadOnReturn()` function named `fn` (create it once, at module level,
 * like a Site); pass it to {@link atLabel} at that point of the function.
 */
export function labelIn(fn: string, name: string): Label {
  return Object.freeze({ fn, name });
}

/**
 * Marks a point of a `deadOnReturn()` function where only the function's arguments are live,
 * like a C label that two paths `goto` (`add_delayed:` in ext4_da_map_blocks()): no local
 * assigned before it is read after it, and no parameter has been reassigned. The
 * `state-caching` reduction then forgets what the thread read in the function before this point,
 * so paths that reach it from different places are one state; other modes and reductions ignore
 * it. It is no step: call it between steps, in the function's own body (not in a helper it calls).
 *
 * ```ts
 * const ADD_DELAYED = labelIn("ext4_da_map_blocks", "add_delayed");
 * ... // add_delayed:
 * atLabel(t, ADD_DELAYED);
 * ```
 *
 * Throws ModelError when the innermost `deadOnReturn()` function the thread is in is not
 * `at.fn` (the label is used in another function, or outside any); checked while a state-caching
 * search runs (elsewhere, as `deadOnReturn()`, it costs nothing).
 */
export function atLabel(t: Task, at: Label): void {
  if (!trackScopes) return;
  const inner = t.inFunctions[t.inFunctions.length - 1];
  if (inner !== at.fn)
    throw new ModelError(
      `atLabel(${at.fn}: ${at.name}) in thread ${t.name}: the innermost deadOnReturn() function it is in is ${inner === undefined ? "none" : `${inner}()`}`,
    );
  scopeHook?.label(t.id, at);
}

/** A thread body: generator yielding one Site per atomic step. */
export type ThreadBody<S, O> = (t: Task, s: S, cfg: RunConfig<O>) => Generator<Site, void, undefined>;

/** The resolved configuration a thread body sees. */
export interface RunConfig<O> {
  /** Fix id. */
  readonly fix: string;
  /** Variant id. */
  readonly variant: string;
  /** Every scenario parameter: the scenario's default, overridden by the variant's, then by the caller's. */
  readonly params: Readonly<Record<string, number>>;
  /** Scenario options: defaults, overridden by the variant, then by the fix. */
  readonly options: Readonly<O>;
  /** Memory model; `sc` when absent. */
  readonly memoryModel?: MemoryModel;
}

// racelab objects record their own accesses (see engine/track.ts).
selfTracked(Task);
