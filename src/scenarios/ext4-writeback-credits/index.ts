/**
 * Scenario `ext4-writeback-credits`: the journal-credit race behind the
 * `jbd2_journal_dirty_metadata` WARN that the buffer-migrate-jbd2 thread took for a symptom of
 * folio migration. ext4_do_writepages() reserves credits from the extent tree's depth read before
 * it starts the handle and before it takes i_data_sem; other writers to the file can grow and
 * fill the tree in between, so the insertion dirties more buffers than were reserved, and
 * jbd2_journal_dirty_metadata() WARNs and returns -ENOSPC. Fixed by 32a93f5bc9b9, which reserves
 * for EXT4_MAX_EXTENT_DEPTH.
 *
 * Seed: the thread of "[v2,1/8] migrate: fix skipping metadata buffer heads on migration"
 * (shared/seeds/000_714910fe023abd01.txt): Davidlohr Bueso's WARN on vanilla 6.15-rc1 after 90+
 * hours of generic/750 on a 2 KiB-block ext4, and Jan Kara's reply of 2025-04-23 with the patch.
 * Kernel: v6.15-rc1. Sources read and quoted: SOURCES.md. The migration race of the same thread is
 * the scenario buffer-migrate-jbd2; this one has no migration thread at all.
 *
 * Files: state.ts (state, options, the workload), credits.ts (the estimates), threads.ts (the code
 * paths), fixes.ts, claims.ts, sites.ts; src/linux/ext4_extent_tree.ts (the tree and what an
 * insertion dirties) and src/linux/jbd2_journal.ts (handles, credits, b_modified, the commit).
 */
import type { Scenario } from "../../engine/scenario.js";
import { defineScenario } from "../../engine/define.js";
import { claims } from "./claims.js";
import { fixes, SEED, variants } from "./fixes.js";
import { initialState, type CreditsOptions, type CreditsState } from "./state.js";
import { threadsFor } from "./threads.js";

export type { CreditsOptions, CreditsState } from "./state.js";

export const ext4WritebackCredits: Scenario<CreditsState, CreditsOptions> = defineScenario<CreditsState, CreditsOptions>({
  id: "ext4-writeback-credits",
  title: "ext4 writeback: journal credits estimated from a stale extent-tree depth",
  summary:
    "ext4_do_writepages() reserves journal credits from ext_depth(inode), read before the handle starts and before " +
    "i_data_sem; direct writes to the same file can grow and fill the extent tree meanwhile, the insertion then dirties " +
    "more buffers than reserved and jbd2_journal_dirty_metadata() WARNs with -ENOSPC (Davidlohr Bueso's report on " +
    "6.15-rc1). 32a93f5bc9b9 reserves for EXT4_MAX_EXTENT_DEPTH.",
  kernel: "v6.15-rc1 (fs/ext4/extents.c blob c616a16a9f36; fix 32a93f5bc9b9)",
  thread: SEED,
  params: [
    {
      name: "extents",
      description: "extents writeback maps in its handle: 2 when mballoc returns one block for the first (bpp = 2 at 2 KiB blocks), 1 otherwise",
      default: 2,
      min: 1,
      max: 2,
    },
    {
      name: "writes",
      description: "direct writes into other holes of the file, one extent each (lblk 1000, 300, 400, 500, 600, 550, then 2000, 2010, ...)",
      default: 6,
      min: 0,
      max: 400,
    },
    {
      name: "spread",
      description: "1: every allocation from a group of its own (descriptor in a block of its own), as on a nearly full fs; 0: one group",
      default: 1,
      min: 0,
      max: 1,
    },
    {
      name: "commit",
      description: "1: kjournald2 commits the running transaction once, at any point; 0: every handle runs in one transaction",
      default: 1,
      min: 0,
      max: 1,
    },
    {
      name: "udelay",
      description:
        "µs of udelay() before spin_lock() in __find_get_block_slow() for every extent block ext4_find_extent() reads " +
        "(under i_data_sem), as Luis Chamberlain's test (2000); only `rates --mode timed` sees the µs",
      default: 0,
      min: 0,
      max: 1_000_000,
    },
  ],
  defaults: { maxDepthCredits: false, geometry: "aggressive-test" },
  fixes,
  variants,
  setup(cfg) {
    return { state: initialState(cfg), threads: threadsFor(cfg) };
  },
  view(s) {
    const out: Record<string, string | number | boolean> = {};
    out["extent tree"] = s.tree.describe();
    out["i_data_sem"] = s.i_data_sem.describe();
    out["journal"] = s.journal.describe();
    for (const [name, h] of Object.entries(s.handles))
      out[`${name} handle`] = h.open || h.reserved > 0
        ? `${h.open ? "open" : "stopped"} in T${h.tid}: reserved ${h.reserved}, charged ${h.charged}, left ${h.credits}${h.aborted ? ", ABORTED (-ENOSPC)" : ""}`
        : "-";
    out["block groups used"] = s.groups.peek();
    return out;
  },
  claims,
  leftOut: [
    "One inode. Its extent tree keeps only the keys of each node; extents are never logically adjacent, so none is merged (ext4_ext_try_to_merge(), _merge_up() change nothing) and lengths, physical blocks, unwritten extents and the extent status tree are left out.",
    "Node sizes: the default uses extents.c's AGGRESSIVE_TEST limits (3 extents / 4 indexes in the root, 6 / 5 in a block) so that six direct writes grow and fill the tree; variant bs-2048 has a 2 KiB-block filesystem's (4 / 4, 169 / 169). The credit estimates are the kernel's for 2 KiB blocks on 4 KiB pages either way.",
    "Writeback runs one iteration of ext4_do_writepages()'s loop for one page (lblk 50-51); mpage_prepare_extent_to_map() is one step, mpage_map_and_submit_extent() one ext4_map_blocks() per extent. The direct writes are ext4_iomap_alloc() only (one extent each); the inode lock, iomap and the I/O are left out.",
    "ext4_map_blocks() is the down_write(i_data_sem) path only (the es-cache and down_read lookups before it are left out); ext4_find_extent()'s block reads are one step each only when a udelay is injected.",
    "mballoc: an allocation dirties the group's block bitmap and group descriptor block; which group is a parameter (spread). Quota (EXT4_MAXQUOTAS_TRANS_BLOCKS 0), the superblock, flex_bg counters and preallocation are left out; the quota charge's inode dirty is folded into the one ext4_mark_inode_dirty() per ext4_map_blocks().",
    "jbd2: one running transaction at a time and one commit (kjournald2 locks it, waits for its handles, switches); t_outstanding_credits and log space, reserved handles (dioread_nolock's rsv_blocks), revoke credits, jbd2_journal_extend() and the journal abort after -ENOSPC are left out: the handle stops charging and its writer stops.",
    "Other writers that change the tree (fallocate, punch hole, collapse/insert range, unwritten-extent conversion at I/O completion, other writeback) and other handles that estimate from ext_depth() (ext4_writepage_trans_blocks(), the end_io conversion) are not modeled; the direct writes stand for them.",
  ],
});
