/**
 * Generic waits that are not kernel objects: joining the other threads, and waiting for a
 * condition over shared state. Both are Waitables for {@link step}: the waiting step runs only once
 * the wait is over, and records the accesses that ending the wait depends on.
 */
import { access, R } from "./access.js";
import type { Site } from "./site.js";
import { step, type Task, type Waitable } from "./task.js";

const ALL_OTHERS_DONE: Waitable = {
  name: "the other threads to finish",
  canProceed: (t: Task) => t.othersDone(),
  waited: (t: Task) => t.readExits(),
  untilOthersDone: true,
};

/**
 * Waits until every other thread has finished, then runs the step at `at`. Models work that
 * follows the race in time (writeback, inode eviction) as a thread of its own, so it appears in
 * traces and its findings are marked at its steps. The step depends on each thread's exit.
 */
export function afterAll(t: Task, at: Site): Generator<Site, void, undefined> {
  return step(t, at, { waitFor: ALL_OTHERS_DONE });
}

/** A shared location a condition reads: a `Cell`, a lock, or anything else with a `loc`. */
export interface Located {
  /** The location's number (see access.ts): the same object has the same number in every execution. */
  readonly loc: number;
}

/**
 * A condition over shared state as a Waitable: a step that waits on it runs once `holds()` is
 * true, and records a read (R) of each location in `reads`, so the reduction orders it after the
 * step that made the condition true.
 *
 * Use it to model a loop that spins until something changes (`goto repeat` after a failed
 * `folio_try_get()` on a frozen folio) as a wait, so a spin that waits for another thread is not
 * mistaken for a livelock:
 *
 * ```ts
 * const thawed = wait_until(`${folio} to be unfrozen`, () => folio._refcount.value !== 0, [folio._refcount]);
 * yield* step(t, REPEAT, { waitFor: thawed });
 * ```
 *
 * `holds` is evaluated by the scheduler, outside steps, and must not record accesses: read the
 * memory values directly (`cell.value`, `xa_peek()`). `reads` must name every location `holds`
 * depends on that the waiting step does not read anyway; a location left out can hide the
 * dependency and make the reduction prune the interleaving where the wait ends.
 */
export function wait_until(name: string, holds: (t: Task) => boolean, reads: readonly Located[]): Waitable {
  return {
    name,
    canProceed: (t: Task) => holds(t),
    waited: () => {
      for (const l of reads) access(l.loc, R);
    },
  };
}
