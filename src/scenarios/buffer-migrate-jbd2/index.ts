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
 */
import type { CheckResult } from "../../engine/check.js";
import { access, newLoc, R, W } from "../../engine/access.js";
import type { Claim, Fix, Scenario, SourceRef, Variant } from "../../engine/scenario.js";
import type { Site } from "../../engine/site.js";
import type { RunConfig, Task, Waitable } from "../../engine/task.js";
import { AddressSpace, BufferFolio } from "../../linux/address_space.js";
import { BhLru, invalidate_bh_lrus } from "../../linux/bh_lru.js";
import { BufferHead, lock_buffer } from "../../linux/buffer_head.js";
import { folio_lock } from "../../linux/folio.js";
import {
  jbd2_journal_add_journal_head,
  jbd2_journal_grab_journal_head,
  jbd2_journal_put_journal_head,
  JournalHead,
} from "../../linux/journal_head.js";
import { spin_lock, spinRelease } from "../../linux/locks.js";
import { BUF, EXT, EXT2, JBD, JW, MIG } from "./sites.js";
import { selfTracked } from "../../engine/track.js";

const PAGE_SIZE = 4096;

/** Options that fixes and variants set. */
export interface BmOptions {
  /**
   * Where __buffer_migrate_folio() releases i_private_lock: `end` (v6.15-rc1, ebdf4de5642fb6: at
   * unlock_buffers, after folio_set_bh()) or `after-check` (before ebdf4de5642fb6, and the v2 1/8
   * patch: right after the b_count loop).
   */
  readonly privateLockUntil: "end" | "after-check";
  /** The v2 1/8 buffer_meta() check: none, the head buffer only, or every buffer (willy). */
  readonly metaCheck: "none" | "head" | "all";
  /** ext4_journalled_aops has .migrate_folio = buffer_migrate_folio_norefs (v6.15-rc1). */
  readonly journalledMigrate: boolean;
  /** The block device page cache may hold large folios (v6.15-rc1: mapping_set_folio_min_order()). */
  readonly largeBdevFolios: boolean;
  /** Block size of the filesystem on the block device (4 KiB pages). */
  readonly blockSize: 4096 | 2048;
  /** The migrated block-device folio is a large (order-1, two-page) folio. */
  readonly largeFolio: boolean;
  /** Who uses the buffers: ext4 + jbd2 on the block device, ext2 on the block device, or an ext4 data=journal file. */
  readonly user: "ext4" | "ext2" | "ext4-journalled";
}

/** Which modeled mapping the migrated folio belongs to. */
type MappingKind = "bdev" | "file";

/** The transaction's handle count (t_updates) for the one handle modeled; kjournald2 waits on it. */
class Handle implements Waitable {
  readonly name = "the handle to stop (t_updates == 0)";
  private readonly loc: number;
  stopped = false;
  constructor() {
    this.loc = newLoc("transaction.t_updates");
  }
  canProceed(): boolean {
    return this.stopped;
  }
  /** Waitable: the commit reads t_updates. */
  waited(): void {
    access(this.loc, R);
  }
  /** jbd2_journal_stop(). */
  stop(): void {
    access(this.loc, W);
    this.stopped = true;
  }
  /** The commit's read of t_updates. */
  observe(): void {
    access(this.loc, R);
  }
}

/** The modeled state. */
export interface BmState {
  readonly kind: MappingKind;
  readonly blockSize: number;
  readonly blocks: number;
  /** The block the user thread updates (the last one of the folio). */
  readonly M: number;
  readonly mapping: AddressSpace;
  readonly src: BufferFolio;
  readonly dst: BufferFolio;
  readonly bhs: BufferHead[];
  /** CPU 0 runs migration, CPU 1 the buffer user, CPU 2 kjournald2. */
  readonly lrus: BhLru[];
  readonly jh: JournalHead;
  readonly handle: Handle;
  /** Updates made per block (the truth the page cache must hold); written by the user thread. */
  readonly updates: number[];
  readonly updatesLoc: number;
  /** Display: what migration returned. */
  result: string;
}

type Step<T = void> = Generator<Site, T, undefined>;
type Cfg = RunConfig<BmOptions>;

/** folio_expected_refs(): 1 (the caller's) + nr_pages (page cache) + 1 if PG_private. */
function folio_expected_refs(f: BufferFolio): number {
  return 1 + f.nrPages + (f.test_private() ? 1 : 0);
}

