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
 */
import type { Claim, Fix, Scenario, SourceRef, Variant } from "../../engine/scenario.js";
import type { Site } from "../../engine/site.js";
import type { RunConfig, Task, Waitable } from "../../engine/task.js";
import { access, R } from "../../engine/access.js";
import { summarizeCheck } from "../../engine/claims.js";
import { load, smp_wmb, store } from "../../engine/memory.js";
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
  PageFolio,
} from "../../linux/folio.js";
import { Spinlock, spin_lock, spin_unlock } from "../../linux/locks.js";
import {
  __xa_store,
  describeEntry,
  slotTable,
  XA_STATE,
  xa_entry,
  xa_peek,
  xa_resume_batching_unpublished,
  xa_root,
  xa_store_order,
  XaNode,
  xas_load,
  xas_reload,
  xas_reset,
  xas_retry,
  xas_set_order,
  xas_split,
  xas_split_alloc,
  xas_try_split,
  XArray,
  type XaState,
  type XaWriter,
} from "../../linux/xarray.js";
import { FAULT, FLE, GET, GETLOCK, SPLIT, storeSite } from "./sites.js";

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

type Step<T = void> = Generator<Site, T, undefined>;
type Cfg = RunConfig<SplitOptions>;
const nr = (order: number) => 2 ** order;

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

/** Waits until the frozen folio is unfrozen or the entry for the index changes (the spin of `goto repeat`). */
function changedSince(s: SplitState, folio: PageFolio): Waitable {
  return {
    name: `${folio} to be unfrozen or replaced`,
    canProceed: () => folio._refcount.value !== 0 || xa_peek(s.xa, s.index) !== folio,
    // The re-run step reads the refcount (and reloads the entry, which records its own reads).
    waited: () => access(folio._refcount.loc, R),
  };
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
    if (frozen !== null) t.blockOn(changedSince(s, frozen), 0);
    yield GET.load;
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
    t.fence = true;
    yield GET.tryGet;
    if (!folio_try_get(t, folio)) {
      t.say(() => `${folio} is frozen`);
      frozen = folio;
      continue;
    }
    yield GET.reload;
    const again = cfg.options.reloadReturnsHead ? reloadHead(xas) : xas_reload(xas);
    if (again !== folio) {
      t.say("xas_reload() differs: retry");
      t.fence = true;
      yield GET.put;
      folio_put(t, folio);
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
 * mismatch into a retry, Kiryl Shutsemau's suggestion into a warning and a retry.
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
      t.fence = true;
      yield S.done;
      folio_put(t, folio);
      folio_unlock_in_step(t, folio.lock);
      return;
    }
    const what = () => `!folio_contains(folio, index): ${folio.describe()}, index ${s.index}`;
    if (cfg.options.onMismatch === "bug") t.bug(`VM_BUG_ON_FOLIO(${what()})`);
    if (cfg.options.onMismatch === "warn-retry") t.warn(`VM_WARN_ON_FOLIO(!folio_contains(folio, index))`);
    t.say(() => `${what()}: retry`);
    t.fence = true;
    yield S.retry;
    folio_unlock_in_step(t, folio.lock);
    folio_put(t, folio);
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
  t.fence = true;
  yield FLE.trylock;
  if (folio.lock.owner !== null) {
    access(folio.lock.lockLoc, R);
    t.say(() => `${folio} is locked: skipped`);
    folio_put(t, folio);
    return;
  }
  folio_lock_inherited(t, folio.lock);
  yield FLE.check;
  if (!folio_contains(t, folio, s.index)) {
    if (cfg.options.onMismatch === "bug") t.bug(`VM_BUG_ON_FOLIO(!folio_contains(folio, index): ${folio.describe()}, index ${s.index})`);
    if (cfg.options.onMismatch === "warn-retry") t.warn(`VM_WARN_ON_FOLIO(!folio_contains(folio, index))`);
    t.fence = true;
    yield FLE.skip;
    folio_unlock_in_step(t, folio.lock);
    folio_put(t, folio);
    return;
  }
  t.fence = true;
  yield FLE.done;
  folio_unlock_in_step(t, folio.lock);
  folio_put(t, folio);
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
  t.fence = true;
  yield SPLIT.freeze;
  if (!folio_ref_freeze(t, F, 1 + extraPins)) {
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
    folio_ref_unfreeze(t, g, nr(g.order.value) + 1);
    t.say(() => `${g} unfrozen`);
    if (cfg.options.loseStore && g.pfn <= s.index && s.index < g.pfn + nr(g.order.value)) {
      t.say(() => `fault injection: __xa_store(${g}) lost`);
      continue;
    }
    yield* xaSteps(__xa_store(s.xa, g.pfn, g), SPLIT.xaStoreWalk, `__xa_store(${g})`);
  }
  yield SPLIT.unfreezeOrig;
  folio_ref_unfreeze(t, F, nr(F.order.value) + 1);
  yield* spin_unlock(t, s.xa_lock, SPLIT.xasUnlock);
  for (const g of [...s.structs.values()].filter((g) => g !== F).sort((a, b) => a.pfn - b.pfn))
    yield* folio_unlock(t, g.lock, SPLIT.unlockNew);
  yield* folio_unlock(t, F.lock, SPLIT.unlockOrig);
}

