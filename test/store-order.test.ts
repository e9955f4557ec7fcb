// A store that bypasses the store buffer (a relaxed atomic RMW, list_add()'s links, a Counter) is
// ordered after the thread's buffered stores as the hardware and smp_wmb() order it: under tso
// after every buffered store, under pso after those before the last smp_wmb(). Before, such a
// store became visible at once, ahead of a buffered WRITE_ONCE(): `WRITE_ONCE(data, 1); smp_wmb();
// atomic_inc(&ready)` failed under pso and `WRITE_ONCE(data, 1); list_add(...)` under tso (a
// new user's trial, 2026-12-01), bugs that neither x86 nor the barrier allows.
import { test } from "node:test";
import assert from "node:assert/strict";
import { check, replay } from "../src/engine/check.js";
import { Cell, load, smp_wmb, store, type MemoryModel } from "../src/engine/memory.js";
import type { Scenario, SourceRef } from "../src/engine/scenario.js";
import { sitesIn } from "../src/engine/site.js";
import type { Task } from "../src/engine/task.js";
import { ATOMIC_INIT, atomic_inc, atomic_read, Counter, type atomic_t } from "../src/linux/atomic.js";
import { LIST_HEAD_INIT, list_add, list_empty, type list_head } from "../src/linux/list.js";
import { REDUCTIONS } from "../src/engine/modes.js";

const src: SourceRef = { seed: "-", author: "-", date: "2026-01-01", subject: "-" };
const at = sitesIn("drivers/example/publish.c", "v6.12");
const W_DATA = at("writer", "WRITE_ONCE(dev->data, 1)");
const W_PUB = at("writer", "publish");
const R_TEST = at("reader", "test published");
const R_USE = at("reader", "READ_ONCE(dev->data)");

type Publisher = "atomic_inc" | "list_add" | "Counter.add";
interface State {
  data: Cell<number>;
  ready: atomic_t;
  head: list_head;
  node: list_head;
  counter: Counter;
}

/**
 * writer: WRITE_ONCE(data, 1); [smp_wmb();] <publish>; reader: if (<published>) BUG_ON(READ_ONCE(data) != 1).
 * The bug needs the publishing store to become visible before the store of data.
 */
function publish(how: Publisher, wmb: boolean, mm: MemoryModel): Scenario<State, object> {
  return {
    id: `publish-${how}`, title: "", summary: "", kernel: "v6.12", thread: src, params: [], defaults: {},
    fixes: [{ id: "baseline", title: "", description: "", source: src, options: {} }],
    variants: [{ id: "default", title: "", description: "", options: {}, memoryModel: mm }],
    setup() {
      const node = LIST_HEAD_INIT();
      const state: State = { data: new Cell("dev->data", 0), ready: ATOMIC_INIT("dev->ready"), head: LIST_HEAD_INIT(), node, counter: new Counter("dev->count") };
      return {
        state,
        threads: [
          {
            name: "writer",
            *body(t: Task, s: State) {
              yield W_DATA;
              store(t, s.data, 1);
              if (how === "atomic_inc") {
                if (wmb) {
                  yield W_PUB;
                  smp_wmb(t);
                }
                yield* atomic_inc(t, s.ready, W_PUB);
                return;
              }
              yield W_PUB;
              if (wmb) smp_wmb(t);
              if (how === "list_add") list_add(t, s.node, s.head);
              else s.counter.add(1);
            },
          },
          {
            name: "reader",
            *body(t: Task, s: State) {
              let published: boolean;
              if (how === "atomic_inc") published = (yield* atomic_read(t, s.ready, R_TEST)) !== 0;
              else {
                yield R_TEST;
                published = how === "list_add" ? !list_empty(t, s.head) : s.counter.read() !== 0;
              }
              if (!published) return;
              yield R_USE;
              const d = load(t, s.data);
              if (d !== 1) t.bug(`reader saw the publication but dev->data = ${d}`);
            },
          },
        ],
      };
    },
    view: (s) => ({ data: s.data.value }),
    claims: [],
    leftOut: [],
  };
}

const PUBLISHERS: Publisher[] = ["atomic_inc", "list_add", "Counter.add"];

