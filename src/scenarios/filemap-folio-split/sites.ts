/**
 * Step sites of the filemap-folio-split scenario. Versions: mm/filemap.c and mm/huge_memory.c as in
 * v6.18.7 (the crash's kernel; read from 6.18.y with the fix reverted where noted in SOURCES.md),
 * lib/xarray.c and include/linux/xarray.h with v6.18 semantics.
 */
import { sitesIn, type Site } from "../../engine/site.js";
import type { XaStoreStep } from "../../linux/xarray.js";

const filemap = sitesIn("mm/filemap.c", "v6.18.7");
const xarrayH = sitesIn("include/linux/xarray.h", "v6.18");
const xarrayC = sitesIn("lib/xarray.c", "v6.18");
const pageRef = sitesIn("include/linux/page_ref.h", "v6.18");
const hugeMem = sitesIn("mm/huge_memory.c", "v6.18.7");
const truncate = sitesIn("mm/truncate.c", "v6.18.7");

/** filemap_get_entry(): the lockless page-cache lookup. */
export const GET = {
  load: xarrayC("xas_load", "repeat: xas_reset(); folio = xas_load(&xas)", {
    note: "filemap_get_entry(): rcu_dereference of xa_head, node->slots[] (siblings followed)",
  }),
  awaitGet: filemap("filemap_get_entry", "folio frozen: goto repeat (spins until it changes)", {
    note: "modeled as an await: the loop re-runs once the refcount or a slot it read has changed",
  }),
  tryGet: pageRef("folio_try_get", "folio_try_get(folio): atomic_add_unless(&_refcount, 1, 0)"),
  reload: xarrayH("xas_reload", "if (folio != xas_reload(&xas))"),
  put: filemap("filemap_get_entry", "folio_put(folio); goto repeat"),
};

/** filemap_fault() after the lookup. */
export const FAULT = {
  lock: filemap("filemap_fault", "lock_folio_maybe_drop_mmap(): folio_lock"),
  check: filemap("filemap_fault", "folio->mapping != mapping? VM_BUG_ON_FOLIO(!folio_contains(folio, index))", {
    note: "mm/filemap.c:3519 in the crash",
  }),
  retry: filemap("filemap_fault", "folio_unlock(); folio_put(); goto retry_find"),
  done: filemap("filemap_fault", "folio_unlock() (the fault maps the page)"),
};

/** __filemap_get_folio_mpol() with FGP_LOCK (e.g. write_begin), the RFC's first hunk. */
export const GETLOCK = {
  lock: filemap("__filemap_get_folio_mpol", "FGP_LOCK: folio_lock(folio)"),
  check: filemap("__filemap_get_folio_mpol", "folio->mapping != mapping? VM_BUG_ON_FOLIO(!folio_contains(folio, index))"),
  retry: filemap("__filemap_get_folio_mpol", "folio_unlock(); folio_put(); goto repeat"),
  done: filemap("__filemap_get_folio_mpol", "return the locked folio; caller unlocks"),
};

/** find_lock_entries() (truncate, invalidate): trylock, then the same check; the RFC's third hunk. */
export const FLE = {
  trylock: filemap("find_lock_entries", "folio_trylock(folio)? else put: skip the entry"),
  check: filemap("find_lock_entries", "mapping/writeback? VM_BUG_ON_FOLIO(!folio_contains(folio, xas.xa_index))"),
  skip: filemap("find_lock_entries", "unlock: folio_unlock(); put: folio_put(); skip the entry"),
  done: filemap("find_lock_entries", "add the locked folio to the batch (caller unlocks)"),
};

/** __folio_split() and its callers. */
export const SPLIT = {
  lockOrig: truncate("truncate_inode_partial_folio", "folio locked by the truncate path (caller of folio_split)"),
  xasSplitWalk: xarrayC("xas_split", "xas_split(xas, folio, order): walk to the entry"),
  xasTrySplitWalk: xarrayC("xas_try_split", "xas_try_split(xas, folio, order): walk to the entry"),
  xaStoreWalk: xarrayC("__xa_store", "__xa_store(new_folio): walk to the slot"),
  canSplit: hugeMem("__folio_split", "can_split_folio(): folio_ref_count == expected (racy check)"),
  splitAlloc: xarrayC("xas_split_alloc", "uniform: xas_split_alloc() fills new nodes"),
  xasLock: hugeMem("__folio_split", "xas_lock(&xas) (xa_lock of i_pages)"),
  xasCheck: hugeMem("__folio_split", "xas_load(&xas) != folio? -EAGAIN"),
  freeze: pageRef("folio_ref_freeze", "folio_ref_freeze(folio, 1 + extra_pins): cmpxchg to 0"),
  toOrder: hugeMem("__split_folio_to_order", "new folios: ->index, smp_wmb(), order; folio_set_order()"),
  unfreeze: pageRef("folio_ref_unfreeze", "folio_ref_unfreeze(new_folio): atomic_set_release", {
    note: "__folio_split(): after-split folios in PFN order, each before its own __xa_store()",
  }),
  unfreezeOrig: pageRef("folio_ref_unfreeze", "folio_ref_unfreeze(folio): the original, last"),
  xasUnlock: hugeMem("__folio_split", "xas_unlock(&xas)"),
  unlockNew: hugeMem("__folio_split", "folio_unlock(new_folio): after-split folios"),
  abort: hugeMem("__folio_split", "-EAGAIN: back out"),
  unlockOrig: truncate("truncate_inode_partial_folio", "folio_unlock(folio) after the split"),
};

const storeSites = new Map<string, Map<string, Site>>();

/** The site of one XArray store step (one per store the writer makes), cached by its text. */
export function storeSite(step: XaStoreStep, what: string): Site {
  let bySource = storeSites.get(step.source);
  if (bySource === undefined) storeSites.set(step.source, (bySource = new Map()));
  const label = what + ": " + step.code;
  let s = bySource.get(label);
  if (s === undefined) {
    const [file, fn] = step.source.split(": ");
    s = sitesIn(file!, "v6.18")(fn!.replace(/\(\)$/, ""), label);
    bySource.set(label, s);
  }
  return s;
}
