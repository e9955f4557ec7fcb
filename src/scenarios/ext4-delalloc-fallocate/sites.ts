/**
 * Step sites of the ext4 delalloc vs fallocate scenario, by source file.
 *
 * Versions: fs/ext4/inode.c as the patch applies to it in mainline, read at 8e4e5cdf2fde (blob
 * 168819b4db01; the seed's hunks are against the list-side blob 6a41172c06e1, whose
 * ext4_da_map_blocks() hunks have the same line numbers and context), and the patched re-check
 * read at 0ea6560abb3b; fs/ext4/extents.c, fs/ext4/extents_status.c, fs/ext4/file.c,
 * fs/ext4/super.c, fs/buffer.c and mm/memory.c with v6.10 semantics. See SOURCES.md for the code
 * each step was read from and test/fixtures/kernel-functions.json for where each function is
 * defined.
 */
import { sitesIn } from "../../engine/site.js";

const inode = sitesIn("fs/ext4/inode.c", "8e4e5cdf2fde");
const patched = sitesIn("fs/ext4/inode.c", "0ea6560abb3b");
const extents = sitesIn("fs/ext4/extents.c", "v6.10");
const extentsStatus = sitesIn("fs/ext4/extents_status.c", "v6.10");
const file = sitesIn("fs/ext4/file.c", "v6.10");
const buffer = sitesIn("fs/buffer.c", "v6.10");
const memory = sitesIn("mm/memory.c", "v6.10");
const superc = sitesIn("fs/ext4/super.c", "v6.10");

/** ext4_da_map_blocks() and its helpers (fs/ext4/inode.c). */
export const DA = {
  lookup: inode("ext4_da_map_blocks", "find extent in es tree (no i_data_sem)", {
    note: "/* Lookup extent status tree firstly */ — a hole goes straight to add_delayed:",
  }),
  downRead: inode("ext4_da_map_blocks", "down_read(i_data_sem)"),
  query: inode("ext4_map_query_blocks", "look up the on-disk extent tree", {
    note: "ext4_ext_map_blocks(flags 0); caches the result (or a hole) in the es tree",
  }),
  upRead: inode("ext4_da_map_blocks", "up_read(i_data_sem)"),
  addDelayed: inode("ext4_da_map_blocks", "add_delayed: down_write(i_data_sem)"),
  recheck: patched("ext4_da_map_blocks", "look up the es tree again under i_data_sem", {
    note: "Page fault path (ext4_page_mkwrite does not take i_rwsem) and fallocate path (no folio lock) can race.",
  }),
  recheckQuery: patched("ext4_map_query_blocks", "look up the on-disk extent tree under i_data_sem (write)"),
  recheckUpWrite: patched("ext4_da_map_blocks", "up_write(i_data_sem); goto found"),
  reserve: inode("ext4_da_reserve_space", "reserve one more block", {
    note: "called from ext4_insert_delayed_block(); dquot_reserve_block, then i_reserved_data_blocks++ under i_block_reservation_lock",
  }),
  insertDelayed: extentsStatus("ext4_es_insert_delayed_block", "insert a delayed extent", {
    note:
      "called from ext4_insert_delayed_block() (fs/ext4/inode.c) under i_data_sem; __es_remove_extent() then " +
      "__es_insert_extent(DELAYED) under i_es_lock — replaces whatever is there",
  }),
  upWrite: inode("ext4_da_map_blocks", "up_write(i_data_sem)"),
  setDelay: inode("ext4_da_map_blocks", "map_bh(invalid_block); set_buffer_new/delay"),
  mapBh: inode("ext4_da_get_block_prep", "map_bh(bh, sb, map.m_pblk)", {
    note: "the block is already allocated (written or unwritten): no reservation",
  }),
};

