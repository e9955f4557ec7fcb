/**
 * struct kref: a refcount_t with a release callback.
 *
 * Source: include/linux/kref.h (kref_init, kref_read, kref_get, kref_put, kref_put_mutex,
 * kref_put_lock, kref_get_unless_zero), v6.12. Each operation is the refcount_t step it wraps (refcount.ts), so
 * the same warnings apply (`refcount_t: addition on 0; use-after-free.` for a kref_get() on a
 * dying object). The release function runs in the caller's thread right after the last put, as
 * in the kernel, and may take steps of its own (typically `yield* kfree(t, obj, at)`).
 * kref_put_mutex() and kref_put_lock() take the lock only when the count may hit 0
 * (refcount_dec_and_mutex_lock(), refcount_dec_and_lock()) and run the release with it held.
 */
import type { Site } from "../engine/site.js";
import type { Task } from "../engine/task.js";
import { selfTracked } from "../engine/track.js";
import type { Mutex, Spinlock } from "./locks.js";
import {
  refcount_dec_and_lock,
  refcount_dec_and_mutex_lock,
  refcount_dec_and_test,
  refcount_inc,
  refcount_inc_not_zero,
  refcount_read,
  refcount_set,
  refcount_t,
} from "./refcount.js";
import type { Step } from "./shared.js";

/** struct kref. */
export class kref {
  /** The count (`kref->refcount`), a refcount_t with the kref's name. */
  readonly refcount: refcount_t;
  constructor(
    /** Name in traces and state tables. */
    readonly name: string,
    n = 1,
  ) {
    this.refcount = new refcount_t(name, n);
  }
  /** The count in memory, without recording an access (display, end checks). */
  peek(): number {
    return this.refcount.peek();
  }
}

/** KREF_INIT(n): a new kref named `name` holding `n` (create in setup()). */
export function KREF_INIT(name: string, n = 1): kref {
  return new kref(name, n);
}

/** The release callback of kref_put(): `void (*release)(struct kref *kref)`, as a generator of steps. */
export type kref_release_t = (t: Task, ref: kref) => Step;

/** kref_init(kref): refcount_set(&kref->refcount, 1), one step. */
export function kref_init(t: Task, ref: kref, at: Site): Step {
  return refcount_set(t, ref.refcount, 1, at);
}

/** kref_read(kref): refcount_read(), one step. */
export function kref_read(t: Task, ref: kref, at: Site): Step<number> {
  return refcount_read(t, ref.refcount, at);
}

/** kref_get(kref): refcount_inc(); warns `addition on 0; use-after-free.` on a released kref. */
export function kref_get(t: Task, ref: kref, at: Site): Step {
  return refcount_inc(t, ref.refcount, at);
}

/** kref_get_unless_zero(kref): refcount_inc_not_zero(); false (0 in C) when the count was 0. */
export function kref_get_unless_zero(t: Task, ref: kref, at: Site): Step<boolean> {
  return refcount_inc_not_zero(t, ref.refcount, at);
}

/**
 * kref_put(kref, release): drops a reference; when it was the last, runs `release` (its steps
 * follow the decrement) and returns 1, else 0.
 */
export function kref_put(t: Task, ref: kref, release: kref_release_t, at: Site): Step<0 | 1> {
  return t.made(at, kref_put_body(t, ref, release, at));
}

function* kref_put_body(t: Task, ref: kref, release: kref_release_t, at: Site): Step<0 | 1> {
  t.started();
  if (yield* refcount_dec_and_test(t, ref.refcount, at)) {
    yield* release(t, ref);
    return 1;
  }
  return 0;
}

/**
 * kref_put_mutex(kref, release, lock) (include/linux/kref.h, v6.12): refcount_dec_and_mutex_lock();
 * when the count hit 0, runs `release` with `lock` held (release must mutex_unlock() it) and
 * returns 1, else 0. For objects a lookup finds under `lock`: the lookup cannot take a reference
 * between the last put and the unlink.
 */
export function kref_put_mutex(t: Task, ref: kref, release: kref_release_t, lock: Mutex, at: Site): Step<0 | 1> {
  return t.made(at, kref_put_locked(t, ref, release, refcount_dec_and_mutex_lock(t, ref.refcount, lock, at)));
}

/** kref_put_lock(kref, release, lock): {@link kref_put_mutex} with a spinlock (refcount_dec_and_lock()); release must spin_unlock() it. */
export function kref_put_lock(t: Task, ref: kref, release: kref_release_t, lock: Spinlock, at: Site): Step<0 | 1> {
  return t.made(at, kref_put_locked(t, ref, release, refcount_dec_and_lock(t, ref.refcount, lock, at)));
}

function* kref_put_locked(t: Task, ref: kref, release: kref_release_t, dec: Step<boolean>): Step<0 | 1> {
  t.started();
  if (yield* dec) {
    yield* release(t, ref);
    return 1;
  }
  return 0;
}

selfTracked(kref);
