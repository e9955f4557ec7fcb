/**
 * The kernel-primitives library (src/linux/): tiny scenarios explored exhaustively, asserting the
 * findings every interleaving can reach. Each scenario is also explored without the sleep-set
 * reduction, and both must reach the same set of findings.
 */
import { describeState } from "../src/engine/define.js";
import { test } from "node:test";
import assert from "node:assert/strict";
import { check } from "../src/engine/check.js";
import { runStrategy } from "../src/engine/runner.js";
import { ReplayStrategy, SleepSetSearch, UnreducedSearch } from "../src/engine/strategies/index.js";
import { findingKey } from "../src/engine/finding.js";
import type { MemoryModel } from "../src/engine/memory.js";
import { resolveConfig, type Scenario } from "../src/engine/scenario.js";
import { sitesIn, type Site } from "../src/engine/site.js";
import { step, type Task, type Waitable } from "../src/engine/task.js";
import {
  add_wait_queue,
  ATOMIC_INIT,
  atomic_inc,
  atomic_read,
  bit_spin_lock,
  bit_spin_unlock,
  call_rcu,
  Cell,
  clear_and_wake_up_bit,
  clear_bit,
  clear_bit_unlock,
  complete,
  complete_all,
  DECLARE_BITMAP,
  DECLARE_COMPLETION,
  DECLARE_WAITQUEUE,
  DECLARE_RWSEM,
  DECLARE_WAIT_QUEUE_HEAD,
  DEFINE_MUTEX,
  DEFINE_RWLOCK,
  DEFINE_SEQLOCK,
  DEFINE_SPINLOCK,
  DEFINE_WAIT,
  embed,
  down_read,
  finish_wait,
  GFP_ATOMIC,
  GFP_KERNEL,
  INIT_LIST_HEAD,
  irqs_disabled,
  kfree,
  kfree_rcu,
  kmalloc,
  kref,
  kref_get,
  KREF_INIT,
  kref_get_unless_zero,
  kref_put,
  LIST_HEAD_INIT,
  list_add_tail,
  list_del,
  list_empty,
  list_first_entry,
  list_for_each_entry,
  load,
  local_irq_restore,
  local_irq_save,
  mutex_lock,
  mutex_trylock,
  mutex_unlock,
  peek_task_state,
  prepare_to_wait,
  prepare_to_wait_exclusive,
  rcu_assign_pointer,
  rcu_callback_thread,
  rcu_dereference,
  rcu_dereference_check,
  rcu_read_lock,
  rcu_read_unlock,
  read_lock,
  read_seqbegin,
  read_seqretry,
  read_unlock,
  refcount_dec_and_test,
  refcount_inc,
  refcount_inc_not_zero,
  REFCOUNT_INIT,
  schedule,
  set_bit,
  set_current_state,
  smp_mb,
  smp_mb__after_atomic,
  spin_lock,
  spin_lock_irqsave,
  spin_trylock,
  spin_unlock,
  spin_unlock_irqrestore,
  store,
  synchronize_rcu,
  TASK_RUNNING,
  TASK_UNINTERRUPTIBLE,
  test_and_set_bit_lock,
  try_wait_for_completion,
  up_read,
  wait_event,
  wait_for_completion,
  wait_for_completion_timeout,
  wait_on_bit,
  waitqueue_active,
  wq_has_sleeper,
  remove_wait_queue,
  task_state,
  wake_up,
  wake_up_bit,
  wake_up_process,
  write_lock,
  write_seqlock,
  write_sequnlock,
  write_unlock,
  xchg,
  __set_bit,
  __set_current_state,
  type list_head,
} from "../src/linux/index.js";

const at = sitesIn("test/linux-primitives.c", "v6.12");
const src = { seed: "test", author: "test", date: "2024-01-01", subject: "test" };

type Body<S> = (t: Task, s: S) => Generator<Site, void, undefined>;

/** A one-fix, one-variant scenario from a state, its threads and an optional end check. */
function scenario<S>(
  id: string,
  build: () => { state: S; threads: { name: string; body: Body<S> }[] },
  end?: (s: S, report: (message: string) => void) => void,
): Scenario<S, object> {
  return {
    id,
    title: id,
    summary: "",
    kernel: "v6.12",
    thread: src,
    params: [],
    defaults: {},
    fixes: [{ id: "baseline", title: "", description: "", source: src, options: {} }],
    variants: [{ id: "default", title: "", description: "", options: {} }],
    setup: () => build(),
    endChecks: end === undefined ? [] : [{ name: "end", check: (s, r) => end(s, (m) => r.report("invariant", m)) }],
    view: () => ({}),
    claims: [],
    leftOut: [],
  };
}

/** Every finding key exhaustive search reaches, with and without the sleep-set reduction (which must agree). */
function explore<S>(sc: Scenario<S, object>, memoryModel: MemoryModel = "sc"): { keys: string[]; executions: number; clean: number } {
  const cfg = resolveConfig(sc, "baseline", "default", {}, memoryModel);
  const run = (sleepSets: boolean) => {
    const keys = new Set<string>();
    let clean = 0;
    const stats = runStrategy(sc, cfg, sleepSets ? new SleepSetSearch() : new UnreducedSearch(), {}, (v) => {
      if (v.exec.findings.length === 0) clean++;
      for (const f of v.exec.findings) keys.add(findingKey(f));
    });
    assert.equal(stats.complete, true, `${sc.id}: search incomplete`);
    return { keys: [...keys].sort(), executions: stats.executions, clean };
  };
  const reduced = run(true);
  const naive = run(false);
  assert.deepEqual(reduced.keys, naive.keys, `${sc.id} (${memoryModel}): sleep sets and unreduced search reach different findings`);
  assert.ok(reduced.executions <= naive.executions);
  assert.equal(reduced.clean > 0, naive.clean > 0, `${sc.id}: one search has clean executions, the other not`);
  // check()'s own cross-check: executions sampled without the reduction end only in outcomes
  // (findings and final state) the reduced search reached, so no primitive hides an access.
  const r = check(sc, { memoryModel });
  assert.equal(r.crossCheck?.mismatches ?? 0, 0, `${sc.id} (${memoryModel}): ${r.warnings.join(" ")}`);
  assert.deepEqual(Object.keys(r.findings).sort(), reduced.keys);
  return reduced;
}

// ---- spinlock_t ---------------------------------------------------------------------------------

const LOAD = at("inc", "x = s->x");
const STORE = at("inc", "s->x = x + 1");
const LOCK = at("inc", "spin_lock(&s->lock)");
const UNLOCK = at("inc", "spin_unlock(&s->lock)");

interface IncState {
  x: number;
  lock: ReturnType<typeof DEFINE_SPINLOCK>;
}
const spinInc = (locked: boolean) =>
  scenario<IncState>(
    `spin-inc-${locked}`,
    () => ({
      state: { x: 0, lock: DEFINE_SPINLOCK("lock") },
      threads: ["A", "B"].map((name) => ({
        name,
        *body(t: Task, s: IncState) {
          if (locked) yield* spin_lock(t, s.lock, LOCK);
          yield LOAD;
          const x = s.x;
          yield STORE;
          s.x = x + 1;
          if (locked) yield* spin_unlock(t, s.lock, UNLOCK);
        },
      })),
    }),
    (s, r) => {
      if (s.x !== 2) r(`lost update: x=${s.x}`);
    },
  );

test("spinlock: mutual exclusion holds; without the lock an update is lost", () => {
  assert.deepEqual(explore(spinInc(true)).keys, []);
  assert.deepEqual(explore(spinInc(false)).keys, ["invariant: lost update: x=1"]);
  // The lock orders the critical sections: two executions, each one trace.
  const r = check(spinInc(true), { countNaive: true });
  assert.equal(r.verdict, "pass");
  assert.equal(r.naiveExecutions, 2);
});

test("spinlock misuse: unlock by a non-owner, recursion; spin_trylock", () => {
  const L = at("misuse", "spin_lock(&l)");
  const U = at("misuse", "spin_unlock(&l)");
  const nonOwner = scenario(
    "spin-non-owner",
    () => ({
      state: { l: DEFINE_SPINLOCK("l") },
      threads: [
        { name: "A", *body(t: Task, s: { l: ReturnType<typeof DEFINE_SPINLOCK> }) { yield* spin_lock(t, s.l, L); } },
        { name: "B", *body(t: Task, s: { l: ReturnType<typeof DEFINE_SPINLOCK> }) { yield* spin_unlock(t, s.l, U); } },
      ],
    }),
  );
  assert.deepEqual(explore(nonOwner).keys, [
    "bug: BUG: spinlock already unlocked on B: lock: l, .owner: <none>",
    "bug: BUG: spinlock wrong owner on B: lock: l, .owner: A",
  ]);
  const recursion = scenario("spin-recursion", () => ({
    state: { l: DEFINE_SPINLOCK("l") },
    threads: [{ name: "A", *body(t: Task, s: { l: ReturnType<typeof DEFINE_SPINLOCK> }) { yield* spin_lock(t, s.l, L); yield* spin_lock(t, s.l, L); } }],
  }));
  // DEBUG_SPINLOCK reports the recursion; then the CPU spins on the lock forever.
  assert.deepEqual(explore(recursion).keys, [
    "bug: BUG: spinlock recursion on A: lock: l, .owner: A",
    "deadlock: A waits for l (already held by A itself) at misuse() (spin_lock(&l))",
  ]);
  // spin_trylock: exactly one of two trylocks wins while the other holds it; both win one after the other.
  const T = at("try", "spin_trylock(&l)");
  const trylock = scenario<{ l: ReturnType<typeof DEFINE_SPINLOCK>; won: number }>(
    "spin-trylock",
    () => ({
      state: { l: DEFINE_SPINLOCK("l"), won: 0 },
      threads: ["A", "B"].map((name) => ({
        name,
        *body(t: Task, s: { l: ReturnType<typeof DEFINE_SPINLOCK>; won: number }) {
          if (yield* spin_trylock(t, s.l, T)) {
            yield T;
            s.won++;
            yield* spin_unlock(t, s.l, U);
          }
        },
      })),
    }),
    (s, r) => r(`won=${s.won}`),
  );
  assert.deepEqual(explore(trylock).keys, ["invariant: won=1", "invariant: won=2"]);
});

