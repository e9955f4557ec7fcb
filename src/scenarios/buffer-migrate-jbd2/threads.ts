/**
 * The racing code paths of `buffer-migrate-jbd2`, as in mm/migrate.c, fs/buffer.c, fs/jbd2/*.c,
 * fs/ext4/{extents,ext4_jbd2,inode}.c and fs/ext2/inode.c (v6.15-rc1; see sites.ts and
 * SOURCES.md): folio migration (migrate_pages -> __buffer_migrate_folio or
 * fallback_migrate_folio), the buffer lookup (bdev_getblk -> __find_get_block), jbd2's write
 * access and kjournald2's commit and checkpoint, and the buffer users: an ext4 extent update, ext2's
 * inode write, an ext4 data=journal write. One `yield` (or `yield*` of a library primitive) per
 * atomic step.
 */
import type { ThreadSpec } from "../../engine/scenario.js";
import type { Site } from "../../engine/site.js";
import type { RunConfig, Task } from "../../engine/task.js";
import type { BufferFolio } from "../../linux/address_space.js";
import { invalidate_bh_lrus, type BhLru } from "../../linux/bh_lru.js";
import { lock_buffer, type BufferHead } from "../../linux/buffer_head.js";
import { folio_lock } from "../../linux/folio.js";
import { jbd2_journal_stop, jbd2_journal_wait_updates } from "../../linux/jbd2.js";
import {
  jbd2_journal_add_journal_head,
  jbd2_journal_grab_journal_head,
  jbd2_journal_put_journal_head,
  type JournalHead,
} from "../../linux/journal_head.js";
import { udelay } from "../../linux/delay.js";
import { spin_lock, spinRelease } from "../../linux/locks.js";
import { BUF, EXT, EXT2, JBD, JW, MIG } from "./sites.js";
import type { BmOptions, BmState } from "./state.js";

type Step<T = void> = Generator<Site, T, undefined>;
type Cfg = RunConfig<BmOptions>;

/** folio_expected_refs(): 1 (the caller's) + nr_pages (page cache) + 1 if PG_private. */
function folio_expected_refs(f: BufferFolio): number {
  return 1 + f.nrPages + (f.test_private() ? 1 : 0);
}

/** A store into block `blk` through a pointer into `folio`; flags it when the folio was replaced. */
function write_block(t: Task, s: BmState, folio: BufferFolio, blk: number, who: string): void {
  const v = (s.updates[blk] ?? 0) + 1;
  s.updates[blk] = v;
  folio.write(blk, v);
  const cur = s.mapping.xas_load();
  if (cur !== folio)
    t.violated(
      `${who}: update of block ${blk} lands in ${folio.label}, which migration replaced by ${cur?.label ?? "nothing"}: the update is lost`,
    );
  else t.say(`block ${blk} now at version ${v} in ${folio.label}`);
}

// ---------------------------------------------------------------------------------------------
// Folio migration
// ---------------------------------------------------------------------------------------------

/**
 * __migrate_folio() (via filemap_migrate_folio(), or migrate_folio() from the fallback): refcount
 * check, folio_mc_copy(), __folio_migrate_mapping(), moving ->private, folio_migrate_flags().
 */
function* __migrate_folio(t: Task, s: BmState, withPrivate: boolean): Step<string> {
  const { src, dst, mapping } = s;
  yield MIG.migrateRefCheck;
  const expected = folio_expected_refs(src);
  const refs = src.refCount();
  if (refs !== expected) {
    t.say(`refcount ${refs}, expected ${expected}: -EAGAIN`);
    return "-EAGAIN (extra folio reference, __migrate_folio)";
  }
  // folio_mc_copy(dst, src): page by page, cond_resched() between pages.
  for (let p = 0; p < src.nrPages; p++) {
    yield MIG.copyPage;
    for (const b of src.blocksOfPage(p)) dst.write(b, src.read(b));
    t.say(() => `page ${p} copied (blocks ${src.blocksOfPage(p).join(", ")})`);
    if (p + 1 < src.nrPages) yield MIG.condResched;
  }
  // __folio_migrate_mapping()
  yield MIG.migrateMapping;
  if (!src.refFreeze(expected)) {
    t.say("folio_ref_freeze() failed: -EAGAIN");
    return "-EAGAIN (folio_ref_freeze failed)";
  }
  for (let b = 0; b < s.blocks; b++)
    if (src.read(b) !== dst.read(b))
      t.violated(
        `__folio_migrate_mapping(): block ${b} was written in ${src.label} after folio_mc_copy() copied it; the update is lost`,
      );
  dst.setMapping(mapping);
  dst.refUnfreeze(dst.refCount() + dst.nrPages);
  if (src.test_dirty()) {
    src.set_dirty(false);
    dst.set_dirty(true);
  }
  mapping.xas_store(dst);
  src.refUnfreeze(expected - src.nrPages);
  t.say(`page cache now holds ${dst.label}`);
  yield MIG.attachPrivate;
  if (withPrivate) {
    const bhs = src.folio_buffers();
    src.setPrivate(null);
    dst.setPrivate(bhs);
  }
  return "success";
}

