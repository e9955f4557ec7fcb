/**
 * A jbd2 journal with handle credits: the running transaction, handles that reserve credits when
 * they start and spend one on each buffer they are the first to dirty in the transaction, the
 * commit that locks the transaction, waits for its handles and switches to a new one.
 *
 * Source (fs/jbd2/transaction.c, fs/jbd2/commit.c, include/linux/jbd2.h, v6.x copies; what is
 * modeled has not changed since jbd2_handle_buffer_credits() got h_revoke_credits_requested in
 * v5.5):
 *
 * - start_this_handle() -> add_transaction_credits(): `if (t->t_state != T_RUNNING) {
 *   WARN_ON_ONCE(t->t_state >= T_FLUSH); wait_transaction_locked(journal); return 1; }` (a handle
 *   waits while the running transaction is locked for commit), then joins it:
 *   `atomic_inc(&transaction->t_updates)`; `handle->h_total_credits = blocks`.
 * - do_get_write_access(): "this is the first time this transaction is touching this buffer, reset
 *   the modified flag": `jh->b_modified = 0;`.
 * - jbd2_journal_dirty_metadata(): `if (jh->b_modified == 0) { /* This buffer's got modified and
 *   becoming part of the transaction. This needs to be done once a transaction -bzzz *\/ if
 *   (WARN_ON_ONCE(jbd2_handle_buffer_credits(handle) <= 0)) { ret = -ENOSPC; goto out_unlock_bh; }
 *   jh->b_modified = 1; handle->h_total_credits--; }` — Jan Kara on Davidlohr Bueso's 6.15-rc1 WARN
 *   (fs/jbd2/transaction.c:1552): "This complains about journal handle not having enough credits for
 *   needed metadata update". `jbd2_handle_buffer_credits(handle)` is
 *   `h_total_credits - DIV_ROUND_UP(h_revoke_credits_requested, j_revoke_records_per_block)`; the
 *   handles modeled request no revoke credits.
 * - jbd2_journal_stop() -> stop_this_handle(): `atomic_dec_and_test(&transaction->t_updates)`.
 * - jbd2_journal_commit_transaction(): `commit_transaction->t_state = T_LOCKED;
 *   jbd2_journal_wait_updates(journal);` then T_SWITCH, `journal->j_running_transaction = NULL`;
 *   the next start_this_handle() creates a new running transaction.
 *
 * Modeled: the running transaction's tid and whether it is locked (one location,
 * `j_running_transaction`), each thread's open handle (a location per thread, so two handles
 * starting do not conflict; the commit's wait reads them all), and per buffer the tid of the
 * transaction that last modified it (b_modified of that transaction; one location, written only
 * inside i_data_sem sections here). The new running transaction is created by the commit's switch
 * step rather than by the next start (no handle can join in between, so no execution differs).
 *
 * jbd2.ts models the same handles without credits (t_updates of one transaction, for
 * buffer-migrate-jbd2); this file adds what a credits race needs. Its stop is
 * jbd2_journal_stop_handle() so that the two modules' exports do not clash.
 *
 * Left out: t_outstanding_credits and the log-space checks (a handle never waits for space),
 * reserved handles (rsv_blocks), revoke credits, jbd2_journal_extend()/restart, h_ref nesting,
 * the journal's abort after the -ENOSPC (ext4 then aborts the handle and, with errors=remount-ro,
 * the filesystem): here the handle only stops charging.
 */
import { access, newLoc, R, W } from "../engine/access.js";
import type { Site } from "../engine/site.js";
import { step, type Task, type Waitable } from "../engine/task.js";
import { selfTracked } from "../engine/track.js";

/** A handle (handle_t) and the credits it reserved (h_total_credits). */
export class CreditHandle {
  /** tid of the transaction the handle joined. */
  tid = 0;
  /** h_total_credits: what is left of the reservation. */
  credits = 0;
  /** The reservation at start. */
  reserved = 0;
  /** Buffers this handle was the first to dirty in its transaction (each cost one credit). */
  charged = 0;
  /** Set once jbd2_journal_dirty_metadata() returned -ENOSPC: the handle charges nothing more. */
  aborted = false;
  /** True between jbd2_journal_start() and jbd2_journal_stop(). */
  open = false;
  constructor(
    /** The thread that owns the handle. */
    readonly owner: string,
  ) {}
}

/** The journal: running transaction, the threads' open handles, the buffers' b_modified. */
export class Jbd2Journal implements Waitable {
  readonly name = "the running transaction to be unlocked (T_LOCKED)";
  private tid = 1;
  private locked = false;
  private readonly runningLoc: number;
  private readonly slotLocs = new Map<string, number>();
  private readonly open = new Set<string>();
  private readonly modified = new Map<string, number>();
  private readonly modifiedLoc: number;
  /** Waitable for the commit: every handle of the running transaction has stopped (t_updates == 0). */
  readonly updates: Waitable;

