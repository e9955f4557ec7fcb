/**
 * Persistent sets from learned footprints, for the state-caching search (Godefroid, LNCS 1032,
 * 1996, ch. 4 and 6: persistent sets with sleep sets and state matching).
 *
 * At a state, a set P of enabled threads is *persistent* when no sequence of steps of the other
 * threads, taken before any step of P, contains a step dependent with the next step of a thread
 * in P. Exploring only P's steps there (minus the sleeping ones) then still reaches every deadlock
 * and final state, and every step any thread can take (the proof is the usual one: a step of a
 * thread outside P commutes with P's next steps, so it can be taken after them). Threads that
 * work on disjoint data (the blocks of `ext4-delalloc-fallocate --param blocks=N`) then run one
 * group at a time instead of in every interleaving of their states.
 *
 * Whether P is persistent needs what the other threads may still access. A thread's code is a
 * generator, so racelab learns it: a thread's *footprint* is every access (location and class,
 * access.ts) it made in any step the search ran, and a site's footprint, per thread, every access
 * of a step that started at that site. P is the closure of one enabled thread under "its next
 * step (its site's footprint) conflicts with the footprint, or the pending wait, of a thread
 * outside": a conflicting thread joins P; one that cannot run joins with every thread that could
 * wake it (see {@link Footprints.persistentSet}); one that waits for every other thread to finish
 * (`afterAll()`) stays out, as no step outside P can wake it while a thread of P has not
 * finished. Locksets (as Eraser's) tell which of a thread's accesses no other thread can reach
 * while it holds a lock.
 *
 * A thread with no footprint yet (it has not run) conflicts with every step, so it is explored
 * wherever it can run until it has: a step that stops the execution (a BUG) could otherwise keep
 * it from ever running, and its footprint from ever being learned.
 *
 * A footprint learned late makes the decisions taken before it unsound, so the search says when
 * one grew ({@link Footprints.grew}) and check() searches again with the larger footprints, until
 * a search learns nothing new. That last search is exact: if some reachable step accessed
 * something outside the footprints, the first such step follows a prefix on which every decision
 * was sound, so the search would have run that step (with the same local state and the same
 * values read up to that access) and learned it.
 */
import { HALT_ACCESS, locOwner, LS, LX, R, recordInto, SELF_COMMUTING, W } from "../access.js";
import type { Execution } from "../execution.js";
import { altOf, runStrategy, TID_MASK, zeroCounters, type Strategy, type StrategyCounters } from "../runner.js";
import type { AnyScenario } from "../scenario.js";
import type { Site } from "../site.js";
import { isHoldable, type Holdable, type RunConfig } from "../task.js";
import { RandomStrategy } from "./random.js";

/**
 * A footprint: per location, the mask of access classes made on it; `halts`: some step stopped
 * the execution. Change `locs` only through {@link setMask} and {@link deleteLoc}, which drop
 * `flat`.
 */
interface Footprint {
  readonly locs: Map<number, number>;
  halts: boolean;
  /** `locs` as `[loc, mask, ...]`, made when first needed (iterating a Map allocates an entry per location until V8 optimizes the loop). */
  flat: number[] | null;
}

const newFootprint = (): Footprint => ({ locs: new Map(), halts: false, flat: null });

function setMask(fp: Footprint, loc: number, mask: number): void {
  fp.locs.set(loc, mask);
  fp.flat = null;
}

function deleteLoc(fp: Footprint, loc: number): void {
  fp.locs.delete(loc);
  fp.flat = null;
}

/** `fp.locs` flattened (see Footprint.flat). */
function flatOf(fp: Footprint): readonly number[] {
  let f = fp.flat;
  if (f === null) {
    f = [];
    for (const [loc, m] of fp.locs) f.push(loc, m);
    fp.flat = f;
  }
  return f;
}

/** Whether two class masks on one location hold a conflicting pair (different classes, or one class that does not commute with itself). */
function masksConflict(a: number, b: number): boolean {
  return a !== b || (a & (a - 1)) !== 0 || (a & SELF_COMMUTING) === 0;
}

