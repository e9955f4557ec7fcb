/**
 * Sleep sets with state matching (Godefroid, LNCS 1032, 1996, Fig. 6.5): every state reached is
 * fingerprinted (fingerprint.ts: the shared state plus, per thread, a hash of what it has read
 * and chosen; threads are deterministic, so that history fixes its local state) and kept in a
 * table with the sleep set it was explored with. A state seen before is explored again only for
 * the alternatives its earlier visit left asleep that are awake now; its stored sleep set shrinks
 * to the intersection. Visits every reachable final state and finding, in fewer executions.
 *
 * Fingerprints are 64 bits, as SPIN's hash compaction (`-DHC`): two distinct states share one
 * with probability about n^2 / 2^65 over n states ({@link collisionProbability}); a collision
 * could prune a state never explored, so the result reports that probability.
 */
import { StaleStateHash, StateCycle, UnhashableState } from "../../errors.js";
import type { Execution } from "../execution.js";
import { Fingerprinter, FingerprintTable, registerTaskState } from "../fingerprint.js";
import { R, setReadHook, setScopeHook, setTrackScopes, setWriteHook } from "../access.js";
import { TID_MASK } from "../runner.js";
import type { Frame, Sleeper } from "./dfs.js";
import { isSolo, waitAccesses, type Footprints } from "./persistent.js";
import { SleepSetSearch } from "./sleep-sets.js";

// A thread parked past a retry bound (Task.retry) waits until another thread makes progress:
// the same thread with the same history may be parked or not.
registerTaskState((t) => (t.parked !== null ? (t.parked.quietTried ? 2 : 1) : t.quietRun ? 4 : undefined));

/**
 * Probability that two of `states` distinct states share a 64-bit fingerprint (the birthday
 * bound n(n-1)/2 / 2^64): the chance that state caching pruned a state it never explored.
 */
export function collisionProbability(states: number): number {
  return Math.min(1, (states * (states - 1)) / 2 / 2 ** 64);
}

/**
 * The `state-caching` reduction. Throws {@link UnhashableState} when a step reads a location no
 * fingerprint covers (a `newLoc(name)` without an owner); check() then searches with sleep sets.
 * Not shardable.
 */
export class StateCachingSearch extends SleepSetSearch {
  private readonly table = new FingerprintTable();
  private readonly fp = new Uint32Array(2);
  private fpr: Fingerprinter | null = null;
  private fprExec: Execution | null = null;
  private initialHist: Uint32Array | null = null;
  /** Whether `deadOnReturn()` calls and labels are tracked (false with keepLocals: a thread's whole history counts). */
  private readonly scoped: boolean;
  private initialHashes: Int32Array | null = null;
  /** Persistent sets from these footprints (persistent.ts), or none. */
  private readonly footprints: Footprints | null;
  /** The locks the thread of the step running held when it started, what its wait accesses, and whether it runs alone (isSolo()). */
  private readonly heldBefore: number[] = [];
  private readonly waitedBefore: number[] = [];
  private soloStep = false;
  /** Per depth, the fingerprint of the node there on the current path (the cycle check). */
  private stackA = new Uint32Array(256);
  private stackB = new Uint32Array(256);

  /**
   * Test hook: after every step, compare the incrementally updated state hash with a full rehash
   * and throw an Error naming the step and the object when they differ (a model changed state
   * without recording the access).
   */
  static verifyUpdates = false;
  /**
   * Every this many steps that changed state, the search compares the incremental hash with a
   * full rehash and throws {@link StaleStateHash} when they differ (check() then searches again
   * with `fullRehash`). A sampled net: a model whose steps change objects they record no access
   * on may still slip through between two comparisons.
   */
  static checkEvery = 256;
  private sinceCheck = 0;
  private readonly fullRehash: boolean;

  /**
   * `fullRehash`: hash the whole state after every step (for models that fail the comparison).
   * `keepLocals`: ignore `deadOnReturn()` and `atLabel()`, so that a thread's whole history tells its states
   * apart (for models whose functions change their callers' locals).
   */
  constructor(opts: { readonly fullRehash?: boolean; readonly keepLocals?: boolean; readonly footprints?: Footprints | null } = {}) {
    super({}, "state-caching");
    this.fullRehash = opts.fullRehash === true;
    this.scoped = opts.keepLocals !== true;
    this.footprints = opts.footprints ?? null;
  }

  /** Removes the read and write hooks (a step that threw leaves them set). */
  close(): void {
    setReadHook(null);
    setWriteHook(null);
    setScopeHook(null);
    setTrackScopes(false);
  }

  override newExecution(): boolean {
    // Before the execution's threads start: `deadOnReturn()` calls are tracked in every
    // execution of the search, replays included (unless keepLocals).
    setTrackScopes(this.scoped);
    return super.newExecution();
  }

  protected override resume(exec: Execution, k: number): void {
    this.fpr = new Fingerprinter(exec);
    this.fprExec = exec;
    const before = k >= 1 ? this.frames[k - 1]! : null;
    if (before !== null && before.hist === null) throw new Error(`state caching: no thread histories kept for the node at depth ${k}, which the search returns to`);
    this.fpr.setHistory(before !== null ? before.hist! : this.initialHist!, before !== null ? before.scopes : null);
    // The unit hashes saved after the same steps, else a full walk.
    const saved = before !== null ? before.hashes : this.initialHashes;
    if (this.fullRehash || saved === null || !this.fpr.restoreHashes(saved)) this.fpr.walk();
    else if (StateCachingSearch.verifyUpdates) {
      const bad = this.fpr.inconsistency();
      if (bad !== null) throw new Error(`state caching: the unit hashes restored at depth ${k} differ from a full rehash (${bad})`);
    }
    this.tally();
  }

