/**
 * One mapping's page-cache XArray (`mapping->i_pages`) with multi-index entries, as the page
 * cache uses it: lookups (`xas_load()`, `xas_reload()`) and the stores that build the tree
 * (`xas_store()`, `__xa_store()`) and split a multi-index entry (`xas_split_alloc()`,
 * `xas_split()`, `xas_try_split()`).
 *
 * Source: lib/xarray.c and include/linux/xarray.h. Read from the `linux-mm/linux-mm` copy in the
 * search index (lib/xarray.c @ 2749f377, include/linux/xarray.h @ 056bb4c1, a post-v6.18 tree:
 * the index holds no v6.18 copy of these files). xas_try_split() and __xas_init_node_for_split()
 * date from v6.15, node_set_marks(..., sibs, ...) from v6.10; no later change to the functions
 * modeled here turned up in the patches searched, and `xas_reload()` matches the v6.18.7 text
 * quoted in seed 001 word for word. CONFIG_XARRAY_MULTI=y, XA_CHUNK_SHIFT 6 (!CONFIG_BASE_SMALL).
 *
 * Entries compare by identity as the kernel compares pointers: a folio entry is the folio object
 * itself; internal entries are instances of {@link XaInternal} — one canonical node entry per
 * node (`xa_mk_node()`), one sibling entry per offset (`xa_mk_sibling()`), and XA_RETRY_ENTRY —
 * so a node entry never equals a folio entry.
 *
 * Shared memory: xa_head, every node slot and the node fields readers use (`shift`, `offset`,
 * `parent`) are {@link XaCell}s, one engine location each, allocated when the XArray is built
 * (nodes come from a fixed pool, so build XArrays only in a scenario's setup). Every shared read
 * goes through {@link loadSlot} and every shared write through {@link storeSlot}, each naming the
 * kernel primitive the source uses; only the non-recording display helpers at the end of the
 * file read a cell's value directly.
 *
 * Writers are generators: each store is yielded as an {@link XaStoreStep} *before* it is made, and
 * made when the generator is resumed, so a thread can take one store per atomic step (the reads
 * that follow a store belong to that store's step). {@link xa_run} runs a writer to completion,
 * {@link xa_collect} also returns the stores, and {@link xa_resume_batching_unpublished} folds
 * stores into a not-yet-published node into the step before its publication.
 *
 * Left out: value (shadow/swap) entries and XA_ZERO_ENTRY, marks (node_set_marks,
 * xas_squash_marks: bit operations no lookup here reads), node->count and nr_values,
 * xas_update callbacks, erasing (storing NULL) and freeing nodes (xas_free_nodes, xas_shrink,
 * xas_delete_node), and -ENOMEM (the node pool never fails; it throws when exhausted). The
 * xa_lock is not part of this object: model it with src/linux/locks.ts.
 */
import { access, newLoc, R, W } from "../engine/access.js";
import { load as memLoad, loadAcquire, runningTask, store as memStore, type Cell } from "../engine/memory.js";
import { selfTracked } from "../engine/track.js";

/** include/linux/xarray.h (v6.18): XA_CHUNK_SHIFT (6 unless CONFIG_BASE_SMALL). */
export const XA_CHUNK_SHIFT = 6;
/** include/linux/xarray.h (v6.18): XA_CHUNK_SIZE = 1 << XA_CHUNK_SHIFT. */
export const XA_CHUNK_SIZE = 64;
/** include/linux/xarray.h (v6.18): XA_CHUNK_MASK = XA_CHUNK_SIZE - 1. */
export const XA_CHUNK_MASK = 63;

/** Kernel primitive of a shared store, as the source writes it. */
export type XaStorePrimitive = "rcu_assign_pointer" | "WRITE_ONCE" | "plain";
/** Kernel primitive of a shared load: rcu_dereference* (READ_ONCE + address dependency), READ_ONCE, plain. */
export type XaLoadPrimitive = "rcu_dereference" | "READ_ONCE" | "plain";

// ---------------------------------------------------------------------------------------------
// Entries

/** An internal entry (`xa_is_internal()`): a node pointer, a sibling, or the retry entry. */
export abstract class XaInternal {
  abstract readonly kind: "node" | "sibling" | "retry";
}

/** `xa_mk_node(node)`: the node pointer tagged internal. One object per node (pointer identity). */
export class XaNodeEntry<F extends object = object> extends XaInternal {
  readonly kind = "node" as const;
  constructor(readonly node: XaNode<F>) {
    super();
  }
}

/** `xa_mk_sibling(offset)`: "the entry is in slot `offset` of this node". */
export class XaSibling extends XaInternal {
  readonly kind = "sibling" as const;
  constructor(readonly offset: number) {
    super();
  }
}

/** `XA_RETRY_ENTRY` (xa_mk_internal(256)). */
export class XaRetry extends XaInternal {
  readonly kind = "retry" as const;
}

/** What a slot or xa_head holds: a folio (any non-internal object), an internal entry, or NULL. */
export type XaEntry<F extends object> = F | XaInternal | null;

/** xa_mk_sibling(0..63); 63 is computed (and never stored) by __xas_init_node_for_split(). */
const SIBLINGS: readonly XaSibling[] = Array.from({ length: XA_CHUNK_SIZE }, (_, i) => new XaSibling(i));

/** include/linux/xarray.h (v6.18): XA_RETRY_ENTRY. */
export const XA_RETRY_ENTRY: XaRetry = new XaRetry();

/** xa_is_internal(): true for node, sibling and retry entries. */
export function xa_is_internal(entry: unknown): entry is XaInternal {
  return entry instanceof XaInternal;
}

/** xa_is_node(): `xa_is_internal(entry) && entry > 4096`. */
export function xa_is_node<F extends object>(entry: XaEntry<F>): entry is XaNodeEntry<F> {
  return entry instanceof XaNodeEntry;
}

/** xa_to_node(). */
export function xa_to_node<F extends object>(entry: XaNodeEntry<F>): XaNode<F> {
  return entry.node;
}

/** xa_mk_node(): the node's canonical entry. */
export function xa_mk_node<F extends object>(node: XaNode<F>): XaNodeEntry<F> {
  return node.entry;
}

/** xa_is_sibling() (CONFIG_XARRAY_MULTI): internal and below xa_mk_sibling(XA_CHUNK_SIZE - 1). */
export function xa_is_sibling(entry: unknown): entry is XaSibling {
  return entry instanceof XaSibling && entry.offset < XA_CHUNK_SIZE - 1;
}

