/**
 * struct buffer_head (include/linux/buffer_head.h, fs/buffer.c).
 *
 * State bits (v6.10 for the ext4 models; v6.15-rc1 for the buffer cache models): BH_Mapped, BH_New,
 * BH_Delay, BH_Unwritten, BH_Dirty, and for the block-device cache models BH_Uptodate, BH_Meta
 * (set by ext4's __ext4_handle_dirty_metadata()), BH_JBD (a journal_head is attached, ->b_private
 * points to it) and BH_Migrate (set on a folio's head buffer while buffer_migrate_folio_norefs()
 * migrates it, v6.15-rc4 2d900efff915). The bits of one buffer_head are one location.
 *
 * A buffer_head created with `BhCacheOptions` (the block-device cache models) also has:
 * - `b_count` (atomic_t): get_bh()/put_bh() are atomic_inc()/atomic_dec() whose result is unused,
 *   so they commute with each other; atomic_read() conflicts with them;
 * - `b_folio` and the offset of `b_data` in it (one location, written by folio_set_bh());
 * - BH_Lock (lock_buffer() may sleep; trylock_buffer() does not);
 * - `b_private`: the jbd2 journal_head, when BH_JBD is set.
 * A buffer_head created without options (the ext4 delalloc model) allocates no extra locations.
 *
 * Left out: the b_this_page ring (a folio's buffers are an array), b_blocknr changes, b_end_io,
 * b_assoc_map, BH_Req/BH_Async_*, and buffers larger than a page.
 */
import { access, blindAccess, LX, newLoc, R, W } from "../engine/access.js";
import type { Site } from "../engine/site.js";
import type { Holdable, Task, Waitable } from "../engine/task.js";
import { Counter } from "./atomic.js";
import { selfTracked } from "../engine/track.js";

export interface BhState {
  mapped: boolean;
  new: boolean;
  delay: boolean;
  unwritten: boolean;
  dirty: boolean;
  uptodate: boolean;
  meta: boolean;
  jbd: boolean;
  migrate: boolean;
}

/** What a buffer can point into: a folio, identified for display by its name. */
export interface BhFolio {
  readonly name: string;
}

/** Options of a block-device cache buffer_head. */
export interface BhCacheOptions {
  /** b_size in bytes. */
  readonly size: number;
  /** The folio it is attached to and the byte offset of b_data in it. */
  readonly folio: BhFolio;
  readonly offset: number;
  /** Initial b_count. */
  readonly count?: number;
  /** Initial state bits. */
  readonly bits?: Partial<BhState>;
}

export class BufferHead implements Waitable, Holdable {
  readonly name: string;
  private readonly loc: number;
  private readonly s: BhState = {
    mapped: false,
    new: false,
    delay: false,
    unwritten: false,
    dirty: false,
    uptodate: false,
    meta: false,
    jbd: false,
    migrate: false,
  };
  /** b_count; null for buffer_heads created without cache options. */
  readonly b_count: Counter | null = null;
  readonly b_size: number = 0;
  private readonly folioLoc: number = -1;
  private readonly lockLoc: number = -1;
  private folio: BhFolio | null = null;
  private offset = 0;
  /** Holder of BH_Lock, or null. */
  lockOwner: Task | null = null;
  /** Holdable: 2 when `t` holds BH_Lock (the only location lock_buffer records LX on). */
  holdMode(t: Task): number {
    return this.lockOwner === t ? 2 : 0;
  }
  /** ->b_private: the journal_head when BH_JBD is set (written with the state bits). */
  private priv: unknown = null;

  constructor(
    readonly blocknr: number,
    opts?: BhCacheOptions,
  ) {
    this.name = `BH_Lock (block ${blocknr})`;
    this.loc = newLoc(`bh[${blocknr}]`, this);
    if (opts !== undefined) {
      this.b_count = new Counter(`bh[${blocknr}].b_count`, opts.count ?? 0);
      this.b_size = opts.size;
      this.folioLoc = newLoc(`bh[${blocknr}].b_folio`, this);
      this.lockLoc = newLoc(`bh[${blocknr}].BH_Lock`, this);
      this.folio = opts.folio;
      this.offset = opts.offset;
      Object.assign(this.s, opts.bits ?? {});
    }
  }

