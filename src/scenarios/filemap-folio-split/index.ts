/**
 * Scenario `filemap-folio-split`: a page-cache lookup (filemap_fault -> filemap_get_entry) racing
 * with the split of the large folio that holds the index (__folio_split).
 *
 * Seed: "[PATCH RFC 0/1, 1/1] mm/filemap: handle large folio split race in page cache lookups",
 * Chris J Arges, 2026-03-05, with replies by Matthew Wilcox and Kiryl Shutsemau
 * (shared/seeds/001_67cec1cb130c3fac.txt). Kernel: v6.18.7 (the crash's). Sources: SOURCES.md.
 *
 * The lookup loads the folio from the XArray, takes a speculative reference (folio_try_get, which
 * fails on a frozen count), and re-checks with xas_reload(); filemap_fault then locks the folio and
 * asserts VM_BUG_ON_FOLIO(!folio_contains(folio, index)). The split freezes the folio's refcount,
 * rewrites the XArray (xas_split / xas_try_split), gives the new folios their index and order,
 * and unfreezes each after-split folio right before its own __xa_store().
 *
 * Files: state.ts (the state, options and setup), threads.ts (the kernel code paths), fixes.ts
 * (fixes, variants, the seed), claims.ts (the thread's claims and the worked example), sites.ts
 * (step sites), litmus/ (the memory-model litmus tests); this file assembles the scenario.
 */
import type { Scenario } from "../../engine/scenario.js";
import { defineScenario } from "../../engine/define.js";
import { PageFolio } from "../../linux/folio.js";
import { describeEntry, slotTable, xa_peek, xa_root } from "../../linux/xarray.js";
import { claims } from "./claims.js";
import { fixes, SEED, variants } from "./fixes.js";
import { initialState, type SplitOptions, type SplitState } from "./state.js";
import { threadsFor } from "./threads.js";

export { workedExample, type SplitIntermediateRow } from "./claims.js";
export type { SplitOptions, SplitState } from "./state.js";

/** The scenario, built with the public defineScenario() a new race uses too. */
export const filemapFolioSplit: Scenario<SplitState, SplitOptions> = defineScenario<SplitState, SplitOptions>({
  id: "filemap-folio-split",
  title: "mm/filemap: page-cache lookup vs large folio split (VM_BUG_ON_FOLIO(!folio_contains))",
  summary:
    "filemap_fault() hits VM_BUG_ON_FOLIO(!folio_contains(folio, index)) on 6.18.7 with large folios; the thread suspects a race " +
    "with folio_split() that xas_reload() should catch.",
  kernel: "v6.18.7",
  thread: { ...SEED, link: "https://lore.kernel.org/r/20260305183438.1062312-2-carges@cloudflare.com" },
  params: [
    { name: "index", description: "the page index the fault looks up", default: 1499, min: 0, max: 1 << 20 },
    { name: "order", description: "order of the large folio holding the index (Wilcox's example: 9)", default: 3, min: 1, max: 9 },
    { name: "newOrder", description: "the split's target order", default: 0, min: 0, max: 8 },
    { name: "retries", description: "retry bound of the lookup loops: past it, a livelock finding", default: 3, min: 1, max: 20 },
  ],
  defaults: {
    lookup: "filemap_fault",
    splitType: "non-uniform",
    onMismatch: "bug",
    xasSplitOriginal: false,
    reloadReturnsHead: false,
    loseStore: false,
  },
  fixes,
  variants,
  setup(cfg) {
    return { state: initialState(cfg), threads: threadsFor(cfg) };
  },
  view(s) {
    const out: Record<string, string | number | boolean> = {};
    const root = xa_root(s.xa);
    out[`entry for ${s.index}`] = xa_peek(s.xa, s.index) === null ? "empty" : describe(s, xa_peek(s.xa, s.index));
    if (root) out[`root node slot ${(s.index >> 6) & 63}`] = slotTable(root).find((r) => r.offset === ((s.index >> 6) & 63))?.entry ?? "empty";
    for (const g of [...s.structs.values()].sort((a, b) => a.pfn - b.pfn))
      if (g === s.folio || g._refcount.value !== 0 || g.order.value !== 0 || g.lock.owner !== null)
        out[String(g)] = `index ${g.index.value} order ${g.order.value} ref ${g._refcount.value}${g.lock.owner ? ` locked by ${g.lock.owner.name}` : ""}`;
    out["xa_lock"] = s.xa_lock.owner?.name ?? "free";
    out["lookup returned"] = s.found === null ? "-" : String(s.found);
    return out;
  },
  claims,
  leftOut: [
    "One lookup and one split; find_lock_entries() looks up the one index (xas_find over [index, index] as xas_load).",
    "folio->mapping never changes (the folio is not truncated away), so the truncation checks always pass.",
    "xas_load() is one atomic step (its loads of xa_head, node->shift and the slots run together); xas_reload() likewise.",
    "The spin of filemap_get_entry()'s `goto repeat` on a frozen folio is modeled as waiting until the refcount or the entry changes.",
    "__folio_split(): unmap_folio and mapcounts, the deferred split queue, memcg/LRU bookkeeping, i_mmap_lock, EOF handling and -ENOMEM are left out; the caller's folio lock is taken as the split's first step.",
    "The page-cache references of the folio are one count (1 + folio_nr_pages); the final folio_put of a lookup does not free anything.",
    "A successful fault installs no PTE: filemap_fault() returns VM_FAULT_LOCKED and the kernel's do_read_fault() leaves the reference to the PTE (finish_fault()); the model drops it there, and unlocks and puts for the callers of __filemap_get_folio_mpol() and find_lock_entries() too.",
    "Memory models: tso/pso reorder stores only (never loads) and are multi-copy atomic, so they are stronger than LKMM; rcu_dereference adds no ordering here.",
  ],
});

function describe(s: SplitState, e: ReturnType<typeof xa_peek<PageFolio>>): string {
  return e instanceof PageFolio ? e.describe() : describeEntry(s.xa, e);
}