/** xa_mk_sibling(offset): the canonical sibling entry for `offset` (0..63; only 0..62 are siblings). */
export function xa_mk_sibling(offset: number): XaSibling {
  const s = SIBLINGS[offset];
  if (s === undefined) throw new Error(`xa_mk_sibling(${offset}): offset out of range`);
  return s;
}

/** xa_to_sibling(). */
export function xa_to_sibling(entry: XaSibling): number {
  return entry.offset;
}

/** xa_is_retry(). */
export function xa_is_retry(entry: unknown): boolean {
  return entry === XA_RETRY_ENTRY;
}

// ---------------------------------------------------------------------------------------------
// Shared cells and the two functions all shared traffic goes through

/** What a cell is: xa_head, a node slot, or a node field. */
export type XaCellField = "head" | "slot" | "shift" | "offset" | "parent";

/**
 * One shared word of the XArray (xa_head, `node->slots[i]`, `node->shift`, `node->offset`,
 * `node->parent`), with its engine location. Read and write `value` only through
 * {@link loadSlot} / {@link storeSlot}, or through the non-recording display helpers.
 */
export class XaCell<V> {
  constructor(
    /** Engine location (access.ts). */
    readonly loc: number,
    /** Readable name: `i_pages.xa_head`, `i_pages.node0.slots[23]`, `i_pages.node3.shift`. */
    readonly name: string,
    /** Current value in memory. */
    public value: V,
    /** Node the cell belongs to; null for xa_head. */
    readonly owner: XaNode<object> | null,
    readonly field: XaCellField,
    /** Slot offset for `slot` cells, else -1. */
    readonly offset: number,
  ) {}
}

/**
 * A shared load: records a read of the cell's location and returns its value. `primitive` is the
 * kernel's: `rcu_dereference` for xa_head() / xa_entry() (rcu_dereference_check, i.e. READ_ONCE
 * plus address-dependency ordering) and rcu_dereference_raw(); `plain` for node->shift and for
 * xa_entry_locked() / xa_head_locked() (rcu_dereference_protected: a plain load under xa_lock).
 * Inside a step it goes through the execution's memory model (src/engine/memory.ts): under
 * tso/pso/rmo a thread reads its own buffered store first. An XArray word is never read stale
 * under rmo (only a `Cell` is); an `rcu_dereference` load still orders the thread's later loads
 * of `Cell`s after it there (its address dependency).
 */
export function loadSlot<V>(cell: XaCell<V>, primitive: XaLoadPrimitive): V {
  const t = runningTask();
  if (t !== null) return (primitive === "rcu_dereference" ? loadAcquire : memLoad)(t, cell as unknown as Cell<V>);
  access(cell.loc, R);
  return cell.value;
}

/**
 * A shared store: records a write of the cell's location and sets its value. `primitive` is the
 * kernel's: `rcu_assign_pointer` (smp_store_release for a non-NULL value), `WRITE_ONCE`
 * (RCU_INIT_POINTER is WRITE_ONCE), or `plain` (`child->shift = ...`). Inside a step it goes
 * through the execution's memory model: under tso/pso the store is buffered, and an
 * `rcu_assign_pointer` is a release (every earlier store of the thread becomes visible first).
 */
export function storeSlot<V>(cell: XaCell<V>, value: V, primitive: XaStorePrimitive): void {
  const t = runningTask();
  if (t !== null) {
    memStore(t, cell as unknown as Cell<V>, value, primitive === "rcu_assign_pointer");
    return;
  }
  access(cell.loc, W);
  cell.value = value;
}

// ---------------------------------------------------------------------------------------------
// Nodes and the array

const nameCache = new Map<string, readonly string[]>();

/** Names of a pool node's cells: slots[0..63], shift, offset, parent (cached across setups). */
function nodeCellNames(prefix: string): readonly string[] {
  let names = nameCache.get(prefix);
  if (names === undefined) {
    const n: string[] = [];
    for (let i = 0; i < XA_CHUNK_SIZE; i++) n.push(`${prefix}.slots[${i}]`);
    n.push(`${prefix}.shift`, `${prefix}.offset`, `${prefix}.parent`);
    names = n;
    nameCache.set(prefix, names);
  }
  return names;
}

/**
 * struct xa_node: 64 slots, `shift` (bits remaining in each slot), `offset` (slot in parent),
 * `parent` (NULL at the top). Nodes come from the XArray's fixed pool (kmem_cache_alloc_lru of
 * radix_tree_node_cachep); a fresh node has NULL slots, as radix_tree_node_ctor() and
 * radix_tree_node_rcu_free() leave them.
 */
export class XaNode<F extends object = object> {
  /** xa_mk_node(this). */
  readonly entry: XaNodeEntry<F>;
  readonly slots: XaCell<XaEntry<F>>[];
  readonly shift: XaCell<number>;
  readonly offset: XaCell<number>;
  readonly parent: XaCell<XaNode<F> | null>;
  /** Taken from the pool (by xas_alloc, xas_split_alloc or xas_try_split). */
  allocated = false;
  /** Reachable from xa_head (model bookkeeping for XaStoreStep.published; not kernel state). */
  published = false;

  constructor(
    /** node->array: the XArray the node belongs to (set once; not shared state here). */
    readonly array: XArray<F>,
    /** Pool index: the node's name is `<xa>.node<id>`. */
    readonly id: number,
    readonly name: string,
  ) {
    this.entry = new XaNodeEntry(this);
    const names = nodeCellNames(name);
    const owner = this as unknown as XaNode<object>;
    this.slots = [];
    for (let i = 0; i < XA_CHUNK_SIZE; i++)
      this.slots.push(new XaCell<XaEntry<F>>(newLoc(names[i]!, this), names[i]!, null, owner, "slot", i));
    this.shift = new XaCell(newLoc(names[64]!, this), names[64]!, 0, owner, "shift", -1);
    this.offset = new XaCell(newLoc(names[65]!, this), names[65]!, 0, owner, "offset", -1);
    this.parent = new XaCell<XaNode<F> | null>(newLoc(names[66]!, this), names[66]!, null, owner, "parent", -1);
  }
}

/** Options for {@link XArray}. */
export interface XArrayOptions<F extends object> {
  /** Size of the node pool (each node is 67 locations). Default 16. */
  readonly nodes?: number;
  /** How a folio entry is shown; default `folio@<index> order <order>` from those properties. */
  readonly describe?: (f: F) => string;
}