for (const how of PUBLISHERS) {
  test(`${how} after WRITE_ONCE(): ordered by smp_wmb() under pso and by x86's store order under tso, under every reduction`, () => {
    for (const reduction of REDUCTIONS) {
      const verdict = (wmb: boolean, mm: MemoryModel) => check(publish(how, wmb, mm), { reduction }).verdict;
      const label = `${how}, ${reduction}`;
      // The barrier orders the two stores: the reader never sees the publication without the data.
      assert.equal(verdict(true, "pso"), "pass", `${label}: smp_wmb() under pso`);
      assert.equal(verdict(true, "tso"), "pass", `${label}: smp_wmb() under tso`);
      // x86 makes a CPU's stores visible in program order (atomic_inc is a locked instruction).
      assert.equal(verdict(false, "tso"), "pass", `${label}: no barrier under tso`);
      // Without the barrier pso lets the second store become visible first.
      assert.equal(verdict(false, "pso"), "fail", `${label}: no barrier under pso`);
      assert.equal(verdict(false, "sc"), "pass", `${label}: sc`);
    }
  });
}

test("the store a list_add() makes visible first is a note of its step", () => {
  const sc = publish("list_add", true, "tso");
  assert.equal(check(sc, { reduction: "none" }).verdict, "pass");
  // The writer runs both its steps before its store buffer flushes: the list_add() step makes
  // data = 1 visible itself, and says so.
  const { result } = replay(sc, { schedule: "0x2.1x2" });
  const notes = result.steps.flatMap((s) => s.notes ?? []);
  assert.ok(notes.some((n) => /dev->data = 1 becomes visible first/.test(n)), JSON.stringify(result.steps, null, 1));
  assert.equal(result.finding, null);
});

// spin_unlock() is a release store (queued_spin_unlock(): smp_store_release(), a plain MOV on x86):
// under tso and pso the critical section's stores may still be buffered when the thread's next
// load runs, so `spin_lock(); WRITE_ONCE(x, 1); spin_unlock(); r0 = READ_ONCE(y)` against
// `WRITE_ONCE(y, 1); smp_mb(); r1 = READ_ONCE(x)` can end with r0 = r1 = 0 (store buffering; the
// lost wake-up of `spin_unlock(); if (waitqueue_active())`). racelab passed it while unlocks were
// full barriers (a new user's trial). The lock still hands the critical section's stores on.
import { spin_lock, spin_unlock, Spinlock } from "../src/linux/locks.js";
import { smp_mb } from "../src/engine/memory.js";

test("store buffering across spin_unlock() under tso and pso, closed by smp_mb(); the lock still publishes its critical section", () => {
  for (const reduction of REDUCTIONS) {
    assert.equal(check(sbAcross("spin", false, "sc"), { reduction }).verdict, "pass", `sc ${reduction}`);
    for (const mm of ["tso", "pso"] as const) {
      const r = check(sbAcross("spin", false, mm), { reduction });
      assert.deepEqual(Object.keys(r.findings), ["bug: store buffering: r0 = r1 = 0"], `${mm} ${reduction}`);
      assert.equal(check(sbAcross("spin", true, mm), { reduction }).verdict, "pass", `${mm} smp_mb ${reduction}`);
      assert.equal(check(handoff("spin", mm), { reduction }).verdict, "pass", `${mm} counter ${reduction}`);
    }
  }
});

// mutex_unlock(), up_read(), up_write() and read_unlock() are release RMWs
// (atomic_long_try_cmpxchg_release() in __mutex_unlock_fast(), atomic_long_add_return_release() /
// atomic_long_fetch_add_release() in kernel/locking/rwsem.c, atomic_sub_return_release() in
// queued_read_unlock()): locked instructions on x86, full barriers there, but only releases on a
// weakly ordered CPU. So store buffering across them is found under pso and not under tso. racelab
// had made them full barriers under pso too and passed the lost wake-up of `mutex_unlock(); if
// (waitqueue_active(wq)) wake_up(wq);` (a new user's trial, 2026-12-01).
import { down_read, down_write, Mutex, mutex_lock, mutex_unlock, read_lock, read_unlock, RwSemaphore, rwlock_t, up_read, up_write, write_lock, write_unlock } from "../src/linux/locks.js";
import { embed } from "../src/linux/slab.js";

