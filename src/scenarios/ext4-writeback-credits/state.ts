/**
 * The modeled state of `ext4-writeback-credits`: one inode's extent tree and its i_data_sem, the
 * block allocator's groups, the jbd2 journal with the threads' handles.
 */
import { access, newLoc, W } from "../../engine/access.js";
import type { RunConfig } from "../../engine/task.js";
import { selfTracked } from "../../engine/track.js";
import { AGGRESSIVE_TEST_GEOMETRY, Ext4ExtentTree, extentTreeGeometry } from "../../linux/ext4_extent_tree.js";
import { CreditHandle, Jbd2Journal } from "../../linux/jbd2_journal.js";
import { RwSemaphore } from "../../linux/locks.js";

/** Options that fixes and variants set. */
export interface CreditsOptions {
  /** 32a93f5bc9b9: ext4_ext_index_trans_blocks() counts EXT4_MAX_EXTENT_DEPTH instead of ext_depth(inode). */
  readonly maxDepthCredits: boolean;
  /** Node sizes: extents.c's AGGRESSIVE_TEST limits, or a 2048-byte-block filesystem's. */
  readonly geometry: "aggressive-test" | "bs-2048";
}

/** Thread names (also the journal's handle users). */
export const WRITEBACK = "ext4_do_writepages";
export const DIRECT = "ext4_dio_write_iter";
export const KJOURNALD = "kjournald2";

/**
 * The file at the start: the inode's root full of extents (depth 0): 3 under AGGRESSIVE_TEST, 4
 * with 2 KiB blocks. The hole after block 0 holds the delalloc blocks writeback maps.
 */
export function initialExtents(rootLeaf: number): number[] {
  return [0, 100, 200, 250].slice(0, rootLeaf);
}
/** The delalloc blocks writeback maps: the two 2 KiB blocks of one 4 KiB page in the hole after block 0. */
export const WRITEBACK_BLOCKS = [50, 51];
/**
 * The logical block the i-th direct write allocates (each into a hole: one new extent, never
 * adjacent to another): 1000, 300, 400, 500, 600, 550, then 2000, 2010, ...
 */
export function directBlock(i: number): number {
  const first = [1000, 300, 400, 500, 600, 550];
  return i < first.length ? first[i]! : 2000 + 10 * (i - first.length);
}

/**
 * ext4's block groups as the allocator hands them out (mballoc): with `spread` every allocation
 * comes from a group of its own, whose descriptor sits in a descriptor block of its own (a nearly
 * full, fragmented filesystem); without, every allocation comes from group 0.
 */
export class BlockGroups {
  private next = 0;
  private readonly loc: number;
  constructor(readonly spread: boolean) {
    this.loc = newLoc("ext4 block groups (mballoc)", this);
  }
  /** ext4_mb_new_blocks(): the group of the next allocation; its bitmap and descriptor buffers. */
  allocate(): { group: number; bitmap: string; gdp: string } {
    access(this.loc, W);
    const g = this.spread ? ++this.next : 0;
    return { group: g, bitmap: `block bitmap of group ${g}`, gdp: `group descriptor block ${g}` };
  }
  /** Groups used so far (display). */
  peek(): number {
    return this.next;
  }
}
selfTracked(BlockGroups);

/** The modeled state. */
export interface CreditsState {
  readonly tree: Ext4ExtentTree;
  readonly i_data_sem: RwSemaphore;
  readonly groups: BlockGroups;
  readonly journal: Jbd2Journal;
  /** Each thread's handle (only its owner touches it). */
  readonly handles: Readonly<Record<string, CreditHandle>>;
}

export function initialState(cfg: RunConfig<CreditsOptions>): CreditsState {
  const geometry = cfg.options.geometry === "aggressive-test" ? AGGRESSIVE_TEST_GEOMETRY : extentTreeGeometry(2048);
  const users = [WRITEBACK, ...(cfg.params.writes! > 0 ? [DIRECT] : [])];
  return {
    tree: new Ext4ExtentTree(geometry, initialExtents(geometry.rootLeaf)),
    i_data_sem: new RwSemaphore("ei->i_data_sem"),
    groups: new BlockGroups(cfg.params.spread === 1),
    journal: new Jbd2Journal(users),
    handles: Object.fromEntries(users.map((u) => [u, new CreditHandle(u)])),
  };
}
