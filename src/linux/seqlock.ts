/**
 * Sequence counters and sequential locks: seqcount_t and seqlock_t.
 *
 * Source: include/linux/seqlock.h (v6.12): read_seqcount_begin (__read_seqcount_begin spins
 * while the sequence is odd, then smp_rmb()), read_seqcount_retry (smp_rmb(), then
 * `READ_ONCE(s->sequence) != start`), raw_write_seqcount_begin (`s->sequence++; smp_wmb();`),
 * raw_write_seqcount_end (`smp_wmb(); s->sequence++;`), and the seqlock_t wrappers read_seqbegin,
 * read_seqretry, write_seqlock (spin_lock + do_write_seqcount_begin), write_sequnlock
 * (do_write_seqcount_end + spin_unlock).
 *
 * The sequence is a memory {@link Cell}, so under tso/pso/rmo the writer's smp_wmb()s are what
 * keep a reader from seeing data stores before the odd sequence, and under rmo the reader's
 * smp_rmb()s keep its data loads between the two sequence loads. That holds for data in `Cell`s
 * written with WRITE_ONCE(): a plain field a model writes itself is sequentially consistent and
 * is not held back by smp_wmb() (README, "Memory models"), so with plain data fields under tso or
 * pso a reader can see the new data while the sequence increment is still buffered, a torn read
 * the kernel's barriers forbid (a false failure; a new user's trial, 2026-12-01). Keep seqcount-
 * protected data in Cells. The reader's spin on an odd sequence is
 * one step that runs once the sequence (as the reader would load it) is even; a writer that never
 * ends its section leaves the reader waiting: a deadlock finding `... waits for an even <name>
 * sequence in read_seqcount_begin() (a writer is inside its write section)`. Readers that see a change
 * retry: loop on read_seqretry() in the model as in the C, with `t.retry()` bounding the loop if
 * a writer can run forever.
 *
 * Left out: the lockdep association of seqcount_LOCKNAME_t with its lock and the preemption
 * checks of write_seqcount_begin() (it is raw_write_seqcount_begin() here); read_seqbegin_or_lock,
 * read_seqlock_excl and the _irqsave/_bh variants; seqcount_latch.
 */
import { load, loadAcquire, smp_rmb, smp_wmb, store, Cell } from "../engine/memory.js";
import type { Site } from "../engine/site.js";
import { step, type Task, type Waitable } from "../engine/task.js";
import { selfTracked } from "../engine/track.js";
import { Spinlock, spin_lock, spinRelease } from "./locks.js";
import { peek, subSite, type Step } from "./shared.js";

/** What read_seqcount_begin() waits for: an even sequence. */
class EvenSequence implements Waitable {
  readonly name: string;
  constructor(readonly s: seqcount_t) {
    this.name = `an even ${s.name} sequence in read_seqcount_begin() (a writer is inside its write section)`;
  }
  canProceed(t: Task): boolean {
    return (peek(t, this.s.sequence) & 1) === 0;
  }
  /** The wait read the sequence. */
  waited(t: Task): void {
    load(t, this.s.sequence);
  }
}

/** seqcount_t: `sequence`, odd while a writer is inside its write section. */
export class seqcount_t {
  /** The sequence number (`s->sequence`), a memory cell with the seqcount's name. */
  readonly sequence: Cell<number>;
  /** What a reader's read_seqcount_begin() waits for. */
  readonly even: Waitable;
  constructor(
    /** Name in traces and state tables. */
    readonly name: string,
  ) {
    this.sequence = new Cell(name, 0);
    this.even = new EvenSequence(this);
  }
  /** `<name>=<sequence in memory>`, without recording an access. */
  toString(): string {
    return `${this.name}=${this.sequence.peek()}`;
  }
  /**
   * The sequence in memory for state tables, `2`, or `3 (odd: a writer is inside)`, without
   * recording an access (new-user trial 18: the table showed the seqcount's name, not its value).
   */
  describe(): string {
    const v = this.sequence.peek();
    return (v & 1) === 1 ? `${v} (odd: a writer is inside)` : String(v);
  }
}

/** SEQCNT_ZERO(name) / seqcount_init(): a new seqcount_t at 0 (create in setup()). */
export function SEQCNT_ZERO(name: string): seqcount_t {
  return new seqcount_t(name);
}

/** seqlock_t: a seqcount_t and the spinlock that serializes its writers. */
export class seqlock_t {
  /** The sequence readers check (`sl->seqcount`), named `<name>.seqcount`. */
  readonly seqcount: seqcount_t;
  /** The spinlock writers take (`sl->lock`), named `<name>.lock`. */
  readonly lock: Spinlock;
  constructor(
    /** Name in traces; its parts are named after it. */
    readonly name: string,
  ) {
    this.seqcount = new seqcount_t(`${name}.seqcount`);
    this.lock = new Spinlock(`${name}.lock`);
  }
}