type Kind = "spin" | "mutex" | "embedded-mutex" | "rwsem-write" | "rwsem-read" | "read_lock" | "write_lock";
interface Locks { sl: Spinlock; m: Mutex; sem: RwSemaphore; rw: rwlock_t; box: { m: Mutex } }
const newLocks = (): Locks => {
  const box = { m: new Mutex("box->m") };
  box.m = embed(box.m, box);
  return { sl: new Spinlock("l"), m: new Mutex("m"), sem: new RwSemaphore("sem"), rw: new rwlock_t("rw"), box };
};
function* lockIt(t: Task, k: Kind, l: Locks, at: ReturnType<typeof sitesIn> extends (...a: never[]) => infer S ? S : never) {
  if (k === "spin") yield* spin_lock(t, l.sl, at);
  else if (k === "mutex") yield* mutex_lock(t, l.m, at);
  else if (k === "embedded-mutex") yield* mutex_lock(t, l.box.m, at);
  else if (k === "rwsem-write") yield* down_write(t, l.sem, at);
  else if (k === "rwsem-read") yield* down_read(t, l.sem, at);
  else if (k === "read_lock") yield* read_lock(t, l.rw, at);
  else yield* write_lock(t, l.rw, at);
}
function* unlockIt(t: Task, k: Kind, l: Locks, at: ReturnType<typeof sitesIn> extends (...a: never[]) => infer S ? S : never) {
  if (k === "spin") yield* spin_unlock(t, l.sl, at);
  else if (k === "mutex") yield* mutex_unlock(t, l.m, at);
  else if (k === "embedded-mutex") yield* mutex_unlock(t, l.box.m, at);
  else if (k === "rwsem-write") yield* up_write(t, l.sem, at);
  else if (k === "rwsem-read") yield* up_read(t, l.sem, at);
  else if (k === "read_lock") yield* read_unlock(t, l.rw, at);
  else yield* write_unlock(t, l.rw, at);
}

/** cpu0: lock; WRITE_ONCE(x, 1); unlock; [smp_mb();] r0 = READ_ONCE(y) | cpu1: WRITE_ONCE(y, 1); smp_mb(); r1 = READ_ONCE(x) | (embedded mutex) cpu2: lock; unlock, a waiter for the slowpath's wake-up step. */
function sbAcross(k: Kind, mb: boolean, mm: MemoryModel): Scenario<{ x: Cell<number>; y: Cell<number>; l: Locks; r: number[] }, object> {
  const S = at("cpu", "step");
  type St = { x: Cell<number>; y: Cell<number>; l: Locks; r: number[] };
  return {
    id: `sb-across-${k}`, title: "", summary: "", kernel: "v6.12", thread: src, params: [], defaults: {},
    fixes: [{ id: "baseline", title: "", description: "", source: src, options: {} }],
    variants: [{ id: "default", title: "", description: "", options: {}, memoryModel: mm }],
    setup() {
      const state: St = { x: new Cell("x", 0), y: new Cell("y", 0), l: newLocks(), r: [-1, -1] };
      const threads = [
        {
          name: "cpu0",
          *body(t: Task, s: St) {
            yield* lockIt(t, k, s.l, S);
            yield S;
            store(t, s.x, 1);
            yield* unlockIt(t, k, s.l, S);
            if (mb) yield* smp_mb(t, S);
            yield S;
            s.r[0] = load(t, s.y);
          },
        },
        {
          name: "cpu1",
          *body(t: Task, s: St) {
            yield S;
            store(t, s.y, 1);
            yield* smp_mb(t, S);
            yield S;
            s.r[1] = load(t, s.x);
          },
        },
      ];
      if (k === "embedded-mutex")
        threads.push({
          name: "cpu2",
          *body(t: Task, s: St) {
            yield* lockIt(t, k, s.l, S);
            yield* unlockIt(t, k, s.l, S);
          },
        });
      return { state, threads };
    },
    view: (s) => ({ r0: s.r[0]!, r1: s.r[1]! }),
    endChecks: [{ name: "sb", check: (s, r) => (s.r[0] === 0 && s.r[1] === 0 ? r.report("bug", "store buffering: r0 = r1 = 0") : undefined) }],
    claims: [],
    leftOut: [],
  } as Scenario<St, object>;
}