/** ext4_page_mkwrite() -> block_page_mkwrite(). */
export const MKWRITE = {
  invalidateLock: inode("ext4_page_mkwrite", "filemap_invalidate_lock_shared()", {
    note: "after sb_start_pagefault(); ext4_page_mkwrite takes no i_rwsem",
  }),
  folioLock: buffer("block_page_mkwrite", "folio_lock(folio)"),
  writeBegin: buffer("__block_write_begin_int", "buffer_mapped(bh)? else get_block", {
    note: "get_block = ext4_da_get_block_prep -> ext4_da_map_blocks",
  }),
  commit: buffer("block_page_mkwrite", "__block_commit_write(); folio_mark_dirty()"),
  invalidateUnlock: inode("ext4_page_mkwrite", "filemap_invalidate_unlock_shared()"),
  faultUnlock: memory("fault_dirty_shared_page", "folio_mark_dirty(); folio_unlock()", {
    note: "ext4_page_mkwrite returned VM_FAULT_LOCKED: the fault core unlocks the folio",
  }),
};

/** ext4_buffered_write_iter() -> generic_perform_write() -> ext4_da_write_begin/end. */
export const WRITE = {
  inodeLock: file("ext4_buffered_write_iter", "inode_lock(inode)"),
  getFolio: inode("ext4_da_write_begin", "__filemap_get_folio(FGP_WRITEBEGIN): folio locked"),
  writeBegin: buffer("__block_write_begin_int", "buffer_mapped(bh)? else get_block", {
    note: "get_block = ext4_da_get_block_prep -> ext4_da_map_blocks",
  }),
  commit: inode("ext4_da_do_write_end", "block_write_end(): mark_buffer_dirty, folio_mark_dirty"),
  folioUnlock: inode("ext4_da_do_write_end", "folio_unlock(folio)"),
  inodeUnlock: file("ext4_buffered_write_iter", "inode_unlock(inode)"),
};

/** ext4_fallocate() (mode 0) -> ext4_alloc_file_blocks() -> ext4_map_blocks(CREATE_UNWRIT_EXT). */
export const FALLOC = {
  inodeLock: extents("ext4_fallocate", "inode_lock(inode)", {
    note: "mode 0: no folio lock, no invalidate_lock",
  }),
  lookup: inode("ext4_map_blocks", "find extent in es tree (no i_data_sem)", {
    note: "called from ext4_alloc_file_blocks() with EXT4_GET_BLOCKS_CREATE_UNWRIT_EXT",
  }),
  downRead: inode("ext4_map_blocks", "down_read(i_data_sem)"),
  query: extents("ext4_ext_map_blocks", "look up the on-disk extent tree (flags 0)"),
  upRead: inode("ext4_map_blocks", "up_read(i_data_sem)"),
  downWrite: inode("ext4_map_blocks", "down_write(i_data_sem)"),
  alloc: extents("ext4_ext_map_blocks", "allocate block and unwritten extent", {
    note: "ext4_mb_new_blocks + ext4_ext_insert_extent; releases reservations of delonly blocks it covers (ext4_da_update_reserve_space(n, 0))",
  }),
  esInsert: inode("ext4_map_blocks", "ext4_es_insert_extent(UNWRITTEN)", {
    note: "OR-ed with DELAYED when a delayed extent already covers the range",
  }),
  upWrite: inode("ext4_map_blocks", "up_write(i_data_sem)"),
  inodeUnlock: extents("ext4_fallocate", "inode_unlock(inode)"),
};

/** What follows the race in time: writeback, then eviction. */
export const AFTER = {
  writepages: inode("mpage_map_one_extent", "writeback: ext4_map_blocks() for a dirty block", {
    note: "ext4_do_writepages; EXT4_GET_BLOCKS_DELALLOC_RESERVE when the buffer is BH_Delay",
  }),
  clearInode: superc("ext4_clear_inode", "ext4_es_remove_extent(0, EXT_MAX_BLOCKS)", {
    note: "releases the reservations of delayed extents still in the es tree (ext4_da_release_space)",
  }),
  destroyInode: superc("ext4_destroy_inode", "check i_reserved_data_blocks"),
};
