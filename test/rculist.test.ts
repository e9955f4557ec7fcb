// RCU lists (include/linux/rculist.h, v6.12): list_add_rcu() publishes an entry whose fields were
// stored before it (its rcu_assign_pointer() is a release); list_del_rcu() leaves `next` so that a
// reader standing on the entry walks on, and synchronize_rcu() before kfree() keeps the entry
// alive for it; list_del() there poisons `next` (a new user had to write list_del_rcu() by hand).
import { test } from "node:test";
import assert from "node:assert/strict";
import { check } from "../src/engine/check.js";
import { Cell, load, store, type MemoryModel } from "../src/engine/memory.js";
import type { Scenario, SourceRef } from "../src/engine/scenario.js";
import { sitesIn } from "../src/engine/site.js";
import type { Task } from "../src/engine/task.js";
import { LIST_HEAD_INIT, list_add, list_add_rcu, list_del, list_del_rcu, list_for_each_entry_rcu, type list_head } from "../src/linux/list.js";
import { rcu_read_lock, rcu_read_unlock, synchronize_rcu } from "../src/linux/rcu.js";
import { kfree } from "../src/linux/slab.js";
import { REDUCTIONS } from "../src/engine/modes.js";

const src: SourceRef = { seed: "-", author: "-", date: "2026-01-01", subject: "-" };
const at = sitesIn("drivers/example/rculist.c", "v6.12");
const LOCK = at("reader", "rcu_read_lock()");
const NEXT = at("reader", "list_for_each_entry_rcu(): pos = next");
const USE = at("reader", "use(pos->data)");
const UNLOCK = at("reader", "rcu_read_unlock()");
const INIT = at("updater", "WRITE_ONCE(c->data, 3)");
const ADD = at("updater", "list_add_rcu(&c->node, &head)");
const DEL = at("updater", "list_del_rcu(&a->node)");
const SYNC = at("updater", "synchronize_rcu()");
const FREE = at("updater", "kfree(a)");

interface Entry {
  id: string;
  node: list_head;
  data: Cell<number>;
}
interface State {
  head: list_head;
  a: Entry;
  b: Entry;
  c: Entry;
}

function entry(id: string, data: number): Entry {
  const e = { id, node: null as unknown as list_head, data: new Cell(`${id}->data`, data) };
  e.node = LIST_HEAD_INIT(e);
  return e;
}

/** updater: add (publish c) or delete (a, then a grace period and kfree); reader: walk the list under rcu_read_lock(). */
function rculist(op: "add-rcu" | "add" | "del-rcu" | "del", mm: MemoryModel): Scenario<State, object> {
  return {
    id: `rculist-${op}`, title: "", summary: "", kernel: "v6.12", thread: src, params: [], defaults: {},
    fixes: [{ id: "baseline", title: "", description: "", source: src, options: {} }],
    variants: [{ id: "default", title: "", description: "", options: {}, memoryModel: mm }],
    setup() {
      const head = LIST_HEAD_INIT();
      const a = entry("a", 1);
      const b = entry("b", 2);
      const c = entry("c", 0);
      // head -> a -> b -> head
      head.next = a.node; a.node.prev = head; a.node.next = b.node; b.node.prev = a.node; b.node.next = head; head.prev = b.node;
      const state: State = { head, a, b, c };
      return {
        state,
        threads: [
          {
            name: "reader",
            *body(t: Task, s: State) {
              yield* rcu_read_lock(t, LOCK);
              yield NEXT;
              for (const e of list_for_each_entry_rcu<Entry>(t, s.head)) {
                yield USE;
                const d = load(t, e.data);
                if (d === 0) t.bug(`reader saw ${e.id} uninitialized`);
                yield NEXT;
              }
              yield* rcu_read_unlock(t, UNLOCK);
            },
          },
          {
            name: "updater",
            *body(t: Task, s: State) {
              if (op === "add-rcu" || op === "add") {
                yield INIT;
                store(t, s.c.data, 3);
                yield ADD;
                if (op === "add-rcu") list_add_rcu(t, s.c.node, s.head);
                else list_add(t, s.c.node, s.head);
                return;
              }
              yield DEL;
              if (op === "del-rcu") list_del_rcu(t, s.a.node);
              else list_del(t, s.a.node);
              yield* synchronize_rcu(t, SYNC);
              yield* kfree(t, s.a, FREE);
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

test("list_add_rcu() publishes an initialized entry under every memory model; list_add() without a barrier does not under pso", () => {
  for (const reduction of REDUCTIONS) {
    for (const mm of ["sc", "tso", "pso"] as const) assert.equal(check(rculist("add-rcu", mm), { reduction }).verdict, "pass", `${reduction} ${mm}`);
    assert.equal(check(rculist("add", "pso"), { reduction }).verdict, "fail", reduction);
    assert.equal(check(rculist("add", "tso"), { reduction }).verdict, "pass", `${reduction}: x86 keeps store order`);
  }
});

test("list_del_rcu() then synchronize_rcu() and kfree() is safe for a reader on the entry; list_del() poisons its next", () => {
  for (const reduction of REDUCTIONS) {
    assert.equal(check(rculist("del-rcu", "sc"), { reduction }).verdict, "pass", reduction);
    const r = check(rculist("del", "sc"), { reduction });
    assert.equal(r.verdict, "fail", reduction);
    assert.ok(Object.keys(r.findings).some((k) => /LIST_POISON1/.test(k)), Object.keys(r.findings).join("; "));
  }
});

test("rcu_dereference() outside rcu_read_lock() is CONFIG_PROVE_RCU's suspicious RCU usage; _protected() takes the lock condition", async () => {
  const { rcu_dereference, rcu_dereference_protected } = await import("../src/engine/memory.js");
  const { Spinlock, spin_lock, spin_unlock } = await import("../src/linux/locks.js");
  const S = at("updater", "p = rcu_dereference(gp)");
  const one = (how: "reader" | "bare" | "protected-held" | "protected-unheld"): Scenario<{ gp: Cell<number>; lock: InstanceType<typeof Spinlock> }, object> => ({
    id: `deref-${how}`, title: "", summary: "", kernel: "v6.12", thread: src, params: [], defaults: {},
    fixes: [{ id: "baseline", title: "", description: "", source: src, options: {} }],
    variants: [{ id: "default", title: "", description: "", options: {} }],
    setup() {
      const state = { gp: new Cell("gp", 1), lock: new Spinlock("gp_lock") };
      return {
        state,
        threads: [
          {
            name: "cpu0",
            *body(t: Task, s: typeof state) {
              if (how === "reader") yield* rcu_read_lock(t, LOCK);
              if (how.startsWith("protected")) yield* spin_lock(t, s.lock, S);
              yield S;
              if (how === "reader" || how === "bare") rcu_dereference(t, s.gp);
              else rcu_dereference_protected(t, s.gp, how === "protected-held" && s.lock.owner === t);
              if (how.startsWith("protected")) yield* spin_unlock(t, s.lock, S);
              if (how === "reader") yield* rcu_read_unlock(t, UNLOCK);
            },
          },
        ],
      };
    },
    view: () => ({}),
    claims: [],
    leftOut: [],
  });
  assert.deepEqual(check(one("reader")).findings, {});
  assert.deepEqual(Object.keys(check(one("bare")).findings), ["warning: suspicious RCU usage: suspicious rcu_dereference_check() usage"]);
  assert.deepEqual(check(one("protected-held")).findings, {});
  assert.deepEqual(Object.keys(check(one("protected-unheld")).findings), ["warning: suspicious RCU usage: suspicious rcu_dereference_protected() usage"]);
});
