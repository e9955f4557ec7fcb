/**
 * The page-cache XArray model (src/linux/xarray.ts) against Matthew Wilcox's worked example in
 * seed 001 (index 1499, an order-9 folio at index 1024), Kiryl Shutsemau's question about
 * xas_reload(), and a property test over random layouts and splits.
 *
 * `folioSplit()` below replays what mm/huge_memory.c __folio_split() (v6.18.y) does to the
 * XArray, in order: xas_split_alloc() (uniform split) or one xas_try_split() per order
 * (non-uniform split, folio_split()), then, per after-split folio in PFN order,
 * folio_ref_unfreeze() and __xa_store(), then the unfreeze of the original folio. `fixed`
 * selects the entry xas_split()/xas_try_split() store: the to-be-split folio (v6.18.7) or the
 * original folio (Zi Yan's fix, upstream 577a1f495fd7, in 6.18.y from March 2026).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { locName, R, recordInto, resetLocations, W } from "../src/engine/access.js";
import {
  __xa_store,
  describeEntry,
  describeStep,
  get_offset,
  slotTable,
  XA_STATE,
  XA_STATE_ORDER,
  xa_collect,
  xa_is_node,
  xa_is_sibling,
  xa_nodes,
  xa_peek,
  xa_root,
  xa_resume_batching_unpublished,
  xa_run,
  xa_store_order,
  XArray,
  xas_error,
  xas_load,
  xas_reload,
  xas_reset,
  xas_set_order,
  xas_split,
  xas_split_alloc,
  xas_store,
  xas_try_split,
  XaNode,
  type XaEntry,
  type XaStoreStep,
} from "../src/linux/xarray.js";

/** A folio as the XArray sees it: a distinct object with an index and an order. */
class TF {
  constructor(
    public index: number,
    public order: number,
  ) {}
  contains(i: number): boolean {
    return i >= this.index && i < this.index + 2 ** this.order;
  }
}

/** Points in __folio_split() at which the caller may inspect the XArray. */
type Phase =
  | { kind: "xarray-split"; order: number }
  | { kind: "unmapped-done" }
  | { kind: "unfrozen"; folio: TF }
  | { kind: "stored"; folio: TF }
  | { kind: "origin-unfrozen" };

interface SplitRun {
  /** After-split folios in PFN order (the original first). */
  readonly folios: TF[];
  /** Folios whose refcount is frozen (folio_try_get() fails on them). */
  readonly frozen: Set<TF>;
  /** Every store the XArray functions made, in order. */
  readonly stores: XaStoreStep[];
}

/**
 * __folio_split()'s effect on the XArray (mm/huge_memory.c, 6.18.y): uniform when `splitAt` is
 * null (split_huge_page_to_list_to_order: xas_split_alloc() + one xas_split()), else folio_split()
 * (one xas_try_split() per order down to `newOrder`, splitting the half that contains `splitAt`).
 */
function* folioSplit(
  xa: XArray<TF>,
  folio: TF,
  newOrder: number,
  splitAt: number | null,
  fixed: boolean,
  run: SplitRun,
): Generator<Phase, void, void> {
  const uniform = splitAt === null;
  const origin = folio;
  const end = folio.index + 2 ** folio.order;
  const xas = XA_STATE(xa, folio.index);
  if (uniform) {
    xas_set_order(xas, folio.index, newOrder);
    run.stores.push(...xa_collect(xas_split_alloc(xas, folio, folio.order)));
    assert.equal(xas_error(xas), 0);
  }
  // xas_lock(&xas); xas_reset(&xas); if (xas_load(&xas) != folio) -EAGAIN
  xas_reset(xas);
  assert.equal(xas_load(xas), folio);
  // folio_ref_freeze(folio, 1 + extra_pins)
  run.frozen.add(origin);
  run.folios.push(origin);
  let cur = folio;
  for (let so = uniform ? newOrder : folio.order - 1; so >= newOrder; so--) {
    const oldOrder = cur.order;
    const entry = fixed ? origin : cur;
    if (uniform) run.stores.push(...xa_collect(xas_split(xas, entry, oldOrder)));
    else {
      xas_set_order(xas, cur.index, so);
      run.stores.push(...xa_collect(xas_try_split(xas, entry, oldOrder)));
      assert.equal(xas_error(xas), 0);
    }
    // __split_folio_to_order(cur, oldOrder, so): tails become new (frozen) folios.
    const pieces: TF[] = [];
    for (let i = 2 ** so; i < 2 ** oldOrder; i += 2 ** so) pieces.push(new TF(cur.index + i, so));
    cur.order = so;
    for (const p of pieces) run.frozen.add(p);
    run.folios.splice(run.folios.indexOf(cur) + 1, 0, ...pieces);
    if (!uniform) cur = [cur, ...pieces].find((p) => p.contains(splitAt))!;
    yield { kind: "xarray-split", order: so };
  }
  yield { kind: "unmapped-done" };
  for (const nf of run.folios) {
    if (nf === origin || nf.index >= end) continue;
    run.frozen.delete(nf); // folio_ref_unfreeze(new_folio, expected_refs)
    yield { kind: "unfrozen", folio: nf };
    run.stores.push(...xa_collect(__xa_store(xa, nf.index, nf)));
    yield { kind: "stored", folio: nf };
  }
  run.frozen.delete(origin); // folio_ref_unfreeze(folio, ...) after all __xa_store()
  yield { kind: "origin-unfrozen" };
}

