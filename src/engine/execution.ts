import { ModelError, UsageError } from "../errors.js";
import { access, autoLoc, autoLocValue, blindAccess, bookkeepingAccess, HALT_ACCESS, locName, readHook, setAutoLocValue, setDirectWriteHook, setFreedAccessHandler, setReadHook, setStepping, newLoc, R, recordInto, resetLocations, W } from "./access.js";
import type { Finding, FindingKind } from "./finding.js";
import type { AnyScenario } from "./scenario.js";
import type { Site } from "./site.js";
import { HALT, isHoldable, siteKey, Task, type RunConfig, type TaskHost } from "./task.js";
import { applyInvalidations, beforeDirectWrite, runningTask, setRunningTask, StoreBuffer, storeBufferDaemon } from "./memory.js";
import { isSite, sitesIn } from "./site.js";
import { NEEDS_TRACKING, Tracker, type TrackHost } from "./track.js";

// An access to a racelab object freed with its container (kfree(), src/linux/slab.ts): KASAN's
// slab-use-after-free, reported as for a plain field of a freed object. (A running task's memory
// host is the execution it runs in.)
setFreedAccessHandler((loc, by) => {
  const t = runningTask();
  if (t !== null) (t.memory as Execution).useAfterFree(locName(loc), by);
});

/** The step of a store-buffer daemon (not kernel code: the hardware making a store visible). */
const FLUSH = sitesIn("(memory model)", "-")("store buffer", "a buffered store becomes visible");

/** Pseudo-location written by every step that changes what a scenario invariant reads. */
export const VISIBLE_LOC = 0x0fffffff;

/** One executed step, kept when tracing. */
export interface TraceStep {
  /** Index of the thread that took the step (its place in the scenario's thread list). */
  readonly thread: number;
  /** Where the step starts: kernel function, label, source file. */
  readonly site: Site;
  /** Notes the step's body made with `t.say()`. */
  readonly notes: string[];
  /** Findings raised by this step. */
  readonly findings: Finding[];
}


/** Options of an {@link Execution}. */
export interface ExecutionOptions {
  /** Keep a TraceStep per step (for replay, counterexamples, notebooks). Default false. */
  readonly trace?: boolean;
  /**
   * Locations read by scenario invariants so far, shared by all executions of one exploration so
   * the reduction treats invariant-visible steps as dependent. Created when omitted.
   */
  readonly invariantReads?: Set<number>;
  /**
   * Run on the raw state, for a sampling run that records nothing (see track.ts, "Sampling"):
   * where tracking could matter, a step throws {@link NEEDS_TRACKING} and the runner runs the
   * execution again without this. Default false.
   */
  readonly sampling?: boolean;
  /** Receives the site of every step taken (coverage: see `CheckResult.unreachedSteps`). */
  readonly reachedSites?: Set<Site>;
}

/**
 * One execution of a scenario under one configuration: the modeled state, its threads, and the
 * steps taken so far. Deterministic: the same sequence of `step()` calls gives the same result.
 */