/** DEFINE_SEQLOCK(name): a new seqlock_t (create in setup()). */
export function DEFINE_SEQLOCK(name: string): seqlock_t {
  return new seqlock_t(name);
}

/**
 * read_seqcount_begin(s): one step that runs once the sequence is even (the kernel spins) and
 * returns it, then smp_rmb(); pass it to read_seqcount_retry().
 */
export function read_seqcount_begin(t: Task, s: seqcount_t, at: Site): Step<number> {
  return step(t, at, { waitFor: s.even }, () => {
    const v = loadAcquire(t, s.sequence);
    // (What the reader saw, in race diagrams: new-user trial 18 had to work it out.)
    t.say(() => `start = ${v}`);
    return v;
  });
}

/** read_seqcount_retry(s, start): smp_rmb(), then true when a writer ran since read_seqcount_begin() returned `start` (retry). One step. */
export function read_seqcount_retry(t: Task, s: seqcount_t, start: number, at: Site): Step<boolean> {
  return step(t, at, {}, () => {
    smp_rmb(t);
    const now = load(t, s.sequence);
    t.say(() => (now !== start ? `sequence ${now}, not ${start}: retry` : `sequence still ${start}: done`));
    return now !== start;
  });
}

function writeBegin(t: Task, s: seqcount_t): void {
  store(t, s.sequence, load(t, s.sequence) + 1);
  smp_wmb(t);
}

function writeEnd(t: Task, s: seqcount_t): void {
  smp_wmb(t);
  store(t, s.sequence, load(t, s.sequence) + 1);
}

/**
 * raw_write_seqcount_begin(s): `s->sequence++; smp_wmb();` — one step. Writers must be
 * serialized by the caller (a lock), as in the kernel. The increment is a load and a store of
 * `s->sequence` inside the one step: under `sc` two unserialized writers cannot lose an
 * increment here (in the kernel, a plain `++`, they can), so their torn reads show but a
 * sequence left odd does not; under `tso`/`pso`/`rmo` the store is buffered and an increment can
 * be lost, which leaves readers waiting in read_seqcount_begin() (a `deadlock` finding: the
 * reader spins forever there in the kernel). Unserialized writers are the bug either way.
 */
export function raw_write_seqcount_begin(t: Task, s: seqcount_t, at: Site): Step {
  return step(t, at, {}, () => writeBegin(t, s));
}

/** raw_write_seqcount_end(s): `smp_wmb(); s->sequence++;` — one step. */
export function raw_write_seqcount_end(t: Task, s: seqcount_t, at: Site): Step {
  return step(t, at, {}, () => writeEnd(t, s));
}

/** write_seqcount_begin(s): {@link raw_write_seqcount_begin} (no lockdep checks here); a function like it. */
export const write_seqcount_begin = raw_write_seqcount_begin;
/** write_seqcount_end(s): {@link raw_write_seqcount_end}; a function like it. */
export const write_seqcount_end = raw_write_seqcount_end;

/** read_seqbegin(sl): read_seqcount_begin(&sl->seqcount). One step. */
export function read_seqbegin(t: Task, sl: seqlock_t, at: Site): Step<number> {
  return read_seqcount_begin(t, sl.seqcount, at);
}

/** read_seqretry(sl, start): read_seqcount_retry(&sl->seqcount, start). One step. */
export function read_seqretry(t: Task, sl: seqlock_t, start: number, at: Site): Step<boolean> {
  return read_seqcount_retry(t, sl.seqcount, start, at);
}

/**
 * write_seqlock(sl): spin_lock(&sl->lock) and the sequence made odd, in one step that runs once
 * the lock is free; atomic context until write_sequnlock().
 */
export function write_seqlock(t: Task, sl: seqlock_t, at: Site): Step {
  return t.made(at, write_seqlock_body(t, sl, at));
}

function* write_seqlock_body(t: Task, sl: seqlock_t, at: Site): Step {
  t.started();
  yield* spin_lock(t, sl.lock, at);
  // do_write_seqcount_begin() runs right after the acquire, in the same step.
  writeBegin(t, sl.seqcount);
}

/**
 * write_sequnlock(sl): do_write_seqcount_end() (the sequence made even), then spin_unlock() —
 * two steps (`<at's label>: do_write_seqcount_end`, `spin_unlock`), so the unlock's barrier
 * orders the sequence store before the lock is free, as in the kernel.
 */
export function write_sequnlock(t: Task, sl: seqlock_t, at: Site): Step {
  return t.made(at, write_sequnlock_body(t, sl, at));
}

function* write_sequnlock_body(t: Task, sl: seqlock_t, at: Site): Step {
  t.started();
  yield* step(t, subSite(at, "do_write_seqcount_end"), {}, () => writeEnd(t, sl.seqcount));
  yield* step(t, subSite(at, "spin_unlock"), { fence: true }, () => spinRelease(t, sl.lock));
}

// racelab objects record their own accesses (see engine/track.ts).
selfTracked(seqcount_t, seqlock_t, EvenSequence);
