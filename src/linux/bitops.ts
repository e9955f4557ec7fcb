/**
 * Bit operations on an `unsigned long` flags word or bitmap (`bh->b_state`, `folio->flags`,
 * `inode->i_state`), and bit spinlocks.
 *
 * Source: include/asm-generic/bitops/atomic.h (set_bit, clear_bit, test_and_set_bit,
 * test_and_clear_bit), include/asm-generic/bitops/lock.h (test_and_set_bit_lock,
 * clear_bit_unlock), include/asm-generic/bitops/non-atomic.h and generic-non-atomic.h (__set_bit,
 * __clear_bit, test_bit, test_bit_acquire), include/linux/bit_spinlock.h (bit_spin_lock,
 * bit_spin_trylock, bit_spin_unlock), v6.12; ordering from Documentation/atomic_t.txt and
 * Documentation/atomic_bitops.txt.
 *
 * Each bit is a memory {@link Cell} of its own (0 or 1), so operations on different bits are
 * independent for the reduction and an unordered bit operation is just a store of the bit: it
 * cannot lose an update to another bit, and its old value is not used. Per Documentation/
 * atomic_bitops.txt: `set_bit`/`clear_bit` are unordered (under pso, stores that may be buffered
 * and so become visible after later loads: the reason for `smp_mb__after_atomic()` before
 * `wake_up_bit()`; under tso, x86's locked instructions, full barriers writing memory directly); `test_and_set_bit`/`test_and_clear_bit` are fully ordered;
 * `test_and_set_bit_lock` is an acquire (an RMW on memory once the thread's own stores to the bit
 * are visible) and `clear_bit_unlock` a release store. The non-atomic `__set_bit`/`__clear_bit`
 * load the whole word in one step and store it back in the next, so a concurrent update of
 * another bit of the word can be lost, as in the kernel.
 *
 * Left out: find_*_bit and the bitmap_* library, change_bit, test_and_change_bit, the
 * `xor_unlock_is_negative_byte` folio trick, and the word's value as one integer in traces (see
 * {@link Bitmap.describe}).
 */
import { access, R, W } from "../engine/access.js";
import { atomic_rmw, Cell, load, loadAcquire, store } from "../engine/memory.js";
import type { Site } from "../engine/site.js";
import { HALT, step, type Task, type Waitable } from "../engine/task.js";
import { selfTracked } from "../engine/track.js";
import { hasBufferedStore, lockedAtomics, OwnStoresVisible, rmw_relaxed, subSite, tryFailed, tryTook, type Step } from "./shared.js";
import { preempt_disable_region, preempt_enable_region } from "./rcu.js";
import { wait_queue_head_t } from "./wait.js";

/** BITS_PER_LONG on 64-bit kernels. */
export const BITS_PER_LONG = 64;

/** What bit_spin_lock() on one bit waits for: the bit clear in memory and no own store to it buffered. */
class BitSpinWait implements Waitable {
  readonly name: string;
  constructor(
    readonly bitmap: Bitmap,
    readonly nr: number,
  ) {
    this.name = `${bitmap.bitName(nr)} (bit_spin_lock())`;
  }
  canProceed(t: Task): boolean {
    const cell = this.bitmap.bits[this.nr]!;
    return !hasBufferedStore(t, cell) && cell.peek() === 0;
  }
  waited(t: Task): void {
    const cell = this.bitmap.bits[this.nr]!;
    const buf = t.memory.bufferOf(t);
    if (buf !== null) access(buf.model === "tso" ? buf.loc : buf.cellLoc(cell), R);
    access(cell.loc, R);
  }
}

/**
 * An `unsigned long` flags word (or a bitmap of `nbits` bits): one memory cell per bit, plus the
 * wait queue that wait_on_bit()/wake_up_bit() use for it (bit_waitqueue(), which in the kernel
 * hashes the word's address into a shared table). Create in setup() with DECLARE_BITMAP().
 */
