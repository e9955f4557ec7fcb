/**
 * The racing code paths of `ext4-delalloc-fallocate`, as in fs/ext4/inode.c (8e4e5cdf2fde; the
 * re-check from 0ea6560abb3b), fs/ext4/extents.c, fs/ext4/extents_status.c, fs/ext4/file.c and
 * fs/buffer.c: ext4_page_mkwrite(), the buffered write, ext4_fallocate(), and the writeback and
 * eviction that follow the race. One `yield` (or `yield*` of a library primitive) per atomic
 * step; the step sites are in sites.ts.
 */
import { afterAll } from "../../engine/sync.js";
import { atLabel, deadOnReturn, labelIn, type RunConfig, type Task } from "../../engine/task.js";
import type { Site } from "../../engine/site.js";
import type { ThreadSpec } from "../../engine/scenario.js";
import {
  esName,
  ext4_es_is_delayed,
  ext4_es_is_delonly,
  ext4_es_is_hole,
  ext4_es_is_written,
  EXTENT_STATUS_DELAYED,
  EXTENT_STATUS_HOLE,
  EXTENT_STATUS_UNWRITTEN,
  EXTENT_STATUS_WRITTEN,
  type EsStatus,
} from "../../linux/extent_status.js";
import { folio_lock, folio_unlock } from "../../linux/folio.js";
import { inode_lock, inode_unlock } from "../../linux/inode.js";
import { down_read, down_write, up_read, up_write } from "../../linux/locks.js";
import { AFTER, DA, FALLOC, MKWRITE, WRITE } from "./sites.js";
import type { Ext4Options, Ext4State } from "./state.js";

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

/** `add_delayed:` in ext4_da_map_blocks(), reached from an es-tree hole and from a lookup that found a hole. */
const ADD_DELAYED = labelIn("ext4_da_map_blocks", "add_delayed");
/**
 * The allocation in ext4_map_blocks() after `found:`'s return for a mapped block (no label in the
 * C; from there on the function uses only its parameters: `retval` is assigned anew, `es` is dead).
 */
const ALLOCATE = labelIn("ext4_map_blocks", "allocate");

/**
 * ext4_da_map_blocks(), fs/ext4/inode.c (8e4e5cdf2fde; with `recheckEs`, 0ea6560abb3b).
 * Leaves out: inline data, bigalloc clusters, ENOSPC and the quota reservation's failure paths.
 */
const ext4_da_map_blocks = deadOnReturn(function* ext4_da_map_blocks(t: Task, s: Ext4State, cfg: Cfg, L: number): Step<DaMap> {
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

  // add_delayed: (only the parameters are live)
  atLabel(t, ADD_DELAYED);
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
});

/**
 * __block_write_begin_int() (fs/buffer.c) for one buffer: get_block only for an unmapped buffer;
 * get_block is ext4_da_get_block_prep() -> ext4_da_map_blocks().
 */
const block_write_begin = deadOnReturn(function* block_write_begin(t: Task, s: Ext4State, cfg: Cfg, L: number, at: Site): Step {
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
});

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
 * ext4_map_blocks(handle, inode, map, EXT4_GET_BLOCKS_CREATE_UNWRIT_EXT) for one block
 * (fs/ext4/inode.c): the es tree lookup without i_data_sem, else ext4_ext_map_blocks() without
 * create under i_data_sem read; unless the block is mapped ("Returns if the blocks have already
 * allocated"), ext4_ext_map_blocks() with create under i_data_sem write and the es insert.
 * Returns the blocks mapped (1). Leaves out: the journal handle, ENOSPC.
 */
const ext4_map_blocks = deadOnReturn(function* ext4_map_blocks(t: Task, s: Ext4State, L: number): Step<number> {
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
    atLabel(t, ALLOCATE);
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
  return 1;
});

/**
 * ext4_fallocate() mode 0 -> ext4_alloc_file_blocks() -> ext4_map_blocks(CREATE_UNWRIT_EXT).
 * Leaves out: the journal handle (ext4_journal_start/stop), inode_dio_wait, i_size updates,
 * the inline-data conversion's lock/unlock, ENOSPC retries.
 */
function* ext4_fallocate(t: Task, s: Ext4State, cfg: Cfg, L: number): Step {
  if (cfg.options.inodeLock) yield* inode_lock(t, s.inode, FALLOC.inodeLock);
  // ext4_alloc_file_blocks(): ret = ext4_map_blocks(handle, inode, &map, flags);
  yield* ext4_map_blocks(t, s, L);
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

/**
 * The threads of one run: for each block, the pair of racing paths the variant asks for (named
 * `<path>[<block>]` when there is more than one block), then writeback+evict.
 */
export function threadsFor(cfg: Cfg, blocks: number): ThreadSpec<Ext4State, Ext4Options>[] {
  const threads: ThreadSpec<Ext4State, Ext4Options>[] = [];
  for (let L = 0; L < blocks; L++)
    for (const [name, body] of RACERS[cfg.options.racers])
      threads.push({
        name: blocks === 1 ? name : `${name}[${L}]`,
        body: (t: Task, s: Ext4State, c: Cfg) => body(t, s, c, L),
      });
  threads.push({ name: "writeback+evict", body: (t: Task, s: Ext4State) => writeback_evict(t, s) });
  return threads;
}