function defaultDescribe(f: object): string {
  const o = f as { index?: unknown; order?: unknown; name?: unknown };
  if (typeof o.index === "number") return `folio@${o.index}${typeof o.order === "number" ? ` order ${o.order}` : ""}`;
  if (typeof o.name === "string") return o.name;
  return "entry";
}

/**
 * struct xarray (`mapping->i_pages`): xa_head plus a fixed pool of nodes. Build one only in a
 * scenario's setup: the constructor allocates 1 + 67 * nodes + 1 engine locations.
 */
export class XArray<F extends object = object> {
  /** xa->xa_head. */
  readonly head: XaCell<XaEntry<F>>;
  /** The node pool (struct xa_node objects), in allocation order. */
  readonly pool: readonly XaNode<F>[];
  /** Location of the allocator (kmem_cache_alloc_lru): allocations conflict with each other. */
  readonly allocLoc: number;
  readonly describe: (f: F) => string;
  private nextFree = 0;

  constructor(
    readonly name: string,
    opts: XArrayOptions<F> = {},
  ) {
    this.head = new XaCell<XaEntry<F>>(newLoc(`${name}.xa_head`, this), `${name}.xa_head`, null, null, "head", -1);
    const n = opts.nodes ?? 16;
    const pool: XaNode<F>[] = [];
    for (let i = 0; i < n; i++) pool.push(new XaNode<F>(this, i, `${name}.node${i}`));
    this.pool = pool;
    this.allocLoc = newLoc(`${name}.radix_tree_node_cachep`, this);
    this.describe = opts.describe ?? defaultDescribe;
  }

  /** kmem_cache_alloc_lru(radix_tree_node_cachep, ...): the next pool node (records a write). */
  allocNode(): XaNode<F> {
    access(this.allocLoc, W);
    const node = this.pool[this.nextFree];
    if (node === undefined)
      throw new Error(`${this.name}: node pool exhausted (${this.pool.length} nodes); raise the 'nodes' option`);
    this.nextFree++;
    node.allocated = true;
    return node;
  }

  /** Nodes taken from the pool so far. */
  get nodesAllocated(): number {
    return this.nextFree;
  }
}

// ---------------------------------------------------------------------------------------------
// struct xa_state

/** XAS_RESTART: the xa_state has not been walked yet (xa_node == 3). */
export const XAS_RESTART: unique symbol = Symbol("XAS_RESTART");
/** XAS_BOUNDS: the walk ran off the end of the tree (xa_node == 1). */
export const XAS_BOUNDS: unique symbol = Symbol("XAS_BOUNDS");

/** XA_ERROR(errno) stored in xa_node. */
export class XaError {
  constructor(readonly errno: number) {}
}

/** -ENOMEM / -EINVAL as stored by xas_set_err(). */
export const ENOMEM = 12;
export const EINVAL = 22;

/** What `xas->xa_node` holds: a node, NULL (the entry is xa_head), a special state or an error. */
export type XasNode<F extends object> = XaNode<F> | null | typeof XAS_RESTART | typeof XAS_BOUNDS | XaError;

/**
 * struct xa_state: the cursor of one operation, private to its thread (not shared memory).
 * Field names as in include/linux/xarray.h.
 */
export class XaState<F extends object = object> {
  xa_shift = 0;
  xa_sibs = 0;
  xa_offset = 0;
  xa_node: XasNode<F> = XAS_RESTART;
  /** Nodes preallocated by xas_split_alloc(), chained through their `parent` cells. */
  xa_alloc: XaNode<F> | null = null;
  constructor(
    readonly xa: XArray<F>,
    public xa_index: number,
  ) {}
}

function checkIndex(index: number): void {
  if (!Number.isInteger(index) || index < 0 || index > 0x7fffffff)
    throw new Error(`index ${index}: the model handles indices 0..2^31-1`);
}

/** include/linux/xarray.h (v6.18) XA_STATE(name, array, index): xa_shift 0, xa_sibs 0, XAS_RESTART. */
export function XA_STATE<F extends object>(xa: XArray<F>, index: number): XaState<F> {
  checkIndex(index);
  return new XaState(xa, index);
}

/**
 * XA_STATE_ORDER(name, array, index, order): index rounded down to the order,
 * `xa_shift = order - order % XA_CHUNK_SHIFT`, `xa_sibs = (1 << order % XA_CHUNK_SHIFT) - 1`.
 */
export function XA_STATE_ORDER<F extends object>(xa: XArray<F>, index: number, order: number): XaState<F> {
  const xas = XA_STATE(xa, index);
  xas_set_order(xas, index, order);
  return xas;
}

/** include/linux/xarray.h (v6.18) xas_set_order(xas, index, order) (CONFIG_XARRAY_MULTI); also resets to XAS_RESTART. */
export function xas_set_order<F extends object>(xas: XaState<F>, index: number, order: number): void {
  checkIndex(index);
  xas.xa_index = Math.floor(index / 2 ** order) * 2 ** order;
  xas.xa_shift = order - (order % XA_CHUNK_SHIFT);
  xas.xa_sibs = (1 << order % XA_CHUNK_SHIFT) - 1;
  xas.xa_node = XAS_RESTART;
}

/** xas_set(xas, index): move to another index; the next walk starts from the top. */
export function xas_set<F extends object>(xas: XaState<F>, index: number): void {
  checkIndex(index);
  xas.xa_index = index;
  xas.xa_node = XAS_RESTART;
}

/** xas_reset(): `xas->xa_node = XAS_RESTART`. */
export function xas_reset<F extends object>(xas: XaState<F>): void {
  xas.xa_node = XAS_RESTART;
}

/** xas_invalid(): RESTART, BOUNDS or an error (`(unsigned long)xas->xa_node & 3`). */
export function xas_invalid<F extends object>(xas: XaState<F>): boolean {
  const n = xas.xa_node;
  return n === XAS_RESTART || n === XAS_BOUNDS || n instanceof XaError;
}

/** xas_valid(). */
export function xas_valid<F extends object>(xas: XaState<F>): boolean {
  return !xas_invalid(xas);
}

/** xas_top(node): `node <= XAS_RESTART` — NULL, BOUNDS or RESTART. */
export function xas_top<F extends object>(node: XasNode<F>): node is null | typeof XAS_RESTART | typeof XAS_BOUNDS {
  return node === null || node === XAS_RESTART || node === XAS_BOUNDS;
}

