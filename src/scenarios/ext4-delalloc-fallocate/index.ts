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
 */
import { afterAll } from "../../engine/sync.js";
import type { RunConfig, Task } from "../../engine/task.js";
import type { Claim, Fix, Scenario, SourceRef, Variant } from "../../engine/scenario.js";
import type { Site } from "../../engine/site.js";
import { hasFinding, summarizeCheck } from "../../engine/claims.js";
import { Counter } from "../../linux/atomic.js";
import { BufferHead } from "../../linux/buffer_head.js";
import { Ext4ExtentTree } from "../../linux/ext4_extents.js";
import {
  esName,
  ext4_es_is_delayed,
  ext4_es_is_delonly,
  ext4_es_is_hole,
  ext4_es_is_written,
  ExtentStatusTree,
  EXTENT_STATUS_DELAYED,
  EXTENT_STATUS_HOLE,
  EXTENT_STATUS_UNWRITTEN,
  EXTENT_STATUS_WRITTEN,
  type EsStatus,
} from "../../linux/extent_status.js";
import { Folio, folio_lock, folio_unlock } from "../../linux/folio.js";
import { Inode, inode_lock, inode_unlock } from "../../linux/inode.js";
import { down_read, down_write, RwSemaphore, up_read, up_write } from "../../linux/locks.js";
import { AFTER, DA, FALLOC, MKWRITE, WRITE } from "./sites.js";

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
  readonly folios: Folio[];
  readonly bhs: BufferHead[];
}

type Step<T = void> = Generator<Site, T, undefined>;
type Cfg = RunConfig<Ext4Options>;

/** What ext4_da_map_blocks() returns: 0 with the buffer set delayed, or > 0 with the block mapped. */
interface DaMap {
  readonly retval: number;
  readonly unwritten: boolean;
}

/** The `found:` part of ext4_da_map_blocks() for a non-hole es entry (no step of its own). */
function found(t: Task, s: Ext4State, L: number, es: EsStatus): DaMap {
  if (ext4_es_is_delonly(es)) {
    // map_bh(bh, inode->i_sb, invalid_block); set_buffer_new(bh); set_buffer_delay(bh); return 0;
    s.bhs[L]!.set({ mapped: true, new: true, delay: true });
    t.say(() => `es: ${esName(es)}: buffer already delayed, no new reservation`);
    return { retval: 0, unwritten: false };
  }
  t.say(() => `es: ${esName(es)}: block already allocated`);
  return { retval: 1, unwritten: !ext4_es_is_written(es) };
}

/** ext4_map_query_blocks() -> ext4_ext_map_blocks(flags 0), caching the result in the es tree. */
function map_query_blocks(t: Task, s: Ext4State, L: number): DaMap | null {
  const d = s.disk.lookup(L);
  if (d === "hole") {
    // ext4_ext_determine_insert_hole(): cache the hole unless a delayed extent covers lblk.
    if (!ext4_es_is_delayed(s.es.lookup(L))) s.es.insertExtent(L, EXTENT_STATUS_HOLE);
    t.say("on disk: hole");
    return null;
  }
  s.es.insertExtent(L, d === "written" ? EXTENT_STATUS_WRITTEN : EXTENT_STATUS_UNWRITTEN);
  t.say(() => `on disk: ${d} extent`);
  return { retval: 1, unwritten: d === "unwritten" };
}

/**
 * ext4_da_map_blocks(), fs/ext4/inode.c (8e4e5cdf2fde; with `recheckEs`, 0ea6560abb3b).
 * Leaves out: inline data, bigalloc clusters, ENOSPC and the quota reservation's failure paths.
 */