function newRun(): SplitRun {
  return { folios: [], frozen: new Set(), stores: [] };
}

function runSplit(xa: XArray<TF>, folio: TF, newOrder: number, splitAt: number | null, fixed: boolean): SplitRun {
  const run = newRun();
  for (const _ of folioSplit(xa, folio, newOrder, splitAt, fixed, run));
  return run;
}

/** The worked example's starting point: an order-9 folio at index 1024. */
function example(nodes = 16): { xa: XArray<TF>; F: TF } {
  resetLocations();
  const xa = new XArray<TF>("i_pages", { nodes });
  const F = new TF(1024, 9);
  xa_store_order(xa, 1024, 9, F);
  return { xa, F };
}

function rows(xa: XArray<TF>, node: XaNode<TF>, from: number, to: number): string[] {
  return slotTable(node)
    .filter((r) => r.offset >= from && r.offset <= to)
    .map((r) => `${r.offset}: ${r.entry}`);
}

function load(xa: XArray<TF>, index: number): XaEntry<TF> {
  return xas_load(XA_STATE(xa, index));
}

// ---- The worked example ------------------------------------------------------------------

test("worked example: an order-9 folio at 1024 is slot 16 of the shift-6 root node, siblings 17..23; 1499 maps to offset 23", () => {
  const { xa, F } = example();
  const root = xa_root(xa)!;
  assert.equal(root.shift.value, 6); // one node covers 0..4095
  assert.equal(get_offset(1499, root), 23); // (1499 >> 6) & 63
  assert.equal((1499 >> 6) & 63, 23);
  assert.deepEqual(rows(xa, root, 15, 24), [
    "15: empty",
    "16: folio@1024 order 9",
    "17: sibling -> 16",
    "18: sibling -> 16",
    "19: sibling -> 16",
    "20: sibling -> 16",
    "21: sibling -> 16",
    "22: sibling -> 16",
    "23: sibling -> 16",
    "24: empty",
  ]);
  // xas_load(1499): slot 23 is sibling(16), resolved to the folio; xa_offset is the canonical 16.
  const xas = XA_STATE(xa, 1499);
  assert.equal(xas_load(xas), F);
  assert.equal(xas.xa_node, root);
  assert.equal(xas.xa_offset, 16);
  assert.equal(xas_reload(xas), F);
});

test("xas_store of the order-9 entry: allocate and publish the root, then slot 16 and the seven siblings, all rcu_assign_pointer", () => {
  resetLocations();
  const xa = new XArray<TF>("i_pages");
  const F = new TF(1024, 9);
  const xas = XA_STATE_ORDER(xa, 1024, 9);
  assert.deepEqual([xas.xa_index, xas.xa_shift, xas.xa_sibs], [1024, 6, 7]);
  const steps = xa_collect(xas_store(xas, F));
  const published = steps.filter((s) => s.primitive === "rcu_assign_pointer").map((s) => s.slot.name);
  assert.deepEqual(published, [
    "i_pages.xa_head",
    ...[16, 17, 18, 19, 20, 21, 22, 23].map((o) => `i_pages.node0.slots[${o}]`),
  ]);
  // The node's fields are set before it is published.
  assert.deepEqual(
    steps.slice(0, 2).map((s) => [s.slot.name, s.primitive, s.published]),
    [
      ["i_pages.node0.shift", "plain", false],
      ["i_pages.node0.parent", "WRITE_ONCE", false],
    ],
  );
});