/** __buffer_migrate_folio(mapping, dst, src, MIGRATE_ASYNC, check_refs = true). */
function* __buffer_migrate_folio(t: Task, s: BmState, cfg: Cfg): Step<string> {
  const { src, dst, mapping } = s;
  const o = cfg.options;
  const lock = mapping.i_private_lock;
  yield MIG.refCheck;
  const head = src.folio_buffers();
  if (head === null) throw new Error("the modeled folio always has buffers here");
  const expected = folio_expected_refs(src);
  const refs = src.refCount();
  if (refs !== expected) {
    t.say(`refcount ${refs}, expected ${expected}: -EAGAIN`);
    return "-EAGAIN (extra folio reference)";
  }
  if (o.metaCheck === "head") {
    yield MIG.metaHead;
    if (head[0]!.get().meta) {
      t.say("buffer_meta(head): -EAGAIN");
      return "-EAGAIN (buffer_meta(head))";
    }
  }
  // buffer_migrate_lock_buffers(head, MIGRATE_ASYNC)
  for (let i = 0; i < head.length; i++) {
    yield o.metaCheck === "all" ? MIG.trylockMeta : MIG.trylock;
    const bh = head[i]!;
    let fail = "";
    if (o.metaCheck === "all" && bh.get().meta) fail = `buffer_meta(bh ${bh.blocknr})`;
    else if (!bh.trylock(t)) fail = `buffer ${bh.blocknr} locked`;
    if (fail !== "") {
      for (let k = 0; k < i; k++) head[k]!.unlock(t);
      t.say(`${fail}: unlock the buffers taken, -EAGAIN`);
      return `-EAGAIN (${fail})`;
    }
  }
  const holdToEnd = o.privateLockUntil === "end";
  let rc = "success";
  let invalidated = false;
  if (o.bhMigrate) {
    // migrating = test_and_set_bit_lock(BH_Migrate, &head->b_state); VM_WARN_ON_ONCE(migrating);
    yield MIG.setMigrate;
    if (head[0]!.get().migrate) t.warn("VM_WARN_ON_ONCE(migrating): BH_Migrate already set");
    head[0]!.set({ migrate: true });
  }
  // recheck_buffers:
  for (;;) {
    yield* spin_lock(t, lock, MIG.spinLock);
    let busy: BufferHead | null = null;
    for (const bh of head) {
      yield MIG.bcount;
      const c = bh.count();
      if (c !== 0) {
        busy = bh;
        t.say(`buffer ${bh.blocknr}: b_count ${c}: busy`);
        break;
      }
    }
    if (busy === null) t.say("no buffer referenced");
    if (!holdToEnd) {
      yield o.bhMigrate ? MIG.unlockAfterCheck : MIG.unlockAfterLoop;
      spinRelease(t, lock);
    }
    if (busy === null) break;
    if (invalidated) {
      rc = "-EAGAIN (buffer referenced after invalidate_bh_lrus)";
      break;
    }
    if (holdToEnd) {
      yield MIG.unlockBusy;
      spinRelease(t, lock);
    }
    yield MIG.invalidate;
    const n = invalidate_bh_lrus(s.lrus);
    t.say(`${n} LRU reference(s) dropped`);
    invalidated = true;
  }
  if (rc === "success") {
    rc = yield* __migrate_folio(t, s, true);
    if (rc === "success")
      for (const bh of head) {
        yield MIG.setBh;
        bh.folio_set_bh(dst, bh.bh_offset);
        t.say(`buffer ${bh.blocknr} -> ${dst.label}`);
      }
  }
  // unlock_buffers:
  if (holdToEnd) {
    yield MIG.unlockEnd;
    spinRelease(t, lock);
  }
  if (o.bhMigrate) {
    yield MIG.clearMigrate;
    head[0]!.set({ migrate: false });
  }
  yield MIG.unlockBuffers;
  for (const bh of head) bh.unlock(t);
  return rc;
}

