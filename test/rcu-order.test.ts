// rcu_read_lock() and rcu_read_unlock() order no memory access for other CPUs (preempt_disable()
// / preempt_enable() in the kernel, or __rcu_read_unlock()'s barrier-free fast path), while a
// grace period still sees everything a section it waited for did. Until 2026-12-01 racelab made
// rcu_read_unlock() a full barrier and rcu_read_lock() a direct write (under tso, a drain), so
// store buffering and store reordering across them passed (a new user's trial).
import { test } from "node:test";
import assert from "node:assert/strict";
import { check } from "../src/engine/check.js";
import { Cell, load, rcu_assign_pointer, rcu_dereference, smp_mb, smp_rmb, store, type MemoryModel } from "../src/engine/memory.js";
import { embed, kfree } from "../src/linux/slab.js";
import { REDUCTIONS } from "../src/engine/modes.js";
import type { Scenario, SourceRef } from "../src/engine/scenario.js";
import { sitesIn, type Site } from "../src/engine/site.js";
import type { Task } from "../src/engine/task.js";
import { rcu_read_lock, rcu_read_unlock, synchronize_rcu } from "../src/linux/rcu.js";

const src: SourceRef = { seed: "-", author: "-", date: "2026-12-01", subject: "-" };
const at = sitesIn("test.c", "v6.12");
const MODELS: readonly MemoryModel[] = ["sc", "tso", "pso", "rmo"];

interface S {
  x: Cell<number>;
  y: Cell<number>;
}
type Body = (t: Task, s: S) => Generator<Site, void, undefined>;

function scenario(id: string, p0: Body, p1: Body, bad: (r: number[]) => boolean): Scenario<S & { r: number[] }, object> {
  return {
    id, title: "", summary: "", kernel: "v6.12", thread: src, params: [], defaults: {},
    fixes: [{ id: "baseline", title: "", description: "", source: src, options: {} }],
    variants: [{ id: "default", title: "", description: "", options: {} }],
    setup() {
      const state = { x: new Cell("x", 0), y: new Cell("y", 0), r: [-1, -1] };
      return { state, threads: [{ name: "P0", body: p0 }, { name: "P1", body: p1 }] };
    },
    endChecks: [{ name: "outcome", check: (s, r) => void (bad(s.r) && r.report("invariant", `r0 = ${s.r[0]}, r1 = ${s.r[1]}`)) }],
    claims: [],
    leftOut: [],
  } as Scenario<S & { r: number[] }, object>;
}

const A = at("P0", "step");
const B = at("P1", "step");
const MB = at("P1", "smp_mb()");
const GP = at("P1", "synchronize_rcu()");

/** SB: P0 stores x and loads y across an rcu_read_unlock() (or rcu_read_lock()); P1 stores y, smp_mb(), loads x. */
const sb = (across: "unlock" | "lock") =>
  scenario(
    `sb-${across}`,
    function* (t, s) {
      if (across === "unlock") yield* rcu_read_lock(t, A);
      yield A;
      store(t, s.x, 1);
      yield* (across === "unlock" ? rcu_read_unlock : rcu_read_lock)(t, A);
      yield A;
      (s as S & { r: number[] }).r[0] = load(t, s.y);
      if (across === "lock") yield* rcu_read_unlock(t, A);
    },
    function* (t, s) {
      yield B;
      store(t, s.y, 1);
      yield* smp_mb(t, MB);
      yield B;
      (s as S & { r: number[] }).r[1] = load(t, s.x);
    },
    (r) => r[0] === 0 && r[1] === 0,
  );

/** MP: P0 stores x, rcu_read_unlock(), stores y; P1 loads y, smp_rmb(), loads x. */
const mp = scenario(
  "mp-unlock",
  function* (t, s) {
    yield* rcu_read_lock(t, A);
    yield A;
    store(t, s.x, 1);
    yield* rcu_read_unlock(t, A);
    yield A;
    store(t, s.y, 1);
  },
  function* (t, s) {
    yield B;
    (s as S & { r: number[] }).r[0] = load(t, s.y);
    smp_rmb(t);
    yield B;
    (s as S & { r: number[] }).r[1] = load(t, s.x);
  },
  (r) => r[0] === 1 && r[1] === 0,
);

/**
 * RCU's guarantee (LKMM's rcu-order): P0's section stores x then y; P1 sees y = 1, so the section
 * began before its synchronize_rcu(), which therefore waits for the whole section: x = 1 after it.
 */
