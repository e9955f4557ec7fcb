/**
 * racelab's kernel-primitives library: the objects and functions kernel models are written with,
 * each reading like the C it models (file, function and kernel version in each docstring).
 *
 * Every primitive is one call that makes its own steps through `step()` (engine/task.ts), so none
 * can forget to wait, check for sleeping in atomic context, act as a barrier, or record its
 * accesses: `yield* spin_lock(t, s.lock, AT)`, `const v = yield* atomic_inc_return(t, s.cnt, AT)`.
 * The exceptions are plain memory code, called inside a step like `s.x = 1`: the `Cell`
 * loads and stores (READ_ONCE, WRITE_ONCE, rcu_dereference, ...) and the list_head functions.
 *
 * - shared.ts: memory cells, barriers, xchg/cmpxchg, helpers for new primitives
 * - atomic.ts, refcount.ts, kref.ts: counters
 * - bitops.ts, wait_bit.ts: flag words, bit spinlocks, wait_on_bit/wake_up_bit
 * - locks.ts, seqlock.ts: spinlock_t (irqsave), rwlock_t, rw_semaphore, mutex, seqcount/seqlock
 * - sched.ts, wait.ts, completion.ts: sleeping and waking
 * - delay.ts: udelay/ndelay/mdelay busy-waits and msleep (time only the timed mode sees)
 * - rcu.ts: read-side sections, grace periods, callbacks
 * - slab.ts, list.ts: object lifetime (kmalloc/kfree) and list_head
 * - folio.ts, pagemap.ts, inode.ts: the folio lock and refcount, folio_trylock(), inode_lock()
 *
 * The bigger objects the bundled scenarios need (XArray, buffer_head, journal_head, jbd2 handles,
 * ext4's extent trees) stay in their own files under src/linux/ and are not part of this index.
 */
export * from "./shared.js";
export * from "./atomic.js";
export * from "./refcount.js";
export * from "./kref.js";
export * from "./bitops.js";
export * from "./wait_bit.js";
export * from "./locks.js";
export * from "./seqlock.js";
export * from "./sched.js";
export * from "./delay.js";
export * from "./wait.js";
export * from "./completion.js";
export * from "./rcu.js";
export * from "./slab.js";
export * from "./list.js";
export * from "./folio.js";
export * from "./pagemap.js";
export * from "./inode.js";
