/**
 * The on-disk ext4 extent tree of one inode (fs/ext4/extents.c, v6.10), per logical block:
 * a hole, an unwritten (preallocated) extent, or a written extent.
 *
 * Callers hold `i_data_sem` (read to look up, write to change), as ext4_map_blocks() does.
 * Left out: physical block numbers, extent splitting and merging, the journal, quota charges,
 * ENOSPC.
 */
import { access, newLoc, R, W } from "../engine/access.js";
import { selfTracked } from "../engine/track.js";

export type DiskState = "hole" | "unwritten" | "written";

export class Ext4ExtentTree {
  private readonly st: DiskState[];
  private readonly locs: number[];
  constructor(readonly blocks: number) {
    this.st = [];
    this.locs = [];
    // (Loops, not Array.from: a sampling run builds this once per execution.)
    for (let i = 0; i < blocks; i++) {
      this.st.push("hole");
      this.locs.push(newLoc(`extent[${i}]`, () => this.st[i], this));
    }
  }
  /** ext4_ext_map_blocks() lookup (flags 0): what the on-disk tree says of `lblk`. */
  lookup(lblk: number): DiskState {
    access(this.locs[lblk]!, R);
    return this.st[lblk]!;
  }
  /** ext4_mb_new_blocks() + ext4_ext_insert_extent(), or the unwritten-to-written conversion. */
  set(lblk: number, state: DiskState): void {
    access(this.locs[lblk]!, W);
    this.st[lblk] = state;
  }
  peek(lblk: number): DiskState {
    return this.st[lblk]!;
  }
}

// racelab objects record their own accesses (see engine/track.ts).
selfTracked(Ext4ExtentTree);
