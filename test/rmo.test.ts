// The rmo memory model: pso's store reordering plus loads that read a value from before another
// CPU's store until the reading CPU applies the invalidation (smp_rmb(), acquires, full barriers
// and address dependencies apply them all). Message passing with smp_wmb() on the writer alone is
// the classic case: memory-barriers.txt's "SMP BARRIER PAIRING" says the reader needs smp_rmb().
import { test } from "node:test";
import assert from "node:assert/strict";
import { check, replayCounterexample } from "../src/engine/check.js";
import { Cell, load, rcu_dereference_check, smp_load_acquire, smp_rmb, smp_wmb, store, rcu_assign_pointer, type MemoryModel } from "../src/engine/memory.js";
import { REDUCTIONS } from "../src/engine/modes.js";
import type { Scenario, SourceRef } from "../src/engine/scenario.js";
import { sitesIn } from "../src/engine/site.js";
import type { Task } from "../src/engine/task.js";
import { renderDiagram, stepsJson } from "../src/engine/trace.js";
import { SEQCNT_ZERO, read_seqcount_begin, read_seqcount_retry, write_seqcount_begin, write_seqcount_end, type seqcount_t } from "../src/linux/seqlock.js";
import { step } from "../src/engine/task.js";

const src: SourceRef = { seed: "-", author: "-", date: "2026-12-01", subject: "-" };
const at = sitesIn("test.c", "v0");
const W1 = at("writer", "WRITE_ONCE(data, 1)");
const W2 = at("writer", "smp_wmb(); WRITE_ONCE(flag, 1)");
const R1 = at("reader", "r0 = READ_ONCE(flag)");
const R2 = at("reader", "r1 = READ_ONCE(data)");

type Reader = "once" | "rmb" | "acquire";
interface MpState {
  data: Cell<number>;
  flag: Cell<number>;
}

/** MP+wmbonceonce+<reader>: the writer orders its stores; the reader orders its loads or not. */
function mp(reader: Reader): Scenario<MpState, object> {
  return {
    id: `mp-${reader}`, title: "", summary: "", kernel: "v0", thread: src, params: [], defaults: {},
    fixes: [{ id: "baseline", title: "", description: "", source: src, options: {} }],
    variants: [{ id: "default", title: "", description: "", options: {} }],
    setup() {
      const state: MpState = { data: new Cell("data", 0), flag: new Cell("flag", 0) };
      return {
        state,
        threads: [
          {
            name: "writer",
            *body(t: Task, s: MpState) {
              yield W1;
              store(t, s.data, 1);
              yield W2;
              smp_wmb(t);
              store(t, s.flag, 1);
            },
          },
          {
            name: "reader",
            *body(t: Task, s: MpState) {
              yield R1;
              const f = reader === "acquire" ? smp_load_acquire(t, s.flag) : load(t, s.flag);
              if (reader === "rmb") smp_rmb(t);
              yield R2;
              const d = load(t, s.data);
              if (f === 1 && d === 0) t.report("invariant", "reader saw flag = 1 but data = 0");
            },
          },
        ],
      };
    },
    claims: [],
    leftOut: [],
  };
}

for (const reduction of REDUCTIONS) {
  test(`MP with smp_wmb() alone fails under rmo only; smp_rmb() or smp_load_acquire() closes it (${reduction})`, () => {
    const verdict = (r: Reader, m: MemoryModel) => check(mp(r), { memoryModel: m, reduction });
    for (const m of ["sc", "tso", "pso"] as const) assert.equal(verdict("once", m).verdict, "pass", m);
    const open = verdict("once", "rmo");
    assert.equal(open.verdict, "fail");
    assert.deepEqual(Object.keys(open.findings), ["invariant: reader saw flag = 1 but data = 0"]);
    assert.equal(open.crossCheck?.mismatches ?? 0, 0);
    for (const r of ["rmb", "acquire"] as const) {
      const closed = verdict(r, "rmo");
      assert.equal(closed.verdict, "pass", `${r}: ${JSON.stringify(closed.findings)}`);
      assert.equal(closed.complete, true);
    }
  });
}

test("an rmo counterexample shows the stale load: the reader reads data = 0 while its invalidation is pending", () => {
  const r = check(mp("once"), { memoryModel: "rmo" });
  const exec = replayCounterexample(mp("once"), r)!;
  const steps = stepsJson(exec);
  const last = steps[steps.length - 1]!;
  assert.equal(last.thread, "reader");
  assert.deepEqual(last.notes, ["reads the stale data = 0 (the invalidation is pending)"]);
  // The diagram names the stores that became visible and the invalidation the reader applied.
  const text = renderDiagram(exec, 200);
  assert.match(text, /flag = 1 becomes visible/);
  // ("it read flag = 0" was said of a CPU that had read nothing yet; new-user trial 14.)
  assert.match(text, /reader applies the invalidation of flag \(stale until now: flag\s+= 0\)/);
  // The stale read itself is drawn under the reader's step: it is why the outcome is reached.
  assert.match(text, /\/\/ r1 = READ_ONCE\(data\)\n *\/\/ -> reads the stale data = 0 \(the invalidation is pending\)\n/);
});