/** xas_error(): the errno stored in xa_node, or 0. */
export function xas_error<F extends object>(xas: XaState<F>): number {
  return xas.xa_node instanceof XaError ? -xas.xa_node.errno : 0;
}

/** xas_set_err(xas, -errno). */
export function xas_set_err<F extends object>(xas: XaState<F>, err: number): void {
  xas.xa_node = new XaError(-err);
}

/** include/linux/xarray.h (v6.18) xas_retry(): true (and xas_reset) for XA_RETRY_ENTRY. (XA_ZERO_ENTRY is not modeled.) */
export function xas_retry<F extends object>(xas: XaState<F>, entry: XaEntry<F>): boolean {
  if (!xa_is_retry(entry)) return false;
  xas_reset(xas);
  return true;
}

/** The node xas points to (xas_is_node()), or null. */
function xasNode<F extends object>(xas: XaState<F>): XaNode<F> | null {
  const n = xas.xa_node;
  return n instanceof XaNode ? n : null;
}

// ---------------------------------------------------------------------------------------------
// Reads (include/linux/xarray.h, lib/xarray.c)

/** include/linux/xarray.h (v6.18) xa_head(xa): rcu_dereference_check(xa->xa_head, ...). */
export function xa_head<F extends object>(xa: XArray<F>): XaEntry<F> {
  return loadSlot(xa.head, "rcu_dereference");
}

/** xa_head_locked(xa): rcu_dereference_protected(xa->xa_head, ...) — plain, under xa_lock. */
export function xa_head_locked<F extends object>(xa: XArray<F>): XaEntry<F> {
  return loadSlot(xa.head, "plain");
}

/** include/linux/xarray.h (v6.18) xa_entry(xa, node, offset): rcu_dereference_check(node->slots[offset], ...). */
export function xa_entry<F extends object>(xa: XArray<F>, node: XaNode<F>, offset: number): XaEntry<F> {
  void xa;
  return loadSlot(node.slots[offset]!, "rcu_dereference");
}

/** xa_entry_locked(xa, node, offset): rcu_dereference_protected(...) — plain, under xa_lock. */
export function xa_entry_locked<F extends object>(xa: XArray<F>, node: XaNode<F>, offset: number): XaEntry<F> {
  void xa;
  return loadSlot(node.slots[offset]!, "plain");
}

/** `node->shift`: a plain load (readers reach it through an rcu_dereference'd node pointer). */
export function node_shift<F extends object>(node: XaNode<F>): number {
  return loadSlot(node.shift, "plain");
}

/** lib/xarray.c (v6.18) get_offset(index, node): `(index >> node->shift) & XA_CHUNK_MASK`. */
export function get_offset<F extends object>(index: number, node: XaNode<F>): number {
  return Math.floor(index / 2 ** node_shift(node)) & XA_CHUNK_MASK;
}

function set_bounds<F extends object>(xas: XaState<F>): XaEntry<F> {
  xas.xa_node = XAS_BOUNDS;
  return null;
}

/**
 * lib/xarray.c (v6.18) xas_start(): a valid xas is reloaded; otherwise the walk starts at xa_head
 * (BOUNDS when the index is beyond what the tree covers) with `xas->xa_node = NULL`.
 */
export function xas_start<F extends object>(xas: XaState<F>): XaEntry<F> {
  if (xas_valid(xas)) return xas_reload(xas);
  if (xas_error(xas)) return null;
  const entry = xa_head(xas.xa);
  if (!xa_is_node(entry)) {
    if (xas.xa_index) return set_bounds(xas);
  } else if (Math.floor(xas.xa_index / 2 ** node_shift(xa_to_node(entry))) > XA_CHUNK_MASK) {
    return set_bounds(xas);
  }
  xas.xa_node = null;
  return entry;
}

/**
 * lib/xarray.c (v6.18) xas_descend():
 * ```c
 * unsigned int offset = get_offset(xas->xa_index, node);
 * void *entry = xa_entry(xas->xa, node, offset);
 * xas->xa_node = node;
 * while (xa_is_sibling(entry)) {
 *         offset = xa_to_sibling(entry);
 *         entry = xa_entry(xas->xa, node, offset);
 *         if (node->shift && xa_is_node(entry))
 *                 entry = XA_RETRY_ENTRY;
 * }
 * xas->xa_offset = offset;
 * return entry;
 * ```
 * Note `xa_offset` ends at the canonical (head) slot, not the slot of the index.
 */
export function xas_descend<F extends object>(xas: XaState<F>, node: XaNode<F>): XaEntry<F> {
  let offset = get_offset(xas.xa_index, node);
  let entry = xa_entry(xas.xa, node, offset);
  xas.xa_node = node;
  while (xa_is_sibling(entry)) {
    offset = xa_to_sibling(entry);
    entry = xa_entry(xas.xa, node, offset);
    if (node_shift(node) && xa_is_node(entry)) entry = XA_RETRY_ENTRY;
  }
  xas.xa_offset = offset;
  return entry;
}

/**
 * lib/xarray.c (v6.18) xas_load(): walk from xas_start() while the entry is a node, stopping at a node
 * whose shift is below xa_shift or after descending into a shift-0 node:
 * ```c
 * void *entry = xas_start(xas);
 * while (xa_is_node(entry)) {
 *         struct xa_node *node = xa_to_node(entry);
 *         if (xas->xa_shift > node->shift)
 *                 break;
 *         entry = xas_descend(xas, node);
 *         if (node->shift == 0)
 *                 break;
 * }
 * return entry;
 * ```
 * Leaves `xas = {xa_node: the last node, xa_offset: the canonical slot}`. Records every load.
 */
export function xas_load<F extends object>(xas: XaState<F>): XaEntry<F> {
  let entry = xas_start(xas);
  while (xa_is_node(entry)) {
    const node = xa_to_node(entry);
    if (xas.xa_shift > node_shift(node)) break;
    entry = xas_descend(xas, node);
    if (node_shift(node) === 0) break;
  }
  return entry;
}

/**
 * include/linux/xarray.h (v6.18) xas_reload(), CONFIG_XARRAY_MULTI, exactly as quoted in the thread:
 * ```c
 * if (!node)
 *         return xa_head(xas->xa);
 * offset = (xas->xa_index >> node->shift) & XA_CHUNK_MASK;
 * entry = xa_entry(xas->xa, node, offset);
 * if (!xa_is_sibling(entry))
 *         return entry;
 * offset = xa_to_sibling(entry);
 * return xa_entry(xas->xa, node, offset);
 * ```
 * It rereads the node the earlier walk stopped at (it does not descend): a node entry found
 * there is returned as is. The offset comes from xa_index, not from xas->xa_offset. The caller
 * guarantees xas is valid; an invalid xas throws.
 */