export class Bitmap {
  /** The bits, each a cell holding 0 or 1 (`<name>.<bit name>`). */
  readonly bits: readonly Cell<number>[];
  /** bit_waitqueue(word, bit) for every bit of this word. */
  readonly wq: wait_queue_head_t;
  private readonly labels: readonly string[];
  private readonly visible: OwnStoresVisible[];
  private readonly spinWaits: BitSpinWait[] = [];
  /**
   * @param name the word as in the kernel (`bh->b_state`)
   * @param bits number of bits (default BITS_PER_LONG), or the bits' names in order
   *   (`["BH_Uptodate", "BH_Dirty", "BH_Lock"]`), which name the cells in traces
   * @param set the bits set initially
   */
  constructor(
    readonly name: string,
    bits: number | readonly string[] = BITS_PER_LONG,
    set: readonly number[] = [],
  ) {
    this.labels = typeof bits === "number" ? Array.from({ length: bits }, (_, i) => String(i)) : [...bits];
    this.bits = this.labels.map((l, i) => new Cell(`${name}.${l}`, set.includes(i) ? 1 : 0));
    this.visible = this.bits.map((c) => new OwnStoresVisible(c as Cell<unknown>));
    this.wq = new wait_queue_head_t(`bit_waitqueue(${name})`);
  }
  /** `<name>.<bit name>`. */
  bitName(nr: number): string {
    return this.cell(nr).name;
  }
  /** The cell of bit `nr`; throws Error when out of range (a modeling mistake). */
  cell(nr: number): Cell<number> {
    const c = this.bits[nr];
    if (c === undefined) throw new Error(`bit ${nr} out of range for ${this.name} (${this.bits.length} bits)`);
    return c;
  }
  /** What an unordered RMW of bit `nr` waits for. */
  visibleBit(nr: number): OwnStoresVisible {
    this.cell(nr);
    return this.visible[nr]!;
  }
  /** What bit_spin_lock(nr) waits for. */
  spinWait(nr: number): Waitable {
    this.cell(nr);
    return (this.spinWaits[nr] ??= new BitSpinWait(this, nr));
  }
  /** Bit `nr` in memory, without recording (display, end checks). */
  peek(nr: number): boolean {
    return this.cell(nr).peek() !== 0;
  }
  /** The set bits' names in memory, without recording: `BH_Uptodate|BH_Lock`, or `0`. */
  describe(): string {
    const on = this.labels.filter((_, i) => this.bits[i]!.peek() !== 0);
    return on.length === 0 ? "0" : on.join("|");
  }
  /** `<name>=<set bits>` (see {@link Bitmap.describe}), without recording an access. */
  toString(): string {
    return `${this.name}=${this.describe()}`;
  }
}

/**
 * DECLARE_BITMAP(name, bits) / an `unsigned long` flags word: `bits` is a count (default
 * BITS_PER_LONG) or the bits' names; `set` the bits set at first. Create in setup().
 */
export function DECLARE_BITMAP(name: string, bits: number | readonly string[] = BITS_PER_LONG, set: readonly number[] = []): Bitmap {
  return new Bitmap(name, bits, set);
}

/** test_bit(nr, addr): a plain (READ_ONCE) load of the bit. One step; no ordering. */
export function test_bit(t: Task, nr: number, addr: Bitmap, at: Site): Step<boolean> {
  return step(t, at, {}, () => load(t, addr.cell(nr)) !== 0);
}

/** test_bit_acquire(nr, addr): smp_load_acquire of the bit (under `rmo` later loads are not reordered before it). One step. */
export function test_bit_acquire(t: Task, nr: number, addr: Bitmap, at: Site): Step<boolean> {
  return step(t, at, {}, () => loadAcquire(t, addr.cell(nr)) !== 0);
}

/** An unordered bit update: a store (buffered under pso), or under tso a locked RMW on memory. */
function bitStore(t: Task, nr: number, addr: Bitmap, v: number, release: boolean, at: Site): Step {
  if (lockedAtomics(t)) return step(t, at, { waitFor: addr.visibleBit(nr) }, () => void rmw_relaxed(t, addr.cell(nr), () => v, W));
  return step(t, at, {}, () => store(t, addr.cell(nr), v, release));
}

/** set_bit(nr, addr): atomic, unordered: a store of 1 to the bit (buffered under pso; `lock bts` under tso). One step. */
export function set_bit(t: Task, nr: number, addr: Bitmap, at: Site): Step {
  return bitStore(t, nr, addr, 1, false, at);
}

/** clear_bit(nr, addr): atomic, unordered: a store of 0 to the bit (buffered under pso; `lock btr` under tso). One step. */
export function clear_bit(t: Task, nr: number, addr: Bitmap, at: Site): Step {
  return bitStore(t, nr, addr, 0, false, at);
}

/** clear_bit_unlock(nr, addr): a release store of 0 (earlier stores become visible first; `lock btr` under tso). One step. */
export function clear_bit_unlock(t: Task, nr: number, addr: Bitmap, at: Site): Step {
  return bitStore(t, nr, addr, 0, true, at);
}

/** test_and_set_bit(nr, addr): fully ordered; returns the old bit. One step. */
export function test_and_set_bit(t: Task, nr: number, addr: Bitmap, at: Site): Step<boolean> {
  return step(t, at, { fence: true }, () => atomic_rmw(t, addr.cell(nr), () => 1) !== 0);
}