/** rcu_assign_pointer() of an initialized object against rcu_dereference() and a load through it. */
interface Obj {
  val: Cell<number>;
}
interface PubState {
  ptr: Cell<Obj | null>;
  obj: Obj;
  other: Cell<number>;
}
const P1 = at("publisher", "WRITE_ONCE(obj->val, 1)");
const P2 = at("publisher", "rcu_assign_pointer(gp, obj)");
const S1 = at("subscriber", "p = rcu_dereference(gp)");
const S2 = at("subscriber", "r = READ_ONCE(p->val)");

function publish(deref: "rcu_dereference" | "READ_ONCE"): Scenario<PubState, object> {
  return {
    id: `publish-${deref}`, title: "", summary: "", kernel: "v0", thread: src, params: [], defaults: {},
    fixes: [{ id: "baseline", title: "", description: "", source: src, options: {} }],
    variants: [{ id: "default", title: "", description: "", options: {} }],
    setup() {
      const state: PubState = { ptr: new Cell<Obj | null>("gp", null), obj: { val: new Cell("obj->val", 0) }, other: new Cell("other", 0) };
      return {
        state,
        threads: [
          {
            name: "publisher",
            *body(t: Task, s: PubState) {
              yield P1;
              store(t, s.obj.val, 1);
              yield P2;
              rcu_assign_pointer(t, s.ptr, s.obj);
            },
          },
          {
            name: "subscriber",
            *body(t: Task, s: PubState) {
              yield S1;
              // (rcu_dereference_check(p, 1): the same acquire load, with no CONFIG_PROVE_RCU splat for
              // a subscriber outside rcu_read_lock(). The splat's check is installed whenever
              // src/linux/rcu.ts is loaded, which locks.ts now imports.)
              const p = deref === "rcu_dereference" ? rcu_dereference_check(t, s.ptr, true) : load(t, s.ptr);
              if (p === null) return;
              yield S2;
              if (load(t, p.val) === 0) t.report("invariant", "subscriber saw the object uninitialized");
            },
          },
        ],
      };
    },
    claims: [],
    leftOut: [],
  };
}

test("rmo keeps an address dependency ordered: rcu_dereference() and a pointer READ_ONCE() both see the initialized object", () => {
  for (const deref of ["rcu_dereference", "READ_ONCE"] as const)
    for (const reduction of REDUCTIONS) {
      const r = check(publish(deref), { memoryModel: "rmo", reduction });
      assert.equal(r.verdict, "pass", `${deref} ${reduction}: ${JSON.stringify(r.findings)}`);
    }
});

/** A seqcount_t writer updating a pair, a reader with (or without) the retry; the pair must not tear. */
interface SeqState {
  seq: seqcount_t;
  a: Cell<number>;
  b: Cell<number>;
}
const SW = at("seq_writer", "write_seqcount_begin(); a = 1; b = 1; write_seqcount_end()");
const SR = at("seq_reader", "read_seqcount_begin(); r0 = a; r1 = b; read_seqcount_retry()");

function seqPair(retry: boolean): Scenario<SeqState, object> {
  return {
    id: `seq-${retry}`, title: "", summary: "", kernel: "v0", thread: src, params: [], defaults: {},
    fixes: [{ id: "baseline", title: "", description: "", source: src, options: {} }],
    variants: [{ id: "default", title: "", description: "", options: {} }],
    setup() {
      const state: SeqState = { seq: SEQCNT_ZERO("seq"), a: new Cell("a", 0), b: new Cell("b", 0) };
      return {
        state,
        threads: [
          {
            name: "seq_writer",
            *body(t: Task, s: SeqState) {
              yield* write_seqcount_begin(t, s.seq, SW);
              yield* step(t, SW, {}, () => store(t, s.a, 1));
              yield* step(t, SW, {}, () => store(t, s.b, 1));
              yield* write_seqcount_end(t, s.seq, SW);
            },
          },
          {
            name: "seq_reader",
            *body(t: Task, s: SeqState) {
              const start = yield* read_seqcount_begin(t, s.seq, SR);
              const r1 = yield* step(t, SR, {}, () => load(t, s.b));
              const r0 = yield* step(t, SR, {}, () => load(t, s.a));
              if (retry && (yield* read_seqcount_retry(t, s.seq, start, SR))) return;
              if (r0 !== r1) t.report("invariant", `torn pair: a = ${r0}, b = ${r1}`);
            },
          },
        ],
      };
    },
    claims: [],
    leftOut: [],
  };
}

test("seqcount_t under rmo: the reader's retry (with its smp_rmb()) still catches every torn pair; without it the pair tears", () => {
  // (Not `none`: the unreduced search of these eleven steps and two store buffers passes its execution bound.)
  for (const reduction of REDUCTIONS.filter((r) => r !== "none")) {
    assert.equal(check(seqPair(true), { memoryModel: "rmo", reduction }).verdict, "pass", reduction);
    assert.equal(check(seqPair(false), { memoryModel: "rmo", reduction }).verdict, "fail", reduction);
  }
});
