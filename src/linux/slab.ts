/**
 * Object lifetime: kmalloc(), kzalloc(), kfree().
 *
 * Source: include/linux/slab.h (kmalloc, kzalloc, kfree), include/linux/gfp.h and gfp_types.h
 * (GFP flags, gfpflags_allow_blocking), mm/slub.c (kfree; the double-free and use-after-free
 * checks are KASAN's, mm/kasan/report.c), v6.12.
 *
 * Objects are plain JS objects (`{ refcount, list, data }`), tracked field by field like the rest
 * of a scenario's plain state (engine/track.ts): every field read and write is an access of its
 * own location. These are step primitives (each is one step of its own, run with `yield*`):
 * - kmalloc(t, init, gfp, at, name?) adopts `init` as a new object, names it after the thread and
 *   its count of publications (`name#N`, or `<thread>#N`) so the same allocation has the same
 *   locations in every execution, and returns it tracked. With a gfp that allows blocking
 *   (GFP_KERNEL, GFP_NOFS, GFP_NOIO) the step may sleep: a `sleep-in-atomic` finding under a
 *   spinlock or in an RCU read-side section; GFP_ATOMIC / GFP_NOWAIT never sleep.
 * - kfree(t, obj, at) records W on every field location of the object (Tracker.fieldLocs), so it
 *   conflicts with every access to it and the reduction explores both orders, and marks it freed:
 *   a later field access is `bug: use-after-free: <thread> accesses <obj>.<field> after kfree()
 *   by <thread>` (KASAN's slab-use-after-free) and a second kfree() is `bug: double free:
 *   <thread> kfree()s <obj>, already freed by <thread>` (KASAN's double-free). kfree(null) does
 *   nothing, as kfree(NULL) does.
 * Members embedded in the object (a `list_head` made with LIST_HEAD_INIT(obj), or any plain
 * object or racelab object marked with {@link embed}: `obj.ref = embed(KREF_INIT("obj->ref"), obj)`
 * for `struct kref ref;`) are named with it and freed with it: kfree() records W on their
 * locations too, and a later access to them is a use-after-free, also through a pointer taken
 * before the kfree() (`r = &obj->ref; ... kref_get(r)`). A racelab object in a field without
 * embed() is taken as a pointer to an object that lives elsewhere (`refcount_t *rc`): it is not
 * freed.
 *
 * Left out: allocation failure (kmalloc never returns NULL), sizes and slab caches
 * (kmem_cache_alloc/free: use kmalloc/kfree), uninitialized memory (kmalloc'ed fields hold what
 * `init` gives them, as kzalloc would), reuse of freed memory by a later allocation, accesses
 * through a pointer saved before the kfree() to a member not marked embedded (not checked), and
 * reads of fields the object did not have when freed (they are use-after-free bugs but are not
 * ordered against the kfree() by the reduction).
 */
import { blindAccess, locationCount, locContainer, locOwner, markLocationsFreed, W } from "../engine/access.js";
import type { Site } from "../engine/site.js";
import { HALT, isHoldable, step, Task } from "../engine/task.js";
import { CONTAINER, isSelfTracked, untracked } from "../engine/track.js";
import type { Step } from "./shared.js";

/** gfp_t: allocation flags. */
export type gfp_t = number;
/** __GFP_HIGH: may use emergency reserves. */
export const __GFP_HIGH = 0x20;
/** __GFP_IO: may start physical I/O. */
export const __GFP_IO = 0x40;
/** __GFP_FS: may call into the filesystem. */
export const __GFP_FS = 0x80;
/** __GFP_ZERO: return zeroed memory. */
export const __GFP_ZERO = 0x100;
/** __GFP_DIRECT_RECLAIM: may enter direct reclaim, i.e. sleep. */
export const __GFP_DIRECT_RECLAIM = 0x400;
/** __GFP_KSWAPD_RECLAIM: may wake kswapd. */
export const __GFP_KSWAPD_RECLAIM = 0x800;
/** __GFP_RECLAIM: both reclaim flags. */
export const __GFP_RECLAIM = __GFP_DIRECT_RECLAIM | __GFP_KSWAPD_RECLAIM;
/** GFP_ATOMIC: never sleeps. */
export const GFP_ATOMIC = __GFP_HIGH | __GFP_KSWAPD_RECLAIM;
/** GFP_KERNEL: may sleep. */
export const GFP_KERNEL = __GFP_RECLAIM | __GFP_IO | __GFP_FS;
/** GFP_NOWAIT: never sleeps. */
export const GFP_NOWAIT = __GFP_KSWAPD_RECLAIM;
/** GFP_NOIO: may sleep, no I/O. */
export const GFP_NOIO = __GFP_RECLAIM;
/** GFP_NOFS: may sleep, no filesystem calls. */
export const GFP_NOFS = __GFP_RECLAIM | __GFP_IO;

/** gfpflags_allow_blocking(gfp): true when an allocation with `gfp` may sleep. */
export function gfpflags_allow_blocking(gfp: gfp_t): boolean {
  return (gfp & __GFP_DIRECT_RECLAIM) !== 0;
}

/**
 * Marks `member` as embedded in `container` (a struct member, not a pointer): kmalloc() names it
 * with its container, kfree() frees it with its container (a later access to it, also through a
 * pointer taken before, is a use-after-free), and container_of(member) returns the container.
 * `member` is a plain object or a racelab object (a `kref`, `refcount_t`, lock). Returns
 * `member`. LIST_HEAD_INIT(container) (list.ts) does this for list heads.
 */
export function embed<M extends object>(member: M, container: object): M {
  Object.defineProperty(untracked(member), CONTAINER, { value: untracked(container), enumerable: false, configurable: true });
  return member;
}