export class Execution implements TaskHost, TrackHost {
  /** The modeled state as `setup()` built it (unwrapped: reading it records nothing). */
  readonly state: unknown;
  /** The state as the threads see it: plain objects wrapped so that every field access is recorded. */
  readonly shared: unknown;
  /** Names, wraps and frees objects of this execution's state (see track.ts). */
  readonly tracker: Tracker;
  /** The threads, in thread-index order; under tso/pso followed by one store-buffer daemon per thread. */
  readonly tasks: Task[];
  /** Findings raised so far, in order. */
  readonly findings: Finding[] = [];
  /** The steps taken, when tracing; else null. */
  readonly trace: TraceStep[] | null;
  /** Whether steps are traced (`ExecutionOptions.trace`). */
  readonly tracing: boolean;
  /** Thread index of each step taken, in order. */
  readonly schedule: number[] = [];
  /** The alternative picked at each step (0 unless the step was a choice). */
  readonly choices: number[] = [];
  /** Store buffer of each thread under tso/pso (index = thread), empty under sc. */
  readonly buffers: StoreBuffer[] = [];
  /** Preemptions so far: steps that switched away from a thread that could still run. */
  preemptions = 0;
  /** True once a BUG stopped the execution. */
  halted = false;
  /** True once terminal findings (deadlock, end checks) have been computed. */
  private finished = false;
  private readonly exitLocs: number[];
  private readonly gens: Generator<Site, void, undefined>[] = [];
  private readonly invReads: Set<number>;
  private readonly reached: Set<Site> | null;
  private readonly scratch: number[] = [];
  private currentStep: TraceStep | null = null;
  private running: Task | null = null;
  /** Reads threads made before their first yield (at creation), as (location, thread) pairs. */
  private readonly creationReads: number[] = [];
  /**
   * The locations of {@link creationReads} with their readers, each once, in the order they read
   * (a later write to one by another thread is a model error); built at the first step that records
   * its accesses, the only kind that checks it.
   */
  private preYieldReads: Map<number, Task[]> | null = null;

  /**
   * Builds the initial state with `scenario.setup(cfg)` and starts every thread up to its first
   * step. Throws ModelError when `setup()` throws (other than a UsageError), when a thread body is
   * not a generator, throws or writes shared state before its first yield, or yields something
   * other than a Site.
   */
  constructor(
    /** The scenario executed. */
    readonly scenario: AnyScenario,
    /** Fix, variant, parameters, options and memory model of this execution. */
    readonly cfg: RunConfig<unknown>,
    opts: ExecutionOptions = {},
  ) {
    this.tracing = opts.trace === true;
    this.trace = this.tracing ? [] : null;
    this.invReads = opts.invariantReads ?? new Set();
    this.reached = opts.reachedSites ?? null;
    resetLocations();
    let model: ReturnType<AnyScenario["setup"]>;
    try {
      model = scenario.setup(cfg);
    } catch (e) {
      // The model's own code failed (exit status 3 in the CLI), unless racelab threw on purpose.
      if (e instanceof UsageError || e instanceof ModelError) throw e;
      throw new ModelError(`${scenario.id}: setup() threw ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`);
    }
    this.state = model.state;
    this.tracker = new Tracker(this, opts.sampling === true);
    this.tracker.walk(model.state);
    this.shared = this.tracker.sampling ? model.state : this.tracker.wrap(model.state);
    this.tasks = [];
    this.exitLocs = [];
    const bodies: ((t: Task) => Generator<Site, void, undefined>)[] = [];
    for (let i = 0; i < model.threads.length; i++) {
      const spec = model.threads[i]!;
      const task = new Task(i, spec.name, this);
      if (spec.startNs !== undefined) task.startNs = spec.startNs;
      this.tasks.push(task);
      this.exitLocs.push(newLoc(exitName(spec.name), task));
      bodies.push(spec.body as (t: Task) => Generator<Site, void, undefined>);
    }
    const mm = cfg.memoryModel ?? "sc";
    setDirectWriteHook(mm === "sc" ? null : beforeDirectWrite);
    if (mm !== "sc") {
      const n = this.tasks.length;
      for (let i = 0; i < n; i++) {
        const buf = new StoreBuffer(this.tasks[i]!.name, mm, i);
        this.buffers.push(buf);
        const d = new Task(n + i, buf.name, this);
        d.daemon = true;
        this.tasks.push(d);
        this.exitLocs.push(newLoc(`exit:${buf.name}`, d));
        bodies.push((t: Task) => storeBufferDaemon(t, buf, FLUSH));
      }
    }
    const probe: number[] = [];
    /** Accesses of `probe` made by the threads created so far (the next thread's start there). */
    let seen = 0;
    const nThreads = model.threads.length;
    recordInto(probe);
    try {
      for (let i = 0; i < bodies.length; i++) {
        const task = this.tasks[i]!;
        let gen: Generator<Site, void, undefined>;
        let r: IteratorResult<Site, void>;
        this.running = task;
        try {
          gen = i < nThreads ? model.threads[i]!.body(task, this.shared, cfg) : bodies[i]!(task);
          if (gen === null || typeof gen !== "object" || typeof (gen as Partial<Generator>).next !== "function")
            throw new ModelError(
              `${scenario.id}: thread ${task.name}: its body must be a generator function (function* ...) that yields a Site per step`,
            );
          r = gen.next();
        } catch (e) {
          if (e instanceof ModelError || e === NEEDS_TRACKING) throw e;
          const err = e instanceof Error ? e : new Error(String(e));
          throw new ModelError(`${scenario.id}: thread ${task.name} threw before its first yield: ${err.message}`);
        } finally {
          this.running = null;
        }
        this.gens.push(gen);
        if (r.done && i < nThreads)
          throw new ModelError(
            `${scenario.id}: thread ${task.name} finished without a step: its body never yields (each atomic step starts with \`yield SITE\`)`,
          );
        if (r.done) task.done = true;
        else if (!isSite(r.value))
          throw new ModelError(`${scenario.id}: thread ${task.name} yielded ${describeYield(r.value)}, not a Site (yield a site made with sitesIn(), or yield* a primitive)`);
        else task.next = r.value;
        if (task.unstarted !== 0) throw new ModelError(`${scenario.id}: thread ${task.name}, before its first yield: ${neverRan(task)}`);
        // Reads at creation are allowed (structure such as `s.folios[L]`, a thread's own initial
        // values) unless another thread's step writes them later (checked in step()); a write
        // before the first yield is a model error.
        for (let j = seen; j < probe.length; j++) {
          const a = probe[j]!;
          if ((a & 7) === R) this.creationReads.push(a >> 3, i);
          else throw new ModelError(`${scenario.id}: thread ${task.name} writes shared state (${locName(a >> 3)}) before its first yield`);
        }
        seen = probe.length;
      }
    } finally {
      recordInto(null);
    }
    if (this.tracker.needsTracking) throw NEEDS_TRACKING;
    // The invariants' reads are known before the first step (so that step is ordered against
    // them), and an invariant false from the start is reported (as after any step: the same finding).
    if (scenario.invariants !== undefined) this.evaluateInvariants(null);
  }

