/**
 * The shape of one inode's ext4 extent tree, and how inserting an extent changes it: which
 * blocks are allocated and which buffers are dirtied, in the order fs/ext4/extents.c does it.
 * The journal credits a handle needs are counted from those dirties (see jbd2_journal.ts).
 *
 * Source: fs/ext4/extents.c, torvalds/linux stored copy 002c6ca75289 (≈v6.12; the path handling
 * was refactored in v6.13, the buffers touched were not): ext4_find_extent(),
 * ext4_ext_binsearch_idx() / ext4_ext_binsearch(), ext4_ext_insert_extent() (`has_space:`, "probably
 * next leaf has space for us?", ext4_ext_create_new_leaf()), ext4_ext_create_new_leaf() (`repeat:`
 * walk up for EXT_HAS_FREE_INDEX, else grow and `goto repeat` while the leaf is full),
 * ext4_ext_split(), ext4_ext_grow_indepth(), ext4_ext_insert_index(), ext4_ext_correct_indexes(),
 * ext4_ext_space_root()/_root_idx()/_block()/_block_idx() (including their AGGRESSIVE_TEST
 * limits 3/4/6/5).
 *
 * Each node keeps only its keys (ee_block of a leaf's extents, ei_block of an index's entries).
 * The root lives in the inode (`i_data`): dirtying it is ext4_mark_inode_dirty(), i.e. the inode
 * table block's buffer. Every other node is an extent block with a buffer of its own.
 *
 * Left out: extent lengths and physical blocks (no extent is ever merged with a neighbour: the
 * model's extents are never logically adjacent, so ext4_can_extents_be_merged() always fails and
 * ext4_ext_try_to_merge()/_merge_up() change nothing), unwritten extents, the extent status tree,
 * checksums, and error unwinding (a failed dirty does not undo the insertion here; the caller
 * stops using the tree).
 */
import { access, newLoc, R, W } from "../engine/access.js";
import { selfTracked } from "../engine/track.js";

/** EXT4_MAX_EXTENT_DEPTH (fs/ext4/ext4_extents.h): ext4_find_extent() refuses deeper trees. */
export const EXT4_MAX_EXTENT_DEPTH = 5;

/** Entries per node: the root in the inode (60 bytes of i_data) and an extent block. */
export interface ExtentTreeGeometry {
  /** ext4_ext_space_root(): extents in the root while the tree has depth 0. */
  readonly rootLeaf: number;
  /** ext4_ext_space_root_idx(): index entries in the root. */
  readonly rootIndex: number;
  /** ext4_ext_space_block(): extents in a leaf block. */
  readonly blockLeaf: number;
  /** ext4_ext_space_block_idx(): index entries in an index block. */
  readonly blockIndex: number;
}

/**
 * The node sizes of a filesystem with `blocksize`-byte blocks: (60 - 12) / 12 = 4 entries in the
 * root, (blocksize - 12) / 12 in a block (ext4_extent and ext4_extent_idx are 12 bytes, the header 12).
 */
export function extentTreeGeometry(blocksize: number): ExtentTreeGeometry {
  const block = Math.floor((blocksize - 12) / 12);
  return { rootLeaf: 4, rootIndex: 4, blockLeaf: block, blockIndex: block };
}

/** The limits extents.c compiles in under AGGRESSIVE_TEST: 3 extents / 4 indexes in the root, 6 / 5 in a block. */
export const AGGRESSIVE_TEST_GEOMETRY: ExtentTreeGeometry = { rootLeaf: 3, rootIndex: 4, blockLeaf: 6, blockIndex: 5 };

/** One node: the root (`inode`) or an extent block. */
export interface ExtentNode {
  /** Buffer name: `inode` for the root, `extent block #n` otherwise. */
  readonly name: string;
  /** A leaf holds extents; an index node holds index entries pointing to `kids`. */
  leaf: boolean;
  /** ee_block / ei_block of each entry, ascending. */
  keys: number[];
  /** An index node's children, one per key. */
  kids: ExtentNode[];
}

/** What an insertion does besides changing the tree: allocate a block, dirty a buffer. */
export interface ExtentTreeOps {
  /** ext4_ext_new_meta_block() -> ext4_new_meta_blocks() -> ext4_mb_new_blocks(): a block for a new node. */
  newMetaBlock(why: string): void;
  /** __ext4_handle_dirty_metadata() of a node's buffer (for the root: ext4_mark_inode_dirty()). */
  dirty(buffer: string, why: string): void;
}

interface PathStep {
  node: ExtentNode;
  /** p_idx / p_ext: position of the entry the search chose, -1 in an empty leaf. */
  pos: number;
}

/**
 * The extent tree of one inode. Its depth (eh_depth of the root) is a location of its own: the
 * credit estimates read it without i_data_sem (ext_depth()); everything else is one location,
 * read and written under i_data_sem.
 */
