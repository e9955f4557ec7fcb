/**
 * Step sites of the buffer_head migration vs jbd2 scenario, by source file.
 *
 * Versions: mm/migrate.c, mm/util.c, fs/buffer.c, block/bdev.c and fs/ext4/inode.c at v6.15-rc1 (the
 * tree the seed patch applies to: mm/migrate.c blob f3ee6d8d5e2e, fs/buffer.c blob c7abb4a029dc,
 * fs/ext4/inode.c blob 1dc09ed5d403); where the stored copy read was another version, SOURCES.md
 * says which and why the modeled code is the same. fs/jbd2/*.c, fs/ext4/extents.c,
 * fs/ext4/ext4_jbd2.c and fs/ext2/inode.c with v6.x semantics (copies of v6.5–v6.12 read). The
 * fixes' sites carry the patch they come from as their version.
 */
import { sitesIn } from "../../engine/site.js";

const V = "v6.15-rc1";
const migrate = sitesIn("mm/migrate.c", V);
const migrateV2 = sitesIn("mm/migrate.c", "v2 1/8 (20250410014945.2140781-2)");
const migrateWilly = sitesIn("mm/migrate.c", "v2 1/8 + willy's change");
const migrateBh = sitesIn("mm/migrate.c", "2d900efff915");
const bufferSplit = sitesIn("fs/buffer.c", "7ffe3de53a88, 2d900efff915");
const util = sitesIn("mm/util.c", V);
const buffer = sitesIn("fs/buffer.c", V);
const bufferDelay = sitesIn("fs/buffer.c", `${V} + udelay()`);
const extents = sitesIn("fs/ext4/extents.c", "v6.x");
const ext4jbd2 = sitesIn("fs/ext4/ext4_jbd2.c", "v6.x");
const ext4inode = sitesIn("fs/ext4/inode.c", V);
const transaction = sitesIn("fs/jbd2/transaction.c", "v6.x");
const journal = sitesIn("fs/jbd2/journal.c", "v6.x");
const commit = sitesIn("fs/jbd2/commit.c", "v6.x");
const checkpoint = sitesIn("fs/jbd2/checkpoint.c", "v6.x");
const ext2inode = sitesIn("fs/ext2/inode.c", "v6.x");
const filemap = sitesIn("mm/filemap.c", V);