test("loads and stores record one location per slot: xas_load reads, a store step writes", () => {
  const { xa } = example();
  const root = xa_root(xa)!;
  const acc: number[] = [];
  recordInto(acc);
  load(xa, 1499);
  recordInto(null);
  const names = acc.map((a) => `${locName(a >> 3)}:${(a & 7) === R ? "R" : "?"}`);
  assert.deepEqual(names, [
    "i_pages.xa_head:R", // xas_start: xa_head()
    "i_pages.node0.shift:R", // xas_start: bounds check
    "i_pages.node0.shift:R", // xas_load: xas->xa_shift > node->shift
    "i_pages.node0.shift:R", // xas_descend: get_offset()
    "i_pages.node0.slots[23]:R", // sibling(16)
    "i_pages.node0.slots[16]:R", // the folio
    "i_pages.node0.shift:R", // xas_descend: node->shift && xa_is_node()
    "i_pages.node0.shift:R", // xas_load: node->shift == 0
  ]);
  const G = new TF(1280, 8);
  const w = __xa_store(xa, 1024, G); // inside the order-9 entry: replaces its head slot 16
  const first = w.next();
  assert.equal(first.done, false);
  acc.length = 0;
  recordInto(acc);
  w.next(); // makes the store yielded before
  recordInto(null);
  assert.ok(acc.includes(root.slots[16]!.loc * 8 + W));
});

test("split into two order-8 folios (uniform): xas_split stores slot 20 and its siblings 23, 22, 21, then 16 and 19, 18, 17; __xa_store puts the new folio in slot 20", () => {
  const { xa, F } = example();
  const root = xa_root(xa)!;
  const run = runSplit(xa, F, 8, null, false);
  const split = run.stores.filter((s) => s.source === "lib/xarray.c: xas_split()");
  assert.deepEqual(
    split.map((s) => `${s.slot.offset}=${describeEntry(xa, s.value as XaEntry<TF>)}`),
    [
      "20=folio@1024 order 8", // the to-be-split folio (F): both halves still hold F
      "23=sibling -> 20",
      "22=sibling -> 20",
      "21=sibling -> 20",
      "16=folio@1024 order 8",
      "19=sibling -> 16",
      "18=sibling -> 16",
      "17=sibling -> 16",
    ],
  );
  assert.ok(split.every((s) => s.primitive === "rcu_assign_pointer" && s.published));
  const G = run.folios[1]!;
  assert.deepEqual([G.index, G.order], [1280, 8]);
  const stored = run.stores.filter((s) => s.source === "lib/xarray.c: xas_store()");
  assert.deepEqual(
    stored.map((s) => [s.slot.name, s.value === G, s.primitive]),
    [["i_pages.node0.slots[20]", true, "rcu_assign_pointer"]],
  );
  // Matthew Wilcox: "the original folio is in slot 16 and has sibling entries in 17,18,19 and
  // the new folio is in slot 20 and has sibling entries in 21,22,23".
  assert.deepEqual(rows(xa, root, 16, 23), [
    "16: folio@1024 order 8",
    "17: sibling -> 16",
    "18: sibling -> 16",
    "19: sibling -> 16",
    "20: folio@1280 order 8",
    "21: sibling -> 20",
    "22: sibling -> 20",
    "23: sibling -> 20",
  ]);
  assert.equal(load(xa, 1499), G);
  assert.equal(load(xa, 1279), F);
});

test("split to order 0 (uniform): xas_split_alloc fills eight unpublished nodes with the folio, xas_split publishes them at slots 23 down to 16", () => {
  const { xa, F } = example();
  const root = xa_root(xa)!;
  const run = runSplit(xa, F, 0, null, false);
  const alloc = run.stores.filter((s) => s.source.endsWith("__xas_init_node_for_split()"));
  assert.equal(alloc.length, 8 * 64);
  assert.ok(alloc.every((s) => s.primitive === "WRITE_ONCE" && !s.published && s.value === F));
  const publish = run.stores.filter((s) => s.source === "lib/xarray.c: xas_split()" && s.primitive === "rcu_assign_pointer");
  assert.deepEqual(publish.map((s) => s.slot.offset), [23, 22, 21, 20, 19, 18, 17, 16]);
  assert.ok(publish.every((s) => xa_is_node(s.value as XaEntry<TF>)));
  // Each child's fields are set (plain / WRITE_ONCE) before its rcu_assign_pointer.
  const fieldStores = run.stores.filter((s) => s.source === "lib/xarray.c: xas_split()" && s.primitive !== "rcu_assign_pointer");
  assert.deepEqual([...new Set(fieldStores.map((s) => `${s.slot.field}:${s.primitive}`))], ["shift:plain", "offset:plain", "parent:WRITE_ONCE"]);
  assert.ok(rows(xa, root, 16, 23).every((r) => r.endsWith("node (shift 0)")));
  const f1499 = load(xa, 1499) as TF;
  assert.deepEqual([f1499.index, f1499.order], [1499, 0]);
});

