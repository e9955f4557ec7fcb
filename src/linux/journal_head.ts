/**
 * jbd2's struct journal_head (include/linux/journal-head.h, fs/jbd2/journal.c), attached to a
 * buffer_head through bh->b_private while BH_JBD is set.
 *
 * fs/jbd2/journal.c: "When a buffer has its BH_JBD bit set, its ->b_count is elevated by one."
 * jbd2_journal_add_journal_head() attaches it (get_bh()) and takes a b_jcount reference;
 * jbd2_journal_put_journal_head() drops one and, at zero, detaches it and __brelse()s the buffer.
 * A transaction holding the buffer (b_transaction, b_cp_transaction) holds a b_jcount reference.
 *
 * The journal_head object is created during setup (locations are allocated there) and attached when
 * the kernel would allocate it (journal_alloc_journal_head()). jbd_lock_bh_journal_head() (a bit
 * spinlock in b_state) makes add/put atomic: one step each. The jh->b_state_lock (spinlock)
 * sections modeled here never block and are each one step, so the lock itself is not modeled: the
 * journal_head's fields are one location, written by those steps.
 *
 * Left out: b_frozen_data / b_committed_data (copy-out), triggers, the t_buffers lists other than
 * as a list name, revoke, b_next_transaction.
 */
import { access, newLoc, R, W } from "../engine/access.js";
import type { BufferHead } from "./buffer_head.js";
import { selfTracked } from "../engine/track.js";

export type JList = "BJ_None" | "BJ_Reserved" | "BJ_Metadata" | "BJ_Shadow" | "BJ_Checkpoint";

export class JournalHead {
  private readonly loc: number;
  private jcount = 0;
  private modified = false;
  private jlist: JList = "BJ_None";

  constructor(readonly blocknr: number) {
    this.loc = newLoc(`jh[${blocknr}]`, this);
  }

  /** jh->b_modified. */
  b_modified(): boolean {
    access(this.loc, R);
    return this.modified;
  }
  /** jh->b_jlist. */
  b_jlist(): JList {
    access(this.loc, R);
    return this.jlist;
  }
  /** Sets b_modified and files the buffer on a transaction list (__jbd2_journal_file_buffer()). */
  update(fields: { modified?: boolean; jlist?: JList }): void {
    access(this.loc, W);
    if (fields.modified !== undefined) this.modified = fields.modified;
    if (fields.jlist !== undefined) this.jlist = fields.jlist;
  }
  /** b_jcount += d. */
  jcountAdd(d: number): number {
    access(this.loc, W);
    this.jcount += d;
    return this.jcount;
  }

  peek(): string {
    return `jcount ${this.jcount}, ${this.jlist}${this.modified ? ", b_modified" : ""}`;
  }
}

/**
 * jbd2_journal_add_journal_head(bh): attaches `jh` if the buffer has none (set_buffer_jbd,
 * bh->b_private = jh, get_bh), then b_jcount++. Returns the attached journal_head.
 */
export function jbd2_journal_add_journal_head(bh: BufferHead, jh: JournalHead): JournalHead {
  let cur = bh.b_private<JournalHead>();
  if (cur === null) {
    bh.setPrivate(jh);
    bh.get_bh();
    cur = jh;
  }
  cur.jcountAdd(1);
  return cur;
}

/** jbd2_journal_grab_journal_head(bh): b_jcount++ if the buffer has a journal_head. */
export function jbd2_journal_grab_journal_head(bh: BufferHead): JournalHead | null {
  const jh = bh.b_private<JournalHead>();
  if (jh !== null) jh.jcountAdd(1);
  return jh;
}

/**
 * jbd2_journal_put_journal_head(jh): b_jcount--; at zero __journal_remove_journal_head()
 * (bh->b_private = NULL, clear_buffer_jbd) and __brelse(bh).
 */
export function jbd2_journal_put_journal_head(bh: BufferHead, jh: JournalHead): void {
  if (jh.jcountAdd(-1) === 0) {
    bh.setPrivate(null);
    bh.put_bh();
  }
}

// racelab objects record their own accesses (see engine/track.ts).
selfTracked(JournalHead);