/** Folio migration: migrate_pages() -> migrate_folio_unmap()/_move() -> move_to_new_folio() -> a_ops->migrate_folio. */
export const MIG = {
  unmap: migrate("migrate_folio_unmap", "folio_trylock(src), folio_trylock(dst)", {
    note: "compaction's MIGRATE_ASYNC: a folio that cannot be locked at once is skipped (-EAGAIN)",
  }),
  refCheck: migrate("__buffer_migrate_folio", "folio_ref_count(src) != expected?", {
    note: "/* Check whether page does not have extra refs before we do more work */ expected = folio_expected_refs(): 1 + nr_pages + PG_private",
  }),
  metaHead: migrateV2("__buffer_migrate_folio", "buffer_meta(head)? return -EAGAIN", {
    note: "v2 1/8: 'We identify jbd buffers as its the only user of set_buffer_meta()'",
  }),
  trylock: migrate("buffer_migrate_lock_buffers", "trylock_buffer(bh)", {
    note: "MIGRATE_ASYNC: a buffer that is locked makes migration give up (unlock the ones taken)",
  }),
  trylockMeta: migrateWilly("buffer_migrate_lock_buffers", "buffer_meta(bh)? trylock_buffer(bh)", {
    note: "Matthew Wilcox: test the meta bit of every buffer, not only the head",
  }),
  spinLock: migrate("__buffer_migrate_folio", "spin_lock(i_private_lock)", {
    note: "recheck_buffers: spin_lock(&mapping->i_private_lock)",
  }),
  bcount: migrate("__buffer_migrate_folio", "atomic_read(&bh->b_count)?", {
    note: "any reference on a buffer makes the folio busy",
  }),
  unlockAfterLoop: migrateV2("__buffer_migrate_folio", "spin_unlock(i_private_lock)", {
    note:
      "v2 1/8: spin_unlock(&mapping->i_private_lock) moved back to right after the b_count loop, where it was before ebdf4de5642fb6 " +
      "(in 2019 the function was __buffer_migrate_page() and the lock mapping->private_lock); fix no-private-lock is v6.15-rc1 with this unlock",
  }),
  unlockBusy: migrate("__buffer_migrate_folio", "busy: spin_unlock(i_private_lock)"),
  setMigrate: migrateBh("__buffer_migrate_folio", "test_and_set_bit_lock(BH_Migrate, &head->b_state)", {
    note: "2d900efff915: migrating = test_and_set_bit_lock(BH_Migrate, &head->b_state); VM_WARN_ON_ONCE(migrating);",
  }),
  unlockAfterCheck: migrateBh("__buffer_migrate_folio", "spin_unlock(i_private_lock)", {
    note: "2d900efff915: the critical region of i_private_lock is back to the b_count checks, as before ebdf4de5642fb6; BH_Migrate stays set",
  }),
  clearMigrate: migrateBh("__buffer_migrate_folio", "unlock_buffers: clear_bit_unlock(BH_Migrate)", {
    note: "2d900efff915: 'if (check_refs) clear_bit_unlock(BH_Migrate, &head->b_state);' replaces the spin_unlock()",
  }),
  invalidate: migrate("__buffer_migrate_folio", "invalidate_bh_lrus(); goto recheck", {
    note: "fs/buffer.c: on_each_cpu_cond(has_bh_in_lru, invalidate_bh_lru): drops every per-CPU LRU's reference",
  }),
  migrateRefCheck: migrate("__migrate_folio", "folio_ref_count(src) != expected?", {
    note: "filemap_migrate_folio() -> __migrate_folio(): /* Check whether src does not have extra refs before we do more work */",
  }),
  copyPage: util("folio_mc_copy", "copy_mc_highpage(): copy one page", {
    note: "__migrate_folio() copies the data before freezing the refcount",
  }),
  condResched: util("folio_mc_copy", "cond_resched()", {
    note: "for (;;) { copy page i; if (++i == nr) break; cond_resched(); } — reached only for a large folio",
    mightSleep: true,
  }),
  migrateMapping: migrate("__folio_migrate_mapping", "folio_ref_freeze(src); xas_store(dst)", {
    note: "xas_lock_irq(); freeze; index/mapping; xas_store(dst); folio_ref_unfreeze(src); /* Now we know that no one else is looking at the folio: no turning back from here. */",
  }),
  attachPrivate: migrate("__migrate_folio", "folio_attach_private(dst, ...)", {
    note: "folio_attach_private(dst, folio_detach_private(src)); then folio_migrate_flags(dst, src)",
  }),
  setBh: migrate("__buffer_migrate_folio", "folio_set_bh(bh, dst, bh_offset(bh))"),
  unlockEnd: migrate("__buffer_migrate_folio", "spin_unlock(i_private_lock)", {
    note: "unlock_buffers: ebdf4de5642fb6: the lock is held from the b_count check until the buffers point to dst",
  }),
  unlockBuffers: migrate("__buffer_migrate_folio", "unlock_buffer() every buffer"),
  done: migrate("migrate_folio_move", "unlock; folio_put(dst), folio_put(src)", {
    note: "move_to_new_folio() clears src->mapping; folio_unlock(dst); folio_put(dst); folio_unlock(src); migrate_folio_done() drops the isolation reference: src is freed",
  }),
  undo: migrate("migrate_pages_batch", "undo: folio_unlock(src, dst)", {
    note: "migration failed (the passes of migrate_pages_batch() that retry -EAGAIN are not modeled): migrate_folio_undo_src()/_dst() unlock both, src stays in the page cache",
  }),
  fallback: migrate("fallback_migrate_folio", "dirty? filemap_release_folio(src)", {
    note: "no ->migrate_folio: MIGRATE_ASYNC gives up on a dirty folio (-EBUSY); else ext4_release_folio() -> jbd2_journal_try_to_free_buffers() must free the buffers",
  }),
};

