/**
 * Step sites of `ext4-writeback-credits`, by source file. fs/ext4/inode.c, fs/ext4/extents.c,
 * fs/ext4/mballoc.c, fs/buffer.c at v6.15-rc1 (the tree 32a93f5bc9b9 applies to: fs/ext4/extents.c
 * blob c616a16a9f36), fs/jbd2/*.c with v6.x semantics; SOURCES.md says which stored copies were read
 * and why they stand for v6.15-rc1. The fix's site carries the commit as its version.
 */
import { sitesIn } from "../../engine/site.js";

const V = "v6.15-rc1";
const inode = sitesIn("fs/ext4/inode.c", V);
const extents = sitesIn("fs/ext4/extents.c", V);
const extentsFix = sitesIn("fs/ext4/extents.c", "32a93f5bc9b9");
const mballoc = sitesIn("fs/ext4/mballoc.c", V);
const bufferDelay = sitesIn("fs/buffer.c", `${V} + udelay()`);
const transaction = sitesIn("fs/jbd2/transaction.c", "v6.x");
const commit = sitesIn("fs/jbd2/commit.c", "v6.x");

/** Writeback of the delalloc blocks in a hole of the file: ext4_writepages() -> ext4_do_writepages(). */
export const WB = {
  estimate: inode("ext4_do_writepages", "needed_blocks = ext4_da_writepages_trans_blocks()", {
    note:
      "ext4_meta_trans_blocks(inode, MAX_WRITEPAGES_EXTENT_LEN + bpp - 1, bpp) -> ext4_ext_index_trans_blocks(inode, bpp): " +
      "depth * 3 with depth = ext_depth(inode), read without i_data_sem",
  }),
  estimateFix: extentsFix("ext4_ext_index_trans_blocks", "index = EXT4_MAX_EXTENT_DEPTH * 3", {
    note: "32a93f5bc9b9: 'Extent tree can change between the time we estimate credits and the time we actually modify the tree. Assume the worst case.'",
  }),
  start: transaction("start_this_handle", "h_total_credits = needed_blocks", {
    note: "ext4_journal_start_with_reserve(inode, EXT4_HT_WRITE_PAGE, needed_blocks, rsv_blocks) joins the running transaction; add_transaction_credits() waits while it is T_LOCKED",
  }),
  prepare: inode("mpage_prepare_extent_to_map", "lock the dirty folios", {
    note: "locks the dirty folios to write back; may sleep (folio lock, writeback wait)",
    mightSleep: true,
  }),
  stop: transaction("jbd2_journal_stop", "ext4_journal_stop(handle)"),
};

/** A direct write into another hole: ext4_dio_write_iter() -> iomap -> ext4_iomap_begin() -> ext4_iomap_alloc(). */
export const DIO = {
  estimate: inode("ext4_iomap_alloc", "dio_credits = ext4_chunk_trans_blocks()", {
    note: "ext4_meta_trans_blocks(inode, m_len, 1) -> ext4_ext_index_trans_blocks(inode, 1): depth * 2, read without i_data_sem",
  }),
  estimateFix: extentsFix("ext4_ext_index_trans_blocks", "index = EXT4_MAX_EXTENT_DEPTH * 2", {
    note: "32a93f5bc9b9: the worst case, whatever the depth now",
  }),
  start: transaction("start_this_handle", "h_total_credits = dio_credits", {
    note: "ext4_journal_start(inode, EXT4_HT_MAP_BLOCKS, dio_credits) joins the running transaction",
  }),
  stop: transaction("jbd2_journal_stop", "ext4_journal_stop(handle)"),
};

/** ext4_map_blocks(handle, inode, map, EXT4_GET_BLOCKS_CREATE...) for one extent: both threads. */
export const MAP = {
  downWrite: inode("ext4_map_blocks", "down_write(i_data_sem)", { note: "down_write(&EXT4_I(inode)->i_data_sem): the allocation path" }),
  readBlock: bufferDelay("__find_get_block_slow", "udelay(param udelay) (injected)", {
    note:
      "ext4_find_extent() -> read_extent_tree_block() -> sb_getblk_gfp() -> bdev_getblk() -> __find_get_block(): a bh LRU miss; " +
      "Luis Chamberlain's udelay() before spin_lock(&bd_mapping->i_private_lock), here under i_data_sem",
  }),
  alloc: mballoc("ext4_mb_new_blocks", "allocate the data block", {
    note: "ext4_ext_map_blocks() -> ext4_mb_new_blocks() -> ext4_mb_mark_diskspace_used(): dirty the block bitmap, then the group descriptor",
  }),
  insert: extents("ext4_ext_insert_extent", "insert the extent", {
    note: "ext4_ext_create_new_leaf() -> ext4_ext_split() / ext4_ext_grow_indepth(); every new block is allocated (bitmap + descriptor) and every touched node dirtied",
  }),
  markInode: inode("__ext4_mark_inode_dirty", "inode: i_blocks / i_disksize", {
    note:
      "ext4_mark_inode_dirty() is a macro of fs/ext4/ext4_jbd2.h for __ext4_mark_inode_dirty(handle, inode, __func__, __LINE__); " +
      "the quota charge of the new blocks and mpage_map_and_submit_extent()'s update_disksize dirty the inode table block",
  }),
  upWrite: inode("ext4_map_blocks", "up_write(i_data_sem)"),
};

/** kjournald2: one commit of the running transaction. */
export const KJ = {
  lock: commit("jbd2_journal_commit_transaction", "commit_transaction->t_state = T_LOCKED", {
    note: "new handles wait in add_transaction_credits() -> wait_transaction_locked()",
  }),
  wait: transaction("jbd2_journal_wait_updates", "wait for t_updates == 0", {
    note: "called by jbd2_journal_commit_transaction() (fs/jbd2/commit.c) after T_LOCKED; defined in fs/jbd2/transaction.c",
  }),
  switch: commit("jbd2_journal_commit_transaction", "T_SWITCH: j_running_transaction = NULL", {
    note: "the next handle starts a new transaction, in which no buffer is b_modified yet",
  }),
};
