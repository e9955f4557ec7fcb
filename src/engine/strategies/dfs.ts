/**
 * Stateless depth-first search of the execution tree as a {@link Strategy}: the base of every
 * exhaustive strategy (sleep sets, DPOR, state caching, no reduction, bounded preemption).
 *
 * Each execution replays the path to the deepest node with an alternative left and takes it
 * (replay from the initial state: generator threads cannot be copied). Exploration order is
 * fixed: at each node the thread that ran last goes first (no preemption), then the others in
 * ascending index order, each with its choices; so the first violating execution found tends to
 * have few preemptions. A thread that does not replay the same way is a ModelError.
 */
import { dependent } from "../access.js";
import { ModelError } from "../../errors.js";
import type { Execution } from "../execution.js";
import { ABANDON, altOf, FINISH, TID_MASK, zeroCounters, type Strategy, type StrategyCounters } from "../runner.js";
import type { Site } from "../site.js";
import type { ScopeCell } from "../fingerprint.js";

/** Greatest depth of the nodes whose subtrees are dealt to shards ({@link DfsOptions.shard}). */
export const SHARD_DEPTH = 20;

/** Options of a {@link DepthFirstSearch}. */
export interface DfsOptions {
  /**
   * Sleep sets (Godefroid 1996): after exploring an alternative at a node, it sleeps in the
   * sibling subtrees until a step dependent with it runs. Default true.
   */
  readonly sleepSets?: boolean;
  /** Explore only schedules with at most this many preemptions (CHESS-style bounding); turns sleep sets off. */
  readonly preemptionBound?: number;
  /**
   * Explore only part `index` of `count`: the nodes at depth `shardDepth` and the executions that
   * end above it are numbered in exploration order, and this part explores those whose number is
   * `index` modulo `count`, or, with `claims`, those it claims first. The parts' executions add up
   * to the whole search's.
   */
  readonly shard?: {
    /** This part, 0 to count - 1. */
    readonly index: number;
    /** Parts in all. */
    readonly count: number;
    /**
     * Shared by parts that run at the same time (worker threads of one process): entry u is 0
     * until a part claims unit u (Atomics.compareExchange to its index + 1); a part explores the
     * units it claims, so one that finishes early takes more. Units past the array's length are
     * dealt round-robin. Every part numbers the units alike, so the results add up the same.
     */
    readonly claims?: Int32Array;
  };
  /** Depth of the nodes dealt to shards; default {@link SHARD_DEPTH}. */
  readonly shardDepth?: number;
  /** Probe: count the nodes at this depth (`counters.nodesAtDepth`) and go no deeper. */
  readonly countDepth?: number;
}

/** An alternative left asleep, with the accesses it made when it ran. */
export interface Sleeper {
  /** The alternative (thread and choice). */
  readonly alt: number;
  /** Its accesses (access.ts encoding). */
  readonly acc: readonly number[];
}

/** A node on the current path. */
export interface Frame {
  /** Alternatives at this node (enabled threads, each with its choices), in exploration order. */
  readonly order: number[];
  /** Whether the thread of the previous step was still enabled here (switching away preempts). */
  readonly prevEnabled: boolean;
  /** Thread of the previous step, or -1 at the root. */
  readonly prev: number;
  /** Sleep set on arrival. */
  readonly sleep: readonly Sleeper[];
  /** Alternatives explored here so far (they sleep in later siblings). */
  done: readonly Sleeper[];
  /** Index in `order` of the alternative taken. */
  idx: number;
  /** The alternative taken (thread and choice). */
  cur: number;
  /** Its accesses. */
  curAcc: number[];
  /** Preemptions on the path up to and including this node's chosen step. */
  pre: number;
  /** Site of the step taken, to detect a thread that does not replay the same way. */
  site: Site | null;
  /** State caching: the threads' history hashes after this node's step. */
  hist: Uint32Array | null;
  /**
   * State caching: per thread, its histories at the entries of the `deadOnReturn()` functions it
   * is in after this node's step (null when no thread has entered one).
   */
  scopes: (ScopeCell | null)[] | null;
  /** State caching: the unit hashes of the state this node's step leads to, kept when a replay may resume there (else null). */
  hashes: Int32Array | null;
  /** DPOR: threads this node must explore (grows as races are found below it). */
  bt: Set<number> | null;
  /** DPOR: vector clock of this node's step (per thread: its steps that happen before). */
  clock: Int32Array | null;
  /** DPOR: 1-based index of this node's step among its thread's steps. */
  lidx: number;
}

const NONE: readonly Sleeper[] = Object.freeze([]);
/** `Frame.curAcc` before its step ran (never written: a step's accesses come in a fresh array). */
const NO_ACCESSES = Object.freeze([]) as unknown as number[];
/** True when alternative `alt` is in sleep set `s`. */
export const inSleep = (s: readonly Sleeper[], alt: number): boolean => s.some((x) => x.alt === alt);

/**
 * Depth-first search of every execution (with sleep sets unless turned off); subclasses add
 * DPOR and state caching through the protected hooks.
 */
