/**
 * Session marks freed objects (a new user's trial: after kfree(), `Session.show()` kept listing
 * `obj.ref -1073741824` and `obj.data 42` as if the object were live). After a kfree() each freed
 * object of the state has a row naming the thread and the step that freed it, its fields and the
 * pointers to it end in ` [freed]`, and an object only a pointer Cell leads to is `*<cell>`. The
 * step is found by replaying, which must leave the session able to step on: a later access is
 * still the use-after-free the engine reports.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { captureDisplays } from "./fixtures/capture-displays.js";
import {
  Cell,
  defineScenario,
  embed,
  GFP_KERNEL,
  kfree,
  kmalloc,
  kref_get,
  KREF_INIT,
  Session,
  sitesIn,
  WRITE_ONCE,
  type kref,
  type Task,
} from "../src/index.js";

const at = sitesIn("lib/test.c", "v6.12");
const USE = at("reader", "kref_get(&obj->ref)");
const LOOK = at("reader", "look");
const FREE = at("updater", "kfree(obj)");
const ALLOC = at("publisher", "n = kmalloc(...)");
const PUB = at("publisher", "WRITE_ONCE(gp2, n)");
const FREE2 = at("publisher", "kfree(n)");

interface Obj {
  ref: kref;
  data: number;
}
interface S {
  gp: Cell<Obj | null>;
  gp2: Cell<{ v: number } | null>;
  obj: Obj;
}

const sc = defineScenario<S, Record<string, never>>({
  id: "session-freed-test",
  setup: () => {
    const obj: Obj = { ref: null as unknown as kref, data: 42 };
    obj.ref = embed(KREF_INIT("obj->ref"), obj);
    return {
      state: { gp: new Cell<Obj | null>("gp", obj), gp2: new Cell<{ v: number } | null>("gp2", null), obj },
      threads: {
        *reader(t: Task, s: S) {
          yield LOOK;
          yield* kref_get(t, s.obj.ref, USE);
        },
        *updater(t: Task, s: S) {
          yield* kfree(t, s.obj, FREE);
        },
        *publisher(t: Task, s: S) {
          const n = yield* kmalloc(t, { v: 1 }, GFP_KERNEL, ALLOC);
          yield PUB;
          WRITE_ONCE(t, s.gp2, n);
          yield* kfree(t, n, FREE2);
        },
      },
    };
  },
});

test("Session.state and show() mark a freed object, with who freed it and at which step", () => {
  const s = new Session(sc);
  s.step("reader");
  assert.deepEqual(s.freed, {});
  assert.equal(s.state["obj.data"], 42);
  assert.equal(s.state["gp"], "&obj");
  s.step("updater");
  assert.deepEqual(s.freed, { obj: "freed by kfree() in updater, step 2" });
  const st = s.state;
  assert.equal(st["obj"], "freed by kfree() in updater, step 2");
  assert.equal(st["obj.data"], "42 [freed]");
  assert.equal(st["obj.ref"], "1 [freed]");
  assert.equal(st["gp"], "&obj [freed]", "a dangling pointer");
  assert.equal(st["gp2"], "null");
  // The object's row comes just before its fields.
  const keys = Object.keys(st);
  assert.equal(keys.indexOf("obj") + 1, keys.indexOf("obj.ref"));
  const shown = captureDisplays(() => s.show());
  assert.match(shown.at(-1)!, /^obj +freed by kfree\(\) in updater, step 2$/m);
  assert.match(shown.at(-1)!, /^obj\.data +42 \[freed\]$/m);

  // Finding the step replayed the execution: stepping on still reports the use-after-free.
  s.step("reader");
  assert.ok(s.findings.some((f) => /^bug: use-after-free: reader .*after kfree\(\) by updater/.test(f)), s.findings.join("\n"));
});

test("an object only a pointer Cell leads to is marked as *<cell>; back() unmarks it", () => {
  const s = new Session(sc);
  s.step("publisher", 3);
  assert.deepEqual(s.freed, { "*gp2": "freed by kfree() in publisher, step 3" });
  assert.equal(s.state["*gp2"], "freed by kfree() in publisher, step 3");
  assert.equal(s.state["gp2"], '{"v":1} [freed]');
  const keys = Object.keys(s.state);
  assert.equal(keys.indexOf("gp2") + 1, keys.indexOf("*gp2"), "right after the pointer");
  s.back();
  assert.deepEqual(s.freed, {});
  assert.ok(!("*gp2" in s.state));
  assert.doesNotMatch(String(s.state["gp2"]), /freed/);
});

// New-user trial 13: `refcount_dec_and_test(t, o.ref, ...)` after `kfree(t, o, ...)`: reading the
// field that holds an embedded member is `&obj->ref` (no load), so the use-after-free is the
// refcount's own access in the next step, not a read charged to the kfree() step.
test("a use-after-free through an embedded member is found at the member's access, not at the read of &obj->member", async () => {
  const { defineScenario, sitesIn, refcount_t, refcount_dec_and_test, kfree, embed, replay } = await import("../src/index.js");
  const at = sitesIn("drivers/example/obj.c", "v6.12");
  const PUT = at("obj_put", "refcount_dec_and_test(&obj->ref)");
  const FREE = at("obj_put", "kfree(obj)");
  const PUT2 = at("obj_put_again", "refcount_dec_and_test(&obj->ref)");
  const mk = (embedded: boolean) =>
    defineScenario<{ obj: { ref: InstanceType<typeof refcount_t> } }, object>({
      id: `put-after-free-${embedded}`,
      setup: () => {
        const obj = {} as { ref: InstanceType<typeof refcount_t> };
        obj.ref = embedded ? embed(new refcount_t("obj->ref", 1), obj) : new refcount_t("obj->ref", 1);
        return {
          state: { obj },
          threads: {
            *cpu0(t, s) {
              const o = s.obj;
              if (yield* refcount_dec_and_test(t, o.ref, PUT)) yield* kfree(t, o, FREE);
              yield* refcount_dec_and_test(t, o.ref, PUT2);
            },
          },
        };
      },
    });
  const { exec } = replay(mk(true), { schedule: "0x3" });
  assert.deepEqual(
    exec.findings.map((f) => [f.kind, f.message, exec.trace![f.step]!.site.label]),
    [["bug", "use-after-free: cpu0 accesses obj->ref after kfree() by cpu0", "refcount_dec_and_test(&obj->ref)"]],
  );
  assert.equal(exec.trace![exec.findings[0]!.step]!.site.fn, "obj_put_again");
  // A pointer member (`struct refcount *ref`, not embedded) is a load of the freed struct: found
  // when the thread reads it, right after the kfree() in the same step.
  const ptr = replay(mk(false), { schedule: "0x2" }).exec;
  assert.deepEqual(ptr.findings.map((f) => f.message), ["use-after-free: cpu0 accesses state.obj.ref after kfree() by cpu0"]);
});

// New-user trial 15: a thread whose first step is refcount_dec_and_test(&obj->ref) on an object
// another thread may free was a model error ("reads state.obj.ref before its first yield ...
// but B writes it at kfree(obj)"): taking `&obj->ref` loads nothing, before the first step too.
test("a thread may take &obj->member before its first step on an object another thread frees: no model error, and the double put is found", async () => {
  const { defineScenario, sitesIn, refcount_t, refcount_dec_and_test, kfree, embed, check } = await import("../src/index.js");
  const at = sitesIn("drivers/example/obj.c", "v6.12");
  const PUT = at("obj_put", "refcount_dec_and_test(&obj->ref)");
  const FREE = at("obj_put", "kfree(obj)");
  type Obj = { ref: InstanceType<typeof refcount_t> };
  function* obj_put(t: Parameters<typeof kfree>[0], o: Obj) {
    if (yield* refcount_dec_and_test(t, o.ref, PUT)) yield* kfree(t, o, FREE);
  }
  const mk = (refs: number) =>
    defineScenario<{ obj: Obj }, object>({
      id: `first-step-put-${refs}`,
      setup: () => {
        const obj = {} as Obj;
        obj.ref = embed(new refcount_t("obj->ref", refs), obj);
        return { state: { obj }, threads: { A: (t, s) => obj_put(t, s.obj), B: (t, s) => obj_put(t, s.obj) } };
      },
    });
  const two = check(mk(2));
  assert.equal(two.verdict, "pass", JSON.stringify(two.findings));
  const one = check(mk(1));
  assert.equal(one.verdict, "fail");
  assert.ok(!Object.keys(one.findings).some((k) => k.startsWith("error: ")), Object.keys(one.findings).join("; "));
  assert.ok(Object.keys(one.findings).some((k) => /^bug: use-after-free: [AB] accesses obj->ref after kfree\(\) by [AB]$/.test(k)), Object.keys(one.findings).join("; "));
});

test("a saturated refcount_t reads REFCOUNT_SATURATED in the state table, not -1073741824", async () => {
  const { REFCOUNT_INIT, refcount_inc, REFCOUNT_SATURATED } = await import("../src/linux/refcount.js");
  const INC = at("user", "refcount_inc(&obj->users)");
  const sc = defineScenario({
    id: "saturate",
    setup: () => ({
      state: { users: REFCOUNT_INIT("obj->users", 0) },
      threads: {
        *user(t: Task, s) {
          yield* refcount_inc(t, s.users, INC);
        },
      },
    }),
  });
  const s = new Session(sc);
  assert.equal(s.state["users"], "0");
  s.step("user");
  assert.match(s.findings.join("\n"), /refcount_t: addition on 0; use-after-free/);
  assert.equal(s.state["users"], "REFCOUNT_SATURATED (a misuse warned: the count no longer moves)");
  assert.equal(REFCOUNT_SATURATED, -0x40000000);
});