/** Whether some access of `a` conflicts with some access of `b`. */
function footprintsConflict(a: Footprint, b: Footprint): boolean {
  if (a.halts || b.halts) return true;
  const swap = a.locs.size > b.locs.size;
  const small = flatOf(swap ? b : a);
  const big = swap ? a.locs : b.locs;
  for (let i = 0; i < small.length; i += 2) {
    const n = big.get(small[i]!);
    if (n !== undefined && masksConflict(small[i + 1]!, n)) return true;
  }
  return false;
}

/**
 * Records into `acc` the accesses thread `tid`'s pending step makes in completing its wait (a
 * lock's operation on its location, a condition's reads) or its full barrier (a read of its
 * store buffer), probed as the DPOR search does ({@link HALT_ACCESS} when the probe throws: every
 * access); false, recording nothing, when it waits for nothing.
 */
function pendingAccesses(exec: Execution, tid: number, acc: number[]): boolean {
  const t = exec.tasks[tid]!;
  const buf = exec.buffers[tid];
  const fenced = t.fence && !t.daemon && buf !== undefined;
  if (t.waitOn === null && !fenced && t.parked === null) return false;
  recordInto(acc);
  try {
    t.waitOn?.waited(t, t.waitMode);
  } catch {
    acc.push(HALT_ACCESS);
  } finally {
    recordInto(null);
  }
  if (fenced) {
    acc.push(buf.loc * 8 + R);
    if (buf.model === "rmo") acc.push(buf.applyLoc * 8 + W);
  }
  if (t.parked !== null) acc.push(exec.parkLoc(t) * 8 + R);
  return true;
}

/** What thread `tid`'s pending wait (or full barrier) would access, into `out` (empty: it waits for nothing). */
export function waitAccesses(exec: Execution, tid: number, out: number[]): number[] {
  if (!pendingAccesses(exec, tid, out)) while (out.length > 0) out.pop();
  return out;
}

/** The footprint of an access list. */
function footprintOf(acc: readonly number[]): Footprint {
  const out = newFootprint();
  for (const w of acc) {
    if (w === HALT_ACCESS) out.halts = true;
    else setMask(out, w >> 3, (out.locs.get(w >> 3) ?? 0) | (1 << (w & 7)));
  }
  return out;
}

/** What {@link Footprints.learn} is told of the locks around a step (held() gives `[lock location, mode, ...]`). */
export interface StepLocks {
  /** The execution the step ran in. */
  readonly exec: Execution;
  /** held() when the step started. */
  readonly before: readonly number[];
  /** What the thread's wait accessed, if it waited (waitAccesses()). */
  readonly waited: readonly number[];
  /** The step runs alone (isSolo()). */
  readonly solo: boolean;
}

/** What the footprints keep per thread and site. */
interface SiteInfo {
  /** The accesses of the steps that started at the site. */
  readonly fp: Footprint;
  /** Small id, for the key of the footprints a held lock leaves. */
  readonly id: number;
  /** The footprints' {@link Footprints.conflictMask} of `fp`, valid while `maskGen` is their generation. */
  mask: number;
  maskGen: number;
  /**
   * {@link Footprints.unprotected} footprints of `fp` and their conflict masks, by the locks held
   * (per lock of lockLocs, its mode in two bits), while `guardedGen` is the footprints' generation.
   */
  guarded: Map<number, { readonly fp: Footprint; readonly mask: number }> | null;
  guardedGen: number;
  /**
   * The last step learned at the site that taught nothing, flattened (`[solo, before.length,
   * ...before, waited.length, ...waited, ...after, -1, ...acc]`), while `learnedGen` is the
   * footprints' generation: learning it again teaches nothing, so learn() skips it.
   */
  learned: number[];
  learnedGen: number;
}

const siteKeys = new WeakMap<Site, string>();
/** A site's key: its function and label (sites made per call compare by fields). */
function siteKey(s: Site): string {
  let k = siteKeys.get(s);
  if (k === undefined) siteKeys.set(s, (k = `${s.fn}\u0000${s.label}`));
  return k;
}

/**
 * The footprints of one scenario configuration's threads (by thread index), learned from the
 * steps of its executions, and the persistent sets they give. Kept across the searches of one
 * check (check() passes it from one search to the next).
 */