function* ext4_da_map_blocks(t: Task, s: Ext4State, cfg: Cfg, L: number): Step<DaMap> {
  yield DA.lookup;
  const es = s.es.lookup(L);
  if (es !== 0 && !ext4_es_is_hole(es)) return found(t, s, L, es);
  if (es === 0) {
    t.say("es: no entry");
    yield* down_read(t, s.i_data_sem, DA.downRead);
    yield DA.query;
    const m = map_query_blocks(t, s, L);
    yield* up_read(t, s.i_data_sem, DA.upRead);
    if (m !== null) return m;
  } else t.say("es: hole: goto add_delayed");

  // add_delayed:
  yield* down_write(t, s.i_data_sem, DA.addDelayed);
  if (cfg.options.recheckEs) {
    yield DA.recheck;
    const again = s.es.lookup(L);
    if (again !== 0) {
      if (!ext4_es_is_hole(again)) {
        t.say(() => `es now: ${esName(again)}`);
        yield* up_write(t, s.i_data_sem, DA.recheckUpWrite);
        return found(t, s, L, again);
      }
      t.say("es: still a hole");
    } else {
      t.say("es: no entry");
      yield DA.recheckQuery;
      const m = map_query_blocks(t, s, L);
      if (m !== null) {
        yield* up_write(t, s.i_data_sem, DA.upWrite);
        return m;
      }
    }
  }
  // ext4_insert_delayed_block() -> ext4_da_reserve_space()
  yield DA.reserve;
  s.i_reserved_data_blocks.add(1);
  // ext4_insert_delayed_block() -> ext4_es_insert_delayed_block()
  yield DA.insertDelayed;
  const disk = s.disk.lookup(L); // model-only read: the check below is the scenario's invariant
  if (disk !== "hole")
    t.violated(`ext4_es_insert_delayed_block() replaced an allocated (${disk}) extent`);
  t.say(() => `es: ${esName(s.es.peek(L))} -> delayed`);
  s.es.insertDelayedBlock(L);
  yield* up_write(t, s.i_data_sem, DA.upWrite);
  yield DA.setDelay;
  s.bhs[L]!.set({ mapped: true, new: true, delay: true });
  return { retval: 0, unwritten: false };
}

/**
 * __block_write_begin_int() (fs/buffer.c) for one buffer: get_block only for an unmapped buffer;
 * get_block is ext4_da_get_block_prep() -> ext4_da_map_blocks().
 */
function* block_write_begin(t: Task, s: Ext4State, cfg: Cfg, L: number, at: Site): Step {
  yield at;
  if (s.bhs[L]!.get().mapped) {
    t.say("buffer already mapped: no get_block");
    return;
  }
  const m = yield* ext4_da_map_blocks(t, s, cfg, L);
  if (m.retval > 0) {
    yield DA.mapBh;
    // map_bh(); ext4_update_bh_state(); buffer_unwritten -> set_buffer_new, set_buffer_mapped
    s.bhs[L]!.set({ mapped: true, new: m.unwritten, unwritten: m.unwritten });
  }
}

/** ext4_page_mkwrite() (delalloc case) -> block_page_mkwrite(); the fault core unlocks the folio. */
function* ext4_page_mkwrite(t: Task, s: Ext4State, cfg: Cfg, L: number): Step {
  const folio = s.folios[L]!;
  yield* down_read(t, s.invalidate_lock, MKWRITE.invalidateLock);
  if (cfg.options.folioLock) yield* folio_lock(t, folio, MKWRITE.folioLock);
  yield* block_write_begin(t, s, cfg, L, MKWRITE.writeBegin);
  yield MKWRITE.commit;
  s.bhs[L]!.set({ dirty: true });
  yield* up_read(t, s.invalidate_lock, MKWRITE.invalidateUnlock);
  if (cfg.options.folioLock) yield* folio_unlock(t, folio, MKWRITE.faultUnlock);
}

/** ext4_buffered_write_iter() -> generic_perform_write() -> ext4_da_write_begin() / _end(). */
function* ext4_buffered_write(t: Task, s: Ext4State, cfg: Cfg, L: number): Step {
  const folio = s.folios[L]!;
  if (cfg.options.inodeLock) yield* inode_lock(t, s.inode, WRITE.inodeLock);
  if (cfg.options.folioLock) yield* folio_lock(t, folio, WRITE.getFolio);
  yield* block_write_begin(t, s, cfg, L, WRITE.writeBegin);
  yield WRITE.commit;
  s.bhs[L]!.set({ dirty: true });
  if (cfg.options.folioLock) yield* folio_unlock(t, folio, WRITE.folioUnlock);
  if (cfg.options.inodeLock) yield* inode_unlock(t, s.inode, WRITE.inodeUnlock);
}