/** The pfns of the after-split folios (the original first), for the split the options ask for. */
function afterSplit(base: number, order: number, newOrder: number, index: number, uniform: boolean): number[] {
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

const SEED: SourceRef = {
  seed: "001_67cec1cb130c3fac.txt",
  author: "Chris J Arges",
  date: "2026-03-05",
  subject: "[PATCH RFC 1/1] mm/filemap: handle large folio split race in page cache lookups",
};
const msg = (author: string, date: string, quote: string): SourceRef => ({ ...SEED, author, date, quote });

const fixes: Fix<SplitOptions>[] = [
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
      "Not in the thread: mm/huge_memory: fix a folio_split() race condition with folio_try_get() (2026-03-02, in 6.18.y after " +
      "6.18.7) stores the original, still frozen folio in the XArray during the split, so no lookup can get a misplaced after-split folio.",
    source: {
      seed: "001_67cec1cb130c3fac.txt",
      author: "Zi Yan",
      date: "2026-03-02",
      subject: "mm/huge_memory: fix a folio_split() race condition with folio_try_get()",
      link: "https://lore.kernel.org/r/20260302203159.3208341-1-ziy@nvidia.com",
    },
    options: { xasSplitOriginal: true },
  },
];

const variants: Variant<SplitOptions>[] = [
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

const BUG = /^bug: VM_BUG_ON_FOLIO/;
const has = (keys: string[], re: RegExp) => keys.some((k) => re.test(k));
const summary = summarizeCheck;

const claims: Claim[] = [
  {
    id: "worked-example",
    statement:
      "Index 1499, an order-9 folio at 1024: offset (1499 >> 6) & 63 = 23; the folio in slot 16 with siblings to 23; after a " +
      "split into two order-8 folios the new folio in slot 20 with siblings 21..23; after a split to order 0 a node at offset 23.",
    source: msg("Matthew Wilcox", "2026-03-06", "the original folio is in slot 16 and has sibling entries in 17,18,19 and the new folio is in slot 20"),
    expected: "the XArray model reproduces every number",
    evaluate() {
      const r = workedExample();
      return { observed: r.observed, holds: r.holds };
    },
  },
  {
    id: "reload-catches-split",
    statement: "filemap_get_entry()'s xas_reload() catches a racing split, so filemap_fault cannot get a folio that does not contain the index.",
    source: msg("Matthew Wilcox", "2026-03-05", "That's what the xas_reload() is trying to prevent"),
    expected: "baseline passes for the uniform split (reclaim) and for folio_split (truncate)",
    evaluate(ctx) {
      const uniform = ctx.check("baseline", "uniform-split");
      const nonUniform = ctx.check("baseline", "default");
      return {
        observed: `${summary(uniform)}; ${summary(nonUniform)}`,
        holds: uniform.verdict === "pass" && nonUniform.verdict === "pass",
      };
    },
  },
  {
    id: "reload-returns-head",
    statement: "After a racing split, xas_reload() of a tail index returns the folio that was the head, so the check passes.",
    source: msg("Kiryl Shutsemau", "2026-03-06", "What would xas_reload() return if we raced with split and index pointed to a tail page before the split?"),
    expected: "the real xas_reload() lets filemap_fault get the old head after a split (a BUG under the uniform split)",
    evaluate(ctx) {
      const real = ctx.check("baseline", "uniform-split");
      const hypo = ctx.check("baseline", "reload-returns-head");
      return {
        observed: `${summary(real)}; if it did (variant reload-returns-head): ${summary(hypo)}`,
        holds: has(Object.keys(real.findings), BUG),
      };
    },
  },
  {
    id: "rfc-hides",
    statement: "The proposed change doesn't fix anything, but hides the problem.",
    source: msg("Kiryl Shutsemau", "2026-03-06", "The proposed change doesn't fix anything, but hides the problem."),
    expected: "with rfc-retry no BUG, but filemap_get_entry() still returns a folio that does not contain the index; the cause is elsewhere",
    evaluate(ctx) {
      const rfc = ctx.check("rfc-retry", "default");
      const keys = Object.keys(rfc.findings);
      const fixed = ctx.check("split-original-folio", "default");
      return {
        observed: `${summary(rfc)}; ${summary(fixed)}`,
        holds: !has(keys, BUG) && has(keys, /^invariant: filemap_get_entry\(\) returned/) && fixed.verdict === "pass",
      };
    },
  },
  {
    id: "retry-livelock",
    statement: "If there's a persistent corruption of the radix tree, a retry might be an infinite loop.",
    source: msg("Matthew Wilcox", "2026-03-06", "a retry might be an infinite loop which isn't terribly helpful"),
    expected: "rfc-retry and warn-retry end in a livelock under persistent-corruption",
    evaluate(ctx) {
      const rfc = ctx.check("rfc-retry", "persistent-corruption");
      const warn = ctx.check("warn-retry", "persistent-corruption");
      return {
        observed: `${summary(rfc)}; ${summary(warn)}`,
        holds: has(Object.keys(rfc.findings), /^livelock:/) && has(Object.keys(warn.findings), /^livelock:/),
      };
    },
  },
  {
    id: "memory-ordering",
    statement: "Maybe a memory ordering problem?",
    source: msg("Matthew Wilcox", "2026-03-06", "Have I missed something? Maybe a memory ordering problem?"),
    expected: "the VM_BUG_ON needs a store reordering: sc passes, pso fails",
    evaluate(ctx) {
      const scUniform = ctx.check("baseline", "uniform-split");
      const pso = ctx.check("baseline", "relaxed-stores");
      const scDefault = ctx.check("baseline", "default");
      return {
        observed: `${summary(scUniform)}; ${summary(pso)}; ${summary(scDefault)}`,
        holds: scUniform.verdict === "pass" && has(Object.keys(pso.findings), BUG) && !has(Object.keys(scDefault.findings), BUG),
      };
    },
  },
];

/** Matthew Wilcox's worked example, computed by the XArray model (no exploration needed). */
export function workedExample(): {
  observed: string;
  holds: boolean;
  before: ReturnType<typeof slotTable>;
  afterOrder8: ReturnType<typeof slotTable>;
  afterOrder0: ReturnType<typeof slotTable>;
} {
  const run = (mode: "none" | "order8" | "order0") => {
    const xa = new XArray<PageFolio>("i_pages", { nodes: 12, describe: (f) => f.describe() });
    const F = new PageFolio(1024, 9, 1);
    xa_store_order(xa, 1024, 9, F);
    if (mode === "order8") {
      const G = new PageFolio(1280, 8, 1);
      const xas = XA_STATE(xa, 1024);
      xas_set_order(xas, 1024, 8);
      for (const _ of xas_split(xas, F, 9)) void _;
      F.order.value = 8;
      G.index.value = 1280;
      for (const _ of __xa_store(xa, 1280, G)) void _;
    } else if (mode === "order0") {
      const xas = XA_STATE(xa, 1499);
      let cur = F;
      for (let so = 8; so >= 0; so--) {
        xas_set_order(xas, cur.pfn, so);
        for (const _ of xas_try_split(xas, F, so + 1)) void _;
        if (1499 >= cur.pfn + 2 ** so) cur = new PageFolio(cur.pfn + 2 ** so, so, 1);
      }
    }
    return slotTable(xa_root(xa)!, { nonEmpty: true });
  };
  const before = run("none");
  const afterOrder8 = run("order8");
  const afterOrder0 = run("order0");
  const at = (rows: ReturnType<typeof slotTable>, o: number) => rows.find((r) => r.offset === o)?.entry ?? "empty";
  const offset = (1499 >> 6) & 63;
  const checks = [
    offset === 23,
    at(before, 16) === "folio@1024 order 9",
    [17, 18, 19, 20, 21, 22, 23].every((o) => at(before, o) === "sibling -> 16"),
    at(afterOrder8, 16) === "folio@1024 order 8",
    [17, 18, 19].every((o) => at(afterOrder8, o) === "sibling -> 16"),
    at(afterOrder8, 20) === "folio@1280 order 8",
    [21, 22, 23].every((o) => at(afterOrder8, o) === "sibling -> 20"),
    at(afterOrder0, 23).startsWith("node"),
  ];
  return {
    observed:
      `offset ${offset}; before: 16 = ${at(before, 16)}, 17..23 = ${at(before, 23)}; order-8 split: 20 = ${at(afterOrder8, 20)}, ` +
      `23 = ${at(afterOrder8, 23)}; order-0 split: 23 = ${at(afterOrder0, 23)}`,
    holds: checks.every(Boolean),
    before,
    afterOrder8,
    afterOrder0,
  };
}

export const filemapFolioSplit: Scenario<SplitState, SplitOptions> = {
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
    const { index, order, newOrder } = cfg.params as { index: number; order: number; newOrder: number };
    if (newOrder >= order) throw new Error(`newOrder ${newOrder} must be below order ${order}`);
    const base = index - (index % nr(order));
    const uniform = cfg.options.splitType === "uniform";
    const xa = new XArray<PageFolio>("i_pages", { nodes: uniform ? 2 + nr(Math.max(0, 6 - newOrder)) : 4, describe: (f) => f.describe() });
    const folio = new PageFolio(base, order, 1 + nr(order));
    xa_store_order(xa, base, order, folio);
    const structs = new Map<number, PageFolio>();
    for (const p of afterSplit(base, order, newOrder, index, uniform)) structs.set(p, p === base ? folio : new PageFolio(p, 0, 0));
    const state: SplitState = { xa, xa_lock: new Spinlock("i_pages.xa_lock"), folio, structs, index, found: null };
    return {
      state,
      threads: [
        { name: cfg.options.lookup, body: lookup },
        { name: cfg.options.splitType === "uniform" ? "split_huge_page" : "folio_split", body: folio_split },
      ],
    };
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
    "Memory models: tso/pso reorder stores only (never loads) and are multi-copy atomic, so they are stronger than LKMM; rcu_dereference adds no ordering here.",
  ],
};

function describe(s: SplitState, e: ReturnType<typeof xa_peek<PageFolio>>): string {
  return e instanceof PageFolio ? e.describe() : describeEntry(s.xa, e);
}