test("spin_lock_irqsave: flags nest and restore; sleeping with interrupts off is a finding", () => {
  const A = at("irq", "spin_lock_irqsave(&a, flags)");
  const B = at("irq", "spin_lock_irqsave(&b, flags2)");
  const UA = at("irq", "spin_unlock_irqrestore(&a, flags)");
  const UB = at("irq", "spin_unlock_irqrestore(&b, flags2)");
  const M = at("irq", "mutex_lock(&m)");
  interface S {
    a: ReturnType<typeof DEFINE_SPINLOCK>;
    b: ReturnType<typeof DEFINE_SPINLOCK>;
    m: ReturnType<typeof DEFINE_MUTEX>;
  }
  const mk = (forgetRestore: boolean) =>
    scenario<S>(`irqsave-${forgetRestore}`, () => ({
      state: { a: DEFINE_SPINLOCK("a"), b: DEFINE_SPINLOCK("b"), m: DEFINE_MUTEX("m") },
      threads: ["T0", "T1"].map((name) => ({
        name,
        *body(t: Task, s: S) {
          const flags = yield* spin_lock_irqsave(t, s.a, A);
          if (!irqs_disabled(t)) t.violated("irqs on inside spin_lock_irqsave");
          const flags2 = yield* spin_lock_irqsave(t, s.b, B);
          yield* spin_unlock_irqrestore(t, s.b, flags2, UB);
          if (!irqs_disabled(t)) t.violated("inner restore turned irqs on");
          if (forgetRestore) yield* spin_unlock(t, s.a, UA);
          else yield* spin_unlock_irqrestore(t, s.a, flags, UA);
          yield* mutex_lock(t, s.m, M);
          yield* mutex_unlock(t, s.m, M);
        },
      })),
    }));
  assert.deepEqual(explore(mk(false)).keys, []);
  assert.deepEqual(explore(mk(true)).keys, ["sleep-in-atomic: irq() may sleep while holding irqs disabled"]);
  // local_irq_restore() with interrupts on is CONFIG_DEBUG_IRQFLAGS's warning.
  const R = at("irq", "local_irq_restore(flags)");
  const bogus = scenario("irq-restore", () => ({
    state: {},
    threads: [{ name: "T0", *body(t: Task) { yield* local_irq_restore(t, 0, R); } }],
  }));
  assert.deepEqual(explore(bogus).keys, ["warning: raw_local_irq_restore() called with IRQs enabled"]);
});

// ---- mutex, rw_semaphore, rwlock_t --------------------------------------------------------------

test("mutex and rw_semaphore misuse: lockdep's recursive locking and bad unlock balance", () => {
  const L = at("m", "mutex_lock(&m)");
  const U = at("m", "mutex_unlock(&m)");
  type M = { m: ReturnType<typeof DEFINE_MUTEX> };
  const aa = scenario<M>("mutex-aa", () => ({
    state: { m: DEFINE_MUTEX("m") },
    threads: [{ name: "A", *body(t, s) { yield* mutex_lock(t, s.m, L); yield* mutex_lock(t, s.m, L); } }],
  }));
  assert.deepEqual(explore(aa).keys, [
    "bug: lockdep: possible recursive locking detected: A is trying to acquire lock (m) but task is already holding lock (m)",
    "deadlock: A waits for m (already held by A itself) at m() (mutex_lock(&m))",
  ]);
  const unbalanced = scenario<M>("mutex-unbalanced", () => ({
    state: { m: DEFINE_MUTEX("m") },
    threads: [
      { name: "A", *body(t, s) { yield* mutex_lock(t, s.m, L); } },
      { name: "B", *body(t, s) { yield* mutex_unlock(t, s.m, U); } },
    ],
  }));
  assert.deepEqual(explore(unbalanced).keys, [
    "bug: lockdep: bad unlock balance detected! B is trying to release lock (m) but there are no more locks to release!",
  ]);
  // mutex_trylock never sleeps and fails while another thread holds the mutex.
  const tl = scenario<M & { got: boolean[] }>(
    "mutex-trylock",
    () => ({
      state: { m: DEFINE_MUTEX("m"), got: [false, false] },
      threads: [0, 1].map((i) => ({
        name: `T${i}`,
        *body(t: Task, s: M & { got: boolean[] }) {
          const ok = yield* mutex_trylock(t, s.m, L);
          yield U;
          s.got[i] = ok;
          if (ok) yield* mutex_unlock(t, s.m, U);
        },
      })),
    }),
    (s, r) => r(s.got.join(",")),
  );
  assert.deepEqual(explore(tl).keys, ["invariant: false,true", "invariant: true,false", "invariant: true,true"]);
  const RD = at("rw", "down_read(&sem)");
  const UR = at("rw", "up_read(&sem)");
  type Sem = { sem: ReturnType<typeof DECLARE_RWSEM> };
  const rr = scenario<Sem>("rwsem-rr", () => ({
    state: { sem: DECLARE_RWSEM("sem") },
    threads: [{ name: "A", *body(t, s) { yield* down_read(t, s.sem, RD); yield* down_read(t, s.sem, RD); yield* up_read(t, s.sem, UR); yield* up_read(t, s.sem, UR); } }],
  }));
  assert.deepEqual(explore(rr).keys, [
    "warning: lockdep: possible recursive locking detected: A is trying to acquire lock (sem) but task is already holding lock (sem)",
  ]);
  const upNotHeld = scenario<Sem>("rwsem-up", () => ({
    state: { sem: DECLARE_RWSEM("sem") },
    threads: [{ name: "A", *body(t, s) { yield* up_read(t, s.sem, UR); } }],
  }));
  assert.deepEqual(explore(upNotHeld).keys, [
    "bug: lockdep: bad unlock balance detected! A is trying to release lock (sem) but there are no more locks to release!",
  ]);
});

test("rwlock_t: readers share, a writer excludes them; readers see consistent pairs", () => {
  const RL = at("reader", "read_lock(&lock)");
  const RU = at("reader", "read_unlock(&lock)");
  const RA = at("reader", "a = s->a");
  const RB = at("reader", "b = s->b");
  const WL = at("writer", "write_lock(&lock)");
  const WA = at("writer", "s->a = 1");
  const WB = at("writer", "s->b = 1");
  const WU = at("writer", "write_unlock(&lock)");
  interface S {
    lock: ReturnType<typeof DEFINE_RWLOCK>;
    a: number;
    b: number;
    inside: number;
    most: number;
  }
  const sc = (readersLock: boolean) =>
    scenario<S>(
      `rwlock-${readersLock}`,
      () => ({
        state: { lock: DEFINE_RWLOCK("lock"), a: 0, b: 0, inside: 0, most: 0 },
        threads: [
          ...["R0", "R1"].map((name) => ({
            name,
            *body(t: Task, s: S) {
              if (readersLock) yield* read_lock(t, s.lock, RL);
              yield RA;
              const a = s.a;
              s.most = Math.max(s.most, ++s.inside);
              yield RB;
              const b = s.b;
              s.inside--;
              if (a !== b) t.violated(`torn pair (${a},${b})`);
              if (readersLock) yield* read_unlock(t, s.lock, RU);
            },
          })),
          {
            name: "W",
            *body(t: Task, s: S) {
              yield* write_lock(t, s.lock, WL);
              yield WA;
              s.a = 1;
              yield WB;
              s.b = 1;
              yield* write_unlock(t, s.lock, WU);
            },
          },
        ],
      }),
      (s, r) => {
        if (s.most === 2) r("two readers inside at once");
      },
    );
  assert.deepEqual(explore(sc(true)).keys, ["invariant: two readers inside at once"]);
  assert.deepEqual(explore(sc(false)).keys, [
    "invariant: torn pair (0,1)",
    "invariant: torn pair (1,0)",
    "invariant: two readers inside at once",
  ]);
  // A recursive write_lock is DEBUG_SPINLOCK's rwlock recursion.
  const rec = scenario<S>("rwlock-rec", () => ({
    state: { lock: DEFINE_RWLOCK("lock"), a: 0, b: 0, inside: 0, most: 0 },
    threads: [{ name: "W", *body(t, s) { yield* write_lock(t, s.lock, WL); yield* read_lock(t, s.lock, RL); } }],
  }));
  assert.deepEqual(explore(rec).keys, [
    "bug: BUG: rwlock recursion on W: lock: lock, .owner: W",
    "deadlock: W waits for lock (already held by W itself) at reader() (read_lock(&lock))",
  ]);
  const wrong = scenario<S>("rwlock-wrong", () => ({
    state: { lock: DEFINE_RWLOCK("lock"), a: 0, b: 0, inside: 0, most: 0 },
    threads: [{ name: "W", *body(t, s) { yield* read_lock(t, s.lock, RL); yield* write_unlock(t, s.lock, WU); } }],
  }));
  assert.deepEqual(explore(wrong).keys, ["bug: BUG: rwlock wrong owner on W: lock: lock, .owner: <none>"]);
});