export function xas_reload<F extends object>(xas: XaState<F>): XaEntry<F> {
  const n = xas.xa_node;
  if (n === null) return xa_head(xas.xa);
  if (!(n instanceof XaNode)) throw new Error("xas_reload() on an xa_state that is not walked (RESTART/BOUNDS/error)");
  let offset = Math.floor(xas.xa_index / 2 ** node_shift(n)) & XA_CHUNK_MASK;
  const entry = xa_entry(xas.xa, n, offset);
  if (!xa_is_sibling(entry)) return entry;
  offset = xa_to_sibling(entry);
  return xa_entry(xas.xa, n, offset);
}

// ---------------------------------------------------------------------------------------------
// Writers: stores as steps

/**
 * One store a writer makes, yielded before it is made. `slot` is the cell written (xa_head, a
 * node slot or a node field), `value` the value stored, `primitive` the kernel primitive the
 * source uses, `source` the function (`lib/xarray.c: xas_split()`), `code` the C statement.
 * `published` is false for stores into a node not yet reachable from xa_head (no lookup can
 * read them until the node is published by a later rcu_assign_pointer).
 */
export interface XaStoreStep {
  readonly slot: XaCell<unknown>;
  readonly value: unknown;
  readonly primitive: XaStorePrimitive;
  readonly source: string;
  readonly code: string;
  readonly published: boolean;
}

/** A writer: yields each store before making it; returns the function's result. */
export type XaWriter<T> = Generator<XaStoreStep, T, void>;

function markPublished(node: XaNode<object>): void {
  if (node.published) return;
  node.published = true;
  for (const c of node.slots) if (c.value instanceof XaNodeEntry) markPublished(c.value.node);
}

/** Yields the store, then makes it through storeSlot() when resumed. */
function* store<V>(
  cell: XaCell<V>,
  value: V,
  primitive: XaStorePrimitive,
  source: string,
  code: string,
): Generator<XaStoreStep, void, void> {
  const published = cell.owner === null || cell.owner.published;
  yield { slot: cell as XaCell<unknown>, value, primitive, source, code, published };
  storeSlot(cell, value, primitive);
  if (published && value instanceof XaNodeEntry) markPublished(value.node);
}

/** Runs a writer to completion, making every store; returns its result. */
export function xa_run<T>(w: XaWriter<T>): T {
  for (;;) {
    const r = w.next();
    if (r.done) return r.value;
  }
}

/** Runs a writer to completion and returns the stores it made, in order. */
export function xa_collect(w: XaWriter<unknown>): XaStoreStep[] {
  const out: XaStoreStep[] = [];
  for (;;) {
    const r = w.next();
    if (r.done) return out;
    out.push(r.value);
  }
}

/**
 * Resumes a writer (making its pending store) and keeps resuming while the next pending store is
 * unpublished, so stores into a node no reader can reach yet can share one step. Returns the
 * next pending published store, or the writer's completion.
 */
export function xa_resume_batching_unpublished<T>(w: XaWriter<T>): IteratorResult<XaStoreStep, T> {
  for (;;) {
    const r = w.next();
    if (r.done || r.value.published) return r;
  }
}

const XARRAY_C = "lib/xarray.c";

function slotName(cell: XaCell<unknown>): string {
  return cell.owner === null ? "xa->xa_head" : `${cell.owner.name.split(".").pop()}->slots[${cell.offset}]`;
}

/**
 * xas_alloc(xas, shift): a node from xas->xa_alloc or the pool; its fields are set with plain
 * stores (RCU_INIT_POINTER for parent) before the caller publishes it.
 */
function* xas_alloc<F extends object>(xas: XaState<F>, shift: number): XaWriter<XaNode<F> | null> {
  const parent = xasNode(xas);
  if (xas_invalid(xas)) return null;
  let node = xas.xa_alloc;
  if (node !== null) xas.xa_alloc = null;
  else node = xas.xa.allocNode();
  const src = `${XARRAY_C}: xas_alloc()`;
  if (parent !== null) {
    yield* store(node.offset, xas.xa_offset, "plain", src, `node->offset = ${xas.xa_offset}`);
    // parent->count++ and xas_update(): not modeled.
  }
  yield* store(node.shift, shift, "plain", src, `node->shift = ${shift}`);
  yield* store(node.parent, parent, "WRITE_ONCE", src, "RCU_INIT_POINTER(node->parent, xas->xa_node)");
  return node;
}

function xas_max<F extends object>(xas: XaState<F>): number {
  let max = xas.xa_index;
  if (xas.xa_shift || xas.xa_sibs) {
    const mask = (xas.xa_sibs + 1) * 2 ** xas.xa_shift - 1;
    max = max - (max % (mask + 1)) + mask; // max |= mask
    if (mask === max) max++;
  }
  return max;
}

function max_index<F extends object>(entry: XaEntry<F>): number {
  if (!xa_is_node(entry)) return 0;
  return XA_CHUNK_SIZE * 2 ** node_shift(xa_to_node(entry)) - 1;
}

/** lib/xarray.c (v6.18) xas_expand(): add nodes above the head until the tree covers xas_max(). */
function* xas_expand<F extends object>(xas: XaState<F>, headIn: XaEntry<F>): XaWriter<number> {
  const xa = xas.xa;
  let head = headIn;
  let node: XaNode<F> | null = null;
  let shift = 0;
  const max = xas_max(xas);
  const src = `${XARRAY_C}: xas_expand()`;
  if (!head) {
    if (max === 0) return 0;
    while (Math.floor(max / 2 ** shift) >= XA_CHUNK_SIZE) shift += XA_CHUNK_SHIFT;
    return shift + XA_CHUNK_SHIFT;
  } else if (xa_is_node(head)) {
    node = xa_to_node(head);
    shift = node_shift(node) + XA_CHUNK_SHIFT;
  }
  xas.xa_node = null;
  while (max > max_index(head)) {
    const n = yield* xas_alloc(xas, shift);
    if (n === null) return -ENOMEM;
    node = n;
    yield* store(node.slots[0]!, head, "WRITE_ONCE", src, "RCU_INIT_POINTER(node->slots[0], head)");
    if (xa_is_node(head)) {
      const old = xa_to_node(head);
      yield* store(old.offset, 0, "plain", src, "xa_to_node(head)->offset = 0");
      yield* store(old.parent, node, "rcu_assign_pointer", src, "rcu_assign_pointer(xa_to_node(head)->parent, node)");
    }
    head = xa_mk_node(node);
    yield* store(xa.head, head, "rcu_assign_pointer", src, "rcu_assign_pointer(xa->xa_head, head)");
    shift += XA_CHUNK_SHIFT;
  }
  xas.xa_node = node;
  return shift;
}

