/**
 * Waiting for a bit: wait_on_bit(), wake_up_bit(), clear_and_wake_up_bit().
 *
 * Source: include/linux/wait_bit.h (wait_on_bit, clear_and_wake_up_bit) and
 * kernel/sched/wait_bit.c (__wait_on_bit, out_of_line_wait_on_bit, bit_wait, wake_bit_function,
 * __wake_up_bit, wake_up_bit), v6.12.
 *
 * wait_on_bit() is the C's loop, one step per operation: a first test_bit_acquire() (which may
 * sleep: might_sleep()), then prepare_to_wait() on the word's bit wait queue, test_bit(),
 * schedule() when the bit is still set, test_bit_acquire() to loop, and finish_wait(). The waker
 * clears the bit and calls wake_up_bit(), which wakes the waiters of that bit only if
 * waitqueue_active() sees them: so a missing wake_up_bit() leaves the waiter asleep (a deadlock
 * finding `... waits for wake-up in schedule()`), and under pso a missing
 * `smp_mb__after_atomic()` between clear_bit() and wake_up_bit() loses the wake-up too, as the
 * kernel's comment on wake_up_bit() warns (not under tso: x86's clear_bit() is a locked
 * instruction, a full barrier, which is why smp_mb__after_atomic() is only a compiler barrier
 * there).
 *
 * Left out: signals (bit_wait() never returns -EINTR), timeouts, wait_on_bit_lock(), the
 * wait_var_event() family, and hash collisions of bit_waitqueue() between different words (each
 * word has its own queue).
 */
import type { Site } from "../engine/site.js";
import { step, type Task } from "../engine/task.js";
import { test_bit, test_bit_acquire, clear_bit_unlock, type Bitmap } from "./bitops.js";
import { load, loadAcquire } from "../engine/memory.js";
import { access, R } from "../engine/access.js";
import { schedule, TASK_NORMAL } from "./sched.js";
import { smp_mb__after_atomic, subSite, type Step } from "./shared.js";
import {
  __wake_up_common,
  autoremove_wake_function,
  finish_wait,
  prepare_to_wait,
  wait_queue_entry_t,
  type wait_queue_func_t,
} from "./wait.js";

/** struct wait_bit_key: the word and bit a waiter waits on (plus, here, the waker running the wake). */
export interface wait_bit_key {
  /** The word holding the bit (`wbq_entry->key.flags`). */
  readonly flags: Bitmap;
  /** The bit's number in that word. */
  readonly bit_nr: number;
}

/** struct wait_bit_queue_entry: a wait queue entry with its key. */
export class wait_bit_queue_entry extends wait_queue_entry_t {
  constructor(
    task: Task,
    /** The word and bit this entry waits on. */
    readonly key: wait_bit_key,
  ) {
    super(task, wake_bit_function);
  }
}

/**
 * wake_bit_function(): wakes the entry only when it waits on the woken word and bit and the bit is
 * clear now (a test_bit() by the waker); then autoremove_wake_function().
 */
export const wake_bit_function: wait_queue_func_t = (e, mode, arg) => {
  const key = arg as (wait_bit_key & { readonly waker: Task }) | null;
  const mine = (e as wait_bit_queue_entry).key;
  if (key === null || mine === undefined || key.flags !== mine.flags || key.bit_nr !== mine.bit_nr) return 0;
  if (load(key.waker, key.flags.cell(key.bit_nr)) !== 0) return 0;
  return autoremove_wake_function(e, mode, arg);
};

/**
 * wait_on_bit(word, bit, mode): sleeps in `mode` (TASK_UNINTERRUPTIBLE) until the bit is clear;
 * returns 0. Several steps (see the file comment), labelled `<at's label>: test_bit_acquire`,
 * `prepare_to_wait`, `test_bit`, `schedule()`, `finish_wait`. Returns at once, after one step,
 * when the bit is already clear.
 */
export function wait_on_bit(t: Task, word: Bitmap, bit: number, mode: number, at: Site): Step<number> {
  return t.made(at, wait_on_bit_body(t, word, bit, mode, at));
}

function* wait_on_bit_body(t: Task, word: Bitmap, bit: number, mode: number, at: Site): Step<number> {
  t.started();
  if (!(yield* step(t, subSite(at, "test_bit_acquire"), { sleeps: true }, () => loadAcquire(t, word.cell(bit)) !== 0))) return 0;
  // out_of_line_wait_on_bit() -> __wait_on_bit()
  const wq = word.wq;
  const wbq_entry = new wait_bit_queue_entry(t, { flags: word, bit_nr: bit });
  do {
    yield* prepare_to_wait(t, wq, wbq_entry, mode, subSite(at, "prepare_to_wait"));
    if (yield* test_bit(t, bit, word, subSite(at, "test_bit"))) yield* schedule(t, subSite(at, "schedule()"));
  } while (yield* test_bit_acquire(t, bit, word, subSite(at, "test_bit_acquire")));
  yield* finish_wait(t, wq, wbq_entry, subSite(at, "finish_wait"));
  return 0;
}

/**
 * wake_up_bit(word, bit): `if (waitqueue_active(wq)) __wake_up(wq, TASK_NORMAL, 1, &key)` on the
 * word's bit wait queue. One step with no barrier before the waitqueue_active() test: the caller
 * must order its clear_bit() before it (smp_mb__after_atomic(), or use clear_and_wake_up_bit()).
 */
export function wake_up_bit(t: Task, word: Bitmap, bit: number, at: Site): Step {
  return step(t, at, {}, () => {
    const wq = word.wq;
    access(wq.loc, R);
    if (wq.head.length === 0) return;
    __wake_up_common(wq, TASK_NORMAL, 1, { flags: word, bit_nr: bit, waker: t });
  });
}

/**
 * clear_and_wake_up_bit(bit, word): clear_bit_unlock(); smp_mb__after_atomic(); wake_up_bit():
 * three steps, labelled `<at's label>: clear_bit_unlock`, `smp_mb__after_atomic`, `wake_up_bit`.
 */
export function clear_and_wake_up_bit(t: Task, bit: number, word: Bitmap, at: Site): Step {
  return t.made(at, clear_and_wake_up_bit_body(t, bit, word, at));
}

function* clear_and_wake_up_bit_body(t: Task, bit: number, word: Bitmap, at: Site): Step {
  t.started();
  yield* clear_bit_unlock(t, bit, word, subSite(at, "clear_bit_unlock"));
  yield* smp_mb__after_atomic(t, subSite(at, "smp_mb__after_atomic"));
  yield* wake_up_bit(t, word, bit, subSite(at, "wake_up_bit"));
}