// ---- seqlock_t ----------------------------------------------------------------------------------

test("seqlock: readers retry and always keep a consistent pair (sc and pso); without the retry a pair tears", () => {
  const BEGIN = at("reader", "seq = read_seqbegin(&sl)");
  const RA = at("reader", "a = READ_ONCE(s->a)");
  const RB = at("reader", "b = READ_ONCE(s->b)");
  const RETRY = at("reader", "read_seqretry(&sl, seq)");
  const WL = at("writer", "write_seqlock(&sl)");
  const WA = at("writer", "WRITE_ONCE(s->a, 1)");
  const WB = at("writer", "WRITE_ONCE(s->b, 1)");
  const WU = at("writer", "write_sequnlock(&sl)");
  interface S {
    sl: ReturnType<typeof DEFINE_SEQLOCK>;
    a: Cell<number>;
    b: Cell<number>;
    seen: string[];
  }
  const sc = (retry: boolean) =>
    scenario<S>(
      `seqlock-${retry}`,
      () => ({
        state: { sl: DEFINE_SEQLOCK("sl"), a: new Cell("a", 0), b: new Cell("b", 0), seen: [] },
        threads: [
          {
            name: "reader",
            *body(t: Task, s: S) {
              let tries = 0;
              let a: number;
              let b: number;
              let seq: number;
              do {
                tries++;
                seq = yield* read_seqbegin(t, s.sl, BEGIN);
                yield RA;
                a = load(t, s.a);
                yield RB;
                b = load(t, s.b);
              } while (retry && (yield* read_seqretry(t, s.sl, seq, RETRY)));
              yield RETRY;
              s.seen.push(`(${a},${b}) after ${tries} tr${tries === 1 ? "y" : "ies"}`);
            },
          },
          {
            name: "writer",
            *body(t: Task, s: S) {
              yield* write_seqlock(t, s.sl, WL);
              yield WA;
              store(t, s.a, 1);
              yield WB;
              store(t, s.b, 1);
              yield* write_sequnlock(t, s.sl, WU);
            },
          },
        ],
      }),
      (s, r) => r(s.seen.join(" ")),
    );
  for (const mm of ["sc", "pso"] as const) {
    assert.deepEqual(explore(sc(true), mm).keys, [
      "invariant: (0,0) after 1 try",
      "invariant: (1,1) after 1 try",
      "invariant: (1,1) after 2 tries",
    ], mm);
  }
  assert.ok(explore(sc(false)).keys.includes("invariant: (0,1) after 1 try"));
});

// ---- sleeping and waking ------------------------------------------------------------------------

test("lost wake-up: testing the condition before set_current_state() loses it; testing after does not", () => {
  const COND = at("sleeper", "if (!s->cond)");
  const SET = at("sleeper", "set_current_state(TASK_UNINTERRUPTIBLE)");
  const SCHED = at("sleeper", "schedule()");
  const RUN = at("sleeper", "__set_current_state(TASK_RUNNING)");
  const WCOND = at("waker", "s->cond = 1");
  const WAKE = at("waker", "wake_up_process(s->sleeper)");
  interface S {
    cond: number;
    sleeper: Task | null;
  }
  const sc = (right: boolean) =>
    scenario<S>(`lost-wakeup-${right}`, () => ({
      state: { cond: 0, sleeper: null },
      threads: [
        {
          name: "sleeper",
          *body(t: Task, s: S) {
            yield COND;
            s.sleeper = t;
            if (right) {
              for (;;) {
                yield* set_current_state(t, TASK_UNINTERRUPTIBLE, SET);
                yield COND;
                if (s.cond) break;
                yield* schedule(t, SCHED);
              }
              yield* __set_current_state(t, TASK_RUNNING, RUN);
            } else if (!s.cond) {
              yield* set_current_state(t, TASK_UNINTERRUPTIBLE, SET);
              yield* schedule(t, SCHED);
            }
          },
        },
        {
          name: "waker",
          *body(t: Task, s: S) {
            yield WCOND;
            s.cond = 1;
            yield WAKE;
            const p = s.sleeper;
            if (p !== null) yield* wake_up_process(t, p, WAKE);
          },
        },
      ],
    }));
  assert.deepEqual(explore(sc(false)).keys, [
    "deadlock: sleeper waits for wake-up in schedule() (TASK_UNINTERRUPTIBLE) at sleeper() (schedule())",
  ]);
  assert.deepEqual(explore(sc(true)).keys, []);
});

test("wait queues: prepare_to_wait after the test loses the wake-up; wait_event does not; waitqueue_active needs smp_mb under tso", () => {
  const COND = at("sleeper", "if (!READ_ONCE(s->cond))");
  const PREP = at("sleeper", "prepare_to_wait(&wq, &wait, TASK_UNINTERRUPTIBLE)");
  const SCHED = at("sleeper", "schedule()");
  const FIN = at("sleeper", "finish_wait(&wq, &wait)");
  const WAIT = at("sleeper", "wait_event(wq, READ_ONCE(s->cond))");
  const SETC = at("waker", "WRITE_ONCE(s->cond, 1)");
  const MB = at("waker", "smp_mb()");
  const ACTIVE = at("waker", "waitqueue_active(&wq)");
  const WAKE = at("waker", "wake_up(&wq)");
  interface S {
    cond: Cell<number>;
    wq: ReturnType<typeof DECLARE_WAIT_QUEUE_HEAD>;
  }
  const HAS_SLEEPER = at("waker", "wq_has_sleeper(&wq)");
  const sc = (sleeper: "wrong" | "wait_event", waker: "wake_up" | "active" | "mb+active" | "has_sleeper") =>
    scenario<S>(`wq-${sleeper}-${waker}`, () => ({
      state: { cond: new Cell("cond", 0), wq: DECLARE_WAIT_QUEUE_HEAD("wq") },
      threads: [
        {
          name: "sleeper",
          *body(t: Task, s: S) {
            if (sleeper === "wait_event") {
              yield* wait_event(t, s.wq, () => load(t, s.cond) !== 0, WAIT);
              return;
            }
            const wait = DEFINE_WAIT(t);
            yield COND;
            if (load(t, s.cond) === 0) {
              yield* prepare_to_wait(t, s.wq, wait, TASK_UNINTERRUPTIBLE, PREP);
              yield* schedule(t, SCHED);
              yield* finish_wait(t, s.wq, wait, FIN);
            }
          },
        },
        {
          name: "waker",
          *body(t: Task, s: S) {
            yield SETC;
            store(t, s.cond, 1);
            if (waker === "mb+active") yield* smp_mb(t, MB);
            const active =
              waker === "wake_up" || (waker === "has_sleeper" ? yield* wq_has_sleeper(t, s.wq, HAS_SLEEPER) : yield* waitqueue_active(t, s.wq, ACTIVE));
            if (active) yield* wake_up(t, s.wq, WAKE);
          },
        },
      ],
    }));
  const lost =
    "deadlock: sleeper waits for wake-up in schedule() (TASK_UNINTERRUPTIBLE) at sleeper() (schedule())";
  assert.deepEqual(explore(sc("wrong", "wake_up")).keys, [lost]);
  assert.deepEqual(explore(sc("wait_event", "wake_up")).keys, []);
  assert.deepEqual(explore(sc("wait_event", "active")).keys, []);
  const lostInWaitEvent =
    "deadlock: sleeper waits for wake-up in schedule() (TASK_UNINTERRUPTIBLE) at sleeper() (wait_event(wq, READ_ONCE(s->cond)): schedule())";
  assert.deepEqual(explore(sc("wait_event", "active"), "tso").keys, [lostInWaitEvent]);
  assert.deepEqual(explore(sc("wait_event", "mb+active"), "tso").keys, []);
  // wq_has_sleeper() is smp_mb() + waitqueue_active(): closed under every store order.
  for (const mm of ["sc", "tso", "pso"] as const) assert.deepEqual(explore(sc("wait_event", "has_sleeper"), mm).keys, [], mm);
  assert.deepEqual(explore(sc("wait_event", "active"), "pso").keys, [lostInWaitEvent]);
});