/** container_of(member): the object `member` is embedded in (see {@link embed}), or null. */
export function container_of<T = unknown>(member: object): T | null {
  return ((untracked(member) as Record<symbol, unknown>)[CONTAINER] as T | undefined) ?? null;
}

/** The object's embedded members (own fields whose value is embedded in it). */
function embedded(raw: object): object[] {
  const out: object[] = [];
  for (const v of Object.values(raw)) if (v !== null && typeof v === "object" && container_of(v) === raw) out.push(v);
  return out;
}

/**
 * kmalloc(size, gfp): a new object adopted from `init` (a fresh plain object), named `name#N`
 * (default: the thread's name) and returned tracked. One step; may sleep when the gfp allows
 * blocking. Throws Error (an `error` finding) when `init` itself is a racelab object (a lock, a
 * Cell): kmalloc() adopts a plain struct. Its fields may hold racelab objects, which cannot be
 * created inside a step: create each Cell or lock in setup() (a pool in the state), and in the
 * step {@link embed} it in the new struct (`n.next = embed(s.pool[0], n)`), so that it is a
 * member: kfree(n) frees it too, and a later access to it is a use-after-free. A racelab object put in a field
 * without embed() is a pointer to one that lives elsewhere: kfree() leaves it alone. Memory is
 * never reused: a kmalloc() after a kfree() is a new object, and any access to the freed one
 * stays a use-after-free.
 */
export function kmalloc<T extends object>(t: Task, init: T, gfp: gfp_t, at: Site, name?: string): Step<T> {
  return step(t, at, { sleeps: gfpflags_allow_blocking(gfp) }, () => {
    const raw = untracked(init);
    if (isSelfTracked(raw)) throw new Error(`kmalloc() of a racelab object (${raw.constructor.name}): allocate the struct that contains it`);
    t.tracker.name(raw, name);
    const id = t.tracker.idOf(raw);
    for (const [k, v] of Object.entries(raw))
      if (v !== null && typeof v === "object" && container_of(v) === raw) t.tracker.name(v, `${id}.${k}`);
    return t.tracker.wrap(init);
  });
}

/** kzalloc(size, gfp): kmalloc() of zeroed memory; the same here (`init` gives every field its value). */
export function kzalloc<T extends object>(t: Task, init: T, gfp: gfp_t, at: Site, name?: string): Step<T> {
  return kmalloc(t, init, gfp | __GFP_ZERO, at, name);
}

/**
 * kfree(obj): frees the object and its members marked with {@link embed} in one step, recording W
 * on every field location and every location of an embedded racelab object; a later access to any
 * of them is a `bug: use-after-free` finding, a double free a `bug` finding; both stop the
 * execution. A racelab object in a field not marked with embed() is a pointer and is not freed.
 * Does nothing for null / undefined.
 */
export function kfree(t: Task, obj: object | null | undefined, at: Site): Step {
  return step(t, at, {}, () => kfree_in_step(t, obj));
}

/**
 * The effect of kfree() inside the current step (for a release function or RCU callback body
 * that frees in the same step as other work); kfree() is the step primitive.
 */
export function kfree_in_step(t: Task, obj: object | null | undefined): void {
  if (obj === null || obj === undefined) return;
  const raw = untracked(obj);
  if (isSelfTracked(raw)) throw new Error(`kfree() of a racelab object (${raw.constructor.name}): free the struct that contains it`);
  const all = [raw, ...embedded(raw)];
  // debug_check_no_locks_freed() (kernel/locking/lockdep.c, print_freed_lock_bug()).
  for (const o of all)
    if (isHoldable(o) && o.holdMode(t) > 0)
      t.warn(`held lock freed! ${t.name} is freeing memory ${t.tracker.idOf(raw)}, with a lock still held there! (${(o as { name?: string }).name ?? "a lock"})`);
  // The locations of the racelab objects embedded in it (a kref, a refcount_t, a lock).
  const kernelLocs = locationsOf(all.filter((o) => isSelfTracked(o)));
  // Blind: kfree() returns nothing (a double free is a finding that stops the execution).
  for (const o of all) for (const loc of t.tracker.fieldLocs(o)) blindAccess(loc, W);
  for (const loc of kernelLocs) blindAccess(loc, W);
  const by = t.tracker.freedBy(raw);
  if (by !== undefined) {
    t.report("bug", `double free: ${t.name} kfree()s ${t.tracker.idOf(raw)}, already freed by ${by}`);
    throw HALT;
  }
  for (const o of all) t.tracker.markFreed(o, t.name);
  if (kernelLocs.length > 0) markLocationsFreed(kernelLocs, t.name);
}

/**
 * Every location owned by racelab objects `roots` or by the racelab objects they hold (a kref's
 * refcount_t and its counter): what a kfree() of their container frees.
 */
function locationsOf(roots: object[]): number[] {
  if (roots.length === 0) return [];
  const objs = new Set<object>();
  const visit = (o: object) => {
    if (objs.has(o)) return;
    objs.add(o);
    // (Not the threads a lock names as its holders: a freed mutex does not free its owner.)
    for (const v of Object.values(o)) if (v !== null && typeof v === "object" && isSelfTracked(untracked(v)) && !(untracked(v) instanceof Task)) visit(untracked(v));
  };
  for (const r of roots) visit(r);
  const out: number[] = [];
  for (let loc = 0; loc < locationCount(); loc++) {
    const owner = locOwner(loc);
    const o = typeof owner === "function" ? locContainer(loc) : owner;
    if (o !== undefined && objs.has(o)) out.push(loc);
  }
  return out;
}