/** fallback_migrate_folio(): a mapping without ->migrate_folio (MIGRATE_ASYNC). */
function* fallback_migrate_folio(t: Task, s: BmState): Step<string> {
  const { src } = s;
  yield MIG.fallback;
  if (src.test_dirty()) {
    t.say("dirty folio and not MIGRATE_SYNC: -EBUSY");
    return "-EBUSY (dirty folio)";
  }
  // filemap_release_folio() -> ext4_release_folio() -> jbd2_journal_try_to_free_buffers()
  const head = src.folio_buffers();
  if (head !== null) {
    for (const bh of head)
      if (bh.get().jbd) {
        t.say(`buffer ${bh.blocknr} has a journal_head: cannot release`);
        return "-EBUSY (journal_head attached)";
      }
    // try_to_free_buffers() -> drop_buffers(): buffer_busy() = b_count | BH_Dirty | BH_Lock
    for (const bh of head)
      if (bh.count() !== 0 || bh.get().dirty || bh.locked()) {
        t.say(`buffer ${bh.blocknr} busy: cannot release`);
        return "-EBUSY (buffer busy)";
      }
    src.setPrivate(null);
    for (const bh of head) bh.folio_set_bh(null, bh.bh_offset);
    t.say("buffers freed (try_to_free_buffers)");
  }
  // migrate_folio() -> __migrate_folio(mapping, dst, src, NULL, mode)
  return yield* __migrate_folio(t, s, false);
}

/** migrate_pages() of one isolated folio: unmap (lock), move_to_new_folio(), move/undo. */
function* migrate_pages(t: Task, s: BmState, cfg: Cfg): Step {
  const { src, dst } = s;
  yield MIG.unmap;
  if (!src.trylock(t)) {
    t.say("src folio locked: -EAGAIN");
    s.result = "-EAGAIN (src folio locked)";
    return;
  }
  if (!dst.trylock(t)) throw new Error("the new folio is private to migration");
  let rc: string;
  if (s.kind === "file" && !cfg.options.journalledMigrate) rc = yield* fallback_migrate_folio(t, s);
  else rc = yield* __buffer_migrate_folio(t, s, cfg);
  s.result = rc;
  if (rc === "success") {
    yield MIG.done;
    src.setMapping(null);
    dst.unlock(t);
    dst.put();
    src.unlock(t);
    src.put();
    t.say(() => `${src.label} refcount ${src.peekRef()}${src.peekRef() === 0 ? ": freed" : ""}`);
  } else {
    yield MIG.undo;
    dst.unlock(t);
    src.unlock(t);
  }
}

// ---------------------------------------------------------------------------------------------
// Buffer lookup
// ---------------------------------------------------------------------------------------------

/**
 * bdev_getblk() -> __find_get_block() [lookup_bh_lru(), __find_get_block_slow(), bh_lru_install()],
 * and __getblk_slow() -> grow_buffers() when the folio had no buffer yet.
 */
function* bdev_getblk(t: Task, s: BmState, cfg: Cfg, blk: number, lru: BhLru): Step<BufferHead> {
  const lock = s.mapping.i_private_lock;
  for (let attempt = 0; attempt < 3; attempt++) {
    yield BUF.lookupLru;
    const hit = lru.lookup(blk);
    if (hit !== null) {
      t.say(`LRU hit: buffer ${blk}`);
      return hit;
    }
    t.say("LRU miss");
    yield BUF.getFolio;
    const folio = s.mapping.filemap_get_folio();
    if (folio === null) throw new Error("the modeled block is always cached");
    t.say(() => `got ${folio.label} (refcount ${folio.peekRef()})`);
    if (cfg.params.udelay! > 0) yield* udelay(t, cfg.params.udelay!, BUF.udelay);
    // 7ffe3de53a88: atomic callers serialize with i_private_lock, the others with the folio lock.
    const atomic = !cfg.options.bhMigrate || cfg.params.atomic === 1;
    if (atomic) yield* spin_lock(t, lock, BUF.spinLock);
    else yield* folio_lock(t, folio, BUF.folioLockNonatomic);
    yield cfg.options.bhMigrate ? BUF.scanBhMigrate : BUF.scan;
    let found: BufferHead | null = null;
    const head = folio.folio_buffers();
    if (head === null) t.say("folio_buffers() == NULL: goto out_unlock");
    else if (cfg.options.bhMigrate && head[0]!.get().migrate) {
      // if (test_bit_acquire(BH_Migrate, &head->b_state)) { WARN_ON(!atomic); goto out_unlock; }
      if (!atomic) t.warn("__find_get_block_slow(): WARN_ON(!atomic): BH_Migrate seen under the folio lock");
      t.say("BH_Migrate set: the folio is being migrated, goto out_unlock (NULL)");
    } else
      for (const bh of head)
        if (bh.blocknr === blk && bh.get().mapped) {
          bh.get_bh();
          found = bh;
          t.say(() => `buffer ${blk}: get_bh -> b_count ${bh.b_count!.peek()}`);
          break;
        }
    if (atomic) {
      yield BUF.spinUnlock;
      spinRelease(t, lock);
    } else {
      yield BUF.folioUnlockNonatomic;
      folio.unlock(t);
    }
    yield BUF.folioPut;
    folio.put();
    if (found !== null) {
      yield BUF.lruInstall;
      lru.install(found);
      return found;
    }
    // __getblk_slow() -> grow_buffers() -> grow_dev_folio(): under the folio lock
    yield BUF.growGet;
    const f = s.mapping.filemap_get_folio()!;
    yield* folio_lock(t, f, BUF.growLock);
    yield BUF.growUnlock;
    if (f.folio_buffers() === null) throw new Error("grow_dev_folio(): a locked page-cache folio without buffers");
    f.unlock(t);
    f.put();
  }
  throw new Error("__getblk_slow(): no buffer after three lookups");
}