  /** Reads the state bits (buffer_mapped(), buffer_delay(), buffer_meta(), ...). */
  get(): Readonly<BhState> {
    access(this.loc, R);
    return this.s;
  }
  /** Sets state bits (map_bh(), set_buffer_delay(), mark_buffer_dirty(), set_buffer_meta(), ...). */
  set(bits: Partial<BhState>): void {
    access(this.loc, W);
    Object.assign(this.s, bits);
  }
  /** Flags as the kernel would print them: `mapped|new|delay`, or `-`. */
  describe(): string {
    const on = (Object.keys(this.s) as (keyof BhState)[]).filter((k) => this.s[k]);
    return on.length > 0 ? on.join("|") : "-";
  }

  private cache(): Counter {
    if (this.b_count === null) throw new Error(`bh[${this.blocknr}] has no buffer-cache fields`);
    return this.b_count;
  }
  /** get_bh(): atomic_inc(&bh->b_count). */
  get_bh(): void {
    this.cache().add(1);
  }
  /** put_bh() / brelse() / __brelse(): atomic_dec(&bh->b_count). */
  put_bh(): void {
    this.cache().add(-1);
  }
  /** atomic_read(&bh->b_count). */
  count(): number {
    return this.cache().read();
  }

  /** bh->b_folio (and the offset of bh->b_data in it). */
  b_folio(): BhFolio | null {
    this.cache();
    access(this.folioLoc, R);
    return this.folio;
  }
  /** folio_set_bh(bh, folio, offset); null detaches (free_buffer_head()). */
  folio_set_bh(folio: BhFolio | null, offset: number): void {
    this.cache();
    access(this.folioLoc, W);
    this.folio = folio;
    this.offset = offset;
  }
  /** bh_offset(bh). */
  get bh_offset(): number {
    return this.offset;
  }

  /** The journal_head in ->b_private (read with the state bits). */
  b_private<T>(): T | null {
    access(this.loc, R);
    return this.priv as T | null;
  }
  /** set_buffer_jbd() + bh->b_private = jh, or clear_buffer_jbd() + NULL. */
  setPrivate(jh: unknown): void {
    access(this.loc, W);
    this.priv = jh;
    this.s.jbd = jh !== null;
  }

  /** Waitable: lock_buffer() may proceed when BH_Lock is clear. */
  canProceed(): boolean {
    return this.lockOwner === null;
  }
  /** Waitable: lock_buffer() is an exclusive operation on BH_Lock. */
  waited(): void {
    access(this.lockLoc, LX);
  }
  /** trylock_buffer(): test_and_set_bit_lock(BH_Lock). */
  trylock(t: Task): boolean {
    this.cache();
    access(this.lockLoc, LX);
    if (this.lockOwner !== null) return false;
    this.lockOwner = t;
    return true;
  }
  /** lock_buffer()'s taking of BH_Lock once its wait is over (blind: the caller learns nothing). */
  lockWaited(t: Task): void {
    this.cache();
    blindAccess(this.lockLoc, LX);
    if (this.lockOwner !== null) throw new Error(`lock_buffer(block ${this.blocknr}): still locked`);
    this.lockOwner = t;
  }
  /** buffer_locked(). */
  locked(): boolean {
    this.cache();
    access(this.lockLoc, R);
    return this.lockOwner !== null;
  }
  /** unlock_buffer(): clear_bit_unlock(BH_Lock) and wake waiters. */
  unlock(t: Task): void {
    blindAccess(this.lockLoc, LX);
    if (this.lockOwner !== t) throw new Error(`unlock_buffer(block ${this.blocknr}) by ${t.name}, which does not hold it`);
    this.lockOwner = null;
  }

  /** Display without recording accesses. */
  peek(): { count: number | null; folio: string; offset: number; locked: string; bits: string } {
    return {
      count: this.b_count?.peek() ?? null,
      folio: this.folio?.name ?? "-",
      offset: this.offset,
      locked: this.lockOwner?.name ?? "-",
      bits: this.describe(),
    };
  }
  peekFolio(): BhFolio | null {
    return this.folio;
  }
  peekPrivate<T>(): T | null {
    return this.priv as T | null;
  }
}

/** lock_buffer(): may sleep (__wait_on_bit_lock_io) until BH_Lock is clear. */
export function lock_buffer(t: Task, bh: BufferHead, at: Site): Generator<Site, void, undefined> {
  return t.made(at, lock_buffer_body(t, bh, at));
}

function* lock_buffer_body(t: Task, bh: BufferHead, at: Site): Generator<Site, void, undefined> {
  t.started();
  t.blockOn(bh, 1);
  t.sleeps = true;
  t.fence = true;
  yield at;
  bh.lockWaited(t);
}

// racelab objects record their own accesses (see engine/track.ts).
selfTracked(BufferHead);
