/**
 * Scenario `buffer-migrate-jbd2`: folio migration of buffer_head folios (buffer_migrate_folio_norefs)
 * vs the users of those buffers: a buffer lookup (__find_get_block) followed by an ext4 extent update
 * journalled by jbd2, kjournald2 committing and checkpointing it, ext2's inode write, and an ext4
 * data=journal write on the file's own mapping.
 *
 * Seed: "[v2,1/8] migrate: fix skipping metadata buffer heads on migration", Luis Chamberlain,
 * 2025-04-10, and its reviews by Matthew Wilcox, Jan Kara, Davidlohr Bueso and Christian Brauner
 * (shared/seeds/000_714910fe023abd01.txt). Kernel: v6.15-rc1. Sources read and quoted: SOURCES.md.
 *
 * __buffer_migrate_folio(check_refs) checks the folio's refcount, locks the buffers, and under the
 * mapping's i_private_lock checks that no buffer has a b_count reference (dropping the per-CPU bh LRUs'
 * references once). Since ebdf4de5642fb6 it keeps i_private_lock until the buffers point to the new
 * folio, so __find_get_block_slow(), which takes the lock to find a buffer, cannot hand out a
 * reference in between. Without the lock a lookup can take a reference after the check; its user
 * then writes through a pointer into the old folio after the data was copied: the update is lost.
 *
 * Files: state.ts (the state, options and setup), threads.ts (the kernel code paths), fixes.ts
 * (fixes, variants, the seed), claims.ts (the thread's claims), sites.ts (step sites); this file
 * assembles the scenario. jbd2's transaction and handle are src/linux/jbd2.ts.
 */
import type { Scenario } from "../../engine/scenario.js";
import { defineScenario } from "../../engine/define.js";
import { claims } from "./claims.js";
import { fixes, SEED, variants } from "./fixes.js";
import { initialState, type BmOptions, type BmState } from "./state.js";
import { threadsFor } from "./threads.js";

export type { BmOptions, BmState } from "./state.js";