export class Footprints {
  /** Per thread: every access it made. */
  private readonly threads: Footprint[] = [];
  /** Bumped whenever a footprint grows (invalidates the site masks). */
  private generation = 0;
  /** Per thread, per site key: the site's footprint and a small id. */
  private readonly sites: Map<string, SiteInfo>[] = [];
  private nextSiteId = 1;
  /** Per thread, the accesses of its pending wait at the state asked about (null: none). */
  private readonly pending: (Footprint | null)[] = [];
  /**
   * Locations of locks (an LS or LX access on a location whose owner says who holds it,
   * `Holdable`), and per other location, per lock, the weakest mode (1 shared, 2 exclusive) the
   * lock was held in by the accessing thread at every access (`anyLocks`) and at every access
   * but a read (`writeLocks`); a lock missing was not held at some access. Accesses made by a
   * thread that has waited for every other thread to finish (`afterAll()`) are left out: they
   * cannot race with anything.
   */
  private readonly lockLocs: number[] = [];
  private readonly lockLocSet = new Set<number>();
  /** Locks some thread touched in a step that neither held nor waited for them (a trylock, a failed one). */
  private readonly touchedFree = new Set<number>();
  private readonly anyLocks = new Map<number, Map<number, number>>();
  private readonly writeLocks = new Map<number, Map<number, number>>();
  /** Scratch: per thread, its pending wait's accesses. */
  private readonly waits: number[][] = [];
  /** Set when a step accessed something its thread's or site's footprint did not hold; clear it with {@link resetGrew}. */
  grew = false;
  /** Persistent sets asked for at states with two or more enabled threads. */
  decisions = 0;
  /** Those that left out an enabled thread. */
  reduced = 0;

  /**
   * The locks thread `tid` of `exec` holds now, as `[lock location, mode, ...]` into `out`
   * (those whose locations the footprints know).
   */
  held(exec: Execution, tid: number, out: number[]): number[] {
    while (out.length > 0) out.pop();
    const t = exec.tasks[tid]!;
    const owners = this.lockOwners(exec);
    for (let i = 0; i < owners.length; i++) {
      const m = owners[i]?.holdMode(t) ?? 0;
      if (m > 0) out.push(this.lockLocs[i]!, m);
    }
    return out;
  }

  /**
   * Learns the accesses `acc` (access.ts encoding) of a step of thread `tid` that started at
   * `site`; with `locks`, also which locks the thread held across the step (`before`: held() when
   * it started; `solo`: the step runs alone, as `isSolo()` tells).
   */
  learn(
    tid: number,
    site: Site,
    acc: readonly number[],
    locks?: StepLocks,
  ): void {
    const t = (this.threads[tid] ??= newFootprint());
    const bySite = (this.sites[tid] ??= new Map());
    const key = siteKey(site);
    let s = bySite.get(key);
    if (s === undefined) {
      bySite.set(key, (s = { fp: newFootprint(), id: this.nextSiteId++, mask: 0, maskGen: -1, guarded: null, guardedGen: -1, learned: [], learnedGen: -1 }));
      this.changed();
    }
    // The same step as the last one learned here, which taught nothing, and nothing learned
    // anywhere since: nothing to learn.
    const memo = this.memoOf(tid, acc, locks);
    const gen = this.generation;
    if (s.learnedGen === gen && sameNumbers(s.learned, memo)) return;
    // (memoOf() left in afterMemo the locks held after the step, unless it runs alone.)
    if (locks !== undefined) this.learnLocks(acc, locks.before, locks.waited, locks.solo, this.afterMemo);
    for (let i = 0; i < acc.length; i++) {
      const w = acc[i]!;
      if (w === HALT_ACCESS) {
        if (!t.halts || !s.fp.halts) this.changed();
        t.halts = s.fp.halts = true;
        continue;
      }
      const loc = w >> 3;
      const bit = 1 << (w & 7);
      const a = t.locs.get(loc) ?? 0;
      if ((a & bit) === 0) {
        setMask(t, loc, a | bit);
        this.changed();
      }
      const b = s.fp.locs.get(loc) ?? 0;
      if ((b & bit) === 0) {
        setMask(s.fp, loc, b | bit);
        this.changed();
      }
    }
    // Kept only when this step taught nothing: then learning it again (from these footprints)
    // teaches nothing either. (One that taught something may teach more the second time: a
    // lock it registered makes its earlier accesses of that lock count.)
    if (this.generation === gen) {
      s.learned = memo.slice();
      s.learnedGen = gen;
    } else s.learnedGen = -1;
  }