/**
 * The lock hands its critical section on: `a` stores x in its section, `b` takes the lock after
 * it (exclusively, or for write after a read section) and must read x = 1; with an exclusive lock
 * both increment a counter and none is lost.
 */
function handoff(k: Kind, mm: MemoryModel): Scenario<{ x: Cell<number>; aIn: number; l: Locks }, object> {
  const S = at("handoff", "step");
  type St = { x: Cell<number>; aIn: number; l: Locks };
  const shared = k === "rwsem-read" || k === "read_lock";
  const writeKind: Kind = k === "rwsem-read" ? "rwsem-write" : k === "read_lock" ? "write_lock" : k;
  return {
    id: `handoff-${k}`, title: "", summary: "", kernel: "v6.12", thread: src, params: [], defaults: {},
    fixes: [{ id: "baseline", title: "", description: "", source: src, options: {} }],
    variants: [{ id: "default", title: "", description: "", options: {}, memoryModel: mm }],
    setup() {
      const state: St = { x: new Cell("x", 0), aIn: 0, l: newLocks() };
      const inc = (first: boolean) =>
        function* (t: Task, s: St) {
          yield* lockIt(t, first ? k : writeKind, s.l, S);
          yield S;
          const v = load(t, s.x);
          if (!first && shared && s.aIn === 1 && v !== 1) t.bug(`x = ${v} after the read section that stored it`);
          yield S;
          if (first) s.aIn = 1;
          if (first || !shared) store(t, s.x, v + 1);
          yield* unlockIt(t, first ? k : writeKind, s.l, S);
        };
      return { state, threads: [{ name: "a", body: inc(true) }, { name: "b", body: inc(false) }] };
    },
    view: (s) => ({ x: s.x.peek() }),
    endChecks: shared ? [] : [{ name: "no lost update", check: (s, r) => (s.x.peek() !== 2 ? r.report("invariant", `lost update: x = ${s.x.peek()}`) : undefined) }],
    claims: [],
    leftOut: [],
  } as Scenario<St, object>;
}

test("store buffering across mutex_unlock(), up_read(), up_write() and read_unlock() under pso (release RMWs), not under tso (locked RMWs); smp_mb() closes it; the locks still hand their critical sections on", () => {
  const kinds: Kind[] = ["mutex", "embedded-mutex", "rwsem-write", "rwsem-read", "read_lock", "write_lock"];
  for (const reduction of REDUCTIONS)
    for (const k of kinds) {
      const why = `${k} ${reduction}`;
      assert.equal(check(sbAcross(k, false, "sc"), { reduction }).verdict, "pass", `sc ${why}`);
      // write_unlock() is a plain release store (queued_write_unlock()): buffered under tso too.
      assert.equal(check(sbAcross(k, false, "tso"), { reduction }).verdict, k === "write_lock" ? "fail" : "pass", `tso ${why}`);
      const pso = check(sbAcross(k, false, "pso"), { reduction });
      assert.deepEqual(Object.keys(pso.findings), ["bug: store buffering: r0 = r1 = 0"], `pso ${why}`);
      assert.equal(pso.complete, true, `pso ${why}`);
      assert.equal(check(sbAcross(k, true, "pso"), { reduction }).verdict, "pass", `pso smp_mb ${why}`);
      for (const mm of ["sc", "tso", "pso"] as const) {
        const h = check(handoff(k, mm), { reduction });
        assert.equal(h.verdict, "pass", `${mm} handoff ${why}: ${JSON.stringify(h.findings)}`);
      }
    }
});

// A lock acquire is an ACQUIRE, not a full barrier, on a weakly ordered CPU (LKMM; spinlock.h:
// smp_mb__after_spinlock() exists to "guarantee a STORE before the spin_lock() is ordered against
// a LOAD after it"): a store before the lock may stay buffered past the whole critical section,
// so `WRITE_ONCE(x, 1); lock; unlock; r0 = READ_ONCE(y)` against `WRITE_ONCE(y, 1); smp_mb(); r1 =
// READ_ONCE(x)` can end with r0 = r1 = 0 under pso and rmo (memory-barriers.txt: "an ACQUIRE
// followed by a RELEASE [is not] a full barrier"). x86's locked instructions forbid it (tso).
// racelab made every acquire a full barrier and passed it (new-user trial 10, 2026-12-01).
import { smp_mb__after_spinlock } from "../src/linux/shared.js";
import { mutex_trylock, spin_trylock } from "../src/linux/locks.js";