test("folio_split at 1499 to order 0 (non-uniform): one xas_try_split per order; the order-6 -> 5 step fills one node and publishes it at offset 23", () => {
  const { xa, F } = example();
  const root = xa_root(xa)!;
  const run = runSplit(xa, F, 0, 1499, true);
  const publishNode = run.stores.filter((s) => s.source === "lib/xarray.c: xas_try_split()" && xa_is_node(s.value as XaEntry<TF>));
  assert.equal(publishNode.length, 1);
  assert.equal(publishNode[0]!.slot.name, "i_pages.node0.slots[23]");
  assert.equal(publishNode[0]!.primitive, "rcu_assign_pointer");
  // The node is filled (64 RCU_INIT_POINTERs) and its fields set before it is published.
  const i = run.stores.indexOf(publishNode[0]!);
  const before = run.stores.slice(i - 68, i);
  assert.deepEqual(
    before.map((s) => `${s.slot.field}:${s.primitive}:${s.published}`),
    [
      "parent:WRITE_ONCE:false", // RCU_INIT_POINTER(child->parent, xas->xa_alloc)
      ...Array.from({ length: 64 }, () => "slot:WRITE_ONCE:false"), // __xas_init_node_for_split
      "shift:plain:false",
      "offset:plain:false",
      "parent:WRITE_ONCE:false", // RCU_INIT_POINTER(child->parent, node)
    ],
  );
  assert.equal(describeStep(xa, publishNode[0]!), "node0->slots[23] = node (shift 0) (rcu_assign_pointer, lib/xarray.c: xas_try_split())");
  assert.deepEqual(rows(xa, root, 16, 23), [
    "16: folio@1024 order 8",
    "17: sibling -> 16",
    "18: sibling -> 16",
    "19: sibling -> 16",
    "20: folio@1280 order 7",
    "21: sibling -> 20",
    "22: folio@1408 order 6",
    "23: node (shift 0)",
  ]);
  assert.deepEqual(
    run.folios.map((f) => `${f.index}/${f.order}`),
    ["1024/8", "1280/7", "1408/6", "1472/4", "1488/3", "1496/1", "1498/0", "1499/0", "1500/2", "1504/5"],
  );
  for (const f of run.folios) for (let i = f.index; i < f.index + 2 ** f.order; i++) assert.equal(load(xa, i), f);
});

test("one store per step: a thread resumes the writer once per step; stores into unpublished nodes can be batched", () => {
  const steps = (batch: boolean): number => {
    const { xa, F } = example();
    const xas = XA_STATE_ORDER(xa, 1024, 0);
    const w = (function* () {
      yield* xas_split_alloc(xas, F, 9);
      xas_reset(xas);
      xas_load(xas);
      yield* xas_split(xas, F, 9);
    })();
    // As a thread body would: the first next() runs in the step before; each later resume is
    // one step, which makes the store yielded before it (and the reads up to the next store).
    let n = 0;
    for (let r = w.next(); !r.done; n++) r = batch && !r.value.published ? xa_resume_batching_unpublished(w) : w.next();
    assert.equal(load(xa, 1499), F); // every child holds F until __xa_store()
    return n;
  };
  // 8 nodes x (64 slot inits + parent), then per child: shift, offset, parent, publish.
  assert.equal(steps(false), 8 * 65 + 8 * 4);
  // Batched: one step for the preallocation and the first child's fields, then per child one
  // step for its publication and one for the next child's fields.
  assert.equal(steps(true), 1 + 1 + 7 * 2);
});

// ---- Kiryl Shutsemau's question ------------------------------------------------------------

