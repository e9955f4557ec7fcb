/**
 * Shared plain fields and list_head links that no lock orders, found by sampling.
 *
 * racelab buffers only stores made through `Cell`s (WRITE_ONCE(), smp_store_release(), ...);
 * a plain field of the state (`s.flag = 1`) goes straight to memory whatever the memory model,
 * because models also keep thread-local results in plain fields. So a flag that one thread sets
 * and another tests, modeled as a plain field, is never reordered: a `--memory-model tso` check
 * of a barrier bug on it explores nothing the barrier changes and passes (new-user trial 12: the
 * waitqueue_active() lost wake-up with `cond` a plain field passed under tso, with no word).
 *
 * The links of a `list_head` (src/linux/list.ts) are plain fields too, and a list function runs
 * inside the step that calls it: two list_del()s, or a list_add() and a list_del(), are each one
 * atomic step, while in the kernel each is several loads and stores (`__list_del()`: `next->prev
 * = prev; WRITE_ONCE(prev->next, next)`) that corrupt the list when two CPUs interleave them. So a
 * list changed by two threads without a lock in common passes (new-user trial 13: an unlocked
 * list_del_init() against a locked one of the next entry passed under sc, with no word).
 *
 * {@link sharedFieldRaces} finds both in a few random executions, as Eraser's lockset algorithm
 * does (Savage et al., TOCS 1997): a field written by one thread and read or written by another,
 * with no lock held at every one of those accesses (for list links written by two threads: at
 * every one of the writes). A field every access of which holds a common lock needs no barrier of
 * its own (the lock orders it), and a thread that runs after all the others (`afterAll()`) races
 * with none. A field whose lockset is empty is named only when two of its accesses by different
 * threads, one a write, are unordered by happens-before in some sampled execution (vector clocks,
 * as FastTrack's: a fully ordered step, `complete()`, `wait_for_completion()`, a lock operation,
 * a value-returning atomic, orders what its thread did before against what a thread does after a
 * later fully ordered step on the same object); until 2026-12-02 the lockset alone decided, and a
 * result published with `complete()` and read after `wait_for_completion()` was named (new-user
 * trial 24). Plain `WRITE_ONCE()`/`READ_ONCE()`, acquire and release on a `Cell` order nothing
 * here: their fields stay named, as the warning asks for a `Cell`.
 */
import { isHoldable, type Holdable, type RunConfig, type Task } from "./task.js";
import { isListHead } from "./track.js";
import { AUTO_LOC_BASE, locationCount, locName, locOwner, R, setFieldHook } from "./access.js";
import type { Execution } from "./execution.js";
import { runningTask } from "./memory.js";
import { runStrategy, TID_MASK, zeroCounters, type Strategy, type StrategyCounters } from "./runner.js";
import type { AnyScenario } from "./scenario.js";
import { RandomStrategy } from "./strategies/random.js";

/** One access of a field in the sampled execution: its thread, whether it wrote, its epoch and the thread's clock then. */
interface FieldAccess {
  readonly tid: number;
  readonly write: boolean;
  readonly epoch: number;
  readonly vc: Int32Array;
}

/**
 * Uniform random executions that keep vector clocks: every thread's own step count, and, at each
 * fully ordered step (a full barrier: the thread's `fence` when it is picked), a join with the
 * clock of each kernel object location the step accessed, and back (acquire and release at once).
 */
class HappensBeforeSampler implements Strategy {
  readonly name = "random";
  readonly recording = true;
  readonly unit = 0;
  readonly total: number | null;
  readonly counters: StrategyCounters = zeroCounters();
  /** Per thread, its vector clock in the current execution. */
  private clocks: Int32Array[] = [];
  private readonly sync = new Map<number, Int32Array>();
  private fenced = false;
  /** Threads of the current execution (0 before its first step). */
  threads = 0;
  constructor(
    private readonly inner: RandomStrategy,
    /** Called when an execution ends. */
    private readonly ended: () => void,
  ) {
    this.total = inner.total;
  }
  newExecution(): boolean {
    this.clocks = [];
    this.sync.clear();
    this.threads = 0;
    return this.inner.newExecution();
  }
  /** Thread `tid`'s clock (its own entry starts at 1: epoch 0 is before everything). */
  clock(tid: number, n: number): Int32Array {
    let c = this.clocks[tid];
    if (c === undefined) {
      c = new Int32Array(n);
      c[tid] = 1;
      this.clocks[tid] = c;
    }
    return c;
  }
  nextStep(exec: Execution, en: readonly number[]): number {
    this.threads = exec.tasks.length;
    const alt = this.inner.nextStep(exec, en);
    this.fenced = alt >= 0 && exec.tasks[alt & TID_MASK]!.fence;
    return alt;
  }
  stepped(exec: Execution, alt: number, acc: number[] | null): void {
    const tid = alt & TID_MASK;
    const n = exec.tasks.length;
    const c = this.clock(tid, n);
    if (this.fenced && acc !== null)
      for (const w of acc) {
        if (w < 0 || w >> 3 >= AUTO_LOC_BASE) continue;
        const loc = w >> 3;
        let sc = this.sync.get(loc);
        if (sc === undefined) this.sync.set(loc, (sc = new Int32Array(n)));
        for (let i = 0; i < n; i++) {
          const m = Math.max(c[i]!, sc[i]!);
          c[i] = m;
          sc[i] = m;
        }
      }
    c[tid]!++;
  }
  endExecution(): void {
    this.ended();
  }
}