// ---------------------------------------------------------------------------------------------
// jbd2
// ---------------------------------------------------------------------------------------------

/**
 * jbd2_journal_get_write_access(handle, bh): jbd2_journal_add_journal_head(), do_get_write_access()
 * (lock_buffer, file on BJ_Reserved under b_state_lock, unlock_buffer), jbd2_journal_put_journal_head().
 * Left out: the lockless jbd2_write_access_granted() fast path (the buffer is not yet in the
 * running transaction here) and the frozen-data copy-out.
 */
function* jbd2_journal_get_write_access(t: Task, s: BmState, bh: BufferHead): Step<JournalHead> {
  yield JBD.addJh;
  const jh = jbd2_journal_add_journal_head(bh, s.jh);
  t.say(() => `journal_head attached: b_count ${bh.b_count!.peek()}`);
  yield* lock_buffer(t, bh, JBD.lockBuffer);
  yield JBD.fileReserved;
  jbd2_journal_grab_journal_head(bh);
  jh.update({ jlist: "BJ_Reserved" });
  bh.unlock(t);
  jbd2_journal_put_journal_head(bh, jh);
  return jh;
}

/** jbd2_journal_dirty_metadata() (under jh->b_state_lock: one step with its caller's bit updates). */
function jbd2_journal_dirty_metadata(jh: JournalHead): void {
  if (!jh.b_modified()) jh.update({ modified: true });
  jh.update({ jlist: "BJ_Metadata" });
}

/** kjournald2: commit the transaction that holds the buffer, then checkpoint it. */
function* kjournald2(t: Task, s: BmState): Step {
  const bh = s.bhs[s.M]!;
  const jh = s.jh;
  yield* jbd2_journal_wait_updates(t, s.transaction, JBD.commitLocked);
  // jbd2_journal_write_metadata_buffer(): new_folio = bh_in->b_folio (no folio/buffer lock)
  yield JBD.writeMeta;
  const logFolio = bh.b_folio() as BufferFolio;
  jh.update({ jlist: "BJ_Shadow" });
  t.say(`new_bh->b_folio = ${logFolio.label}`);
  // submit_bh(new_bh): the log block is the content of new_bh's folio
  yield JBD.logIo;
  const logged = logFolio.read(s.M);
  // The model's check: the updates made so far (read whichever way the check goes).
  const made = s.updates[s.M]!;
  const cur = s.mapping.xas_load();
  if (cur !== logFolio)
    t.violated(`jbd2 log buffer points to ${logFolio.label}, which no longer holds block ${s.M} (now in ${cur?.label ?? "nothing"})`);
  else if (logged !== made)
    t.violated(`jbd2 commits block ${s.M} at version ${logged}, without update ${made}: the metadata update is lost`);
  else t.say(`logged block ${s.M} at version ${logged}`);
  jh.update({ jlist: "BJ_Checkpoint" });
  // checkpoint: write the buffer home, then drop the journal_head (and its b_count reference)
  yield* lock_buffer(t, bh, JBD.cpLock);
  yield JBD.cpDone;
  bh.unlock(t);
  jh.update({ jlist: "BJ_None" });
  jbd2_journal_put_journal_head(bh, jh);
  t.say(() => `journal_head released: b_count ${bh.b_count!.peek()}`);
}

// ---------------------------------------------------------------------------------------------
// Buffer users
// ---------------------------------------------------------------------------------------------