  private readonly memoScratch: number[] = [];
  /** What {@link learn} learns from, flattened into one scratch array (see `SiteInfo.learned`). */
  private memoOf(tid: number, acc: readonly number[], locks: StepLocks | undefined): number[] {
    const m = this.memoScratch;
    while (m.length > 0) m.pop();
    if (locks === undefined) m.push(-2);
    else {
      m.push(locks.solo ? 1 : 0, locks.before.length);
      for (const x of locks.before) m.push(x);
      m.push(locks.waited.length);
      for (const x of locks.waited) m.push(x);
      if (!locks.solo) for (const x of this.held(locks.exec, tid, this.afterMemo)) m.push(x);
    }
    m.push(-1);
    for (const x of acc) m.push(x);
    return m;
  }
  private readonly afterMemo: number[] = [];

  private readonly after: number[] = [];
  private readonly heldScratch = new Map<number, number>();
  /** The holders of lockLocs in the execution `ownersOf` (null: not a Holdable). */
  private owners: (Holdable | null)[] = [];
  private ownersOf: Execution | null = null;

  /** The Holdable behind each lock location of lockLocs, in `exec` (kept while the execution and lockLocs stay). */
  private lockOwners(exec: Execution): readonly (Holdable | null)[] {
    if (this.ownersOf !== exec || this.owners.length !== this.lockLocs.length) {
      this.owners = this.lockLocs.map((l) => {
        const o = locOwner(l);
        return isHoldable(o) ? o : null;
      });
      this.ownersOf = exec;
    }
    return this.owners;
  }

  /**
   * The lock part of {@link learn}; `after`: held() once the step ran (read only when not `solo`).
   * (A lock the step registers is in no `before`, so it is held across no step yet.)
   */
  private learnLocks(acc: readonly number[], before: readonly number[], waited: readonly number[], solo: boolean, after: readonly number[]): void {
    for (let i = 0; i < acc.length; i++) {
      const w = acc[i]!;
      if (w === HALT_ACCESS) continue;
      const cls = w & 7;
      const loc = w >> 3;
      if ((cls === LS || cls === LX) && !this.lockLocSet.has(loc) && isHoldable(locOwner(loc))) {
        this.lockLocSet.add(loc);
        this.lockLocs.push(loc);
        this.changed();
      }
      if (!this.lockLocSet.has(loc) || this.touchedFree.has(loc)) continue;
      // Touched without holding it before the step or waiting for it: a trylock.
      let heldOrWaited = false;
      for (let j = 0; j < before.length; j += 2) if (before[j] === loc) heldOrWaited = true;
      for (const x of waited) if (x !== HALT_ACCESS && x >> 3 === loc) heldOrWaited = true;
      if (!heldOrWaited) {
        this.touchedFree.add(loc);
        this.changed();
      }
    }
    if (solo) return;
    // Held across the step: before it and after it, in the weaker of the two modes.
    const held = this.heldScratch;
    held.clear();
    for (let i = 0; i < before.length; i += 2)
      for (let j = 0; j < after.length; j += 2) if (before[i] === after[j]) held.set(before[i]!, Math.min(before[i + 1]!, after[j + 1]!));
    for (let i = 0; i < acc.length; i++) {
      const w = acc[i]!;
      if (w === HALT_ACCESS) continue;
      const loc = w >> 3;
      if (this.lockLocSet.has(loc)) continue;
      this.narrow(this.anyLocks, loc, held);
      if ((w & 7) !== R) this.narrow(this.writeLocks, loc, held);
    }
  }

