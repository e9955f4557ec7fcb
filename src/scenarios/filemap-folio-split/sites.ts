/**
 * Step sites of the filemap-folio-split scenario. Versions: mm/filemap.c, mm/huge_memory.c,
 * mm/memory.c and mm/truncate.c as in v6.18.7 (the crash's kernel; read from 6.18.y with the fix
 * reverted, or from later trees, as SOURCES.md says per file), lib/xarray.c and
 * include/linux/xarray.h with v6.18 semantics. test/fixtures/kernel-functions.json records where
 * each function is defined.
 */
import { sitesIn, type Site } from "../../engine/site.js";
import type { XaStoreStep } from "../../linux/xarray.js";

const filemap = sitesIn("mm/filemap.c", "v6.18.7");
const xarrayH = sitesIn("include/linux/xarray.h", "v6.18");
const xarrayC = sitesIn("lib/xarray.c", "v6.18");
const pageRef = sitesIn("include/linux/page_ref.h", "v6.18");
const hugeMem = sitesIn("mm/huge_memory.c", "v6.18.7");
const truncate = sitesIn("mm/truncate.c", "v6.18.7");
const memory = sitesIn("mm/memory.c", "v6.18.7");

/** filemap_get_entry(): the lockless page-cache lookup. */
export const GET = {
  load: xarrayC("xas_load", "repeat: xas_reset(); folio = xas_load(&xas)", {
    note: "filemap_get_entry(): rcu_dereference of xa_head, node->slots[] (siblings followed)",
  }),
  tryGet: pageRef("folio_try_get", "folio_try_get(folio): atomic_add_unless(&_refcount, 1, 0)"),
  reload: xarrayH("xas_reload", "if (folio != xas_reload(&xas))"),
  put: filemap("filemap_get_entry", "folio_put(folio); goto repeat"),
};

/** filemap_fault() after the lookup, and the fault handler it returns to. */
export const FAULT = {
  lock: filemap("filemap_fault", "lock_folio_maybe_drop_mmap(): folio_lock"),
  check: filemap("filemap_fault", "folio->mapping != mapping? VM_BUG_ON_FOLIO(!folio_contains(folio, index))", {
    note: "mm/filemap.c:3519 in the crash",
  }),
  retry: filemap("filemap_fault", "folio_unlock(); folio_put(); goto retry_find"),
  done: memory("do_read_fault", "finish_fault(): the PTE takes the reference; folio_unlock()", {
    note:
      "filemap_fault() returns VM_FAULT_LOCKED with the folio locked and referenced (vmf->page); do_read_fault() maps it " +
      "with finish_fault(), which 'on success ... consumes a reference of a page being mapped (for the PTE which maps it)', " +
      "then folio_unlock(); folio_put() only on error (a write fault on a shared mapping: do_shared_fault(), where " +
      "fault_dirty_shared_page() unlocks). The model drops the reference here instead of keeping it for the PTE: it models " +
      "no mapcount and no unmap_folio(); the kernel's can_split_folio() allows for folio_mapcount(), the model's checks " +
      "refcount == 1 + extra_pins, so a kept reference would make every later split of the folio fail",
  }),
};

/** __filemap_get_folio_mpol() with FGP_LOCK (e.g. write_begin), the RFC's first hunk. */
export const GETLOCK = {
  lock: filemap("__filemap_get_folio_mpol", "FGP_LOCK: folio_lock(folio)"),
  check: filemap("__filemap_get_folio_mpol", "folio->mapping != mapping? VM_BUG_ON_FOLIO(!folio_contains(folio, index))"),
  retry: filemap("__filemap_get_folio_mpol", "folio_unlock(); folio_put(); goto repeat"),
  done: filemap("__filemap_get_folio_mpol", "return the locked folio; caller unlocks", {
    note: "the model unlocks and puts the folio in this step, for the caller (e.g. ->write_begin and ->write_end), which is left out",
  }),
};

/** find_lock_entries() (truncate, invalidate): trylock, then the same check; the RFC's third hunk. */
export const FLE = {
  trylock: filemap("find_lock_entries", "folio_trylock(folio)? else put: skip the entry"),
  check: filemap("find_lock_entries", "mapping/writeback? VM_BUG_ON_FOLIO(!folio_contains(folio, xas.xa_index))"),
  skip: filemap("find_lock_entries", "unlock: folio_unlock(); put: folio_put(); skip the entry"),
  done: filemap("find_lock_entries", "add the locked folio to the batch (caller unlocks)", {
    note: "the model unlocks and puts the folio in this step, for the caller (truncate_inode_pages_range()'s folio_unlock() and folio_batch_release())",
  }),
};

/** __folio_split() and its callers. */
export const SPLIT = {
  lockOrig: truncate("truncate_inode_pages_range", "__filemap_get_folio(FGP_LOCK): the folio to split is locked", {
    note:
      "then truncate_inode_partial_folio() splits it (folio_split_or_unmap() -> folio_split()); under the uniform-split " +
      "variants the caller is reclaim, whose locking is not modeled separately",
  }),
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
  unlockOrig: truncate("truncate_inode_pages_range", "folio_unlock(folio) after truncate_inode_partial_folio()"),
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
