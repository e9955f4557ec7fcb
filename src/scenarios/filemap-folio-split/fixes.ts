/**
 * Fixes and variants of `filemap-folio-split`, and the thread they come from: "[PATCH RFC 1/1]
 * mm/filemap: handle large folio split race in page cache lookups" (Chris J Arges, 2026-03-05)
 * with the replies of Matthew Wilcox and Kiryl Shutsemau, and the mainline fix 577a1f495fd7.
 * A fix is a code path the threads take (an option); a variant is which lookup and which split
 * race, under which memory model, or a hypothesis or fault injection from the thread.
 */
import type { Fix, SourceRef, Variant } from "../../engine/scenario.js";
import type { SplitOptions } from "./state.js";

export const SEED: SourceRef = {
  seed: "001_67cec1cb130c3fac.txt",
  author: "Chris J Arges",
  date: "2026-03-05",
  subject: "[PATCH RFC 1/1] mm/filemap: handle large folio split race in page cache lookups",
};
export const msg = (author: string, date: string, quote: string): SourceRef => ({ ...SEED, author, date, quote });

export const fixes: Fix<SplitOptions>[] = [
  {
    id: "baseline",
    title: "v6.18.7",
    description: "VM_BUG_ON_FOLIO(!folio_contains(folio, index)) after the lookup; folio_split() as in v6.18.7.",
    source: msg("Chris J Arges", "2026-03-05", "kernel BUG at mm/filemap.c:3519!"),
    options: {},
  },
  {
    id: "rfc-retry",
    title: "RFC 1/1: treat !folio_contains like truncation and retry",
    description: "filemap_fault, __filemap_get_folio_mpol and find_lock_entries unlock, put and retry instead of the VM_BUG_ON.",
    source: msg("Chris J Arges", "2026-03-05", "This RFC patch extends the existing truncation retry checks to also cover the case where the folio no longer contains the target index."),
    options: { onMismatch: "retry" },
  },
  {
    id: "warn-retry",
    title: "warn, then retry (Kiryl Shutsemau)",
    description: "Downgrade the VM_BUG_ON_FOLIO() to a warning and retry.",
    source: msg("Kiryl Shutsemau", "2026-03-06", "It would be better to downgrade the VM_BUG_ON_FOLIO() to a warning + retry."),
    options: { onMismatch: "warn-retry" },
  },
  {
    id: "split-original-folio",
    title: "mainline 577a1f495fd7: xas_try_split() with the original folio (Zi Yan)",
    description:
      "Not in the thread: mm/huge_memory: fix a folio_split() race condition with folio_try_get() (Zi Yan; posted 2026-03-02, " +
      "three days before the RFC, and merged into mainline after v7.0-rc3, i.e. after it; 6.18-stable review of 2026-03-23, after " +
      "6.18.7) stores the original, still frozen folio in the XArray during the split, so no lookup can get a misplaced after-split folio.",
    // Not a seed message: the patch as committed (577a1f495fd7, Link: tag of its v2).
    source: {
      seed: "",
      author: "Zi Yan",
      date: "2026-03-02",
      subject: "mm/huge_memory: fix a folio_split() race condition with folio_try_get()",
      link: "https://lore.kernel.org/r/20260302203159.3208341-1-ziy@nvidia.com",
    },
    options: { xasSplitOriginal: true },
  },
];

export const variants: Variant<SplitOptions>[] = [
  {
    id: "default",
    title: "filemap_fault vs folio_split (truncate), sequentially consistent",
    description: "The code as quoted: a fault at the index races with a non-uniform folio_split() at that index.",
    options: {},
  },
  {
    id: "uniform-split",
    title: "filemap_fault vs split_huge_page (reclaim)",
    description: "The uniform split memory pressure uses, into two order-8 folios as in Matthew Wilcox's walk-through.",
    options: { splitType: "uniform" },
    params: { order: 9, newOrder: 8 },
  },
  {
    id: "folio-lock-lookup",
    title: "__filemap_get_folio_mpol(FGP_LOCK) vs folio_split",
    description: "The RFC's first hunk: the same check in __filemap_get_folio_mpol() under FGP_LOCK.",
    options: { lookup: "__filemap_get_folio_mpol" },
  },
  {
    id: "find-lock-entries",
    title: "find_lock_entries (truncate) vs folio_split",
    description: "The RFC's third hunk: find_lock_entries() trylocks the folio (a locked one is skipped) before the same check.",
    options: { lookup: "find_lock_entries" },
  },
  {
    id: "reload-returns-head",
    title: "hypothesis: xas_reload() returns the old head (Kiryl Shutsemau)",
    description: "xas_reload() rereads the head slot the walk resolved to instead of the slot of the index.",
    options: { reloadReturnsHead: true, splitType: "uniform" },
    params: { order: 9, newOrder: 8 },
  },
  {
    id: "persistent-corruption",
    title: "fault injection: a stale entry stays in the tree",
    description: "The __xa_store() of the after-split folio holding the index is lost, so the wrong folio stays there.",
    options: { loseStore: true },
  },
  {
    id: "relaxed-stores",
    title: "memory ordering: a uniform split under pso",
    description:
      "Matthew Wilcox's \"Maybe a memory ordering problem?\": a uniform split (an order-2 folio into two order-1 folios, to keep " +
      "the store-buffer search exhaustive) under partial store order, stores as the source orders them (rcu_assign_pointer, " +
      "atomic_set_release, smp_wmb, plain).",
    options: { splitType: "uniform" },
    params: { order: 2, newOrder: 1 },
    memoryModel: "pso",
  },
];