/** A store into block `blk` through a pointer into `folio`; flags it when the folio was replaced. */
function write_block(t: Task, s: BmState, folio: BufferFolio, blk: number, who: string): void {
  access(s.updatesLoc, W);
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
      yield MIG.unlockAfterLoop;
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
    if (cfg.params.udelay === 1) yield BUF.udelay;
    yield* spin_lock(t, lock, BUF.spinLock);
    yield BUF.scan;
    let found: BufferHead | null = null;
    const head = folio.folio_buffers();
    if (head === null) t.say("folio_buffers() == NULL: goto out_unlock");
    else
      for (const bh of head)
        if (bh.blocknr === blk && bh.get().mapped) {
          bh.get_bh();
          found = bh;
          t.say(() => `buffer ${blk}: get_bh -> b_count ${bh.b_count!.peek()}`);
          break;
        }
    yield BUF.spinUnlock;
    spinRelease(t, lock);
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
  t.blockOn(s.handle, 0);
  yield JBD.commitLocked;
  s.handle.observe();
  // jbd2_journal_write_metadata_buffer(): new_folio = bh_in->b_folio (no folio/buffer lock)
  yield JBD.writeMeta;
  const logFolio = bh.b_folio() as BufferFolio;
  jh.update({ jlist: "BJ_Shadow" });
  t.say(`new_bh->b_folio = ${logFolio.label}`);
  // submit_bh(new_bh): the log block is the content of new_bh's folio
  yield JBD.logIo;
  access(s.updatesLoc, R);
  const logged = logFolio.read(s.M);
  const cur = s.mapping.xas_load();
  if (cur !== logFolio)
    t.violated(`jbd2 log buffer points to ${logFolio.label}, which no longer holds block ${s.M} (now in ${cur?.label ?? "nothing"})`);
  else if (logged !== s.updates[s.M])
    t.violated(`jbd2 commits block ${s.M} at version ${logged}, without update ${s.updates[s.M]}: the metadata update is lost`);
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
  yield EXT.stop;
  s.handle.stop();
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
    t.blockOn(folio, 1);
    t.sleeps = true;
    t.fence = true;
    yield JW.lock;
    if (!folio.trylock(t)) throw new Error("folio_lock: scheduled while locked");
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
  yield JW.stop;
  s.handle.stop();
}

// ---------------------------------------------------------------------------------------------
// Fixes, variants, claims
// ---------------------------------------------------------------------------------------------

const SEED: SourceRef = {
  seed: "000_714910fe023abd01.txt",
  author: "Luis Chamberlain",
  date: "2025-04-10",
  subject: "[v2,1/8] migrate: fix skipping metadata buffer heads on migration",
  link: "https://lore.kernel.org/r/20250410014945.2140781-2-mcgrof@kernel.org",
};
const from = (author: string, date: string, quote: string): SourceRef => ({ ...SEED, author, date, quote });