/**
 * ext4_fallocate() mode 0 -> ext4_alloc_file_blocks() -> ext4_map_blocks(CREATE_UNWRIT_EXT).
 * Leaves out: the journal handle (ext4_journal_start/stop), inode_dio_wait, i_size updates,
 * the inline-data conversion's lock/unlock, ENOSPC retries.
 */
function* ext4_fallocate(t: Task, s: Ext4State, cfg: Cfg, L: number): Step {
  if (cfg.options.inodeLock) yield* inode_lock(t, s.inode, FALLOC.inodeLock);
  yield FALLOC.lookup;
  const es = s.es.lookup(L);
  let written = false;
  if (es !== 0) {
    written = ext4_es_is_written(es);
    t.say(() => `es: ${esName(es)}`);
  } else {
    yield* down_read(t, s.i_data_sem, FALLOC.downRead);
    yield FALLOC.query;
    const d = s.disk.lookup(L);
    if (d === "hole") {
      if (!ext4_es_is_delayed(s.es.lookup(L))) s.es.insertExtent(L, EXTENT_STATUS_HOLE);
    } else {
      let st: EsStatus = d === "written" ? EXTENT_STATUS_WRITTEN : EXTENT_STATUS_UNWRITTEN;
      if (d === "unwritten" && ext4_es_is_delayed(s.es.lookup(L))) st |= EXTENT_STATUS_DELAYED;
      s.es.insertExtent(L, st);
    }
    written = d === "written";
    t.say(() => `on disk: ${d}`);
    yield* up_read(t, s.i_data_sem, FALLOC.upRead);
  }
  // found: "Returns if the blocks have already allocated" (EXT4_MAP_MAPPED); else allocate.
  if (!written) {
    yield* down_write(t, s.i_data_sem, FALLOC.downWrite);
    yield FALLOC.alloc;
    if (s.disk.lookup(L) === "hole") {
      s.disk.set(L, "unwritten");
      // Non-DELALLOC_RESERVE allocation over delayed blocks: n = ext4_es_delayed_clu(); release n.
      if (ext4_es_is_delonly(s.es.lookup(L))) {
        ext4_da_update_reserve_space(t, s, 1);
        t.say("allocated over a delayed extent: its reservation is released");
      } else t.say("allocated an unwritten extent");
    } else t.say("already allocated on disk");
    yield FALLOC.esInsert;
    const cur = s.es.lookup(L);
    const st = ext4_es_is_delayed(cur) ? EXTENT_STATUS_UNWRITTEN | EXTENT_STATUS_DELAYED : EXTENT_STATUS_UNWRITTEN;
    s.es.insertExtent(L, st);
    t.say(() => `es: ${esName(cur)} -> ${esName(st)}`);
    yield* up_write(t, s.i_data_sem, FALLOC.upWrite);
  }
  if (cfg.options.inodeLock) yield* inode_unlock(t, s.inode, FALLOC.inodeUnlock);
}

/** ext4_da_update_reserve_space() (fs/ext4/inode.c): the WARN when more is used than reserved. */
function ext4_da_update_reserve_space(t: Task, s: Ext4State, used: number): void {
  const have = s.i_reserved_data_blocks.read();
  if (used > have) {
    t.warn(`ext4_da_update_reserve_space: used ${used} with only ${have} reserved data blocks`);
    used = have;
  }
  s.i_reserved_data_blocks.add(-used);
}

/**
 * After the race: writeback of every dirty block (ext4_do_writepages -> mpage_map_one_extent ->
 * ext4_map_blocks), then eviction (ext4_clear_inode, ext4_destroy_inode). Runs once the racing
 * threads have finished. Leaves out: the journal, dioread_nolock's deferred unwritten conversion
 * (modeled as converting at once), block-level IO.
 */
