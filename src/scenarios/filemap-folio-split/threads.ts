/**
 * The racing code paths of `filemap-folio-split`, as in mm/filemap.c, mm/memory.c, mm/truncate.c
 * and mm/huge_memory.c of v6.18.7: the page-cache lookup (filemap_get_entry()) under
 * filemap_fault() (and do_read_fault(), which it returns to), __filemap_get_folio_mpol(FGP_LOCK)
 * or find_lock_entries(), and __folio_split() under truncate_inode_pages_range(). One `yield` (or
 * `yield*` of a library primitive or `step()`) per atomic step; the step sites are in sites.ts.
 */
import type { ThreadSpec } from "../../engine/scenario.js";
import type { Site } from "../../engine/site.js";
import { load, smp_wmb, store } from "../../engine/memory.js";
import { wait_until } from "../../engine/sync.js";
import { step, type RunConfig, type Task } from "../../engine/task.js";
import {
  folio_contains,
  folio_lock,
  folio_lock_inherited,
  folio_put,
  folio_ref_freeze,
  folio_ref_unfreeze,
  folio_try_get,
  folio_unlock,
  folio_unlock_in_step,
  type PageFolio,
} from "../../linux/folio.js";
import { spin_lock, spin_unlock } from "../../linux/locks.js";
import { folio_trylock } from "../../linux/pagemap.js";
import {
  __xa_store,
  XA_STATE,
  xa_entry,
  xa_peek,
  xa_resume_batching_unpublished,
  XaNode,
  xas_load,
  xas_reload,
  xas_reset,
  xas_retry,
  xas_set_order,
  xas_split,
  xas_split_alloc,
  xas_try_split,
  type XaState,
  type XaWriter,
} from "../../linux/xarray.js";
import { FAULT, FLE, GET, GETLOCK, SPLIT, storeSite } from "./sites.js";
import { nr, type SplitOptions, type SplitState } from "./state.js";

type Step<T = void> = Generator<Site, T, undefined>;
type Cfg = RunConfig<SplitOptions>;

/**
 * Runs an XArray writer as steps: one step for the reads before its first store, then one step
 * per store (stores into a node not yet reachable share the step that publishes it).
 */
function* xaSteps<T>(w: XaWriter<T>, first: Site, what: string): Step<T> {
  yield first;
  let r = w.next();
  while (!r.done) {
    yield storeSite(r.value, what);
    r = xa_resume_batching_unpublished(w);
  }
  return r.value;
}

/**
 * The spin of `goto repeat` on a frozen folio, as a wait: until the folio is unfrozen or the entry
 * for the index changes. The re-run step reads the refcount (recorded by the wait) and reloads the
 * entry (xas_load() records its own reads).
 */
function unfrozenOrReplaced(s: SplitState, folio: PageFolio) {
  return wait_until(
    `${folio} to be unfrozen or replaced`,
    () => folio._refcount.value !== 0 || xa_peek(s.xa, s.index) !== folio,
    [folio._refcount],
  );
}

/**
 * filemap_get_entry(), mm/filemap.c v6.18.7. A failed folio_try_get() on a frozen folio makes the
 * `goto repeat` loop spin; the model waits instead until the refcount or the entry changes (the
 * re-run step reads both), so a split in progress is not mistaken for a livelock.
 */
function* filemap_get_entry(t: Task, s: SplitState, cfg: Cfg): Step<PageFolio | null> {
  const xas = XA_STATE(s.xa, s.index);
  const bound = cfg.params.retries!;
  let frozen: PageFolio | null = null;
  for (;;) {
    yield* step(t, GET.load, frozen === null ? {} : { waitFor: unfrozenOrReplaced(s, frozen) });
    frozen = null;
    xas_reset(xas);
    const entry = xas_load(xas);
    if (xas_retry(xas, entry)) {
      t.retry("filemap_get_entry: repeat", bound);
      continue;
    }
    if (entry === null) {
      t.say("no entry: page cache miss");
      return null;
    }
    const folio = entry as PageFolio;
    t.say(() => `xas_load: ${folio.describe()}`);
    if (!(yield* step(t, GET.tryGet, { fence: true }, () => folio_try_get(t, folio)))) {
      t.say(() => `${folio} is frozen`);
      frozen = folio;
      continue;
    }
    yield GET.reload;
    const again = cfg.options.reloadReturnsHead ? reloadHead(xas) : xas_reload(xas);
    if (again !== folio) {
      t.say("xas_reload() differs: retry");
      yield* step(t, GET.put, { fence: true }, () => folio_put(t, folio));
      t.retry("filemap_get_entry: repeat", bound);
      continue;
    }
    t.say(() => `xas_reload() agrees: ${folio}`);
    // The model's invariant: a page-cache lookup returns a folio that contains the index.
    if (!folio_contains(t, folio, s.index)) t.violated(`filemap_get_entry() returned ${folio} (not containing index ${s.index})`);
    return folio;
  }
}

