/**
 * The per-CPU buffer_head LRU (fs/buffer.c: struct bh_lru, bh_lrus, lookup_bh_lru(),
 * bh_lru_install(), invalidate_bh_lrus()).
 *
 * Every buffer in an LRU holds one b_count reference. lookup_bh_lru() and bh_lru_install() run
 * with local interrupts disabled (bh_lru_lock() is local_irq_disable() on SMP), and
 * invalidate_bh_lrus() runs invalidate_bh_lru() on every CPU that has buffers in its LRU through an
 * IPI (on_each_cpu_cond(), waiting for completion). Each of the three is therefore one atomic step
 * here; one location per CPU's LRU.
 *
 * Left out: BH_LRU_SIZE eviction order beyond the capacity check, touch_buffer(),
 * lru_cache_disabled() (true only while lru_cache_disable() is in effect, which compaction does not
 * do), and bdev/size matching (one block device, one block size).
 */
import { access, newLoc, W } from "../engine/access.js";
import type { BufferHead } from "./buffer_head.js";
import { selfTracked } from "../engine/track.js";

export const BH_LRU_SIZE = 16;

export class BhLru {
  private readonly loc: number;
  private readonly bhs: BufferHead[] = [];

  constructor(readonly cpu: number) {
    this.loc = newLoc(`bh_lrus[cpu${cpu}]`, this);
  }

  /** lookup_bh_lru(): finds the block, moves it to the head, takes a reference (get_bh). */
  lookup(blocknr: number): BufferHead | null {
    access(this.loc, W);
    const i = this.bhs.findIndex((b) => b.blocknr === blocknr);
    if (i < 0) return null;
    const [bh] = this.bhs.splice(i, 1);
    this.bhs.unshift(bh!);
    bh!.get_bh();
    return bh!;
  }

  /** bh_lru_install(): inserts at the head with its own reference, evicting (brelse) the last one. */
  install(bh: BufferHead): void {
    access(this.loc, W);
    const i = this.bhs.indexOf(bh);
    if (i >= 0) {
      this.bhs.splice(i, 1);
      this.bhs.unshift(bh);
      return;
    }
    bh.get_bh();
    this.bhs.unshift(bh);
    if (this.bhs.length > BH_LRU_SIZE) this.bhs.pop()!.put_bh();
  }

  /** Preloads a buffer during setup (the reference must be counted in its initial b_count). */
  preload(bh: BufferHead): void {
    this.bhs.unshift(bh);
  }

  /** invalidate_bh_lru() on this CPU: brelse() every buffer and empty the LRU. */
  invalidate(): number {
    access(this.loc, W);
    const n = this.bhs.length;
    for (const bh of this.bhs) bh.put_bh();
    this.bhs.length = 0;
    return n;
  }

  peek(): readonly BufferHead[] {
    return this.bhs;
  }
}

/** invalidate_bh_lrus(): on_each_cpu_cond(has_bh_in_lru, invalidate_bh_lru, NULL, 1). */
export function invalidate_bh_lrus(lrus: readonly BhLru[]): number {
  let n = 0;
  for (const l of lrus) n += l.invalidate();
  return n;
}

// racelab objects record their own accesses (see engine/track.ts).
selfTracked(BhLru);