function* writeback_evict(t: Task, s: Ext4State): Step {
  for (let L = 0; L < s.blocks; L++) {
    if (L === 0) yield* afterAll(t, AFTER.writepages);
    else yield AFTER.writepages;
    const bh = s.bhs[L]!.get();
    if (!bh.dirty || !(bh.delay || bh.unwritten)) {
      t.say(() => `block ${L}: nothing to map`);
      continue;
    }
    const d = s.disk.lookup(L);
    if (d === "hole") {
      s.disk.set(L, "written");
      // DELALLOC_RESERVE: the new allocation consumes the reservation.
      if (bh.delay) ext4_da_update_reserve_space(t, s, 1);
      t.say(() => `block ${L}: allocated; reservation consumed`);
    } else {
      s.disk.set(L, "written");
      t.say(() => `block ${L}: on-disk extent was ${d}: converted, no allocation, no reservation consumed`);
    }
    // ext4_es_insert_extent(): drops the delayed entry without releasing anything.
    s.es.insertExtent(L, EXTENT_STATUS_WRITTEN);
    s.bhs[L]!.set({ delay: false, unwritten: false, new: false, dirty: false });
  }
  yield AFTER.clearInode;
  const reserved = s.es.removeExtent(0, s.blocks - 1);
  if (reserved > 0) {
    // ext4_da_release_space()
    const have = s.i_reserved_data_blocks.read();
    if (reserved > have) t.warn(`ext4_da_release_space: to_free ${reserved} with only ${have} reserved data blocks`);
    s.i_reserved_data_blocks.add(-Math.min(reserved, have));
    t.say(() => `released ${reserved} delayed block(s)`);
  }
  yield AFTER.destroyInode;
  const left = s.i_reserved_data_blocks.read();
  // fs/ext4/super.c: "Inode %lu (%p): i_reserved_data_blocks (%u) not cleared!"
  if (left !== 0) t.warn(`i_reserved_data_blocks (${left}) not cleared!`);
}

const SEED: SourceRef = {
  seed: "002_33cfda33f14e83de.txt",
  author: "Zhang Yi",
  date: "2024-05-17",
  subject: "[PATCH v5 02/10] ext4: check the extent status again before inserting delalloc block",
  link: "https://lore.kernel.org/r/20240517124005.347221-3-yi.zhang@huaweicloud.com",
};
const quote = (q: string): SourceRef => ({ ...SEED, quote: q });

const fixes: Fix<Ext4Options>[] = [
  {
    id: "baseline",
    title: "before the patch",
    description: "ext4_da_map_blocks() as at 8e4e5cdf2fde: no re-check after down_write(i_data_sem).",
    source: quote("ext4_da_map_blocks looks up for any extent entry in the extent status tree (w/o i_data_sem)"),
    options: {},
  },
  {
    id: "recheck-es",
    title: "re-check the es tree under i_data_sem (v5 02/10)",
    description:
      "After down_write(i_data_sem) at add_delayed:, look up the extent status tree again; a non-hole entry " +
      "means `goto found`; no entry means an on-disk lookup; only a hole still inserts the delayed extent.",
    source: quote(
      "Fix the problem by looking up extent status tree again while the i_data_sem is held in write mode. " +
        "If it still can't find any entry, then we insert a new da entry into the extent status tree.",
    ),
    options: { recheckEs: true },
  },
];

const variants: Variant<Ext4Options>[] = [
  {
    id: "default",
    title: "ext4_page_mkwrite vs ext4_fallocate",
    description: "A write fault on a shared mapping and a mode-0 fallocate of the same block.",
    options: {},
  },
  {
    id: "write-vs-mkwrite",
    title: "buffered write vs ext4_page_mkwrite",
    description: "Both paths take the folio lock around ext4_da_map_blocks().",
    options: { racers: "write-mkwrite" },
  },
  {
    id: "write-vs-fallocate",
    title: "buffered write vs ext4_fallocate",
    description: "Both paths hold inode_lock (i_rwsem).",
    options: { racers: "write-fallocate" },
  },
  {
    id: "write-vs-mkwrite-no-folio-lock",
    title: "counterfactual: write vs mkwrite without the folio lock",
    description: "As write-vs-mkwrite with folio_lock() removed from both paths: tests that the folio lock is what makes it safe.",
    options: { racers: "write-mkwrite", folioLock: false },
  },
  {
    id: "write-vs-fallocate-no-inode-lock",
    title: "counterfactual: write vs fallocate without the inode lock",
    description: "As write-vs-fallocate with inode_lock() removed from both paths: tests that the inode lock is what makes it safe.",
    options: { racers: "write-fallocate", inodeLock: false },
  },
];

const LEAK = /^warning: i_reserved_data_blocks \(\d+\) not cleared!$/;
const REPLACED = /^invariant: ext4_es_insert_delayed_block\(\) replaced an allocated/;
const has = hasFinding;
const summary = summarizeCheck;