  /** True when thread `tid` can take its next step now. */
  isEnabled(tid: number): boolean {
    if (this.halted) return false;
    const t = this.tasks[tid]!;
    return this.runnable(t) && (t.parked === null || (!t.parked.quietTried && !this.progressPossible(t)));
  }

  /** Whether `t`'s next step can run as far as its wait and its full barrier go (parking aside). */
  private runnable(t: Task): boolean {
    if (t.done || (t.waitOn !== null && !t.waitOn.canProceed(t, t.waitMode))) return false;
    return !t.fence || this.buffers.length === 0 || t.daemon || this.buffers[t.id]!.entries.length === 0;
  }

  /**
   * Why thread `tid` cannot take a step now, for messages: `has finished`, `has no buffered store
   * to make visible` (a store-buffer thread; under rmo `... and no invalidation to apply`),
   * `waits for <object>` (what the thread's pending step waits for), `waits for its stores to become
   * visible` (a full barrier), or `is stopped` (a BUG halted the execution); `can run` when it can.
   */
  whyBlocked(tid: number): string {
    const t = this.tasks[tid]!;
    if (t.done) return "has finished";
    if (this.halted) return "is stopped (the execution halted)";
    if (t.parked !== null && !this.isEnabled(tid)) return `retried ${t.parked.loop} ${moreThan(t.parked.bound)}: waits for another thread to make progress`;
    if (t.waitOn !== null && !t.waitOn.canProceed(t, t.waitMode))
      return t.waitOn instanceof StoreBuffer
        ? `has no buffered store to make visible${t.waitOn.model === "rmo" ? " and no invalidation to apply" : ""}`
        : `waits for ${t.waitOn.name}${this.heldBy(t.waitOn, t)}`;
    return this.isEnabled(tid) ? "can run" : "waits for its stores to become visible";
  }

