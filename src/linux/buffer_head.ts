/**
 * struct buffer_head state bits (include/linux/buffer_head.h, v6.10): BH_Mapped, BH_New,
 * BH_Delay, BH_Unwritten, BH_Dirty, for one block of a folio.
 *
 * The bits are changed under the folio lock by the code paths modeled here (block_page_mkwrite,
 * __block_write_begin_int, writeback), so a buffer_head is one location.
 * Left out: b_count, BH_Lock, BH_Uptodate, the b_this_page ring and b_blocknr.
 */
import { access, newLoc, R, W } from "../engine/access.js";

export interface BhState {
  mapped: boolean;
  new: boolean;
  delay: boolean;
  unwritten: boolean;
  dirty: boolean;
}

export class BufferHead {
  private readonly loc: number;
  private readonly s: BhState = { mapped: false, new: false, delay: false, unwritten: false, dirty: false };
  constructor(readonly blocknr: number) {
    this.loc = newLoc(`bh[${blocknr}]`);
  }
  /** Reads the state bits (buffer_mapped(), buffer_delay(), ...). */
  get(): Readonly<BhState> {
    access(this.loc, R);
    return this.s;
  }
  /** Sets state bits (map_bh(), set_buffer_delay(), mark_buffer_dirty(), ...). */
  set(bits: Partial<BhState>): void {
    access(this.loc, W);
    Object.assign(this.s, bits);
  }
  /** Flags as the kernel would print them: `mapped|new|delay`, or `-`. */
  describe(): string {
    const on = (Object.keys(this.s) as (keyof BhState)[]).filter((k) => this.s[k]);
    return on.length > 0 ? on.join("|") : "-";
  }
}