  protected override atNode(exec: Execution, en: readonly number[]): boolean {
    if (this.fprExec !== exec) {
      // The first execution: start from the initial state.
      this.fpr = new Fingerprinter(exec);
      this.fprExec = exec;
      this.initialHist = this.fpr.history.slice();
      this.fpr.walk();
      this.initialHashes = this.fpr.saveHashes();
      this.tally();
    }
    this.fpr!.fingerprint(this.fp);
    const table = this.table;
    const i = table.find(this.fp);
    const alts = sleepAlts(this.sleep);
    const fps = this.footprints;
    const d = this.depth;
    if (fps !== null) {
      if (i >= 0) this.cycleCheck(d);
      if (d >= this.stackA.length) this.growStack();
      this.stackA[d] = this.fp[0]!;
      this.stackB[d] = this.fp[1]!;
    }
    if (i < 0) {
      table.insert(this.fp, alts);
      this.counters.states = table.size;
      this.counters.tableBytes = table.bytes;
      if (fps !== null) this.restrict = fps.persistentSet(exec, en);
      return true;
    }
    const stored = table.sleepOf(i);
    let wake = en.length === 0 ? [] : stored.filter((a) => !alts.includes(a));
    if (fps !== null && wake.length > 0) {
      // Only what the first visit left asleep among the persistent set's alternatives.
      const p = fps.persistentSet(exec, en);
      if (p !== null) wake = wake.filter((a) => p.includes(a));
    }
    if (wake.length === 0) {
      this.counters.revisits++;
      return false;
    }
    this.restrict = wake;
    this.sleep = this.sleep.filter((x) => stored.includes(x.alt));
    table.setSleep(i, sleepAlts(this.sleep));
    return true;
  }

  /**
   * A state met again on the current path: persistent sets could postpone a thread forever around
   * the cycle (the ignoring problem), so the search stops and check() searches without them.
   */
  private cycleCheck(d: number): void {
    const a = this.fp[0]!;
    const b = this.fp[1]!;
    for (let j = 0; j < d; j++) if (this.stackA[j] === a && this.stackB[j] === b) throw new StateCycle(d - j);
  }

  private growStack(): void {
    const a = new Uint32Array(2 * this.stackA.length);
    const b = new Uint32Array(2 * this.stackB.length);
    a.set(this.stackA);
    b.set(this.stackB);
    this.stackA = a;
    this.stackB = b;
  }

  /**
   * A node with an alternative after the one it takes first may be returned to (resume()): keep
   * what a replay of the path to it needs on the frame before it, the threads' histories, their
   * `deadOnReturn()` entries and the unit hashes. (Kept only there, not copied after every step:
   * most nodes have one alternative.)
   */
  protected override newFrame(f: Frame): void {
    const k = this.depth;
    if (k === 0 || f.idx >= f.order.length - 1) return;
    const prev = this.frames[k - 1]!;
    const fpr = this.fpr!;
    prev.hist = fpr.history.slice();
    prev.scopes = fpr.scoped ? fpr.scopes.slice() : null;
    prev.hashes = fpr.saveHashes();
  }

  protected override beforeStep(exec: Execution, f: Frame): void {
    // (Probed before the fingerprinter's hooks are on: probing a wait is no observation of the thread's.)
    const fps = this.footprints;
    if (fps !== null) {
      fps.held(exec, f.cur & TID_MASK, this.heldBefore);
      waitAccesses(exec, f.cur & TID_MASK, this.waitedBefore);
      this.soloStep = isSolo(exec, f.cur & TID_MASK);
    }
    this.fpr!.beginStep(f.cur >> 12);
  }

  protected override afterStep(exec: Execution, f: Frame): void {
    const fpr = this.fpr!;
    fpr.endStep(f.cur & TID_MASK);
    this.footprints?.learn(f.cur & TID_MASK, f.site!, f.curAcc, { exec, before: this.heldBefore, waited: this.waitedBefore, solo: this.soloStep });
    if (fpr.unhashable !== null) throw new UnhashableState(fpr.unhashable);
    // A step that only read changed no shared state: the units still hash it.
    if (!onlyReads(f.curAcc)) {
      if (this.fullRehash) fpr.walk();
      else {
        fpr.update();
        if (StateCachingSearch.verifyUpdates || ++this.sinceCheck >= StateCachingSearch.checkEvery) {
          this.sinceCheck = 0;
          const bad = fpr.inconsistency();
          const who = exec.tasks[f.cur & TID_MASK]!.name;
          if (bad !== null && StateCachingSearch.verifyUpdates)
            throw new Error(`state caching: a step of ${who} changed ${bad} behind its recorded accesses`);
          if (bad !== null) throw new StaleStateHash(who, bad);
        }
      }
    }
    // (Set by newFrame() below it when the node it leads to may be returned to.)
    f.hist = null;
    f.scopes = null;
    f.hashes = null;
    this.tally();
  }

  /** Moves the fingerprinter's count of hashed units to the counters. */
  private tally(): void {
    this.counters.unitsHashed += this.fpr!.unitsHashed;
    this.fpr!.unitsHashed = 0;
  }
}

/** The alternatives of sleep set `s`, ascending (insertion sort: sleep sets hold a few threads). */
function sleepAlts(s: readonly Sleeper[]): number[] {
  const out: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const a = s[i]!.alt;
    let j = out.length;
    out.push(a);
    for (; j > 0 && out[j - 1]! > a; j--) out[j] = out[j - 1]!;
    out[j] = a;
  }
  return out;
}

/** True when every access of a step is a read (no HALT_ACCESS, no write, add or lock access). */
function onlyReads(acc: readonly number[]): boolean {
  for (let i = 0; i < acc.length; i++) if (acc[i]! < 0 || (acc[i]! & 7) !== R) return false;
  return true;
}