/** Buffer lookup: sb_getblk()/sb_bread() -> bdev_getblk() -> __find_get_block(). */
export const BUF = {
  lookupLru: buffer("lookup_bh_lru", "search this CPU's bh LRU", {
    note: "bh_lru_lock() = local_irq_disable(); on a hit: move to the head, get_bh()",
  }),
  getFolio: buffer("__find_get_block_slow", "__filemap_get_folio(FGP_ACCESSED)", {
    note: "mm/filemap.c filemap_get_entry(): xas_load, folio_try_get, xas_reload — a reference on the folio now in the page cache",
  }),
  udelay: bufferDelay("__find_get_block_slow", "udelay(param udelay) (injected)", {
    note:
      "Luis Chamberlain's test used udelay(2000): the delay widens this window; an interleaving model already contains every " +
      "length of it, the timed mode (racelab rates --mode timed) gives it its length in µs",
  }),
  spinLock: buffer("__find_get_block_slow", "spin_lock(i_private_lock)"),
  scan: buffer("__find_get_block_slow", "folio_buffers(); find block; get_bh()"),
  spinUnlock: buffer("__find_get_block_slow", "spin_unlock(i_private_lock)"),
  folioLockNonatomic: bufferSplit("__find_get_block_slow", "atomic == false: folio_lock(folio)", {
    note: "7ffe3de53a88: 'Folio lock protects the buffers. Callers that cannot block will fallback to serializing vs try_to_free_buffers() via the i_private_lock.' bdev_getblk() with a blocking gfp calls __find_get_block_nonatomic()",
  }),
  scanBhMigrate: bufferSplit("__find_get_block_slow", "BH_Migrate on head? bail; find block; get_bh()", {
    note: "2d900efff915: 'Upon a noref migration, the folio lock serializes here; otherwise bail.' if (test_bit_acquire(BH_Migrate, &head->b_state)) { WARN_ON(!atomic); goto out_unlock; }",
  }),
  folioUnlockNonatomic: bufferSplit("__find_get_block_slow", "atomic == false: folio_unlock(folio)"),
  folioPut: buffer("__find_get_block_slow", "folio_put(folio)"),
  lruInstall: buffer("__find_get_block", "bh_lru_install(bh)", {
    note: "the LRU takes its own reference (get_bh) on the buffer",
  }),
  growGet: buffer("grow_dev_folio", "__filemap_get_folio(FGP_LOCK)", {
    note: "bdev_getblk() -> __getblk_slow() -> grow_buffers(): the lookup found no buffer",
  }),
  growLock: buffer("grow_dev_folio", "folio_lock(folio)"),
  growUnlock: buffer("grow_dev_folio", "folio_unlock(); retry the lookup"),
};

/** ext4 extent tree update on the block device mapping (the seed's trace, writeback -> ext4_ext_map_blocks). */
export const EXT = {
  pHdr: extents("ext4_find_extent", "p_hdr = ext_block_hdr(bh)", {
    note: "read_extent_tree_block() -> sb_getblk_gfp(); bh_uptodate_or_lock(): uptodate, no lock; p_hdr points into bh->b_data",
  }),
  modify: extents("ext4_ext_insert_extent", "store through path[depth].p_hdr", {
    note: "e.g. le16_add_cpu(&eh->eh_entries, 1); nearex->ee_block = ... — plain stores, no buffer lock",
  }),
  dirty: ext4jbd2("__ext4_handle_dirty_metadata", "set_buffer_meta(); dirty_metadata", {
    note: "ext4_ext_dirty() -> __ext4_ext_dirty(); jbd2: under jh->b_state_lock, b_modified = 1, file on BJ_Metadata",
  }),
  drop: extents("ext4_ext_drop_refs", "brelse(path->p_bh)", { note: "ext4_free_ext_path()" }),
  stop: ext4jbd2("__ext4_journal_stop", "jbd2_journal_stop(handle)", { note: "the transaction may now commit" }),
};

