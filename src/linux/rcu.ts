/**
 * RCU: rcu_read_lock(), rcu_read_unlock(), synchronize_rcu(), call_rcu(), kfree_rcu(),
 * rcu_barrier(), and rcu_dereference() / rcu_assign_pointer() (memory.ts).
 *
 * Source: include/linux/rcupdate.h (rcu_read_lock, rcu_read_unlock, rcu_dereference,
 * rcu_assign_pointer, kfree_rcu), kernel/rcu/tree.c (synchronize_rcu, call_rcu, rcu_barrier,
 * rcu_do_batch), kernel/rcu/update.c, Documentation/RCU/whatisRCU.rst and
 * Documentation/RCU/Design/Requirements/Requirements.rst (the grace-period guarantee), v6.12,
 * non-preemptible RCU (CONFIG_PREEMPT_RCU=n).
 *
 * Readers: rcu_read_lock() enters a read-side critical section (nesting allowed) and puts the
 * thread in atomic context, as preempt_disable() does: a step that may sleep inside is a
 * `sleep-in-atomic` finding. rcu_read_unlock() of a section never entered is lockdep's `bad unlock
 * balance` (`bug`).
 *
 * Grace periods: synchronize_rcu() is two steps. The first notes which threads are inside a
 * read-side section now; the second runs once each of them has left that section (its outermost
 * rcu_read_unlock()). Sections that begin after the first step do not hold it up. A region with
 * preemption disabled (a spinlock or rwlock_t held, a bit spinlock, interrupts off) is such a
 * section too, as in the kernel since the RCU flavours were consolidated (v4.20; Requirements.rst,
 * "anything that disables preemption also marks an RCU-sched read-side critical section"); it
 * does not make rcu_read_lock_held() true, so rcu_dereference() inside it is still lockdep's
 * splat (use rcu_dereference_check() with the lock's condition, as the kernel does). A reader that
 * never leaves is a deadlock finding: `... waits for an RCU grace period in synchronize_rcu()
 * (<reader> still inside rcu_read_lock())`. synchronize_rcu() inside a read-side section is
 * `warning: suspicious RCU usage: Illegal synchronize_rcu() in RCU read-side critical section`
 * (and sleep-in-atomic, and a deadlock on itself).
 *
 * Callbacks (design choice): call_rcu(head, func) notes the readers inside a section, as
 * synchronize_rcu() does, and queues the callback; a thread of its own, made by
 * {@link rcu_callback_thread} and added to the scenario's threads, invokes each queued callback
 * once its grace period has ended, in queue order, as rcu_do_batch() does in softirq context: the
 * callback's steps run in atomic context (sleeping in one is a finding) and may be any steps
 * (`yield* kfree(t, obj, at)`). The callback thread is a helper (a daemon: it does not keep the
 * execution going, is never a deadlock itself, and afterAll() does not wait for it); it runs every
 * callback whose grace period ends before the execution does, and rcu_barrier() waits for all
 * queued callbacks. call_rcu() without an rcu_callback_thread() in the scenario is an `error`.
 * This keeps call_rcu() non-blocking, as in the kernel, so code after it races with the readers
 * still inside their sections.
 *
 * Accesses: readers' lock and unlock record ADD on one location (`rcu_state.readers`), so readers
 * commute with each other; the start of a grace period and every wait for one read it, so they are
 * ordered against every reader's entry and exit. The callback queue is a second location.
 *
 * Memory model: rcu_read_lock() has no barrier; rcu_read_unlock() is modeled as a full barrier so
 * that the reader's stores inside its section are visible before a grace period it holds up ends
 * (the kernel gets this from the grace-period machinery's barriers); synchronize_rcu() and
 * call_rcu() are full barriers; callbacks run with their own (sequentially consistent) view.
 *
 * CONFIG_PROVE_RCU: rcu_dereference() outside rcu_read_lock() is `warning: suspicious RCU usage:
 * suspicious rcu_dereference_check() usage`, as lockdep_rcu_suspicious() reports it;
 * rcu_dereference_check(p, c) and rcu_dereference_protected(p, c) take the condition under which
 * the load is legal anyway (the update-side lock held).
 *
 * Left out: preemptible RCU (sleeping inside a section would be allowed there), SRCU, RCU Tasks,
 * rcu_read_lock_bh()/_sched() and their dereferences, expedited grace periods, callback batching and ordering across CPUs (one queue here),
 * and grace periods that end early for lack of readers (they end exactly when the readers leave).
 */