const fixes: Fix<BmOptions>[] = [
  {
    id: "baseline",
    title: "v6.15-rc1",
    description:
      "Mainline at v6.15-rc1: i_private_lock held from the b_count check until folio_set_bh() moved every buffer " +
      "(ebdf4de5642fb6); bdev folios may be large; ext4_journalled_aops migrate with buffer_migrate_folio_norefs.",
    source: from("Luis Chamberlain", "2025-04-10", "The commit ebdf4de5642fb6 (...) added a spin lock to prevent races with page migration"),
    options: {},
  },
  {
    id: "no-private-lock",
    title: "before ebdf4de5642fb6",
    description:
      "i_private_lock released right after the b_count loop, as before ebdf4de5642fb6 (\"mm: migrate: fix reference " +
      "check race between __find_get_block() and migration\", 2019): a lookup can take a reference after the check.",
    source: from(
      "Luis Chamberlain",
      "2025-04-10",
      "we can can reproduce fs corruption on ext4 by just removing the spinlock and stress testing the filesystem with generic/750",
    ),
    options: { privateLockUntil: "after-check" },
  },
  {
    id: "meta-head",
    title: "v2 1/8: buffer_meta(head), unlock moved",
    description:
      "The v2 1/8 patch: `if (buffer_meta(head)) return -EAGAIN;` after the refcount check, and spin_unlock() moved " +
      "back to right after the b_count loop.",
    source: from("Luis Chamberlain", "2025-04-10", "By checking for buffer_meta() and bailing on migration we fix the existing racy ext4 corruption"),
    options: { metaCheck: "head", privateLockUntil: "after-check" },
  },
  {
    id: "meta-all-buffers",
    title: "v2 1/8 with the meta test on every buffer",
    description:
      "Matthew Wilcox's change to the v2 1/8 patch: `if (buffer_meta(bh)) goto unlock;` for every buffer inside " +
      "buffer_migrate_lock_buffers() instead of the head-only test; the moved spin_unlock() of the patch is kept.",
    source: from(
      "Matthew Wilcox",
      "2025-04-10",
      "This isn't enough on filesystems with bs<PS. You're only testing the meta bit on the first buffer_head on the folio",
    ),
    options: { metaCheck: "all", privateLockUntil: "after-check" },
  },
  {
    id: "journalled-aops-no-migrate",
    title: "drop .migrate_folio from ext4_journalled_aops",
    description:
      "Luis Chamberlain's alternative: ext4_journalled_aops without .migrate_folio, so data=journal files migrate " +
      "through fallback_migrate_folio(); everything else as v6.15-rc1.",
    source: from("Luis Chamberlain", "2025-04-14", "the other alternative for now is to just disable migration for jbd2"),
    options: { journalledMigrate: false },
  },
  {
    id: "no-large-bdev-folios",
    title: "no large folios in the block device page cache",
    description:
      "Jan Kara's suggestion for the sleep-in-atomic reports: keep the block device page cache at its minimum folio " +
      "order (mapping_set_folio_order_range(min, min), as Matthew Wilcox proposed), everything else as v6.15-rc1.",
    source: from(
      "Jan Kara",
      "2025-04-15",
      "If you look for a fast way to fixup sleep in atomic issues, then I'd suggest just disabling large pages for block device page cache.",
    ),
    options: { largeBdevFolios: false },
  },
];

const variants: Variant<BmOptions>[] = [
  {
    id: "default",
    title: "ext4 on the block device, 4096-byte blocks",
    description:
      "The block device mapping's 4 KiB folio holds one 4096-byte ext4 extent block (the buffer is its head); an " +
      "extent update journals it while compaction migrates the folio.",
    options: {},
  },
  {
    id: "bs-2048",
    title: "ext4 on the block device, 2048-byte blocks",
    description: "Two 2048-byte blocks per 4 KiB folio; the extent block journalled is the second buffer, not the head.",
    options: { blockSize: 2048 },
  },
  {
    id: "large-folio",
    title: "ext4 on the block device, large block-device folio",
    description:
      "The folio is an order-1 (8 KiB) folio in the block device page cache with two 4096-byte blocks; the extent " +
      "block is the second. folio_mc_copy() calls cond_resched() between its pages.",
    options: { largeFolio: true },
  },
  {
    id: "ext2",
    title: "ext2 on the block device",
    description:
      "A simple buffer_head filesystem: __ext2_write_inode() gets the inode table block with sb_bread(), stores into " +
      "it, mark_buffer_dirty(), brelse() — no journal, no buffer lock; it relies on migration's i_private_lock.",
    options: { user: "ext2" },
  },
  {
    id: "journalled-file",
    title: "ext4 data=journal file mapping",
    description:
      "The migrated folio belongs to a data=journal file (ext4_journalled_aops); a buffered write journals block 0 " +
      "under the folio lock and kjournald2 commits and checkpoints it.",
    options: { user: "ext4-journalled" },
  },
];

const LOST = /^invariant: .*(the update is lost|the metadata update is lost|a metadata update was lost)/;
const JBD_STALE = /^invariant: jbd2 log buffer points to/;
const SLEEP = /^sleep-in-atomic: /;
const has = (r: CheckResult, re: RegExp) => Object.keys(r.findings).some((k) => re.test(k));
const PARAM_DEFAULTS: Record<string, number> = { udelay: 0, lru: 1, fresh: 0 };
const paramText = (r: CheckResult) => {
  const p = Object.entries(r.params).filter(([k, v]) => PARAM_DEFAULTS[k] !== v);
  return p.length === 0 ? "" : ` (${p.map(([k, v]) => `${k}=${v}`).join(", ")})`;
};
/** What kinds of findings a check has, in words. */
const kinds = (r: CheckResult) => {
  const out: string[] = [];
  if (has(r, LOST)) out.push("lost update");
  if (has(r, JBD_STALE)) out.push("stale jbd2 log buffer");
  if (has(r, SLEEP)) out.push("sleep-in-atomic");
  const other = Object.keys(r.findings).filter((k) => !LOST.test(k) && !JBD_STALE.test(k) && !SLEEP.test(k));
  return [...out, ...other].join(", ");
};
const summary = (r: CheckResult) =>
  `${r.fix}/${r.variant}${paramText(r)}: ${r.verdict}` +
  (r.violations > 0 ? ` in ${r.violations} of ${r.executions} executions (${kinds(r)})` : ` in all ${r.executions} executions`);