test("add_wait_queue, then __set_current_state() without a barrier: under tso and pso the state store waits in the store buffer while the test of the condition passes it, and the wake-up is lost; set_current_state() closes it", () => {
  const ADD = at("sleeper", "add_wait_queue(&wq, &wait)");
  const SET = at("sleeper", "set_current_state(TASK_UNINTERRUPTIBLE)");
  const SET_NO_MB = at("sleeper", "__set_current_state(TASK_UNINTERRUPTIBLE)");
  const COND = at("sleeper", "if (!READ_ONCE(s->cond))");
  const SCHED = at("sleeper", "schedule()");
  const RUN = at("sleeper", "__set_current_state(TASK_RUNNING)");
  const REMOVE = at("sleeper", "remove_wait_queue(&wq, &wait)");
  const SETC = at("waker", "WRITE_ONCE(s->cond, 1)");
  const WAKE = at("waker", "wake_up(&wq)");
  interface S {
    cond: Cell<number>;
    wq: ReturnType<typeof DECLARE_WAIT_QUEUE_HEAD>;
  }
  const sc = (barrier: boolean) =>
    scenario<S>(`add-wait-queue-${barrier ? "mb" : "no-mb"}`, () => ({
      state: { cond: new Cell("cond", 0), wq: DECLARE_WAIT_QUEUE_HEAD("wq") },
      threads: [
        {
          name: "sleeper",
          *body(t: Task, s: S) {
            const wait = DECLARE_WAITQUEUE(t);
            yield* add_wait_queue(t, s.wq, wait, ADD);
            if (barrier) yield* set_current_state(t, TASK_UNINTERRUPTIBLE, SET);
            else yield* __set_current_state(t, TASK_UNINTERRUPTIBLE, SET_NO_MB);
            yield COND;
            if (load(t, s.cond) === 0) yield* schedule(t, SCHED);
            yield* __set_current_state(t, TASK_RUNNING, RUN);
            yield* remove_wait_queue(t, s.wq, wait, REMOVE);
          },
        },
        {
          name: "waker",
          *body(t: Task, s: S) {
            yield SETC;
            store(t, s.cond, 1);
            yield* wake_up(t, s.wq, WAKE);
          },
        },
      ],
    }));
  const lost =
    "deadlock: sleeper waits for wake-up in schedule() (TASK_UNINTERRUPTIBLE) at sleeper() (schedule())";
  assert.deepEqual(explore(sc(false), "sc").keys, []);
  assert.deepEqual(explore(sc(false), "tso").keys, [lost]);
  assert.deepEqual(explore(sc(false), "pso").keys, [lost]);
  for (const mm of ["sc", "tso", "pso"] as const) assert.deepEqual(explore(sc(true), mm).keys, [], `set_current_state() under ${mm}`);
  // The sleeper reads its own buffered state (store forwarding) and others read memory.
  const FWD = at("sleeper", "READ_ONCE(current->__state)");
  const seen: number[] = [];
  const fwd = scenario<S>("task-state-forwarding", () => ({
    state: { cond: new Cell("cond", 0), wq: DECLARE_WAIT_QUEUE_HEAD("wq") },
    threads: [
      {
        name: "sleeper",
        *body(t: Task) {
          yield* __set_current_state(t, TASK_UNINTERRUPTIBLE, SET_NO_MB);
          yield FWD;
          seen.push(task_state(t), peek_task_state(t));
          yield* __set_current_state(t, TASK_RUNNING, RUN);
        },
      },
    ],
  }));
  runStrategy(fwd, resolveConfig(fwd, "baseline", "default", {}, "tso"), new ReplayStrategy([0, 0]), {}, () => {});
  assert.deepEqual(seen, [TASK_UNINTERRUPTIBLE, TASK_RUNNING], "own store forwarded; memory still TASK_RUNNING");
  // A schedule that names an empty store buffer's thread says so (not "waits for sleeper store buffer").
  assert.throws(
    () => runStrategy(fwd, resolveConfig(fwd, "baseline", "default", {}, "tso"), new ReplayStrategy([1]), {}, () => {}),
    /^UsageError: schedule step 1: thread 1 \(sleeper store buffer\) cannot run: it has no buffered store to make visible$/,
  );
});

test("completion: the waiter sees the work; never completed is a deadlock naming it; complete_all lets all through", () => {
  const WORK = at("worker", "s->result = 42");
  const DONE = at("worker", "complete(&done)");
  const WAIT = at("waiter", "wait_for_completion(&done)");
  const USE = at("waiter", "r = s->result");
  interface S {
    done: ReturnType<typeof DECLARE_COMPLETION>;
    result: number;
  }
  const sc = (waiters: number, completes: "complete" | "complete_all" | "none") =>
    scenario<S>(`completion-${waiters}-${completes}`, () => ({
      state: { done: DECLARE_COMPLETION("done"), result: 0 },
      threads: [
        {
          name: "worker",
          *body(t: Task, s: S) {
            yield WORK;
            s.result = 42;
            if (completes === "complete") yield* complete(t, s.done, DONE);
            if (completes === "complete_all") yield* complete_all(t, s.done, DONE);
          },
        },
        ...Array.from({ length: waiters }, (_, i) => ({
          name: `waiter${i}`,
          *body(t: Task, s: S) {
            yield* wait_for_completion(t, s.done, WAIT);
            yield USE;
            if (s.result !== 42) t.violated(`result=${s.result}`);
          },
        })),
      ],
    }));
  assert.deepEqual(explore(sc(1, "complete")).keys, []);
  assert.deepEqual(explore(sc(2, "complete_all")).keys, []);
  assert.deepEqual(explore(sc(1, "none")).keys, [
    "deadlock: waiter0 waits for complete(done) in wait_for_completion() (TASK_UNINTERRUPTIBLE) at waiter() (wait_for_completion(&done))",
  ]);
  // complete() lets one of two waiters through.
  assert.deepEqual(explore(sc(2, "complete")).keys, [
    "deadlock: waiter0 waits for complete(done) in wait_for_completion() (TASK_UNINTERRUPTIBLE) at waiter() (wait_for_completion(&done))",
    "deadlock: waiter1 waits for complete(done) in wait_for_completion() (TASK_UNINTERRUPTIBLE) at waiter() (wait_for_completion(&done))",
  ]);
  const TRY = at("trier", "try_wait_for_completion(&done)");
  const tr = scenario<S & { got: string }>(
    "completion-try",
    () => ({
      state: { done: DECLARE_COMPLETION("done"), result: 0, got: "" },
      threads: [
        { name: "worker", *body(t, s) { yield* complete(t, s.done, DONE); } },
        {
          name: "trier",
          *body(t, s) {
            const ok = yield* try_wait_for_completion(t, s.done, TRY);
            yield TRY;
            s.got = String(ok);
          },
        },
      ],
    }),
    (s, r) => r(s.got),
  );
  assert.deepEqual(explore(tr).keys, ["invariant: false", "invariant: true"]);
});

test("wait_for_completion_timeout: times out (0, nothing consumed) or takes the completion (1); never a deadlock; state tables show done", () => {
  const DONE = at("worker", "complete(&done)");
  const WAIT = at("waiter", "wait_for_completion_timeout(&done, HZ)");
  const AGAIN = at("waiter", "try_wait_for_completion(&done)");
  interface S {
    done: ReturnType<typeof DECLARE_COMPLETION>;
    got: string;
  }
  const sc = (completes: boolean) =>
    scenario<S>(
      `completion-timeout-${completes}`,
      () => ({
        state: { done: DECLARE_COMPLETION("done"), got: "" },
        threads: [
          ...(completes ? [{ name: "worker", *body(t: Task, s: S) { yield* complete(t, s.done, DONE); } }] : []),
          {
            name: "waiter",
            *body(t: Task, s: S) {
              const left = yield* wait_for_completion_timeout(t, s.done, 4_000_000, WAIT);
              // A timed-out wait consumed nothing: a completion that came later is still there.
              const late = yield* try_wait_for_completion(t, s.done, AGAIN);
              s.got = `${left}/${String(late)}`;
            },
          },
        ],
      }),
      (s, r) => r(s.got),
    );
  // The timer fires before complete() (then its completion is left for the next wait), between, or it is woken.
  assert.deepEqual(explore(sc(true)).keys, ["invariant: 0/false", "invariant: 0/true", "invariant: 1/false"]);
  // Nobody completes: a timeout, not a deadlock.
  assert.deepEqual(explore(sc(false)).keys, ["invariant: 0/false"]);
  // Its outcome is a note under its step in race diagrams, as a trylock's (new-user trial 25).
  const notes = new Set<string>();
  runStrategy(sc(true), resolveConfig(sc(true), "baseline", "default", {}), new UnreducedSearch(), { trace: true }, (v) => {
    for (const st of v.exec.trace ?? []) for (const n of st.notes) if (n.startsWith("wait_for_completion_timeout")) notes.add(n);
  });
  assert.deepEqual([...notes].sort(), ["wait_for_completion_timeout() = 0: timed out, done not completed", "wait_for_completion_timeout() = 1: woken, took a completion of done"]);
  const x = DECLARE_COMPLETION("cmd_done");
  assert.equal(String(x), "cmd_done: done=0");
  assert.deepEqual(describeState({ x }), { x: "done=0" });
  assert.throws(() => wait_for_completion_timeout({} as Task, x, 0, WAIT), /timeout of 0 ns/);
});

// ---- RCU ----------------------------------------------------------------------------------------

interface Obj {
  data: number;
}
interface RcuS {
  gp: Cell<Obj | null>;
  freed: boolean;
}
const R_LOCK = at("reader", "rcu_read_lock()");
const R_DEREF = at("reader", "p = rcu_dereference(gp)");
const R_USE = at("reader", "d = p->data");
const R_UNLOCK = at("reader", "rcu_read_unlock()");
const U_ASSIGN = at("updater", "rcu_assign_pointer(gp, NULL)");
const U_SYNC = at("updater", "synchronize_rcu()");
const U_FREE = at("updater", "kfree(old)");
const U_CALL = at("updater", "call_rcu(&old->rcu, free_obj)");
const CB_FREE = at("free_obj", "kfree(p)");

function* rcuReader(t: Task, s: RcuS) {
  yield* rcu_read_lock(t, R_LOCK);
  yield R_DEREF;
  const p = rcu_dereference(t, s.gp);
  if (p !== null) {
    yield R_USE;
    void p.data;
  }
  yield* rcu_read_unlock(t, R_UNLOCK);
}

