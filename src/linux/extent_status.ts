/**
 * The ext4 extent status tree (fs/ext4/extents_status.c, v6.10 logic; status bits from
 * fs/ext4/extents_status.h): a per-inode cache of what each logical block is — written,
 * unwritten, delayed (delalloc, reserved but not allocated), or a hole — in front of the on-disk
 * extent tree.
 *
 * Modeled per logical block, one location per block, so operations on different blocks commute.
 * Each operation is atomic: the kernel takes `ei->i_es_lock` (an rwlock) inside every es
 * function, so no caller-visible interleaving exists within one call.
 *
 * Left out: extent merging/splitting (the model keeps one entry per block), the es shrinker
 * (which may drop non-delayed entries at any time: a dropped entry reads as "no entry"), the
 * pending tree and bigalloc clusters, and `tree->cache_es`.
 */
import { access, newLoc, R, W } from "../engine/access.js";
import { selfTracked } from "../engine/track.js";

export const EXTENT_STATUS_WRITTEN = 1;
export const EXTENT_STATUS_UNWRITTEN = 2;
export const EXTENT_STATUS_DELAYED = 4;
export const EXTENT_STATUS_HOLE = 8;

/** Status of a block in the tree: a mask of EXTENT_STATUS_* bits, or 0 for "no entry". */
export type EsStatus = number;

/** Human-readable status: `written`, `delayed|unwritten`, `hole`, `none`. */
export function esName(st: EsStatus): string {
  if (st === 0) return "none";
  const parts: string[] = [];
  if (st & EXTENT_STATUS_DELAYED) parts.push("delayed");
  if (st & EXTENT_STATUS_WRITTEN) parts.push("written");
  if (st & EXTENT_STATUS_UNWRITTEN) parts.push("unwritten");
  if (st & EXTENT_STATUS_HOLE) parts.push("hole");
  return parts.join("|");
}

export const ext4_es_is_hole = (st: EsStatus) => (st & EXTENT_STATUS_HOLE) !== 0;
export const ext4_es_is_delayed = (st: EsStatus) => (st & EXTENT_STATUS_DELAYED) !== 0;
export const ext4_es_is_unwritten = (st: EsStatus) => (st & EXTENT_STATUS_UNWRITTEN) !== 0;
export const ext4_es_is_written = (st: EsStatus) => (st & EXTENT_STATUS_WRITTEN) !== 0;
/** "delonly": delayed and not unwritten — the blocks that carry a reservation. */
export const ext4_es_is_delonly = (st: EsStatus) => ext4_es_is_delayed(st) && !ext4_es_is_unwritten(st);

export class ExtentStatusTree {
  private readonly st: EsStatus[];
  private readonly locs: number[];
  constructor(readonly blocks: number) {
    this.st = [];
    this.locs = [];
    // (Loops, not Array.from: a sampling run builds this once per execution.)
    for (let i = 0; i < blocks; i++) {
      this.st.push(0);
      this.locs.push(newLoc(`es[${i}]`, () => this.st[i], this));
    }
  }
  /**
   * ext4_es_lookup_extent(): the status of the entry covering `lblk`, or 0 when there is none
   * (the C function returns 0 and leaves `es` unset).
   */
  lookup(lblk: number): EsStatus {
    access(this.locs[lblk]!, R);
    return this.st[lblk]!;
  }
  /**
   * ext4_es_insert_extent(): `__es_remove_extent(..., reserved = NULL)` then insert. Replaces
   * whatever covered `lblk`, releasing no reservation.
   */
  insertExtent(lblk: number, status: EsStatus): void {
    access(this.locs[lblk]!, W);
    this.st[lblk] = status;
  }
  /**
   * ext4_es_insert_delayed_block(): removes whatever covers `lblk` and inserts a pure delayed
   * entry (pblk ~0, no UNWRITTEN bit). It does not consult the on-disk tree.
   */
  insertDelayedBlock(lblk: number): void {
    access(this.locs[lblk]!, W);
    this.st[lblk] = EXTENT_STATUS_DELAYED;
  }
  /**
   * ext4_es_remove_extent() over [from, to]: drops the entries and returns the number of delonly
   * blocks among them (the reservations the caller then releases with ext4_da_release_space()).
   */
  removeExtent(from: number, to: number): number {
    let reserved = 0;
    for (let l = from; l <= to && l < this.blocks; l++) {
      access(this.locs[l]!, W);
      if (ext4_es_is_delonly(this.st[l]!)) reserved++;
      this.st[l] = 0;
    }
    return reserved;
  }
  /** Status without recording an access (display, end checks). */
  peek(lblk: number): EsStatus {
    return this.st[lblk]!;
  }
}

// racelab objects record their own accesses (see engine/track.ts).
selfTracked(ExtentStatusTree);