/**
 * lib/xarray.c (v6.18) xas_create(xas, allow_root): walk down from the head, expanding the tree and
 * allocating (and publishing) missing nodes, to the slot for xa_index at xa_shift. Returns the
 * entry found there; leaves xas at that slot.
 */
function* xas_create<F extends object>(xas: XaState<F>, allow_root: boolean): XaWriter<XaEntry<F>> {
  const xa = xas.xa;
  let entry: XaEntry<F>;
  let slot: XaCell<XaEntry<F>>;
  let node: XaNode<F> | null = xasNode(xas);
  let shift: number;
  const order = xas.xa_shift;
  const src = `${XARRAY_C}: xas_create()`;

  if (xas_top(xas.xa_node)) {
    entry = xa_head_locked(xa);
    xas.xa_node = null;
    shift = yield* xas_expand(xas, entry);
    if (shift < 0) return null;
    if (!shift && !allow_root) shift = XA_CHUNK_SHIFT;
    entry = xa_head_locked(xa);
    slot = xa.head;
  } else if (xas_error(xas)) {
    return null;
  } else if (node !== null) {
    const offset = xas.xa_offset;
    shift = node_shift(node);
    entry = xa_entry_locked(xa, node, offset);
    slot = node.slots[offset]!;
  } else {
    shift = 0;
    entry = xa_head_locked(xa);
    slot = xa.head;
  }

  while (shift > order) {
    shift -= XA_CHUNK_SHIFT;
    if (!entry) {
      node = yield* xas_alloc(xas, shift);
      if (node === null) break;
      yield* store(slot, xa_mk_node(node), "rcu_assign_pointer", src, `rcu_assign_pointer(*slot, xa_mk_node(node))`);
    } else if (xa_is_node(entry)) {
      node = xa_to_node(entry);
    } else {
      break;
    }
    entry = xas_descend(xas, node);
    slot = node.slots[xas.xa_offset]!;
  }
  return entry;
}

/**
 * lib/xarray.c (v6.18) xas_store(xas, entry) for a non-NULL entry: xas_create(), then
 * `rcu_assign_pointer(*slot, entry)` for the head slot and `xa_mk_sibling(xas->xa_offset)` for
 * the xa_sibs slots after it. Returns the first old entry. Erasing (entry == NULL) and storing
 * over a node (xas_free_nodes) are not modeled and throw.
 */
export function* xas_store<F extends object>(xas: XaState<F>, entryIn: XaEntry<F>): XaWriter<XaEntry<F>> {
  if (entryIn === null) throw new Error("xas_store(xas, NULL) (erase) is not modeled");
  let entry: XaEntry<F> = entryIn;
  const src = `${XARRAY_C}: xas_store()`;
  const allow_root = !xa_is_node(entry);
  let first = yield* xas_create(xas, allow_root);
  if (xas_invalid(xas)) return first;
  const node = xasNode(xas);
  if (node !== null && xas.xa_shift < node_shift(node)) xas.xa_sibs = 0;
  if (first === entry && !xas.xa_sibs) return first;

  let next = first;
  let offset = xas.xa_offset;
  const max = xas.xa_offset + xas.xa_sibs;
  let slot: XaCell<XaEntry<F>> = node !== null ? node.slots[offset]! : xas.xa.head;
  for (;;) {
    yield* store(slot, entry, "rcu_assign_pointer", src, `rcu_assign_pointer(${slotName(slot)}, ${describeEntry(xas.xa, entry)})`);
    if (xa_is_node(next) && (node === null || node_shift(node)))
      throw new Error("xas_store() over a node (xas_free_nodes) is not modeled");
    if (node === null) break;
    if (offset === max) break;
    if (!xa_is_sibling(entry)) entry = xa_mk_sibling(xas.xa_offset);
    next = xa_entry_locked(xas.xa, node, ++offset);
    if (!xa_is_sibling(next)) first = next;
    slot = node.slots[offset]!;
  }
  return first;
}

/**
 * lib/xarray.c (v6.18) __xa_store(xa, index, entry, gfp) (caller holds xa_lock): XA_STATE at index
 * (order 0) and xas_store(). Storing into the head slot of a multi-index entry replaces only that
 * slot: its sibling slots keep pointing at it.
 */
export function* __xa_store<F extends object>(xa: XArray<F>, index: number, entry: F): XaWriter<XaEntry<F>> {
  const xas = XA_STATE(xa, index);
  return yield* xas_store(xas, entry);
}

/** Convenience for setup: store `entry` as an order-`order` multi-index entry at `index` (xas_store via XA_STATE_ORDER). */
export function xa_store_order<F extends object>(xa: XArray<F>, index: number, order: number, entry: F): void {
  const xas = XA_STATE_ORDER(xa, index, order);
  xa_run(xas_store(xas, entry));
}

/**
 * lib/xarray.c (v6.18) __xas_init_node_for_split(xas, node, entry): fill a not-yet-published node,
 * `RCU_INIT_POINTER(node->slots[i], entry)` at every (xa_sibs + 1)-th slot and the matching
 * sibling entries between.
 */
function* __xas_init_node_for_split<F extends object>(xas: XaState<F>, node: XaNode<F>, entry: XaEntry<F>, src: string): XaWriter<void> {
  const mask = xas.xa_sibs;
  let sibling: XaEntry<F> = null;
  // node->array = xas->xa: not modeled.
  for (let i = 0; i < XA_CHUNK_SIZE; i++) {
    if ((i & mask) === 0) {
      yield* store(node.slots[i]!, entry, "WRITE_ONCE", src, `RCU_INIT_POINTER(node->slots[${i}], entry)`);
      sibling = xa_mk_sibling(i);
    } else {
      yield* store(node.slots[i]!, sibling, "WRITE_ONCE", src, `RCU_INIT_POINTER(node->slots[${i}], sibling)`);
    }
  }
}