  constructor(
    /** The threads that start handles (one open handle each at a time). */
    threads: readonly string[],
  ) {
    this.runningLoc = newLoc("journal->j_running_transaction", this);
    for (const th of threads) this.slotLocs.set(th, newLoc(`${th}'s handle (t_updates)`, this));
    this.modifiedLoc = newLoc("jh->b_modified", this);
    const self = this;
    this.updates = {
      name: "t_updates == 0",
      canProceed: () => self.open.size === 0,
      waited: () => {
        for (const loc of self.slotLocs.values()) access(loc, R);
      },
    };
  }

  /** Waitable: start_this_handle() may join once the running transaction is not locked. */
  canProceed(): boolean {
    return !this.locked;
  }

  /** Waitable: the start read the running transaction's state. */
  waited(): void {
    access(this.runningLoc, R);
  }

  private slot(t: Task): number {
    const loc = this.slotLocs.get(t.name);
    if (loc === undefined) throw new Error(`${t.name} was not declared a handle user of the journal`);
    return loc;
  }

  /** start_this_handle(): joins the running transaction with `credits` credits (h_total_credits). */
  start(t: Task, h: CreditHandle, credits: number): void {
    if (h.open) throw new Error(`${t.name}: a handle is already open`);
    access(this.slot(t), W);
    this.open.add(t.name);
    h.tid = this.tid;
    h.credits = credits;
    h.reserved = credits;
    h.charged = 0;
    h.aborted = false;
    h.open = true;
  }

  /** stop_this_handle(): leaves the transaction (t_updates--). */
  stop(t: Task, h: CreditHandle): void {
    access(this.slot(t), W);
    if (!h.open) throw new Error(`${t.name}: jbd2_journal_stop() without a handle`);
    this.open.delete(t.name);
    h.open = false;
  }

  /**
   * jbd2_journal_dirty_metadata(handle, bh): the first dirty of `buffer` in the handle's
   * transaction costs one credit; with none left it WARNs and returns -ENOSPC. Returns the kernel's
   * return value (0, -ENOSPC, or -EROFS for an aborted handle).
   */
  dirtyMetadata(t: Task, h: CreditHandle, buffer: string): number {
    access(this.modifiedLoc, W);
    if (h.aborted) return -30; // -EROFS: is_handle_aborted()
    if (this.modified.get(buffer) === h.tid) {
      t.say(() => `${buffer}: already modified in transaction ${h.tid} (b_modified), no credit`);
      return 0;
    }
    if (h.credits <= 0) {
      t.warn(
        `jbd2_journal_dirty_metadata(): ${h.owner}'s handle has no credits left: WARN_ON_ONCE(jbd2_handle_buffer_credits(handle) <= 0), -ENOSPC`,
      );
      t.say(() => `${buffer}: needs credit ${h.charged + 1} of a handle that reserved ${h.reserved}`);
      h.aborted = true;
      return -28;
    }
    this.modified.set(buffer, h.tid);
    h.credits--;
    h.charged++;
    t.say(() => `${buffer}: credit ${h.charged} of ${h.reserved}`);
    return 0;
  }

  /** The commit's T_LOCKED: handles that start from now on wait. */
  lock(): void {
    access(this.runningLoc, W);
    this.locked = true;
  }

  /** The commit's switch: the locked transaction is committed; a new one runs (b_modified starts afresh). */
  switchTransaction(): number {
    access(this.runningLoc, W);
    this.locked = false;
    this.tid++;
    return this.tid;
  }

  /** For display: `T2 running`, `T1 locked, 1 handle open`. */
  describe(): string {
    const n = this.open.size;
    return `T${this.tid} ${this.locked ? "locked" : "running"}${n > 0 ? `, handles open: ${[...this.open].join(", ")}` : ""}`;
  }
}

/** jbd2__journal_start() -> start_this_handle(): waits while the running transaction is locked, then joins it. */
export function jbd2_journal_start(t: Task, j: Jbd2Journal, h: CreditHandle, credits: number, at: Site): Generator<Site, void, undefined> {
  return step(t, at, { waitFor: j, sleeps: true, fence: true }, () => j.start(t, h, credits));
}

/** jbd2_journal_stop(): one fully ordered step. */
export function jbd2_journal_stop_handle(t: Task, j: Jbd2Journal, h: CreditHandle, at: Site): Generator<Site, void, undefined> {
  return step(t, at, { fence: true }, () => j.stop(t, h));
}

/** jbd2_journal_commit_transaction(): `commit_transaction->t_state = T_LOCKED`. */
export function jbd2_commit_lock(t: Task, j: Jbd2Journal, at: Site): Generator<Site, void, undefined> {
  return step(t, at, { fence: true }, () => j.lock());
}

/** jbd2_journal_wait_updates(): sleeps until the locked transaction has no running handle. */
export function jbd2_commit_wait_updates(t: Task, j: Jbd2Journal, at: Site): Generator<Site, void, undefined> {
  return step(t, at, { waitFor: j.updates, sleeps: true });
}

/** T_SWITCH: j_running_transaction = NULL; the next handle runs in a new transaction. Returns its tid. */
export function jbd2_commit_switch(t: Task, j: Jbd2Journal, at: Site): Generator<Site, number, undefined> {
  return step(t, at, { fence: true }, () => j.switchTransaction());
}

// racelab objects record their own accesses (see engine/track.ts).
selfTracked(Jbd2Journal, CreditHandle);