type BeforeKind = Kind | "spin_trylock" | "mutex_trylock";
/** cpu0: WRITE_ONCE(x, 1); lock; [smp_mb__after_spinlock();] unlock; r0 = READ_ONCE(y) | cpu1: WRITE_ONCE(y, 1); smp_mb(); r1 = READ_ONCE(x). */
function sbBefore(k: BeforeKind, mbAfterLock: boolean, mm: MemoryModel): Scenario<{ x: Cell<number>; y: Cell<number>; l: Locks; r: number[] }, object> {
  const S = at("cpu", "step");
  type St = { x: Cell<number>; y: Cell<number>; l: Locks; r: number[] };
  return {
    id: `sb-before-${k}`, title: "", summary: "", kernel: "v6.12", thread: src, params: [], defaults: {},
    fixes: [{ id: "baseline", title: "", description: "", source: src, options: {} }],
    variants: [{ id: "default", title: "", description: "", options: {}, memoryModel: mm }],
    setup() {
      const state: St = { x: new Cell("x", 0), y: new Cell("y", 0), l: newLocks(), r: [-1, -1] };
      return {
        state,
        threads: [
          {
            name: "cpu0",
            *body(t: Task, s: St) {
              yield S;
              store(t, s.x, 1);
              let took = true;
              if (k === "spin_trylock") took = yield* spin_trylock(t, s.l.sl, S);
              else if (k === "mutex_trylock") took = yield* mutex_trylock(t, s.l.m, S);
              else yield* lockIt(t, k, s.l, S);
              if (mbAfterLock) yield* smp_mb__after_spinlock(t, S);
              if (took) {
                if (k === "spin_trylock") yield* spin_unlock(t, s.l.sl, S);
                else if (k === "mutex_trylock") yield* mutex_unlock(t, s.l.m, S);
                else yield* unlockIt(t, k, s.l, S);
              }
              yield S;
              s.r[0] = load(t, s.y);
            },
          },
          {
            name: "cpu1",
            *body(t: Task, s: St) {
              yield S;
              store(t, s.y, 1);
              yield* smp_mb(t, S);
              yield S;
              s.r[1] = load(t, s.x);
            },
          },
        ],
      };
    },
    view: (s) => ({ r0: s.r[0]!, r1: s.r[1]! }),
    endChecks: [{ name: "sb", check: (s, r) => (s.r[0] === 0 && s.r[1] === 0 ? r.report("bug", "store buffering: r0 = r1 = 0") : undefined) }],
    claims: [],
    leftOut: [],
  } as Scenario<St, object>;
}

/**
 * The release still publishes what came before the acquire: `a` stores x, then takes and drops
 * the lock; `b` takes the lock and, when `a` had been in it first, must read x = 1 (x's store is
 * ordered before a's release, which b's acquire reads from).
 */
function beforeHandoff(k: Kind, mm: MemoryModel): Scenario<{ x: Cell<number>; aDone: boolean; l: Locks }, object> {
  const S = at("handoff", "step");
  type St = { x: Cell<number>; aDone: boolean; l: Locks };
  const writeKind: Kind = k === "rwsem-read" ? "rwsem-write" : k === "read_lock" ? "write_lock" : k;
  return {
    id: `before-handoff-${k}`, title: "", summary: "", kernel: "v6.12", thread: src, params: [], defaults: {},
    fixes: [{ id: "baseline", title: "", description: "", source: src, options: {} }],
    variants: [{ id: "default", title: "", description: "", options: {}, memoryModel: mm }],
    setup() {
      const state: St = { x: new Cell("x", 0), aDone: false, l: newLocks() };
      return {
        state,
        threads: [
          {
            name: "a",
            *body(t: Task, s: St) {
              yield S;
              store(t, s.x, 1);
              yield* lockIt(t, k, s.l, S);
              yield S;
              s.aDone = true;
              yield* unlockIt(t, k, s.l, S);
            },
          },
          {
            name: "b",
            *body(t: Task, s: St) {
              yield* lockIt(t, writeKind, s.l, S);
              yield S;
              const v = load(t, s.x);
              if (s.aDone && v !== 1) t.bug(`x = ${v} after a's critical section`);
              yield* unlockIt(t, writeKind, s.l, S);
            },
          },
        ],
      };
    },
    view: (s) => ({ x: s.x.peek() }),
    claims: [],
    leftOut: [],
  } as Scenario<St, object>;
}

