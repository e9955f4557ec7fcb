/**
 * struct folio: the folio lock (PG_locked) and the reference count.
 *
 * Source: include/linux/pagemap.h (folio_lock, folio_trylock, folio_unlock), mm/filemap.c
 * (__folio_lock), include/linux/page_ref.h (folio_try_get, folio_ref_freeze, folio_ref_unfreeze),
 * v6.9. folio_lock() may sleep; a folio with a frozen (zero) refcount cannot be got.
 * Left out: PG_waiters and the wait-queue hashing, lock stealing; folio flags other than PG_locked.
 */
import { access, blindAccess, LX, newLoc, R, W } from "../engine/access.js";
import { atomic_rmw, Cell, load, store } from "../engine/memory.js";
import type { Site } from "../engine/site.js";
import type { Holdable, Task, Waitable } from "../engine/task.js";
import { selfTracked } from "../engine/track.js";

/**
 * A page-cache folio as its lock and reference count (sequentially consistent; see
 * {@link PageFolio} for a folio whose fields go through the memory model). Create in setup().
 */
export class Folio implements Waitable, Holdable {
  /** Location of PG_locked (folio_lock/folio_unlock record LX on it). */
  readonly lockLoc: number;
  /** Location of _refcount. */
  readonly refLoc: number;
  /** `folio lock (index N)`, as waits and deadlocks name it. */
  readonly name: string;
  /** The thread holding PG_locked, or null (read it through folio_lock()/trylock, not directly, in steps). */
  owner: Task | null = null;
  /** Holdable: 2 when `t` holds PG_locked (the only location folio_lock records LX on). */
  holdMode(t: Task): number {
    return this.owner === t ? 2 : 0;
  }
  private ref: number;
  constructor(
    /** folio->index: the first page-cache index the folio covers. */
    readonly index: number,
    /** The folio's order (folio_nr_pages() = 2^order). */
    readonly order: number,
    refcount = 1,
  ) {
    this.name = `folio lock (index ${index})`;
    this.lockLoc = newLoc(`folio@${index}.PG_locked`, this);
    this.refLoc = newLoc(`folio@${index}._refcount`, this);
    this.ref = refcount;
  }
  canProceed(): boolean {
    return this.owner === null;
  }
  /** Waitable: folio_lock() is an exclusive operation on PG_locked. */
  waited(): void {
    access(this.lockLoc, LX);
  }
  /** folio_try_get(): takes a reference unless the count is frozen at zero. */
  tryGet(): boolean {
    access(this.refLoc, W);
    if (this.ref === 0) return false;
    this.ref++;
    return true;
  }
  /** folio_put(). */
  put(): void {
    access(this.refLoc, W);
    this.ref--;
  }
  /** folio_ref_freeze(): sets the count to 0 if it equals `expected`. */
  refFreeze(expected: number): boolean {
    access(this.refLoc, W);
    if (this.ref !== expected) return false;
    this.ref = 0;
    return true;
  }
  /** folio_ref_unfreeze(). */
  refUnfreeze(count: number): void {
    access(this.refLoc, W);
    this.ref = count;
  }
  /** folio_ref_count(). */
  refCount(): number {
    access(this.refLoc, R);
    return this.ref;
  }
  /** The reference count without recording an access (display, end checks). */
  peekRef(): number {
    return this.ref;
  }
}

/** folio_lock(): may sleep. */
export function folio_lock(t: Task, folio: Folio, at: Site): Generator<Site, void, undefined> {
  return t.made(at, folio_lock_body(t, folio, at));
}

function* folio_lock_body(t: Task, folio: Folio, at: Site): Generator<Site, void, undefined> {
  t.started();
  t.blockOn(folio, 1);
  t.sleeps = true;
  t.fence = true;
  yield at;
  blindAccess(folio.lockLoc, LX);
  folio.owner = t;
}

/** folio_unlock(). */
export function folio_unlock(t: Task, folio: Folio, at: Site): Generator<Site, void, undefined> {
  return t.made(at, folio_unlock_body(t, folio, at));
}