import { access, ADD, autoLoc, bookkeepingAccess, R, setAutoLocValue, W } from "../engine/access.js";
import type { Site } from "../engine/site.js";
import { sitesIn } from "../engine/site.js";
import { HALT, step, type Task, type Waitable } from "../engine/task.js";
import { kfree } from "./slab.js";
import { quiescentStates, setRcuDereferenceCheck } from "../engine/memory.js";
import { subSite, type Step } from "./shared.js";

export { rcu_dereference, rcu_dereference_check, rcu_dereference_protected, rcu_assign_pointer } from "../engine/memory.js";

// CONFIG_PROVE_RCU: rcu_dereference() outside a read-side section is lockdep's splat
// (lockdep_rcu_suspicious(), kernel/locking/lockdep.c; RCU_LOCKDEP_WARN in rcu_dereference_check()).
setRcuDereferenceCheck((t, what) => {
  if (!rcu_read_lock_held(t)) t.warn(`suspicious RCU usage: suspicious ${what}() usage`);
});

const RCU_HELD = "rcu_read_lock()";
const at = sitesIn("kernel/rcu/tree.c", "v6.12");
const RCU_DO_BATCH = at("rcu_do_batch", "invoke a callback whose grace period ended", {
  note: "rcu_do_batch(): callbacks run in softirq context once their grace period has ended",
});
const KFREE_RCU = sitesIn("include/linux/rcupdate.h", "v6.12")("kfree_rcu", "kfree() after a grace period");

/** A thread's read-side state. */
interface Reader {
  /** rcu_read_lock() depth. */
  nesting: number;
  /**
   * Depth of the regions with preemption disabled that are no rcu_read_lock(): spinlocks and
   * rwlock_ts held, bit spinlocks, interrupts disabled ({@link preempt_disable_region}). Since
   * the RCU flavours were consolidated (v4.20), a grace period waits for them as for a read-side
   * section (Documentation/RCU/Design/Requirements/Requirements.rst, "Consolidation").
   */
  preempt: number;
  /** Outermost sections (rcu_read_lock() or preemption disabled, whichever ended last) that have ended. */
  completed: number;
  /**
   * Under tso/pso/rmo, for each of the last sections whose rcu_read_unlock() has run, oldest
   * first, the thread's stores still buffered at that unlock: for a grace period the section ends
   * only once they are visible (RCU's guarantee: what a section did is visible after a grace period
   * that waited for it), without the unlock ordering the thread's later accesses.
   */
  ends: (readonly unknown[])[];
}

/** Readers inside a section when a grace period started, with their completed-section counts. */
type Snapshot = ReadonlyMap<Task, number>;

/** The type of an RCU callback: `void (*func)(struct rcu_head *head)`, as a generator of steps. */
export type rcu_callback_t<H> = (t: Task, head: H) => Step;

interface Callback {
  readonly head: unknown;
  readonly func: rcu_callback_t<unknown>;
  readonly snap: Snapshot;
  readonly by: string;
}

