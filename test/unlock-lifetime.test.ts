// A sleeping lock's unlock may read the lock after releasing it (Documentation/locking/
// mutex-design.rst: "mutex_unlock() may access the mutex structure even after it has internally
// released the lock already"; rwsem_wake() after up_write()/the last up_read()). Dropping the
// last reference under the object's own mutex and freeing it after the unlock is then a
// use-after-free (fixed for eventpoll by 8c2e52ebbe88); a spinlock's unlock is its last access.
// Found by a new user's trial (2026-12-01): racelab passed it. Also lockdep's "held lock freed!".
import { test } from "node:test";
import assert from "node:assert/strict";
import { check } from "../src/engine/check.js";
import type { Scenario, SourceRef } from "../src/engine/scenario.js";
import { sitesIn } from "../src/engine/site.js";
import type { Task } from "../src/engine/task.js";
import { down_write, Mutex, mutex_lock, mutex_unlock, RwSemaphore, Spinlock, spin_lock, spin_unlock, up_write } from "../src/linux/locks.js";
import { refcount_dec_and_test, refcount_t } from "../src/linux/refcount.js";
import { embed, kfree } from "../src/linux/slab.js";
import { REDUCTIONS } from "../src/engine/modes.js";

const src: SourceRef = { seed: "-", author: "-", date: "2026-01-01", subject: "-" };
const at = sitesIn("fs/eventpoll.c", "v6.12");
const S = {
  get: at("ep_put", "ep = file->private_data"),
  lock: at("ep_put", "mutex_lock(&ep->mtx)"),
  dec: at("ep_put", "dispose = refcount_dec_and_test(&ep->refcount)"),
  unlock: at("ep_put", "mutex_unlock(&ep->mtx)"),
  free: at("ep_free", "kfree(ep)"),
};
type Lock = "mutex" | "rwsem" | "spinlock";
interface Ep {
  refcount: refcount_t;
  mtx: Mutex;
  sem: RwSemaphore;
  sl: Spinlock;
}

/** Two users lock ep, drop a reference (under the lock, or after it with `decOutside`), unlock; the last one frees ep. */
function eventpoll(lock: Lock, decOutside: boolean, embedded = true): Scenario<{ ep: Ep }, object> {
  return {
    id: `ep-${lock}`, title: "", summary: "", kernel: "v6.12", thread: src, params: [], defaults: {},
    fixes: [{ id: "baseline", title: "", description: "", source: src, options: {} }],
    variants: [{ id: "default", title: "", description: "", options: {} }],
    setup() {
      const ep = {} as Ep;
      const e = <T extends object>(m: T): T => (embedded ? embed(m, ep) : m);
      ep.refcount = e(new refcount_t("ep->refcount", 2));
      ep.mtx = e(new Mutex("ep->mtx"));
      ep.sem = e(new RwSemaphore("ep->sem"));
      ep.sl = e(new Spinlock("ep->lock"));
      const body = function* (t: Task, s: { ep: Ep }) {
        yield S.get;
        const ep = s.ep;
        let dispose = false;
        if (lock === "mutex") yield* mutex_lock(t, ep.mtx, S.lock);
        else if (lock === "rwsem") yield* down_write(t, ep.sem, S.lock);
        else yield* spin_lock(t, ep.sl, S.lock);
        if (!decOutside) dispose = yield* refcount_dec_and_test(t, ep.refcount, S.dec);
        if (lock === "mutex") yield* mutex_unlock(t, ep.mtx, S.unlock);
        else if (lock === "rwsem") yield* up_write(t, ep.sem, S.unlock);
        else yield* spin_unlock(t, ep.sl, S.unlock);
        if (decOutside) dispose = yield* refcount_dec_and_test(t, ep.refcount, S.dec);
        if (dispose) yield* kfree(t, ep, S.free);
      };
      return { state: { ep }, threads: [{ name: "ep_put_a", body }, { name: "ep_put_b", body }] };
    },
    view: () => ({}),
    claims: [],
    leftOut: [],
  };
}

test("the last reference dropped under the object's own mutex or rw_semaphore: the unlock's wake-up reads freed memory", () => {
  for (const reduction of REDUCTIONS) {
    for (const lock of ["mutex", "rwsem"] as const) {
      const r = check(eventpoll(lock, false), { reduction });
      assert.equal(r.verdict, "fail", `${lock} ${reduction}`);
      const name = lock === "mutex" ? "ep->mtx" : "ep->sem";
      assert.deepEqual(
        Object.keys(r.findings).sort(),
        [`bug: use-after-free: ep_put_a accesses ${name} after kfree() by ep_put_b`, `bug: use-after-free: ep_put_b accesses ${name} after kfree() by ep_put_a`],
        `${lock} ${reduction}`,
      );
      if (reduction === "sleep-sets") assert.match(r.counterexample!.steps.at(-1)!.label, /: wake the waiter$/);
      // 8c2e52ebbe88: drop the reference after the unlock.
      assert.equal(check(eventpoll(lock, true), { reduction }).verdict, "pass", `${lock} fixed, ${reduction}`);
    }
    // spin_unlock() is the last access of the lock.
    assert.equal(check(eventpoll("spinlock", false), { reduction }).verdict, "pass", `spinlock ${reduction}`);
  }
});

test("a lock in memory that is never freed keeps its one-step unlock", () => {
  const r = check(eventpoll("mutex", false, false), { reduction: "none" });
  assert.equal(r.verdict, "pass");
  assert.equal(r.executions, check(eventpoll("spinlock", false, false), { reduction: "none" }).executions);
});

test("kfree() of a struct whose lock the thread holds is lockdep's held lock freed!", () => {
  const held: Scenario<{ ep: Ep }, object> = {
    ...eventpoll("mutex", false),
    setup() {
      const ep = {} as Ep;
      ep.mtx = embed(new Mutex("ep->mtx"), ep);
      return {
        state: { ep },
        threads: [
          {
            name: "destroy",
            *body(t: Task, s: { ep: Ep }) {
              yield* mutex_lock(t, s.ep.mtx, S.lock);
              yield* kfree(t, s.ep, S.free);
            },
          },
        ],
      };
    },
  };
  // (It used to say "destroy accesses exit:destroy after kfree()": the freed mutex named its owner's exit.)
  assert.deepEqual(Object.keys(check(held).findings), ["warning: held lock freed! destroy is freeing memory state.ep, with a lock still held there! (ep->mtx)"]);
});