export class DepthFirstSearch implements Strategy {
  /** The current path. */
  protected readonly frames: Frame[] = [];
  /** Steps taken in the current execution (the depth of the current node). */
  protected depth = 0;
  /** Sleep set of the current node. */
  protected sleep: readonly Sleeper[] = NONE;
  /** Alternatives a new node may take (state caching narrows it), or null for all. */
  protected restrict: readonly number[] | null = null;
  /** Whether sleep sets are on (off without them and under a preemption bound). */
  protected readonly useSleep: boolean;
  private readonly bound: number;
  /** Whether new steps record accesses (sleep sets and the subclasses need them). */
  protected record: boolean;
  private started = false;
  private unitCount = 0;
  private readonly shardDepth: number;
  recording = false;
  unit = 0;
  readonly total = null;
  readonly counters: StrategyCounters = zeroCounters();

  constructor(
    /** Name for messages (`sleep-sets`, `dpor`, ...). */
    readonly name: string,
    /** Sleep sets, preemption bound, shard. */
    protected readonly opts: DfsOptions = {},
  ) {
    this.bound = opts.preemptionBound ?? Infinity;
    this.useSleep = (opts.sleepSets ?? true) && this.bound === Infinity;
    this.record = this.useSleep;
    this.shardDepth = opts.shard === undefined ? SHARD_DEPTH : (opts.shardDepth ?? SHARD_DEPTH);
  }

  newExecution(): boolean {
    this.depth = 0;
    if (!this.started) {
      this.started = true;
      this.sleep = NONE;
      return true;
    }
    // Backtrack to the deepest node with an alternative left.
    const frames = this.frames;
    while (frames.length > 0) {
      const f = frames[frames.length - 1]!;
      if (this.useSleep) {
        if (f.done === NONE) f.done = [];
        (f.done as Sleeper[]).push({ alt: f.cur, acc: f.curAcc });
      }
      const base = frames.length >= 2 ? frames[frames.length - 2]!.pre : 0;
      const i = this.nextAlternative(f, base);
      if (i === f.order.length) {
        frames.pop();
        continue;
      }
      f.idx = i;
      f.cur = f.order[i]!;
      f.curAcc = NO_ACCESSES;
      f.pre = base + this.costOf(f, f.cur);
      return true;
    }
    return false;
  }

  /**
   * The steps already decided: the path replayed up to the node this execution departs from, then
   * the alternative newExecution() picked there; -1 past them (the runner then computes the
   * enabled threads and asks nextStep).
   */
  forced(exec: Execution): number {
    const k = this.depth;
    const frames = this.frames;
    if (k >= frames.length) return -1;
    const f = frames[k]!;
    const tid = f.cur & TID_MASK;
    if (k < frames.length - 1) {
      if (!exec.isEnabled(tid) || !sameSite(exec.tasks[tid]!.next, f.site)) nondeterministic(exec, k, f);
      this.recording = false;
      return f.cur;
    }
    if (!exec.isEnabled(tid)) nondeterministic(exec, k, f);
    this.resume(exec, k);
    f.site = exec.tasks[tid]!.next;
    this.recording = this.record;
    this.beforeStep(exec, f);
    return f.cur;
  }

  nextStep(exec: Execution, en: readonly number[]): number {
    const k = this.depth;
    const frames = this.frames;
    if (k < frames.length) return this.forced(exec);
    // A node seen for the first time.
    this.restrict = null;
    if (!this.atNode(exec, en)) return ABANDON;
    if (k === this.opts.countDepth) {
      this.counters.nodesAtDepth++;
      return ABANDON;
    }
    const shard = this.opts.shard;
    if (shard !== undefined && k === this.shardDepth) {
      // The root of a subtree dealt to the shards: explore it only when it is this shard's.
      this.unit = this.unitCount++;
      if (!this.mine(this.unit)) return ABANDON;
    }
    if (en.length === 0) return k < this.shardDepth && !this.mineShallow() ? ABANDON : FINISH;
    const prev = k === 0 ? -1 : frames[k - 1]!.cur & TID_MASK;
    const prevEnabled = prev >= 0 && en.includes(prev);
    // The thread that ran last first, then the others in ascending order (prev is not in `en`
    // when it cannot run), each with its choices, those `restrict` allows.
    const order: number[] = [];
    const restrict = this.restrict as readonly number[] | null;
    if (prevEnabled) alternatives(exec, prev, restrict, order);
    for (let j = 0; j < en.length; j++) if (en[j] !== prev) alternatives(exec, en[j]!, restrict, order);
    const base = k === 0 ? 0 : frames[k - 1]!.pre;
    const f: Frame = {
      order,
      prevEnabled,
      prev,
      sleep: this.sleep,
      done: NONE,
      idx: -1,
      cur: -1,
      curAcc: NO_ACCESSES,
      pre: base,
      site: null,
      hist: null,
      scopes: null,
      hashes: null,
      bt: null,
      clock: null,
      lidx: 0,
    };
    let i = 0;
    while (i < order.length && (inSleep(this.sleep, order[i]!) || base + this.costOf(f, order[i]!) > this.bound)) i++;
    if (i === order.length) {
      if (k >= this.shardDepth || this.mineShallow()) this.counters.sleepBlocked++;
      return ABANDON;
    }
    f.idx = i;
    f.cur = order[i]!;
    f.pre = base + this.costOf(f, f.cur);
    f.site = exec.tasks[f.cur & TID_MASK]!.next;
    this.newFrame(f);
    frames.push(f);
    this.recording = this.record;
    this.beforeStep(exec, f);
    return f.cur;
  }