const BDEV_VARIANTS = ["default", "bs-2048", "large-folio", "ext2"];

const claims: Claim[] = [
  {
    id: "private-lock-closes-race",
    statement:
      "ebdf4de5642fb6's i_private_lock closes the race it was added for: without it a __find_get_block() reference " +
      "taken after the b_count check lets an update land in the old folio.",
    source: from(
      "Luis Chamberlain",
      "2025-04-10",
      "we can can reproduce fs corruption on ext4 by just removing the spinlock and stress testing the filesystem",
    ),
    expected: "no-private-lock loses an update on default and ext2; baseline loses none",
    evaluate(ctx) {
      const rs = ["default", "ext2"].flatMap((v) => [ctx.check("no-private-lock", v), ctx.check("baseline", v)]);
      const holds = rs.every((r) => (r.fix === "no-private-lock" ? has(r, LOST) : r.verdict === "pass" && r.complete));
      return { observed: rs.map(summary).join("; "), holds };
    },
  },
  {
    id: "meta-head-fixes-ext4-corruption",
    statement:
      "Checking buffer_meta() and bailing out of migration fixes the racy ext4 corruption (jbd2's buffers are the only " +
      "ones __ext4_handle_dirty_metadata() marks BH_Meta).",
    source: from(
      "Luis Chamberlain",
      "2025-04-10",
      "By checking for buffer_meta() and bailing on migration we fix the existing racy ext4 corruption",
    ),
    expected: "meta-head loses no ext4 metadata update on any block-device variant",
    evaluate(ctx) {
      const rs = ["default", "bs-2048", "large-folio"].flatMap((v) => [ctx.check("meta-head", v), ctx.check("meta-head", v, { fresh: 1 })]);
      const lost = rs.filter((r) => has(r, LOST));
      return {
        observed:
          lost.length === 0
            ? `no lost update in ${rs.length} checks`
            : `lost updates in ${lost.length} of ${rs.length} checks: ${lost.map((r) => `${r.variant}${paramText(r)}`).join(", ")}; ` +
              `passes only where the journalled buffer is the head and already BH_Meta: ` +
              rs.filter((r) => !has(r, LOST)).map((r) => `${r.variant}${paramText(r)}`).join(", "),
        holds: lost.length === 0,
      };
    },
  },
  {
    id: "meta-head-bs-lt-ps",
    statement:
      "The v2 1/8 buffer_meta(head) test is not enough when block size < page size: only the first buffer is tested.",
    source: from(
      "Matthew Wilcox",
      "2025-04-10",
      "This isn't enough on filesystems with bs<PS. You're only testing the meta bit on the first buffer_head on the folio and not on the rest of them.",
    ),
    expected: "meta-head loses an update of the second (BH_Meta) buffer on bs-2048 but not on default; meta-all-buffers loses none on bs-2048",
    evaluate(ctx) {
      const small = ctx.check("meta-head", "bs-2048");
      const big = ctx.check("meta-head", "default");
      const all = ctx.check("meta-all-buffers", "bs-2048");
      const second = /update of block 1 lands|block 1 was written/;
      return {
        observed: [small, big, all].map(summary).join("; "),
        holds:
          has(small, LOST) && Object.keys(small.findings).some((k) => second.test(k)) && big.verdict === "pass" && all.verdict === "pass",
      };
    },
  },
  {
    id: "meta-head-breaks-ext2",
    statement: "The v2 1/8 patch's moved spin_unlock() breaks simple filesystems such as ext2.",
    source: from("Jan Kara", "2025-04-10", "No, you've just broken all simple filesystems (like ext2) with this patch."),
    expected: "meta-head loses ext2's inode update; baseline does not",
    evaluate(ctx) {
      const v2 = ctx.check("meta-head", "ext2");
      const base = ctx.check("baseline", "ext2");
      return { observed: `${summary(v2)}; ${summary(base)}`, holds: has(v2, LOST) && base.verdict === "pass" && base.complete };
    },
  },
  {
    id: "journalled-aops-no-migrate-bdev",
    statement:
      "Dropping .migrate_folio from ext4_journalled_aops does not change the block device mapping case, where the corruption is.",
    source: from(
      "Jan Kara",
      "2025-04-15",
      "I suspect this won't fix the corruption you're seeing because that happens in the block device mapping.",
    ),
    expected: "journalled-aops-no-migrate explores exactly what baseline explores on every block-device variant; it changes only journalled-file",
    evaluate(ctx) {
      const same = BDEV_VARIANTS.map((v) => {
        const a = ctx.check("baseline", v);
        const b = ctx.check("journalled-aops-no-migrate", v);
        return {
          v,
          eq: a.executions === b.executions && a.verdict === b.verdict && JSON.stringify(a.findings) === JSON.stringify(b.findings),
        };
      });
      const jb = ctx.check("baseline", "journalled-file");
      const jn = ctx.check("journalled-aops-no-migrate", "journalled-file");
      const changed = jb.executions !== jn.executions;
      return {
        observed:
          same.map((x) => `${x.v}: ${x.eq ? "identical" : "DIFFERENT"}`).join(", ") +
          `; journalled-file: baseline ${jb.executions} executions (${jb.verdict}), fix ${jn.executions} (${jn.verdict})`,
        holds: same.every((x) => x.eq) && changed,
      };
    },
  },
  {
    id: "large-folio-sleep-in-atomic",
    statement:
      "With large block-device folios, baseline can sleep (cond_resched() in folio_mc_copy()) while holding i_private_lock; " +
      "without large bdev folios it cannot.",
    source: from(
      "Jan Kara",
      "2025-04-15",
      "That is the new functionality that actually triggered all these investigations and sleep-in-atomic reports.",
    ),
    expected: "baseline/large-folio reports sleep-in-atomic; no-large-bdev-folios/large-folio does not",
    evaluate(ctx) {
      const b = ctx.check("baseline", "large-folio");
      const f = ctx.check("no-large-bdev-folios", "large-folio");
      const d = ctx.check("baseline", "default");
      return {
        observed: [b, f, d].map(summary).join("; "),
        holds: has(b, SLEEP) && !has(f, SLEEP) && f.complete && !has(d, SLEEP),
      };
    },
  },
  {
    id: "jh-reference-protects-jbd2",
    statement:
      "jbd2's journal_head holds a b_count reference, which protects the buffer jbd2 is writing from migration.",
    source: from(
      "Jan Kara",
      "2025-04-10",
      "jbd2 holds bh reference (its private jh structure attached to bh->b_private holds it) and that is expected to protect jbd2 from anybody else mucking with the bh.",
    ),
    expected: "in no fix and no variant does kjournald2 log through a buffer whose folio migration replaced",
    evaluate(ctx) {
      const rs = fixes.flatMap((f) => variants.filter((v) => v.id !== "ext2").map((v) => ctx.check(f.id, v.id)));
      const bad = rs.filter((r) => has(r, JBD_STALE));
      return {
        observed:
          bad.length === 0
            ? `no stale jbd2 log buffer in ${rs.length} checks (every fix on every variant with kjournald2), ` +
              `${rs.filter((r) => has(r, LOST)).length} of which lose the update through the lookup path before jbd2 holds the buffer`
            : bad.map(summary).join("; "),
        holds: bad.length === 0 && rs.every((r) => r.complete),
      };
    },
  },
  {
    id: "spinlock-does-not-protect",
    statement:
      "The spin lock doesn't in the end protect against corruption: with udelay(2000) before spin_lock() in " +
      "__find_get_block_slow() the same ext4 corruption reproduces on vanilla Linux.",
    source: from(
      "Luis Chamberlain",
      "2025-04-10",
      "It turns out that the spin lock doesn't in the end protect against corruption, it *helps* reduce the possibility",
    ),
    expected: "baseline loses an update with the delay (and without it, per Davidlohr Bueso's report on 6.15-rc1)",
    evaluate(ctx) {
      const settings: Record<string, number>[] = [{}, { udelay: 1 }, { lru: 0 }, { udelay: 1, lru: 0 }];
      const rs = ["default", "bs-2048", "large-folio", "ext2"].flatMap((v) => settings.map((p) => ctx.check("baseline", v, p)));
      const lost = rs.filter((r) => has(r, LOST));
      const execs = (p: Record<string, number>) =>
        rs.filter((r) => JSON.stringify(r.params) === JSON.stringify({ ...PARAM_DEFAULTS, ...p })).reduce((n, r) => n + r.executions, 0);
      return {
        observed:
          lost.length === 0
            ? `no lost update in any of ${rs.length} exhaustive checks of baseline (default, bs-2048, large-folio, ext2; ` +
              `with and without udelay(2000), buffer in an LRU or not): ${execs({})} executions without the delay, ` +
              `${execs({ udelay: 1 })} with it — the window modeled is closed by i_private_lock either way`
            : lost.map(summary).join("; "),
        holds: lost.length > 0,
      };
    },
  },
];