/**
 * lib/xarray.c (v6.18) xas_split_alloc(xas, entry, order, gfp): before xas_lock, preallocate the nodes a
 * split of an order-`order` entry to xas's order needs — `1 << (order % XA_CHUNK_SHIFT)` nodes when
 * the new order is at least one level lower, none otherwise — each filled with `entry` by
 * __xas_init_node_for_split() and chained on xas->xa_alloc through its parent. WARNs and sets
 * -ENOMEM when `xas->xa_shift + 2 * XA_CHUNK_SHIFT <= order` (a two-level split).
 */
export function* xas_split_alloc<F extends object>(xas: XaState<F>, entry: F, order: number): XaWriter<void> {
  let sibs = (1 << order % XA_CHUNK_SHIFT) - 1;
  const src = `${XARRAY_C}: xas_split_alloc()`;
  if (xas.xa_shift + 2 * XA_CHUNK_SHIFT <= order) {
    xas_destroy(xas);
    xas_set_err(xas, -ENOMEM);
    return;
  }
  if (xas.xa_shift + XA_CHUNK_SHIFT > order) return;
  do {
    const node = xas.xa.allocNode();
    yield* __xas_init_node_for_split(xas, node, entry, `${XARRAY_C}: __xas_init_node_for_split()`);
    yield* store(node.parent, xas.xa_alloc, "WRITE_ONCE", src, "RCU_INIT_POINTER(node->parent, xas->xa_alloc)");
    xas.xa_alloc = node;
  } while (sibs-- > 0);
}

/** lib/xarray.c (v6.18) xas_destroy(): drop preallocated nodes (the model leaks them: the pool is not reused). */
export function xas_destroy<F extends object>(xas: XaState<F>): void {
  xas.xa_alloc = null;
}

/**
 * lib/xarray.c (v6.18) xas_split(xas, entry, order) (caller holds xa_lock): replace the order-`order`
 * entry at xas by entries of xas's order, all holding `entry`. Walks the old entry's slots from
 * the last (`xa_offset + sibs`) down to the first:
 * - new order below the node's level: take a node from xas_split_alloc(), set its fields (plain,
 *   RCU_INIT_POINTER for parent) and publish it with `rcu_assign_pointer(node->slots[offset],
 *   xa_mk_node(child))`;
 * - same level: `rcu_assign_pointer(node->slots[canon], entry)` then
 *   `rcu_assign_pointer(node->slots[offset--], xa_mk_sibling(canon))` down to canon.
 * The old entry's own slot (xa_offset) is rewritten last.
 */
export function* xas_split<F extends object>(xas: XaState<F>, entry: F, order: number): XaWriter<void> {
  const sibs = (1 << order % XA_CHUNK_SHIFT) - 1;
  const src = `${XARRAY_C}: xas_split()`;
  xas_load(xas); // void *curr = xas_load(xas); (curr only feeds nr_values)
  const node = xasNode(xas);
  if (xas_top(xas.xa_node) || node === null) return;
  // marks = node_get_marks(node, xas->xa_offset): not modeled.
  let offset = xas.xa_offset + sibs;
  const nshift = node_shift(node);
  do {
    if (xas.xa_shift < nshift) {
      const child = xas.xa_alloc;
      if (child === null) throw new Error("xas_split(): no node preallocated (call xas_split_alloc() first)");
      xas.xa_alloc = loadSlot(child.parent, "rcu_dereference"); // rcu_dereference_raw(child->parent)
      yield* store(child.shift, nshift - XA_CHUNK_SHIFT, "plain", src, `child->shift = ${nshift - XA_CHUNK_SHIFT}`);
      yield* store(child.offset, offset, "plain", src, `child->offset = ${offset}`);
      // child->count = XA_CHUNK_SIZE; child->nr_values = ...: not modeled.
      yield* store(child.parent, node, "WRITE_ONCE", src, "RCU_INIT_POINTER(child->parent, node)");
      // node_set_marks(node, offset, child, xas->xa_sibs, marks): not modeled.
      yield* store(node.slots[offset]!, xa_mk_node(child), "rcu_assign_pointer", src,
        `rcu_assign_pointer(node->slots[${offset}], xa_mk_node(child))`);
    } else {
      const canon = offset - xas.xa_sibs;
      yield* store(node.slots[canon]!, entry, "rcu_assign_pointer", src,
        `rcu_assign_pointer(node->slots[${canon}], ${xas.xa.describe(entry)})`);
      while (offset > canon) {
        const o = offset--;
        yield* store(node.slots[o]!, xa_mk_sibling(canon), "rcu_assign_pointer", src,
          `rcu_assign_pointer(node->slots[${o}], xa_mk_sibling(${canon}))`);
      }
    }
  } while (offset-- > xas.xa_offset);
  // node->nr_values += values; xas_update(xas, node): not modeled.
}

/**
 * lib/xarray.c (v6.18) xas_try_split_min_order(order): the smallest order xas_try_split() can split an
 * order-`order` entry to in one call.
 */
export function xas_try_split_min_order(order: number): number {
  if (order % XA_CHUNK_SHIFT === 0) return order === 0 ? 0 : order - 1;
  return order - (order % XA_CHUNK_SHIFT);
}

/**
 * lib/xarray.c (v6.18) xas_try_split(xas, entry, order) (caller holds xa_lock): like xas_split() but
 * allocates (GFP_NOWAIT) at most one node itself and refuses (-EINVAL) splits that need more:
 * - new order below the node's level (an order-6k entry to order 6k-1): the child is filled by
 *   __xas_init_node_for_split() (RCU_INIT_POINTER per slot), its fields set (plain,
 *   RCU_INIT_POINTER for parent), then published by
 *   `rcu_assign_pointer(node->slots[offset], xa_mk_node(child))`;
 * - same level: as xas_split(), canonical slot then siblings, last slot group first.
 */