export class Ext4ExtentTree {
  private root: ExtentNode;
  private depth = 0;
  private blocks = 0;
  private readonly depthLoc: number;
  private readonly treeLoc: number;

  constructor(
    /** Node sizes. */
    readonly geometry: ExtentTreeGeometry,
    /** ee_block of the extents the root holds at the start (depth 0). */
    initial: readonly number[],
  ) {
    if (initial.length > geometry.rootLeaf) throw new RangeError(`${initial.length} extents do not fit the root (${geometry.rootLeaf})`);
    this.root = { name: "inode", leaf: true, keys: [...initial].sort((a, b) => a - b), kids: [] };
    this.depthLoc = newLoc("ext_inode_hdr(inode)->eh_depth", this);
    this.treeLoc = newLoc("extent tree", this);
  }

  /** ext_depth(inode): eh_depth of the root, read without i_data_sem by the credit estimates. */
  ext_depth(): number {
    access(this.depthLoc, R);
    return this.depth;
  }

  /** Depth without recording an access (display, and code that already read the tree under the lock). */
  peekDepth(): number {
    return this.depth;
  }

  private cap(n: ExtentNode): number {
    const g = this.geometry;
    if (n === this.root) return n.leaf ? g.rootLeaf : g.rootIndex;
    return n.leaf ? g.blockLeaf : g.blockIndex;
  }

  private hasFree(n: ExtentNode): boolean {
    return n.keys.length < this.cap(n);
  }

  /** ext4_ext_binsearch_idx() / ext4_ext_binsearch(): the last entry with key <= lblk, else the first. */
  private static search(n: ExtentNode, lblk: number): number {
    if (n.keys.length === 0) return -1;
    let p = 0;
    for (let i = 1; i < n.keys.length; i++) if (n.keys[i]! <= lblk) p = i;
    return p;
  }

  /** ext4_find_extent(): the path from the root to the leaf for `lblk`. */
  private find(lblk: number): PathStep[] {
    const path: PathStep[] = [];
    let n = this.root;
    for (;;) {
      const pos = Ext4ExtentTree.search(n, lblk);
      path.push({ node: n, pos });
      if (n.leaf) return path;
      n = n.kids[pos]!;
    }
  }

  /** The blocks ext4_find_extent() reads for `lblk` (read_extent_tree_block() per level below the root). */
  blocksOnPath(lblk: number): string[] {
    access(this.treeLoc, R);
    return this.find(lblk).slice(1).map((p) => p.node.name);
  }

  /** True when `lblk` is the start of an extent already in the tree. */
  mapped(lblk: number): boolean {
    access(this.treeLoc, R);
    const leaf = this.find(lblk).at(-1)!;
    return leaf.pos >= 0 && leaf.node.keys[leaf.pos] === lblk;
  }

  /** ext4_ext_next_leaf_block(): first key of the next leaf, or null (EXT_MAX_BLOCKS). */
  private nextLeafKey(path: PathStep[]): number | null {
    for (let d = path.length - 2; d >= 0; d--) {
      const p = path[d]!;
      if (p.pos !== p.node.keys.length - 1) return p.node.keys[p.pos + 1]!;
    }
    return null;
  }

  /**
   * ext4_ext_insert_extent() of a new extent starting at `lblk` (never merged: see the file
   * comment), with ext4_ext_create_new_leaf() when the leaf is full. `ops` sees every block
   * allocation and every dirtied buffer in the order extents.c makes them.
   */
  insert(lblk: number, ops: ExtentTreeOps): void {
    access(this.treeLoc, W);
    let path = this.find(lblk);
    let leaf = path.at(-1)!;
    if (!this.hasFree(leaf.node)) {
      // "probably next leaf has space for us?"
      const last = leaf.node.keys.at(-1)!;
      const next = lblk > last ? this.nextLeafKey(path) : null;
      let moved = false;
      if (next !== null) {
        const npath = this.find(next);
        if (this.hasFree(npath.at(-1)!.node)) {
          path = npath;
          moved = true;
        }
      }
      if (!moved) {
        this.createNewLeaf(lblk, ops);
        path = this.find(lblk);
      }
      leaf = path.at(-1)!;
    }
    // has_space:
    const n = leaf.node;
    let at: number;
    if (n.keys.length === 0) at = 0;
    else at = lblk > n.keys[leaf.pos]! ? leaf.pos + 1 : leaf.pos;
    n.keys.splice(at, 0, lblk);
    // ext4_ext_correct_indexes(): only when the new extent is the first of a leaf below the root.
    if (path.length > 1 && at === 0) {
      let k = path.length - 2;
      path[k]!.node.keys[path[k]!.pos] = lblk;
      ops.dirty(path[k]!.node.name, "ext4_ext_correct_indexes(): ei_block of the parent index");
      while (k-- > 0) {
        if (path[k + 1]!.pos !== 0) break;
        path[k]!.node.keys[path[k]!.pos] = lblk;
        ops.dirty(path[k]!.node.name, "ext4_ext_correct_indexes(): ei_block up the path");
      }
    }
    ops.dirty(n.name, n === this.root ? "ext4_ext_dirty(): the extent in the inode's root" : "ext4_ext_dirty(): the leaf with the new extent");
  }