  /** Intersects the locks kept for `loc` in `map` with `held`. */
  private narrow(map: Map<number, Map<number, number>>, loc: number, held: ReadonlyMap<number, number>): void {
    const e = map.get(loc);
    if (e === undefined) {
      map.set(loc, new Map(held));
      this.changed();
      return;
    }
    if (e.size === 0) return;
    for (const [l, m] of e) {
      const h = held.get(l) ?? 0;
      if (h >= m) continue;
      if (h === 0) e.delete(l);
      else e.set(l, h);
      this.changed();
    }
  }

  /**
   * `fp` without what thread `t`, holding `held`, accesses under a lock that keeps every
   * conflicting access out while it holds it: a location every access to which (every write, for
   * a read of it) was made holding one of its locks, exclusively if it holds that lock shared.
   * `fp` itself when nothing is left out.
   */
  private unprotected(fp: Footprint, held: ReadonlyMap<number, number>): Footprint {
    if (held.size === 0) return fp;
    let out: Footprint | null = null;
    for (const [loc, mask] of fp.locs) {
      let drop = false;
      if (this.lockLocSet.has(loc)) {
        // The lock itself: no other thread can take it (exclusively, if held shared) or release
        // it meanwhile, unless some thread touches it without waiting for it (a trylock).
        const m = held.get(loc) ?? 0;
        drop = !this.touchedFree.has(loc) && (m === 2 || (m === 1 && (mask & ~(1 << LS)) === 0));
      } else {
        const e = (mask & ~(1 << R)) !== 0 ? this.anyLocks.get(loc) : this.writeLocks.get(loc);
        if (e !== undefined)
          for (const [l, m] of held)
            if ((e.get(l) ?? 0) >= (m === 2 ? 1 : 2)) {
              drop = true;
              break;
            }
      }
      if (!drop) continue;
      if (out === null) out = { locs: new Map(fp.locs), halts: fp.halts, flat: null };
      deleteLoc(out, loc);
    }
    return out ?? fp;
  }

  /** Clears {@link grew} (at the start of a search). */
  resetGrew(): void {
    this.grew = false;
  }

  private changed(): void {
    this.grew = true;
    this.generation++;
  }

  /**
   * A persistent set at the current state of `exec`, as the alternatives (thread and choice,
   * runner.ts `altOf`) of its threads, or null when none is smaller than the enabled threads
   * `en` (and for models of more than 31 threads, store-buffer daemons included: the closures are
   * taken over thread bit masks). Tries each enabled thread as the seed and keeps the smallest
   * closure (the first of the smallest): a function of the state and the footprints alone, as the
   * state matching needs (a state met again gets the same set).
   *
   * A closure fails when an enabled thread of it has a pending site that never ran, or a thread
   * that cannot run waits for something no access tells. A thread that cannot run joins *inert*:
   * it runs only after a step that conflicts with what its wait would access or with what its
   * pending step accesses (the release of its lock, a write of what its condition reads: the
   * accesses waits record, which `dpor` relies on too; a store-buffer daemon is woken by its
   * CPU's thread), so every thread that may take such a step joins as well, and then no step
   * outside the set can wake it.
   */
  persistentSet(exec: Execution, en: readonly number[]): readonly number[] | null {
    const tasks = exec.tasks;
    const n = tasks.length;
    // (A thread parked past a retry bound waits for any other thread's step: every thread can wake it.)
    if (en.length < 2 || n > 31 || tasks.some((t) => t.parked !== null || t.quietRun)) return null;
    let alive = 0;
    let unknown = 0;
    let joins = 0;
    let enabled = 0;
    for (const u of en) enabled |= 1 << u;
    const pending = this.pending;
    const waits = this.waits;
    for (let u = 0; u < n; u++) {
      const t = tasks[u]!;
      this.hitNow[u] = -1;
      pending[u] = null;
      if (t.done || t.next === null) {
        this.siteNow[u] = undefined;
        continue;
      }
      alive |= 1 << u;
      const site = this.siteOf(u, t.next);
      this.siteNow[u] = site;
      if (site === undefined) unknown |= 1 << u;
      if (t.waitOn?.untilOthersDone === true) joins |= 1 << u;
      const acc = (waits[u] ??= []);
      if (pendingAccesses(exec, u, acc) && acc.length > 0) {
        pending[u] = this.waitFootprint(acc);
      }
    }
    this.decisions++;
    // A thread waiting for every other thread to finish stays waiting while one of the set has not run.
    const free = alive & ~(joins & ~enabled);
    let best = 0;
    let bestCount = en.length;
    for (const seed of en) {
      let inP = 1 << seed;
      let work = inP;
      let ok = true;
      while (work !== 0) {
        const t = 31 - Math.clz32(work & -work);
        work &= ~(1 << t);
        let add = this.hitNow[t]!;
        if (add === -1) {
          add = (enabled >> t) & 1 ? this.hitEnabled(exec, t, n, unknown) : this.hitWaiting(exec, t, n, unknown);
          this.hitNow[t] = add;
        }
        if (add === -2) {
          ok = false;
          break;
        }
        add &= free & ~inP;
        inP |= add;
        work |= add;
      }
      if (!ok) continue;
      const count = popcount(inP & enabled);
      if (count < bestCount) {
        best = inP & enabled;
        bestCount = count;
        if (count === 1) break;
      }
    }
    if (best === 0) return null;
    this.reduced++;
    const out: number[] = [];
    for (const tid of en) {
      if (((best >> tid) & 1) === 0) continue;
      const c = tasks[tid]!.alternatives();
      for (let k = 0; k < c; k++) out.push(altOf(tid, k));
    }
    return out;
  }

