import { dependent, R, recordInto } from "./access.js";
import { Execution, ModelError, type ExecutionOptions } from "./execution.js";
import { Fingerprinter, FingerprintTable } from "./fingerprint.js";
import { setChoiceDependencies } from "./memory.js";
import type { AnyScenario } from "./scenario.js";
import type { Site } from "./site.js";
import type { RunConfig } from "./task.js";

/** Options of the depth-first explorer. */
export interface DfsOptions {
  /**
   * Sleep-set reduction (Godefroid 1996): after exploring thread p's step at a node, p sleeps in
   * sibling subtrees until a step dependent with p's step runs. Visits one execution per
   * Mazurkiewicz trace (plus cut-off "sleep-blocked" prefixes). Default true. Ignored (off) when a
   * preemption bound is set, since the two do not combine soundly.
   */
  readonly sleepSets?: boolean;
  /** Explore only schedules with at most this many preemptions (CHESS-style bounding). */
  readonly preemptionBound?: number;
  /** Stop after this many complete executions; `complete` is then false. Default 1,000,000. */
  readonly maxExecutions?: number;
  /** An execution longer than this many steps is cut (counted as incomplete). Default 10,000. */
  readonly maxSteps?: number;
  /** Keep per-step accesses of each visited execution (needed for naive counts). */
  readonly keepAccesses?: boolean;
  /**
   * State caching (with sleep sets; ignored without them): fingerprint every state reached
   * (fingerprint.ts) and do not explore a state again unless its sleep set now lets through a
   * step the earlier visit left asleep (Godefroid 1996, sleep sets with state matching). Visits
   * every reachable final state and finding, but fewer executions. Throws
   * {@link UnhashableState} when a step reads a location the fingerprint cannot hash.
   */
  readonly stateCaching?: boolean;
  /**
   * Source-DPOR (Abdulla, Aronis, Jonsson, Sagonas 2014/2017) on top of the sleep sets (ignored
   * without them): a node explores only the threads that races found in the executions below it
   * require, instead of every awake thread. Visits exactly the executions the sleep-set search
   * visits (one per Mazurkiewicz trace), with far fewer sleep-blocked prefixes. Blocking is
   * handled by treating a blocked thread's pending wait as an event that races with the step
   * that keeps it blocked (and, when the race cannot be reversed there, by exploring every thread
   * at that node, as Flanagan and Godefroid 2005 do).
   */
  readonly dpor?: boolean;
  /** Stop (complete = false, `stopReason` set) after this many distinct states (state caching). */
  readonly maxStates?: number;
  /** Stop (complete = false) once this much wall-clock time has passed, ms. */
  readonly timeLimitMs?: number;
  /** Polled now and then; returning a reason stops the search there (complete = false). */
  readonly stop?: () => string | null;
  /**
   * Locations scenario invariants read, shared across searches (Execution's `invariantReads`).
   * A search that learns a new one after its first step has ordered steps without it: it sets
   * `invariantReadsGrew`, and the caller searches again with the larger set.
   */
  readonly invariantReads?: Set<number>;
  /**
   * Explore only part `index` of `count`: the nodes at the split depth (the least depth with at
   * least 256 nodes per part, at most {@link SHARD_DEPTH}; every part computes the same) and the
   * executions that end above it are numbered in exploration order, and this part explores those
   * whose number is `index` modulo `count`. The parts' executions add up to the whole search's.
   * Sleep sets only (the subtrees of a DPOR or state-caching search depend on each other).
   */
  readonly shard?: {
    /** This part, 0 to count - 1. */
    readonly index: number;
    /** Parts in all. */
    readonly count: number
  };
  /** Called about every 250 ms with the counts so far. */
  readonly onProgress?: (s: Readonly<DfsStats>) => void;
}

