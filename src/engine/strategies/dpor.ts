/**
 * Source-DPOR (Abdulla, Aronis, Jonsson, Sagonas, "Source Sets: A Foundation for Optimal Dynamic
 * Partial Order Reduction", JACM 64(4), 2017, Algorithm 1) on top of the sleep sets: a node
 * explores only the threads that races found in the executions below it require, instead of
 * every awake thread. Visits exactly the executions the sleep-set search visits (one per
 * Mazurkiewicz trace), with far fewer sleep-blocked prefixes.
 *
 * Races come from vector clocks over the recorded accesses of the current path. A thread blocked
 * on a lock or a condition counts its pending wait as an event that races with the step that
 * keeps it blocked, so a blocking acquire is reversed against the acquire that made it wait.
 * Under pso a store and its buffer's flushes are dependent (memory.ts setChoiceDependencies): a
 * store can add an alternative to the flush's choice.
 */
import { dependent, R, recordInto, W } from "../access.js";
import type { Execution } from "../execution.js";
import { setChoiceDependencies } from "../memory.js";
import { TID_MASK } from "../runner.js";
import { inSleep, type Frame } from "./dfs.js";
import { SleepSetSearch } from "./sleep-sets.js";

/** Accesses of a pending step whose accesses are unknown: dependent with every step. */
const UNIVERSAL: readonly number[] = [-1];
const dependentOrUniversal = (a: readonly number[], b: readonly number[]) => a === UNIVERSAL || b === UNIVERSAL || dependent(a, b);

/** The `dpor` reduction. Not shardable (its subtrees depend on each other through the races). */
export class SourceDporSearch extends SleepSetSearch {
  /** The pending waits at each node of the path (depth -> thread -> accesses, joined). */
  private readonly pendingKeys: Map<number, string>[] = [];
  private readonly pendingAcc: number[] = [];
  private threads = 0;
  private hooked = false;

  constructor() {
    super({}, "dpor");
  }

  override newExecution(): boolean {
    if (!this.hooked) {
      setChoiceDependencies(true);
      this.hooked = true;
    }
    return super.newExecution();
  }

  /** Turns the pso store/flush dependency off again. */
  close(): void {
    setChoiceDependencies(false);
    this.hooked = false;
  }

  protected override atNode(exec: Execution, en: readonly number[]): boolean {
    this.threads = exec.tasks.length;
    this.pendingRaces(exec, en);
    return true;
  }

  protected override newFrame(f: Frame): void {
    f.bt = new Set([f.cur & TID_MASK]);
  }

  protected override afterStep(exec: Execution, f: Frame, k: number): void {
    this.threads = exec.tasks.length;
    const tid = f.cur & TID_MASK;
    const po = this.lastOf(tid, k);
    f.lidx = (po >= 0 ? this.frames[po]!.lidx : 0) + 1;
    f.clock = this.analyze(k, tid, f.curAcc);
  }

  /** The first alternative, in exploration order, of a thread the races asked for. */
  protected override nextAlternative(f: Frame): number {
    let i = 0;
    while (i < f.order.length && (!f.bt!.has(f.order[i]! & TID_MASK) || inSleep(f.sleep, f.order[i]!) || inSleep(f.done, f.order[i]!))) i++;
    return i;
  }

  /** The last node before `pos` whose step is thread `tid`'s, or -1. */
  private lastOf(tid: number, pos: number): number {
    for (let j = pos - 1; j >= 0; j--) if ((this.frames[j]!.cur & TID_MASK) === tid) return j;
    return -1;
  }

  /**
   * The event at position `pos` (a step of thread `tid` with accesses `acc`; `pos` ===
   * frames.length for a pending step that has not run) against the path before it: returns its
   * clock, and for every race `j ⋖ pos` (j dependent with it, from another thread, not ordered
   * before it through other events) asks node j to explore an initial of the reversed order.
   */
  private analyze(pos: number, tid: number, acc: readonly number[]): Int32Array {
    const frames = this.frames;
    const n = this.threads;
    const po = this.lastOf(tid, pos);
    const running = po >= 0 ? frames[po]!.clock!.slice() : new Int32Array(n);
    for (let j = pos - 1; j >= 0; j--) {
      const fj = frames[j]!;
      const tj = fj.cur & TID_MASK;
      if (tj === tid || !dependentOrUniversal(fj.curAcc, acc)) continue;
      if (running[tj]! < fj.lidx) this.reverse(j, pos, tid, running);
      const cj = fj.clock!;
      for (let s = 0; s < n; s++) if (cj[s]! > running[s]!) running[s] = cj[s]!;
    }
    running[tid] = (po >= 0 ? frames[po]!.lidx : 0) + 1;
    return running;
  }

  /**
   * Race j ⋖ (event at `pos` of thread `q`, whose clock without j is `ci`): v = the events after
   * j that do not happen after it, then the event; node j must explore one of v's initials.
   */
  private reverse(j: number, pos: number, q: number, ci: Int32Array): void {
    const frames = this.frames;
    const fj = frames[j]!;
    const tj = fj.cur & TID_MASK;
    const n = this.threads;
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
  }

  /**
   * Threads that cannot run at the current node: their pending step (the wait's accesses, or
   * unknown accesses when the execution stopped at a BUG) races with the steps that keep it from
   * running. A wait unchanged since the parent node is analyzed again only when the step just
   * taken is dependent with it: otherwise its races are the parent's, and the initials the parent
   * ensured are still initials.
   */
  private pendingRaces(exec: Execution, enabled: readonly number[]): void {
    const k = this.depth;
    const here = (this.pendingKeys[k] ??= new Map());
    here.clear();
    if (k === 0) return;
    const parent = this.pendingKeys[k - 1];
    const last = this.frames[k - 1]!;
    const pendingAcc = this.pendingAcc;
    for (const t of exec.tasks) {
      if (t.done || enabled.includes(t.id)) continue;
      let acc: readonly number[];
      if (exec.halted) acc = UNIVERSAL;
      else {
        pendingAcc.length = 0;
        recordInto(pendingAcc);
        try {
          if (t.waitOn !== null && !t.waitOn.canProceed(t, t.waitMode)) t.waitOn.waited(t, t.waitMode);
          const buf = exec.buffers[t.id];
          if (t.fence && !t.daemon && buf !== undefined && buf.entries.length > 0) {
            pendingAcc.push(buf.loc * 8 + R);
            if (buf.model === "rmo") pendingAcc.push(buf.applyLoc * 8 + W);
          }
          if (t.parked !== null) pendingAcc.push(exec.parkLoc(t) * 8 + R);
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
      this.analyze(k, t.id, acc);
    }
  }
}