  /** Per thread at the state asked about: its pending site (undefined: never ran), and the threads it pulls into a closure (-1: not computed yet). */
  private readonly siteNow: (SiteInfo | undefined)[] = [];
  private readonly hitNow: number[] = [];
  /** Footprints of single accesses (pending waits). */
  private readonly oneAccess = new Map<number, Footprint>();
  /** Footprints of pending waits of several accesses, by a hash of the access list (entries compared whole). */
  private readonly manyAccesses = new Map<number, { readonly acc: readonly number[]; readonly fp: Footprint }[]>();

  /** The footprint of a pending wait's accesses `acc` (scratch: copied when kept), shared by every wait that makes the same accesses in the same order. */
  private waitFootprint(acc: readonly number[]): Footprint {
    if (acc.length === 1) {
      let f = this.oneAccess.get(acc[0]!);
      if (f === undefined) this.oneAccess.set(acc[0]!, (f = footprintOf(acc)));
      return f;
    }
    let h = acc.length;
    for (let i = 0; i < acc.length; i++) h = Math.imul(h ^ acc[i]!, 0x9e3779b1) ^ (h >>> 15);
    let bucket = this.manyAccesses.get(h);
    if (bucket === undefined) this.manyAccesses.set(h, (bucket = []));
    for (const e of bucket) if (sameNumbers(e.acc, acc)) return e.fp;
    const fp = footprintOf(acc);
    bucket.push({ acc: acc.slice(), fp });
    return fp;
  }
  /** Per thread, its sites by Site object (a cache of {@link sites}; sites made per call are collected). */
  private readonly byObject: WeakMap<Site, SiteInfo>[] = [];

  /** Thread `tid`'s footprint of `site`, or undefined when no step of it started there. */
  private siteOf(tid: number, site: Site): SiteInfo | undefined {
    // (Between two questions only the thread that stepped has moved: its site is the one looked up.)
    if (this.lastSite[tid] === site) return this.lastInfo[tid];
    const m = (this.byObject[tid] ??= new WeakMap());
    let s = m.get(site);
    if (s === undefined) {
      s = this.sites[tid]?.get(siteKey(site));
      if (s !== undefined) m.set(site, s);
    }
    // (A site that never ran may run later: only a footprint found is kept.)
    if (s !== undefined) {
      this.lastSite[tid] = site;
      this.lastInfo[tid] = s;
    }
    return s;
  }
  /** Per thread, the last site {@link siteOf} found a footprint for, and that footprint. */
  private readonly lastSite: (Site | undefined)[] = [];
  private readonly lastInfo: (SiteInfo | undefined)[] = [];