/** One execution's RCU state (kernel/rcu/tree.c's rcu_state, reduced to what the model needs). */
class RcuState {
  readonly loc = autoLoc("rcu_state.readers");
  readonly cbLoc = autoLoc("rcu_state.callbacks");
  readonly readers = new Map<Task, Reader>();
  readonly callbacks: Callback[] = [];
  /** Callbacks dequeued and not finished yet. */
  inFlight = 0;
  thread: Task | null = null;
  constructor() {
    // (Once an execution: the engine drops auto-location values with each new execution, and an
    // execution makes its RcuState before any access to PREEMPT_LOC.)
    setAutoLocValue(PREEMPT_LOC, ZERO);
  }
  reader(t: Task): Reader {
    let r = this.readers.get(t);
    if (r === undefined) this.readers.set(t, (r = { nesting: 0, preempt: 0, completed: 0, ends: [] }));
    return r;
  }
  /**
   * The sections of `t` that have ended for a grace period: those whose unlock has run and whose
   * stores before it (and before every earlier unlock) are visible. No access.
   */
  ended(t: Task): number {
    const r = this.reader(t);
    if (r.ends.length === 0) return r.completed;
    dropVisible(r, t.memory.bufferOf(t)?.entries ?? []);
    return r.completed - r.ends.length;
  }
  /**
   * The readers inside a section now, each with the count of ended sections that ends the one
   * it is in: a reader whose last section's stores are not all visible is still inside it. Records
   * a read of the readers' location (and of such a reader's store buffer). Under rmo every other
   * CPU passes a quiescent state here (see quiescentStates() in memory.ts). `by`: the thread
   * starting the grace period.
   */
  snapshot(by: Task): Snapshot {
    access(this.loc, R);
    access(PREEMPT_LOC, R);
    const m = new Map<Task, number>();
    for (const [t, r] of this.readers) {
      if (r.ends.length > 0) this.readBuffer(t);
      if (r.nesting + r.preempt > 0) m.set(t, r.completed);
      else if (this.ended(t) < r.completed) m.set(t, r.completed - 1);
    }
    quiescentStates(by, new Set([...m.keys()].map((t) => t.id)));
    return m;
  }
  /** Readers of `snap` still inside the section they were in (no access). */
  holding(snap: Snapshot): Task[] {
    const out: Task[] = [];
    for (const [t, c] of snap) if (this.ended(t) <= c) out.push(t);
    return out;
  }
  /** Records what {@link holding} looked at: the readers' location and the snapshot readers' store buffers. */
  readHolding(snap: Snapshot): void {
    access(this.loc, R);
    access(PREEMPT_LOC, R);
    for (const t of snap.keys()) this.readBuffer(t);
  }
  private readBuffer(t: Task): void {
    const buf = t.memory.bufferOf(t);
    if (buf !== null) access(buf.loc, R);
  }
}

/** The key of the execution's RcuState (MemoryHost.local). */
const RCU_STATE = {};
const newRcuState = () => new RcuState();

function rcu(t: Task): RcuState {
  return t.memory.local(RCU_STATE, newRcuState);
}

const names = (ts: readonly Task[]) => ts.map((x) => x.name).join(", ");

/** The wait of synchronize_rcu()'s second step. */
class GracePeriod implements Waitable {
  constructor(
    readonly state: RcuState,
    readonly snap: Snapshot,
  ) {}
  get name(): string {
    return `an RCU grace period in synchronize_rcu() (${names(this.state.holding(this.snap))} still inside rcu_read_lock())`;
  }
  canProceed(): boolean {
    return this.state.holding(this.snap).length === 0;
  }
  waited(): void {
    this.state.readHolding(this.snap);
  }
}

/** The wait of the callback thread: a callback whose grace period has ended. */
class CallbackReady implements Waitable {
  constructor(readonly state: RcuState) {}
  get name(): string {
    const first = this.state.callbacks[0];
    return first === undefined
      ? "RCU callbacks in rcu_do_batch()"
      : `RCU callbacks in rcu_do_batch() (the grace period of ${first.by}'s call_rcu() waits for ${names(this.state.holding(first.snap))} inside rcu_read_lock())`;
  }
  canProceed(): boolean {
    const first = this.state.callbacks[0];
    return first !== undefined && this.state.holding(first.snap).length === 0;
  }
  waited(): void {
    const first = this.state.callbacks[0];
    if (first !== undefined) this.state.readHolding(first.snap);
    else access(this.state.loc, R);
    access(this.state.cbLoc, W);
  }
}

/** The wait of rcu_barrier(): every queued callback invoked. */
class AllCallbacksDone implements Waitable {
  readonly name = "the queued RCU callbacks in rcu_barrier()";
  constructor(readonly state: RcuState) {}
  canProceed(): boolean {
    return this.state.callbacks.length === 0 && this.state.inFlight === 0;
  }
  waited(): void {
    access(this.state.cbLoc, R);
  }
}

/** rcu_read_lock_held(): true inside a read-side critical section (thread-local; no access). */
export function rcu_read_lock_held(t: Task): boolean {
  return (rcu(t).readers.get(t)?.nesting ?? 0) > 0;
}