test("synchronize_rcu: waits for readers that were inside when it started, and only for them", () => {
  const sc = (how: "kfree" | "synchronize_rcu") =>
    scenario<RcuS>(`rcu-${how}`, () => ({
      state: { gp: new Cell<Obj | null>("gp", { data: 1 }), freed: false },
      threads: [
        { name: "reader", body: rcuReader },
        {
          name: "updater",
          *body(t: Task, s: RcuS) {
            yield U_ASSIGN;
            const old = load(t, s.gp);
            rcu_assign_pointer(t, s.gp, null);
            if (how === "synchronize_rcu") yield* synchronize_rcu(t, U_SYNC);
            yield* kfree(t, old, U_FREE);
          },
        },
      ],
    }));
  assert.deepEqual(explore(sc("kfree")).keys, ["bug: use-after-free: reader accesses state.gp->data after kfree() by updater"]);
  assert.deepEqual(explore(sc("synchronize_rcu")).keys, []);
  assert.deepEqual(explore(sc("synchronize_rcu"), "tso").keys, []);

  // A reader that enters before the grace period starts holds it up (here: forever, a deadlock);
  // one that enters after does not.
  const FLAG = at("reader", "spin until s->flag");
  const SET = at("updater", "WRITE_ONCE(s->flag, 1)");
  interface S2 {
    flag: Cell<number>;
  }
  const holdup = scenario<S2>("rcu-holdup", () => ({
    state: { flag: new Cell("flag", 0) },
    threads: [
      {
        name: "reader",
        *body(t: Task, s: S2) {
          const flagSet: Waitable = { name: "flag", canProceed: () => s.flag.peek() === 1, waited: (w) => void load(w, s.flag) };
          yield* rcu_read_lock(t, R_LOCK);
          yield* step(t, FLAG, { waitFor: flagSet });
          yield* rcu_read_unlock(t, R_UNLOCK);
        },
      },
      {
        name: "updater",
        *body(t: Task, s: S2) {
          yield* synchronize_rcu(t, U_SYNC);
          yield SET;
          store(t, s.flag, 1);
        },
      },
    ],
  }));
  const r = explore(holdup);
  assert.deepEqual(r.keys, [
    "deadlock: reader waits for flag at reader() (spin until s->flag), updater waits for an RCU grace period in synchronize_rcu() (reader still inside rcu_read_lock()) at updater() (synchronize_rcu(): wait for readers)",
  ]);
  assert.ok(r.clean > 0, "a reader that entered after the grace period started must not hold it up");
});

test("rcu_read_lock: sleeping inside is sleep-in-atomic; an unbalanced unlock is lockdep's; synchronize_rcu inside is illegal", () => {
  const M = at("reader", "mutex_lock(&m)");
  const sleepy = scenario<{ m: ReturnType<typeof DEFINE_MUTEX> }>("rcu-sleep", () => ({
    state: { m: DEFINE_MUTEX("m") },
    threads: [{ name: "reader", *body(t, s) { yield* rcu_read_lock(t, R_LOCK); yield* mutex_lock(t, s.m, M); yield* mutex_unlock(t, s.m, M); yield* rcu_read_unlock(t, R_UNLOCK); } }],
  }));
  assert.deepEqual(explore(sleepy).keys, ["sleep-in-atomic: reader() may sleep while holding rcu_read_lock()"]);
  const unbalanced = scenario("rcu-unbalanced", () => ({
    state: {},
    threads: [{ name: "reader", *body(t: Task) { yield* rcu_read_unlock(t, R_UNLOCK); } }],
  }));
  assert.deepEqual(explore(unbalanced).keys, [
    "bug: lockdep: bad unlock balance detected! reader is trying to release lock (rcu_read_lock) but there are no more locks to release!",
  ]);
  const illegal = scenario("rcu-illegal", () => ({
    state: {},
    threads: [{ name: "reader", *body(t: Task) { yield* rcu_read_lock(t, R_LOCK); yield* synchronize_rcu(t, U_SYNC); } }],
  }));
  assert.deepEqual(explore(illegal).keys, [
    "deadlock: reader waits for an RCU grace period in synchronize_rcu() (reader still inside rcu_read_lock()) at updater() (synchronize_rcu(): wait for readers)",
    "sleep-in-atomic: updater() may sleep while holding rcu_read_lock()",
    "warning: suspicious RCU usage: Illegal synchronize_rcu() in RCU read-side critical section",
  ]);
});

// Since the RCU flavours were consolidated (v4.20) synchronize_rcu() and call_rcu() wait for any
// region with preemption or interrupts disabled (Documentation/RCU/Design/Requirements/
// Requirements.rst: "anything that disables preemption also marks an RCU-sched read-side critical
// section"). A grace period used to end while a reader held a spinlock: a false use-after-free
// (new-user trial 11). A sleeping lock disables nothing: the use-after-free stays.
test("a grace period waits for a reader that holds a spinlock, an rwlock, a bit spinlock or has interrupts off, not for one that holds a mutex", () => {
  type How = "spin_lock" | "read_lock" | "bit_spin_lock" | "local_irq_save" | "mutex_lock" | "nothing";
  interface S3 extends RcuS {
    l: ReturnType<typeof DEFINE_SPINLOCK>;
    rw: ReturnType<typeof DEFINE_RWLOCK>;
    m: ReturnType<typeof DEFINE_MUTEX>;
    bits: ReturnType<typeof DECLARE_BITMAP>;
  }
  const HOLD = at("reader", "enter the region");
  const DEREF = at("reader", "p = rcu_dereference_check(gp, lockdep_is_held(&l))");
  const LEAVE = at("reader", "leave the region");
  const sc = (how: How, free: "synchronize_rcu" | "call_rcu") =>
    scenario<S3>(`rcu-sched-${how}-${free}`, () => ({
      state: {
        gp: new Cell<Obj | null>("gp", { data: 1 }),
        freed: false,
        l: DEFINE_SPINLOCK("l"),
        rw: DEFINE_RWLOCK("rw"),
        m: DEFINE_MUTEX("m"),
        bits: DECLARE_BITMAP("bits", 1),
      },
      threads: [
        {
          name: "reader",
          *body(t: Task, s: S3) {
            let flags = 0;
            if (how === "spin_lock") yield* spin_lock(t, s.l, HOLD);
            else if (how === "read_lock") yield* read_lock(t, s.rw, HOLD);
            else if (how === "bit_spin_lock") yield* bit_spin_lock(t, 0, s.bits, HOLD);
            else if (how === "local_irq_save") flags = yield* local_irq_save(t, HOLD);
            else if (how === "mutex_lock") yield* mutex_lock(t, s.m, HOLD);
            yield DEREF;
            const p = rcu_dereference_check(t, s.gp, true);
            if (p !== null) {
              yield R_USE;
              void p.data;
            }
            if (how === "spin_lock") yield* spin_unlock(t, s.l, LEAVE);
            else if (how === "read_lock") yield* read_unlock(t, s.rw, LEAVE);
            else if (how === "bit_spin_lock") yield* bit_spin_unlock(t, 0, s.bits, LEAVE);
            else if (how === "local_irq_save") yield* local_irq_restore(t, flags, LEAVE);
            else if (how === "mutex_lock") yield* mutex_unlock(t, s.m, LEAVE);
          },
        },
        {
          name: "updater",
          *body(t: Task, s: S3) {
            yield U_ASSIGN;
            const old = load(t, s.gp)!;
            rcu_assign_pointer(t, s.gp, null);
            if (free === "synchronize_rcu") {
              yield* synchronize_rcu(t, U_SYNC);
              yield* kfree(t, old, U_FREE);
            } else yield* kfree_rcu(t, old, U_CALL);
          },
        },
        ...(free === "call_rcu" ? [rcu_callback_thread()] : []),
      ],
    }));
  const uaf = "bug: use-after-free: reader accesses state.gp->data after kfree() by ";
  for (const free of ["synchronize_rcu", "call_rcu"] as const) {
    for (const how of ["spin_lock", "read_lock", "bit_spin_lock", "local_irq_save"] as const)
      for (const mm of ["sc", "tso", "pso"] as const) assert.deepEqual(explore(sc(how, free), mm).keys, [], `${how} ${free} ${mm}`);
    for (const how of ["mutex_lock", "nothing"] as const) {
      const keys = explore(sc(how, free)).keys;
      assert.equal(keys.length, 1, `${how} ${free}: ${keys.join("; ")}`);
      assert.ok(keys[0]!.startsWith(uaf), `${how} ${free}: ${keys[0]}`);
    }
  }
});

test("call_rcu: the callback runs after the readers that could see the object, and it does run", () => {
  const sc = (how: "call_rcu" | "kfree_rcu" | "no-thread") =>
    scenario<RcuS>(
      `call-rcu-${how}`,
      () => ({
        state: { gp: new Cell<Obj | null>("gp", { data: 1 }), freed: false },
        threads: [
          { name: "reader", body: rcuReader },
          {
            name: "updater",
            *body(t: Task, s: RcuS) {
              yield U_ASSIGN;
              const old = load(t, s.gp)!;
              rcu_assign_pointer(t, s.gp, null);
              if (how === "kfree_rcu") {
                yield* kfree_rcu(t, old, U_CALL);
                yield U_CALL;
                s.freed = true;
              } else
                yield* call_rcu(t, old, function* (ct, p) {
                  yield* kfree(ct, p, CB_FREE);
                  s.freed = true;
                }, U_CALL);
            },
          },
          ...(how === "no-thread" ? [] : [rcu_callback_thread()]),
        ],
      }),
      (s, r) => {
        if (!s.freed) r("the callback never ran");
      },
    );
  assert.deepEqual(explore(sc("call_rcu")).keys, []);
  assert.deepEqual(explore(sc("kfree_rcu")).keys, []);
  assert.deepEqual(explore(sc("call_rcu"), "pso").keys, []);
  assert.deepEqual(explore(sc("no-thread")).keys, [
    "error: updater at updater() (call_rcu(&old->rcu, free_obj)): Error: call_rcu() needs rcu_callback_thread() among the scenario's threads to run its callbacks",
  ]);
});