  /** Bit u set: thread u (of 0 to n - 1) has no footprint yet (it may access anything) or one that conflicts with `fp`. */
  private conflictMask(fp: Footprint, n: number): number {
    let m = 0;
    for (let u = 0; u < n; u++) {
      const f = this.threads[u];
      if (f === undefined || footprintsConflict(fp, f)) m |= 1 << u;
    }
    return m;
  }

  /** {@link conflictMask} of site `s`'s footprint, kept on the site while the footprints do not grow. */
  private maskOf(s: SiteInfo, n: number): number {
    if (s.maskGen !== this.generation) {
      s.mask = this.conflictMask(s.fp, n);
      s.maskGen = this.generation;
    }
    return s.mask;
  }

  /** The threads enabled thread `t`'s next step conflicts with (-2: its site never ran). */
  private hitEnabled(exec: Execution, t: number, n: number, unknown: number): number {
    const site = this.siteNow[t];
    if (site === undefined) return -2;
    const nl = this.lockLocs.length;
    if (nl === 0) return this.maskOf(site, n) | unknown | this.pendingHits(site.fp, n);
    // Holding locks: without what they keep out. (Keyed by the modes the locks are held in, two
    // bits a lock: at most 15 locks, else computed afresh.)
    const owners = this.lockOwners(exec);
    const task = exec.tasks[t]!;
    let key = 0;
    for (let i = 0; i < nl && i < 15; i++) {
      const o = owners[i];
      if (o !== null) key |= o.holdMode(task) << (2 * i);
    }
    if (nl > 15) key |= 1 << 30; // (not cached below: only a nonzero key matters)
    if (key === 0) return this.maskOf(site, n) | unknown | this.pendingHits(site.fp, n);
    if (site.guardedGen !== this.generation) {
      site.guarded = null;
      site.guardedGen = this.generation;
    }
    let g = nl <= 15 ? site.guarded?.get(key) : undefined;
    if (g === undefined) {
      const held = new Map<number, number>();
      const h = this.held(exec, t, this.after);
      for (let i = 0; i < h.length; i += 2) held.set(h[i]!, h[i + 1]!);
      const fp = this.unprotected(site.fp, held);
      g = { fp, mask: fp === site.fp ? this.maskOf(site, n) : this.conflictMask(fp, n) };
      if (nl <= 15) (site.guarded ??= new Map()).set(key, g);
    }
    return g.mask | unknown | this.pendingHits(g.fp, n);
  }

  /** The threads that could wake thread `t`, which cannot run (-2: nothing tells what wakes it). */
  private hitWaiting(exec: Execution, t: number, n: number, unknown: number): number {
    const holders = this.holdersOfWait(exec, t, n);
    if (holders !== -1) return holders | unknown;
    const wake = this.wakeOf(t);
    if (wake === null) return -2;
    let hit = unknown | this.conflictMask(wake, n) | this.pendingHits(wake, n);
    // Only a CPU's own thread fills its store buffer.
    if (exec.tasks[t]!.daemon) hit |= 1 << (t - exec.buffers.length);
    return hit;
  }

  /**
   * A necessary enabling set of thread `t`, which cannot run, when it waits for a lock that other
   * threads hold: the holders (as a thread mask), since only a holder's release frees it; -1 when
   * that does not apply (a wait for something else, a wait that touches more than the lock (a full
   * barrier's store buffer), a lock nobody holds, or a lock some thread touched without holding
   * or waiting for it: a trylock, or a release by another thread). A shared acquire (LS) counts
   * only the exclusive holders: shared ones do not keep it waiting.
   */
  private holdersOfWait(exec: Execution, t: number, n: number): number {
    const task = exec.tasks[t]!;
    const w = task.waitOn;
    if (w === null || task.daemon || !isHoldable(w)) return -1;
    const p = this.pending[t];
    if (p === null || p === undefined || p.halts || p.locs.size !== 1) return -1;
    const [loc, cls] = p.locs.entries().next().value as [number, number];
    if (!this.lockLocSet.has(loc) || this.touchedFree.has(loc) || locOwner(loc) !== w) return -1;
    // A shared acquire waits only for exclusive holders; anything else for every holder.
    const blocking = cls === 1 << LS ? 2 : 1;
    let mask = 0;
    for (let u = 0; u < n; u++) if (u !== t && w.holdMode(exec.tasks[u]!) >= blocking) mask |= 1 << u;
    return mask === 0 ? -1 : mask;
  }

