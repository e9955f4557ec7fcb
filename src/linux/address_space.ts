/**
 * A page cache (struct address_space) holding one folio, and that folio's contents.
 *
 * Source (v6.15-rc1 semantics): include/linux/fs.h (struct address_space: i_pages, i_private_lock),
 * mm/filemap.c (__filemap_get_folio -> filemap_get_entry: xas_load, folio_try_get, xas_reload),
 * include/linux/pagemap.h (folio_attach_private, folio_detach_private, folio_get_private),
 * include/linux/buffer_head.h (folio_buffers). See the scenario's SOURCES.md for the versions read.
 *
 * Modeled:
 * - `AddressSpace`: the i_pages slot of the modeled index (one location; a large folio's
 *   multi-index entry is one slot) and `i_private_lock`.
 * - `BufferFolio`: a Folio (PG_locked, refcount) plus what migration moves: the contents of each block
 *   (a version number per block: the number of updates the block's bytes contain), ->private (the
 *   buffer_heads, PG_private) and ->mapping.
 *
 * A page-cache lookup (filemap_get_entry's RCU walk with its retry loop) is one atomic step that
 * ends holding a reference on the folio then in the slot; the transient reference a walk takes on a
 * folio it then drops (xas_reload mismatch) is left out (it can only make migration fail).
 */
import { access, blindAccess, LX, newLoc, R, W } from "../engine/access.js";
import type { Task } from "../engine/task.js";
import type { BhFolio, BufferHead } from "./buffer_head.js";
import { Folio } from "./folio.js";
import { Spinlock } from "./locks.js";
import { selfTracked } from "../engine/track.js";

export class BufferFolio extends Folio implements BhFolio {
  override readonly name: string;
  /** Pages in the folio (folio_nr_pages()). */
  readonly nrPages: number;
  /** Blocks per page (PAGE_SIZE / block size, at least 1). */
  readonly blocksPerPage: number;
  private readonly dataLocs: number[];
  private readonly data: number[];
  private readonly privLoc: number;
  private priv: BufferHead[] | null = null;
  private readonly mappingLoc: number;
  private mapping: AddressSpace | null = null;
  private readonly flagsLoc: number;
  private dirty = false;

  constructor(
    readonly label: string,
    index: number,
    order: number,
    refcount: number,
    readonly blocks: number,
  ) {
    super(index, order, refcount);
    this.name = `folio ${label}`;
    this.nrPages = 1 << order;
    this.blocksPerPage = Math.max(1, blocks / this.nrPages);
    this.dataLocs = Array.from({ length: blocks }, (_, i) => newLoc(`${label}.data[${i}]`, this));
    this.data = new Array<number>(blocks).fill(0);
    this.privLoc = newLoc(`${label}.private`, this);
    this.mappingLoc = newLoc(`${label}.mapping`, this);
    this.flagsLoc = newLoc(`${label}.PG_dirty`, this);
  }

  /** Setup only: attach buffers (the PG_private reference is counted in the initial refcount). */
  initPrivate(bhs: BufferHead[] | null, mapping: AddressSpace | null): void {
    this.priv = bhs;
    this.mapping = mapping;
  }

  /** folio_trylock(). */
  trylock(t: Task): boolean {
    access(this.lockLoc, LX);
    if (this.owner !== null) return false;
    this.owner = t;
    return true;
  }
  /** folio_unlock() inside a step. */
  unlock(t: Task): void {
    blindAccess(this.lockLoc, LX);
    if (this.owner !== t) throw new Error(`folio_unlock(${this.label}) by ${t.name}, which does not hold it`);
    this.owner = null;
  }

  /** The contents of block `i` of the folio (its update version). */
  read(i: number): number {
    access(this.dataLocs[i]!, R);
    return this.data[i]!;
  }
  /** Writes block `i`'s contents. */
  write(i: number, v: number): void {
    access(this.dataLocs[i]!, W);
    this.data[i] = v;
  }
  /** Block indices stored in page `p` of the folio. */
  blocksOfPage(p: number): number[] {
    const first = p * this.blocksPerPage;
    return Array.from({ length: this.blocksPerPage }, (_, k) => first + k).filter((b) => b < this.blocks);
  }

  /** folio_buffers(): ->private when PG_private is set. */
  folio_buffers(): BufferHead[] | null {
    access(this.privLoc, R);
    return this.priv;
  }
  /** folio_test_private() (read with ->private). */
  test_private(): boolean {
    access(this.privLoc, R);
    return this.priv !== null;
  }
  /** folio_attach_private() (takes a folio reference) / folio_detach_private() (drops it). */
  setPrivate(bhs: BufferHead[] | null): void {
    access(this.privLoc, W);
    if (this.priv === null && bhs !== null) this.putRefRaw(+1);
    else if (this.priv !== null && bhs === null) this.putRefRaw(-1);
    this.priv = bhs;
  }
  private putRefRaw(d: number): void {
    if (d > 0) this.tryGet();
    else this.put();
  }

  /** folio->mapping. */
  folio_mapping(): AddressSpace | null {
    access(this.mappingLoc, R);
    return this.mapping;
  }
  setMapping(m: AddressSpace | null): void {
    access(this.mappingLoc, W);
    this.mapping = m;
  }

  /** folio_test_dirty(). */
  test_dirty(): boolean {
    access(this.flagsLoc, R);
    return this.dirty;
  }
  /** folio_mark_dirty() / folio_clear_dirty(). */
  set_dirty(d: boolean): void {
    access(this.flagsLoc, W);
    this.dirty = d;
  }

  /** Display without recording accesses. */
  peekDirty(): boolean {
    return this.dirty;
  }
  peekData(i: number): number {
    return this.data[i]!;
  }
  peekPrivate(): BufferHead[] | null {
    return this.priv;
  }
  peekMapping(): AddressSpace | null {
    return this.mapping;
  }
}

/** struct address_space: the slot of the modeled index in i_pages, and i_private_lock. */
export class AddressSpace {
  readonly i_private_lock: Spinlock;
  private readonly slotLoc: number;
  private slot: BufferFolio | null;

  constructor(
    readonly name: string,
    folio: BufferFolio | null,
  ) {
    this.i_private_lock = new Spinlock(`${name}->i_private_lock`);
    this.slotLoc = newLoc(`${name}->i_pages`, this);
    this.slot = folio;
  }
  /** xas_load() of the modeled index. */
  xas_load(): BufferFolio | null {
    access(this.slotLoc, R);
    return this.slot;
  }
  /** xas_store() of the modeled index (under xas_lock_irq by the caller). */
  xas_store(f: BufferFolio | null): void {
    access(this.slotLoc, W);
    this.slot = f;
  }
  /**
   * __filemap_get_folio(mapping, index, flags without FGP_CREAT) -> filemap_get_entry(): the folio
   * in the slot with a reference taken (folio_try_get() fails only on a frozen folio, and then
   * the walk repeats and finds the folio that replaced it), or null.
   */
  filemap_get_folio(): BufferFolio | null {
    const f = this.xas_load();
    if (f === null) return null;
    if (!f.tryGet()) throw new Error(`${this.name}: frozen folio seen outside an atomic migration step`);
    return f;
  }
  peek(): BufferFolio | null {
    return this.slot;
  }
}

// racelab objects record their own accesses (see engine/track.ts).
selfTracked(BufferFolio, AddressSpace);