  /**
   * ` (held by B)`, ` (held by B and C)` when `obj` is a lock other threads hold (an ABBA
   * deadlock's two `waits for i_rwsem` named no inode: new-user trial 19), else "".
   */
  private heldBy(obj: object | null, t: Task): string {
    if (!isHoldable(obj)) return "";
    const names = this.tasks.filter((u) => u !== t && !u.daemon && obj.holdMode(u) > 0).map((u) => u.name);
    if (names.length === 0) return "";
    return ` (held by ${names.length === 1 ? names[0] : `${names.slice(0, -1).join(", ")} and ${names[names.length - 1]}`})`;
  }

  private locals: Map<object, unknown> | null = null;
  /** MemoryHost: the execution's value for `key`, made at the first call. */
  local<T>(key: object, make: () => T): T {
    const m = (this.locals ??= new Map());
    let v = m.get(key) as T | undefined;
    if (v === undefined) m.set(key, (v = make()));
    return v;
  }

  /** MemoryHost: whether thread `i` has finished; records a read of its exit. */
  threadFinished(i: number): boolean {
    blindAccess(this.exitLocs[i]!, R);
    return this.tasks[i]!.done;
  }

  /** TaskHost / MemoryHost: the thread's store buffer, or null under sc. */
  bufferOf(task: Task): StoreBuffer | null {
    return task.daemon ? null : (this.buffers[task.id] ?? null);
  }

  /** Fills `out` with the enabled thread indices in ascending order and returns it. */
  enabled(out: number[] = []): number[] {
    // (pop() rather than `out.length = 0`: the length setter is a runtime call, pop is inlined.)
    while (out.length > 0) out.pop();
    if (this.halted) return out;
    for (let i = 0; i < this.tasks.length; i++) if (this.isEnabled(i)) out.push(i);
    return out;
  }

  /** Number of steps taken. */
  get steps(): number {
    return this.schedule.length;
  }

  /**
   * Runs the pending step of thread `tid`. When `accesses` is given, it receives the step's
   * encoded accesses (see access.ts). Throws ModelError if the thread is not enabled or the
   * model's code throws.
   */
  step(tid: number, accesses: number[] | null = null, choice = 0): void {
    const t = this.tasks[tid];
    if (t === undefined || !this.isEnabled(tid))
      throw new ModelError(`thread ${tid} cannot run now`);
    const prev = this.schedule.length > 0 ? this.schedule[this.schedule.length - 1]! : tid;
    this.take(t, accesses, choice, prev !== tid && this.isEnabled(prev));
  }

  /**
   * {@link Execution.step} for a caller that has just computed the enabled threads with {@link Execution.enabled}
   * (`enabled`, unchanged since: no step ran in between): whether `tid` and the thread of the
   * previous step can run is read from it rather than asked of their wait objects again. The
   * runner's sampling loop uses it. Throws as `step()` does.
   */
  stepAmong(tid: number, enabled: readonly number[], accesses: number[] | null = null, choice = 0): void {
    const t = this.tasks[tid];
    if (t === undefined || !enabled.includes(tid)) throw new ModelError(`thread ${tid} cannot run now`);
    const prev = this.schedule.length > 0 ? this.schedule[this.schedule.length - 1]! : tid;
    this.take(t, accesses, choice, prev !== tid && enabled.includes(prev));
  }