const gp = scenario(
  "rcu-mp",
  function* (t, s) {
    yield* rcu_read_lock(t, A);
    yield A;
    store(t, s.x, 1);
    yield A;
    store(t, s.y, 1);
    yield* rcu_read_unlock(t, A);
  },
  function* (t, s) {
    yield B;
    (s as S & { r: number[] }).r[0] = load(t, s.y);
    yield* synchronize_rcu(t, GP);
    yield B;
    (s as S & { r: number[] }).r[1] = load(t, s.x);
  },
  (r) => r[0] === 1 && r[1] === 0,
);

const verdicts = (sc: Scenario<S & { r: number[] }, object>, reduction: (typeof REDUCTIONS)[number]) =>
  Object.fromEntries(MODELS.map((m) => [m, check(sc, { memoryModel: m, reduction }).verdict]));

for (const reduction of REDUCTIONS) {
  test(`store buffering across rcu_read_unlock() or rcu_read_lock() is found wherever stores are buffered (${reduction})`, () => {
    for (const across of ["unlock", "lock"] as const)
      assert.deepEqual(verdicts(sb(across), reduction), { sc: "pass", tso: "fail", pso: "fail", rmo: "fail" }, across);
  });

  test(`store reordering across rcu_read_unlock() is found under pso and rmo, not tso (${reduction})`, () => {
    assert.deepEqual(verdicts(mp, reduction), { sc: "pass", tso: "pass", pso: "fail", rmo: "fail" });
  });

  test(`a grace period still sees every store of a section it waited for (${reduction})`, () => {
    assert.deepEqual(verdicts(gp, reduction), { sc: "pass", tso: "pass", pso: "pass", rmo: "pass" });
  });
}

/**
 * The other half of RCU's guarantee under rmo: a reader whose section begins after the grace
 * period began sees the pointer published before it, so it never reaches the object the updater
 * frees once synchronize_rcu() returns. racelab's rmo let such a reader still read the old pointer
 * (its invalidation pending) and use it after the kfree() (a new user's trial, 2026-12-01).
 * Without synchronize_rcu() the use-after-free is there under every model.
 */
interface Foo {
  a: Cell<number>;
}
interface Pub {
  gp: Cell<Foo>;
  nw: Foo;
}
function replaceAndFree(sync: boolean): Scenario<Pub, object> {
  const U = at("updater", "step");
  const RD = at("reader", "step");
  return {
    id: `replace-free-${sync}`, title: "", summary: "", kernel: "v6.12", thread: src, params: [], defaults: {},
    fixes: [{ id: "baseline", title: "", description: "", source: src, options: {} }],
    variants: [{ id: "default", title: "", description: "", options: {} }],
    setup() {
      const old = {} as Foo;
      old.a = embed(new Cell("old->a", 1), old);
      const nw = {} as Foo;
      nw.a = embed(new Cell("new->a", 2), nw);
      const state: Pub = { gp: new Cell<Foo>("gp", old), nw };
      return {
        state,
        threads: [
          {
            name: "updater",
            *body(t: Task, s: Pub) {
              yield U;
              const o = s.gp.peek();
              rcu_assign_pointer(t, s.gp, s.nw);
              if (sync) yield* synchronize_rcu(t, GP);
              yield* kfree(t, o, U);
            },
          },
          {
            name: "reader",
            *body(t: Task, s: Pub) {
              yield* rcu_read_lock(t, RD);
              yield RD;
              const p = rcu_dereference(t, s.gp);
              yield RD;
              load(t, p.a);
              yield* rcu_read_unlock(t, RD);
            },
          },
        ],
      };
    },
    claims: [],
    leftOut: [],
  } as Scenario<Pub, object>;
}

for (const reduction of REDUCTIONS) {
  test(`a reader section that begins after the grace period began never sees the replaced pointer, under every model (${reduction})`, () => {
    for (const m of MODELS) {
      assert.equal(check(replaceAndFree(true), { memoryModel: m, reduction }).verdict, "pass", `${m} synchronize_rcu`);
      const r = check(replaceAndFree(false), { memoryModel: m, reduction });
      assert.equal(r.verdict, "fail", `${m} without synchronize_rcu`);
      assert.ok(Object.keys(r.findings).every((k) => k.startsWith("bug: use-after-free")), JSON.stringify(r.findings));
    }
  });
}