/** Kiryl Shutsemau's hypothesis: a reload that rereads the head slot the walk resolved to. */
function reloadHead(xas: XaState<PageFolio>) {
  const node = xas.xa_node;
  if (!(node instanceof XaNode)) return xas_reload(xas);
  return xa_entry(xas.xa, node, xas.xa_offset);
}

/**
 * filemap_fault() after retry_find (or __filemap_get_folio_mpol() with FGP_LOCK): look up, lock,
 * then the truncation check and VM_BUG_ON_FOLIO(!folio_contains(folio, index)); the RFC turns a
 * mismatch into a retry, Kiryl Shutsemau's suggestion into a warning and a retry. On success
 * filemap_fault() returns VM_FAULT_LOCKED and do_read_fault() (mm/memory.c) maps the page and
 * unlocks it; the PTE keeps the reference, which the model drops instead (FAULT.done's note).
 */
function* lookup(t: Task, s: SplitState, cfg: Cfg): Step {
  if (cfg.options.lookup === "find_lock_entries") return yield* find_lock_entries(t, s, cfg);
  const S = cfg.options.lookup === "filemap_fault" ? FAULT : GETLOCK;
  const loop = cfg.options.lookup === "filemap_fault" ? "filemap_fault: retry_find" : "__filemap_get_folio_mpol: repeat";
  for (;;) {
    const folio = (s.found = yield* filemap_get_entry(t, s, cfg));
    if (folio === null) return;
    yield* folio_lock(t, folio.lock, S.lock);
    yield S.check;
    if (folio_contains(t, folio, s.index)) {
      t.say("folio contains the index");
      yield* step(t, S.done, { fence: true }, () => {
        folio_put(t, folio);
        folio_unlock_in_step(t, folio.lock);
      });
      return;
    }
    const what = () => `!folio_contains(folio, index): ${folio.describe()}, index ${s.index}`;
    if (cfg.options.onMismatch === "bug") t.bug(`VM_BUG_ON_FOLIO(${what()})`);
    if (cfg.options.onMismatch === "warn-retry") t.warn(`VM_WARN_ON_FOLIO(!folio_contains(folio, index))`);
    t.say(() => `${what()}: retry`);
    yield* step(t, S.retry, { fence: true }, () => {
      folio_unlock_in_step(t, folio.lock);
      folio_put(t, folio);
    });
    t.retry(loop, cfg.params.retries!);
  }
}

/**
 * find_lock_entries() for the one index, mm/filemap.c v6.18.7: find_get_entry() (xas_find over
 * [index, index]: the same try_get / xas_reload protocol as filemap_get_entry), then
 * folio_trylock() — a locked folio is skipped, not waited for — then the mapping/writeback check
 * and VM_BUG_ON_FOLIO(!folio_contains(folio, xas.xa_index)); the RFC skips the entry instead.
 */
function* find_lock_entries(t: Task, s: SplitState, cfg: Cfg): Step {
  const folio = (s.found = yield* filemap_get_entry(t, s, cfg));
  if (folio === null) return;
  if (!(yield* folio_trylock(t, folio.lock, FLE.trylock))) {
    t.say(() => `${folio} is locked: skipped`);
    folio_put(t, folio);
    return;
  }
  yield FLE.check;
  if (!folio_contains(t, folio, s.index)) {
    if (cfg.options.onMismatch === "bug") t.bug(`VM_BUG_ON_FOLIO(!folio_contains(folio, index): ${folio.describe()}, index ${s.index})`);
    if (cfg.options.onMismatch === "warn-retry") t.warn(`VM_WARN_ON_FOLIO(!folio_contains(folio, index))`);
    yield* step(t, FLE.skip, { fence: true }, () => {
      folio_unlock_in_step(t, folio.lock);
      folio_put(t, folio);
    });
    return;
  }
  yield* step(t, FLE.done, { fence: true }, () => {
    folio_unlock_in_step(t, folio.lock);
    folio_put(t, folio);
  });
}

/**
 * __folio_split() of the large folio, as truncate (folio_split, non-uniform, split_at = index) or
 * reclaim (split_huge_page, uniform) runs it, mm/huge_memory.c v6.18.7. The caller holds the folio
 * lock. Leaves out: unmap_folio and mapcounts, the deferred list, memcg and LRU bookkeeping,
 * i_mmap_lock, EOF handling (every new folio stays in the page cache), -ENOMEM.
 */
