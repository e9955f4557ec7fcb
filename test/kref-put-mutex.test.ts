// kref_put_mutex() / kref_put_lock() (include/linux/kref.h) and refcount_dec_and_mutex_lock() /
// refcount_dec_and_lock() (lib/refcount.c, v6.12): an object that a lookup finds under a lock and
// takes a reference to must be unlinked under that lock in the same critical section as its last
// put. With kref_put() and an unlink in the release, the lookup can kref_get() it at 0 (a new
// user's trial had to build kref_put_lock() by hand; racelab had neither).
import { test } from "node:test";
import assert from "node:assert/strict";
import { check } from "../src/engine/check.js";
import type { Scenario, SourceRef } from "../src/engine/scenario.js";
import { sitesIn } from "../src/engine/site.js";
import type { Task } from "../src/engine/task.js";
import { KREF_INIT, kref_get, kref_put, kref_put_lock, kref_put_mutex, type kref } from "../src/linux/kref.js";
import { Mutex, mutex_lock, mutex_unlock, Spinlock, spin_lock, spin_unlock } from "../src/linux/locks.js";
import { embed, kfree, container_of } from "../src/linux/slab.js";
import { REDUCTIONS } from "../src/engine/modes.js";

const src: SourceRef = { seed: "-", author: "-", date: "2026-01-01", subject: "-" };
const at = sitesIn("drivers/example/obj.c", "v6.12");
const L = { lock: at("obj_lookup", "lock(&list_lock)"), find: at("obj_lookup", "obj = list_first(); kref_get(&obj->ref)"), unlock: at("obj_lookup", "unlock(&list_lock)"), put: at("obj_put", "kref_put*(&obj->ref, ...)") };
const R = { lock: at("obj_release", "lock(&list_lock)"), unlink: at("obj_release", "list_del(&obj->node)"), unlock: at("obj_release", "unlock(&list_lock)"), free: at("obj_release", "kfree(obj)") };

interface Obj {
  ref: kref;
  data: number;
}
interface State {
  head: Obj | null;
  mtx: Mutex;
  sl: Spinlock;
}
type Put = "kref_put" | "kref_put_mutex" | "kref_put_lock";

function objects(put: Put): Scenario<State, object> {
  return {
    id: `obj-${put}`, title: "", summary: "", kernel: "v6.12", thread: src, params: [], defaults: {},
    fixes: [{ id: "baseline", title: "", description: "", source: src, options: {} }],
    variants: [{ id: "default", title: "", description: "", options: {} }],
    setup() {
      const obj = { data: 1 } as Obj;
      obj.ref = embed(KREF_INIT("obj->ref"), obj);
      const state: State = { head: obj, mtx: new Mutex("list_mutex"), sl: new Spinlock("list_lock") };
      const spin = put === "kref_put_lock";
      const lock = (t: Task, s: State, a: typeof L.lock) => (spin ? spin_lock(t, s.sl, a) : mutex_lock(t, s.mtx, a));
      const unlock = (t: Task, s: State, a: typeof L.lock) => (spin ? spin_unlock(t, s.sl, a) : mutex_unlock(t, s.mtx, a));
      // kref_put()'s release takes the lock to unlink; the _mutex/_lock forms call it with the lock held.
      const release = (s: State) =>
        function* (t: Task, ref: kref) {
          const o = container_of<Obj>(ref)!;
          if (put === "kref_put") yield* lock(t, s, R.lock);
          yield R.unlink;
          s.head = null; // (the only object on the list)
          yield* unlock(t, s, R.unlock);
          yield* kfree(t, o, R.free);
        };
      const drop = function* (t: Task, s: State, o: Obj) {
        if (put === "kref_put") yield* kref_put(t, o.ref, release(s), L.put);
        else if (put === "kref_put_mutex") yield* kref_put_mutex(t, o.ref, release(s), s.mtx, L.put);
        else yield* kref_put_lock(t, o.ref, release(s), s.sl, L.put);
      };
      return {
        state,
        threads: [
          {
            name: "lookup",
            *body(t: Task, s: State) {
              yield* lock(t, s, L.lock);
              yield L.find;
              const o = s.head;
              if (o !== null) yield* kref_get(t, o.ref, L.find);
              yield* unlock(t, s, L.unlock);
              if (o !== null) yield* drop(t, s, o);
            },
          },
          {
            name: "owner",
            *body(t: Task, s: State) {
              yield L.put;
              const o = s.head;
              if (o !== null) yield* drop(t, s, o);
            },
          },
        ],
      };
    },
    view: () => ({}),
    claims: [],
    leftOut: [],
  };
}

test("kref_put() with an unlink in the release lets a lookup take a reference at 0; kref_put_mutex() and kref_put_lock() do not", () => {
  for (const reduction of REDUCTIONS) {
    const r = check(objects("kref_put"), { reduction });
    assert.equal(r.verdict, "fail", reduction);
    assert.ok(Object.keys(r.findings).some((k) => /refcount_t: addition on 0; use-after-free\. \(obj->ref\)/.test(k)), Object.keys(r.findings).join("; "));
    assert.equal(check(objects("kref_put_mutex"), { reduction }).verdict, "pass", `kref_put_mutex ${reduction}`);
    assert.equal(check(objects("kref_put_lock"), { reduction }).verdict, "pass", `kref_put_lock ${reduction}`);
  }
});
