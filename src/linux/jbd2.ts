/**
 * jbd2 transactions and handles: a transaction's count of running handles (t_updates), a handle
 * stopping (jbd2_journal_stop()), and the commit waiting for every handle to stop.
 *
 * Source: fs/jbd2/transaction.c and fs/jbd2/commit.c (v6.x; the functions below have not changed
 * in what is modeled since jbd2_journal_wait_updates() was factored out in v5.17):
 *
 * - start_this_handle(): `atomic_inc(&transaction->t_updates);` when a handle joins the running
 *   transaction (jbd2__journal_start()).
 * - jbd2_journal_stop() -> stop_this_handle():
 *   `if (atomic_dec_and_test(&transaction->t_updates)) wake_up(&journal->j_wait_updates);`
 * - jbd2_journal_commit_transaction(): `commit_transaction->t_state = T_LOCKED;
 *   jbd2_journal_wait_updates(journal);` which loops `prepare_to_wait(&journal->j_wait_updates,
 *   ...); if (!atomic_read(&transaction->t_updates)) break; ... schedule();` with j_state_lock
 *   dropped around the sleep.
 *
 * Modeled: t_updates (one location). The commit's wait is one step that runs once t_updates is 0
 * and reads it; the wait queue j_wait_updates, the wake-up and the j_state_lock / t_state
 * transitions around it are folded into that step (a stop that makes t_updates 0 always wakes the
 * waiter, so no wake-up can be lost). jbd2_journal_stop() is one fully ordered step (the
 * value-returning atomic_dec_and_test()) that writes t_updates.
 *
 * Left out: journal_t (one running transaction, no j_state_lock, no barrier count), handle
 * credits and reserved handles, h_ref nesting, synchronous handles (h_sync: the stop does not
 * wait for the commit), t_outstanding_credits, transaction states and the commit timer. The
 * journal with handle credits, T_LOCKED and the switch to a new transaction is jbd2_journal.ts
 * (ext4-writeback-credits); this file is the lighter model buffer-migrate-jbd2 needs.
 */
import { access, newLoc, R, W } from "../engine/access.js";
import type { Site } from "../engine/site.js";
import { step, type Task, type Waitable } from "../engine/task.js";
import { selfTracked } from "../engine/track.js";

/**
 * transaction_t: its t_updates count of running handles. As a Waitable, the commit's wait for
 * t_updates to drop to 0 (jbd2_journal_wait_updates()).
 */
export class Transaction implements Waitable {
  readonly name: string;
  readonly loc: number;
  private t_updates = 0;
  constructor(
    /** Name of the wait in deadlock findings and traces. */
    name = "the handle to stop (t_updates == 0)",
  ) {
    this.name = name;
    this.loc = newLoc("transaction.t_updates", this);
  }
  /** Waitable: the commit may proceed once no handle is running. */
  canProceed(): boolean {
    return this.t_updates === 0;
  }
  /** Waitable: the commit reads t_updates (`atomic_read(&transaction->t_updates)`). */
  waited(): void {
    access(this.loc, R);
  }
  /** Setup only: start_this_handle()'s `atomic_inc(&transaction->t_updates)`, before the race. */
  startHandle(): Handle {
    this.t_updates++;
    return new Handle(this);
  }
  /** stop_this_handle(): `atomic_dec_and_test(&transaction->t_updates)`; true when it reached 0. */
  decUpdates(): boolean {
    access(this.loc, W);
    return --this.t_updates === 0;
  }
  /** t_updates without recording (display). */
  peek(): number {
    return this.t_updates;
  }
}

/** handle_t: one filesystem operation's membership in a transaction (h_transaction). */
export class Handle {
  /** The transaction the handle belongs to; null once stopped. */
  h_transaction: Transaction | null;
  constructor(transaction: Transaction) {
    this.h_transaction = transaction;
  }
}

/**
 * jbd2_journal_stop(handle) -> stop_this_handle(): one fully ordered step; the last handle to stop
 * lets the commit run (wake_up(&journal->j_wait_updates)). Returns whether t_updates reached 0.
 */
export function jbd2_journal_stop(t: Task, handle: Handle, at: Site): Generator<Site, boolean, undefined> {
  return step(t, at, { fence: true }, () => {
    const transaction = handle.h_transaction;
    if (transaction === null) throw new Error(`jbd2_journal_stop by ${t.name}: the handle is already stopped`);
    handle.h_transaction = null;
    return transaction.decUpdates();
  });
}

/**
 * jbd2_journal_wait_updates() of jbd2_journal_commit_transaction() (fs/jbd2/transaction.c,
 * fs/jbd2/commit.c): one step that runs once no handle of `commit_transaction` is running, and
 * reads t_updates. The commit may sleep here.
 */
export function jbd2_journal_wait_updates(t: Task, commit_transaction: Transaction, at: Site): Generator<Site, void, undefined> {
  return step(t, at, { waitFor: commit_transaction, sleeps: true });
}

// racelab objects record their own accesses (see engine/track.ts).
selfTracked(Transaction, Handle);