test("Kiryl's question: an xa_state loaded before the split and reloaded after it returns the new folio (order-8 split) or the node (order-0 split), never the old head; mid-split it returns the old head, which is frozen then", () => {
  // Derived from the model: xas_load(1499) leaves {xa_node: root, xa_offset: 16}; xas_reload()
  // recomputes the offset from xa_index (23), so it always rereads slot 23. After xas_split()
  // and before __xa_store() of the new folio, slot 23 is sibling(20) and slot 20 holds the
  // to-be-split folio F: the reload returns F, the old head. In that window F's refcount is
  // frozen (folio_ref_freeze() came before xas_split(), folio_ref_unfreeze(F) comes after the
  // last __xa_store()), so a folio_try_get(F) cannot succeed there: a lookup that already got
  // a reference on F got it before the freeze, and then the freeze fails. Once the split is done
  // the reload returns the order-8 folio in slot 20, or the node in slot 23.
  for (const newOrder of [8, 0]) {
    const { xa, F } = example();
    const before = XA_STATE(xa, 1499);
    assert.equal(xas_load(before), F);
    const run = newRun();
    let midSplit: XaEntry<TF> | undefined;
    for (const phase of folioSplit(xa, F, newOrder, null, false, run)) {
      if (phase.kind === "unmapped-done") {
        midSplit = xas_reload(before);
        assert.ok(run.frozen.has(F));
      }
    }
    if (newOrder === 8) assert.equal(midSplit, F); // the old head, frozen
    else assert.ok(xa_is_node(midSplit!)); // the node already (xas_split publishes it)
    const after = xas_reload(before);
    assert.notEqual(after, F);
    if (newOrder === 8) {
      const G = after as TF;
      assert.deepEqual([G.index, G.order], [1280, 8]);
      // The reload's path: slot 23 = sibling(20), slot 20 = the new folio.
      assert.ok(xa_is_sibling(xa_root(xa)!.slots[23]!.value));
    } else {
      assert.ok(xa_is_node(after));
      assert.ok(!(after instanceof TF));
    }
  }
});

// ---- Zi Yan's fix: which folio a lookup can take a reference on during the split ----------

test("v6.18.7 folio_split: between unfreezing folio@1498 and __xa_store(folio@1499), index 1499 maps to the unfrozen folio@1498 and its reload agrees; with the fix it maps to the frozen original", () => {
  for (const fixed of [false, true]) {
    const { xa, F } = example();
    const run = newRun();
    const seen: string[] = [];
    for (const phase of folioSplit(xa, F, 0, 1499, fixed, run)) {
      if (phase.kind === "unmapped-done" || (phase.kind === "unfrozen" && phase.folio.index === 1498)) {
        const xas = XA_STATE(xa, 1499);
        const e = xas_load(xas) as TF;
        const frozen = run.frozen.has(e);
        // A lookup that got a reference (not frozen) passes the xas_reload() check:
        assert.equal(xas_reload(xas), e);
        seen.push(`${phase.kind}: folio@${e.index}/${e.order}${frozen ? " frozen" : ""}`);
      }
    }
    if (fixed)
      assert.deepEqual(seen, ["unmapped-done: folio@1024/8 frozen", "unfrozen: folio@1024/8 frozen"]);
    else
      // folio_contains(folio@1498 order 0, 1499) is false: the VM_BUG_ON_FOLIO in filemap_fault().
      assert.deepEqual(seen, ["unmapped-done: folio@1498/0 frozen", "unfrozen: folio@1498/0"]);
  }
});

// ---- Other lookups ---------------------------------------------------------------------------

test("xas_load for other indices: holes, ends of the entry, and a two-level tree", () => {
  resetLocations();
  const xa = new XArray<TF>("i_pages", { nodes: 8 });
  const A = new TF(1024, 9);
  const B = new TF(5000, 3);
  const C = new TF(0, 0);
  xa_store_order(xa, 1024, 9, A);
  xa_store_order(xa, 5000, 3, B); // beyond 4095: the tree grows a shift-12 root
  xa_store_order(xa, 0, 0, C);
  const root = xa_root(xa)!;
  assert.equal(root.shift.value, 12);
  assert.deepEqual(
    xa_nodes(xa).map(({ node, depth }) => `${depth}:shift ${node.shift.value}`),
    ["0:shift 12", "1:shift 6", "2:shift 0", "1:shift 6", "2:shift 0"],
  );
  const expect = (i: number): TF | null => [A, B, C].find((f) => f.contains(i)) ?? null;
  for (const i of [0, 1, 63, 64, 1023, 1024, 1499, 1535, 1536, 4095, 4096, 4999, 5000, 5007, 5008, 8191])
    assert.equal(load(xa, i), expect(i), `index ${i}`);
  // Beyond what the root covers: XAS_BOUNDS, NULL.
  assert.equal(load(xa, 1 << 18), null);
  assert.equal(xa_peek(xa, 1499), A);
});