function* folio_unlock_body(t: Task, folio: Folio, at: Site): Generator<Site, void, undefined> {
  t.started();
  t.fence = true;
  yield at;
  if (folio.owner !== t) throw new Error(`folio_unlock by ${t.name}, which does not hold the folio lock`);
  blindAccess(folio.lockLoc, LX);
  folio.owner = null;
}

/**
 * A page-cache folio whose fields other CPUs read without locks, for memory-model scenarios:
 * `_refcount`, `index` and the order are memory cells (src/engine/memory.ts), so under tso/pso
 * stores to them become visible late. `pfn` names the struct (the head page's offset).
 *
 * Source: include/linux/page_ref.h (folio_try_get = atomic_add_unless(&_refcount, 1, 0), fully
 * ordered; folio_ref_freeze = atomic_cmpxchg(count, 0), fully ordered; folio_ref_unfreeze =
 * atomic_set_release), include/linux/pagemap.h (folio_contains: index - folio->index <
 * folio_nr_pages(folio)), v6.18.
 */
export class PageFolio {
  /** PG_locked (the folio lock). */
  readonly lock: Folio;
  /** folio->_refcount, read and written through the memory model. */
  readonly _refcount: Cell<number>;
  /** folio->index. */
  readonly index: Cell<number>;
  /** The folio's order (as folio_order() reads it from the flags). */
  readonly order: Cell<number>;
  constructor(
    /** The head page's offset: names the struct (`folio@<pfn>`) whatever its index becomes. */
    readonly pfn: number,
    order: number,
    refcount: number,
  ) {
    this.lock = new Folio(pfn, order);
    this._refcount = new Cell(`folio@${pfn}._refcount`, refcount);
    this.index = new Cell(`folio@${pfn}.index`, pfn);
    this.order = new Cell(`folio@${pfn}.order`, order);
  }
  /** `folio@<pfn>`. */
  toString(): string {
    return `folio@${this.pfn}`;
  }
  /** `folio@<index> order <order>` from memory, without recording (display). */
  describe(): string {
    return `folio@${this.index.peek()} order ${this.order.peek()}`;
  }
}

/** folio_try_get(): fully ordered add-unless-zero. The step must set `t.fence` before its yield. */
export function folio_try_get(t: Task, f: PageFolio): boolean {
  return atomic_rmw(t, f._refcount, (v) => (v === 0 ? 0 : v + 1)) !== 0;
}

/** folio_put(): a fully ordered decrement (the last put would free the folio: not modeled). */
export function folio_put(t: Task, f: PageFolio): void {
  atomic_rmw(t, f._refcount, (v) => v - 1);
}

/** folio_ref_freeze(): cmpxchg(count -> 0), fully ordered. True when frozen. */
export function folio_ref_freeze(t: Task, f: PageFolio, count: number): boolean {
  return atomic_rmw(t, f._refcount, (v) => (v === count ? 0 : v)) === count;
}

/** folio_ref_unfreeze(): atomic_set_release(&_refcount, count), a release store. */
export function folio_ref_unfreeze(t: Task, f: PageFolio, count: number): void {
  store(t, f._refcount, count, true);
}

/** folio_contains(folio, index): plain loads of folio->index and the order. */
export function folio_contains(t: Task, f: PageFolio, index: number): boolean {
  const start = load(t, f.index);
  return index >= start && index - start < 2 ** load(t, f.order);
}

/** Takes the folio lock inside a step, for PG_locked copied to a new folio (__split_folio_to_order). */
export function folio_lock_inherited(t: Task, f: Folio): void {
  blindAccess(f.lockLoc, LX);
  f.owner = t;
}

/** folio_unlock() inside the current step (for code that unlocks and goes on atomically). */
export function folio_unlock_in_step(t: Task, f: Folio): void {
  if (f.owner !== t) throw new Error(`folio_unlock by ${t.name}, which does not hold ${f.name}`);
  blindAccess(f.lockLoc, LX);
  f.owner = null;
}

// racelab objects record their own accesses (see engine/track.ts).
selfTracked(Folio, PageFolio);