/** The scenario, built with the public defineScenario() a new race uses too. */
export const bufferMigrateJbd2: Scenario<BmState, BmOptions> = defineScenario<BmState, BmOptions>({
  id: "buffer-migrate-jbd2",
  title: "buffer_head folio migration vs jbd2 and buffer lookups",
  summary:
    "__buffer_migrate_folio() checks that no buffer of the folio is referenced, then copies the folio and moves the " +
    "buffers to the new one. Since ebdf4de5642fb6 it holds i_private_lock from the check to the move, so " +
    "__find_get_block() cannot hand out a reference in between; without it an update lands in the old folio. The v2 " +
    "1/8 patch skips BH_Meta folios and moves the unlock back; large folios make the copy sleep under the lock.",
  kernel: "v6.15-rc1 (mm/migrate.c blob f3ee6d8d5e2e)",
  thread: SEED,
  params: [
    {
      name: "udelay",
      description:
        "µs of udelay() before spin_lock() in __find_get_block_slow(), as Luis Chamberlain's test (2000); 0: none. " +
        "Any value > 0 adds the same step (interleavings do not depend on its length); only `rates --mode timed` sees the µs",
      default: 0,
      min: 0,
      max: 1_000_000,
    },
    {
      name: "lru",
      description: "1: the buffer starts in the user's per-CPU bh LRU (one b_count reference), 0: in no LRU",
      default: 1,
      min: 0,
      max: 1,
    },
    {
      name: "fresh",
      description: "1: the ext4 extent block has never been journalled yet (BH_Meta clear, e.g. a new extent block)",
      default: 0,
      min: 0,
      max: 1,
    },
    {
      name: "atomic",
      description:
        "fix bh-migrate only: 0: the lookup may sleep (sb_getblk_gfp(GFP_NOFS), sb_bread: __find_get_block_nonatomic(), " +
        "the folio lock); 1: an atomic-context __find_get_block() (i_private_lock; bails out on BH_Migrate)",
      default: 0,
      min: 0,
      max: 1,
    },
  ],
  defaults: {
    privateLockUntil: "end",
    metaCheck: "none",
    journalledMigrate: true,
    largeBdevFolios: true,
    blockSize: 4096,
    largeFolio: false,
    bhMigrate: false,
    user: "ext4",
  },
  fixes,
  variants,
  setup(cfg) {
    return { state: initialState(cfg), threads: threadsFor(cfg) };
  },
  endChecks: [
    {
      name: "no lost update",
      check(s, r) {
        const f = s.mapping.peek();
        if (f === null) return;
        for (let b = 0; b < s.blocks; b++)
          if (f.peekData(b) !== s.updates[b])
            r.report(
              "invariant",
              `block ${b}: the page cache (${f.label}) holds version ${f.peekData(b)} after ${s.updates[b]} update(s): a metadata update was lost`,
            );
      },
    },
    {
      name: "buffers point into the page cache folio",
      check(s, r) {
        const f = s.mapping.peek();
        for (const bh of s.bhs) {
          const bf = bh.peekFolio();
          if (bf !== null && bf !== f)
            r.report("invariant", `buffer ${bh.blocknr}: b_folio is ${bf.name}, a folio the block no longer belongs to`);
        }
      },
    },
  ],
  view(s) {
    const out: Record<string, string | number | boolean> = {};
    const cur = s.mapping.peek();
    out["page cache"] = cur?.label ?? "-";
    for (const f of [s.src, s.dst]) {
      const data = Array.from({ length: s.blocks }, (_, b) => f.peekData(b)).join(",");
      out[f.label] =
        `ref ${f.peekRef()}${f.owner ? `, locked by ${f.owner.name}` : ""}${f.peekPrivate() ? ", buffers" : ""}` +
        `${f.peekDirty() ? ", dirty" : ""}, data [${data}]`;
    }
    out["i_private_lock"] = s.mapping.i_private_lock.owner?.name ?? "free";
    for (const bh of s.bhs) {
      const p = bh.peek();
      out[`buffer ${bh.blocknr}`] = `b_count ${p.count}, ${p.folio}, ${p.bits}${p.locked !== "-" ? `, BH_Lock: ${p.locked}` : ""}`;
    }
    out["journal_head"] = s.bhs[s.M]!.peekPrivate() ? s.jh.peek() : "-";
    out["bh LRU (cpu1)"] = s.lrus[1]!.peek().map((b) => `buffer ${b.blocknr}`).join(", ") || "empty";
    out["updates made"] = s.updates.join(",");
    out["migration"] = s.result;
    return out;
  },
  claims,
  // The updates made per block: the end check's count of what a lost update loses, no kernel store.
  bookkeeping: ["updates"],
  leftOut: [
    "One folio is migrated in one attempt, in MIGRATE_ASYNC mode (compaction): buffer_migrate_lock_buffers() uses trylock_buffer(); the sync modes' lock_buffer() and migrate_pages_batch()'s retry passes after -EAGAIN (which keep both folios locked) are not modeled: each pass runs the same code.",
    "Migration's unmap (try_to_migrate, migration PTEs) and the LRU isolation are left out: the folio is isolated (one reference held by migration) and not mapped; migrate_folio_unmap() is one trylock step.",
    "A page-cache lookup (filemap_get_entry's RCU walk) is one step that ends with a reference on the folio in the slot; the transient reference on a folio it then drops is left out (it can only make migration fail).",
    "Large folios are order 1 (two pages); folio_mc_copy() copies a page per step with cond_resched() (marked may-sleep) between pages; copy_mc errors (-EHWPOISON) are left out.",
    "Folio contents are a version number per block; an update is one store. ext4's checksum update (ext4_extent_block_csum_set() through bh->b_data) and the b_data arithmetic are left out.",
    "jbd2: one handle, one transaction; jbd2_write_access_granted()'s fast path, frozen-data copy-out (b_frozen_data), escaping, revoke, and the commit's other phases are left out; jh->b_state_lock sections are single steps.",
    "The per-CPU bh LRUs: the buffer user's CPU starts with the buffer in its LRU (one b_count reference); lru_cache_disabled() is false (compaction does not disable it).",
    "ext2's inode write is one store; ext2_get_inode()'s group descriptor lookup and sync writes are left out. The data=journal write skips ext4_write_begin()'s unlock/journal_start/relock and the block allocation.",
    "fallback_migrate_folio() (journalled-aops-no-migrate on a data=journal file): writeout() (MIGRATE_SYNC only) and PG_checked are left out; jbd2_journal_try_to_free_buffers() is reduced to 'no journal_head and no busy buffer'.",
    "Other paths that touch block-device buffers without a lookup are not modeled: block-device writes and writeback, reads, truncation and invalidation, try_to_free_buffers(), clean_bdev_aliases(), write_dirty_buffer(), jbd2 revoke and checkpoint removal each hold the folio lock, PG_writeback, BH_Lock or a b_count reference, which migration checks (the table in the scenario README; read in the source, not explored); nilfs2 and block-device readahead were not read. What the model rules out is limited to the paths above.",
    "Journal credits are not modeled: the jbd2_journal_dirty_metadata() WARN (-ENOSPC) of the reports is scenario ext4-writeback-credits.",
    "bh-migrate: the series' other conversions (ocfs2, jbd2 revoke, ext4's sb_find_get_block_nonatomic() users, write_boundary_block()) are not modeled; with atomic=1 the lookup that finds BH_Migrate returns NULL and the model's user continues as bdev_getblk() does, to __getblk_slow() under the folio lock.",
  ],
});
