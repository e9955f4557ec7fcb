/**
 * Shared plain fields under a store-buffer memory model (tso, pso, rmo).
 *
 * racelab buffers only stores made through `Cell`s (WRITE_ONCE(), smp_store_release(), ...);
 * a plain field of the state (`s.flag = 1`) goes straight to memory whatever the memory model,
 * because models also keep thread-local results in plain fields. So a flag that one thread sets
 * and another tests, modeled as a plain field, is never reordered: a `--memory-model tso` check
 * of a barrier bug on it explores nothing the barrier changes and passes (new-user trial 12: the
 * waitqueue_active() lost wake-up with `cond` a plain field passed under tso, with no word).
 *
 * {@link unbufferedSharedFields} finds such fields in a few random executions, as Eraser's
 * lockset algorithm does (Savage et al., TOCS 1997): a field written by one thread and read or
 * written by another, with no lock held at every one of those accesses. A field every access of
 * which holds a common lock needs no barrier of its own (the lock orders it), and a thread that
 * runs after all the others (`afterAll()`) races with none.
 */
import { isHoldable, type Holdable, type RunConfig, type Task } from "./task.js";
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
}

/**
 * Names of the tracked plain fields (`obj.field`, as traces name them) that some thread writes
 * and another reads or writes with no lock in common, seen in `runs` random executions of `cfg`
 * (tracked, `seed`): under a store-buffer memory model their stores are never buffered. Sorted;
 * empty when none. A sample: a field shared only in executions it does not make goes unnamed.
 * Throws what the scenario's code throws outside a step (ModelError).
 */
export function unbufferedSharedFields(sc: AnyScenario, cfg: RunConfig<unknown>, seed: number, runs = 20): string[] {
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
  setFieldHook((loc, cls) => {
    const t = runningTask();
    if (t === null || t.daemon || t.afterOthers) return;
    let u = uses.get(loc);
    if (u === undefined) uses.set(loc, (u = { readers: new Set(), writers: new Set(), locks: null }));
    (cls === R ? u.readers : u.writers).add(t.id);
    if (u.locks === null) u.locks = held(t);
    else if (u.locks.size > 0) {
      const now = held(t);
      for (const l of u.locks) if (!now.has(l)) u.locks.delete(l);
    }
  });
  try {
    let n = 0;
    runStrategy(sc, cfg, new RandomStrategy(seed), { tracked: true, keepAccesses: true, maxExecutions: runs }, () => ++n >= runs);
  } finally {
    setFieldHook(null);
  }
  const out: string[] = [];
  for (const [loc, u] of uses) {
    if (u.writers.size === 0 || (u.locks !== null && u.locks.size > 0)) continue;
    const all = new Set([...u.readers, ...u.writers]);
    if (all.size >= 2) out.push(locName(loc));
  }
  return out.sort();
}
