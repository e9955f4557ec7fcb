/**
 * The claims of the `filemap-folio-split` thread, each quoting its message, as checks against the
 * model (`racelab claims filemap-folio-split`), and Matthew Wilcox's worked example of the XArray
 * slots, computed by the XArray model. A claim may fail: that is a finding too.
 */
import { summarizeCheck } from "../../engine/claims.js";
import type { Claim } from "../../engine/scenario.js";
import { PageFolio } from "../../linux/folio.js";
import { __xa_store, describeEntry, slotTable, XA_STATE, xa_peek, xa_root, xa_store_order, xas_set_order, xas_split, xas_try_split, XArray } from "../../linux/xarray.js";
import { msg } from "./fixes.js";

const BUG = /^bug: VM_BUG_ON_FOLIO/;
const has = (keys: string[], re: RegExp) => keys.some((k) => re.test(k));
const summary = summarizeCheck;

export const claims: Claim[] = [
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

/**
 * One index after `__split_unmapped_folio()` of `folio_split()` at 1499 down to order 0, before
 * any `__xa_store()`: the entry a lookup finds there in v6.18.7 and with mainline 577a1f495fd7.
 */
export interface SplitIntermediateRow {
  /** The page index looked up. */
  readonly index: number;
  /** v6.18.7: `xas_try_split(xas, folio, old_order)` with the folio being split at each level. */
  readonly v6187: string;
  /** 577a1f495fd7: `xas_try_split(xas, old_folio, old_order)` with the original folio. */
  readonly fixed: string;
  /** The after-split folio that `__xa_store()` puts there next (the correct entry). */
  readonly stored: string;
}

/** Matthew Wilcox's worked example, computed by the XArray model (no exploration needed). */
export function workedExample(): {
  /** What the model computed, in a sentence (the slots of index 1499 before and after each split, and v6.18.7's intermediate entry). */
  observed: string;
  /** Whether every slot the example names holds what it says. */
  holds: boolean;
  /** The non-empty slots of the node holding index 1499 with the order-9 folio@1024 stored. */
  before: ReturnType<typeof slotTable>;
  /** The same slots after splitting it into two order-8 folios (folio@1024, folio@1280). */
  afterOrder8: ReturnType<typeof slotTable>;
  /**
   * The same slots after xas_try_split() down to order 0 around index 1499 (slot 23 becomes a
   * node), storing the original folio at every level as mainline 577a1f495fd7 does; v6.18.7's
   * entries differ (see `intermediate`), the node at offset 23 does not.
   */
  afterOrder0: ReturnType<typeof slotTable>;
  /**
   * The split to order 0 at 1499 before any `__xa_store()`, per index (the first index of each
   * after-split folio, and 1499): v6.18.7 leaves folio@1498 in the slot of 1499, the fixed split
   * the original folio@1024 everywhere.
   */
  intermediate: SplitIntermediateRow[];
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
  const intermediate = splitIntermediate();
  const at1499 = intermediate.find((r) => r.index === 1499)!;
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
      `23 = ${at(afterOrder8, 23)}; order-0 split: 23 = ${at(afterOrder0, 23)}; before __xa_store(1499): ` +
      `${at1499.v6187} in v6.18.7, ${at1499.fixed} with 577a1f495fd7`,
    holds: checks.every(Boolean),
    before,
    afterOrder8,
    afterOrder0,
    intermediate,
  };
}

/**
 * folio_split() of the order-9 folio@1024 at 1499 down to order 0, as __split_unmapped_folio()
 * runs it (one xas_try_split() and one __split_folio_to_order() per order 8..0, the folio holding
 * 1499 split further), twice: storing the folio being split (v6.18.7) and the original folio
 * (577a1f495fd7). Returns what a lookup finds at each after-split folio's first index and at 1499
 * before the __xa_store() loop.
 */
function splitIntermediate(): SplitIntermediateRow[] {
  const split = (fixed: boolean) => {
    const xa = new XArray<PageFolio>("i_pages", { nodes: 12, describe: (f) => f.describe() });
    const F = new PageFolio(1024, 9, 1);
    xa_store_order(xa, 1024, 9, F);
    const xas = XA_STATE(xa, 1499);
    const folios = [F];
    let cur = F;
    for (let so = 8; so >= 0; so--) {
      xas_set_order(xas, cur.pfn, so);
      for (const _ of xas_try_split(xas, fixed ? F : cur, so + 1)) void _;
      // __split_folio_to_order(cur, so + 1, so): cur keeps the left half, a new folio the right one.
      const right = new PageFolio(cur.pfn + 2 ** so, so, 0);
      cur.order.value = so;
      folios.push(right);
      if (1499 >= right.pfn) cur = right;
    }
    return { xa, folios };
  };
  const old = split(false);
  const fixed = split(true);
  const entry = (xa: XArray<PageFolio>, index: number) => describeEntry(xa, xa_peek(xa, index));
  const indexes = [...new Set([...old.folios.map((f) => f.pfn), 1499])].sort((a, b) => a - b);
  return indexes.map((index) => {
    const owner = old.folios.filter((f) => f.pfn <= index).sort((a, b) => b.pfn - a.pfn)[0]!;
    return { index, v6187: entry(old.xa, index), fixed: entry(fixed.xa, index), stored: owner.describe() };
  });
}
