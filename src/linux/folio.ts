/**
 * struct folio: the folio lock (PG_locked) and the reference count.
 *
 * Source: include/linux/pagemap.h (folio_lock, folio_trylock, folio_unlock), mm/filemap.c
 * (__folio_lock), include/linux/page_ref.h (folio_try_get, folio_ref_freeze, folio_ref_unfreeze),
 * v6.9. folio_lock() may sleep; a folio with a frozen (zero) refcount cannot be got.
 * Left out: PG_waiters and the wait-queue hashing, lock stealing; folio flags other than PG_locked.
 */
import { access, LX, newLoc, R, W } from "../engine/access.js";
import type { Site } from "../engine/site.js";
import type { Task, Waitable } from "../engine/task.js";

export class Folio implements Waitable {
  readonly lockLoc: number;
  readonly refLoc: number;
  readonly name: string;
  owner: Task | null = null;
  private ref: number;
  constructor(
    readonly index: number,
    readonly order: number,
    refcount = 1,
  ) {
    this.name = `folio lock (index ${index})`;
    this.lockLoc = newLoc(`folio@${index}.PG_locked`);
    this.refLoc = newLoc(`folio@${index}._refcount`);
    this.ref = refcount;
  }
  canProceed(): boolean {
    return this.owner === null;
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
  peekRef(): number {
    return this.ref;
  }
}

/** folio_lock(): may sleep. */
export function* folio_lock(t: Task, folio: Folio, at: Site): Generator<Site, void, undefined> {
  t.blockOn(folio, 1);
  t.sleeps = true;
  t.fence = true;
  yield at;
  access(folio.lockLoc, LX);
  folio.owner = t;
}

/** folio_unlock(). */
export function* folio_unlock(t: Task, folio: Folio, at: Site): Generator<Site, void, undefined> {
  t.fence = true;
  yield at;
  if (folio.owner !== t) throw new Error(`folio_unlock by ${t.name}, which does not hold the folio lock`);
  access(folio.lockLoc, LX);
  folio.owner = null;
}