  /** Runs the pending step of `t`, which can run; `preempts`: the previous step's thread could still run. */
  private take(t: Task, accesses: number[] | null, choice: number, preempts: boolean): void {
    const tid = t.id;
    // (Choice 0 is in range of a fixed count: offer() takes only n >= 1.)
    if (choice !== 0 || typeof t.choices !== "number") {
      const alternatives = t.alternatives();
      if (!Number.isInteger(choice) || choice < 0 || choice >= alternatives)
        throw new ModelError(`thread ${tid} (${t.name}): choice ${choice} out of range 0..${alternatives - 1}`);
    }
    t.choice = choice;
    t.delayNs = 0;
    this.choices.push(choice);
    const site = t.next!;
    this.reached?.add(site);
    if (preempts) this.preemptions++;
    if (this.tracing) {
      this.currentStep = { thread: tid, site, notes: [], findings: [] };
      this.trace!.push(this.currentStep);
    }
    this.schedule.push(tid);
    const waited = t.waitOn;
    const waitMode = t.waitMode;
    t.waitOn = null;
    if ((site.mightSleep === true || t.sleeps) && t.atomicDepth > 0)
      this.report(t, "sleep-in-atomic", `${site.fn}() may sleep while holding ${t.atomicHeld.join(", ")}`);
    t.sleeps = false;
    const fenced = t.fence && !t.daemon && this.buffers.length > 0;
    t.fence = false;
    t.choices = 1;
    t.timeout = null;
    recordInto(accesses);
    if (waited?.untilOthersDone === true) t.afterOthers = true;
    if (waited !== null) {
      // Completing a wait observes nothing: the thread runs only once it can (state-caching histories).
      const hook = readHook;
      setReadHook(null);
      try {
        waited.waited(t, waitMode);
      } finally {
        setReadHook(hook);
      }
    }
    // A full barrier ran because the thread's store buffer was empty: it read the buffer (and,
    // under rmo, applies the thread's pending invalidations).
    if (fenced) {
      access(this.buffers[tid]!.loc, R);
      applyInvalidations(t);
    }
    const quiet = t.parked !== null;
    if (t.unparked || quiet) {
      // It runs again because another thread made progress, or (a quiet retry) because no other
      // thread can (see Task.retry): it read its park location, and the other threads' exits.
      t.unparked = false;
      // (A quiet retry changes the thread's park state: a write, so that state caching rehashes it.)
      bookkeepingAccess(this.parkLoc(t), quiet ? W : R);
      if (quiet) {
        const hook = readHook;
        setReadHook(null);
        try {
          this.readExits(t);
        } finally {
          setReadHook(hook);
        }
        t.parked = null;
        this.parkedCount--;
        t.quietRun = true;
      }
    }
    setRunningTask(t);
    this.running = t;
    setStepping(true);
    try {
      const r = this.gens[tid]!.next();
      if (r.done) {
        t.done = true;
        t.next = null;
        access(this.exitLocs[tid]!, W);
        // (rmo: a finished thread loads nothing more; its pending invalidations are dropped,
        // with the write of the apply location that its daemon's every step reads.)
        const buf = t.daemon ? undefined : this.buffers[tid];
        if (buf !== undefined && buf.model === "rmo") buf.dropStale();
      } else if (!isSite(r.value)) {
        throw new ModelError(
          `thread ${t.name} yielded ${describeYield(r.value)} after ${site.fn} (${site.label}), not a Site (yield a site made with sitesIn(), or yield* a primitive)`,
        );
      } else t.next = r.value;
      if (t.unstarted !== 0) throw new ModelError(neverRan(t));
    } catch (e) {
      // (The tracker sets needsTracking before it throws, also when the model caught the throw.)
      if (this.tracker.needsTracking) throw NEEDS_TRACKING;
      if (e !== HALT) {
        // The model's code threw inside a step: a finding at that step, not a dead kernel. The
        // execution stops there, as an oops would.
        const err = e instanceof Error ? e : new Error(String(e));
        const what = e instanceof ModelError ? err.message : `${err.name}: ${err.message}`;
        this.report(t, "error", `${t.name} at ${site.fn}() (${site.label}): ${what}`);
      }
      t.done = true;
      t.next = null;
      this.halted = true;
    } finally {
      setRunningTask(null);
      this.running = null;
      setStepping(false);
    }
    // A step outside the body of every retry loop its thread has retried is progress: it ends
    // every parking (and writes the parked threads' park locations, so that the reduction orders
    // it before their next steps). See Task.retry.
    // (Only asked while a thread is parked or retrying quietly: no cost otherwise.)
    if (t.retrySites !== null && !t.done) t.sinceRetry.push(site);
    if ((this.parkedCount > 0 || t.quietRun) && !this.halted && t.parked === null && this.isProgress(t, site)) {
      if (t.quietRun) {
        t.quietRun = false;
        bookkeepingAccess(this.parkLoc(t), W);
      }
      if (this.parkedCount > 0) {
        this.parkedCount = 0;
        for (const p of this.tasks)
          if (p.parked !== null) {
            p.parked = null;
            p.unparked = true;
            bookkeepingAccess(this.parkLoc(p), W);
          }
      }
    }
    recordInto(null);
    // (A model that caught NEEDS_TRACKING itself.)
    if (this.tracker.needsTracking) throw NEEDS_TRACKING;
    // Nothing runs after a step that stops the execution: it is dependent with every step.
    if (this.halted && accesses !== null) accesses.unshift(HALT_ACCESS);
    if (accesses !== null && this.creationReads.length > 0)
      for (const a of accesses) {
        if ((a & 7) === R) continue;
        // A store buffer's flush writes on behalf of its own CPU's thread.
        const writer = t.daemon ? (this.tasks[t.id - this.buffers.length] ?? t) : t;
        const other = this.readersBeforeYield().get(a >> 3)?.find((r) => r !== writer);
        if (other !== undefined)
          throw new ModelError(
            `${this.scenario.id}: thread ${other.name} reads ${locName(a >> 3)} before its first yield (when the thread is created), but ${t.name} writes it at ${site.fn}() (${site.label}): move the read after a yield`,
          );
      }
    if (this.scenario.invariants !== undefined && !this.halted) this.checkInvariants(t, accesses);
    this.currentStep = null;
  }

