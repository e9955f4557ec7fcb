/**
 * folio_trylock() (include/linux/pagemap.h, v6.18):
 *
 * ```c
 * static inline bool folio_trylock(struct folio *folio)
 * {
 * 	return likely(!test_and_set_bit_lock(PG_locked, folio_flags(folio, 0)));
 * }
 * ```
 *
 * A step of its own that never waits: it takes PG_locked when it is clear (an exclusive operation
 * on the lock, as folio_lock()), and otherwise only reads it — a failed test_and_set_bit_lock()
 * changes nothing, so two failed trylocks commute. Like the other lock operations here it is a
 * full barrier (the step runs once the thread's stores are visible).
 *
 * Kept apart from folio.ts (whose folio_lock()/folio_unlock() it complements) while that file is
 * being migrated; it belongs there.
 */
import { access, LX, R } from "../engine/access.js";
import type { Site } from "../engine/site.js";
import { step, type Task } from "../engine/task.js";
import type { Folio } from "./folio.js";
import { tryFailed, tryTook } from "./shared.js";

/** folio_trylock(): one step; true when the thread now holds the folio lock. */
export function folio_trylock(t: Task, folio: Folio, at: Site): Generator<Site, boolean, undefined> {
  return step(t, at, { fence: true }, () => {
    if (folio.owner !== null) {
      access(folio.lockLoc, R);
      return tryFailed(t, "folio_trylock", "the folio lock", `held by ${folio.owner.name}`);
    }
    access(folio.lockLoc, LX);
    folio.owner = t;
    return tryTook(t, "folio_trylock", "the folio lock");
  });
}