/**
 * rcu_read_lock(): enters a read-side critical section (nestable); atomic context until the
 * matching unlock. One step; it orders no memory access (preempt_disable() in the kernel, a
 * compiler barrier): under tso/pso/rmo the thread's buffered stores stay buffered.
 */
export function rcu_read_lock(t: Task, at: Site): Step {
  return step(t, at, {}, () => {
    const s = rcu(t);
    bookkeepingAccess(s.loc, ADD);
    s.reader(t).nesting++;
    t.atomicDepth++;
    t.atomicHeld.push(RCU_HELD);
  });
}

/**
 * rcu_read_unlock(): leaves the section; the outermost unlock ends it. One step. It orders
 * nothing for the thread's later accesses (preempt_enable(), or __rcu_read_unlock() without a
 * barrier on its fast path): under tso/pso/rmo the thread's buffered stores stay buffered, and a
 * grace period that waits for the section ends only once the stores buffered at the unlock are
 * visible. Until 2026-12-01 it was a full barrier and rcu_read_lock() a direct write, which hid
 * store reordering and store buffering across them (a new user's trial).
 */
export function rcu_read_unlock(t: Task, at: Site): Step {
  return step(t, at, {}, () => {
    const s = rcu(t);
    bookkeepingAccess(s.loc, ADD);
    const r = s.reader(t);
    if (r.nesting === 0) {
      t.report(
        "bug",
        `lockdep: bad unlock balance detected! ${t.name} is trying to release lock (rcu_read_lock) but there are no more locks to release!`,
      );
      throw HALT;
    }
    if (--r.nesting === 0 && r.preempt === 0) sectionEnded(t, r);
    const i = t.atomicHeld.lastIndexOf(RCU_HELD);
    if (i >= 0) t.atomicHeld.splice(i, 1);
    t.atomicDepth--;
  });
}

/** The outermost section of `t` (rcu_read_lock() or preemption disabled) ended: note the stores still buffered. */
function sectionEnded(t: Task, r: Reader): void {
  r.completed++;
  const entries = t.memory.bufferOf(t)?.entries;
  if (entries === undefined || entries.length === 0) return;
  // (Trimmed here too, not only when a grace period looks: every spin_unlock() ends a section,
  // and a model without grace periods would keep a list as long as its unlocks.)
  dropVisible(r, entries);
  r.ends.push(entries.slice());
}

/** Drops the oldest ended sections of `r` whose stores are all visible (none left in `entries`, the thread's store buffer). */
function dropVisible(r: Reader, entries: readonly unknown[]): void {
  while (r.ends.length > 0 && !r.ends[0]!.some((e) => entries.includes(e))) r.ends.shift();
}

/**
 * Every thread's preemption-disabled regions as one location: entering and leaving one records an
 * ADD (they commute with each other), the start of a grace period and every wait for one a read.
 * Hashed as a constant: what a thread holds follows from its history.
 */
const PREEMPT_LOC = autoLoc("preempt_count");
const ZERO = () => 0;

/**
 * The thread enters a region with preemption disabled that is not rcu_read_lock() (spin_lock(),
 * read_lock(), write_lock(), bit_spin_lock(), local_irq_save(), ...; called inside the step by
 * those primitives): atomic context named `what` (a sleeping step is a `sleep-in-atomic` finding)
 * and, until the matching {@link preempt_enable_region}, an RCU grace period waits for it as for
 * a read-side section. In the kernel (v6.12) synchronize_rcu() and call_rcu() wait for any region
 * with preemption or interrupts disabled ("anything that disables preemption also marks an
 * RCU-sched read-side critical section", Requirements.rst); rcu_read_lock_held() and the
 * rcu_dereference() check still say no, as lockdep does. Before 2026-12-01 a grace period ended
 * while a reader held a spinlock, a false use-after-free (new-user trial 11).
 * @internal
 */
export function preempt_disable_region(t: Task, what: string): void {
  t.atomicDepth++;
  t.atomicHeld.push(what);
  const r = rcu(t).reader(t);
  bookkeepingAccess(PREEMPT_LOC, ADD);
  r.preempt++;
}

/**
 * The thread leaves the innermost region `what` that {@link preempt_disable_region} entered
 * (nothing when it is in none); the outermost one (with no rcu_read_lock() held) ends its section
 * for grace periods.
 * @internal
 */