  stepped(exec: Execution, _alt: number, acc: number[] | null): void {
    const k = this.depth++;
    if (k < this.frames.length - 1) return;
    const f = this.frames[k]!;
    if (acc !== null) f.curAcc = acc;
    this.afterStep(exec, f, k);
    this.sleep = this.childSleep(f);
  }

  // ---- Hooks for the subclasses. ----

  /** At a node seen for the first time (before the shard and end checks): false prunes it. May set `restrict`. */
  protected atNode(_exec: Execution, _en: readonly number[]): boolean {
    return true;
  }
  /** A new frame is about to be pushed (its first alternative chosen). */
  protected newFrame(_f: Frame): void {}
  /** The path's prefix up to node `k` was replayed; node k's new alternative runs next. */
  protected resume(_exec: Execution, _k: number): void {}
  /** Right before a new step of the path (not a replayed one) runs. */
  protected beforeStep(_exec: Execution, _f: Frame): void {}
  /** Right after it ran (`f.curAcc` holds its accesses). */
  protected afterStep(_exec: Execution, _f: Frame, _k: number): void {}
  /**
   * Index in `f.order` of the next alternative to explore at `f` (`f.order.length` when none is
   * left); `base` is the preemptions before the node. Default: the next one in order that is
   * awake and within the preemption bound.
   */
  protected nextAlternative(f: Frame, base: number): number {
    let i = f.idx + 1;
    while (i < f.order.length && (inSleep(f.sleep, f.order[i]!) || base + this.costOf(f, f.order[i]!) > this.bound)) i++;
    return i;
  }

  // ---- Internals. ----

  private costOf(f: Frame, alt: number): number {
    return f.prevEnabled && (alt & TID_MASK) !== f.prev ? 1 : 0;
  }
  /** Shard bookkeeping at a node above the split depth that ends here: is it this shard's? */
  private mineShallow(): boolean {
    this.unit = this.unitCount++;
    return this.mine(this.unit);
  }
  /** Whether unit `u` is this part's: claimed first by it (with `shard.claims`), else dealt round-robin. */
  private mine(u: number): boolean {
    const shard = this.opts.shard;
    if (shard === undefined) return true;
    const c = shard.claims;
    if (c !== undefined && u < c.length) {
      const prev = Atomics.compareExchange(c, u, 0, shard.index + 1);
      return prev === 0 || prev === shard.index + 1;
    }
    return u % shard.count === shard.index;
  }
  /**
   * A sleeper stays asleep in the child when independent of the step taken; alternatives of the
   * thread that stepped are dropped (its next step is a different event).
   */
  private childSleep(f: Frame): readonly Sleeper[] {
    if (!this.useSleep) return NONE;
    const out: Sleeper[] = [];
    const tid = f.cur & TID_MASK;
    for (const x of f.sleep) if ((x.alt & TID_MASK) !== tid && !dependent(x.acc, f.curAcc)) out.push(x);
    for (const x of f.done) if ((x.alt & TID_MASK) !== tid && !dependent(x.acc, f.curAcc)) out.push(x);
    return out;
  }
}

/** Appends to `out` the alternatives of thread `tid` at the current state (each of its choices) that `restrict` holds (all when null). */
function alternatives(exec: Execution, tid: number, restrict: readonly number[] | null, out: number[]): void {
  const n = exec.tasks[tid]!.alternatives();
  for (let c = 0; c < n; c++) {
    const a = altOf(tid, c);
    if (restrict === null || restrict.includes(a)) out.push(a);
  }
}

/** Sites are module constants, but some are made per call (labels with values): compare fields. */
function sameSite(a: Site | null, b: Site | null): boolean {
  return a === b || (a !== null && b !== null && a.fn === b.fn && a.label === b.label);
}

function siteName(site: Site | null): string {
  return site === null ? "(finished)" : `${site.fn}() (${site.label})`;
}

/** Replaying a schedule prefix did not reach the same step: some thread is not deterministic. */
function nondeterministic(exec: Execution, k: number, f: Frame): never {
  const tid = f.cur & TID_MASK;
  const t = exec.tasks[tid]!;
  const now = !exec.isEnabled(tid) ? `it cannot run (${t.done ? "finished" : `waits for ${t.waitOn?.name ?? "?"}`})` : `it is at ${siteName(t.next)}`;
  throw new ModelError(
    `${exec.scenario.id}: nondeterministic thread ${t.name}: replaying the same schedule, step ${k + 1} was ${siteName(f.site)} the first time, now ${now}; ` +
      `threads must depend only on the state setup() builds and on cfg (no Math.random(), Date.now(), or variables kept across executions)`,
  );
}