/** Thrown by a state-caching {@link dfs} when a step reads a location no fingerprint covers. */
export class UnhashableState extends Error {
  /** Always `"UnhashableState"`. */
  override readonly name = "UnhashableState";
  constructor(
    /** Name of the location read (`newLoc(name)` without an owner). */
    readonly location: string,
  ) {
    super(`location ${location} has no owner (newLoc(name) without \`this\`): its value cannot be hashed`);
  }
}

/** What the visitor gets for each complete execution. */
export interface Visit {
  /** The complete execution (finished: terminal findings computed). */
  readonly exec: Execution;
  /** Encoded accesses per step, when `keepAccesses` (else empty). */
  readonly accesses: readonly (readonly number[])[];
  /** Number of preemptions in the schedule. */
  readonly preemptions: number;
  /** Its shard unit: the number of the split-depth subtree (or shallow execution) it is in, in exploration order (see DfsOptions.shard). */
  readonly unit: number;
}

/** Greatest depth of the nodes whose subtrees are dealt to shards (DfsOptions.shard). */
export const SHARD_DEPTH = 20;
/** Nodes per part wanted at the split depth (DfsOptions.shard). */
const UNITS_PER_PART = 256;

/** What {@link dfs} returns: how much it explored and whether that was everything. */
export interface DfsStats {
  /** Complete executions visited. */
  executions: number;
  /** Prefixes cut because every enabled thread was asleep (redundant by the reduction). */
  sleepBlocked: number;
  /** False when a bound (executions, steps, states, time) or a stop request cut the search short. */
  complete: boolean;
  /** Distinct states stored (state caching), else 0. */
  states: number;
  /** Visits of a stored state that were pruned (state caching), else 0. */
  revisits: number;
  /** Steps executed, replays included. */
  steps: number;
  /** Why the search stopped early (`time limit of 10 s`), or null. */
  stopReason: string | null;
  /** Bytes of the fingerprint table (state caching), else 0. */
  tableBytes: number;
  /** The invariants read a location the search had not known of when it started (see DfsOptions.invariantReads). */
  invariantReadsGrew: boolean;
  /** Nodes counted at the depth a sharded search probes for its split depth (0 otherwise). */
  nodesAtDepth: number;
}

/** An alternative at a node: thread index plus the choice picked (`tid | choice << 12`). */
const TID_MASK = 0xfff;
const altOf = (tid: number, choice: number) => tid | (choice << 12);

interface Sleeper {
  /** The alternative (thread and choice). */
  readonly alt: number;
  readonly acc: readonly number[];
}

interface Frame {
  /** Alternatives at this node (enabled threads, each with its choices), in exploration order. */
  readonly order: number[];
  /** Whether the thread of the previous step was still enabled here (switching away preempts). */
  readonly prevEnabled: boolean;
  readonly prev: number;
  readonly sleep: readonly Sleeper[];
  readonly done: Sleeper[];
  idx: number;
  /** The alternative taken (thread and choice). */
  cur: number;
  curAcc: number[];
  /** Preemptions on the path up to and including this node's chosen step. */
  pre: number;
  /** Site of the step taken, to detect a thread that does not replay the same way. */
  site: Site | null;
  /** State caching: the threads' history hashes after this node's step. */
  hist: Uint32Array | null;
  /** DPOR: threads this node must explore (grows as races are found below it). */
  bt: Set<number> | null;
  /** DPOR: vector clock of this node's step (happens-before, per thread: its steps so far). */
  clock: Int32Array | null;
  /** DPOR: 1-based index of this node's step among its thread's steps. */
  lidx: number;
}

/** Accesses of a pending step whose accesses are unknown: dependent with every step. */
const UNIVERSAL: readonly number[] = [-1];
const dependentOrUniversal = (a: readonly number[], b: readonly number[]) => a === UNIVERSAL || b === UNIVERSAL || dependent(a, b);

