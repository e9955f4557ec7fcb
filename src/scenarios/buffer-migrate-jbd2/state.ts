/**
 * The modeled state of `buffer-migrate-jbd2` and the options its fixes and variants set: the
 * migrated folio (src) and its replacement (dst), the mapping they belong to (the block device's
 * or a data=journal file's) with i_private_lock, the folio's buffer_heads, the per-CPU bh LRUs,
 * the journal_head of the journalled buffer, the running jbd2 transaction with the buffer user's
 * handle, and the model's record of the updates made.
 */
import type { RunConfig } from "../../engine/task.js";
import { AddressSpace, BufferFolio } from "../../linux/address_space.js";
import { BhLru } from "../../linux/bh_lru.js";
import { BufferHead } from "../../linux/buffer_head.js";
import { Handle, Transaction } from "../../linux/jbd2.js";
import { JournalHead } from "../../linux/journal_head.js";

export const PAGE_SIZE = 4096;

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
  /**
   * The v6.15-rc4 series "fs/buffer: split pagecache lookups into atomic or blocking" (7ffe3de53a88 ..
   * 2d900efff915): migration sets BH_Migrate on the head buffer for the b_count check and the move and
   * drops i_private_lock right after the check; a lookup that may sleep (__find_get_block_nonatomic(),
   * bdev_getblk() with a blocking gfp) takes the folio lock instead of i_private_lock; an atomic one
   * (__find_get_block()) takes i_private_lock and bails out when BH_Migrate is set.
   */
  readonly bhMigrate: boolean;
  /** Who uses the buffers: ext4 + jbd2 on the block device, ext2 on the block device, or an ext4 data=journal file. */
  readonly user: "ext4" | "ext2" | "ext4-journalled";
}

/** Which modeled mapping the migrated folio belongs to. */
export type MappingKind = "bdev" | "file";

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
  /** The running jbd2 transaction and the buffer user's handle, started before the race. */
  readonly transaction: Transaction;
  readonly handle: Handle;
  /**
   * Updates made per block (the truth the page cache must hold); written by the user thread.
   * Plain state: its reads and writes are recorded field by field (engine/track.ts).
   */
  readonly updates: number[];
  /** Display: what migration returned. */
  result: string;
}

/** The mapping, block size, folio order and blocks per folio the options ask for. */
export function geometry(o: BmOptions): { kind: MappingKind; blockSize: number; order: number; blocks: number } {
  if (o.user === "ext4-journalled") return { kind: "file", blockSize: PAGE_SIZE, order: 0, blocks: 1 };
  const order = o.largeFolio && o.largeBdevFolios ? 1 : 0;
  const blockSize = o.user === "ext2" ? PAGE_SIZE : o.blockSize;
  return { kind: "bdev", blockSize, order, blocks: ((1 << order) * PAGE_SIZE) / blockSize };
}

/**
 * The state before the race: the folio in the page cache with its buffers attached (the buffer
 * the user updates is the last one, BH_Meta unless `fresh`, in the user's CPU's LRU when `lru`),
 * dst private to migration, the user's handle started on the running transaction.
 */
export function initialState(cfg: RunConfig<BmOptions>): BmState {
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
  const jh = new JournalHead(M);
  const transaction = new Transaction();
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
    jh,
    transaction,
    handle: transaction.startHandle(),
    updates: new Array<number>(g.blocks).fill(0),
    result: "not started",
  };
  return state;
}