  /** {@link preYieldReads}, built on first use. */
  private readersBeforeYield(): Map<number, Task[]> {
    if (this.preYieldReads !== null) return this.preYieldReads;
    const m = new Map<number, Task[]>();
    const reads = this.creationReads;
    for (let j = 0; j < reads.length; j += 2) {
      const loc = reads[j]!;
      const task = this.tasks[reads[j + 1]!]!;
      const readers = m.get(loc);
      if (readers === undefined) m.set(loc, [task]);
      else if (!readers.includes(task)) readers.push(task);
    }
    return (this.preYieldReads = m);
  }

  private checkInvariants(t: Task, accesses: number[] | null): void {
    if (accesses !== null) {
      // Steps that write what an invariant reads are made mutually dependent (visible).
      for (const a of accesses)
        if ((a & 7) !== 0 && this.invReads.has(a >> 3)) {
          accesses.push(VISIBLE_LOC * 8 + W);
          break;
        }
    }
    this.evaluateInvariants(t);
  }

  /**
   * Evaluates every invariant on the state as it is, learning the locations they read; a
   * violation is a finding of `t`'s step (null: the initial state, where an invariant that
   * throws is a model error).
   */
  private evaluateInvariants(t: Task | null): void {
    const reads = this.scratch;
    // What an invariant reads is not what the thread observed (state-caching search).
    const hook = readHook;
    setReadHook(null);
    try {
      for (const inv of this.scenario.invariants!) {
        recordInto(reads);
        let msg: string | null;
        try {
          msg = inv.check(this.shared);
        } catch (e) {
          if (t !== null || e === NEEDS_TRACKING) throw e;
          throw new ModelError(`${this.scenario.id}: invariant threw on the initial state: ${e instanceof Error ? e.message : String(e)}`);
        } finally {
          recordInto(null);
        }
        for (const a of reads) this.invReads.add(a >> 3);
        if (msg === null) continue;
        if (t !== null) this.report(t, "invariant", msg);
        else this.push({ kind: "invariant", message: msg, thread: -1, step: -1 });
      }
    } finally {
      setReadHook(hook);
    }
  }