/**
 * Stateless depth-first exploration of every interleaving (with sleep sets), replaying the prefix
 * from the initial state to backtrack. Exploration order is fixed: at each node the thread that
 * ran last goes first (no preemption), then the others in ascending index order; so the first
 * violating execution found tends to have few preemptions. Calls `visit` for each complete
 * execution (all threads finished, deadlocked, or stopped by a BUG); `visit` returning true stops
 * the search. Throws ModelError if the model's code throws.
 */
export function dfs(
  sc: AnyScenario,
  cfg: RunConfig<unknown>,
  opts: DfsOptions,
  visit: (v: Visit) => boolean | void,
): DfsStats {
  const dpor = (opts.sleepSets ?? true) && opts.preemptionBound === undefined && opts.stateCaching !== true && opts.dpor === true;
  setChoiceDependencies(dpor);
  try {
    let depth = SHARD_DEPTH;
    if (opts.shard !== undefined) {
      // The least depth with enough nodes to deal (each part counts them the same way).
      const top = { ...opts, shard: undefined, onProgress: undefined, maxExecutions: Infinity };
      for (let d = 1; d < SHARD_DEPTH; d++) {
        const st = search(sc, cfg, top, () => false, d, d);
        if (st.nodesAtDepth >= UNITS_PER_PART * opts.shard.count || st.nodesAtDepth === 0) {
          depth = d;
          break;
        }
      }
    }
    return search(sc, cfg, opts, visit, depth);
  } finally {
    setChoiceDependencies(false);
  }
}

