/**
 * Scenario `ext4-delalloc-fallocate`: ext4_page_mkwrite() vs ext4_fallocate() on one block.
 *
 * Seed: "[PATCH v5 02/10] ext4: check the extent status again before inserting delalloc block",
 * Zhang Yi, 2024-05-17, Reviewed-by Jan Kara (shared/seeds/002_33cfda33f14e83de.txt); mainline
 * commit 0ea6560abb3b. Kernel: fs/ext4/inode.c at 8e4e5cdf2fde (the patch's base), v6.10
 * semantics elsewhere. Sources read and quoted: SOURCES.md beside this file.
 *
 * ext4_da_map_blocks() looks up the extent status tree without i_data_sem, then the on-disk tree
 * under i_data_sem (read); on a hole it takes i_data_sem for write and inserts a delayed extent.
 * fallocate can allocate an unwritten extent in between; the delayed extent then replaces it, the
 * block is reserved although it is allocated, and the reservation is never released.
 *
 * Files: state.ts (the state and options), threads.ts (the kernel code paths), fixes.ts (fixes,
 * variants, the seed), claims.ts (the thread's claims), sites.ts (step sites); this file assembles
 * the scenario.
 */
import type { Scenario } from "../../engine/scenario.js";
import { defineScenario } from "../../engine/define.js";
import { esName } from "../../linux/extent_status.js";
import { claims } from "./claims.js";
import { fixes, SEED, variants } from "./fixes.js";
import { initialState, type Ext4Options, type Ext4State } from "./state.js";
import { threadsFor } from "./threads.js";

export type { Ext4Options, Ext4State } from "./state.js";

/** The scenario, built with the public defineScenario() a new race uses too. */
export const ext4DelallocFallocate: Scenario<Ext4State, Ext4Options> = defineScenario<Ext4State, Ext4Options>({
  id: "ext4-delalloc-fallocate",
  title: "ext4: delalloc page_mkwrite vs fallocate leaks a reserved block",
  summary:
    "ext4_da_map_blocks() finds a hole in the extent status tree without i_data_sem; fallocate allocates " +
    "an unwritten extent before ext4_da_map_blocks() takes i_data_sem for write; the delayed extent then " +
    "replaces the unwritten one and the reserved block is never released.",
  kernel: "v6.10 (fs/ext4/inode.c at 8e4e5cdf2fde; fix 0ea6560abb3b)",
  thread: SEED,
  params: [
    {
      name: "blocks",
      description: "logical blocks, each with its own pair of racing threads, sharing one inode",
      default: 1,
      min: 1,
      max: 4,
    },
  ],
  defaults: { recheckEs: false, racers: "mkwrite-fallocate", folioLock: true, inodeLock: true },
  fixes,
  variants,
  setup(cfg) {
    const n = cfg.params.blocks!;
    return { state: initialState(n), threads: threadsFor(cfg, n) };
  },
  view(s) {
    const out: Record<string, string | number | boolean> = {};
    for (let L = 0; L < s.blocks; L++) {
      const p = s.blocks === 1 ? "" : `[${L}]`;
      out[`es tree${p}`] = esName(s.es.peek(L));
      out[`on-disk extent${p}`] = s.disk.peek(L);
      out[`buffer_head${p}`] = s.bhs[L]!.describe();
      out[`folio lock${p}`] = s.folios[L]!.owner?.name ?? "free";
    }
    out["i_data_sem"] = s.i_data_sem.describe();
    out["i_rwsem"] = s.inode.i_rwsem.describe();
    out["i_reserved_data_blocks"] = s.i_reserved_data_blocks.peek();
    return out;
  },
  claims,
  leftOut: [
    "Blocks are 4 KiB in 4 KiB folios (one buffer_head per folio); bigalloc clusters are not modeled: with bigalloc no extra block is reserved, though the es entry is still replaced.",
    "The extent status tree keeps one entry per block; merging, splitting and the es shrinker are left out (the shrinker could drop non-delayed entries, which the no-entry path covers).",
    "ext4_da_reserve_space() is one step: dquot_reserve_block() and the i_block_reservation_lock section (ext4_claim_free_clusters, i_reserved_data_blocks++) are folded; quota and s_dirtyclusters_counter are not tracked separately.",
    "The journal (handles, credits), inline data, ENOSPC and its retries, i_size and the data copy are left out.",
    "Writeback and eviction run after the racing threads finish, one step per block; dioread_nolock's deferred unwritten conversion is modeled as an immediate conversion.",
    "sb_start_pagefault() and file_update_time() are not modeled; the rw_semaphore model lets readers in whenever no writer holds it (no writer preference).",
    "The invariant 'a delayed extent never replaces an allocated one' is checked at ext4_es_insert_delayed_block(), the only step that can break it.",
  ],
});