  /** ext4_ext_create_new_leaf(): split where an index has room, else grow the tree and look again. */
  private createNewLeaf(lblk: number, ops: ExtentTreeOps): void {
    for (let guard = 0; guard <= EXT4_MAX_EXTENT_DEPTH + 1; guard++) {
      const path = this.find(lblk);
      let i = path.length - 1;
      while (i > 0 && !this.hasFree(path[i]!.node)) i--;
      if (this.hasFree(path[i]!.node)) {
        this.split(path, lblk, i, ops);
        return;
      }
      this.grow(ops);
      const again = this.find(lblk);
      // "only first (depth 0 -> 1) produces free space; in all other cases we have to split the grown tree"
      if (this.hasFree(again.at(-1)!.node)) return;
    }
    throw new Error("ext4_ext_create_new_leaf(): the tree did not get room");
  }

  private newBlock(leaf: boolean): ExtentNode {
    this.blocks++;
    return { name: `extent block #${this.blocks}`, leaf, keys: [], kids: [] };
  }

  /** ext4_ext_split(): new blocks for levels at+1 .. depth, the entries right of the path move into them. */
  private split(path: PathStep[], lblk: number, at: number, ops: ExtentTreeOps): void {
    const depth = path.length - 1;
    const leaf = path[depth]!;
    const border = leaf.pos !== leaf.node.keys.length - 1 ? leaf.node.keys[leaf.pos + 1]! : lblk;
    for (let a = 0; a < depth - at; a++) ops.newMetaBlock("ext4_ext_split(): a block for the new leaf or index");
    // the new leaf: the extents after p_ext
    const newLeaf = this.newBlock(true);
    newLeaf.keys = leaf.node.keys.slice(leaf.pos + 1);
    ops.dirty(newLeaf.name, "ext4_ext_split(): the new leaf");
    if (newLeaf.keys.length > 0) {
      leaf.node.keys = leaf.node.keys.slice(0, leaf.pos + 1);
      ops.dirty(leaf.node.name, "ext4_ext_split(): correct old leaf");
    }
    let prev = newLeaf;
    for (let i = depth - 1; i > at; i--) {
      const p = path[i]!;
      const idx = this.newBlock(false);
      idx.keys = [border, ...p.node.keys.slice(p.pos + 1)];
      idx.kids = [prev, ...p.node.kids.slice(p.pos + 1)];
      ops.dirty(idx.name, "ext4_ext_split(): a new index block");
      if (idx.keys.length > 1) {
        p.node.keys = p.node.keys.slice(0, p.pos + 1);
        p.node.kids = p.node.kids.slice(0, p.pos + 1);
        ops.dirty(p.node.name, "ext4_ext_split(): correct old index");
      }
      prev = idx;
    }
    // ext4_ext_insert_index(path + at, border, newblock)
    const p = path[at]!;
    const ins = border > p.node.keys[p.pos]! ? p.pos + 1 : p.pos;
    p.node.keys.splice(ins, 0, border);
    p.node.kids.splice(ins, 0, prev);
    ops.dirty(p.node.name, p.node === this.root ? "ext4_ext_insert_index(): into the inode's root" : "ext4_ext_insert_index()");
  }

  /** ext4_ext_grow_indepth(): the root's entries move into a new block; the root points to it. */
  private grow(ops: ExtentTreeOps): void {
    if (this.depth >= EXT4_MAX_EXTENT_DEPTH) throw new Error("ext4_ext_grow_indepth(): past EXT4_MAX_EXTENT_DEPTH");
    ops.newMetaBlock("ext4_ext_grow_indepth(): the new top block");
    const g = this.newBlock(this.root.leaf);
    g.keys = this.root.keys;
    g.kids = this.root.kids;
    ops.dirty(g.name, "ext4_ext_grow_indepth(): the old root's entries, moved");
    this.root.leaf = false;
    this.root.keys = [g.keys[0] ?? 0];
    this.root.kids = [g];
    access(this.depthLoc, W);
    this.depth++;
    ops.dirty(this.root.name, "ext4_ext_grow_indepth(): eh_depth + 1 (ext4_mark_inode_dirty)");
  }

  /** The tree level by level, `[keys]` per node, for display. */
  describe(): string {
    const levels: string[] = [];
    let row: ExtentNode[] = [this.root];
    while (row.length > 0) {
      levels.push(row.map((n) => `[${n.keys.join(" ")}]`).join(" "));
      row = row.flatMap((n) => (n.leaf ? [] : n.kids));
    }
    return `depth ${this.depth}: ${levels.join(" / ")}`;
  }
}

// racelab objects record their own accesses (see engine/track.ts).
selfTracked(Ext4ExtentTree);
