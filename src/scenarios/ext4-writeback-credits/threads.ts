/**
 * The racing code paths of `ext4-writeback-credits` (v6.15-rc1; see sites.ts and SOURCES.md):
 * writeback of delalloc blocks in a hole of the file (ext4_do_writepages(): estimate the credits,
 * start a handle, lock the folios, map the blocks), direct writes that allocate extents elsewhere in
 * the same file (ext4_iomap_alloc(): the same, one extent per handle), and kjournald2 committing the
 * running transaction once. ext4_map_blocks() under i_data_sem allocates the data block and inserts
 * the extent, dirtying every buffer it touches through jbd2_journal_dirty_metadata().
 */
import type { ThreadSpec } from "../../engine/scenario.js";
import type { Site } from "../../engine/site.js";
import type { RunConfig, Task } from "../../engine/task.js";
import { udelay } from "../../linux/delay.js";
import type { ExtentTreeOps } from "../../linux/ext4_extent_tree.js";
import {
  type CreditHandle,
  jbd2_commit_lock,
  jbd2_commit_switch,
  jbd2_commit_wait_updates,
  jbd2_journal_start,
  jbd2_journal_stop_handle,
} from "../../linux/jbd2_journal.js";
import { down_write, up_write } from "../../linux/locks.js";
import { BPP, ext4_meta_trans_blocks, explain } from "./credits.js";
import { DIO, KJ, MAP, WB } from "./sites.js";
import { DIRECT, directBlock, KJOURNALD, WRITEBACK, WRITEBACK_BLOCKS, type CreditsOptions, type CreditsState } from "./state.js";

type Step<T = void> = Generator<Site, T, undefined>;
type Cfg = RunConfig<CreditsOptions>;

/** __ext4_handle_dirty_metadata() -> jbd2_journal_dirty_metadata(); false once the handle ran out. */
function dirty(t: Task, s: CreditsState, h: CreditHandle, buffer: string): boolean {
  return s.journal.dirtyMetadata(t, h, buffer) === 0;
}

/** ext4_mb_new_blocks() -> ext4_mb_mark_diskspace_used(): the block bitmap, then the group descriptor. */
function allocate(t: Task, s: CreditsState, h: CreditHandle, what: string): void {
  const g = s.groups.allocate();
  t.say(`${what}: group ${g.group}`);
  dirty(t, s, h, g.bitmap);
  dirty(t, s, h, g.gdp);
}

/**
 * ext4_map_blocks(handle, inode, map, EXT4_GET_BLOCKS_CREATE...) of one block in a hole: under
 * i_data_sem, ext4_find_extent() (reading the extent blocks on the path), ext4_mb_new_blocks() for
 * the data, ext4_ext_insert_extent(), the inode. Returns false when the handle ran out of credits.
 */
function* ext4_map_blocks(t: Task, s: CreditsState, cfg: Cfg, h: CreditHandle, lblk: number): Step<boolean> {
  yield* down_write(t, s.i_data_sem, MAP.downWrite);
  const us = cfg.params.udelay!;
  if (us > 0)
    for (const b of s.tree.blocksOnPath(lblk)) {
      yield* udelay(t, us, MAP.readBlock);
      t.say(`${b}: read_extent_tree_block()`);
    }
  yield MAP.alloc;
  t.say(() => `lblk ${lblk}: ${s.tree.describe()}`);
  allocate(t, s, h, `data block for lblk ${lblk}`);
  yield MAP.insert;
  const ops: ExtentTreeOps = {
    newMetaBlock: (why) => allocate(t, s, h, why),
    dirty: (buffer, why) => {
      t.say(why);
      dirty(t, s, h, buffer);
    },
  };
  s.tree.insert(lblk, ops);
  t.say(() => `now ${s.tree.describe()}`);
  yield MAP.markInode;
  dirty(t, s, h, "inode");
  yield* up_write(t, s.i_data_sem, MAP.upWrite);
  return !h.aborted;
}

/**
 * ext4_do_writepages(): one iteration of its loop for the dirty page holding lblk 50-51: the credit
 * estimate from the depth now, the handle, the folios, then mpage_map_and_submit_extent() maps the
 * page's blocks, one extent per ext4_map_blocks() (param `extents`: 2 when the allocator returned a
 * single block for the first, so the rest of the page is a second extent).
 */
function* ext4_do_writepages(t: Task, s: CreditsState, cfg: Cfg): Step {
  const fix = cfg.options.maxDepthCredits;
  yield fix ? WB.estimateFix : WB.estimate;
  const depth = s.tree.ext_depth();
  const e = ext4_meta_trans_blocks(depth, BPP, fix);
  t.say(`needed_blocks ${explain(e, depth, fix)}`);
  const h = s.handles[WRITEBACK]!;
  yield* jbd2_journal_start(t, s.journal, h, e.total, WB.start);
  t.say(() => `handle in T${h.tid} with ${h.credits} credits`);
  yield WB.prepare;
  for (const lblk of WRITEBACK_BLOCKS.slice(0, cfg.params.extents!)) if (!(yield* ext4_map_blocks(t, s, cfg, h, lblk))) break;
  yield* jbd2_journal_stop_handle(t, s.journal, h, WB.stop);
}

/** ext4_dio_write_iter() of `writes` direct writes, each ext4_iomap_alloc(): estimate, handle, one extent, stop. */
function* ext4_dio_write_iter(t: Task, s: CreditsState, cfg: Cfg): Step {
  const fix = cfg.options.maxDepthCredits;
  const h = s.handles[DIRECT]!;
  for (let i = 0; i < cfg.params.writes!; i++) {
    const lblk = directBlock(i);
    yield fix ? DIO.estimateFix : DIO.estimate;
    const depth = s.tree.ext_depth();
    const e = ext4_meta_trans_blocks(depth, 1, fix);
    t.say(`lblk ${lblk}: dio_credits ${explain(e, depth, fix)}`);
    yield* jbd2_journal_start(t, s.journal, h, e.total, DIO.start);
    const ok = yield* ext4_map_blocks(t, s, cfg, h, lblk);
    yield* jbd2_journal_stop_handle(t, s.journal, h, DIO.stop);
    if (!ok) break;
  }
}

/** kjournald2: commits the running transaction once (T_LOCKED, wait for its handles, switch). */
function* kjournald2(t: Task, s: CreditsState): Step {
  yield* jbd2_commit_lock(t, s.journal, KJ.lock);
  yield* jbd2_commit_wait_updates(t, s.journal, KJ.wait);
  const tid = yield* jbd2_commit_switch(t, s.journal, KJ.switch);
  t.say(`committed; T${tid} runs`);
}

export function threadsFor(cfg: Cfg): ThreadSpec<CreditsState, CreditsOptions>[] {
  const threads: ThreadSpec<CreditsState, CreditsOptions>[] = [{ name: WRITEBACK, body: ext4_do_writepages }];
  if (cfg.params.writes! > 0) threads.push({ name: DIRECT, body: ext4_dio_write_iter });
  if (cfg.params.commit === 1) threads.push({ name: KJOURNALD, body: (t, s) => kjournald2(t, s) });
  return threads;
}