/** writeback -> ext4_map_blocks() -> ext4_ext_map_blocks() -> ext4_find_extent() + ext4_ext_insert_extent(). */
function* ext4_ext_map_blocks(t: Task, s: BmState, cfg: Cfg): Step {
  const blk = s.M;
  // ext4_find_extent() -> read_extent_tree_block() -> sb_getblk_gfp() -> bdev_getblk()
  const bh = yield* bdev_getblk(t, s, cfg, blk, s.lrus[1]!);
  yield EXT.pHdr;
  const hdr = bh.b_folio() as BufferFolio;
  t.say(`path->p_hdr points into ${hdr.label}`);
  // ext4_ext_insert_extent() -> ext4_ext_get_access() -> jbd2_journal_get_write_access()
  const jh = yield* jbd2_journal_get_write_access(t, s, bh);
  yield EXT.modify;
  write_block(t, s, hdr, blk, "ext4_ext_insert_extent()");
  // ext4_ext_dirty() -> __ext4_handle_dirty_metadata()
  yield EXT.dirty;
  bh.set({ meta: true, uptodate: true });
  jbd2_journal_dirty_metadata(jh);
  yield EXT.drop;
  bh.put_bh();
  yield* jbd2_journal_stop(t, s.handle, EXT.stop);
}

/** __ext2_write_inode(): ext2_get_inode() -> sb_bread(); fill the raw inode; mark_buffer_dirty(); brelse(). */
function* ext2_write_inode(t: Task, s: BmState, cfg: Cfg): Step {
  const blk = s.M;
  const bh = yield* bdev_getblk(t, s, cfg, blk, s.lrus[1]!);
  yield EXT2.raw;
  const raw = bh.b_folio() as BufferFolio;
  t.say(`raw_inode points into ${raw.label}`);
  yield EXT2.fill;
  write_block(t, s, raw, blk, "__ext2_write_inode()");
  yield EXT2.dirty;
  bh.set({ dirty: true });
  (bh.b_folio() as BufferFolio).set_dirty(true);
  yield EXT2.brelse;
  bh.put_bh();
}

/**
 * ext4 data=journal buffered write of block 0 of the file: ext4_write_begin() (folio locked, buffers
 * journalled with do_journal_get_write_access()), the copy into the folio, ext4_journalled_write_end().
 */
function* ext4_journalled_write(t: Task, s: BmState): Step {
  const mapping = s.mapping;
  let folio: BufferFolio;
  for (;;) {
    yield JW.getFolio;
    folio = mapping.filemap_get_folio()!;
    yield* folio_lock(t, folio, JW.lock);
    if (folio.folio_mapping() !== mapping) {
      folio.unlock(t);
      folio.put();
      t.say(`${folio.label}->mapping != mapping (migrated): retry_grab`);
      continue;
    }
    if (folio.folio_buffers() === null) {
      // create_empty_buffers(): new buffer_heads (the model reuses the freed objects)
      for (const bh of s.bhs) bh.folio_set_bh(folio, bh.bh_offset);
      folio.setPrivate(s.bhs.slice());
      t.say("no buffers: create_empty_buffers()");
    }
    break;
  }
  const bh = folio.folio_buffers()![0]!;
  const jh = yield* jbd2_journal_get_write_access(t, s, bh);
  yield JW.copy;
  write_block(t, s, folio, 0, "copy_folio_from_iter_atomic()");
  yield JW.writeEnd;
  bh.set({ uptodate: true, meta: true });
  (bh.b_folio() as BufferFolio).set_dirty(true);
  jbd2_journal_dirty_metadata(jh);
  bh.set({ meta: false });
  yield JW.unlock;
  folio.unlock(t);
  folio.put();
  yield* jbd2_journal_stop(t, s.handle, JW.stop);
}

/** The threads of one run: migration, and the buffer user the variant asks for (with kjournald2 for ext4). */
export function threadsFor(cfg: Cfg): ThreadSpec<BmState, BmOptions>[] {
  const o = cfg.options;
  const threads: ThreadSpec<BmState, BmOptions>[] = [{ name: "migrate_pages", body: migrate_pages }];
  if (o.user === "ext4") {
    threads.push({ name: "ext4_ext_map_blocks", body: ext4_ext_map_blocks });
    threads.push({ name: "kjournald2", body: (t, s) => kjournald2(t, s) });
  } else if (o.user === "ext2") threads.push({ name: "ext2_write_inode", body: ext2_write_inode });
  else {
    threads.push({ name: "ext4_journalled_write", body: (t, s) => ext4_journalled_write(t, s) });
    threads.push({ name: "kjournald2", body: (t, s) => kjournald2(t, s) });
  }
  return threads;
}