  /** The threads whose pending wait conflicts with `touch`. */
  private pendingHits(touch: Footprint, n: number): number {
    let hit = 0;
    for (let u = 0; u < n; u++) {
      const w = this.pending[u];
      if (w === null || w === undefined) continue;
      if (footprintsConflict(touch, w)) hit |= 1 << u;
    }
    return hit;
  }

  /**
   * What a step that wakes thread `tid` (which cannot run) conflicts with: what its wait would
   * access (the locations its condition reads) and what its pending step accesses once it runs
   * (a bit lock's bit, which its wait does not record under sc); null when its pending site never
   * ran or both are empty.
   */
  private wakeOf(tid: number): Footprint | null {
    const site = this.siteNow[tid];
    if (site === undefined) return null;
    const w = this.pending[tid] ?? null;
    const out = newFootprint();
    out.halts = site.fp.halts || (w !== null && w.halts);
    for (const [loc, m] of site.fp.locs) setMask(out, loc, m);
    if (w !== null) for (const [loc, m] of w.locs) setMask(out, loc, (out.locs.get(loc) ?? 0) | m);
    return out.locs.size === 0 && !out.halts ? null : out;
  }
}

/** Uniformly random executions that teach their steps' footprints (see {@link seedFootprints}). */
class FootprintSampler implements Strategy {
  readonly name = "random";
  readonly recording = true;
  readonly unit = 0;
  readonly total: number | null;
  readonly counters: StrategyCounters = zeroCounters();
  private site: Site | null = null;
  private readonly before: number[] = [];
  private readonly waited: number[] = [];
  private solo = false;
  constructor(
    private readonly inner: RandomStrategy,
    private readonly fp: Footprints,
  ) {
    this.total = inner.total;
  }
  newExecution(): boolean {
    return this.inner.newExecution();
  }
  nextStep(exec: Execution, en: readonly number[]): number {
    const alt = this.inner.nextStep(exec, en);
    this.site = alt >= 0 ? exec.tasks[alt & TID_MASK]!.next : null;
    if (alt >= 0) {
      this.fp.held(exec, alt & TID_MASK, this.before);
      waitAccesses(exec, alt & TID_MASK, this.waited);
      this.solo = isSolo(exec, alt & TID_MASK);
    }
    return alt;
  }
  stepped(exec: Execution, alt: number, acc: number[] | null): void {
    if (acc !== null && this.site !== null) this.fp.learn(alt & TID_MASK, this.site, acc, { exec, before: this.before, waited: this.waited, solo: this.solo });
  }
}

/**
 * Seeds `fp` with the footprints of `runs` (default 32) uniformly random executions of `sc` under `cfg`
 * (seeded with `seed`; `invariantReads` as the search's), so that the first state-caching search
 * rarely learns something new and has to run again.
 */
export function seedFootprints(sc: AnyScenario, cfg: RunConfig<unknown>, fp: Footprints, invariantReads: Set<number>, seed: number, runs = 32): void {
  runStrategy(sc, cfg, new FootprintSampler(new RandomStrategy(seed, runs), fp), { invariantReads }, () => {});
}

/**
 * True when thread `tid`'s pending step runs alone, by the thread's own program order: it has
 * waited for every other thread to finish (`afterAll()`), or this step does. (Not "every other
 * thread happens to have finished": a search that orders threads one after another would then
 * never see a thread's accesses race, and never learn that they can.)
 */
export function isSolo(exec: Execution, tid: number): boolean {
  const t = exec.tasks[tid]!;
  return t.afterOthers || t.waitOn?.untilOthersDone === true;
}

/** Whether two number arrays hold the same numbers in the same order. */
function sameNumbers(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Bits set in a 32-bit integer. */
function popcount(x: number): number {
  x = x - ((x >>> 1) & 0x55555555);
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return (Math.imul((x + (x >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24) & 0xff;
}