test("a store before a lock acquire is not ordered before the critical section's loads under pso and rmo (an ACQUIRE; trylocks stay full barriers), under tso it is (locked RMW); smp_mb__after_spinlock() orders it; the release still publishes it", () => {
  const kinds: BeforeKind[] = ["spin", "mutex", "embedded-mutex", "rwsem-write", "rwsem-read", "read_lock", "write_lock", "spin_trylock", "mutex_trylock"];
  for (const reduction of REDUCTIONS)
    for (const k of kinds) {
      const why = `${k} ${reduction}`;
      assert.equal(check(sbBefore(k, false, "sc"), { reduction }).verdict, "pass", `sc ${why}`);
      // (write_unlock() is a plain release store, buffered under tso too, but the locked
      // write_lock() before it drains x: x86 orders the store before the loads.)
      assert.equal(check(sbBefore(k, false, "tso"), { reduction }).verdict, "pass", `tso ${why}`);
      for (const mm of ["pso", "rmo"] as const) {
        const r = check(sbBefore(k, false, mm), { reduction });
        // Trylocks stay full barriers (locks.ts, acquireFences(): stronger than LKMM, documented).
        const trylock = k === "spin_trylock" || k === "mutex_trylock";
        assert.deepEqual(Object.keys(r.findings), trylock ? [] : ["bug: store buffering: r0 = r1 = 0"], `${mm} ${why}`);
        assert.equal(r.complete, true, `${mm} ${why}`);
        assert.equal(check(sbBefore(k, true, mm), { reduction }).verdict, "pass", `${mm} smp_mb__after_spinlock ${why}`);
        if (trylock) continue;
        const h = check(beforeHandoff(k, mm), { reduction });
        assert.equal(h.verdict, "pass", `${mm} release publishes the store before the acquire, ${why}: ${JSON.stringify(h.findings)}`);
        const c = check(handoff(k, mm), { reduction });
        assert.equal(c.verdict, "pass", `${mm} handoff ${why}: ${JSON.stringify(c.findings)}`);
      }
    }
});

test("a thread that takes a lock again while its own release of it is still buffered takes it (no false recursion report) under pso and rmo", () => {
  for (const k of ["spin", "mutex", "rwsem-read", "read_lock", "write_lock"] as Kind[])
    for (const mm of ["pso", "rmo"] as const) {
      const S = at("again", "step");
      const sc = {
        id: `again-${k}`, title: "", summary: "", kernel: "v6.12", thread: src, params: [], defaults: {},
        fixes: [{ id: "baseline", title: "", description: "", source: src, options: {} }],
        variants: [{ id: "default", title: "", description: "", options: {}, memoryModel: mm }],
        setup() {
          const state = { x: new Cell("x", 0), l: newLocks() };
          return {
            state,
            threads: [
              {
                name: "cpu0",
                *body(t: Task, s: typeof state) {
                  for (let i = 0; i < 2; i++) {
                    yield* lockIt(t, k, s.l, S);
                    yield S;
                    store(t, s.x, load(t, s.x) + 1);
                    yield* unlockIt(t, k, s.l, S);
                  }
                },
              },
            ],
          };
        },
        view: (s: { x: Cell<number> }) => ({ x: s.x.peek() }),
        claims: [],
        leftOut: [],
      } as unknown as Scenario<object, object>;
      const r = check(sc, { reduction: "none" });
      assert.equal(r.verdict, "pass", `${k} ${mm}: ${JSON.stringify(r.findings)}`);
    }
});