function search(
  sc: AnyScenario,
  cfg: RunConfig<unknown>,
  opts: DfsOptions,
  visit: (v: Visit) => boolean | void,
  shardDepth: number,
  countDepth = -1,
): DfsStats {
  const bound = opts.preemptionBound ?? Infinity;
  const useSleep = (opts.sleepSets ?? true) && bound === Infinity;
  const caching = bound === Infinity && opts.stateCaching === true;
  const dpor = useSleep && !caching && opts.dpor === true;
  const record = useSleep || caching || opts.keepAccesses === true;
  const maxExec = opts.maxExecutions ?? 1_000_000;
  const maxSteps = opts.maxSteps ?? 10_000;
  const maxStates = opts.maxStates ?? Infinity;
  const t0 = performance.now();
  const deadline = opts.timeLimitMs === undefined ? Infinity : t0 + opts.timeLimitMs;
  const invariantReads = opts.invariantReads ?? new Set<number>();
  const execOpts: ExecutionOptions = { invariantReads };
  const stats: DfsStats = { executions: 0, sleepBlocked: 0, complete: true, states: 0, revisits: 0, steps: 0, stopReason: null, tableBytes: 0, invariantReadsGrew: false, nodesAtDepth: 0 };
  const frames: Frame[] = [];
  const en: number[] = [];
  const none: readonly Sleeper[] = [];
  const table = caching ? new FingerprintTable() : null;
  const fp = new Uint32Array(2);
  let fpr: Fingerprinter | null = null;
  let initialHist: Uint32Array | null = null;
  let nextPoll = 0;
  let lastProgress = t0;
  const shard = opts.shard;
  if (shard !== undefined && (dpor || caching)) throw new Error("a sharded search needs sleep sets without DPOR or state caching");
  let unitCount = 0;
  let unit = 0;
  /** Shard bookkeeping at a node above the split depth that ends here: is it this shard's? */
  const mineShallow = (): boolean => {
    unit = unitCount++;
    return shard === undefined || unit % shard.count === shard.index;
  };

  const inSleep = (s: readonly Sleeper[], alt: number) => s.some((x) => x.alt === alt);
  // A sleeper stays asleep in the child when independent of the step taken; alternatives of the
  // thread that stepped are dropped (its next step is a different event).
  const childSleep = (f: Frame): readonly Sleeper[] => {
    if (!useSleep) return none;
    const out: Sleeper[] = [];
    const tid = f.cur & TID_MASK;
    for (const x of f.sleep) if ((x.alt & TID_MASK) !== tid && !dependent(x.acc, f.curAcc)) out.push(x);
    for (const x of f.done) if ((x.alt & TID_MASK) !== tid && !dependent(x.acc, f.curAcc)) out.push(x);
    return out;
  };
  const costOf = (f: Frame, alt: number) => (f.prevEnabled && (alt & TID_MASK) !== f.prev ? 1 : 0);
  const alternatives = (tids: readonly number[]): number[] => {
    const out: number[] = [];
    for (const tid of tids) {
      const n = exec.tasks[tid]!.alternatives();
      for (let c = 0; c < n; c++) out.push(altOf(tid, c));
    }
    return out;
  };
  const run = (alt: number, acc: number[] | null) => {
    stats.steps++;
    exec.step(alt & TID_MASK, acc, alt >> 12);
  };
  // Runs a node's chosen step; with state caching, folds what the thread read into its history
  // and hashes the state reached.
  const advance = (f: Frame) => {
    if (fpr === null) {
      run(f.cur, record ? f.curAcc : null);
      return;
    }
    fpr.beginStep();
    try {
      run(f.cur, f.curAcc);
    } finally {
      fpr.endStep(f.cur & TID_MASK, f.cur >> 12);
    }
    if (fpr.unhashable !== null) throw new UnhashableState(fpr.unhashable);
    fpr.walk();
    f.hist = fpr.history.slice();
  };
  const sleepAlts = (s: readonly Sleeper[]) => s.map((x) => x.alt).sort((a, b) => a - b);
  const preBefore = () => (frames.length === 0 ? 0 : frames[frames.length - 1]!.pre);
  // Budgets and stop requests, polled every 256 steps.
  const stopNow = (): boolean => {
    if (stats.steps < nextPoll) return false;
    nextPoll = stats.steps + 256;
    const now = performance.now();
    let why: string | null = null;
    if (now >= deadline) why = `time limit of ${fmtMs(opts.timeLimitMs!)}`;
    else if (stats.states >= maxStates) why = `state bound of ${maxStates.toLocaleString("en-US")}`;
    else why = opts.stop?.() ?? null;
    if (opts.onProgress !== undefined && (why !== null || now - lastProgress >= 250)) {
      lastProgress = now;
      opts.onProgress(stats);
    }
    if (why === null) return false;
    stats.stopReason = why;
    stats.complete = false;
    return true;
  };
  let knownInvariantReads = 0;
  const finish = () => {
    stats.invariantReadsGrew = invariantReads.size > knownInvariantReads;
    if (table !== null) {
      stats.states = table.size;
      stats.tableBytes = table.bytes;
    }
    return stats;
  };


  // ---- Source-DPOR: happens-before clocks and races over the current path (frames). ----
  const nThreads = () => exec.tasks.length;
  const tidAt = (k: number) => frames[k]!.cur & TID_MASK;
  /**
   * The event at position `pos` (a step of thread `tid` with accesses `acc`; `pos` ===
   * frames.length for a pending step that has not run) against the path before it: returns its
   * clock, and for every race `j ⋖ pos` (j dependent with it, from another thread, not ordered
   * before it through other events) asks node j to explore an initial of the reversed order.
   */
  const analyze = (pos: number, tid: number, acc: readonly number[]): Int32Array => {
    const n = nThreads();
    let po = -1;
    for (let j = pos - 1; j >= 0; j--)
      if (tidAt(j) === tid) {
        po = j;
        break;
      }
    const running = po >= 0 ? frames[po]!.clock!.slice() : new Int32Array(n);
    for (let j = pos - 1; j >= 0; j--) {
      const fj = frames[j]!;
      const tj = fj.cur & TID_MASK;
      if (tj === tid || !dependentOrUniversal(fj.curAcc, acc)) continue;
      if (running[tj]! < fj.lidx) reverse(j, pos, tid, running);
      const cj = fj.clock!;
      for (let s = 0; s < n; s++) if (cj[s]! > running[s]!) running[s] = cj[s]!;
    }
    running[tid] = (po >= 0 ? frames[po]!.lidx : 0) + 1;
    return running;
  };
  /**
   * Race j ⋖ (event at `pos` of thread `q`, whose clock without j is `ci`): v = the events after
   * j that do not happen after it, then the event; node j must explore one of v's initials.
   */
  const reverse = (j: number, pos: number, q: number, ci: Int32Array): void => {
    const fj = frames[j]!;
    const tj = fj.cur & TID_MASK;
    const n = nThreads();
    const firstAfter = new Int32Array(n).fill(0x7fffffff);
    const candidate = new Map<number, Int32Array>();
    for (let x = j + 1; x < pos; x++) {
      const fx = frames[x]!;
      const tx = fx.cur & TID_MASK;
      if (firstAfter[tx] === 0x7fffffff) firstAfter[tx] = fx.lidx;
      if (fx.clock![tj]! >= fj.lidx) continue; // happens after j: not in v
      if (!candidate.has(tx)) candidate.set(tx, fx.clock!);
    }
    if (!candidate.has(q)) candidate.set(q, ci);
    const initials: number[] = [];
    for (const [r, c] of candidate) {
      let ok = true;
      for (let s = 0; s < n && ok; s++) if (s !== r && c[s]! >= firstAfter[s]!) ok = false;
      if (ok) initials.push(r);
    }
    const bt = fj.bt!;
    if (initials.some((r) => bt.has(r))) return;
    const enabledHere = (r: number) => fj.order.some((a) => (a & TID_MASK) === r);
    const awake = initials.find((r) => enabledHere(r) && fj.order.some((a) => (a & TID_MASK) === r && !inSleep(fj.sleep, a)));
    if (awake !== undefined) bt.add(awake);
    else if (initials.some(enabledHere)) return; // asleep there: that order is explored elsewhere
    // Else every initial was blocked at node j. Flanagan and Godefroid (2005) would explore every
    // thread there; instead, each such thread's pending wait was analyzed at node j
    // (pendingRaces), which reverses it with the step that blocked it, earlier on the path. The
    // property test (test/reduction-property.test.ts) compares the result with the unreduced
    // search on programs with locks and deadlocks.
  };
  /** The clock and races of the step just taken at frame k. */
  const stepRaces = (k: number): void => {
    const f = frames[k]!;
    const tid = f.cur & TID_MASK;
    let po = -1;
    for (let j = k - 1; j >= 0; j--)
      if (tidAt(j) === tid) {
        po = j;
        break;
      }
    f.lidx = (po >= 0 ? frames[po]!.lidx : 0) + 1;
    f.clock = analyze(k, tid, f.curAcc);
  };
  const pendingAcc: number[] = [];
  /**
   * Threads that cannot run at the current node: their pending step (the wait's accesses, or
   * unknown accesses when the execution stopped) races with the steps that keep it from running.
   */
  // The pending waits at each node of the path (depth -> thread -> accesses), so that a wait
  // unchanged since the parent node is analyzed again only when the step just taken is dependent
  // with it: otherwise its races are the parent's, and the initials the parent ensured are still
  // initials (the new step is independent of the wait and comes after the others).
  const pendingKeys: Map<number, string>[] = [];
  const pendingRaces = (enabled: readonly number[]): void => {
    const k = frames.length;
    const here = (pendingKeys[k] ??= new Map());
    here.clear();
    if (k === 0) return;
    const parent = pendingKeys[k - 1];
    const last = frames[k - 1]!;
    const cut = exec.steps >= maxSteps;
    for (const t of exec.tasks) {
      if (t.done) continue;
      const runnable = enabled.includes(t.id);
      if (runnable && !cut) continue;
      let acc: readonly number[];
      // Stopped by a BUG (or cut): what the others would have done next is unknown.
      if (exec.halted || runnable) acc = UNIVERSAL;
      else {
        pendingAcc.length = 0;
        recordInto(pendingAcc);
        try {
          if (t.waitOn !== null && !t.waitOn.canProceed(t, t.waitMode)) t.waitOn.waited(t, t.waitMode);
          const buf = exec.buffers[t.id];
          if (t.fence && !t.daemon && buf !== undefined && buf.entries.length > 0) pendingAcc.push(buf.loc * 8 + R);
          acc = pendingAcc.slice();
        } catch {
          acc = UNIVERSAL;
        } finally {
          recordInto(null);
        }
        if (acc.length === 0) continue;
        const key = acc.join(",");
        here.set(t.id, key);
        if (parent?.get(t.id) === key && (last.cur & TID_MASK) !== t.id && !dependentOrUniversal(last.curAcc, acc)) continue;
      }
      analyze(k, t.id, acc);
    }
  };

  let exec = new Execution(sc, cfg, execOpts);
  knownInvariantReads = invariantReads.size;
  if (caching) {
    fpr = new Fingerprinter(exec);
    initialHist = fpr.history.slice();
    fpr.walk();
  }
  let sleep: readonly Sleeper[] = none;
  for (;;) {
    // Descend: extend the current execution until it is complete or sleep-blocked.
    for (;;) {
      exec.enabled(en);
      if (dpor) pendingRaces(en);
      let restrict: readonly number[] | null = null;
      if (table !== null) {
        // A state seen before is explored again only for the steps its earlier visit left asleep
        // that are awake now (Godefroid 1996, Fig. 6.5); its stored sleep set shrinks to the
        // intersection.
        fpr!.fingerprint(fp);
        const i = table.find(fp);
        const alts = sleepAlts(sleep);
        if (i < 0) {
          table.insert(fp, alts);
          stats.states = table.size;
        } else {
          const stored = table.sleepOf(i);
          const wake = en.length === 0 ? [] : stored.filter((a) => !alts.includes(a));
          if (wake.length === 0) {
            stats.revisits++;
            break;
          }
          restrict = wake;
          sleep = sleep.filter((x) => stored.includes(x.alt));
          table.setSleep(i, sleepAlts(sleep));
        }
      }
      if (frames.length === countDepth) {
        // Probing for the split depth: count the node, do not go below it.
        stats.nodesAtDepth++;
        break;
      }
      if (shard !== undefined && frames.length === shardDepth) {
        // The root of a subtree dealt to the shards: explore it only when it is this shard's.
        unit = unitCount++;
        if (unit % shard.count !== shard.index) break;
      }
      if (en.length === 0) {
        if (frames.length < shardDepth && !mineShallow()) break;
        exec.finish();
        stats.executions++;
        const accesses = opts.keepAccesses === true ? frames.map((f) => f.curAcc) : [];
        if (visit({ exec, accesses, preemptions: preBefore(), unit }) === true) {
          stats.complete = false;
          return finish();
        }
        break;
      }
      if (exec.steps >= maxSteps) {
        stats.complete = false;
        break;
      }
      if (stopNow()) return finish();
      const prev = frames.length === 0 ? -1 : frames[frames.length - 1]!.cur & TID_MASK;
      const prevEnabled = prev >= 0 && en.includes(prev);
      let order = alternatives(prevEnabled ? [prev, ...en.filter((t) => t !== prev)] : en);
      if (restrict !== null) order = order.filter((a) => restrict.includes(a));
      const base = preBefore();
      const f: Frame = { order, prevEnabled, prev, sleep, done: [], idx: -1, cur: -1, curAcc: [], pre: base, site: null, hist: null, bt: null, clock: null, lidx: 0 };
      let i = 0;
      while (i < order.length && (inSleep(sleep, order[i]!) || base + costOf(f, order[i]!) > bound)) i++;
      if (i === order.length) {
        if (frames.length >= shardDepth || mineShallow()) stats.sleepBlocked++;
        break;
      }
      f.idx = i;
      f.cur = order[i]!;
      f.pre = base + costOf(f, f.cur);
      f.site = exec.tasks[f.cur & TID_MASK]!.next;
      if (dpor) f.bt = new Set([f.cur & TID_MASK]);
      frames.push(f);
      advance(f);
      if (dpor) stepRaces(frames.length - 1);
      sleep = childSleep(f);
    }
    if (stats.executions >= maxExec) {
      stats.complete = false;
      stats.stopReason = `execution bound of ${maxExec.toLocaleString("en-US")}`;
      return finish();
    }
    if (stopNow()) return finish();
    // Backtrack to the deepest node with an unexplored, awake choice.
    let resumed = false;
    while (frames.length > 0) {
      const f = frames[frames.length - 1]!;
      if (useSleep) f.done.push({ alt: f.cur, acc: f.curAcc });
      const base = frames.length >= 2 ? frames[frames.length - 2]!.pre : 0;
      let i: number;
      if (dpor) {
        // The first alternative, in exploration order, of a thread the races asked for.
        i = 0;
        while (i < f.order.length && (!f.bt!.has(f.order[i]! & TID_MASK) || inSleep(f.sleep, f.order[i]!) || inSleep(f.done, f.order[i]!))) i++;
      } else {
        i = f.idx + 1;
        while (i < f.order.length && (inSleep(f.sleep, f.order[i]!) || base + costOf(f, f.order[i]!) > bound)) i++;
      }
      if (i === f.order.length) {
        frames.pop();
        continue;
      }
      exec = new Execution(sc, cfg, execOpts);
      for (let k = 0; k < frames.length - 1; k++) {
        const fk = frames[k]!;
        const tid = fk.cur & TID_MASK;
        if (!exec.isEnabled(tid) || !sameSite(exec.tasks[tid]!.next, fk.site)) nondeterministic(sc, exec, k, fk);
        run(fk.cur, null);
      }
      if (caching) {
        fpr = new Fingerprinter(exec);
        fpr.setHistory(frames.length >= 2 ? frames[frames.length - 2]!.hist! : initialHist!);
        fpr.walk();
      }
      f.idx = i;
      f.cur = f.order[i]!;
      f.curAcc = [];
      f.pre = base + costOf(f, f.cur);
      if (!exec.isEnabled(f.cur & TID_MASK)) nondeterministic(sc, exec, frames.length - 1, f);
      f.site = exec.tasks[f.cur & TID_MASK]!.next;
      advance(f);
      if (dpor) stepRaces(frames.length - 1);
      sleep = childSleep(f);
      resumed = true;
      break;
    }
    if (!resumed) return finish();
  }
}