function geometry(o: BmOptions): { kind: MappingKind; blockSize: number; order: number; blocks: number } {
  if (o.user === "ext4-journalled") return { kind: "file", blockSize: PAGE_SIZE, order: 0, blocks: 1 };
  const order = o.largeFolio && o.largeBdevFolios ? 1 : 0;
  const blockSize = o.user === "ext2" ? PAGE_SIZE : o.blockSize;
  return { kind: "bdev", blockSize, order, blocks: ((1 << order) * PAGE_SIZE) / blockSize };
}

export const bufferMigrateJbd2: Scenario<BmState, BmOptions> = {
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
      description: "1: Luis Chamberlain's udelay(2000) before spin_lock() in __find_get_block_slow() as an explicit step",
      default: 0,
      min: 0,
      max: 1,
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
  ],
  defaults: {
    privateLockUntil: "end",
    metaCheck: "none",
    journalledMigrate: true,
    largeBdevFolios: true,
    blockSize: 4096,
    largeFolio: false,
    user: "ext4",
  },
  fixes,
  variants,
  setup(cfg) {
    const o = cfg.options;
    const g = geometry(o);
    const M = g.blocks - 1;
    const nrPages = 1 << g.order;
    const src = new BufferFolio("src", 0, g.order, 1 + nrPages + 1, g.blocks);
    const dst = new BufferFolio("dst", 0, g.order, 1, g.blocks);
    const mapping = new AddressSpace(g.kind === "bdev" ? "bd_mapping" : "file mapping", src);
    const lrus = [0, 1, 2].map((c) => new BhLru(c));
    const inLru = g.kind === "bdev" && cfg.params.lru === 1;
    const meta =
      o.user === "ext4" ? cfg.params.fresh !== 1 : false; /* ext2 never sets BH_Meta; write_end_fn() clears it for journalled data */
    const bhs = Array.from(
      { length: g.blocks },
      (_, i) =>
        new BufferHead(i, {
          size: g.blockSize,
          folio: src,
          offset: i * g.blockSize,
          count: i === M && inLru ? 1 : 0,
          bits: { mapped: true, uptodate: true, meta: i === M && meta },
        }),
    );
    if (inLru) lrus[1]!.preload(bhs[M]!);
    src.initPrivate(bhs, mapping);
    const state: BmState = {
      kind: g.kind,
      blockSize: g.blockSize,
      blocks: g.blocks,
      M,
      mapping,
      src,
      dst,
      bhs,
      lrus,
      jh: new JournalHead(M),
      handle: new Handle(),
      updates: new Array<number>(g.blocks).fill(0),
      updatesLoc: newLoc("updates (model)"),
      result: "not started",
    };
    const threads: { name: string; body: (t: Task, s: BmState, c: Cfg) => Step }[] = [
      { name: "migrate_pages", body: migrate_pages },
    ];
    if (o.user === "ext4") {
      threads.push({ name: "ext4_ext_map_blocks", body: ext4_ext_map_blocks });
      threads.push({ name: "kjournald2", body: (t, s) => kjournald2(t, s) });
    } else if (o.user === "ext2") threads.push({ name: "ext2_write_inode", body: ext2_write_inode });
    else {
      threads.push({ name: "ext4_journalled_write", body: (t, s) => ext4_journalled_write(t, s) });
      threads.push({ name: "kjournald2", body: (t, s) => kjournald2(t, s) });
    }
    return { state, threads };
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
    "Other paths that touch block-device buffers without a lookup (e.g. block device writes, readahead, truncate_inode_pages, other jbd2 users, nilfs2) are not modeled: what the model rules out is limited to the paths above.",
  ],
};

// racelab objects record their own accesses (see engine/track.ts).
selfTracked(Handle);