test("a schedule that names the RCU callback thread before a callback is queued says what it waits for (not a store buffer)", () => {
  const sc = scenario<RcuS>("rcu-cb-blocked", () => ({
    state: { gp: new Cell<Obj | null>("gp", { data: 1 }), freed: false },
    threads: [{ name: "reader", body: rcuReader }, rcu_callback_thread()],
  }));
  // (New-user trial 11: "cannot run: it has no buffered store to make visible", under sc.)
  for (const mm of ["sc", "tso"] as const)
    assert.throws(
      () => runStrategy(sc, resolveConfig(sc, "baseline", "default", {}, mm), new ReplayStrategy([1]), {}, () => {}),
      /^UsageError: schedule step 1: thread 1 \(rcu_do_batch\) cannot run: it waits for RCU callbacks in rcu_do_batch\(\)$/,
      mm,
    );
});

// ---- kmalloc / kfree ----------------------------------------------------------------------------

test("kfree: a later access is a use-after-free bug, a second kfree a double free", () => {
  const ALLOC = at("owner", "p = kmalloc(sizeof(*p), GFP_KERNEL)");
  const PUB = at("owner", "s->p = p");
  const FREE = at("owner", "kfree(p)");
  const USE = at("user", "q = s->p; q->v++");
  interface S {
    p: { v: number } | null;
  }
  const uaf = scenario<S>("kfree-uaf", () => ({
    state: { p: null },
    threads: [
      {
        name: "owner",
        *body(t: Task, s: S) {
          const p = yield* kmalloc(t, { v: 0 }, GFP_KERNEL, ALLOC, "obj");
          yield PUB;
          s.p = p;
          yield* kfree(t, p, FREE);
        },
      },
      {
        name: "user",
        *body(t: Task, s: S) {
          yield USE;
          const q = s.p;
          if (q !== null) q.v++;
        },
      },
    ],
  }));
  assert.deepEqual(explore(uaf).keys, ["bug: use-after-free: user accesses obj#0.v after kfree() by owner"]);
  const F = at("freer", "kfree(s->obj)");
  const df = scenario<{ obj: { v: number } }>("double-free", () => ({
    state: { obj: { v: 0 } },
    threads: ["A", "B"].map((name) => ({
      name,
      *body(t: Task, s: { obj: { v: number } }) {
        yield* kfree(t, s.obj, F);
      },
    })),
  }));
  assert.deepEqual(explore(df).keys, [
    "bug: double free: A kfree()s state.obj, already freed by B",
    "bug: double free: B kfree()s state.obj, already freed by A",
  ]);
  // kmalloc(GFP_KERNEL) under a spinlock may sleep; GFP_ATOMIC does not.
  const L = at("alloc", "spin_lock(&l)");
  const A = at("alloc", "kmalloc()");
  const underLock = (gfp: number) =>
    scenario<{ l: ReturnType<typeof DEFINE_SPINLOCK> }>(`kmalloc-${gfp}`, () => ({
      state: { l: DEFINE_SPINLOCK("l") },
      threads: [{ name: "T", *body(t, s) { yield* spin_lock(t, s.l, L); yield* kmalloc(t, {}, gfp, A); yield* spin_unlock(t, s.l, L); } }],
    }));
  assert.deepEqual(explore(underLock(GFP_KERNEL)).keys, ["sleep-in-atomic: alloc() may sleep while holding l"]);
  assert.deepEqual(explore(underLock(GFP_ATOMIC)).keys, []);
});

test("kfree: a racelab object embedded in the freed struct (embed()) is freed with it: a kref_get() through a pointer taken before is a use-after-free, in either thread order; one not embedded is a pointer and stays live", () => {
  const TAKE = at("getter", "r = &obj->ref");
  const GET = at("getter", "kref_get(r)");
  const INC = at("getter", "refcount_inc(&s->other)");
  const FREE = at("freer", "kfree(obj)");
  interface Obj {
    ref: kref;
    other: ReturnType<typeof REFCOUNT_INIT>;
    v: number;
  }
  const sc = (what: "embedded" | "pointer") =>
    scenario<{ obj: Obj }>(`kfree-embedded-${what}`, () => {
      const obj = { v: 0 } as Obj;
      obj.ref = embed(KREF_INIT("obj->ref", 1), obj);
      obj.other = REFCOUNT_INIT("other", 1); // a pointer to a refcount_t that lives elsewhere
      return {
        state: { obj },
        threads: [
          {
            name: "getter",
            *body(t: Task, s: { obj: Obj }) {
              yield TAKE;
              const o = s.obj;
              const r = o.ref;
              const other = o.other;
              if (what === "embedded") yield* kref_get(t, r, GET);
              else yield* refcount_inc(t, other, INC);
            },
          },
          { name: "freer", *body(t: Task, s: { obj: Obj }) { yield* kfree(t, s.obj, FREE); } },
        ],
      };
    });
  // (explore() also checks that the reduction finds what unreduced search does: kfree() writes the kref's locations.)
  // Freed before the getter's first step: `&obj->ref` loads nothing, `obj->other` (a pointer
  // member) is a load of the freed struct, the use-after-free; freed after: kref_get().
  const early = "bug: use-after-free: getter accesses state.obj.other after kfree() by freer";
  assert.deepEqual(explore(sc("embedded")).keys, ["bug: use-after-free: getter accesses obj->ref after kfree() by freer", early]);
  // The refcount_t behind a pointer field is not freed with the struct: only the early read is a finding.
  assert.deepEqual(explore(sc("pointer")).keys, [early]);
});

// ---- refcount_t, kref, atomic_t -----------------------------------------------------------------

test("refcount_t: refcount_inc on 0 warns; refcount_inc_not_zero fails on 0", () => {
  const PUT = at("put", "refcount_dec_and_test(&obj->ref)");
  const GET = at("get", "refcount_inc(&obj->ref)");
  interface S {
    ref: ReturnType<typeof REFCOUNT_INIT>;
    got: string;
  }
  const sc = (notZero: boolean) =>
    scenario<S>(
      `refcount-${notZero}`,
      () => ({
        state: { ref: REFCOUNT_INIT("obj.ref", 1), got: "" },
        threads: [
          { name: "put", *body(t: Task, s: S) { yield* refcount_dec_and_test(t, s.ref, PUT); } },
          {
            name: "get",
            *body(t: Task, s: S) {
              if (notZero) {
                const ok = yield* refcount_inc_not_zero(t, s.ref, GET);
                yield GET;
                s.got = ok ? "got a reference" : "refcount_inc_not_zero failed";
              } else yield* refcount_inc(t, s.ref, GET);
            },
          },
        ],
      }),
      (s, r) => {
        if (s.got !== "") r(s.got);
      },
    );
  assert.deepEqual(explore(sc(false)).keys, ["warning: refcount_t: addition on 0; use-after-free. (obj.ref)"]);
  assert.deepEqual(explore(sc(true)).keys, ["invariant: got a reference", "invariant: refcount_inc_not_zero failed"]);
});

test("kref: the last kref_put runs release; kref_get_unless_zero fails once it has", () => {
  const PUT = at("put", "kref_put(&obj->kref, obj_release)");
  const REL = at("obj_release", "kfree(obj)");
  const GET = at("get", "kref_get_unless_zero(&obj->kref)");
  const USE = at("get", "obj->data++");
  interface S {
    obj: { ref: kref; data: number; released: number };
    got: string;
  }
  const sc = (release: "mark" | "kfree") =>
    scenario<S>(
      `kref-${release}`,
      () => ({
        state: { obj: { ref: new kref("obj.ref"), data: 0, released: 0 }, got: "" },
        threads: [
          {
            name: "put",
            *body(t: Task, s: S) {
              yield PUT;
              const obj = s.obj;
              yield* kref_put(t, obj.ref, function* (rt) {
                if (release === "kfree") yield* kfree(rt, obj, REL);
                else {
                  yield REL;
                  obj.released++;
                }
              }, PUT);
            },
          },
          {
            name: "get",
            *body(t: Task, s: S) {
              yield GET;
              const obj = s.obj;
              const ok = yield* kref_get_unless_zero(t, obj.ref, GET);
              yield USE;
              s.got = ok ? "got" : "failed";
              if (ok) {
                obj.data++;
                yield* kref_put(t, obj.ref, function* () {
                  yield REL;
                  obj.released++;
                }, PUT);
              }
            },
          },
        ],
      }),
      (s, r) => r(`${s.got}, released ${s.obj.released}x`),
    );
  // Released exactly once, by whichever put was last; a get after it fails.
  assert.deepEqual(explore(sc("mark")).keys, ["invariant: failed, released 1x", "invariant: got, released 1x"]);
  // With the object freed, reading obj->kref for kref_get_unless_zero() is itself a use-after-free:
  // the lookup must keep the object alive (RCU, or the lock of the structure it is found in).
  // (`released 0x`: put's release freed it instead of counting.)
  assert.deepEqual(explore(sc("kfree")).keys, [
    "bug: use-after-free: get accesses state.obj.ref after kfree() by put",
    "invariant: failed, released 0x",
    "invariant: got, released 0x",
    "invariant: got, released 1x",
  ]);
});

