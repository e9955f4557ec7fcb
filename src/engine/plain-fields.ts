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
 * with none. A sample, and a lockset, not happens-before: links handed from one thread to another
 * through something else than a lock (a completion) are named too.
 */
import { isHoldable, type Holdable, type RunConfig, type Task } from "./task.js";
import { isListHead } from "./track.js";
import { locationCount, locName, locOwner, R, setFieldHook } from "./access.js";
import { runningTask } from "./memory.js";
import { runStrategy } from "./runner.js";
import type { AnyScenario } from "./scenario.js";
import { RandomStrategy } from "./strategies/random.js";

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
  setFieldHook((loc, cls, target) => {
    const t = runningTask();
    if (t === null || t.daemon || t.afterOthers) return;
    let u = uses.get(loc);
    if (u === undefined) uses.set(loc, (u = { readers: new Set(), writers: new Set(), locks: null, wlocks: null, link: isListHead(target) }));
    const write = cls !== R;
    (write ? u.writers : u.readers).add(t.id);
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
    runStrategy(sc, cfg, new RandomStrategy(seed), { tracked: true, keepAccesses: true, maxExecutions: runs }, () => ++n >= runs);
  } finally {
    setFieldHook(null);
  }
  const plain: string[] = [];
  const linkWrites: string[] = [];
  const linkReads: string[] = [];
  for (const [loc, u] of uses) {
    if (u.writers.size === 0) continue;
    if (u.link && u.writers.size >= 2 && u.wlocks!.size === 0) linkWrites.push(locName(loc));
    else if (u.locks!.size === 0 && new Set([...u.readers, ...u.writers]).size >= 2) (u.link ? linkReads : plain).push(locName(loc));
  }
  return { plain: plain.sort(), linkWrites: linkWrites.sort(), linkReads: linkReads.sort() };
}