const claims: Claim[] = [
  {
    id: "race",
    statement:
      "ext4_page_mkwrite() and ext4_fallocate() can race: the delayed extent replaces the unwritten one " +
      "and the extra reserved block is never released (i_reserved_data_blocks(1) not cleared!).",
    source: quote("But this can race between ext4_page_mkwrite() & ext4 fallocate path"),
    expected: "baseline/default fails with the leak warning, and the delayed extent replaces the unwritten one",
    evaluate(ctx) {
      const r = ctx.check("baseline", "default");
      return { observed: summary(r), holds: has(r, LEAK) && has(r, REPLACED) };
    },
  },
  {
    id: "patch-closes-race",
    statement: "Looking up the extent status tree again while i_data_sem is held in write mode closes the race.",
    source: quote("Fix the problem by looking up extent status tree again while the i_data_sem is held in write mode."),
    expected: "recheck-es/default passes in every interleaving",
    evaluate(ctx) {
      const r = ctx.check("recheck-es", "default");
      return { observed: summary(r), holds: r.verdict === "pass" && r.complete };
    },
  },
  {
    id: "write-vs-mkwrite-safe",
    statement: "Buffered write vs ext4_page_mkwrite() is safe because of the folio lock.",
    source: quote("1. ext4 buffered-write path v/s ext4_page_mkwrite(), because of the folio lock"),
    expected: "baseline/write-vs-mkwrite passes; without the folio lock it fails",
    evaluate(ctx) {
      const safe = ctx.check("baseline", "write-vs-mkwrite");
      const without = ctx.check("baseline", "write-vs-mkwrite-no-folio-lock");
      return {
        observed: `${summary(safe)}; ${summary(without)}`,
        holds: safe.verdict === "pass" && safe.complete && without.verdict === "fail",
      };
    },
  },
  {
    id: "write-vs-fallocate-safe",
    statement: "Buffered write vs ext4_fallocate() is safe because of the inode lock.",
    source: quote("2. ext4 buffered write path v/s ext4 fallocate because of the inode lock."),
    expected: "baseline/write-vs-fallocate passes; without the inode lock it fails",
    evaluate(ctx) {
      const safe = ctx.check("baseline", "write-vs-fallocate");
      const without = ctx.check("baseline", "write-vs-fallocate-no-inode-lock");
      return {
        observed: `${summary(safe)}; ${summary(without)}`,
        holds: safe.verdict === "pass" && safe.complete && without.verdict === "fail",
      };
    },
  },
];

const RACERS = {
  "mkwrite-fallocate": [
    ["ext4_page_mkwrite", ext4_page_mkwrite],
    ["ext4_fallocate", ext4_fallocate],
  ],
  "write-mkwrite": [
    ["ext4_buffered_write", ext4_buffered_write],
    ["ext4_page_mkwrite", ext4_page_mkwrite],
  ],
  "write-fallocate": [
    ["ext4_buffered_write", ext4_buffered_write],
    ["ext4_fallocate", ext4_fallocate],
  ],
} as const;

export const ext4DelallocFallocate: Scenario<Ext4State, Ext4Options> = {
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
    const state: Ext4State = {
      blocks: n,
      inode: new Inode(13),
      i_data_sem: new RwSemaphore("i_data_sem"),
      invalidate_lock: new RwSemaphore("invalidate_lock"),
      es: new ExtentStatusTree(n),
      disk: new Ext4ExtentTree(n),
      i_reserved_data_blocks: new Counter("i_reserved_data_blocks"),
      folios: Array.from({ length: n }, (_, i) => new Folio(i, 0)),
      bhs: Array.from({ length: n }, (_, i) => new BufferHead(i)),
    };
    const threads = [];
    for (let L = 0; L < n; L++)
      for (const [name, body] of RACERS[cfg.options.racers])
        threads.push({
          name: n === 1 ? name : `${name}[${L}]`,
          body: (t: Task, s: Ext4State, c: Cfg) => body(t, s, c, L),
        });
    threads.push({ name: "writeback+evict", body: (t: Task, s: Ext4State) => writeback_evict(t, s) });
    return { state, threads };
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
};