export function* xas_try_split<F extends object>(xas: XaState<F>, entry: F, order: number): XaWriter<void> {
  const sibs = (1 << order % XA_CHUNK_SHIFT) - 1;
  const src = `${XARRAY_C}: xas_try_split()`;
  xas_load(xas); // void *curr = xas_load(xas);
  const node = xasNode(xas);
  if (xas_top(xas.xa_node) || node === null) return;
  // marks = node_get_marks(node, xas->xa_offset): not modeled.
  let offset = xas.xa_offset + sibs;
  const nshift = node_shift(node);
  if (xas.xa_shift < nshift) {
    let child = xas.xa_alloc;
    const expected_sibs = (1 << (order - 1) % XA_CHUNK_SHIFT) - 1;
    if (sibs || xas.xa_sibs !== expected_sibs) {
      xas_destroy(xas);
      xas_set_err(xas, -EINVAL);
      return;
    }
    if (child === null) {
      child = xas.xa.allocNode(); // kmem_cache_alloc_lru(..., GFP_NOWAIT)
      yield* store(child.parent, xas.xa_alloc, "WRITE_ONCE", src, "RCU_INIT_POINTER(child->parent, xas->xa_alloc)");
    }
    yield* __xas_init_node_for_split(xas, child, entry, `${XARRAY_C}: __xas_init_node_for_split()`);
    xas.xa_alloc = loadSlot(child.parent, "rcu_dereference"); // rcu_dereference_raw(child->parent)
    yield* store(child.shift, nshift - XA_CHUNK_SHIFT, "plain", src, `child->shift = ${nshift - XA_CHUNK_SHIFT}`);
    yield* store(child.offset, offset, "plain", src, `child->offset = ${offset}`);
    yield* store(child.parent, node, "WRITE_ONCE", src, "RCU_INIT_POINTER(child->parent, node)");
    yield* store(node.slots[offset]!, xa_mk_node(child), "rcu_assign_pointer", src,
      `rcu_assign_pointer(node->slots[${offset}], xa_mk_node(child))`);
  } else {
    do {
      const canon = offset - xas.xa_sibs;
      yield* store(node.slots[canon]!, entry, "rcu_assign_pointer", src,
        `rcu_assign_pointer(node->slots[${canon}], ${xas.xa.describe(entry)})`);
      while (offset > canon) {
        const o = offset--;
        yield* store(node.slots[o]!, xa_mk_sibling(canon), "rcu_assign_pointer", src,
          `rcu_assign_pointer(node->slots[${o}], xa_mk_sibling(${canon}))`);
      }
    } while (offset-- > xas.xa_offset);
  }
}

// ---------------------------------------------------------------------------------------------
// Display and checks (pure: no access recorded)

/** One row of {@link slotTable}. */
export interface XaSlotRow {
  /** Slot number in the node, 0 to 63 (XA_CHUNK_SIZE - 1). */
  readonly offset: number;
  /** `folio@1024 order 9`, `sibling -> 16`, `node (shift 0)`, `retry`, `empty`. */
  readonly entry: string;
}

/** Shows an entry: the folio description, `sibling -> n`, `node (shift s)`, `retry`, `empty`. */
export function describeEntry<F extends object>(xa: XArray<F>, entry: XaEntry<F>): string {
  if (entry === null) return "empty";
  if (entry instanceof XaSibling) return `sibling -> ${entry.offset}`;
  if (entry instanceof XaNodeEntry) return `node (shift ${entry.node.shift.value})`;
  if (entry instanceof XaRetry) return "retry";
  return xa.describe(entry as F);
}

/**
 * A node's slot table without recording accesses: rows `{offset, entry}` for all 64 slots, or
 * only the non-empty ones with `nonEmpty`.
 */
export function slotTable<F extends object>(node: XaNode<F>, opts: { nonEmpty?: boolean } = {}): XaSlotRow[] {
  const xa = node.array;
  const rows: XaSlotRow[] = [];
  for (let i = 0; i < XA_CHUNK_SIZE; i++) {
    const e = node.slots[i]!.value;
    if (opts.nonEmpty === true && e === null) continue;
    rows.push({ offset: i, entry: describeEntry(xa, e) });
  }
  return rows;
}

/** The node xa_head points to, without recording (null when the head is not a node). */
export function xa_root<F extends object>(xa: XArray<F>): XaNode<F> | null {
  const h = xa.head.value;
  return h instanceof XaNodeEntry ? (h.node as XaNode<F>) : null;
}

/**
 * What a lookup of `index` would find, without recording accesses: xas_load()'s walk on current
 * memory (for end checks, invariants and display).
 */
export function xa_peek<F extends object>(xa: XArray<F>, index: number): XaEntry<F> {
  let entry = xa.head.value;
  if (!(entry instanceof XaNodeEntry)) return index === 0 ? entry : null;
  if (Math.floor(index / 2 ** entry.node.shift.value) > XA_CHUNK_MASK) return null;
  while (entry instanceof XaNodeEntry) {
    const node = entry.node as XaNode<F>;
    const shift = node.shift.value;
    let offset = Math.floor(index / 2 ** shift) & XA_CHUNK_MASK;
    entry = node.slots[offset]!.value;
    while (xa_is_sibling(entry)) {
      offset = entry.offset;
      entry = node.slots[offset]!.value;
      if (shift && entry instanceof XaNodeEntry) entry = XA_RETRY_ENTRY;
    }
    if (shift === 0) break;
  }
  return entry;
}

/** Every reachable node with its depth, top first, without recording (for display). */
export function xa_nodes<F extends object>(xa: XArray<F>): { node: XaNode<F>; depth: number }[] {
  const out: { node: XaNode<F>; depth: number }[] = [];
  const walk = (n: XaNode<F>, d: number): void => {
    out.push({ node: n, depth: d });
    for (const c of n.slots) if (c.value instanceof XaNodeEntry) walk(c.value.node as XaNode<F>, d + 1);
  };
  const r = xa_root(xa);
  if (r !== null) walk(r, 0);
  return out;
}

/** Describes a store step: `node0->slots[20] = folio@1280 order 8 (rcu_assign_pointer, lib/xarray.c: xas_split())`. */
export function describeStep<F extends object>(xa: XArray<F>, s: XaStoreStep): string {
  const v = s.value;
  let shown: string;
  if (v === null || v instanceof XaInternal) shown = describeEntry(xa, v as XaEntry<F>);
  else if (v instanceof XaNode) shown = v.name;
  else if (typeof v === "number") shown = String(v);
  else shown = xa.describe(v as F);
  const owner = s.slot.owner;
  const where = owner === null ? "xa_head" : `${owner.name.split(".").pop()}->${s.slot.field === "slot" ? `slots[${s.slot.offset}]` : s.slot.field}`;
  return `${where} = ${shown} (${s.primitive}, ${s.source}${s.published ? "" : ", unpublished"})`;
}

// racelab objects record their own accesses (see engine/track.ts).
selfTracked(XaInternal, XaCell, XaNode, XArray, XaError, XaState);