function fmtMs(ms: number): string {
  return ms >= 1000 ? `${+(ms / 1000).toFixed(1)} s` : `${ms} ms`;
}

/** Sites are module constants, but some are made per call (labels with values): compare fields. */
function sameSite(a: Site | null, b: Site | null): boolean {
  return a === b || (a !== null && b !== null && a.fn === b.fn && a.label === b.label);
}

function siteName(site: Site | null): string {
  return site === null ? "(finished)" : `${site.fn}() (${site.label})`;
}

/** Replaying a schedule prefix did not reach the same step: some thread is not deterministic. */
function nondeterministic(sc: AnyScenario, exec: Execution, k: number, f: Frame): never {
  const tid = f.cur & TID_MASK;
  const t = exec.tasks[tid]!;
  const now = !exec.isEnabled(tid) ? `it cannot run (${t.done ? "finished" : `waits for ${t.waitOn?.name ?? "?"}`})` : `it is at ${siteName(t.next)}`;
  throw new ModelError(
    `${sc.id}: nondeterministic thread ${t.name}: replaying the same schedule, step ${k + 1} was ${siteName(f.site)} the first time, now ${now}; ` +
      `threads must depend only on the state setup() builds and on cfg (no Math.random(), Date.now(), or variables kept across executions)`,
  );
}
