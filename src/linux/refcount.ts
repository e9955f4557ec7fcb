/**
 * refcount_t: a reference count that saturates instead of wrapping, and warns on the misuses that
 * mean a use-after-free or a leak.
 *
 * Source: include/linux/refcount.h (__refcount_add, __refcount_add_not_zero,
 * __refcount_sub_and_test, __refcount_dec) and lib/refcount.c (refcount_warn_saturate), v6.6 to
 * v6.12. Each function is one step on the counter's memory cell.
 *
 * Warnings (`warning` findings, once per kind and execution as WARN_ONCE does), after which the
 * count is set to REFCOUNT_SATURATED and never moves again, as the kernel does:
 * - `refcount_t: addition on 0; use-after-free.` — refcount_inc()/refcount_add() on 0;
 * - `refcount_t: saturated; leaking memory.` — an increment past REFCOUNT_MAX;
 * - `refcount_t: underflow; use-after-free.` — refcount_dec_and_test()/refcount_sub_and_test() below 0;
 * - `refcount_t: decrement hit 0; leaking memory.` — refcount_dec() to 0 (the object is never freed).
 * Each message ends with the refcount's name in parentheses.
 *
 * Ordering (the comment atop lib/refcount.c): increments are relaxed (unordered RMWs); decrements
 * are release operations, with acquire ordering when they hit 0 (modeled fully ordered). Every
 * RMW records W, not ADD: its outcome depends on the value it reads (the checks above), so two
 * increments do not commute in general.
 *
 * Also refcount_dec_not_one, refcount_dec_and_mutex_lock and refcount_dec_and_lock (lib/refcount.c).
 * Left out: refcount_dec_if_one, refcount_dec_and_lock_irqsave; the `unsigned int` view of a
 * saturated count (refcount_read returns the int).
 */
import { W } from "../engine/access.js";
import { atomic_rmw, load, store } from "../engine/memory.js";
import type { Site } from "../engine/site.js";
import { step, type Task } from "../engine/task.js";
import { selfTracked } from "../engine/track.js";
import { atomic_t } from "./atomic.js";
import { rmw_relaxed, subSite, warn_once, type Step } from "./shared.js";
import { mutex_lock, mutex_unlock, spin_lock, spin_unlock, type Mutex, type Spinlock } from "./locks.js";

/** INT_MAX: the largest count (REFCOUNT_MAX). */
export const REFCOUNT_MAX = 0x7fffffff;
/** INT_MIN / 2: where a misused count is parked (REFCOUNT_SATURATED). */
export const REFCOUNT_SATURATED = -0x40000000;

/** refcount_t: `refs` is the atomic_t behind it (`r->refs`). */
export class refcount_t {
  /** The atomic_t behind it (`r->refs`), with the refcount's name. */
  readonly refs: atomic_t;
  constructor(
    /** Name in traces and state tables. */
    readonly name: string,
    n = 1,
  ) {
    this.refs = new atomic_t(name, n);
  }
  /** The count in memory, without recording an access (display, end checks). */
  peek(): number {
    return this.refs.peek();
  }
  /** `<name>=<count in memory>` (see {@link describe}), without recording an access. */
  toString(): string {
    return `${this.name}=${this.describe()}`;
  }
  /**
   * The count in memory for state tables and traces: `2`, or `REFCOUNT_SATURATED (a misuse
   * warned: the count no longer moves)` for a count refcount_warn_saturate() parked (it showed
   * -1073741824), without recording an access.
   */
  describe(): string {
    const v = this.peek();
    return v === REFCOUNT_SATURATED ? "REFCOUNT_SATURATED (a misuse warned: the count no longer moves)" : String(v);
  }
}

/** REFCOUNT_INIT(n): a new refcount_t named `name` holding `n` (create in setup()). */
export function REFCOUNT_INIT(name: string, n = 1): refcount_t {
  return new refcount_t(name, n);
}

type Saturation = "ADD_NOT_ZERO_OVF" | "ADD_OVF" | "ADD_UAF" | "SUB_UAF" | "DEC_LEAK";
const MESSAGES: Record<Saturation, string> = {
  ADD_NOT_ZERO_OVF: "saturated; leaking memory",
  ADD_OVF: "saturated; leaking memory",
  ADD_UAF: "addition on 0; use-after-free",
  SUB_UAF: "underflow; use-after-free",
  DEC_LEAK: "decrement hit 0; leaking memory",
};

/** refcount_warn_saturate(): parks the count at REFCOUNT_SATURATED and warns (in the current step). */
function refcount_warn_saturate(t: Task, r: refcount_t, type: Saturation): void {
  r.refs.counter.poke(REFCOUNT_SATURATED); // refcount_set(r, REFCOUNT_SATURATED), in the RMW step (which recorded W)
  warn_once(t, `refcount_t ${type} ${r.name}`, `refcount_t: ${MESSAGES[type]}. (${r.name})`);
}

const overflows = (old: number, i: number) => old < 0 || old + i > REFCOUNT_MAX || old + i < 0;

/** refcount_set(r, n): atomic_set(&r->refs, n), one step. */
export function refcount_set(t: Task, r: refcount_t, n: number, at: Site): Step {
  return step(t, at, {}, () => store(t, r.refs.counter, n));
}

/** refcount_read(r): atomic_read(&r->refs), one step. */
export function refcount_read(t: Task, r: refcount_t, at: Site): Step<number> {
  return step(t, at, {}, () => load(t, r.refs.counter));
}

/**
 * refcount_add(i, r): atomic_fetch_add_relaxed; warns `addition on 0; use-after-free.` when the
 * count was 0 and `saturated; leaking memory.` on overflow. One step, unordered.
 */
