/**
 * The modeled state of `ext4-delalloc-fallocate` and the options its fixes and variants set.
 *
 * One inode with `blocks` logical blocks, each in its own 4 KiB folio with one buffer_head; the
 * extent status tree, the on-disk extent tree, i_data_sem, invalidate_lock and
 * i_reserved_data_blocks. Every object is a racelab kernel object (src/linux/), which records its
 * own accesses.
 */
import { Counter } from "../../linux/atomic.js";
import { BufferHead } from "../../linux/buffer_head.js";
import { Ext4ExtentTree } from "../../linux/ext4_extents.js";
import { ExtentStatusTree } from "../../linux/extent_status.js";
import { Folio } from "../../linux/folio.js";
import { Inode } from "../../linux/inode.js";
import { RwSemaphore } from "../../linux/locks.js";

/** Options that fixes and variants set. */
export interface Ext4Options {
  /** The v5 patch: look up the es tree (and the disk) again under i_data_sem held for write. */
  readonly recheckEs: boolean;
  /** Which code paths race on each block. */
  readonly racers: "mkwrite-fallocate" | "write-mkwrite" | "write-fallocate";
  /** Counterfactual switch: take the folio lock where the kernel does (true) or not. */
  readonly folioLock: boolean;
  /** Counterfactual switch: take inode_lock (i_rwsem) where the kernel does (true) or not. */
  readonly inodeLock: boolean;
}

/** The modeled state: one inode, `blocks` logical blocks, each in its own 4 KiB folio. */
export interface Ext4State {
  readonly blocks: number;
  readonly inode: Inode;
  /** EXT4_I(inode)->i_data_sem. */
  readonly i_data_sem: RwSemaphore;
  /** mapping->invalidate_lock. */
  readonly invalidate_lock: RwSemaphore;
  readonly es: ExtentStatusTree;
  readonly disk: Ext4ExtentTree;
  /** EXT4_I(inode)->i_reserved_data_blocks (updated under i_block_reservation_lock). */
  readonly i_reserved_data_blocks: Counter;
  readonly folios: readonly Folio[];
  readonly bhs: readonly BufferHead[];
}

/**
 * The initial state: `blocks` holes, nothing cached, nothing reserved, every lock free.
 *
 * Frozen, with its two arrays: which objects the inode has never changes (the kernel's pointers
 * from the inode to its es tree, its semaphores, its folios), so the threads read these fields
 * directly rather than through the tracking proxy that a plain object gets (engine/track.ts), and
 * the reads record no access: a field nothing can write races with nothing. The objects record
 * their own accesses as before. (A step that assigned one of these fields would throw a
 * TypeError, reported as an `error` finding at that step.)
 */
export function initialState(blocks: number): Ext4State {
  const folios: Folio[] = [];
  const bhs: BufferHead[] = [];
  for (let i = 0; i < blocks; i++) folios.push(new Folio(i, 0));
  for (let i = 0; i < blocks; i++) bhs.push(new BufferHead(i));
  return Object.freeze({
    blocks,
    inode: new Inode(13),
    i_data_sem: new RwSemaphore("i_data_sem"),
    invalidate_lock: new RwSemaphore("invalidate_lock"),
    es: new ExtentStatusTree(blocks),
    disk: new Ext4ExtentTree(blocks),
    i_reserved_data_blocks: new Counter("i_reserved_data_blocks"),
    folios: Object.freeze(folios),
    bhs: Object.freeze(bhs),
  });
}