/** jbd2 (the handle's calls and kjournald2). */
export const JBD = {
  addJh: journal("jbd2_journal_add_journal_head", "attach jh: get_bh(bh)", {
    note: "jbd2_journal_get_write_access(): 'When a buffer has its BH_JBD bit set, its ->b_count is elevated by one.'",
  }),
  lockBuffer: transaction("do_get_write_access", "lock_buffer(bh)"),
  fileReserved: transaction("do_get_write_access", "BJ_Reserved; unlock_buffer(bh)", {
    note: "under jh->b_state_lock; the transaction holds a b_jcount reference; then jbd2_journal_put_journal_head()",
  }),
  commitLocked: commit("jbd2_journal_commit_transaction", "wait for t_updates == 0", {
    note: "the handle that modified the buffer has stopped",
  }),
  writeMeta: journal("jbd2_journal_write_metadata_buffer", "new_folio = bh_in->b_folio", {
    note: "under jh_in->b_state_lock; no folio lock, no writeback bit, no buffer lock; files bh_in on BJ_Shadow",
  }),
  logIo: commit("jbd2_journal_commit_transaction", "submit_bh(new_bh): write the log", {
    note: "then the buffer is refiled to the checkpoint list (b_cp_transaction keeps the journal_head)",
  }),
  cpLock: checkpoint("jbd2_log_do_checkpoint", "lock_buffer(bh)"),
  cpDone: checkpoint("__jbd2_journal_remove_checkpoint", "put journal_head: __brelse(bh)", {
    note: "the home write completed (end_buffer_write_sync); the journal_head and its b_count reference go away",
  }),
};

/** ext2 (a simple buffer_head filesystem): __ext2_write_inode(). */
export const EXT2 = {
  raw: ext2inode("ext2_get_inode", "raw_inode = bh->b_data + offset", {
    note: "sb_bread(sb, block) -> __bread_gfp() -> bdev_getblk() -> __find_get_block(); uptodate, no lock",
  }),
  fill: ext2inode("__ext2_write_inode", "raw_inode->i_mode = ... (stores)", {
    note: "plain stores into the buffer, no buffer lock",
  }),
  dirty: ext2inode("__ext2_write_inode", "mark_buffer_dirty(bh)", {
    note: "fs/buffer.c: set BH_Dirty and __folio_mark_dirty(bh->b_folio)",
  }),
  brelse: ext2inode("__ext2_write_inode", "brelse(bh)"),
};

/** ext4 data=journal buffered write on the file's own mapping (ext4_journalled_aops). */
export const JW = {
  getFolio: ext4inode("ext4_write_begin", "__filemap_get_folio(FGP_WRITEBEGIN)", {
    note: "mm/filemap.c: a reference on the folio now in the file's page cache",
  }),
  lock: ext4inode("ext4_write_begin", "folio_lock(); mapping changed?", {
    note: "a folio migrated meanwhile has ->mapping == NULL: unlock, put, goto retry_grab; no buffers: create_empty_buffers()",
  }),
  copy: filemap("generic_perform_write", "copy_folio_from_iter_atomic()"),
  writeEnd: ext4inode("write_end_fn", "dirty_journalled_data; clear meta", {
    note: "ext4_journalled_write_end(): folio_mark_dirty(bh->b_folio); ext4_handle_dirty_metadata() sets BH_Meta, write_end_fn() clears it",
  }),
  unlock: ext4inode("ext4_journalled_write_end", "folio_unlock(folio); folio_put(folio)"),
  stop: ext4inode("ext4_journalled_write_end", "ext4_journal_stop(handle)"),
};