  /**
   * Call when no thread is enabled: records a deadlock, or runs the end checks when every thread
   * finished. Idempotent. Returns the execution's findings.
   */
  finish(): readonly Finding[] {
    if (this.finished) return this.findings;
    this.finished = true;
    if (this.halted) return this.findings;
    if (this.tasks.some((t) => !t.done && !t.daemon)) {
      const stuck = this.tasks.filter((t) => !t.done && !t.daemon);
      // Threads retrying past their bounds, and no other thread able to make progress: a livelock each.
      const parked = stuck.filter((t) => t.parked !== null);
      if (parked.length > 0) {
        for (const t of parked) this.push({ kind: "livelock", message: `${t.parked!.loop} retried ${moreThan(t.parked!.bound)}`, thread: t.id, step: t.parked!.step });
        return this.findings;
      }
      const parts = stuck.map(
        (t) =>
          `${t.name} waits for ${t.waitOn?.name ?? "?"}${this.heldBy(t.waitOn, t)}${
            // (`at schedule()`, not `at schedule() (schedule())`: new-user trial 16.)
            t.next === null ? "" : t.next.label === `${t.next.fn}()` ? ` at ${t.next.label}` : ` at ${t.next.fn}() (${t.next.label})`
          }`,
      );
      this.push({ kind: "deadlock", message: parts.join(", "), thread: -1, step: this.steps - 1 });
      return this.findings;
    }
    for (const check of this.scenario.endChecks ?? [])
      check.check(this.state, {
        report: (kind: FindingKind, message: string) =>
          this.push({ kind, message, thread: -1, step: this.steps - 1 }),
      });
    return this.findings;
  }

  /** Threads parked past a retry bound (see {@link TaskHost.park}). */
  private parkedCount = 0;

  /** TaskHost: `t` retried `loop` past `bound` in the step running (see Task.retry). */
  park(t: Task, loop: string, bound: number): void {
    if (t.parked === null) this.parkedCount++;
    t.parked = { loop, bound, step: this.steps - 1, quietTried: t.quietRun };
    t.quietRun = false;
    // (Written: the thread's park state changed, which state caching hashes; and the step that
    // ends the parking writes it too, so the reduction orders the two.)
    bookkeepingAccess(this.parkLoc(t), W);
  }

  /**
   * Whether `t`'s step at `site`, just taken, is progress (see Task.retry): a step outside the
   * body of every retry loop its thread has retried. A store buffer's step is its CPU's: making a
   * store visible is progress unless the CPU made the store inside the body of a retry loop it
   * has retried (so that under pso a trylock-and-back-off loop's own unlock becoming visible does
   * not end the other thread's parking each time round, which let two such loops retry without
   * end, every execution cut at the step bound; new-user trial 19). Applying an invalidation
   * (rmo) is progress.
   */
  private isProgress(t: Task, site: Site): boolean {
    let owner = t;
    let at: Site | null = site;
    if (t.daemon) {
      const i = t.id - this.buffers.length;
      at = this.buffers[i]!.lastFlushedSite;
      owner = this.tasks[i]!;
    }
    return at === null || owner.retrySites === null || !owner.retrySites.has(siteKey(at));
  }

  /**
   * Whether a thread other than `t` that is neither parked nor in a quiet retry can run: then a
   * parked `t` waits for its progress instead of retrying quietly.
   */
  private progressPossible(t: Task): boolean {
    for (const u of this.tasks) if (u !== t && u.parked === null && !u.quietRun && this.runnable(u)) return true;
    return false;
  }