test("atomic_t: non-returning adds commute (one trace); value-returning ones do not", () => {
  const INC = at("inc", "atomic_inc(&v)");
  const READ = at("inc", "atomic_read(&v)");
  interface S {
    v: ReturnType<typeof ATOMIC_INIT>;
  }
  const sc = (threads: number) =>
    scenario<S>(
      `atomic-${threads}`,
      () => ({
        state: { v: ATOMIC_INIT("v", 0) },
        threads: Array.from({ length: threads }, (_, i) => ({ name: `T${i}`, *body(t: Task, s: S) { yield* atomic_inc(t, s.v, INC); } })),
      }),
      (s, r) => r(`v=${s.v.peek()}`),
    );
  const r = check(sc(3), { countNaive: true });
  assert.equal(r.executions, 1);
  assert.equal(r.naiveExecutions, 6);
  assert.deepEqual(explore(sc(3)).keys, ["invariant: v=3"]);
  assert.deepEqual(explore(sc(2), "tso").keys, ["invariant: v=2"]);
  const reader = scenario<S & { seen: number }>(
    "atomic-read",
    () => ({
      state: { v: ATOMIC_INIT("v", 0), seen: -1 },
      threads: [
        { name: "inc", *body(t, s) { yield* atomic_inc(t, s.v, INC); } },
        { name: "read", *body(t, s) { const x = yield* atomic_read(t, s.v, READ); yield READ; s.seen = x; } },
      ],
    }),
    (s, r) => r(`seen=${s.seen}`),
  );
  assert.deepEqual(explore(reader).keys, ["invariant: seen=0", "invariant: seen=1"]);
  // xchg() is fully ordered and returns the old value.
  const X = at("xchg", "old = xchg(&c, t)");
  const ex = scenario<{ c: Cell<number>; olds: number[] }>(
    "xchg",
    () => ({
      state: { c: new Cell("c", 0), olds: [] },
      threads: [1, 2].map((v) => ({ name: `T${v}`, *body(t: Task, s: { c: Cell<number>; olds: number[] }) { const o = yield* xchg(t, s.c, v, X); yield X; s.olds.push(o); } })),
    }),
    (s, r) => r([...s.olds].sort().join(",")),
  );
  assert.deepEqual(explore(ex, "pso").keys, ["invariant: 0,1", "invariant: 0,2"]);
});

// ---- bit operations -----------------------------------------------------------------------------

test("test_and_set_bit_lock / clear_bit_unlock as a lock (sc, pso); clear_bit instead of the unlock loses an update under pso", () => {
  const LOCKB = at("inc", "test_and_set_bit_lock(0, &flags)");
  const LD = at("inc", "x = READ_ONCE(s->x)");
  const ST = at("inc", "WRITE_ONCE(s->x, x + 1)");
  const UNL = at("inc", "clear_bit_unlock(0, &flags)");
  interface S {
    flags: ReturnType<typeof DECLARE_BITMAP>;
    x: Cell<number>;
    skipped: number;
  }
  const sc = (unlock: "clear_bit_unlock" | "clear_bit") =>
    scenario<S>(
      `bitlock-${unlock}`,
      () => ({
        state: { flags: DECLARE_BITMAP("flags", ["LOCK"]), x: new Cell("x", 0), skipped: 0 },
        threads: ["A", "B"].map((name) => ({
          name,
          *body(t: Task, s: S) {
            if (yield* test_and_set_bit_lock(t, 0, s.flags, LOCKB)) {
              yield LOCKB;
              s.skipped++;
              return;
            }
            yield LD;
            const x = load(t, s.x);
            yield ST;
            store(t, s.x, x + 1);
            if (unlock === "clear_bit_unlock") yield* clear_bit_unlock(t, 0, s.flags, UNL);
            else yield* clear_bit(t, 0, s.flags, UNL);
          },
        })),
      }),
      (s, r) => {
        if (s.x.value + s.skipped !== 2) r(`lost update: x=${s.x.value}, skipped=${s.skipped}`);
      },
    );
  assert.deepEqual(explore(sc("clear_bit_unlock")).keys, []);
  assert.deepEqual(explore(sc("clear_bit_unlock"), "pso").keys, []);
  assert.deepEqual(explore(sc("clear_bit"), "pso").keys, ["invariant: lost update: x=1, skipped=0"]);
  assert.deepEqual(explore(sc("clear_bit"), "tso").keys, []); // x86: clear_bit() is a locked instruction

  // bit_spin_lock() excludes and puts the holder in atomic context.
  const BL = at("inc", "bit_spin_lock(0, &flags)");
  const BU = at("inc", "bit_spin_unlock(0, &flags)");
  const bsl = scenario<S>(
    "bit-spin-lock",
    () => ({
      state: { flags: DECLARE_BITMAP("flags", ["LOCK"]), x: new Cell("x", 0), skipped: 0 },
      threads: ["A", "B"].map((name) => ({
        name,
        *body(t: Task, s: S) {
          yield* bit_spin_lock(t, 0, s.flags, BL);
          if (t.atomicDepth !== 1) t.violated("not atomic under bit_spin_lock");
          yield LD;
          const x = load(t, s.x);
          yield ST;
          store(t, s.x, x + 1);
          yield* bit_spin_unlock(t, 0, s.flags, BU);
        },
      })),
    }),
    (s, r) => {
      if (s.x.value !== 2) r(`lost update: x=${s.x.value}`);
    },
  );
  assert.deepEqual(explore(bsl).keys, []);
  assert.deepEqual(explore(bsl, "tso").keys, []);
  assert.deepEqual(explore(bsl, "pso").keys, []);
});

test("wait_on_bit / wake_up_bit: the waiter sees the work; a missing wake-up or barrier (pso) leaves it asleep", () => {
  const WORK = at("owner", "WRITE_ONCE(s->data, 1)");
  const CLEAR = at("owner", "clear_bit_unlock(BUSY, &flags)");
  const MB = at("owner", "smp_mb__after_atomic()");
  const WAKE = at("owner", "wake_up_bit(&flags, BUSY)");
  const CAW = at("owner", "clear_and_wake_up_bit(BUSY, &flags)");
  const WAIT = at("waiter", "wait_on_bit(&flags, BUSY, TASK_UNINTERRUPTIBLE)");
  const USE = at("waiter", "d = READ_ONCE(s->data)");
  interface S {
    flags: ReturnType<typeof DECLARE_BITMAP>;
    data: Cell<number>;
  }
  const BUSY = 0;
  const sc = (owner: "clear+mb+wake" | "clear_and_wake_up_bit" | "clear+wake" | "clear") =>
    scenario<S>(`wait-bit-${owner}`, () => ({
      state: { flags: DECLARE_BITMAP("flags", ["BUSY"], [BUSY]), data: new Cell("data", 0) },
      threads: [
        {
          name: "owner",
          *body(t: Task, s: S) {
            yield WORK;
            store(t, s.data, 1);
            if (owner === "clear_and_wake_up_bit") {
              yield* clear_and_wake_up_bit(t, BUSY, s.flags, CAW);
              return;
            }
            yield* clear_bit_unlock(t, BUSY, s.flags, CLEAR);
            if (owner === "clear+mb+wake") yield* smp_mb__after_atomic(t, MB);
            if (owner !== "clear") yield* wake_up_bit(t, s.flags, BUSY, WAKE);
          },
        },
        {
          name: "waiter",
          *body(t: Task, s: S) {
            yield* wait_on_bit(t, s.flags, BUSY, TASK_UNINTERRUPTIBLE, WAIT);
            yield USE;
            if (load(t, s.data) !== 1) t.violated("waiter saw the bit clear before the data");
          },
        },
      ],
    }));
  const asleep =
    "deadlock: waiter waits for wake-up in schedule() (TASK_UNINTERRUPTIBLE) at waiter() (wait_on_bit(&flags, BUSY, TASK_UNINTERRUPTIBLE): schedule())";
  assert.deepEqual(explore(sc("clear+mb+wake")).keys, []);
  assert.deepEqual(explore(sc("clear+mb+wake"), "tso").keys, []);
  assert.deepEqual(explore(sc("clear_and_wake_up_bit"), "pso").keys, []);
  assert.deepEqual(explore(sc("clear+wake")).keys, []);
  // Without the barrier the wake-up is lost under pso; not under tso, where x86's clear_bit() is a
  // locked instruction (smp_mb__after_atomic() is only a compiler barrier there).
  assert.deepEqual(explore(sc("clear+wake"), "pso").keys, [asleep]);
  assert.deepEqual(explore(sc("clear+wake"), "tso").keys, []);
  assert.deepEqual(explore(sc("clear")).keys, [asleep]);
});

// ---- list_head ----------------------------------------------------------------------------------