export function refcount_add(t: Task, i: number, r: refcount_t, at: Site): Step {
  return step(t, at, { waitFor: r.refs.visible }, () => {
    const old = rmw_relaxed(t, r.refs.counter, (x) => x + i, W);
    if (old === 0) refcount_warn_saturate(t, r, "ADD_UAF");
    else if (overflows(old, i)) refcount_warn_saturate(t, r, "ADD_OVF");
  });
}

/** refcount_inc(r): refcount_add(1, r); the caller must already hold a reference. */
export function refcount_inc(t: Task, r: refcount_t, at: Site): Step {
  return refcount_add(t, 1, r, at);
}

/**
 * refcount_add_not_zero(i, r): adds unless the count is 0; false when it was 0 (the object is
 * being freed). Relaxed (a control dependency orders later stores). One step.
 */
export function refcount_add_not_zero(t: Task, i: number, r: refcount_t, at: Site): Step<boolean> {
  return step(t, at, { waitFor: r.refs.visible }, () => {
    const old = rmw_relaxed(t, r.refs.counter, (x) => (x === 0 ? 0 : x + i), W);
    if (old !== 0 && overflows(old, i)) refcount_warn_saturate(t, r, "ADD_NOT_ZERO_OVF");
    return old !== 0;
  });
}

/** refcount_inc_not_zero(r): refcount_add_not_zero(1, r). */
export function refcount_inc_not_zero(t: Task, r: refcount_t, at: Site): Step<boolean> {
  return refcount_add_not_zero(t, 1, r, at);
}

/**
 * refcount_sub_and_test(i, r): atomic_fetch_sub_release; true when the count hit 0 (the caller
 * frees the object). Warns `underflow; use-after-free.` below 0. One fully ordered step.
 */
export function refcount_sub_and_test(t: Task, i: number, r: refcount_t, at: Site): Step<boolean> {
  return step(t, at, { fence: true }, () => {
    const old = atomic_rmw(t, r.refs.counter, (x) => x - i);
    if (old === i) return true;
    if (old < 0 || old - i < 0) refcount_warn_saturate(t, r, "SUB_UAF");
    return false;
  });
}

/** refcount_dec_and_test(r): refcount_sub_and_test(1, r). */
export function refcount_dec_and_test(t: Task, r: refcount_t, at: Site): Step<boolean> {
  return refcount_sub_and_test(t, 1, r, at);
}

/**
 * refcount_dec(r): a release decrement that must not hit 0 (else `decrement hit 0; leaking
 * memory.`: nobody frees the object). One fully ordered step.
 */
export function refcount_dec(t: Task, r: refcount_t, at: Site): Step {
  return step(t, at, { fence: true }, () => {
    const old = atomic_rmw(t, r.refs.counter, (x) => x - 1);
    if (old <= 1) refcount_warn_saturate(t, r, "DEC_LEAK");
  });
}

/**
 * refcount_dec_not_one(r) (lib/refcount.c, v6.12): decrements unless the count is 1 (or
 * saturated); true when it decremented (or the count is saturated), false at 1. A count of 0 warns
 * `underflow; use-after-free.` and returns true, as the kernel's cmpxchg loop does. One fully
 * ordered step (the kernel's is a release).
 */
export function refcount_dec_not_one(t: Task, r: refcount_t, at: Site): Step<boolean> {
  return step(t, at, { fence: true }, () => {
    const old = atomic_rmw(t, r.refs.counter, (x) => (x === REFCOUNT_SATURATED || x === 1 || x === 0 ? x : x - 1));
    if (old === 1) return false;
    if (old === 0) refcount_warn_saturate(t, r, "SUB_UAF");
    return true;
  });
}

/**
 * refcount_dec_and_mutex_lock(r, lock) (lib/refcount.c, v6.12): `if (refcount_dec_not_one(r))
 * return false; mutex_lock(lock); if (!refcount_dec_and_test(r)) { mutex_unlock(lock); return
 * false; } return true;` — true, holding `lock`, when the count hit 0 (the caller unlinks and
 * frees under the lock, so a lookup under the same lock cannot take a reference meanwhile). Up to
 * four steps, named `<at's label>: refcount_dec_not_one`, `: mutex_lock`, `: refcount_dec_and_test`,
 * `: mutex_unlock`.
 */
export function refcount_dec_and_mutex_lock(t: Task, r: refcount_t, lock: Mutex, at: Site): Step<boolean> {
  return t.made(at, decAndLock(t, r, at, (s) => mutex_lock(t, lock, s), (s) => mutex_unlock(t, lock, s), "mutex"));
}

/**
 * refcount_dec_and_lock(r, lock) (lib/refcount.c, v6.12): refcount_dec_and_mutex_lock() with a
 * spinlock: true, holding `lock`, when the count hit 0. Up to four steps (`: spin_lock`,
 * `: spin_unlock`).
 */
export function refcount_dec_and_lock(t: Task, r: refcount_t, lock: Spinlock, at: Site): Step<boolean> {
  return t.made(at, decAndLock(t, r, at, (s) => spin_lock(t, lock, s), (s) => spin_unlock(t, lock, s), "spin"));
}

function* decAndLock(t: Task, r: refcount_t, at: Site, lock: (s: Site) => Step, unlock: (s: Site) => Step, kind: "mutex" | "spin"): Step<boolean> {
  t.started();
  if (yield* refcount_dec_not_one(t, r, subSite(at, "refcount_dec_not_one"))) return false;
  yield* lock(subSite(at, `${kind}_lock`));
  if (!(yield* refcount_dec_and_test(t, r, subSite(at, "refcount_dec_and_test")))) {
    yield* unlock(subSite(at, `${kind}_unlock`));
    return false;
  }
  return true;
}

selfTracked(refcount_t);