interface FieldUse {
  readonly readers: Set<number>;
  readonly writers: Set<number>;
  /** Locks (by location) held at every access so far. */
  locks: Set<number> | null;
  /** Locks held at every write so far (null: no write yet). */
  wlocks: Set<number> | null;
  /** A `next`/`prev` link of a list_head. */
  readonly link: boolean;
}

/** What {@link sharedFieldRaces} found: field names (`obj.field`, as traces name them), sorted. */
export interface SharedFieldRaces {
  /** Plain fields other than list links that some thread writes and another reads or writes, with no lock in common. */
  readonly plain: string[];
  /** List links two threads write with no lock held at every one of their writes. */
  readonly linkWrites: string[];
  /** The other list links some thread writes and another reads, with no lock in common (a lockless list_empty() or walk). */
  readonly linkReads: string[];
}

/**
 * The tracked plain fields and list links that threads share with no lock in common (see
 * {@link SharedFieldRaces}), seen in `runs` random executions of `cfg` (tracked, `seed`). A
 * sample: a field shared only in executions it does not make goes unnamed. Throws what the
 * scenario's code throws outside a step (ModelError).
 */
export function sharedFieldRaces(sc: AnyScenario, cfg: RunConfig<unknown>, seed: number, runs = 20): SharedFieldRaces {
  const uses = new Map<number, FieldUse>();
  let locks: number[] | null = null;
  /** The locks thread `t` holds (in any mode), by location. */
  const held = (t: Task): Set<number> => {
    const out = new Set<number>();
    if (locks === null) {
      locks = [];
      for (let l = 0; l < locationCount(); l++) if (isHoldable(locOwner(l))) locks.push(l);
    }
    for (const l of locks) if ((locOwner(l) as Holdable).holdMode(t) > 0) out.add(l);
    return out;
  };
  const narrow = (set: Set<number>, now: Set<number>) => {
    for (const l of set) if (!now.has(l)) set.delete(l);
  };
  // Happens-before: the fields with two accesses by different threads, one a write, that some
  // execution left unordered; and the current execution's accesses per field.
  const unordered = new Set<number>();
  const accesses = new Map<number, FieldAccess[]>();
  const ended = () => {
    for (const [loc, list] of accesses) {
      if (unordered.has(loc)) continue;
      search: for (let j = 1; j < list.length; j++)
        for (let i = 0; i < j; i++) {
          const a = list[i]!;
          const b = list[j]!;
          if (a.tid !== b.tid && (a.write || b.write) && a.epoch > b.vc[a.tid]!) {
            unordered.add(loc);
            break search;
          }
        }
    }
    accesses.clear();
  };
  const sampler = new HappensBeforeSampler(new RandomStrategy(seed), ended);
  setFieldHook((loc, cls, target) => {
    const t = runningTask();
    if (t === null || t.daemon || t.afterOthers) return;
    let u = uses.get(loc);
    if (u === undefined) uses.set(loc, (u = { readers: new Set(), writers: new Set(), locks: null, wlocks: null, link: isListHead(target) }));
    const write = cls !== R;
    (write ? u.writers : u.readers).add(t.id);
    if (!unordered.has(loc) && sampler.threads > 0) {
      const c = sampler.clock(t.id, sampler.threads);
      let list = accesses.get(loc);
      if (list === undefined) accesses.set(loc, (list = []));
      // (Bounded: a field a loop touches thousands of times needs no more to show a race.)
      if (list.length < 256) list.push({ tid: t.id, write, epoch: c[t.id]!, vc: c.slice() });
    }
    // (A lockset already empty stays so: the locks held are asked only while one may shrink.)
    const open = (set: Set<number> | null) => set === null || set.size > 0;
    if (!open(u.locks) && !(write && open(u.wlocks))) return;
    const now = held(t);
    if (u.locks === null) u.locks = new Set(now);
    else narrow(u.locks, now);
    if (write) {
      if (u.wlocks === null) u.wlocks = new Set(now);
      else narrow(u.wlocks, now);
    }
  });
  try {
    let n = 0;
    runStrategy(sc, cfg, sampler, { tracked: true, keepAccesses: true, maxExecutions: runs }, () => ++n >= runs);
  } finally {
    setFieldHook(null);
  }
  const plain: string[] = [];
  const linkWrites: string[] = [];
  const linkReads: string[] = [];
  for (const [loc, u] of uses) {
    if (u.writers.size === 0 || !unordered.has(loc)) continue;
    if (u.link && u.writers.size >= 2 && u.wlocks!.size === 0) linkWrites.push(locName(loc));
    else if (u.locks!.size === 0 && new Set([...u.readers, ...u.writers]).size >= 2) (u.link ? linkReads : plain).push(locName(loc));
  }
  return { plain: plain.sort(), linkWrites: linkWrites.sort(), linkReads: linkReads.sort() };
}
