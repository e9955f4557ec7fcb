// A flag one thread sets and another tests, modeled as a plain field of the state, is never
// buffered: a barrier bug on it passes under tso/pso. A new user's lost wake-up with `cond` a plain
// field passed under tso with no word (trial 12); the check now says which fields those are.
import { test } from "node:test";
import assert from "node:assert/strict";
import { check, defineScenario, sitesIn, Cell, READ_ONCE, WRITE_ONCE, Spinlock, spin_lock, spin_unlock, afterAll, type Task } from "../src/index.js";

const at = sitesIn("drivers/example/flag.c", "v6.12");
const SET = at("writer", "dev->ready = 1");
const TEST = at("reader", "if (dev->ready)");
const LOCK = at("f", "spin_lock(&dev->lock)");
const UNLOCK = at("f", "spin_unlock(&dev->lock)");
const CHECK = at("checker", "after both");

type How = "plain" | "cell" | "locked" | "after-all";
interface S {
  ready: number;
  flag: Cell<number>;
  lock: InstanceType<typeof Spinlock>;
  seen: number;
}

const mk = (how: How) =>
  defineScenario<S, object>({
    id: `flag-${how}`,
    setup: () => ({
      state: { ready: 0, flag: new Cell("dev->flag", 0), lock: new Spinlock("dev->lock"), seen: 0 },
      threads: {
        *writer(t: Task, s) {
          if (how === "locked") yield* spin_lock(t, s.lock, LOCK);
          yield SET;
          if (how === "cell") WRITE_ONCE(t, s.flag, 1);
          else s.ready = 1;
          if (how === "locked") yield* spin_unlock(t, s.lock, UNLOCK);
        },
        *reader(t: Task, s) {
          if (how === "after-all") {
            yield* afterAll(t, CHECK);
            s.seen = s.ready;
            return;
          }
          if (how === "locked") yield* spin_lock(t, s.lock, LOCK);
          yield TEST;
          s.seen = how === "cell" ? READ_ONCE(t, s.flag) : s.ready;
          if (how === "locked") yield* spin_unlock(t, s.lock, UNLOCK);
        },
      },
    }),
  });

const plainWarning = (how: How, memoryModel: "sc" | "tso" | "pso" | "rmo") =>
  check(mk(how), { memoryModel }).warnings.filter((w) => w.startsWith("plain field"));

test("a plain field written by one thread and read by another with no common lock is named under tso, pso and rmo, not under sc; a Cell, a common lock or a thread after all the others is not", () => {
  for (const mm of ["tso", "pso", "rmo"] as const)
    assert.deepEqual(plainWarning("plain", mm), [
      `plain field state.ready is written by one thread and read by another with no lock in common, and racelab never buffers a plain field's store, whatever the memory model: this ${mm} check reorders no access to it; if one publishes data or is a flag another thread tests, make it a Cell written with WRITE_ONCE()/smp_store_release() and read with READ_ONCE()/smp_load_acquire()`,
    ]);
  assert.deepEqual(plainWarning("plain", "sc"), []);
  for (const how of ["cell", "locked", "after-all"] as const) assert.deepEqual(plainWarning(how, "tso"), [], how);
});