test("list_head: add, delete and walk under a lock; a walk without it meets a freed or deleted entry", () => {
  const LOCKA = at("remover", "spin_lock(&s->lock)");
  const DEL = at("remover", "list_del(&e->node)");
  const UNL = at("remover", "spin_unlock(&s->lock)");
  const FREE = at("remover", "kfree(e)");
  const WL = at("walker", "spin_lock(&s->lock)");
  const WALK = at("walker", "sum += e->v");
  const WU = at("walker", "spin_unlock(&s->lock)");
  interface E {
    v: number;
    node: list_head;
  }
  interface S {
    lock: ReturnType<typeof DEFINE_SPINLOCK>;
    head: list_head;
    entries: E[];
    sums: number[];
  }
  const sc = (walkerLocks: boolean) =>
    scenario<S>(
      `list-${walkerLocks}`,
      () => {
        const head = LIST_HEAD_INIT();
        const entries = [1, 2].map((v) => {
          const e = { v, node: null as unknown as list_head };
          e.node = LIST_HEAD_INIT(e);
          list_add_tail(null, e.node, head);
          return e;
        });
        return {
          state: { lock: DEFINE_SPINLOCK("lock"), entries, head, sums: [] },
          threads: [
            {
              name: "remover",
              *body(t: Task, s: S) {
                yield* spin_lock(t, s.lock, LOCKA);
                yield DEL;
                const first = list_first_entry<E>(t, s.head);
                list_del(t, first.node);
                yield* spin_unlock(t, s.lock, UNL);
                yield* kfree(t, first, FREE);
              },
            },
            {
              name: "walker",
              *body(t: Task, s: S) {
                if (walkerLocks) yield* spin_lock(t, s.lock, WL);
                let sum = 0;
                yield WALK;
                for (const e of list_for_each_entry<E>(t, s.head)) {
                  sum += e.v;
                  yield WALK;
                }
                s.sums.push(sum);
                if (walkerLocks) yield* spin_unlock(t, s.lock, WU);
              },
            },
          ],
        };
      },
      (s, r) => r(`sum=${s.sums.join(",")}`),
    );
  assert.deepEqual(explore(sc(true)).keys, ["invariant: sum=2", "invariant: sum=3"]);
  const unlocked = explore(sc(false)).keys;
  assert.ok(unlocked.includes("bug: use-after-free: walker accesses state.entries[0].node.next after kfree() by remover"), unlocked.join("\n"));
  assert.ok(
    unlocked.includes(
      "bug: general protection fault, probably for non-canonical address 0xdead000000000100: state.entries[0].node->next is LIST_POISON1 (a list_del()ed entry)",
    ),
    unlocked.join("\n"),
  );
  // CONFIG_DEBUG_LIST: deleting an entry twice.
  const twice = scenario<S>("list-del-twice", () => {
    const head = LIST_HEAD_INIT();
    const e = { v: 1, node: null as unknown as list_head };
    e.node = LIST_HEAD_INIT(e);
    list_add_tail(null, e.node, head);
    return {
      state: { lock: DEFINE_SPINLOCK("lock"), entries: [e], head, sums: [] },
      threads: [{ name: "T", *body(t: Task, s: S) { yield DEL; list_del(t, s.entries[0]!.node); yield DEL; list_del(t, s.entries[0]!.node); yield DEL; if (!list_empty(t, s.head)) t.violated("not empty"); } }],
    };
  });
  assert.deepEqual(explore(twice).keys, ["warning: list_del corruption, state.entries[0].node->next is LIST_POISON1 (dead000000000100)"]);
});

test("bit ops: the non-atomic __set_bit can undo a concurrent set_bit of another bit; set_bit cannot", () => {
  const SET = at("setter", "set_bit(nr, &flags)");
  interface S {
    flags: ReturnType<typeof DECLARE_BITMAP>;
  }
  const sc = (nonAtomic: boolean) =>
    scenario<S>(
      `bits-${nonAtomic}`,
      () => ({
        state: { flags: DECLARE_BITMAP("flags", ["A", "B"]) },
        threads: [
          { name: "T0", *body(t: Task, s: S) { yield* set_bit(t, 0, s.flags, SET); } },
          { name: "T1", *body(t: Task, s: S) { if (nonAtomic) yield* __set_bit(t, 1, s.flags, SET); else yield* set_bit(t, 1, s.flags, SET); } },
        ],
      }),
      (s, r) => r(`flags=${s.flags.describe()}`),
    );
  assert.deepEqual(explore(sc(false)).keys, ["invariant: flags=A|B"]);
  assert.deepEqual(explore(sc(false), "pso").keys, ["invariant: flags=A|B"]);
  assert.deepEqual(explore(sc(true)).keys, ["invariant: flags=A|B", "invariant: flags=B"]);
  // bit_spin_unlock() of a bit nobody set is CONFIG_DEBUG_SPINLOCK's BUG_ON.
  const U = at("unlocker", "bit_spin_unlock(0, &flags)");
  const bad = scenario<S>("bit-unlock-clear", () => ({
    state: { flags: DECLARE_BITMAP("flags", ["A", "B"]) },
    threads: [{ name: "T0", *body(t: Task, s: S) { yield* bit_spin_unlock(t, 0, s.flags, U); } }],
  }));
  assert.deepEqual(explore(bad).keys, ["bug: kernel BUG at include/linux/bit_spinlock.h: bit_spin_unlock(flags.A) of a clear bit"]);
});

test("wait queues: setting the condition after wake_up() loses the wake-up; an exclusive wait wakes one waiter", () => {
  const WAIT = at("sleeper", "wait_event(wq, s->cond)");
  const WAKE = at("waker", "wake_up(&wq)");
  const SETC = at("waker", "s->cond = 1");
  interface S {
    cond: number;
    wq: ReturnType<typeof DECLARE_WAIT_QUEUE_HEAD>;
  }
  const late = scenario<S>("wq-late-cond", () => ({
    state: { cond: 0, wq: DECLARE_WAIT_QUEUE_HEAD("wq") },
    threads: [
      { name: "sleeper", *body(t: Task, s: S) { yield* wait_event(t, s.wq, () => s.cond !== 0, WAIT); } },
      { name: "waker", *body(t: Task, s: S) { yield* wake_up(t, s.wq, WAKE); yield SETC; s.cond = 1; } },
    ],
  }));
  assert.deepEqual(explore(late).keys, [
    "deadlock: sleeper waits for wake-up in schedule() (TASK_UNINTERRUPTIBLE) at sleeper() (wait_event(wq, s->cond): schedule())",
  ]);
  // Two exclusive waiters, one wake_up(): one of them stays asleep.
  const PREP = at("sleeper", "prepare_to_wait_exclusive(&wq, &wait, TASK_UNINTERRUPTIBLE)");
  const SCHED = at("sleeper", "schedule()");
  const FIN = at("sleeper", "finish_wait(&wq, &wait)");
  const BOTH = at("waker", "wait until both queued");
  const excl = scenario<S>("wq-exclusive", () => ({
    state: { cond: 0, wq: DECLARE_WAIT_QUEUE_HEAD("wq") },
    threads: [
      ...["S0", "S1"].map((name) => ({
        name,
        *body(t: Task, s: S) {
          const wait = DEFINE_WAIT(t);
          yield* prepare_to_wait_exclusive(t, s.wq, wait, TASK_UNINTERRUPTIBLE, PREP);
          yield* schedule(t, SCHED);
          yield* finish_wait(t, s.wq, wait, FIN);
        },
      })),
      {
        name: "waker",
        *body(t: Task, s: S) {
          const queued: Waitable = { name: "two waiters", canProceed: () => s.wq.head.length === 2, waited: () => {} };
          yield* step(t, BOTH, { waitFor: queued, access: [[s.wq.loc, 0]] });
          yield* wake_up(t, s.wq, WAKE);
        },
      },
    ],
  }));
  assert.deepEqual(explore(excl).keys, [
    "deadlock: S0 waits for wake-up in schedule() (TASK_UNINTERRUPTIBLE) at sleeper() (schedule())",
    "deadlock: S1 waits for wake-up in schedule() (TASK_UNINTERRUPTIBLE) at sleeper() (schedule())",
  ]);
});

test("seqcount_t in a state table shows its sequence, odd while a writer is inside; a blocked reader waits in read_seqcount_begin() (new-user trial 18)", async () => {
  const { Session, defineScenario, sitesIn, SEQCNT_ZERO, read_seqcount_begin, write_seqcount_begin, write_seqcount_end } = await import("../src/index.js");
  const at = sitesIn("include/linux/seqlock.h", "v6.12");
  const B = at("write_seqcount_begin", "begin"), E = at("write_seqcount_end", "end"), R = at("read_seqcount_begin", "start");
  const sc = defineScenario({
    id: "seq-view",
    setup: () => ({
      state: { seq: SEQCNT_ZERO("d->seq") },
      threads: {
        *writer(t, s) {
          yield* write_seqcount_begin(t, s.seq, B);
          yield* write_seqcount_end(t, s.seq, E);
        },
        *reader(t, s) {
          yield* read_seqcount_begin(t, s.seq, R);
        },
      },
    }),
  });
  const s = new Session(sc);
  assert.equal(s.state["seq"], "0");
  s.step("writer");
  assert.equal(s.state["seq"], "1 (odd: a writer is inside)");
  assert.match(s.threadStatus.find((x) => x.name === "reader")!.why ?? "", /in read_seqcount_begin\(\)/);
  s.step("writer");
  assert.equal(s.state["seq"], "2");
});

test("read_seqcount_begin() and read_seqcount_retry() say what they saw, in race diagrams (new-user trial 18)", async () => {
  const { defineScenario, sitesIn, SEQCNT_ZERO, read_seqcount_begin, read_seqcount_retry, write_seqcount_begin, write_seqcount_end, replay, renderDiagram } = await import("../src/index.js");
  const at = sitesIn("include/linux/seqlock.h", "v6.12");
  const B = at("write_seqcount_begin", "begin"), E = at("write_seqcount_end", "end");
  const R = at("read_seqcount_begin", "start"), Q = at("read_seqcount_retry", "retry?");
  const sc = defineScenario({
    id: "seq-notes",
    setup: () => ({
      state: { seq: SEQCNT_ZERO("d->seq") },
      threads: {
        *writer(t, s) {
          yield* write_seqcount_begin(t, s.seq, B);
          yield* write_seqcount_end(t, s.seq, E);
        },
        *reader(t, s) {
          const start = yield* read_seqcount_begin(t, s.seq, R);
          yield* read_seqcount_retry(t, s.seq, start, Q);
        },
      },
    }),
  });
  // The reader begins at 0, the writer runs whole, the retry sees 2.
  const text = renderDiagram(replay(sc, { schedule: "1.0.0.1" }).exec);
  assert.match(text, /-> start = 0/);
  assert.match(text, /-> sequence 2, not 0: retry/);
  const calm = renderDiagram(replay(sc, { schedule: "1.1.0.0" }).exec);
  assert.match(calm, /-> sequence still 0: done/);
});