// ---- Property: after any sequence of modeled splits, lookups find the covering folio --------

interface Placement {
  readonly index: number;
  readonly order: number;
}
interface SplitOp {
  readonly pick: number;
  readonly newOrder: number;
  readonly uniform: boolean;
  readonly splitAt: number;
  readonly fixed: boolean;
}

const RANGE = 1 << 13;

/** Non-overlapping aligned folios from random placements (later overlaps are dropped). */
function place(ps: readonly Placement[]): TF[] {
  const out: TF[] = [];
  for (const p of ps) {
    const size = 2 ** p.order;
    const index = Math.floor(p.index / size) * size;
    const f = new TF(index, p.order);
    if (out.some((g) => g.index < index + size && index < g.index + 2 ** g.order)) continue;
    out.push(f);
  }
  return out;
}

function checkLookups(xa: XArray<TF>, folios: readonly TF[]): void {
  const cover = new Array<TF | null>(RANGE).fill(null);
  for (const f of folios) for (let i = f.index; i < f.index + 2 ** f.order; i++) cover[i] = f;
  for (let i = 0; i < RANGE; i++) {
    const got = load(xa, i);
    if (got !== cover[i]) assert.fail(`xas_load(${i}) = ${describeEntry(xa, got)}, expected ${cover[i] === null ? "empty" : describeEntry(xa, cover[i]!)}`);
  }
}

test("property: after any sequence of splits (uniform or folio_split, with or without the fix) xas_load(i) returns the folio whose [index, index + 2^order) contains i", () => {
  fc.assert(
    fc.property(
      fc.array(fc.record({ index: fc.nat(RANGE - 1), order: fc.integer({ min: 0, max: 9 }) }), { minLength: 1, maxLength: 10 }),
      fc.array(
        fc.record({
          pick: fc.nat(),
          newOrder: fc.nat(),
          uniform: fc.boolean(),
          splitAt: fc.nat(),
          fixed: fc.boolean(),
        }),
        { maxLength: 4 },
      ),
      (placements: Placement[], ops: SplitOp[]) => {
        resetLocations();
        const xa = new XArray<TF>("i_pages", { nodes: 96 });
        const folios = place(placements);
        for (const f of folios) xa_store_order(xa, f.index, f.order, f);
        checkLookups(xa, folios);
        for (const op of ops) {
          const large = folios.filter((f) => f.order > 0);
          if (large.length === 0) break;
          const f = large[op.pick % large.length]!;
          const newOrder = op.newOrder % f.order;
          const splitAt = op.uniform ? null : f.index + (op.splitAt % 2 ** f.order);
          const run = runSplit(xa, f, newOrder, splitAt, op.fixed);
          folios.splice(folios.indexOf(f), 1, ...run.folios);
          checkLookups(xa, folios);
        }
      },
    ),
    { numRuns: 60 },
  );
});

test("property (the fix): at every point of a split with the original folio in xas_split/xas_try_split, a lookup either finds a frozen folio or one that contains the index", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 9 }),
      fc.nat(),
      fc.nat(),
      fc.boolean(),
      (order: number, newOrderSeed: number, splitAtSeed: number, uniform: boolean) => {
        resetLocations();
        const xa = new XArray<TF>("i_pages", { nodes: 16 });
        const F = new TF(1024, order);
        xa_store_order(xa, 1024, order, F);
        const newOrder = newOrderSeed % order;
        const splitAt = uniform ? null : 1024 + (splitAtSeed % 2 ** order);
        const run = newRun();
        for (const _ of folioSplit(xa, F, newOrder, splitAt, true, run)) {
          for (let i = 1024; i < 1024 + 2 ** order; i++) {
            const e = xa_peek(xa, i);
            assert.ok(e instanceof TF, `index ${i}: ${describeEntry(xa, e)}`);
            assert.ok(run.frozen.has(e) || e.contains(i), `index ${i} maps to unfrozen folio@${e.index}/${e.order}`);
          }
        }
      },
    ),
    { numRuns: 200 },
  );
});