function* folio_split(t: Task, s: SplitState, cfg: Cfg): Step {
  const F = s.folio;
  const order0 = F.order.value;
  const newOrder = cfg.params.newOrder!;
  const uniform = cfg.options.splitType === "uniform";
  yield* folio_lock(t, F.lock, SPLIT.lockOrig);
  const xas = XA_STATE(s.xa, F.pfn);
  if (uniform) {
    xas_set_order(xas, F.pfn, newOrder);
    yield* xaSteps(xas_split_alloc(xas, F, order0), SPLIT.splitAlloc, "xas_split_alloc");
  }
  yield SPLIT.canSplit;
  const extraPins = nr(order0);
  // can_split_folio(): folio_ref_count() is a plain atomic_read().
  if (load(t, F._refcount) !== 1 + extraPins) {
    t.say("extra reference: -EAGAIN");
    yield* folio_unlock(t, F.lock, SPLIT.unlockOrig);
    return;
  }
  yield* spin_lock(t, s.xa_lock, SPLIT.xasLock);
  yield SPLIT.xasCheck;
  xas_reset(xas);
  if (xas_load(xas) !== F) throw new Error("the folio is not in the page cache");
  if (!(yield* step(t, SPLIT.freeze, { fence: true }, () => folio_ref_freeze(t, F, 1 + extraPins)))) {
    t.say("folio_ref_freeze failed (a lookup holds a reference): -EAGAIN");
    yield* spin_unlock(t, s.xa_lock, SPLIT.xasUnlock);
    yield* folio_unlock(t, F.lock, SPLIT.unlockOrig);
    return;
  }
  // __split_unmapped_folio()
  const stored = (cur: PageFolio) => (cfg.options.xasSplitOriginal ? F : cur);
  let cur = F;
  let oldOrder = order0;
  const orders = uniform ? [newOrder] : Array.from({ length: order0 - newOrder }, (_, i) => order0 - 1 - i);
  for (const so of orders) {
    if (uniform) yield* xaSteps(xas_split(xas, stored(cur), oldOrder), SPLIT.xasSplitWalk, "xas_split");
    else {
      xas_set_order(xas, cur.pfn, so);
      yield* xaSteps(xas_try_split(xas, stored(cur), oldOrder), SPLIT.xasTrySplitWalk, `xas_try_split(${stored(cur)}, order ${oldOrder} -> ${so})`);
    }
    // __split_folio_to_order(cur, oldOrder, so): new folios get ->index and their order; PG_locked copied.
    yield SPLIT.toOrder;
    for (let p = cur.pfn + nr(so); p < cur.pfn + nr(oldOrder); p += nr(so)) {
      const g = s.structs.get(p)!;
      store(t, g.index, cur.pfn + (p - cur.pfn));
      folio_lock_inherited(t, g.lock);
    }
    smp_wmb(t);
    for (let p = cur.pfn + nr(so); p < cur.pfn + nr(oldOrder); p += nr(so)) store(t, s.structs.get(p)!.order, so);
    store(t, cur.order, so);
    t.say(() => `${cur} and its new neighbours are order ${so}`);
    if (!uniform && s.index >= cur.pfn + nr(so)) cur = s.structs.get(cur.pfn + nr(so))!;
    oldOrder = so;
  }
  // Unfreeze the after-split folios in PFN order, each right before its own __xa_store().
  for (const g of [...s.structs.values()].filter((g) => g !== F).sort((a, b) => a.pfn - b.pfn)) {
    yield SPLIT.unfreeze;
    // folio_nr_pages(new_folio) reads this CPU's own store of the order (store forwarding).
    folio_ref_unfreeze(t, g, nr(load(t, g.order)) + 1);
    t.say(() => `${g} unfrozen`);
    if (cfg.options.loseStore && g.pfn <= s.index && s.index < g.pfn + nr(load(t, g.order))) {
      t.say(() => `fault injection: __xa_store(${g}) lost`);
      continue;
    }
    yield* xaSteps(__xa_store(s.xa, g.pfn, g), SPLIT.xaStoreWalk, `__xa_store(${g})`);
  }
  yield SPLIT.unfreezeOrig;
  folio_ref_unfreeze(t, F, nr(load(t, F.order)) + 1);
  yield* spin_unlock(t, s.xa_lock, SPLIT.xasUnlock);
  for (const g of [...s.structs.values()].filter((g) => g !== F).sort((a, b) => a.pfn - b.pfn))
    yield* folio_unlock(t, g.lock, SPLIT.unlockNew);
  yield* folio_unlock(t, F.lock, SPLIT.unlockOrig);
}

/** The threads of one run: the lookup the variant asks for, and the split. */
export function threadsFor(cfg: Cfg): ThreadSpec<SplitState, SplitOptions>[] {
  return [
    { name: cfg.options.lookup, body: lookup },
    { name: cfg.options.splitType === "uniform" ? "split_huge_page" : "folio_split", body: folio_split },
  ];
}
