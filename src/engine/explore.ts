import { dependent } from "./access.js";
import { Execution, ModelError, type ExecutionOptions } from "./execution.js";
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
}

/** What the visitor gets for each complete execution. */
export interface Visit {
  /** The complete execution (finished: terminal findings computed). */
  readonly exec: Execution;
  /** Encoded accesses per step, when `keepAccesses` (else empty). */
  readonly accesses: readonly (readonly number[])[];
  /** Number of preemptions in the schedule. */
  readonly preemptions: number;
}

/** What {@link dfs} returns: how much it explored and whether that was everything. */
export interface DfsStats {
  /** Complete executions visited. */
  executions: number;
  /** Prefixes cut because every enabled thread was asleep (redundant by the reduction). */
  sleepBlocked: number;
  /** False when a bound (executions, steps) cut the search short. */
  complete: boolean;
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
}

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
  const bound = opts.preemptionBound ?? Infinity;
  const useSleep = (opts.sleepSets ?? true) && bound === Infinity;
  const record = useSleep || opts.keepAccesses === true;
  const maxExec = opts.maxExecutions ?? 1_000_000;
  const maxSteps = opts.maxSteps ?? 10_000;
  const execOpts: ExecutionOptions = { invariantReads: new Set() };
  const stats: DfsStats = { executions: 0, sleepBlocked: 0, complete: true };
  const frames: Frame[] = [];
  const en: number[] = [];
  const none: readonly Sleeper[] = [];

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
  const run = (alt: number, acc: number[] | null) => exec.step(alt & TID_MASK, acc, alt >> 12);
  const preBefore = () => (frames.length === 0 ? 0 : frames[frames.length - 1]!.pre);

  let exec = new Execution(sc, cfg, execOpts);
  let sleep: readonly Sleeper[] = none;
  for (;;) {
    // Descend: extend the current execution until it is complete or sleep-blocked.
    for (;;) {
      exec.enabled(en);
      if (en.length === 0) {
        exec.finish();
        stats.executions++;
        const accesses = opts.keepAccesses === true ? frames.map((f) => f.curAcc) : [];
        if (visit({ exec, accesses, preemptions: preBefore() }) === true) {
          stats.complete = false;
          return stats;
        }
        break;
      }
      if (exec.steps >= maxSteps) {
        stats.complete = false;
        break;
      }
      const prev = frames.length === 0 ? -1 : frames[frames.length - 1]!.cur & TID_MASK;
      const prevEnabled = prev >= 0 && en.includes(prev);
      const order = alternatives(prevEnabled ? [prev, ...en.filter((t) => t !== prev)] : en);
      const base = preBefore();
      const f: Frame = { order, prevEnabled, prev, sleep, done: [], idx: -1, cur: -1, curAcc: [], pre: base, site: null };
      let i = 0;
      while (i < order.length && (inSleep(sleep, order[i]!) || base + costOf(f, order[i]!) > bound)) i++;
      if (i === order.length) {
        stats.sleepBlocked++;
        break;
      }
      f.idx = i;
      f.cur = order[i]!;
      f.pre = base + costOf(f, f.cur);
      f.site = exec.tasks[f.cur & TID_MASK]!.next;
      frames.push(f);
      run(f.cur, record ? f.curAcc : null);
      sleep = childSleep(f);
    }
    if (stats.executions >= maxExec) {
      stats.complete = false;
      return stats;
    }
    // Backtrack to the deepest node with an unexplored, awake choice.
    let resumed = false;
    while (frames.length > 0) {
      const f = frames[frames.length - 1]!;
      if (useSleep) f.done.push({ alt: f.cur, acc: f.curAcc });
      const base = frames.length >= 2 ? frames[frames.length - 2]!.pre : 0;
      let i = f.idx + 1;
      while (i < f.order.length && (inSleep(f.sleep, f.order[i]!) || base + costOf(f, f.order[i]!) > bound)) i++;
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
      f.idx = i;
      f.cur = f.order[i]!;
      f.curAcc = [];
      f.pre = base + costOf(f, f.cur);
      if (!exec.isEnabled(f.cur & TID_MASK)) nondeterministic(sc, exec, frames.length - 1, f);
      f.site = exec.tasks[f.cur & TID_MASK]!.next;
      run(f.cur, record ? f.curAcc : null);
      sleep = childSleep(f);
      resumed = true;
      break;
    }
    if (!resumed) return stats;
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
function nondeterministic(sc: AnyScenario, exec: Execution, k: number, f: Frame): never {
  const tid = f.cur & TID_MASK;
  const t = exec.tasks[tid]!;
  const now = !exec.isEnabled(tid) ? `it cannot run (${t.done ? "finished" : `waits for ${t.waitOn?.name ?? "?"}`})` : `it is at ${siteName(t.next)}`;
  throw new ModelError(
    `${sc.id}: nondeterministic thread ${t.name}: replaying the same schedule, step ${k + 1} was ${siteName(f.site)} the first time, now ${now}; ` +
      `threads must depend only on the state setup() builds and on cfg (no Math.random(), Date.now(), or variables kept across executions)`,
  );
}