  /** Thread `t`'s park location: written by the step that ends its parking, read by its next step. */
  parkLoc(t: Task): number {
    const loc = autoLoc(`task${t.id}:${t.name} parked past a retry bound`);
    if (autoLocValue(loc) === undefined) setAutoLocValue(loc, () => (t.parked !== null ? 1 : 0));
    return loc;
  }

  /** TrackHost: the thread whose step (or creation) is running. */
  runningThread(): string | null {
    return this.running?.name ?? null;
  }

  /** TrackHost: counts a publication of a new shared object by the running thread. */
  publish(): number {
    const t = this.running;
    if (t === null) return 0;
    return t.publications++;
  }

  /** TrackHost: a field access to freed memory inside a step: a `bug` finding; the execution stops. */
  useAfterFree(what: string, freedBy: string): never {
    const t = this.running;
    if (t === null) throw new ModelError(`use-after-free of ${what} outside a step`);
    this.report(t, "bug", `use-after-free: ${t.name} accesses ${what} after kfree() by ${freedBy}`);
    throw HALT;
  }

  /** MemoryHost: wraps a value a thread loads from shared memory (see track.ts). */
  wrap<T>(v: T): T {
    return this.tracker.wrap(v);
  }

  /** MemoryHost: names an object a thread stores into shared memory (see track.ts). */
  published(v: unknown): void {
    if (v !== null && typeof v === "object") this.tracker.name(v);
  }

  /** TaskHost: a finding raised inside a step. */
  report(task: Task, kind: FindingKind, message: string): void {
    this.push({ kind, message, thread: task.id, step: this.steps - 1 });
  }

  /** TaskHost: a note on the current step. */
  note(_task: Task, text: string): void {
    this.currentStep?.notes.push(text);
  }

  /** TaskHost: join support. */
  othersDone(task: Task): boolean {
    for (const t of this.tasks) if (t !== task && !t.done && !t.daemon) return false;
    for (const b of this.buffers) if (b.entries.length > 0) return false;
    return true;
  }

  /** TaskHost: the join reads every other thread's exit location. */
  readExits(task: Task): void {
    this.tasks.forEach((t, i) => {
      if (t !== task && !t.daemon) access(this.exitLocs[i]!, R);
    });
    for (const b of this.buffers) access(b.loc, R);
  }

  private push(f: Finding): void {
    this.findings.push(f);
    if (this.tracing && f.step >= 0 && f.thread >= 0) this.trace![f.step]?.findings.push(f);
  }

  /** The scenario's state view (for display). */
  view(): Record<string, string | number | boolean> {
    return this.scenario.view(this.state);
  }
}

const exitNames = new Map<string, string>();
/** `exit:<thread>`, the name of a thread's exit location (kept: every execution asks again). */
function exitName(thread: string): string {
  let n = exitNames.get(thread);
  if (n === undefined) {
    if (exitNames.size > 10_000) exitNames.clear();
    exitNames.set(thread, (n = `exit:${thread}`));
  }
  return n;
}

function describeYield(v: unknown): string {
  if (v === undefined) return "nothing (a bare `yield`)";
  if (v !== null && typeof v === "object" && typeof (v as Partial<Generator>).next === "function")
    return "a generator (use `yield*` to run a primitive)";
  try {
    return JSON.stringify(v)?.slice(0, 60) ?? String(v);
  } catch {
    return String(v);
  }
}

/**
 * The message for a step a primitive made that never ran ({@link Task.unstarted}): a primitive
 * called without `yield*`, whose generator nobody started.
 */
function neverRan(t: Task): string {
  const at = t.unstartedAt;
  const where = at === null ? "a step" : `the step at ${at.fn}() (${at.label})`;
  return `${where} was made by a primitive that never ran: call it with yield* (\`yield* spin_lock(t, lock, SITE)\`, not \`spin_lock(t, lock, SITE)\`)`;
}

/** `more than once`, `more than 3 times`: how a livelock finding and a parked thread's status say its retry bound. */
function moreThan(bound: number): string {
  return bound === 1 ? "more than once" : `more than ${bound} times`;
}