/** test_and_clear_bit(nr, addr): fully ordered; returns the old bit. One step. */
export function test_and_clear_bit(t: Task, nr: number, addr: Bitmap, at: Site): Step<boolean> {
  return step(t, at, { fence: true }, () => atomic_rmw(t, addr.cell(nr), () => 0) !== 0);
}

/**
 * test_and_set_bit_lock(nr, addr): sets the bit with acquire ordering; returns the old bit (true:
 * someone else holds the "lock", nothing changed). One step.
 */
export function test_and_set_bit_lock(t: Task, nr: number, addr: Bitmap, at: Site): Step<boolean> {
  return step(t, at, { waitFor: addr.visibleBit(nr) }, () => rmw_relaxed(t, addr.cell(nr), () => 1, W) !== 0);
}

function nonAtomic(t: Task, nr: number, addr: Bitmap, v: number, at: Site): Step {
  return (function* () {
    // *p |= mask / *p &= ~mask: the word is loaded, then stored back whole.
    addr.cell(nr);
    const word = yield* step(t, subSite(at, "load word"), {}, () => addr.bits.map((c) => load(t, c)));
    word[nr] = v;
    yield* step(t, subSite(at, "store word"), {}, () => addr.bits.forEach((c, i) => store(t, c, word[i]!)));
  })();
}

/**
 * __set_bit(nr, addr): non-atomic: loads the word in one step and stores it back with the bit set
 * in the next, so it can undo a concurrent set_bit()/clear_bit() of another bit of the word.
 */
export function __set_bit(t: Task, nr: number, addr: Bitmap, at: Site): Step {
  return nonAtomic(t, nr, addr, 1, at);
}

/** __clear_bit(nr, addr): non-atomic, like __set_bit(). */
export function __clear_bit(t: Task, nr: number, addr: Bitmap, at: Site): Step {
  return nonAtomic(t, nr, addr, 0, at);
}

const BIT_SPIN = (addr: Bitmap, nr: number) => `bit_spin_lock(${addr.bitName(nr)})`;

/**
 * bit_spin_lock(nr, addr): preempt_disable() and spin until test_and_set_bit_lock() succeeds; one
 * step that runs once the bit is clear. The thread is then in atomic context (a sleeping step is
 * a `sleep-in-atomic` finding) until bit_spin_unlock(). Taking a bit lock the thread holds spins
 * forever: a deadlock finding.
 */
export function bit_spin_lock(t: Task, nr: number, addr: Bitmap, at: Site): Step {
  return step(t, at, { waitFor: addr.spinWait(nr) }, () => {
    rmw_relaxed(t, addr.cell(nr), () => 1, W);
    preempt_disable_region(t, BIT_SPIN(addr, nr));
  });
}

/** bit_spin_trylock(nr, addr): true (and atomic context) when it set the bit. One step. */
export function bit_spin_trylock(t: Task, nr: number, addr: Bitmap, at: Site): Step<boolean> {
  return step(t, at, { waitFor: addr.visibleBit(nr) }, () => {
    if (rmw_relaxed(t, addr.cell(nr), () => 1, W) !== 0) return tryFailed(t, "bit_spin_trylock", BIT_SPIN(addr, nr), "already set");
    preempt_disable_region(t, BIT_SPIN(addr, nr));
    return tryTook(t, "bit_spin_trylock", BIT_SPIN(addr, nr));
  });
}

/**
 * bit_spin_unlock(nr, addr): BUG_ON(!test_bit(nr, addr)) (CONFIG_DEBUG_SPINLOCK), then
 * clear_bit_unlock() and preempt_enable(). One step; `bug: kernel BUG at
 * include/linux/bit_spinlock.h: bit_spin_unlock(<bit>) of a clear bit` when the bit was clear.
 */
export function bit_spin_unlock(t: Task, nr: number, addr: Bitmap, at: Site): Step {
  return step(t, at, lockedAtomics(t) ? { waitFor: addr.visibleBit(nr) } : {}, () => {
    if (load(t, addr.cell(nr)) === 0) {
      t.report("bug", `kernel BUG at include/linux/bit_spinlock.h: bit_spin_unlock(${addr.bitName(nr)}) of a clear bit`);
      throw HALT;
    }
    if (lockedAtomics(t)) rmw_relaxed(t, addr.cell(nr), () => 0, W);
    else store(t, addr.cell(nr), 0, true);
    preempt_enable_region(t, BIT_SPIN(addr, nr));
  });
}

// racelab objects record their own accesses (see engine/track.ts).
selfTracked(Bitmap, BitSpinWait);
