import type { Site } from "./site.js";
import type { Task, Waitable } from "./task.js";

const ALL_OTHERS_DONE: Waitable = {
  name: "the other threads to finish",
  canProceed: (t: Task) => t.othersDone(),
  waited: (t: Task) => t.readExits(),
};

/**
 * Waits until every other thread has finished, then runs the step at `at`. Models work that
 * follows the race in time (writeback, inode eviction) as a thread of its own, so it appears in
 * traces and its findings are marked at its steps. The step depends on each thread's exit.
 */
export function* afterAll(t: Task, at: Site): Generator<Site, void, undefined> {
  t.blockOn(ALL_OTHERS_DONE, 0);
  yield at;
}