export function preempt_enable_region(t: Task, what: string): void {
  const i = t.atomicHeld.lastIndexOf(what);
  if (i < 0) return;
  t.atomicHeld.splice(i, 1);
  t.atomicDepth--;
  const r = rcu(t).reader(t);
  bookkeepingAccess(PREEMPT_LOC, ADD);
  if (r.preempt === 0) return;
  if (--r.preempt === 0 && r.nesting === 0) sectionEnded(t, r);
}

/**
 * synchronize_rcu(): waits for a grace period: until every thread inside a read-side section when
 * it was called has left that section. Two steps (`<at's label>: start grace period`, `wait for
 * readers`), both may sleep and are full barriers.
 */
export function synchronize_rcu(t: Task, at: Site): Step {
  return t.made(at, synchronize_rcu_body(t, at));
}

function* synchronize_rcu_body(t: Task, at: Site): Step {
  t.started();
  const s = rcu(t);
  const snap = yield* step(t, subSite(at, "start grace period"), { sleeps: true, fence: true }, () => {
    if (rcu_read_lock_held(t)) t.warn("suspicious RCU usage: Illegal synchronize_rcu() in RCU read-side critical section");
    return s.snapshot(t);
  });
  yield* step(t, subSite(at, "wait for readers"), { waitFor: new GracePeriod(s, snap), sleeps: true, fence: true }, () => quiescentStates(t));
}

/**
 * call_rcu(head, func): queues `func(head)` to run after a grace period (see the file comment for
 * the callback thread). One fully ordered step that never sleeps; `head` is the object the
 * callback gets (the struct that embeds the rcu_head).
 */
export function call_rcu<H>(t: Task, head: H, func: rcu_callback_t<H>, at: Site): Step {
  return step(t, at, { fence: true }, () => {
    const s = rcu(t);
    if (s.thread === null) throw new Error("call_rcu() needs rcu_callback_thread() among the scenario's threads to run its callbacks");
    const snap = s.snapshot(t);
    access(s.cbLoc, W);
    s.callbacks.push({ head, func: func as rcu_callback_t<unknown>, snap, by: t.name });
  });
}

/** kfree_rcu(ptr, rhf): call_rcu() with a callback that kfree()s the object. One step (the kfree() is the callback thread's). */
export function kfree_rcu(t: Task, obj: object, at: Site): Step {
  return call_rcu(t, obj, (ct, o) => kfree(ct, o, KFREE_RCU), at);
}

/**
 * rcu_barrier(): waits until every callback queued so far has been invoked. One step that may
 * sleep.
 */
export function rcu_barrier(t: Task, at: Site): Step {
  return step(t, at, { waitFor: new AllCallbacksDone(rcu(t)), sleeps: true, fence: true });
}

/**
 * The thread that invokes RCU callbacks (rcu_do_batch() in softirq or rcuc kthread context): add
 * it to a scenario's threads when the scenario uses call_rcu() or kfree_rcu(). Each callback is
 * one step `rcu_do_batch() (invoke a callback whose grace period ended)` followed by the
 * callback's own steps, in atomic context. Name it as you like (default `rcu_do_batch`).
 */
export function rcu_callback_thread(name = "rcu_do_batch"): {
  /** The thread's name. */
  readonly name: string;
  /** The thread body: waits for queued callbacks whose grace period ended and runs them. */
  body(t: Task): Step
} {
  return {
    name,
    *body(t: Task): Step {
      const s = rcu(t);
      if (s.thread !== null) throw new Error(`two RCU callback threads (${s.thread.name}, ${t.name}): add rcu_callback_thread() once`);
      s.thread = t;
      // A helper, like a CPU's store buffer: it neither keeps the execution going nor deadlocks.
      t.daemon = true;
      const ready = new CallbackReady(s);
      for (;;) {
        const cb = yield* step(t, RCU_DO_BATCH, { waitFor: ready }, () => {
          quiescentStates(t);
          s.inFlight++;
          return s.callbacks.shift()!;
        });
        t.atomicDepth++;
        t.atomicHeld.push("RCU callback (softirq)");
        yield* cb.func(t, cb.head);
        t.atomicHeld.pop();
        t.atomicDepth--;
        access(s.cbLoc, W);
        s.inFlight--;
      }
    },
  };
}
