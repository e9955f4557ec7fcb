/**
 * The modeled state of `filemap-folio-split` and the options its fixes and variants set: one
 * mapping's page-cache XArray (i_pages) and its xa_lock, the large folio holding the index, and
 * every struct that becomes a folio in the split. Folios' `_refcount`, `index` and order are memory
 * cells (src/engine/memory.ts), so under tso/pso their stores become visible late.
 */
import { PageFolio } from "../../linux/folio.js";
import { Spinlock } from "../../linux/locks.js";
import { xa_store_order, XArray } from "../../linux/xarray.js";
import type { RunConfig } from "../../engine/task.js";

/** Options that fixes and variants set. */
export interface SplitOptions {
  /** Which lookup asserts: filemap_fault() (the crash), __filemap_get_folio_mpol() with FGP_LOCK, or find_lock_entries(). */
  readonly lookup: "filemap_fault" | "__filemap_get_folio_mpol" | "find_lock_entries";
  /** folio_split() (non-uniform, used by truncate since 7460b470a131f) or split_huge_page() (uniform, reclaim). */
  readonly splitType: "non-uniform" | "uniform";
  /** What the lookup does with a locked folio that does not contain the index. */
  readonly onMismatch: "bug" | "retry" | "warn-retry";
  /** Zi Yan's fix (577a1f495fd7): xas_split()/xas_try_split() store the original folio. */
  readonly xasSplitOriginal: boolean;
  /** Kiryl Shutsemau's hypothesis: xas_reload() returns the entry at the head slot (xas->xa_offset). */
  readonly reloadReturnsHead: boolean;
  /** Fault injection: the __xa_store() of the folio holding the index is lost (a stale entry stays). */
  readonly loseStore: boolean;
}

/** The modeled state: one mapping's page cache and the folios of one large folio. */
export interface SplitState {
  readonly xa: XArray<PageFolio>;
  /** mapping->i_pages.xa_lock. */
  readonly xa_lock: Spinlock;
  /** The large folio before the split. */
  readonly folio: PageFolio;
  /** Every struct that becomes a folio in the split, by pfn (the original first). */
  readonly structs: Map<number, PageFolio>;
  /** The index the lookup faults on. */
  readonly index: number;
  /** The folio the lookup returned, when it returned one (display). */
  found: PageFolio | null;
}

/** folio_nr_pages() of a folio of this order. */
export const nr = (order: number) => 2 ** order;

/** The pfns of the after-split folios (the original first), for the split the options ask for. */
export function afterSplit(base: number, order: number, newOrder: number, index: number, uniform: boolean): number[] {
  if (uniform) return Array.from({ length: nr(order - newOrder) }, (_, k) => base + k * nr(newOrder));
  const out = [base];
  let cur = base;
  for (let so = order - 1; so >= newOrder; so--) {
    const second = cur + nr(so);
    out.push(second);
    if (index >= second) cur = second;
  }
  return out.sort((a, b) => a - b);
}

/**
 * The state before the race: the large folio of `order` holding `index` in the page cache, with
 * 1 + folio_nr_pages references (the splitter's and the page cache's), and the structs of the
 * after-split folios at refcount 0. Throws when `newOrder` is not below `order`.
 */
export function initialState(cfg: RunConfig<SplitOptions>): SplitState {
  const { index, order, newOrder } = cfg.params as { index: number; order: number; newOrder: number };
  if (newOrder >= order) throw new Error(`newOrder ${newOrder} must be below order ${order}`);
  const base = index - (index % nr(order));
  const uniform = cfg.options.splitType === "uniform";
  const xa = new XArray<PageFolio>("i_pages", { nodes: uniform ? 2 + nr(Math.max(0, 6 - newOrder)) : 4, describe: (f) => f.describe() });
  const folio = new PageFolio(base, order, 1 + nr(order));
  xa_store_order(xa, base, order, folio);
  const structs = new Map<number, PageFolio>();
  for (const p of afterSplit(base, order, newOrder, index, uniform)) structs.set(p, p === base ? folio : new PageFolio(p, 0, 0));
  return { xa, xa_lock: new Spinlock("i_pages.xa_lock"), folio, structs, index, found: null };
}
